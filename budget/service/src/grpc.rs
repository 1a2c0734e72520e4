//! The `medpay.budget.v1` server: scope checks, proto ↔ domain conversion, status codes.

use medpay_proto::budget::v1 as pb;
use medpay_proto::budget::v1::budget_service_server::BudgetService;
use platform::principal::authorize_request;
use platform::status::{not_yet, storage_failure};
use platform::wire;
use tonic::{Request, Response, Status};

use crate::store::{BudgetStore, StoredBudget};

/// The budget gRPC API over a store.
#[derive(Clone)]
pub struct BudgetApi {
    store: BudgetStore,
}

impl BudgetApi {
    pub fn new(store: BudgetStore) -> Self {
        Self { store }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::budget_service_server::BudgetServiceServer<Self> {
        pb::budget_service_server::BudgetServiceServer::new(self)
    }
}

fn to_wire(budget: StoredBudget) -> pb::Budget {
    pb::Budget {
        region_code: budget.region.to_string(),
        year: budget.year,
        fund_type: wire::fund_type_to_wire(budget.fund),
        version: budget.version,
        mode: match budget.mode.as_str() {
            "regional_points" => pb::BudgetMode::RegionalPoints as i32,
            "hospital_caps" => pb::BudgetMode::HospitalCaps as i32,
            _ => pb::BudgetMode::Unspecified as i32,
        },
        total: Some(wire::money_to_wire(budget.total)),
        document_json: budget.document_json,
        reason: budget.reason,
        created_by: budget.created_by,
    }
}

#[tonic::async_trait]
impl BudgetService for BudgetApi {
    async fn create_budget(
        &self,
        _request: Request<pb::CreateBudgetRequest>,
    ) -> Result<Response<pb::CreateBudgetResponse>, Status> {
        Err(not_yet("CreateBudget"))
    }

    async fn adjust_budget(
        &self,
        _request: Request<pb::AdjustBudgetRequest>,
    ) -> Result<Response<pb::AdjustBudgetResponse>, Status> {
        Err(not_yet("AdjustBudget"))
    }

    async fn get_budget(
        &self,
        request: Request<pb::GetBudgetRequest>,
    ) -> Result<Response<pb::GetBudgetResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let version = (body.version > 0).then_some(body.version);
        let budget = self
            .store
            .get(region, year, fund, version)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no budget for region {region}, {year}, fund {fund}"
                ))
            })?;
        Ok(Response::new(pb::GetBudgetResponse {
            budget: Some(to_wire(budget)),
        }))
    }

    async fn list_budgets(
        &self,
        _request: Request<pb::ListBudgetsRequest>,
    ) -> Result<Response<pb::ListBudgetsResponse>, Status> {
        Err(not_yet("ListBudgets"))
    }

    async fn allocate(
        &self,
        _request: Request<pb::AllocateRequest>,
    ) -> Result<Response<pb::AllocateResponse>, Status> {
        Err(not_yet("Allocate"))
    }

    async fn get_quotas(
        &self,
        _request: Request<pb::GetQuotasRequest>,
    ) -> Result<Response<pb::GetQuotasResponse>, Status> {
        Err(not_yet("GetQuotas"))
    }

    async fn put_sharing_policy(
        &self,
        _request: Request<pb::PutSharingPolicyRequest>,
    ) -> Result<Response<pb::PutSharingPolicyResponse>, Status> {
        Err(not_yet("PutSharingPolicy"))
    }

    async fn compute_sharing(
        &self,
        _request: Request<pb::ComputeSharingRequest>,
    ) -> Result<Response<pb::ComputeSharingResponse>, Status> {
        Err(not_yet("ComputeSharing"))
    }
}
