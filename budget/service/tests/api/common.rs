//! A budget server on a real socket, and the budget documents and requests the tests send.

use budget_domain::{
    BlockKind, BlockShare, BlockSplit, BudgetBasis, BudgetDocument, BudgetMode, BudgetPolicy,
};
use budget_service::store::BudgetStore;
use budget_service::{BudgetApi, Migrator};
use kernel::{Decimal, FundType, Money};
use medpay_proto::budget::internal::v1::budget_internal_service_client::BudgetInternalServiceClient;
use medpay_proto::budget::v1 as pb;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1::{FundType as WireFund, Money as WireMoney};
pub use platform::testing::{error_reason, violated_fields, with_role};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// A budget server with its public and internal services on one loopback socket.
pub struct Server {
    pub client: BudgetServiceClient<Channel>,
    pub internal: BudgetInternalServiceClient<Channel>,
    pub store: BudgetStore,
}

/// The calls the tests make most, each sent by the Hainan bureau (administrator for the audit
/// log) about the 460000 2025 employee budget.
impl Server {
    pub async fn create_budget(
        &mut self,
        request: pb::CreateBudgetRequest,
    ) -> Result<pb::CreateBudgetResponse, Status> {
        self.client
            .create_budget(hainan(request))
            .await
            .map(Response::into_inner)
    }

    pub async fn adjust_budget(
        &mut self,
        request: pb::AdjustBudgetRequest,
    ) -> Result<pb::AdjustBudgetResponse, Status> {
        self.client
            .adjust_budget(hainan(request))
            .await
            .map(Response::into_inner)
    }

    /// Version `version` of the budget, the latest for 0.
    pub async fn get_budget(&mut self, version: i32) -> Result<pb::Budget, Status> {
        let response = self
            .client
            .get_budget(hainan(pb::GetBudgetRequest {
                region_code: "460000".into(),
                year: 2025,
                fund_type: EMPLOYEE,
                version,
            }))
            .await?;
        Ok(response
            .into_inner()
            .budget
            .expect("a found budget is answered"))
    }

    pub async fn allocate(
        &mut self,
        request: pb::AllocateRequest,
    ) -> Result<pb::AllocateResponse, Status> {
        self.client
            .allocate(hainan(request))
            .await
            .map(Response::into_inner)
    }

    /// The twelve monthly quotas of `hospital_code`.
    pub async fn get_quotas(&mut self, hospital_code: &str) -> Result<Vec<WireMoney>, Status> {
        let response = self
            .client
            .get_quotas(hainan(pb::GetQuotasRequest {
                region_code: "460000".into(),
                year: 2025,
                fund_type: EMPLOYEE,
                hospital_code: hospital_code.into(),
            }))
            .await?;
        Ok(response.into_inner().monthly_quotas)
    }

    /// Puts `policy_json` as the region's 2025 sharing policy under `request_id`.
    pub async fn put_sharing_policy(
        &mut self,
        request_id: &str,
        policy_json: &str,
    ) -> Result<pb::PutSharingPolicyResponse, Status> {
        let response = self
            .client
            .put_sharing_policy(hainan(pb::PutSharingPolicyRequest {
                request_id: request_id.into(),
                region_code: "460000".into(),
                year: 2025,
                policy_json: policy_json.into(),
                policy: None,
            }))
            .await?;
        Ok(response.into_inner())
    }

    /// The audit entries `request` selects, read by an administrator of `scope`.
    pub async fn audit(
        &mut self,
        request: pb::ListAuditEntriesRequest,
        scope: &str,
    ) -> Result<pb::ListAuditEntriesResponse, Status> {
        let admin = with_role(request, "admin", scope, "admin");
        self.client
            .list_audit_entries(admin)
            .await
            .map(Response::into_inner)
    }
}

pub async fn start() -> Server {
    let store = BudgetStore::new(platform::testing::sqlite::<Migrator>().await);
    let api = BudgetApi::new(store.clone());
    let routes = tonic::service::Routes::new(api.clone().into_server())
        .add_service(api.into_internal_server());
    let channel = platform::testing::serve(routes).await;
    Server {
        client: BudgetServiceClient::new(channel.clone()),
        internal: BudgetInternalServiceClient::new(channel),
        store,
    }
}

pub fn as_caller<T>(message: T, scope: &str) -> Request<T> {
    with_role(message, "caller", scope, "bureau")
}

pub fn hainan<T>(message: T) -> Request<T> {
    as_caller(message, "460000")
}

pub const EMPLOYEE: i32 = WireFund::Employee as i32;

/// A hospital-cap budget of `yuan`, all inpatient, with the default 5 % adjustment reserve.
pub fn document(yuan: i64) -> BudgetDocument {
    BudgetDocument {
        region: "460000".parse().expect("code"),
        year: 2025,
        fund: FundType::Employee,
        mode: BudgetMode::HospitalCaps,
        basis: BudgetBasis::LastYearGrowth {
            last_year_spending: Money::from_yuan(yuan),
            growth_cap: Decimal::ZERO,
        },
        split: BlockSplit::Shares(vec![BlockShare {
            block: BlockKind::Inpatient,
            share: Decimal::ONE,
        }]),
        policy: BudgetPolicy::default(),
    }
}

pub fn create(request_id: &str, yuan: i64) -> pb::CreateBudgetRequest {
    pb::CreateBudgetRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        document_json: serde_json::to_string(&document(yuan)).expect("json"),
        ..Default::default()
    }
}

pub fn adjust(request_id: &str, yuan: i64, reason: &str) -> pb::AdjustBudgetRequest {
    pb::AdjustBudgetRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        document_json: serde_json::to_string(&document(yuan)).expect("json"),
        reason: reason.into(),
        document: None,
    }
}
