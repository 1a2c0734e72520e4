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
use medpay_proto::common::v1::FundType as WireFund;
use tonic::Request;
use tonic::transport::Channel;

/// A budget server with its public and internal services on one loopback socket.
pub struct Server {
    pub client: BudgetServiceClient<Channel>,
    pub internal: BudgetInternalServiceClient<Channel>,
    pub store: BudgetStore,
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

pub fn with_role<T>(message: T, caller: &str, scope: &str, role: &str) -> Request<T> {
    platform::testing::as_caller(message, &format!("{caller}-{scope}"), scope, &[role])
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
    }
}
