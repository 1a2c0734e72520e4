//! Case-ledger and month-calendar storage on every backend of the harness, a module per subject.

use kernel::{FundType, Money, Points, RegionCode};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::store::ledger::LedgerCase;

mod calendar;
mod ledger;
mod pages;
mod point_values;
mod warnings;

/// Enough rows for every listing of these tests, in one page.
const ALL: u64 = 50;

fn region(code: &str) -> RegionCode {
    code.parse().expect("region code")
}

fn case(county: &str, hospital: &str, list_id: &str, version: i32, discharge: i32) -> LedgerCase {
    LedgerCase {
        region: region(county),
        hospital_code: hospital.into(),
        list_id: list_id.into(),
        version,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        discharge_date: discharge,
        payment_mode: "drg".into(),
        group_code: "GB13".into(),
        points: Points::from_scaled(1_575_000 + i64::from(version)),
        total_cost: Money::from_fen(1_500_000),
        individual_burden: Money::from_fen(300_000),
        fund_amount: Money::from_fen(1_200_000),
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
        content_hash: format!("{hospital}-{list_id}-{version}"),
        case_json: "{}".into(),
        request_id: "r1".into(),
        stored_at: 1_700_000_000,
        head: None,
    }
}
