//! The `medpay.settlement.v1.SettlementRunService` server: scope and role checks, conversions,
//! status codes. Every write goes through the journal: replayed by request id, audited, and
//! committed in one transaction with its effect.

use std::sync::Arc;

use kernel::{Decimal, FundType, Money, Principal, RegionCode, YearMonth};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_run_service_server::SettlementRunService;
use platform::db::{fund_from_db, region_from_db};
use platform::principal::authorize_request;
use platform::status::{bad_request, permission_denied, storage_failure, with_reason};
use platform::wire::{self, Page};
use prost::Message;
use sea_orm::DatabaseConnection;
use settlement_domain::SettlementError;
use settlement_domain::prepayment::ProvisionalPointValue;
use settlement_domain::shadow::ShadowLine;
use tonic::{Code, Request, Response, Status};

use super::store::{self, RunRow, StatementRow, kind};
use super::{
    BudgetAccess, ClearingOrder, DisputeAction, IdentityCheck, PrepaymentOrder, RunError,
    RunTotals, YearInput,
};
use crate::journal::{Call, Effect, run_once};
use crate::ledger::region_span;
use crate::sharing::BudgetPeer;

/// The runs gRPC API over the settlement database.
#[derive(Clone)]
pub struct SettlementRunApi {
    db: DatabaseConnection,
    budget: Option<Arc<dyn BudgetPeer>>,
}

impl SettlementRunApi {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, budget: None }
    }

    /// Shares at year end and reads monthly quotas through the budget context.
    pub fn with_budget(mut self, budget: Arc<dyn BudgetPeer>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The tonic service to mount on a server.
    pub fn into_server(
        self,
    ) -> pb::settlement_run_service_server::SettlementRunServiceServer<Self> {
        pb::settlement_run_service_server::SettlementRunServiceServer::new(self)
    }

    /// Runs `effect` once per (caller, request id) of `call` and decodes the response it stored.
    async fn write<T, F>(&self, call: &Call, effect: F) -> Result<Response<T>, Status>
    where
        T: Message + Default,
        F: for<'c> FnOnce(&'c sea_orm::DatabaseTransaction) -> Effect<'c, RunError>,
    {
        crate::grpc::require_request_id(&call.request_id)?;
        let done = run_once(&self.db, call, effect).await.map_err(to_status)?;
        T::decode(done.response())
            .map(Response::new)
            .map_err(storage_failure)
    }
}

fn domain_code(error: &SettlementError) -> Code {
    match error {
        SettlementError::DisputeTransition { .. } | SettlementError::NoPoints => {
            Code::FailedPrecondition
        }
        _ => Code::InvalidArgument,
    }
}

/// The status of a run error; storage detail goes to the log only.
pub fn to_status(error: RunError) -> Status {
    match error {
        RunError::Store(error) => storage_failure(error),
        RunError::Invalid(violations) => bad_request(violations),
        RunError::Domain(errors) => {
            let Some(first) = errors.first() else {
                return Status::internal("a calculation failed without a reason");
            };
            let message = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            with_reason(domain_code(first), first.reason(), message)
        }
        RunError::Precondition { reason, message } => {
            with_reason(Code::FailedPrecondition, reason, message)
        }
        RunError::NotFound(message) => with_reason(Code::NotFound, "NOT_FOUND", message),
        RunError::Unimplemented(message) => Status::unimplemented(message),
        // Whatever the budget context answered, the run stored nothing and may be retried.
        RunError::Budget(status) => {
            let code = match status.code() {
                Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound => {
                    Code::FailedPrecondition
                }
                Code::PermissionDenied | Code::Unauthenticated => Code::PermissionDenied,
                _ => Code::Unavailable,
            };
            with_reason(
                code,
                "BUDGET_PEER",
                format!("budget context: {}", status.message()),
            )
        }
        RunError::Internal(message) => {
            tracing::error!(%message, "run failed");
            with_reason(Code::Internal, "RUN_FAILED", message)
        }
        RunError::Reused(reused) => reused.into(),
    }
}

fn invalid(violation: (String, String)) -> Status {
    bad_request(vec![violation])
}

fn encode<T: Message>(message: &T) -> Vec<u8> {
    message.encode_to_vec()
}

fn decimal(field: &str, value: Option<&common::Decimal>) -> Result<Option<Decimal>, Status> {
    match value.map(|d| d.value.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<Decimal>()
            .map(Some)
            .map_err(|e| invalid((field.to_owned(), format!("is not a decimal: {e}")))),
    }
}

fn optional_money(field: &str, value: Option<&common::Money>) -> Result<Option<Money>, Status> {
    match value.filter(|m| !m.yuan.trim().is_empty()) {
        None => Ok(None),
        Some(money) => wire::money(field, Some(money)).map(Some).map_err(invalid),
    }
}

fn fund(value: i32) -> Result<FundType, Status> {
    wire::fund_type("fund_type", value).map_err(invalid)
}

fn month(field: &str, value: Option<&common::YearMonth>) -> Result<YearMonth, Status> {
    wire::year_month(field, value).map_err(invalid)
}

fn totals_to_wire(json: &str) -> Result<Option<pb::RunTotals>, Status> {
    let totals: RunTotals = serde_json::from_str(json).map_err(storage_failure)?;
    Ok(Some(pb::RunTotals {
        hospitals: totals.hospitals,
        cases: totals.cases,
        points: Some(wire::decimal_to_wire(totals.points)),
        point_value: Some(wire::decimal_to_wire(totals.point_value)),
        payable: Some(wire::money_to_wire(totals.payable)),
    }))
}

fn identity_to_wire(json: &str) -> Result<Option<pb::IdentityCheck>, Status> {
    if json.is_empty() {
        return Ok(None);
    }
    let identity: IdentityCheck = serde_json::from_str(json).map_err(storage_failure)?;
    Ok(Some(pb::IdentityCheck {
        distributable_budget: Some(wire::money_to_wire(identity.distributable_budget)),
        total_entitlements: Some(wire::money_to_wire(identity.total_entitlements)),
        ffs_special_total: Some(wire::money_to_wire(identity.ffs_special_total)),
        residue: Some(wire::money_to_wire(identity.residue)),
        holds: identity.holds,
    }))
}

fn run_to_wire(run: &RunRow) -> Result<pb::Run, Status> {
    let region = region_from_db(run.region_code).map_err(storage_failure)?;
    let fund = fund_from_db(run.fund_type).map_err(storage_failure)?;
    Ok(pb::Run {
        run_id: run.run_id.clone(),
        kind: run.kind.clone(),
        region_code: region.to_string(),
        fund_type: wire::fund_type_to_wire(fund),
        period: Some(common::YearMonth {
            year: run.period / 100,
            month: run.period % 100,
        }),
        version: run.version,
        totals: totals_to_wire(&run.totals_json)?,
        identity: identity_to_wire(&run.identity_json)?,
        statements_digest: run.statements_digest.clone(),
        inputs_json: run.inputs_json.clone(),
        created_at_unix: run.created_at,
        r#final: run.is_final,
    })
}

fn statement_to_wire(row: &StatementRow) -> pb::Statement {
    pb::Statement {
        run_id: row.run_id.clone(),
        hospital_code: row.hospital_code.clone(),
        statement_json: row.statement_json.clone(),
        balance: Some(wire::money_to_wire(Money::from_fen(row.balance_fen))),
        dispute_state: row.dispute_state.clone(),
    }
}

fn dispute_to_wire(row: &StatementRow, issued_at: i64) -> Result<pb::Dispute, Status> {
    let dispute = super::current_dispute(row, issued_at).map_err(to_status)?;
    Ok(pb::Dispute {
        run_id: row.run_id.clone(),
        hospital_code: row.hospital_code.clone(),
        state: row.dispute_state.clone(),
        history_json: serde_json::to_string(dispute.history()).map_err(storage_failure)?,
    })
}

fn shadow_line(key: String, line: &ShadowLine) -> pb::ShadowLine {
    pb::ShadowLine {
        key,
        cases: line.cases,
        points: Some(wire::decimal_to_wire(line.points)),
        drg_dip_amount: Some(wire::money_to_wire(line.model_amount)),
        ffs_amount: Some(wire::money_to_wire(line.ffs_amount)),
        difference: Some(wire::money_to_wire(line.difference)),
        difference_ratio: Some(wire::decimal_to_wire(super::difference_ratio(
            line.difference,
            line.ffs_amount,
        ))),
    }
}

/// The answer for a run that is not stored in `region` or a region inside it, whether it does
/// not exist or belongs to another region.
pub fn run_not_found(run_id: &str, region: RegionCode) -> Status {
    with_reason(
        Code::NotFound,
        "RUN_NOT_FOUND",
        format!("no run {run_id} in region {region}"),
    )
}

/// A hospital principal (role `hospital`) acts only for the institution its key names.
fn check_hospital(principal: &Principal, hospital_code: &str) -> Result<(), Status> {
    if !principal.may_reach_institution(hospital_code) {
        return Err(permission_denied(
            "NOT_YOUR_STATEMENT",
            format!(
                "hospital {} may not act on the statement of hospital {hospital_code}",
                principal.caller_id
            ),
        ));
    }
    Ok(())
}

impl SettlementRunApi {
    /// The run `run_id`, which must belong to `region` or a region inside it.
    async fn run_in(&self, region: RegionCode, run_id: &str) -> Result<RunRow, Status> {
        let (from, to) = region_span(region);
        // Another region's run is answered exactly like a run never stored.
        store::get_run(&self.db, run_id)
            .await
            .map_err(storage_failure)?
            .filter(|run| (from..=to).contains(&run.region_code))
            .ok_or_else(|| run_not_found(run_id, region))
    }

    #[allow(clippy::too_many_arguments)]
    async fn dispute(
        &self,
        principal: &Principal,
        region: RegionCode,
        request: &impl Message,
        request_id: &str,
        run_id: &str,
        hospital_code: &str,
        action: DisputeAction,
    ) -> Result<pb::Dispute, Status> {
        let action_name = match action {
            DisputeAction::Confirm => "ConfirmStatement",
            DisputeAction::Object(_) => "ObjectToStatement",
            DisputeAction::Resolve { .. } => "ResolveDispute",
        };
        let run = self.run_in(region, run_id).await?;
        let actor = principal.caller_id.clone();
        let run_id = run_id.to_owned();
        let hospital_code = hospital_code.to_owned();
        let issued_at = run.created_at;
        let call = Call::new(
            &principal.caller_id,
            request_id,
            action_name,
            request,
            Some(region),
        );
        let response: Response<pb::Dispute> = self
            .write(&call, move |txn| {
                Box::pin(async move {
                    let row = super::dispute_step(
                        txn,
                        &run_id,
                        &hospital_code,
                        &actor,
                        action,
                        wire::unix_seconds(),
                    )
                    .await?;
                    let dispute = dispute_to_wire(&row, issued_at)
                        .map_err(|status| RunError::Internal(status.message().to_owned()))?;
                    let detail = format!("{run_id}/{hospital_code}: {}", row.dispute_state);
                    Ok((encode(&dispute), detail))
                })
            })
            .await?;
        Ok(response.into_inner())
    }
}

#[tonic::async_trait]
impl SettlementRunService for SettlementRunApi {
    async fn put_settlement_policy(
        &self,
        request: Request<pb::PutSettlementPolicyRequest>,
    ) -> Result<Response<pb::PutSettlementPolicyResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let policy = super::parse_policy(&body.policy_json).map_err(to_status)?;
        // Stored with every key, so a later default change never changes a stored policy.
        let json = serde_json::to_string(&policy).map_err(storage_failure)?;
        let caller = principal.caller_id.clone();
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "PutSettlementPolicy",
            &body,
            Some(region),
        );
        self.write(&call, move |txn| {
            Box::pin(async move {
                let at = wire::unix_seconds();
                let version =
                    store::put_policy(txn, (region, year, fund), &json, &body.reason, &caller, at)
                        .await?;
                Ok((
                    encode(&pb::PutSettlementPolicyResponse { version }),
                    format!("policy of {region} {year} fund {} v{version}", fund.code()),
                ))
            })
        })
        .await
    }

    async fn get_settlement_policy(
        &self,
        request: Request<pb::GetSettlementPolicyRequest>,
    ) -> Result<Response<pb::GetSettlementPolicyResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let (version, policy) = super::policy_in_force(&self.db, region, year, fund)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::GetSettlementPolicyResponse {
            policy_json: serde_json::to_string(&policy).map_err(storage_failure)?,
            version,
        }))
    }

    async fn put_hospital_year_inputs(
        &self,
        request: Request<pb::PutHospitalYearInputsRequest>,
    ) -> Result<Response<pb::PutHospitalYearInputsResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let mut violations = Vec::new();
        let mut inputs: Vec<YearInput> = Vec::new();
        for (index, h) in body.hospitals.iter().enumerate() {
            let at = |field: &str| format!("hospitals[{index}].{field}");
            if h.hospital_code.trim().is_empty() {
                violations.push((at("hospital_code"), "is required".to_owned()));
            }
            if inputs.iter().any(|i| i.hospital_code == h.hospital_code) {
                violations.push((
                    at("hospital_code"),
                    format!("{} is listed twice", h.hospital_code),
                ));
            }
            let coefficient = match decimal(
                &at("assessment_coefficient"),
                h.assessment_coefficient.as_ref(),
            ) {
                Ok(Some(value)) if value.is_sign_negative() => {
                    violations.push((
                        at("assessment_coefficient"),
                        "must not be negative".to_owned(),
                    ));
                    Decimal::ONE
                }
                Ok(value) => value.unwrap_or(Decimal::ONE),
                Err(status) => {
                    violations.push((at("assessment_coefficient"), status.message().to_owned()));
                    Decimal::ONE
                }
            };
            let mut amount = |field: &str, value: Option<&common::Money>| -> Money {
                match optional_money(&at(field), value) {
                    Ok(Some(money)) if money.is_negative() => {
                        violations.push((at(field), "must not be negative".to_owned()));
                        Money::ZERO
                    }
                    Ok(money) => money.unwrap_or(Money::ZERO),
                    Err(status) => {
                        violations.push((at(field), status.message().to_owned()));
                        Money::ZERO
                    }
                }
            };
            let violation_deductions =
                amount("violation_deductions", h.violation_deductions.as_ref());
            let deposit_returned = amount("deposit_returned", h.deposit_returned.as_ref());
            inputs.push(YearInput {
                hospital_code: h.hospital_code.clone(),
                assessment_coefficient: coefficient,
                violation_deductions,
                deposit_returned,
            });
        }
        // Each hospital must be registered in the request's region; another region's is named
        // exactly like one never registered.
        let codes: Vec<String> = inputs.iter().map(|i| i.hospital_code.clone()).collect();
        let registered = crate::institutions::registered_in(&self.db, region, &codes)
            .await
            .map_err(storage_failure)?;
        for (index, code) in codes.iter().enumerate() {
            if !code.trim().is_empty() && !registered.contains(code) {
                violations.push((
                    format!("hospitals[{index}].hospital_code"),
                    format!("institution {code} is not registered in region {region}"),
                ));
            }
        }
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        inputs.sort_by(|a, b| a.hospital_code.cmp(&b.hospital_code));
        let json = serde_json::to_string(&inputs).map_err(storage_failure)?;
        let caller = principal.caller_id.clone();
        let count = inputs.len();
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "PutHospitalYearInputs",
            &body,
            Some(region),
        );
        self.write(&call, move |txn| {
            Box::pin(async move {
                let version = store::put_year_inputs(
                    txn,
                    region,
                    year,
                    fund,
                    &json,
                    &caller,
                    wire::unix_seconds(),
                )
                .await?;
                Ok((
                    encode(&pb::PutHospitalYearInputsResponse { version }),
                    format!("year inputs of {region} {year}: {count} hospitals, v{version}"),
                ))
            })
        })
        .await
    }

    async fn run_prepayment(
        &self,
        request: Request<pb::RunPrepaymentRequest>,
    ) -> Result<Response<pb::RunPrepaymentResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let month = month("period", body.period.as_ref())?;
        let fund = fund(body.fund_type)?;
        let point_value = match (
            decimal(
                "provisional_point_value",
                body.provisional_point_value.as_ref(),
            )?,
            optional_money("month_budget", body.month_budget.as_ref())?,
        ) {
            (Some(value), _) => ProvisionalPointValue::Published(value),
            (None, Some(budget)) => ProvisionalPointValue::FromMonthBudget(budget),
            (None, None) => {
                return Err(bad_request(vec![(
                    "provisional_point_value".to_owned(),
                    "is required when month_budget is absent".to_owned(),
                )]));
            }
        };
        let order = PrepaymentOrder {
            region,
            month,
            fund,
            point_value,
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
        };
        let budget = self.budget.clone();
        let on_behalf = principal.clone();
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "RunPrepayment",
            &body,
            Some(region),
        );
        self.write(&call, move |txn| {
            Box::pin(async move {
                let access = budget.as_deref().map(|peer| BudgetAccess {
                    peer,
                    principal: &on_behalf,
                });
                let run = super::prepay_with(txn, &order, access).await?;
                let totals = totals_to_wire(&run.totals_json)
                    .map_err(|s| RunError::Internal(s.message().to_owned()))?;
                let statements = totals.as_ref().map_or(0, |t| t.hospitals);
                let detail = format!("{}: {statements} statements", run.run_id);
                Ok((
                    encode(&pb::RunPrepaymentResponse {
                        run_id: run.run_id,
                        statements,
                        totals,
                        version: run.version,
                    }),
                    detail,
                ))
            })
        })
        .await
    }

    async fn close_month(
        &self,
        request: Request<pb::CloseMonthRequest>,
    ) -> Result<Response<pb::CloseMonthResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let month = month("period", body.period.as_ref())?;
        let fund = fund(body.fund_type)?;
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "CloseMonth",
            &body,
            Some(region),
        );
        self.write(&call, move |txn| {
            Box::pin(async move {
                let run =
                    super::close_month(txn, region, fund, month, wire::unix_seconds()).await?;
                let detail = format!("closed {region} {} with {}", month.as_int(), run.run_id);
                Ok((
                    encode(&pb::CloseMonthResponse { run_id: run.run_id }),
                    detail,
                ))
            })
        })
        .await
    }

    async fn run_clearing(
        &self,
        request: Request<pb::RunClearingRequest>,
    ) -> Result<Response<pb::RunClearingResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let distributable_budget =
            wire::money("distributable_budget", body.distributable_budget.as_ref())
                .map_err(invalid)?;
        let order = ClearingOrder {
            region,
            year,
            fund,
            distributable_budget,
            reason: body.reason.clone(),
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
        };
        let budget = self.budget.clone();
        let on_behalf = principal.clone();
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "RunClearing",
            &body,
            Some(region),
        );
        self.write(&call, move |txn| {
            Box::pin(async move {
                let access = budget.as_deref().map(|peer| BudgetAccess {
                    peer,
                    principal: &on_behalf,
                });
                let run = super::clear_with(txn, &order, access).await?;
                let to_internal = |s: Status| RunError::Internal(s.message().to_owned());
                let totals = totals_to_wire(&run.totals_json).map_err(to_internal)?;
                let statements = totals.as_ref().map_or(0, |t| t.hospitals);
                let detail = format!(
                    "{}: {statements} statements, digest {}",
                    run.run_id, run.statements_digest
                );
                Ok((
                    encode(&pb::RunClearingResponse {
                        run_id: run.run_id,
                        version: run.version,
                        statements,
                        totals,
                        identity: identity_to_wire(&run.identity_json).map_err(to_internal)?,
                        statements_digest: run.statements_digest,
                    }),
                    detail,
                ))
            })
        })
        .await
    }

    async fn get_run(
        &self,
        request: Request<pb::GetRunRequest>,
    ) -> Result<Response<pb::GetRunResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let run = self.run_in(region, &request.get_ref().run_id).await?;
        Ok(Response::new(pb::GetRunResponse {
            run: Some(run_to_wire(&run)?),
        }))
    }

    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = Page::from_request(body.page_size, &body.page_token)?;
        let run_kind = match body.kind.as_str() {
            "" => None,
            kind::PREPAYMENT => Some(kind::PREPAYMENT),
            kind::CLEARING => Some(kind::CLEARING),
            other => {
                return Err(invalid((
                    "kind".to_owned(),
                    format!("{other} is not a run kind: use prepayment, clearing or empty"),
                )));
            }
        };
        let runs = store::list_runs(&self.db, region, run_kind, page)
            .await
            .map_err(storage_failure)?;
        Ok(Response::new(pb::ListRunsResponse {
            next_page_token: page.next_token(runs.len()),
            runs: runs.iter().map(run_to_wire).collect::<Result<_, _>>()?,
        }))
    }

    async fn list_statements(
        &self,
        request: Request<pb::ListStatementsRequest>,
    ) -> Result<Response<pb::ListStatementsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = Page::from_request(body.page_size, &body.page_token)?;
        let run = self.run_in(region, &body.run_id).await?;
        let hospital = (!body.hospital_code.is_empty()).then_some(body.hospital_code.as_str());
        let rows = store::list_statements(&self.db, &run.run_id, hospital, Some(page))
            .await
            .map_err(storage_failure)?;
        Ok(Response::new(pb::ListStatementsResponse {
            next_page_token: page.next_token(rows.len()),
            statements: rows.iter().map(statement_to_wire).collect(),
        }))
    }

    async fn export_statements(
        &self,
        request: Request<pb::ExportStatementsRequest>,
    ) -> Result<Response<pb::ExportStatementsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let format = pb::ExportFormat::try_from(body.format).unwrap_or_default();
        if format == pb::ExportFormat::Unspecified {
            return Err(invalid((
                "format".to_owned(),
                "is required: EXPORT_FORMAT_CSV or EXPORT_FORMAT_XLSX".to_owned(),
            )));
        }
        let run = self.run_in(region, &body.run_id).await?;
        let rows = store::list_statements(&self.db, &run.run_id, None, None)
            .await
            .map_err(storage_failure)?;
        let table = super::statements_table(&run, &rows).map_err(to_status)?;
        let (content, extension, content_type) = match format {
            pb::ExportFormat::Xlsx => (
                super::export::to_xlsx(&table).map_err(storage_failure)?,
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            _ => (
                super::export::to_csv(&table).map_err(storage_failure)?,
                "csv",
                "text/csv; charset=utf-8",
            ),
        };
        Ok(Response::new(pb::ExportStatementsResponse {
            // Named for a reader (the run id is random).
            file_name: format!(
                "{}-{}-{}-{}-v{}.{extension}",
                run.kind,
                region_from_db(run.region_code).map_err(storage_failure)?,
                fund_from_db(run.fund_type).map_err(storage_failure)?.code(),
                run.period,
                run.version
            ),
            content_type: content_type.to_owned(),
            content,
        }))
    }

    async fn confirm_statement(
        &self,
        request: Request<pb::ConfirmStatementRequest>,
    ) -> Result<Response<pb::ConfirmStatementResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        check_hospital(&principal, &body.hospital_code)?;
        let dispute = self
            .dispute(
                &principal,
                region,
                body,
                &body.request_id,
                &body.run_id,
                &body.hospital_code,
                DisputeAction::Confirm,
            )
            .await?;
        Ok(Response::new(pb::ConfirmStatementResponse {
            dispute: Some(dispute),
        }))
    }

    async fn object_to_statement(
        &self,
        request: Request<pb::ObjectToStatementRequest>,
    ) -> Result<Response<pb::ObjectToStatementResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        check_hospital(&principal, &body.hospital_code)?;
        let dispute = self
            .dispute(
                &principal,
                region,
                body,
                &body.request_id,
                &body.run_id,
                &body.hospital_code,
                DisputeAction::Object(body.reasons.clone()),
            )
            .await?;
        Ok(Response::new(pb::ObjectToStatementResponse {
            dispute: Some(dispute),
        }))
    }

    async fn resolve_dispute(
        &self,
        request: Request<pb::ResolveDisputeRequest>,
    ) -> Result<Response<pb::ResolveDisputeResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        if principal.has_role("hospital") {
            return Err(permission_denied(
                "AGENCY_ONLY",
                "only the agency resolves an objection, not a hospital",
            ));
        }
        if body.resolution.trim().is_empty() {
            return Err(invalid(("resolution".to_owned(), "is required".to_owned())));
        }
        let dispute = self
            .dispute(
                &principal,
                region,
                body,
                &body.request_id,
                &body.run_id,
                &body.hospital_code,
                DisputeAction::Resolve {
                    upheld: body.upheld,
                    resolution: body.resolution.clone(),
                },
            )
            .await?;
        Ok(Response::new(pb::ResolveDisputeResponse {
            dispute: Some(dispute),
        }))
    }

    async fn list_disputes(
        &self,
        request: Request<pb::ListDisputesRequest>,
    ) -> Result<Response<pb::ListDisputesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let run = self.run_in(region, &body.run_id).await?;
        let rows = store::list_statements(&self.db, &run.run_id, None, None)
            .await
            .map_err(storage_failure)?;
        let disputes = rows
            .iter()
            .filter(|row| body.state.is_empty() || row.dispute_state == body.state)
            .map(|row| dispute_to_wire(row, run.created_at))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListDisputesResponse { disputes }))
    }

    async fn run_shadow_settlement(
        &self,
        request: Request<pb::RunShadowSettlementRequest>,
    ) -> Result<Response<pb::RunShadowSettlementResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let fund = fund(body.fund_type)?;
        let from = month("from", body.from.as_ref())?;
        let to = month("to", body.to.as_ref())?;
        if to < from {
            return Err(invalid((
                "to".to_owned(),
                format!("{} is before from {}", to.as_int(), from.as_int()),
            )));
        }
        let point_value = decimal("point_value", body.point_value.as_ref())?
            .ok_or_else(|| invalid(("point_value".to_owned(), "is required".to_owned())))?;
        let (hospitals, groups) = super::shadow(
            &self.db,
            region,
            fund,
            from.as_int() * 100 + 1,
            to.as_int() * 100 + 31,
            point_value,
        )
        .await
        .map_err(to_status)?;
        Ok(Response::new(pb::RunShadowSettlementResponse {
            by_hospital: hospitals
                .hospitals
                .iter()
                .map(|line| shadow_line(line.hospital_code.clone(), line))
                .collect(),
            by_group: groups
                .hospitals
                .iter()
                .map(|line| shadow_line(line.hospital_code.clone(), line))
                .collect(),
            total: Some(shadow_line("total".to_owned(), &hospitals.total)),
        }))
    }
}
