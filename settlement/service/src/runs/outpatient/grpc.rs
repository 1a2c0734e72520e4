//! The `medpay.settlement.v1.OutpatientService` methods on the runs API (enrolment, monthly
//! prepayment, year end): scope and role checks, the peers asked before any transaction, every
//! write through the journal.

use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::outpatient_service_server::{
    OutpatientService, OutpatientServiceServer,
};
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure};
use platform::wire;
use prost::Message;
use settlement_domain::outpatient_clearing::OutpatientStatement;
use tonic::{Request, Response, Status};

use super::prepayment::{self, OutpatientPrepaymentOrder};
use super::{OutpatientOrder, StoredRun, prepare, store, store_run};
use crate::convert::outpatient::{EnrolmentRequest, OutpatientRunRequest};
use crate::runs::{RunError, SettlementRunApi};
use crate::store::journal::call_by;

impl SettlementRunApi {
    /// The outpatient service over the same database and peers as the runs.
    pub fn into_outpatient_server(self) -> OutpatientServiceServer<Self> {
        OutpatientServiceServer::new(self)
    }
}

pub fn statement_to_wire(s: &OutpatientStatement) -> pb::OutpatientStatement {
    pb::OutpatientStatement {
        hospital_code: s.hospital_code.clone(),
        enrolled_persons: i64::try_from(s.enrolled_persons).unwrap_or(i64::MAX),
        per_capita_budget: Some(wire::money_to_wire(s.per_capita_budget)),
        referrals_out: Some(wire::money_to_wire(s.referrals_out)),
        chronic_budget: Some(wire::money_to_wire(s.chronic_budget)),
        actual: Some(wire::money_to_wire(s.actual)),
        tier: s.tier.clone(),
        shared_payable: Some(wire::money_to_wire(s.shared_payable)),
        apg_visits: s.apg_visits,
        apg_points: Some(wire::decimal_to_wire(s.apg_points)),
        apg_amount: Some(wire::money_to_wire(s.apg_amount)),
        payable: Some(wire::money_to_wire(s.payable)),
        ffs_settlements: s.ffs_settlements,
        ffs_amount: Some(wire::money_to_wire(s.ffs_amount)),
        prepaid: Some(wire::money_to_wire(s.prepaid)),
        balance: Some(wire::money_to_wire(s.balance)),
    }
}

fn response(
    (run, clearing, enrolment_version, prepaid): &StoredRun,
) -> pb::RunOutpatientClearingResponse {
    pb::RunOutpatientClearingResponse {
        run_id: run.run_id.clone(),
        version: run.version,
        enrolment_version: *enrolment_version,
        apg_point_value: Some(wire::decimal_to_wire(clearing.apg_point_value)),
        apg_points: Some(wire::decimal_to_wire(clearing.apg_points)),
        apg_residue: Some(wire::money_to_wire(clearing.apg_residue)),
        statements: clearing.statements.iter().map(statement_to_wire).collect(),
        statements_digest: run.statements_digest.clone(),
        prepaid_source: prepaid.source.to_owned(),
        prepayment_run_ids: prepaid.run_ids.clone(),
    }
}

#[tonic::async_trait]
impl OutpatientService for SettlementRunApi {
    async fn put_outpatient_enrolment(
        &self,
        request: Request<pb::PutOutpatientEnrolmentRequest>,
    ) -> Result<Response<pb::PutOutpatientEnrolmentResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let EnrolmentRequest {
            year,
            fund,
            enrolment,
        } = EnrolmentRequest::try_from(&body)?;
        let json = serde_json::to_string(&enrolment).map_err(storage_failure)?;
        let caller = principal.caller_id.clone();
        let call = call_by(
            &principal,
            "PutOutpatientEnrolment",
            &body,
            &body.request_id,
            region,
        );
        self.write(&call, move |work| {
            Box::pin(async move {
                let at = wire::unix_seconds();
                let version =
                    store::put_enrolment(&work, (region, year, fund), json, (&caller, at)).await?;
                Ok((
                    pb::PutOutpatientEnrolmentResponse { version }.encode_to_vec(),
                    format!(
                        "outpatient enrolment of {region} {year} fund {} v{version}",
                        fund.code()
                    ),
                ))
            })
        })
        .await
    }

    async fn run_outpatient_clearing(
        &self,
        request: Request<pb::RunOutpatientClearingRequest>,
    ) -> Result<Response<pb::RunOutpatientClearingResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let OutpatientRunRequest {
            year,
            fund,
            apg_block,
            prepaid,
        } = OutpatientRunRequest::try_from(&body)?;
        let order = OutpatientOrder {
            region,
            year,
            fund,
            apg_block,
            prepaid,
            reason: body.reason.clone(),
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
        };
        let call = call_by(
            &principal,
            "RunOutpatientClearing",
            &body,
            &body.request_id,
            region,
        );
        if let Some(stored) = self.replayed(&call).await? {
            return Ok(stored);
        }
        let valuer = self.outpatient_valuer().ok_or_else(|| {
            Status::from(RunError::Internal(
                "this server has no points peer to value outpatient budgets and visits".to_owned(),
            ))
        })?;
        let prepared = prepare(
            &self.db,
            &order,
            &principal,
            valuer.as_ref(),
            self.budget_for(&principal),
        )
        .await?;
        self.write(&call, move |work| {
            Box::pin(async move {
                let stored = store_run(&work, &order, prepared).await?;
                let (run, clearing, ..) = &stored;
                let detail = format!(
                    "{}: outpatient v{}, {} statements, digest {}",
                    run.run_id,
                    run.version,
                    clearing.statements.len(),
                    run.statements_digest
                );
                Ok((response(&stored).encode_to_vec(), detail))
            })
        })
        .await
    }
    async fn run_outpatient_prepayment(
        &self,
        request: Request<pb::RunOutpatientPrepaymentRequest>,
    ) -> Result<Response<pb::RunOutpatientPrepaymentResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let month = wire::year_month("period", body.period.as_ref());
        let fund = wire::fund_type("fund_type", body.fund_type);
        let (month, fund) = match (month, fund) {
            (Ok(month), Ok(fund)) => (month, fund),
            (month, fund) => {
                let violations = [month.err(), fund.err()].into_iter().flatten().collect();
                return Err(bad_request(violations));
            }
        };
        let order = OutpatientPrepaymentOrder {
            region,
            month,
            fund,
            caller: principal.caller_id.clone(),
            at: wire::unix_seconds(),
        };
        let call = call_by(
            &principal,
            "RunOutpatientPrepayment",
            &body,
            &body.request_id,
            region,
        );
        if let Some(stored) = self.replayed(&call).await? {
            return Ok(stored);
        }
        // A month is prepaid once: its stored run is the answer, and no peer is asked.
        if let Some(month) = prepayment::stored(&self.db, &order).await? {
            return Ok(Response::new(prepayment::response(&month)));
        }
        let valuer = self.outpatient_valuer().ok_or_else(|| {
            Status::from(RunError::Internal(
                "this server has no points peer to value outpatient budgets".to_owned(),
            ))
        })?;
        let prepared = prepayment::prepare(&self.db, &order, &principal, valuer.as_ref()).await?;
        self.write(&call, move |work| {
            Box::pin(async move {
                let month = prepayment::store_prepayment(&work, &order, prepared).await?;
                let detail = format!(
                    "{}: outpatient prepayment {}, {} statements, total {}",
                    month.run.run_id,
                    month.run.period,
                    month.lines.len(),
                    month.lines.iter().map(|l| l.amount).sum::<kernel::Money>()
                );
                Ok((prepayment::response(&month).encode_to_vec(), detail))
            })
        })
        .await
    }
}
