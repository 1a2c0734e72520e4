//! The supervision service over real gRPC, reading cases from a settlement internal server that
//! streams canned stored lists: screening runs, their findings, reruns, scopes and reviews.

mod ambulatory;
mod assessment;
mod credit_policy;
mod deductions;
mod fake_settlement;
mod indicators;
mod lifecycle;
mod parameters;
mod period_reports;
mod public_deductions;
mod responses;
mod review;
mod rules;
mod screening;
mod upcoding;

use std::sync::Arc;

use medpay_proto::common::v1 as common;
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use platform::testing::{as_caller, serve, sqlite};
use supervision_domain::{ParameterBook, ParameterSet, RuleId};
use supervision_service::store::SupervisionStore;
use supervision_service::{GrpcCases, Migrator, SupervisionApi, Tables};
use tonic::transport::Channel;

use fake_settlement::FakeSettlement;

pub const HAIKOU: &str = "460100";
pub const SANYA: &str = "460200";

/// Haikou runs only rules 2 (readmission within 15 days) and 10 (duplicate charging) from 2026.
pub fn haikou_policy() -> ParameterBook {
    let mut set = ParameterSet::new(HAIKOU.parse().expect("region"), 2026);
    for rule in RuleId::ALL {
        if ![RuleId::Readmission15Days, RuleId::DuplicateCharging].contains(rule) {
            set.disabled.insert(*rule);
        }
    }
    ParameterBook { sets: vec![set] }
}

/// A client of the public supervision contract.
pub type Client = SupervisionServiceClient<Channel>;

/// A supervision server whose cases come from `settlement` over gRPC.
pub async fn supervision(settlement: FakeSettlement) -> SupervisionServiceClient<Channel> {
    let settlement_channel = serve(tonic::service::Routes::new(settlement.into_server())).await;
    let cases = GrpcCases::new(settlement_channel, None).expect("case source");
    let api = SupervisionApi::new(
        SupervisionStore::new(sqlite::<Migrator>().await),
        Arc::new(cases),
        Tables::demo().expect("demo tables"),
    )
    .with_parameters(haikou_policy());
    SupervisionServiceClient::new(serve(tonic::service::Routes::new(api.into_server())).await)
}

/// The Haikou agency, with every role screening and review need.
pub fn agency<T>(message: T) -> tonic::Request<T> {
    as_caller(message, "agency-haikou", HAIKOU, &["run", "read", "review"])
}

pub fn screen_request(request_id: &str) -> pb::ScreenCasesRequest {
    pb::ScreenCasesRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        year: 2026,
        month: 3,
    }
}

/// Findings of March 2026 in Haikou, of the latest run or of `run_version`.
pub fn march(run_version: i32) -> pb::ListFindingsRequest {
    pb::ListFindingsRequest {
        region_code: HAIKOU.into(),
        period: Some(common::YearMonth {
            year: 2026,
            month: 3,
        }),
        run_version,
        page_size: 100,
        ..Default::default()
    }
}

pub async fn findings(
    client: &mut SupervisionServiceClient<Channel>,
    request: pb::ListFindingsRequest,
) -> Vec<pb::Finding> {
    client
        .list_findings(agency(request))
        .await
        .expect("list findings")
        .into_inner()
        .findings
}

/// (rule number, list id, other list id, item) of each finding.
pub fn summary(findings: &[pb::Finding]) -> Vec<(u32, String, String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f.rule_number,
                f.list_id.clone(),
                f.other_list_id.clone(),
                f.item_code.clone(),
            )
        })
        .collect()
}
