//! The `medpay.settlement.v1.SettlementRunService` methods: scope and role checks, and every write
//! through the journal (replayed by request id, audited, and committed in one transaction with
//! its effect). Requests are read by [`crate::convert::runs`], answers written by [`super::wire`],
//! errors mapped by [`crate::status`].

use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_run_service_server::SettlementRunService;
use platform::db::{fund_from_db, region_from_db};
use platform::paging::KeysetPage;
use platform::principal::authorize_request;
use platform::status::{bad_request, permission_denied, storage_failure};
use platform::wire;
use prost::Message;
use settlement_domain::dispute::DisputeAction;
use tonic::{Request, Response, Status};

pub use super::api::SettlementRunApi;
use super::api::{check_hospital, run_totals, wire_failure};
use super::clearing::{self, ClearingOrder};
use super::point_value::{self, PublishOrder};
use super::prepayment::{self, PrepaymentOrder};
use super::store;
use super::{RunError, export, wire as to_wire};
use crate::convert::runs::{
    ClearingRequest, MonthRequest, PointValueQuery, PolicyRequest, PrepaymentRequest,
    PublishPointValueRequest, ShadowRequest, YearInputsRequest, run_kind,
};
use crate::store::journal::call_by;

/// The full names the page tokens of the run service's lists are bound to.
const LIST_RUNS: &str = "/medpay.settlement.v1.SettlementRunService/ListRuns";
const LIST_STATEMENTS: &str = "/medpay.settlement.v1.SettlementRunService/ListStatements";

#[tonic::async_trait]
impl SettlementRunService for SettlementRunApi {
    async fn put_settlement_policy(
        &self,
        request: Request<pb::PutSettlementPolicyRequest>,
    ) -> Result<Response<pb::PutSettlementPolicyResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let PolicyRequest { year, fund } = PolicyRequest::try_from(&body)?;
        let caller = principal.caller_id.clone();
        let call = call_by(
            &principal,
            "PutSettlementPolicy",
            &body,
            &body.request_id,
            region,
        );
        self.write(&call, move |work| {
            Box::pin(async move {
                let at = wire::unix_seconds();
                // A document naming no scheme takes the region's main method's defaults, read
                // in the transaction that stores it.
                let scheme = super::main_method::default_scheme(&work, region, year).await?;
                let policy = crate::convert::runs::requested_policy(&body, scheme)
                    .map_err(RunError::Invalid)?;
                // Stored with every key, so a later default change never changes a stored policy.
                let json = serde_json::to_string(&policy).map_err(super::internal)?;
                let version = store::put_policy(
                    &work,
                    (region, year, fund),
                    &json,
                    &body.reason,
                    &caller,
                    at,
                )
                .await?;
                Ok((
                    pb::PutSettlementPolicyResponse { version }.encode_to_vec(),
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
        let (version, policy) = super::policy_in_force(&self.db, region, year, fund).await?;
        Ok(Response::new(pb::GetSettlementPolicyResponse {
            policy_json: serde_json::to_string(&policy).map_err(storage_failure)?,
            version,
            policy: Some(crate::convert::policy::policy_to_wire(&policy)),
        }))
    }

    async fn put_hospital_year_inputs(
        &self,
        request: Request<pb::PutHospitalYearInputsRequest>,
    ) -> Result<Response<pb::PutHospitalYearInputsResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let YearInputsRequest {
            key,
            mut inputs,
            mut violations,
        } = YearInputsRequest::from(&body);
        // Each hospital must be registered in the request's region; another region's is named
        // exactly like one never registered.
        let codes: Vec<String> = inputs.iter().map(|i| i.hospital_code.clone()).collect();
        let registered = crate::store::institutions::registered_in(&self.db, region, &codes)
            .await
            .map_err(storage_failure)?;
        for (index, code) in codes.iter().enumerate() {
            if !code.trim().is_empty() && !registered.contains(code) {
                violations.push(
                    format!("hospitals[{index}].hospital_code"),
                    format!("institution {code} is not registered in region {region}"),
                );
            }
        }
        if self.supervises() {
            // One source of truth: this server deducts supervision's confirmed findings.
            for (index, input) in inputs.iter().enumerate() {
                if !input.violation_deductions.value().is_zero() {
                    violations.push(
                        format!("hospitals[{index}].violation_deductions"),
                        "must be absent: this server reads violation deductions from the \
                         supervision context's confirmed findings"
                            .to_owned(),
                    );
                }
            }
        }
        let (year, fund) = violations.finish(|| key)?;
        inputs.sort_by(|a, b| a.hospital_code.cmp(&b.hospital_code));
        let json = serde_json::to_string(&inputs).map_err(storage_failure)?;
        let caller = principal.caller_id.clone();
        let count = inputs.len();
        let call = call_by(
            &principal,
            "PutHospitalYearInputs",
            &body,
            &body.request_id,
            region,
        );
        self.write(&call, move |work| {
            Box::pin(async move {
                let version = store::put_year_inputs(
                    &work,
                    region,
                    year,
                    fund,
                    &json,
                    &caller,
                    wire::unix_seconds(),
                )
                .await?;
                Ok((
                    pb::PutHospitalYearInputsResponse { version }.encode_to_vec(),
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
        let PrepaymentRequest {
            month,
            fund,
            point_value,
            skip_unvalued,
        } = PrepaymentRequest::try_from(&body)?;
        let order = PrepaymentOrder {
            region,
            month,
            fund,
            point_value,
            skip_unvalued,
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
        };
        let call = call_by(&principal, "RunPrepayment", &body, &body.request_id, region);
        if let Some(stored) = self.replayed(&call).await? {
            return Ok(stored);
        }
        let quotas = prepayment::ask_quotas(&self.db, &order, self.budget_for(&principal)).await?;
        self.write(&call, move |work| {
            Box::pin(async move {
                let run = prepayment::prepay(&work, &order, quotas).await?;
                let (totals, statements) = run_totals(&run)?;
                let detail = format!("{}: {statements} statements", run.run_id);
                let response = pb::RunPrepaymentResponse {
                    run_id: run.run_id,
                    statements,
                    totals,
                    version: run.version,
                };
                Ok((response.encode_to_vec(), detail))
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
        let MonthRequest { month, fund } = MonthRequest::try_from(&body)?;
        let call = call_by(&principal, "CloseMonth", &body, &body.request_id, region);
        self.write(&call, move |work| {
            Box::pin(async move {
                let run = prepayment::close_month(&work, region, fund, month, wire::unix_seconds())
                    .await?;
                let detail = format!("closed {region} {} with {}", month.as_int(), run.run_id);
                let response = pb::CloseMonthResponse { run_id: run.run_id };
                Ok((response.encode_to_vec(), detail))
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
        let ClearingRequest {
            year,
            fund,
            distributable_budget,
            skip_unvalued,
        } = ClearingRequest::try_from(&body)?;
        let mut order = ClearingOrder {
            region,
            year,
            fund,
            distributable_budget,
            skip_unvalued,
            reason: body.reason.clone(),
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
            deductions: None,
            scores: None,
        };
        let call = call_by(&principal, "RunClearing", &body, &body.request_id, region);
        if let Some(stored) = self.replayed(&call).await? {
            return Ok(stored);
        }
        order.deductions = self
            .supervised_deductions(&principal, (region, year, fund))
            .await?;
        order.scores = self.supervised_scores(&principal, (region, year)).await?;
        let shared = clearing::ask_budget(&self.db, &order, self.budget_for(&principal)).await?;
        self.write(&call, move |work| {
            Box::pin(async move {
                let run = clearing::clear(&work, &order, shared).await?;
                let (totals, statements) = run_totals(&run)?;
                let detail = format!(
                    "{}: {statements} statements, digest {}",
                    run.run_id, run.statements_digest
                );
                let alliances_json = to_wire::alliances(&run).map_err(wire_failure)?;
                let response = pb::RunClearingResponse {
                    alliances_json,
                    run_id: run.run_id,
                    version: run.version,
                    statements,
                    totals,
                    identity: to_wire::identity(&run.identity_json).map_err(wire_failure)?,
                    statements_digest: run.statements_digest,
                };
                Ok((response.encode_to_vec(), detail))
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
            run: Some(to_wire::run(&run)?),
        }))
    }

    async fn list_runs(
        &self,
        request: Request<pb::ListRunsRequest>,
    ) -> Result<Response<pb::ListRunsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = KeysetPage::<store::RunKey>::for_request(LIST_RUNS, body, |r| {
            (&mut r.page_size, &mut r.page_token)
        })?;
        let run_kind = run_kind(&body.kind)?;
        let runs = store::list_runs(
            &self.db,
            region,
            run_kind,
            page.after.as_ref(),
            page.fetch_limit(),
        )
        .await
        .map_err(storage_failure)?;
        let (runs, next_page_token) = page.finish(runs, store::RunKey::of);
        Ok(Response::new(pb::ListRunsResponse {
            next_page_token,
            runs: runs.iter().map(to_wire::run).collect::<Result<_, _>>()?,
        }))
    }

    async fn list_statements(
        &self,
        request: Request<pb::ListStatementsRequest>,
    ) -> Result<Response<pb::ListStatementsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = KeysetPage::<String>::for_request(LIST_STATEMENTS, body, |r| {
            (&mut r.page_size, &mut r.page_token)
        })?;
        let run = self.run_in(region, &body.run_id).await?;
        let hospital = (!body.hospital_code.is_empty()).then_some(body.hospital_code.as_str());
        let rows = store::list_statements(
            &self.db,
            &run.run_id,
            hospital,
            Some((page.after.as_deref(), page.fetch_limit())),
        )
        .await
        .map_err(storage_failure)?;
        let (rows, next_page_token) = page.finish(rows, |row| row.hospital_code.clone());
        Ok(Response::new(pb::ListStatementsResponse {
            next_page_token,
            statements: rows
                .iter()
                .map(|row| to_wire::statement(&run.kind, row))
                .collect(),
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
            return Err(bad_request(vec![(
                "format".to_owned(),
                "is required: EXPORT_FORMAT_CSV or EXPORT_FORMAT_XLSX".to_owned(),
            )]));
        }
        let run = self.run_in(region, &body.run_id).await?;
        let rows = store::list_statements(&self.db, &run.run_id, None, None)
            .await
            .map_err(storage_failure)?;
        let table = export::statements_table(&run, &rows).map_err(storage_failure)?;
        let (content, extension, content_type) = match format {
            pb::ExportFormat::Xlsx => (
                export::to_xlsx(&table).map_err(storage_failure)?,
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            _ => (
                export::to_csv(&table).map_err(storage_failure)?,
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
        let target = (
            body.request_id.as_str(),
            body.run_id.as_str(),
            body.hospital_code.as_str(),
        );
        let dispute = self
            .dispute(&principal, region, body, target, DisputeAction::Confirm)
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
        let target = (
            body.request_id.as_str(),
            body.run_id.as_str(),
            body.hospital_code.as_str(),
        );
        let action = DisputeAction::Object(body.reasons.clone());
        let dispute = self
            .dispute(&principal, region, body, target, action)
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
            return Err(bad_request(vec![(
                "resolution".to_owned(),
                "is required".to_owned(),
            )]));
        }
        let target = (
            body.request_id.as_str(),
            body.run_id.as_str(),
            body.hospital_code.as_str(),
        );
        let action = DisputeAction::Resolve {
            upheld: body.upheld,
            resolution: body.resolution.clone(),
        };
        let dispute = self
            .dispute(&principal, region, body, target, action)
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
            .map(|row| to_wire::dispute(row, run.created_at))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListDisputesResponse { disputes }))
    }

    async fn publish_dip_budget_point_value(
        &self,
        request: Request<pb::PublishDipBudgetPointValueRequest>,
    ) -> Result<Response<pb::PublishDipBudgetPointValueResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let PublishPointValueRequest {
            year,
            fund,
            history,
        } = PublishPointValueRequest::try_from(&body)?;
        let order = PublishOrder {
            key: (region, year, fund),
            history,
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
        };
        let call = call_by(
            &principal,
            "PublishDipBudgetPointValue",
            &body,
            &body.request_id,
            region,
        );
        self.write(&call, move |work| {
            Box::pin(async move {
                let stored = point_value::publish(&work, &order).await?;
                let detail = format!(
                    "DIP budget point value {region} {year} fund {} v{}: {}",
                    fund.code(),
                    stored.row.version,
                    stored.value.point_value
                );
                let response = pb::PublishDipBudgetPointValueResponse {
                    value: Some(point_value::to_wire(&stored, region, fund)),
                };
                Ok((response.encode_to_vec(), detail))
            })
        })
        .await
    }

    async fn put_main_inpatient_method(
        &self,
        request: Request<pb::PutMainInpatientMethodRequest>,
    ) -> Result<Response<pb::PutMainInpatientMethodResponse>, Status> {
        super::main_method::put(self, request).await
    }

    async fn get_main_inpatient_method(
        &self,
        request: Request<pb::GetMainInpatientMethodRequest>,
    ) -> Result<Response<pb::GetMainInpatientMethodResponse>, Status> {
        super::main_method::get(self, request).await
    }

    async fn get_dip_budget_point_value(
        &self,
        request: Request<pb::GetDipBudgetPointValueRequest>,
    ) -> Result<Response<pb::GetDipBudgetPointValueResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let PointValueQuery {
            year,
            fund,
            version,
        } = PointValueQuery::try_from(request.get_ref())?;
        let key = (region, year, fund);
        let stored = point_value::published(&self.db, key, version)
            .await?
            .ok_or_else(|| crate::status::budget_point_value_not_found(key, version))?;
        // The stored value's own region, checked as any object's is.
        let stored_region = region_from_db(stored.row.region_code).map_err(storage_failure)?;
        platform::principal::authorize_region(
            &principal,
            "region_code",
            &stored_region.to_string(),
        )?;
        Ok(Response::new(pb::GetDipBudgetPointValueResponse {
            value: Some(point_value::to_wire(&stored, stored_region, fund)),
        }))
    }

    async fn run_shadow_settlement(
        &self,
        request: Request<pb::RunShadowSettlementRequest>,
    ) -> Result<Response<pb::RunShadowSettlementResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let shadow = ShadowRequest::try_from(request.get_ref())?;
        let (from, to) = shadow.discharges();
        let (hospitals, groups) =
            super::shadow::shadow(&self.db, region, shadow.fund, from, to, shadow.point_value)
                .await?;
        let lines = |report: &settlement_domain::shadow::ShadowReport| {
            report
                .hospitals
                .iter()
                .map(|line| to_wire::shadow_line(line.hospital_code.clone(), line))
                .collect()
        };
        Ok(Response::new(pb::RunShadowSettlementResponse {
            by_hospital: lines(&hospitals),
            by_group: lines(&groups),
            total: Some(to_wire::shadow_line("total".to_owned(), &hospitals.total)),
        }))
    }
}
