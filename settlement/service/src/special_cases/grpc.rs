//! The `medpay.settlement.v1.SpecialCaseService` server: every step is one journal write (the
//! application row, its audit entry and the response commit together; a retry replays), and
//! every rule of the workflow is the domain's state machine.

use kernel::Principal;
use kernel::RegionCode;
use kernel::date::DateTime;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::special_case_service_server::SpecialCaseService;
use platform::paging::KeysetPage;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure};
use platform::wire;
use prost::Message;
use settlement_domain::case_key::CaseKey;
use settlement_domain::clock;
use settlement_domain::error::SettlementError;
use settlement_domain::payment_mode::PaymentMode;
use settlement_domain::special_case::{
    Expert, QuotaUsage, ReviewState, SpecialCaseApplication, SpecialCasePolicy, ValuationMethod,
};
use tonic::{Request, Response, Status};

use super::StepError;

/// The full name ListSpecialCases' page tokens are bound to.
const LIST_SPECIAL_CASES: &str = "/medpay.settlement.v1.SpecialCaseService/ListSpecialCases";
use super::store::{self, ExpertRecord, StoredApplication};
use super::wire as to_wire;
use crate::convert::special_cases::{
    ApplyRequest, ExpertRequest, check_appeal, check_step, decision,
};
use crate::status::special_case_not_found;
use crate::store::journal::{Call, Effect, Fingerprint};
use crate::store::ledger::CaseStore;
use crate::store::{Database, UnitOfWork};

/// The special-case review API over the settlement database.
#[derive(Clone)]
pub struct SpecialCaseApi {
    db: Database,
    policy: SpecialCasePolicy,
}

impl SpecialCaseApi {
    pub fn new(db: impl Into<Database>) -> Self {
        Self::with_policy(db, SpecialCasePolicy::default())
    }

    pub fn with_policy(db: impl Into<Database>, policy: SpecialCasePolicy) -> Self {
        Self {
            db: db.into(),
            policy,
        }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::special_case_service_server::SpecialCaseServiceServer<Self> {
        pb::special_case_service_server::SpecialCaseServiceServer::new(self)
    }
}

/// Now, in the agency's local time.
fn now() -> Result<DateTime, Status> {
    clock::agency_local(wire::unix_seconds()).map_err(storage_failure)
}

fn replayed<T: Message + Default>(bytes: &[u8]) -> Result<Response<T>, Status> {
    T::decode(bytes).map(Response::new).map_err(storage_failure)
}

/// A new application id, random (see [`crate::ids`]); one application per case is kept by the
/// look-up of the case's application before an insert.
fn new_application_id() -> Result<String, StepError> {
    crate::ids::random_id()
        .map(|id| format!("SC-{id}"))
        .map_err(|e| StepError::Internal(e.to_string()))
}

/// A write of `action` with the encoded request `request`, by `principal` for `region`.
fn journal_call(
    principal: &Principal,
    action: &str,
    request: &[u8],
    request_id: &str,
    region: RegionCode,
) -> Call {
    Call::with_fingerprint(
        &principal.caller_id,
        request_id,
        action,
        Fingerprint::of_parts(action, &[request]),
        Some(region),
    )
}

/// Loads an application of `region` in the step's unit of work.
async fn load(
    work: &UnitOfWork<'_>,
    region: RegionCode,
    application_id: &str,
) -> Result<StoredApplication, StepError> {
    match store::get_application(work, application_id).await? {
        Some(stored) if region.contains(stored.region) => Ok(stored),
        _ => Err(StepError::NotFound {
            application_id: application_id.to_owned(),
            region,
        }),
    }
}

/// What a step does to a loaded application.
type Step = Box<
    dyn FnOnce(&mut SpecialCaseApplication, &[Expert]) -> Result<String, SettlementError> + Send,
>;

/// Which step of which application, under which request id.
struct StepCall {
    request_id: String,
    action: &'static str,
    /// The request's protobuf encoding, for its fingerprint.
    request: Vec<u8>,
    application_id: String,
    /// Whether the step draws reviewers from the case region's pool.
    needs_pool: bool,
}

impl StepCall {
    /// `action` on `application_id` as `request` asks under `request_id`.
    fn new(
        action: &'static str,
        request: &impl Message,
        (request_id, application_id): (&str, &str),
        needs_pool: bool,
    ) -> Self {
        Self {
            request_id: request_id.to_owned(),
            action,
            request: request.encode_to_vec(),
            application_id: application_id.to_owned(),
            needs_pool,
        }
    }
}

/// What a draw of reviewers did, for the audit entry.
fn drawn(application: &SpecialCaseApplication, seed: u64) -> String {
    format!(
        "reviewers {} (seed {seed})",
        application.reviewers().join(",")
    )
}

impl SpecialCaseApi {
    /// Runs one step of an existing application through the journal: load, apply `step` (with
    /// the reviewer pool of the case's region when `needs_pool`), store, answer.
    async fn step(
        &self,
        principal: &Principal,
        region: RegionCode,
        call: StepCall,
        step: Step,
    ) -> Result<pb::SpecialCase, Status> {
        let entry = journal_call(
            principal,
            call.action,
            &call.request,
            &call.request_id,
            region,
        );
        let StepCall {
            application_id,
            needs_pool,
            ..
        } = call;
        let once = self
            .db
            .run_once(&entry, move |work| -> Effect<'_, StepError> {
                Box::pin(async move {
                    let mut stored = load(&work, region, &application_id).await?;
                    let pool = if needs_pool {
                        store::reviewer_pool(&work, stored.region).await?
                    } else {
                        Vec::new()
                    };
                    let detail = step(&mut stored.application, &pool)?;
                    store::update_application(&work, &stored, wire::unix_seconds()).await?;
                    let response = to_wire::special_case(&stored);
                    Ok((
                        response.encode_to_vec(),
                        format!("{application_id}: {detail}"),
                    ))
                })
            })
            .await?;
        pb::SpecialCase::decode(once.response()).map_err(storage_failure)
    }
}

#[tonic::async_trait]
impl SpecialCaseService for SpecialCaseApi {
    async fn put_expert(
        &self,
        request: Request<pb::PutExpertRequest>,
    ) -> Result<Response<pb::PutExpertResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let entry = journal_call(
            &principal,
            "PutExpert",
            &body.encode_to_vec(),
            &body.request_id,
            region,
        );
        let ExpertRequest { expert, active } = ExpertRequest::try_from(body)?;
        let record = ExpertRecord {
            region,
            expert_id: expert.expert_id,
            name: expert.name,
            specialty: expert.specialty,
            institution_codes: expert.institution_codes,
            active,
        };
        let once = self
            .db
            .run_once(&entry, move |work| -> Effect<'_, StepError> {
                Box::pin(async move {
                    let active_experts =
                        store::put_expert(&work, &record, wire::unix_seconds()).await?;
                    let response = pb::PutExpertResponse { active_experts };
                    Ok((
                        response.encode_to_vec(),
                        format!(
                            "{region} expert {} active={} institutions {}",
                            record.expert_id,
                            record.active,
                            record.institution_codes.join(",")
                        ),
                    ))
                })
            })
            .await?;
        replayed(once.response())
    }

    async fn list_experts(
        &self,
        request: Request<pb::ListExpertsRequest>,
    ) -> Result<Response<pb::ListExpertsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let experts = store::list_experts(&self.db, region)
            .await
            .map_err(storage_failure)?;
        Ok(Response::new(pb::ListExpertsResponse {
            experts: experts.into_iter().map(to_wire::expert).collect(),
        }))
    }

    async fn apply_special_case(
        &self,
        request: Request<pb::ApplySpecialCaseRequest>,
    ) -> Result<Response<pb::ApplySpecialCaseResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let ApplyRequest { grounds } = ApplyRequest::try_from(&body)?;
        let policy = self.policy.clone();
        let at = now()?;
        let entry = journal_call(
            &principal,
            "ApplySpecialCase",
            &body.encode_to_vec(),
            &body.request_id,
            region,
        );
        let once = self
            .db
            .run_once(&entry, move |work| -> Effect<'_, StepError> {
                Box::pin(async move {
                    let case = CaseStore::current(&work, &body.hospital_code, &body.list_id)
                        .await?
                        .filter(|case| region.contains(case.region))
                        .ok_or_else(|| StepError::CaseNotFound {
                            hospital_code: body.hospital_code.clone(),
                            list_id: body.list_id.clone(),
                            region,
                        })?;
                    let method = PaymentMode::from_stored(&case.payment_mode)
                        .and_then(ValuationMethod::of_mode)
                        .ok_or_else(|| StepError::NotPointsValued {
                            hospital_code: case.hospital_code.clone(),
                            list_id: case.list_id.clone(),
                            payment_mode: case.payment_mode.clone(),
                        })?;
                    if let Some(existing) =
                        store::application_of_case(&work, &case.hospital_code, &case.list_id)
                            .await?
                    {
                        return Err(StepError::Exists {
                            hospital_code: case.hospital_code.clone(),
                            list_id: case.list_id.clone(),
                            application_id: existing.application.application_id,
                        });
                    }
                    let year = case.discharge_date / 10_000;
                    let quota = QuotaUsage {
                        hospital_code: case.hospital_code.clone(),
                        method,
                        discharges: store::count_discharges(&work, &case.hospital_code, year)
                            .await?,
                        applications: store::count_applications(&work, &case.hospital_code, year)
                            .await?,
                    };
                    let application = SpecialCaseApplication::apply(
                        new_application_id()?,
                        CaseKey {
                            hospital_code: case.hospital_code.clone(),
                            list_id: case.list_id.clone(),
                        },
                        grounds,
                        body.material,
                        &quota,
                        &policy,
                        at,
                    )?;
                    let stored = StoredApplication {
                        region: case.region,
                        year,
                        payment_mode: case.payment_mode.clone(),
                        application,
                    };
                    store::insert_application(&work, &stored, wire::unix_seconds()).await?;
                    let response = pb::ApplySpecialCaseResponse {
                        special_case: Some(to_wire::special_case(&stored)),
                    };
                    Ok((
                        response.encode_to_vec(),
                        format!(
                            "{} for {}/{} ({year}, {} of {} discharges used before)",
                            stored.application.application_id,
                            case.hospital_code,
                            case.list_id,
                            quota.applications,
                            quota.discharges
                        ),
                    ))
                })
            })
            .await?;
        replayed(once.response())
    }

    async fn assign_reviewers(
        &self,
        request: Request<pb::AssignReviewersRequest>,
    ) -> Result<Response<pb::AssignReviewersResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        check_step(&body.request_id, &body.application_id)?;
        let policy = self.policy.clone();
        let seed = body.seed;
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall::new(
                    "AssignReviewers",
                    &body,
                    (&body.request_id, &body.application_id),
                    true,
                ),
                Box::new(move |app, pool| {
                    app.assign_reviewers(pool, &policy, seed, at)?;
                    Ok(drawn(app, seed))
                }),
            )
            .await?;
        Ok(Response::new(pb::AssignReviewersResponse {
            special_case: Some(special_case),
        }))
    }

    async fn decide_special_case(
        &self,
        request: Request<pb::DecideSpecialCaseRequest>,
    ) -> Result<Response<pb::DecideSpecialCaseResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let decision = decision(&body)?;
        let call = StepCall::new(
            "DecideSpecialCase",
            &body,
            (&body.request_id, &body.application_id),
            false,
        );
        let signed_by = body.signed_by;
        let note = body.note;
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                call,
                Box::new(move |app, _| {
                    let summary = format!("decided {decision:?} by {}", signed_by.join(","));
                    app.decide(decision, &signed_by, at)?;
                    Ok(if note.is_empty() {
                        summary
                    } else {
                        format!("{summary}: {note}")
                    })
                }),
            )
            .await?;
        Ok(Response::new(pb::DecideSpecialCaseResponse {
            special_case: Some(special_case),
        }))
    }

    async fn appeal_special_case(
        &self,
        request: Request<pb::AppealSpecialCaseRequest>,
    ) -> Result<Response<pb::AppealSpecialCaseResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        check_appeal(&body)?;
        let policy = self.policy.clone();
        let seed = body.seed;
        let reason = body.reasons.join("; ");
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall::new(
                    "AppealSpecialCase",
                    &body,
                    (&body.request_id, &body.application_id),
                    true,
                ),
                Box::new(move |app, pool| {
                    app.appeal(&reason, pool, &policy, seed, at)?;
                    Ok(format!("appealed; {}", drawn(app, seed)))
                }),
            )
            .await?;
        Ok(Response::new(pb::AppealSpecialCaseResponse {
            special_case: Some(special_case),
        }))
    }

    async fn bind_special_case(
        &self,
        request: Request<pb::BindSpecialCaseRequest>,
    ) -> Result<Response<pb::BindSpecialCaseResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        check_step(&body.request_id, &body.application_id)?;
        let agency = principal.caller_id.clone();
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall::new(
                    "BindSpecialCase",
                    &body,
                    (&body.request_id, &body.application_id),
                    false,
                ),
                Box::new(move |app, _| {
                    app.bind(&agency, at)?;
                    Ok("bound".to_owned())
                }),
            )
            .await?;
        Ok(Response::new(pb::BindSpecialCaseResponse {
            special_case: Some(special_case),
        }))
    }

    async fn get_special_case(
        &self,
        request: Request<pb::GetSpecialCaseRequest>,
    ) -> Result<Response<pb::GetSpecialCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let application_id = &request.get_ref().application_id;
        let stored = store::get_application(&self.db, application_id)
            .await
            .map_err(storage_failure)?
            .filter(|stored| region.contains(stored.region))
            .ok_or_else(|| special_case_not_found(application_id, region))?;
        Ok(Response::new(pb::GetSpecialCaseResponse {
            special_case: Some(to_wire::special_case(&stored)),
        }))
    }

    async fn list_special_cases(
        &self,
        request: Request<pb::ListSpecialCasesRequest>,
    ) -> Result<Response<pb::ListSpecialCasesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = KeysetPage::<String>::for_request(LIST_SPECIAL_CASES, body, |r| {
            (&mut r.page_size, &mut r.page_token)
        })?;
        if !body.state.is_empty() && body.state.parse::<ReviewState>().is_err() {
            let states: Vec<_> = ReviewState::ALL.iter().map(|s| s.as_str()).collect();
            return Err(bad_request(vec![(
                "state".into(),
                format!("{:?} is not one of {}", body.state, states.join(", ")),
            )]));
        }
        let applications = store::list_applications(
            &self.db,
            region,
            (
                (!body.hospital_code.is_empty()).then_some(body.hospital_code.as_str()),
                (!body.state.is_empty()).then_some(body.state.as_str()),
            ),
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await
        .map_err(storage_failure)?;
        let (applications, next_page_token) =
            page.finish(applications, |row| row.application.application_id.clone());
        Ok(Response::new(pb::ListSpecialCasesResponse {
            special_cases: applications.iter().map(to_wire::special_case).collect(),
            next_page_token,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_ids_are_random() {
        let first = new_application_id().unwrap_or_default();
        let second = new_application_id().unwrap_or_default();
        assert!(first.starts_with("SC-") && first.len() == 35, "{first}");
        assert_ne!(first, second);
    }

    #[test]
    fn the_clock_reads_as_a_date_time() {
        assert!(now().expect("clock").date().year() >= 2024);
    }
}
