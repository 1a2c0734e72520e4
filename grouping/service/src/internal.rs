//! The `medpay.grouping.internal.v1` server: grouping for other contexts. Settlement groups every
//! accepted case at intake here; each case is grouped with the scheme active for the region on
//! its own discharge date, from the same catalogue and registry as the public service. A case
//! that cannot be grouped gets its error in its own result; it never fails the batch.

use std::collections::HashMap;
use std::sync::Arc;

use grouping_domain::Scratch;
use kernel::{Date, RegionCode};
use medpay_proto::grouping::internal::v1 as gi;
use medpay_proto::grouping::internal::v1::grouping_internal_service_server::{
    GroupingInternalService, GroupingInternalServiceServer,
};
use medpay_proto::grouping::v1 as pb;
use platform::principal::authorize_request;
use platform::wire::date;
use tonic::{Request, Response, Status};

use crate::catalog::{Engine, LoadedScheme};
use crate::error::Error;
use crate::grpc::{GroupingApi, MAX_MESSAGE_BYTES, NoScheme, group_one, scheme_ref};

/// Most cases in one GroupBatch call.
pub const MAX_BATCH_CASES: usize = 100_000;

/// The internal grouping API; it shares the public API's registry and catalogue, so a scheme
/// loaded or activated there groups here at once.
#[derive(Clone)]
pub struct GroupingInternalApi {
    api: GroupingApi,
}

impl GroupingApi {
    /// The tonic service of `medpay.grouping.internal.v1` over the same catalogue and registry,
    /// to mount beside [`GroupingApi::into_server`] (clone the API for both).
    pub fn into_internal_server(self) -> GroupingInternalServiceServer<GroupingInternalApi> {
        GroupingInternalServiceServer::new(GroupingInternalApi { api: self })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

/// The scheme of a discharge date, or why there is none.
type Resolved = Result<Arc<LoadedScheme>, NoScheme>;

fn failed(
    case_id: &str,
    scheme: Option<&LoadedScheme>,
    reason: &str,
    message: String,
) -> gi::GroupBatchResult {
    gi::GroupBatchResult {
        result: Some(pb::GroupResult {
            case_id: case_id.to_owned(),
            // The scheme was found but refused the input: the input checks failed.
            status: if scheme.is_some() {
                pb::GroupStatus::CheckFailed as i32
            } else {
                pb::GroupStatus::Unspecified as i32
            },
            scheme: scheme.map(|s| scheme_ref(&s.summary)),
            reason: message.clone(),
            ..Default::default()
        }),
        error: reason.to_owned(),
        error_message: message,
        unknown_codes: Vec::new(),
    }
}

/// The case's codes the scheme does not know (`GroupBatchResult.unknown_codes`): checked apart
/// from grouping, so that a case the scheme refuses still names them.
fn unknown_codes(scheme: &LoadedScheme, case: &pb::CaseInput) -> Vec<gi::UnknownCode> {
    let unknown = |kind: gi::CodeKind, position: usize, code: &str| gi::UnknownCode {
        kind: kind as i32,
        position: u32::try_from(position).unwrap_or(u32::MAX),
        code: code.to_owned(),
    };
    match &scheme.engine {
        Engine::Drg(drg) => {
            let diagnoses = case
                .diagnoses
                .iter()
                .enumerate()
                .filter(|(_, code)| !drg.knows_diagnosis(code))
                .map(|(i, code)| unknown(gi::CodeKind::Diagnosis, i, code));
            let procedures = case
                .procedures
                .iter()
                .enumerate()
                .filter(|(_, code)| !drg.knows_procedure(code))
                .map(|(i, code)| unknown(gi::CodeKind::Procedure, i, code));
            diagnoses.chain(procedures).collect()
        }
        // A directory knows diagnosis categories only, and its procedure table types the
        // procedures it scores: an untyped procedure is not an unknown one.
        Engine::Dip(dip) => case
            .diagnoses
            .first()
            .filter(|code| !dip.knows_diagnosis(code))
            .map(|code| unknown(gi::CodeKind::Diagnosis, 0, code))
            .into_iter()
            .collect(),
    }
}

/// Groups the cases of a batch, each with the scheme of its date (`None`: the date was bad).
fn group_all(
    cases: Vec<gi::DatedCase>,
    dates: &[Option<Date>],
    schemes: &HashMap<Date, Resolved>,
) -> Vec<gi::GroupBatchResult> {
    let mut scratch = Scratch::default();
    cases
        .into_iter()
        .zip(dates)
        .map(|(dated, date)| {
            let Some(case) = dated.case else {
                return failed("", None, "MISSING_CASE", "the entry carries no case".into());
            };
            let Some(date) = date else {
                let message = match &dated.discharge_date {
                    None => "discharge_date is required".to_owned(),
                    Some(d) => format!(
                        "discharge_date {}-{}-{} is not a calendar date",
                        d.year, d.month, d.day
                    ),
                };
                return failed(&case.case_id, None, "BAD_DISCHARGE_DATE", message);
            };
            match schemes.get(date) {
                Some(Ok(scheme)) => {
                    let unknown_codes = unknown_codes(scheme, &case);
                    let mut outcome = match group_one(scheme, &case, false, false, &mut scratch) {
                        Ok(result) => gi::GroupBatchResult {
                            result: Some(result),
                            error: String::new(),
                            error_message: String::new(),
                            unknown_codes: Vec::new(),
                        },
                        Err(refusal) => failed(
                            &case.case_id,
                            Some(scheme),
                            refusal.reason(),
                            refusal.message(),
                        ),
                    };
                    outcome.unknown_codes = unknown_codes;
                    outcome
                }
                Some(Err((reason, message))) => {
                    failed(&case.case_id, None, reason, message.clone())
                }
                None => failed(
                    &case.case_id,
                    None,
                    "NO_ACTIVE_SCHEME",
                    format!("no scheme was looked up for {}", date.to_yyyymmdd()),
                ),
            }
        })
        .collect()
}

#[tonic::async_trait]
impl GroupingInternalService for GroupingInternalApi {
    async fn group_batch(
        &self,
        request: Request<gi::GroupBatchRequest>,
    ) -> Result<Response<gi::GroupBatchResponse>, Status> {
        let (_, region): (_, RegionCode) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        if body.cases.len() > MAX_BATCH_CASES {
            return Err(Error::field(
                "cases",
                format!(
                    "{} cases; at most {MAX_BATCH_CASES} per call",
                    body.cases.len()
                ),
            )
            .into());
        }
        let dates: Vec<Option<Date>> = body
            .cases
            .iter()
            .map(|dated| {
                dated
                    .discharge_date
                    .as_ref()
                    .and_then(|d| date("discharge_date", d).ok())
            })
            .collect();
        // The region's activations are read once; each date of the batch is decided from them.
        let timeline = self
            .api
            .registry
            .timeline(region)
            .await
            .map_err(Error::from)?;
        let mut schemes: HashMap<Date, Resolved> = HashMap::new();
        for date in dates.iter().flatten() {
            schemes
                .entry(*date)
                .or_insert_with(|| self.api.scheme_in_force(&timeline, region, *date));
        }
        let cases = body.cases;
        // Grouping is CPU-bound (a large batch takes a noticeable time): off the async workers.
        let results = tokio::task::spawn_blocking(move || group_all(cases, &dates, &schemes))
            .await
            .map_err(|e| Status::internal(format!("grouping did not finish: {e}")))?;
        Ok(Response::new(gi::GroupBatchResponse { results }))
    }
}
