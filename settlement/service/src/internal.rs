//! The `medpay.settlement.internal.v1` server: what other contexts read of the ledger
//! (supervision screens stored inpatient lists, with the grouping facts intake kept in their
//! valuation, and the ambulatory settlements around them).

use std::collections::HashSet;
use std::pin::Pin;

use futures::{Stream, StreamExt};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::internal::v1 as pb;
use medpay_proto::settlement::internal::v1::settlement_internal_service_server::SettlementInternalService;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure};
use settlement_domain::case::SettlementList;
use settlement_domain::ledger::RecordKind;
use settlement_domain::list_head::ListHead;
use settlement_domain::valuation_record::ValuationRecord;
use tonic::{Request, Response, Status};

use crate::case_reads::{CHUNK, chunks, with_warnings};
use crate::grpc::case_filter;
use crate::store::ledger::{CaseStore, LedgerCase, ListedCase};

/// The settlement internal gRPC API over the case ledger.
#[derive(Clone)]
pub struct SettlementInternalApi {
    cases: CaseStore,
}

impl SettlementInternalApi {
    pub fn new(cases: CaseStore) -> Self {
        Self { cases }
    }

    /// The tonic service to mount on the internal listener.
    pub fn into_server(
        self,
    ) -> pb::settlement_internal_service_server::SettlementInternalServiceServer<Self> {
        pb::settlement_internal_service_server::SettlementInternalServiceServer::new(self)
            .max_encoding_message_size(crate::grpc::MAX_MESSAGE_BYTES)
    }
}

type CaseStream = Pin<Box<dyn Stream<Item = Result<pb::StreamCasesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl SettlementInternalService for SettlementInternalApi {
    type StreamCasesStream = CaseStream;

    /// The current records of the asked kinds (inpatient lists when none are asked) the filter
    /// selects, in (region, hospital, list id) order; the filter's page fields are ignored, the
    /// stream is the whole selection.
    async fn stream_cases(
        &self,
        request: Request<pb::StreamCasesRequest>,
    ) -> Result<Response<Self::StreamCasesStream>, Status> {
        let Some(filter) = request.get_ref().filter.as_ref() else {
            return Err(bad_request(vec![(
                "filter".into(),
                "is required: it names the region".into(),
            )]));
        };
        let (_, region) = authorize_request(&request, "filter.region_code", &filter.region_code)?;
        let mut filter = case_filter(filter)?;
        let kinds = record_kinds(&request.get_ref().record_kinds)?;
        let without_fee_lines = request.get_ref().without_fee_lines;
        // Asked of the query, so the rows of other kinds are never read (m0023); the filter
        // below stays as the stream's own guarantee.
        filter.record_kinds = kinds.iter().copied().collect();
        filter.record_kinds.sort_by_key(|kind| kind.as_str());
        let mut chunks = Box::pin(chunks(
            self.cases.clone(),
            region,
            filter,
            (CHUNK, without_fee_lines),
        ));
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        let cases = self.cases.clone();
        tokio::spawn(async move {
            while let Some(chunk) = chunks.next().await {
                let rows = match chunk {
                    Ok(rows) => rows,
                    Err(error) => {
                        let _ = sender.send(Err(storage_failure(error))).await;
                        return;
                    }
                };
                let mut rows: Vec<_> = rows
                    .into_iter()
                    .filter(|case| kinds.contains(&case.record_kind))
                    .collect();
                // The stored documents move into the messages: a list is some 14 KB, its head
                // a tenth of that.
                let stored: Result<Vec<Streamed>, Status> = rows
                    .iter_mut()
                    .map(|case| {
                        let inpatient = case.record_kind == RecordKind::Inpatient;
                        let grouping = inpatient
                            .then(|| grouping_facts(&case.valuation_json))
                            .flatten();
                        let (case_json, fee_line_totals) = if inpatient && without_fee_lines {
                            streamed_head(case)?
                        } else {
                            (std::mem::take(&mut case.case_json), Vec::new())
                        };
                        Ok(Streamed {
                            case_json,
                            kind: case.record_kind,
                            grouping,
                            fee_line_totals,
                        })
                    })
                    .collect();
                let stored = match stored {
                    Ok(stored) => stored,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                let rows = rows.into_iter().map(ListedCase::from).collect();
                let summaries = match with_warnings(&cases, rows).await {
                    Ok(summaries) => summaries,
                    Err(error) => {
                        let _ = sender.send(Err(storage_failure(error))).await;
                        return;
                    }
                };
                for (summary, streamed) in summaries.into_iter().zip(stored) {
                    let message = pb::StreamCasesResponse {
                        summary: Some(summary),
                        case_json: streamed.case_json,
                        record_kind: streamed.kind.as_str().to_owned(),
                        grouping: streamed.grouping,
                        fee_line_totals: streamed.fee_line_totals,
                    };
                    if sender.send(Ok(message)).await.is_err() {
                        // The caller went away.
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }
}

/// What a stream message carries of a stored case besides its summary.
struct Streamed {
    case_json: String,
    kind: RecordKind,
    grouping: Option<pb::GroupingFacts>,
    fee_line_totals: Vec<pb::FeeLineTotal>,
}

/// A stored inpatient list as streamed `without_fee_lines`: the head stored beside it, moved out
/// of the row, or for a list stored before heads were (m0024) the head of its stored document.
fn streamed_head(case: &mut LedgerCase) -> Result<(String, Vec<pb::FeeLineTotal>), Status> {
    let unreadable = |what: &str, error: serde_json::Error| {
        storage_failure(format!(
            "the stored {what} of list {} of {} v{} is unreadable: {error}",
            case.list_id, case.hospital_code, case.version
        ))
    };
    let (json, totals) = match case.head.take() {
        Some(head) => {
            let totals = ListHead::totals_from_json(&head.line_totals_json)
                .map_err(|e| unreadable("line totals", e))?;
            (head.json, totals)
        }
        None => {
            let list: SettlementList =
                serde_json::from_str(&case.case_json).map_err(|e| unreadable("list", e))?;
            let head = ListHead::of(&list);
            (head.json, head.line_totals)
        }
    };
    let totals = totals
        .into_iter()
        .map(|(med_chrgitm_type, total)| pb::FeeLineTotal {
            med_chrgitm_type,
            amount: Some(common::Money {
                yuan: total.det_item_fee_sumamt.to_string(),
            }),
            in_policy_amount: Some(common::Money {
                yuan: total.inscp_amt.to_string(),
            }),
        })
        .collect();
    Ok((json, totals))
}

/// The grouping facts kept in a valued list's valuation document (what supervision's upcoding
/// rule reads); `None` for an unvalued list.
fn grouping_facts(valuation_json: &str) -> Option<pb::GroupingFacts> {
    let record = ValuationRecord::from_json(valuation_json)?;
    Some(pb::GroupingFacts {
        complications: record
            .complications
            .into_iter()
            .map(|counted| pb::CountedDiagnosis {
                position: counted.position,
                code: counted.code,
                kind: counted.kind,
            })
            .collect(),
        dip_treatment: record.dip_treatment.unwrap_or_default(),
    })
}

/// The record kinds a StreamCases request asks for: the inpatient lists when it names none, so
/// that callers written before `record_kinds` keep their stream.
fn record_kinds(words: &[String]) -> Result<HashSet<RecordKind>, Status> {
    if words.is_empty() {
        return Ok(HashSet::from([RecordKind::Inpatient]));
    }
    words
        .iter()
        .enumerate()
        .map(|(index, word)| {
            word.parse::<RecordKind>().map_err(|_| {
                bad_request(vec![(
                    format!("record_kinds[{index}]"),
                    format!(
                        "{word:?} is not a record kind: inpatient, outpatient, \
                         chronic_outpatient or pharmacy"
                    ),
                )])
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use settlement_domain::valuation_record::CountedDiagnosis;

    #[test]
    fn the_grouping_facts_of_a_valuation_are_streamed_and_an_unvalued_list_has_none() {
        let record = ValuationRecord {
            complications: vec![CountedDiagnosis {
                position: 3,
                code: "I50.900".into(),
                kind: "cci".into(),
            }],
            dip_treatment: Some("surgical".into()),
            ..ValuationRecord::default()
        };
        let facts = grouping_facts(&record.to_json()).expect("facts of a valued list");
        assert_eq!(facts.dip_treatment, "surgical");
        let streamed: Vec<(u32, &str, &str)> = facts
            .complications
            .iter()
            .map(|c| (c.position, c.code.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(streamed, [(3, "I50.900", "cci")]);
        // A valuation written before the facts were kept streams empty facts.
        let older = grouping_facts(&ValuationRecord::default().to_json()).expect("facts");
        assert!(older.complications.is_empty() && older.dip_treatment.is_empty());
        assert_eq!(grouping_facts(""), None);
    }
}
