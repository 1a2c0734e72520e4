//! The `medpay.settlement.v1.SpecialCaseService` server: every step is one journal write (the
//! application row, its audit entry and the response commit together; a retry replays), and
//! every rule of the workflow is the domain's state machine.

use kernel::Principal;
use kernel::RegionCode;
use kernel::date::{Date, DateTime};
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::special_case_service_server::SpecialCaseService;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure, with_reason};
use platform::wire::{self, Page};
use prost::Message;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use settlement_domain::error::SettlementError;
use settlement_domain::identity::CaseKey;
use settlement_domain::special_case::{
    Expert, QuotaUsage, ReviewDecision, SpecialCaseApplication, SpecialCaseGround,
    SpecialCasePolicy, ValuationMethod,
};
use tonic::{Code, Request, Response, Status};

use super::store::{self, ExpertRecord, StoredApplication, state_name};
use crate::journal::{Call, Effect, Fingerprint, RequestIdReused, run_once};
use crate::ledger::{CaseStore, StoreError};

/// The special-case review API over the settlement database.
#[derive(Clone)]
pub struct SpecialCaseApi {
    db: DatabaseConnection,
    policy: SpecialCasePolicy,
}

impl SpecialCaseApi {
    pub fn new(db: DatabaseConnection) -> Self {
        Self::with_policy(db, SpecialCasePolicy::default())
    }

    pub fn with_policy(db: DatabaseConnection, policy: SpecialCasePolicy) -> Self {
        Self { db, policy }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::special_case_service_server::SpecialCaseServiceServer<Self> {
        pb::special_case_service_server::SpecialCaseServiceServer::new(self)
    }
}

/// Why a step failed inside its transaction.
enum StepError {
    Status(Status),
    Db(DbErr),
}

impl From<DbErr> for StepError {
    fn from(error: DbErr) -> Self {
        StepError::Db(error)
    }
}

impl From<Status> for StepError {
    fn from(status: Status) -> Self {
        StepError::Status(status)
    }
}

impl From<RequestIdReused> for StepError {
    fn from(reused: RequestIdReused) -> Self {
        StepError::Status(reused.into())
    }
}

impl From<StoreError> for StepError {
    fn from(error: StoreError) -> Self {
        StepError::Status(storage_failure(error))
    }
}

impl From<StepError> for Status {
    fn from(error: StepError) -> Self {
        match error {
            StepError::Status(status) => status,
            StepError::Db(error) => storage_failure(error),
        }
    }
}

/// A refusal of the workflow as a status carrying the domain's reason.
fn refused(error: SettlementError) -> Status {
    let code = match &error {
        SettlementError::NoMaterial { .. }
        | SettlementError::NegativePoints { .. }
        | SettlementError::ReviewerNotAssigned { .. } => Code::InvalidArgument,
        _ => Code::FailedPrecondition,
    };
    with_reason(code, error.reason(), error.to_string())
}

fn not_found(application_id: &str, region: RegionCode) -> Status {
    with_reason(
        Code::NotFound,
        "SPECIAL_CASE_NOT_FOUND",
        format!("no special case {application_id} in region {region}"),
    )
}

/// Step times are the agency's local time (China Standard Time, UTC+8), like every time on a
/// settlement list.
fn now() -> Result<DateTime, Status> {
    let local = wire::unix_seconds() + 8 * 3600;
    let days = i32::try_from(local.div_euclid(86_400)).map_err(storage_failure)?;
    let second = u32::try_from(local.rem_euclid(86_400)).map_err(storage_failure)?;
    DateTime::new(
        Date::from_days_since_epoch(days),
        second / 3600,
        second % 3600 / 60,
        second % 60,
    )
    .map_err(storage_failure)
}

fn enum_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

fn decision_name(decision: &ReviewDecision) -> &'static str {
    match decision {
        ReviewDecision::FeeForService => "fee_for_service",
        ReviewDecision::ExtraPoints(_) => "extra_points",
        ReviewDecision::Rejected => "rejected",
    }
}

fn to_wire(stored: &StoredApplication) -> pb::SpecialCase {
    let app = &stored.application;
    let extra_points = match app.decision() {
        Some(ReviewDecision::ExtraPoints(points)) => Some(wire::decimal_to_wire(points)),
        _ => None,
    };
    pb::SpecialCase {
        application_id: app.application_id.clone(),
        region_code: stored.region.to_string(),
        hospital_code: app.case.hospital_code.clone(),
        list_id: app.case.list_id.clone(),
        grounds: app.grounds.iter().map(enum_name).collect(),
        material: app.material.clone(),
        state: state_name(app.state()).to_owned(),
        reviewers: app.reviewers().to_vec(),
        decision: app
            .decision()
            .map(decision_name)
            .unwrap_or_default()
            .to_owned(),
        extra_points,
        history_json: serde_json::to_string(app.history()).unwrap_or_default(),
    }
}

fn expert_to_wire(record: ExpertRecord) -> pb::Expert {
    pb::Expert {
        expert_id: record.expert_id,
        name: record.name,
        institution_codes: record.institution_codes,
        specialty: record.specialty,
    }
}

fn replayed<T: Message + Default>(bytes: &[u8]) -> Result<Response<T>, Status> {
    T::decode(bytes).map(Response::new).map_err(storage_failure)
}

fn require_request_id(request_id: &str, violations: &mut Vec<(String, String)>) {
    if request_id.trim().is_empty() {
        violations.push(("request_id".into(), "is required".into()));
    }
}

/// What is missing from a request that moves an application on.
fn step_violations(request_id: &str, application_id: &str) -> Vec<(String, String)> {
    let mut violations = Vec::new();
    require_request_id(request_id, &mut violations);
    if application_id.is_empty() {
        violations.push(("application_id".into(), "is required".into()));
    }
    violations
}

fn checked(violations: Vec<(String, String)>) -> Result<(), Status> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(bad_request(violations))
    }
}

/// A new application id, random (see [`crate::ids`]); one application per case is kept by the
/// look-up of the case's application before an insert.
fn new_application_id() -> Result<String, StepError> {
    crate::ids::random_id()
        .map(|id| format!("SC-{id}"))
        .map_err(|e| StepError::Status(storage_failure(e)))
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

/// Loads an application of `region` inside the step's transaction.
async fn load(
    txn: &DatabaseTransaction,
    region: RegionCode,
    application_id: &str,
) -> Result<StoredApplication, StepError> {
    match store::get_application(txn, application_id).await? {
        Some(stored) if region.contains(stored.region) => Ok(stored),
        _ => Err(not_found(application_id, region).into()),
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
        let once = run_once(&self.db, &entry, move |txn| -> Effect<'_, StepError> {
            Box::pin(async move {
                let mut stored = load(txn, region, &application_id).await?;
                let pool = if needs_pool {
                    store::reviewer_pool(txn, stored.region).await?
                } else {
                    Vec::new()
                };
                let detail = step(&mut stored.application, &pool).map_err(refused)?;
                store::update_application(txn, &stored, wire::unix_seconds()).await?;
                let response = to_wire(&stored);
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

fn parse_grounds(
    grounds: &[String],
    violations: &mut Vec<(String, String)>,
) -> Vec<SpecialCaseGround> {
    if grounds.is_empty() {
        violations.push(("grounds".into(), "at least one ground is required".into()));
    }
    let mut parsed = Vec::new();
    for (i, ground) in grounds.iter().enumerate() {
        match serde_json::from_value(serde_json::Value::String(ground.clone())) {
            Ok(ground) => parsed.push(ground),
            Err(_) => violations.push((
                format!("grounds[{i}]"),
                format!(
                    "{ground:?} is not a ground (very_long_stay, very_high_cost, intensive_care, \
                     new_drug_or_technology, ungroupable, other)"
                ),
            )),
        }
    }
    parsed
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
        let mut violations = Vec::new();
        require_request_id(&body.request_id, &mut violations);
        let expert = body.expert.unwrap_or_default();
        if expert.expert_id.trim().is_empty() {
            violations.push(("expert.expert_id".into(), "is required".into()));
        }
        if expert.name.trim().is_empty() {
            violations.push(("expert.name".into(), "is required".into()));
        }
        if let Some(i) = expert
            .institution_codes
            .iter()
            .position(|code| code.trim().is_empty())
        {
            violations.push((format!("expert.institution_codes[{i}]"), "is empty".into()));
        }
        checked(violations)?;
        let record = ExpertRecord {
            region,
            expert_id: expert.expert_id,
            name: expert.name,
            specialty: expert.specialty,
            institution_codes: expert.institution_codes,
            active: body.active,
        };
        let once = run_once(&self.db, &entry, move |txn| -> Effect<'_, StepError> {
            Box::pin(async move {
                let active_experts = store::put_expert(txn, &record, wire::unix_seconds()).await?;
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
            experts: experts.into_iter().map(expert_to_wire).collect(),
        }))
    }

    async fn apply_special_case(
        &self,
        request: Request<pb::ApplySpecialCaseRequest>,
    ) -> Result<Response<pb::ApplySpecialCaseResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let mut violations = Vec::new();
        require_request_id(&body.request_id, &mut violations);
        if body.hospital_code.trim().is_empty() {
            violations.push(("hospital_code".into(), "is required".into()));
        }
        if body.list_id.trim().is_empty() {
            violations.push(("list_id".into(), "is required".into()));
        }
        let grounds = parse_grounds(&body.grounds, &mut violations);
        checked(violations)?;
        let policy = self.policy.clone();
        let at = now()?;
        let entry = journal_call(
            &principal,
            "ApplySpecialCase",
            &body.encode_to_vec(),
            &body.request_id,
            region,
        );
        let once = run_once(&self.db, &entry, move |txn| -> Effect<'_, StepError> {
            Box::pin(async move {
                let case = CaseStore::current(txn, &body.hospital_code, &body.list_id)
                    .await?
                    .filter(|case| region.contains(case.region))
                    .ok_or_else(|| {
                        with_reason(
                            Code::NotFound,
                            "CASE_NOT_FOUND",
                            format!(
                                "no stored case {}/{} in region {region}",
                                body.hospital_code, body.list_id
                            ),
                        )
                    })?;
                let method = match case.payment_mode.as_str() {
                    "drg" => ValuationMethod::Drg,
                    "dip" => ValuationMethod::Dip,
                    other => {
                        return Err(with_reason(
                            Code::FailedPrecondition,
                            "NOT_POINTS_VALUED",
                            format!(
                                "case {}/{} is paid {:?}, not by DRG or DIP points; only \
                                 points-valued cases are reviewed",
                                case.hospital_code, case.list_id, other
                            ),
                        )
                        .into());
                    }
                };
                if let Some(existing) =
                    store::application_of_case(txn, &case.hospital_code, &case.list_id).await?
                {
                    return Err(with_reason(
                        Code::AlreadyExists,
                        "SPECIAL_CASE_EXISTS",
                        format!(
                            "case {}/{} already has special case {}",
                            case.hospital_code, case.list_id, existing.application.application_id
                        ),
                    )
                    .into());
                }
                let year = case.discharge_date / 10_000;
                let quota = QuotaUsage {
                    hospital_code: case.hospital_code.clone(),
                    method,
                    discharges: store::count_discharges(txn, &case.hospital_code, year).await?,
                    applications: store::count_applications(txn, &case.hospital_code, year).await?,
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
                )
                .map_err(refused)?;
                let stored = StoredApplication {
                    region: case.region,
                    year,
                    payment_mode: case.payment_mode.clone(),
                    application,
                };
                store::insert_application(txn, &stored, wire::unix_seconds()).await?;
                let response = pb::ApplySpecialCaseResponse {
                    special_case: Some(to_wire(&stored)),
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
        let violations = step_violations(&body.request_id, &body.application_id);
        checked(violations)?;
        let policy = self.policy.clone();
        let seed = body.seed;
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall {
                    request: body.encode_to_vec(),
                    request_id: body.request_id,
                    action: "AssignReviewers",
                    application_id: body.application_id,
                    needs_pool: true,
                },
                Box::new(move |app, pool| {
                    app.assign_reviewers(pool, &policy, seed, at)?;
                    Ok(format!(
                        "reviewers {} (seed {seed})",
                        app.reviewers().join(",")
                    ))
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
        let mut violations = step_violations(&body.request_id, &body.application_id);
        let decision = match body.decision.as_str() {
            "fee_for_service" => Some(ReviewDecision::FeeForService),
            "rejected" => Some(ReviewDecision::Rejected),
            "extra_points" => match wire::points("extra_points", body.extra_points.as_ref()) {
                Ok(points) => Some(ReviewDecision::ExtraPoints(points)),
                Err(violation) => {
                    violations.push(violation);
                    None
                }
            },
            other => {
                violations.push((
                    "decision".into(),
                    format!("{other:?} is not fee_for_service, extra_points or rejected"),
                ));
                None
            }
        };
        if body.signed_by.is_empty() {
            violations.push(("signed_by".into(), "every assigned reviewer signs".into()));
        }
        checked(violations)?;
        let Some(decision) = decision else {
            return Err(bad_request(vec![("decision".into(), "is required".into())]));
        };
        let request = body.encode_to_vec();
        let signed_by = body.signed_by;
        let note = body.note;
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall {
                    request,
                    request_id: body.request_id,
                    action: "DecideSpecialCase",
                    application_id: body.application_id,
                    needs_pool: false,
                },
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
        let mut violations = step_violations(&body.request_id, &body.application_id);
        if body.reasons.iter().all(|r| r.trim().is_empty()) {
            violations.push((
                "reasons".into(),
                "an appeal needs at least one reason".into(),
            ));
        }
        checked(violations)?;
        let policy = self.policy.clone();
        let seed = body.seed;
        let reason = body.reasons.join("; ");
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall {
                    request: body.encode_to_vec(),
                    request_id: body.request_id,
                    action: "AppealSpecialCase",
                    application_id: body.application_id,
                    needs_pool: true,
                },
                Box::new(move |app, pool| {
                    app.appeal(&reason, pool, &policy, seed, at)?;
                    Ok(format!(
                        "appealed; reviewers {} (seed {seed})",
                        app.reviewers().join(",")
                    ))
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
        let violations = step_violations(&body.request_id, &body.application_id);
        checked(violations)?;
        let agency = principal.caller_id.clone();
        let at = now()?;
        let special_case = self
            .step(
                &principal,
                region,
                StepCall {
                    request: body.encode_to_vec(),
                    request_id: body.request_id,
                    action: "BindSpecialCase",
                    application_id: body.application_id,
                    needs_pool: false,
                },
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
            .ok_or_else(|| not_found(application_id, region))?;
        Ok(Response::new(pb::GetSpecialCaseResponse {
            special_case: Some(to_wire(&stored)),
        }))
    }

    async fn list_special_cases(
        &self,
        request: Request<pb::ListSpecialCasesRequest>,
    ) -> Result<Response<pb::ListSpecialCasesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = Page::from_request(body.page_size, &body.page_token)?;
        const STATES: [&str; 5] = [
            "applied",
            "under_review",
            "decided",
            "under_appeal",
            "bound",
        ];
        if !body.state.is_empty() && !STATES.contains(&body.state.as_str()) {
            return Err(bad_request(vec![(
                "state".into(),
                format!("{:?} is not one of {}", body.state, STATES.join(", ")),
            )]));
        }
        let applications = store::list_applications(
            &self.db,
            region,
            (!body.hospital_code.is_empty()).then_some(body.hospital_code.as_str()),
            (!body.state.is_empty()).then_some(body.state.as_str()),
            page,
        )
        .await
        .map_err(storage_failure)?;
        let next_page_token = page.next_token(applications.len());
        Ok(Response::new(pb::ListSpecialCasesResponse {
            special_cases: applications.iter().map(to_wire).collect(),
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

    #[test]
    fn grounds_are_read_by_name_and_unknown_ones_named() {
        let mut violations = Vec::new();
        let grounds = parse_grounds(
            &["very_high_cost".to_owned(), "expensive".to_owned()],
            &mut violations,
        );
        assert_eq!(grounds, vec![SpecialCaseGround::VeryHighCost]);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].0, "grounds[1]");
        parse_grounds(&[], &mut violations);
        assert_eq!(violations.len(), 2);
    }
}
