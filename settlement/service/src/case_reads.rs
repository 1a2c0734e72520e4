//! Reading the ledger in key order: ListCases' keyset pages, ExportCases' stream and the
//! internal StreamCases all walk the current cases in [`CaseKey`] order a chunk at a time, each
//! chunk one index range scan resuming after the last key of the one before. Every case is
//! answered with its warnings ([`with_warnings`]).

use std::future::Future;
use std::pin::Pin;

use futures::Stream;
use kernel::RegionCode;
use medpay_proto::settlement::v1 as pb;
use platform::paging::KeysetPage;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure};
use tonic::{Request, Response, Status};

use crate::convert::intake::{case_to_wire, institution_to_wire, warning_to_wire};
use crate::grpc::case_filter;
use crate::store::institutions;
use crate::store::ledger::{CaseFilter, CaseKey, CaseStore, LedgerCase, ListedCase, StoreError};
use crate::store::rechecked_warnings;

/// Cases read from the ledger per query while streaming, and per ExportCases message.
pub const CHUNK: u64 = 500;

/// The full name ListCases' page tokens are bound to.
const LIST_CASES: &str = "/medpay.settlement.v1.SettlementService/ListCases";
const LIST_INSTITUTIONS: &str = "/medpay.settlement.v1.SettlementService/ListInstitutions";

/// One page of ListCases.
pub async fn list_cases(
    cases: &CaseStore,
    request: Request<pb::ListCasesRequest>,
) -> Result<Response<pb::ListCasesResponse>, Status> {
    let (_, region) = authorize_request(&request, "region_code", &request.get_ref().region_code)?;
    let body = request.into_inner();
    let filter = case_filter(&body)?;
    let page = KeysetPage::<CaseKey>::for_request(LIST_CASES, &body, |r| {
        (&mut r.page_size, &mut r.page_token)
    })?;
    let rows = cases
        .list_summaries(region, &filter, page.after.as_ref(), page.fetch_limit())
        .await
        .map_err(storage_failure)?;
    let (rows, next_page_token) = page.finish(rows, ListedCase::key);
    Ok(Response::new(pb::ListCasesResponse {
        cases: with_warnings(cases, rows).await.map_err(storage_failure)?,
        next_page_token,
    }))
}

/// Stored case versions as answered, each with its warnings: those kept with its content, or
/// those of the revaluation that stored it.
pub async fn with_warnings(
    cases: &CaseStore,
    rows: Vec<ListedCase>,
) -> Result<Vec<pb::CaseSummary>, StoreError> {
    let kept = rechecked_warnings::of_versions(cases.connection(), &rows).await?;
    Ok(rows
        .into_iter()
        .map(|case| {
            let found = kept.get(&(
                case.hospital_code.clone(),
                case.list_id.clone(),
                case.version,
            ));
            let mut summary = case_to_wire(case);
            summary.warnings = found
                .map(|list| list.iter().map(warning_to_wire).collect())
                .unwrap_or_default();
            summary
        })
        .collect())
}

/// One page of ListInstitutions, keyed by institution code.
pub async fn list_institutions(
    cases: &CaseStore,
    request: Request<pb::ListInstitutionsRequest>,
) -> Result<Response<pb::ListInstitutionsResponse>, Status> {
    let (_, region) = authorize_request(&request, "region_code", &request.get_ref().region_code)?;
    let body = request.into_inner();
    let page = KeysetPage::<String>::for_request(LIST_INSTITUTIONS, &body, |r| {
        (&mut r.page_size, &mut r.page_token)
    })?;
    let rows = institutions::list(
        cases.connection(),
        region,
        page.after.as_deref(),
        page.fetch_limit(),
    )
    .await
    .map_err(storage_failure)?;
    let (rows, next_page_token) = page.finish(rows, |row| row.code.clone());
    Ok(Response::new(pb::ListInstitutionsResponse {
        institutions: rows.iter().map(institution_to_wire).collect(),
        next_page_token,
    }))
}

/// The filter of an ExportCases request: a region-month, optionally one fund and one hospital.
fn export_filter(body: &pb::ExportCasesRequest) -> Result<CaseFilter, Status> {
    if body.period.is_none() {
        return Err(bad_request(vec![(
            "period".to_owned(),
            "is required: the discharge month to export".to_owned(),
        )]));
    }
    case_filter(&pb::ListCasesRequest {
        region_code: body.region_code.clone(),
        hospital_code: body.hospital_code.clone(),
        period: body.period,
        fund_type: body.fund_type,
        ..Default::default()
    })
}

pub type ExportStream = Pin<Box<dyn Stream<Item = Result<pb::ExportCasesResponse, Status>> + Send>>;

/// Messages ExportCases reads ahead of the one being sent.
const READ_AHEAD: usize = 2;

/// ExportCases: the region-month's cases in chunks of [`CHUNK`]. A task of its own reads the
/// chunks and their warnings and builds the messages, up to [`READ_AHEAD`] ahead of the one being
/// encoded and sent, so the next page is read while the current is on the wire instead of after
/// it, and a chunk's warnings while the next chunk is read. A caller that goes away ends the task
/// at its next message.
pub fn export_cases(
    cases: &CaseStore,
    request: &Request<pb::ExportCasesRequest>,
) -> Result<Response<ExportStream>, Status> {
    let (_, region) = authorize_request(request, "region_code", &request.get_ref().region_code)?;
    let filter = export_filter(request.get_ref())?;
    let chunks = walk(
        cases.clone(),
        region,
        filter,
        CHUNK,
        |cases, region, filter, after, size| async move {
            cases
                .list_summaries(region, &filter, after.as_ref(), size)
                .await
        },
        ListedCase::key,
    );
    let store = cases.clone();
    // A chunk's warnings are read while the next chunk is: the walk needs only the last key.
    let messages = futures::StreamExt::buffered(
        futures::StreamExt::map(chunks, move |chunk| {
            let store = store.clone();
            async move {
                match chunk {
                    Ok(rows) => with_warnings(&store, rows)
                        .await
                        .map(|cases| pb::ExportCasesResponse { cases })
                        .map_err(storage_failure),
                    Err(error) => Err(storage_failure(error)),
                }
            }
        }),
        2,
    );
    let (sender, receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::spawn(async move {
        let mut messages = std::pin::pin!(messages);
        while let Some(message) = futures::StreamExt::next(&mut messages).await {
            let failed = message.is_err();
            if sender.send(message).await.is_err() || failed {
                return;
            }
        }
    });
    Ok(Response::new(Box::pin(
        tokio_stream::wrappers::ReceiverStream::new(receiver),
    )))
}

/// Every current case `filter` selects in `region`, as chunks of at most `size` in key order,
/// each read when the consumer asks for it: memory holds one chunk whatever the selection's size.
/// With `heads`, a list stored with its head comes without its document
/// ([`CaseStore::list_heads`]); without, every document comes without the head stored beside it
/// ([`CaseStore::list_documents`]).
pub fn chunks(
    cases: CaseStore,
    region: RegionCode,
    filter: CaseFilter,
    (size, heads): (u64, bool),
) -> impl Stream<Item = Result<Vec<LedgerCase>, StoreError>> + Send + 'static {
    walk(
        cases,
        region,
        filter,
        size,
        move |cases, region, filter, after, size| async move {
            if heads {
                cases
                    .list_heads(region, &filter, after.as_ref(), size)
                    .await
            } else {
                cases
                    .list_documents(region, &filter, after.as_ref(), size)
                    .await
            }
        },
        CaseKey::of,
    )
}

/// The chunks `read` answers from the start of the selection, each after the last key of the
/// one before, until one comes back short.
fn walk<T, R, F>(
    cases: CaseStore,
    region: RegionCode,
    filter: CaseFilter,
    size: u64,
    read: R,
    key: fn(&T) -> CaseKey,
) -> impl Stream<Item = Result<Vec<T>, StoreError>> + Send + 'static
where
    T: Send + 'static,
    R: Fn(CaseStore, RegionCode, CaseFilter, Option<CaseKey>, u64) -> F + Send + 'static,
    F: Future<Output = Result<Vec<T>, StoreError>> + Send,
{
    struct Walk<R> {
        cases: CaseStore,
        filter: CaseFilter,
        after: Option<CaseKey>,
        done: bool,
        read: R,
    }
    let start = Walk {
        cases,
        filter,
        after: None,
        done: false,
        read,
    };
    futures::stream::unfold(start, move |mut walk| async move {
        if walk.done {
            return None;
        }
        let read = (walk.read)(
            walk.cases.clone(),
            region,
            walk.filter.clone(),
            walk.after.clone(),
            size,
        )
        .await;
        match read {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                walk.done = (rows.len() as u64) < size;
                walk.after = rows.last().map(key);
                Some((Ok(rows), walk))
            }
            Err(error) => {
                walk.done = true;
                Some((Err(error), walk))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_without_a_month_names_the_field() {
        let refused = export_filter(&pb::ExportCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        })
        .expect_err("no period");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        let details = tonic_types::StatusExt::get_error_details(&refused);
        let fields: Vec<&str> = details
            .bad_request()
            .map(|bad| {
                bad.field_violations
                    .iter()
                    .map(|v| v.field.as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(fields, ["period"]);
    }
}
