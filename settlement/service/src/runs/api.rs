//! The runs API's plumbing: its peers (budget, supervision), the journal writes (a retry replays before any peer is
//! asked), the region check of a stored run, and the dispute steps.

use std::sync::Arc;

use kernel::{Principal, RegionCode};
use medpay_proto::settlement::v1 as pb;
use platform::status::{permission_denied, storage_failure};
use platform::wire;
use prost::Message;
use settlement_domain::dispute::DisputeAction;
use tonic::{Response, Status};

use super::store::{self, RunRow};
use super::{BudgetAccess, RunError, disputes, wire as to_wire};
use crate::budget_peer::BudgetPeer;
use crate::outpatient_valuer::OutpatientValuer;
use crate::status::run_not_found;
use crate::store::journal::{Call, Effect, call_by};
use crate::store::ledger::region_span;
use crate::store::{Database, UnitOfWork};
use crate::supervision_peer::SupervisionPeer;
use settlement_domain::assessment_scores::SupervisedScores;
use settlement_domain::violation_deductions::SupervisedDeduction;

/// The runs gRPC API over the settlement database.
#[derive(Clone)]
pub struct SettlementRunApi {
    pub(super) db: Database,
    budget: Option<Arc<dyn BudgetPeer>>,
    supervision: Option<Arc<dyn SupervisionPeer>>,
    outpatient: Option<Arc<dyn OutpatientValuer>>,
}

impl SettlementRunApi {
    pub fn new(db: impl Into<Database>) -> Self {
        Self {
            db: db.into(),
            budget: None,
            supervision: None,
            outpatient: None,
        }
    }

    /// Values the outpatient year end's budgets and visits through the points context.
    pub fn with_outpatient_valuer(mut self, valuer: Arc<dyn OutpatientValuer>) -> Self {
        self.outpatient = Some(valuer);
        self
    }

    pub(super) fn outpatient_valuer(&self) -> Option<Arc<dyn OutpatientValuer>> {
        self.outpatient.clone()
    }

    /// Shares at year end and reads monthly quotas through the budget context.
    pub fn with_budget(mut self, budget: Arc<dyn BudgetPeer>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Reads each clearing's violation deductions from the supervision context's confirmed
    /// findings: one source of truth, so deductions typed into the year inputs are refused.
    pub fn with_supervision(mut self, supervision: Arc<dyn SupervisionPeer>) -> Self {
        self.supervision = Some(supervision);
        self
    }

    /// Whether violation deductions come from the supervision context.
    pub(super) fn supervises(&self) -> bool {
        self.supervision.is_some()
    }

    /// The violation deductions of a clearing as supervision confirmed them, asked before any
    /// transaction opens; `None` when this server has no supervision peer.
    pub(super) async fn supervised_deductions(
        &self,
        principal: &Principal,
        (region, year, fund): (RegionCode, i32, kernel::FundType),
    ) -> Result<Option<Vec<SupervisedDeduction>>, RunError> {
        let Some(peer) = &self.supervision else {
            return Ok(None);
        };
        Ok(Some(peer.deductions(principal, region, year, fund).await?))
    }

    /// The assessment scores of supervision's latest run for the clearing's region and year,
    /// asked before any transaction opens; `None` when this server has no supervision peer.
    pub(super) async fn supervised_scores(
        &self,
        principal: &Principal,
        (region, year): (RegionCode, i32),
    ) -> Result<Option<SupervisedScores>, RunError> {
        let Some(peer) = &self.supervision else {
            return Ok(None);
        };
        Ok(Some(peer.assessment_scores(principal, region, year).await?))
    }

    /// The tonic service to mount on a server.
    pub fn into_server(
        self,
    ) -> pb::settlement_run_service_server::SettlementRunServiceServer<Self> {
        pb::settlement_run_service_server::SettlementRunServiceServer::new(self)
    }

    pub(super) fn budget_for<'a>(&'a self, principal: &'a Principal) -> Option<BudgetAccess<'a>> {
        self.budget
            .as_deref()
            .map(|peer| BudgetAccess { peer, principal })
    }

    /// The stored response of `call` when it was already carried out: a retry asks no peer.
    pub(super) async fn replayed<T: Message + Default>(
        &self,
        call: &Call,
    ) -> Result<Option<Response<T>>, Status> {
        crate::grpc::require_request_id(&call.request_id)?;
        match self.db.replay::<RunError>(call).await? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some),
        }
    }

    /// Runs `effect` once per (caller, request id) of `call` and decodes the response it stored.
    pub(super) async fn write<T, F>(&self, call: &Call, effect: F) -> Result<Response<T>, Status>
    where
        T: Message + Default,
        F: for<'t> FnOnce(UnitOfWork<'t>) -> Effect<'t, RunError>,
    {
        crate::grpc::require_request_id(&call.request_id)?;
        let done = self.db.run_once(call, effect).await?;
        decode(done.response())
    }

    /// The run `run_id`, which must belong to `region` or a region inside it.
    pub(super) async fn run_in(&self, region: RegionCode, run_id: &str) -> Result<RunRow, Status> {
        let (from, to) = region_span(region);
        // Another region's run is answered exactly like a run never stored.
        store::get_run(&self.db, run_id)
            .await
            .map_err(storage_failure)?
            .filter(|run| (from..=to).contains(&run.region_code))
            .ok_or_else(|| run_not_found(run_id, region))
    }

    pub(super) async fn dispute(
        &self,
        principal: &Principal,
        region: RegionCode,
        request: &impl Message,
        (request_id, run_id, hospital_code): (&str, &str, &str),
        action: DisputeAction,
    ) -> Result<pb::Dispute, Status> {
        let run = self.run_in(region, run_id).await?;
        let actor = principal.caller_id.clone();
        let run_id = run_id.to_owned();
        let hospital_code = hospital_code.to_owned();
        let issued_at = run.created_at;
        let call = call_by(principal, action.method(), request, request_id, region);
        let response: Response<pb::Dispute> = self
            .write(&call, move |work| {
                Box::pin(async move {
                    let row = disputes::dispute_step(
                        &work,
                        &run_id,
                        &hospital_code,
                        &actor,
                        action,
                        wire::unix_seconds(),
                    )
                    .await?;
                    let dispute = to_wire::dispute(&row, issued_at)
                        .map_err(|status| RunError::Internal(status.message().to_owned()))?;
                    let detail = format!("{run_id}/{hospital_code}: {}", row.dispute_state);
                    Ok((dispute.encode_to_vec(), detail))
                })
            })
            .await?;
        Ok(response.into_inner())
    }
}

pub(super) fn decode<T: Message + Default>(bytes: &[u8]) -> Result<Response<T>, Status> {
    T::decode(bytes).map(Response::new).map_err(storage_failure)
}

pub(super) fn wire_failure(status: Status) -> RunError {
    RunError::Internal(status.message().to_owned())
}

/// A stored run's totals for the wire, and how many statements it has.
pub(super) fn run_totals(run: &RunRow) -> Result<(Option<pb::RunTotals>, u32), RunError> {
    let totals = to_wire::totals(&run.totals_json).map_err(wire_failure)?;
    let statements = totals.as_ref().map_or(0, |t| t.hospitals);
    Ok((totals, statements))
}

/// A hospital principal (role `hospital`) acts only for the institution its key names.
pub(super) fn check_hospital(principal: &Principal, hospital_code: &str) -> Result<(), Status> {
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
