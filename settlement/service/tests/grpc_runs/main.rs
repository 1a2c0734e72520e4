//! SettlementRunService over a real socket: policy, year inputs, prepayment and month close,
//! year-end clearing (identity to the fen, byte-identical re-runs, versions, replay), statements
//! and their exports, disputes with the hospital's own-statement rule, shadow settlement.

use kernel::{Decimal, FundType, Money, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use platform::testing;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::runs::export::sha256_hex;
use settlement_service::store::case_clearing::settlement_case_clearing;
use settlement_service::store::institutions::{self, InstitutionRow};
use settlement_service::store::ledger::{CaseStore, LedgerCase};
use settlement_service::{Migrator, SettlementRunApi};
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

mod budget_point_value;
mod deductions;
mod disputes;
mod main_method;
mod readmission;
mod regions;
mod runs;
mod typed_policy;
mod unvalued;

const REGION: &str = "460100";
const FUND: i32 = 310;

struct Server {
    client: SettlementRunServiceClient<Channel>,
    db: DatabaseConnection,
}

async fn start() -> Server {
    let db = testing::sqlite::<Migrator>().await;
    let api = SettlementRunApi::new(db.clone());
    let channel = testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Server {
        client: SettlementRunServiceClient::new(channel),
        db,
    }
}

/// [`start`], with the ledger holding [`seed_cases`].
async fn start_seeded() -> Server {
    let server = start().await;
    CaseStore::insert_new_many(&server.db, &seed_cases())
        .await
        .expect("seed");
    server
}

/// The run `run_id` as the agency reads it.
async fn run_of(server: &mut Server, run_id: &str) -> Option<pb::Run> {
    server
        .client
        .get_run(as_agency(pb::GetRunRequest {
            region_code: REGION.into(),
            run_id: run_id.to_owned(),
        }))
        .await
        .expect("get")
        .into_inner()
        .run
}

/// A request of `caller` with `role`, acting for `scope`.
fn as_principal_in<T>(scope: &str, message: T, caller: &str, role: &str) -> Request<T> {
    let mut principal = testing::principal(caller, scope, &[role]);
    // A hospital's key names its institution; the tests' hospital callers are named by code.
    principal.institution = (role == "hospital").then(|| caller.to_owned());
    testing::as_principal(message, &principal)
}

fn as_principal<T>(message: T, caller: &str, role: &str) -> Request<T> {
    as_principal_in(REGION, message, caller, role)
}

fn as_agency<T>(message: T) -> Request<T> {
    as_principal(message, "agency-460100", "agency")
}

fn money(yuan: &str) -> Option<common::Money> {
    Some(common::Money { yuan: yuan.into() })
}

fn decimal(value: &str) -> Option<common::Decimal> {
    Some(common::Decimal {
        value: value.into(),
    })
}

fn parse_money(value: Option<&common::Money>) -> Money {
    value.expect("money").yuan.parse().expect("money")
}

fn region(code: &str) -> RegionCode {
    code.parse().expect("region")
}

/// Cases of three hospitals over 2025, with uneven points and burdens so rounding matters;
/// one fee-for-service case outside points.
fn seed_cases() -> Vec<LedgerCase> {
    let mut cases = Vec::new();
    for (h, hospital) in ["H001", "H002", "H003"].iter().enumerate() {
        for n in 0..40_i64 {
            let month = 1 + n % 12;
            let h = h as i64;
            cases.push(LedgerCase {
                region: region("460108"),
                hospital_code: (*hospital).into(),
                list_id: format!("L{n:04}"),
                version: 1,
                record_kind: RecordKind::Inpatient,
                fund: FundType::Employee,
                discharge_date: i32::try_from(20250000 + month * 100 + 1 + n % 27).expect("date"),
                payment_mode: if n == 7 { "fee_for_service" } else { "drg" }.into(),
                group_code: format!("GB1{}", n % 3),
                points: Points::from_scaled(if n == 7 {
                    0
                } else {
                    1_000_000 + 3_337 * n + 71 * h
                }),
                total_cost: Money::from_fen(1_500_000 + 13 * n),
                individual_burden: Money::from_fen(300_000 + 7 * n + h),
                fund_amount: Money::from_fen(1_200_000 + 11 * n - h),
                amount: None,
                person_id: String::new(),
                admission_date: 0,
                planned_readmission: false,
                episode_programme: String::new(),
                prior_episode_days: 0,
                status: LedgerStatus::Valued,
                valuation_error: String::new(),
                scheme_version: "demo@1".into(),
                table_version: "460100-2025-310@1".into(),
                valuation_json: "{}".into(),
                content_hash: format!("{hospital}-{n}"),
                case_json: "{}".into(),
                request_id: "seed".into(),
                stored_at: 1_700_000_000,
                head: None,
            });
        }
    }
    cases
}

/// Registers an institution in `region`.
async fn register(db: &DatabaseConnection, code: &str, region_code: &str) {
    institutions::put_institution(
        db,
        &InstitutionRow {
            code: code.into(),
            name: format!("Hospital {code}"),
            region: region(region_code),
            level: "3A".into(),
            institution_type: "general".into(),
            alliance_code: String::new(),
            effective_from: 20200101,
            reason: String::new(),
        },
        "setup",
    )
    .await
    .expect("institution");
}

fn clearing(request_id: &str, reason: &str) -> pb::RunClearingRequest {
    pb::RunClearingRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        distributable_budget: money("1234567.89"),
        reason: reason.into(),
        skip_unvalued: false,
    }
}

async fn export(server: &mut Server, run_id: &str, format: pb::ExportFormat) -> Vec<u8> {
    server
        .client
        .export_statements(as_agency(pb::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            format: format.into(),
        }))
        .await
        .expect("export")
        .into_inner()
        .content
}
