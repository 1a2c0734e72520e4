//! Batch valuation. (The 15-day readmission halving spans a person's stays, so settlement
//! applies it: settlement_domain::readmission.)

use crate::common::*;
use points_domain::{valuate, valuate_all};

#[test]
fn batch_reports_every_bad_record() {
    let good = drg_case("15000");
    let mut negative = drg_case("-1");
    negative.list_id = "L0002".into();
    let mut reversed = drg_case("15000");
    reversed.list_id = "L0003".into();
    reversed.discharge_date = reversed.admission_date.add_days(-1);
    let duplicate = drg_case("16000");
    let mut other_hospital_same_list = drg_case("15000");
    other_hospital_same_list.hospital_code = "H2".into();
    let mut wrong_scheme = dip_case("15000");
    wrong_scheme.list_id = "L0004".into();

    let batch = valuate_all(
        &drg_policy(),
        &tables(),
        &[
            good,
            negative,
            reversed,
            duplicate,
            other_hospital_same_list,
            wrong_scheme,
        ],
    );
    let reasons: Vec<(usize, &str)> = batch.errors().map(|e| (e.index, e.reason())).collect();
    assert_eq!(
        reasons,
        [
            (1, "NEGATIVE_AMOUNT"),
            (2, "DISCHARGE_BEFORE_ADMISSION"),
            (3, "DUPLICATE_CASE"),
            (5, "SCHEME_MISMATCH"),
        ]
    );
    let valued: Vec<usize> = batch.valued().map(|(index, _)| index).collect();
    assert_eq!(valued, [0, 4]);
    let message = batch.errors().next().map(ToString::to_string);
    assert_eq!(
        message.as_deref(),
        Some("record 1 (hospital H1, list L0002): total_cost is -1.00, it must not be negative")
    );
}

#[test]
fn policy_and_tables_must_match_and_fund_must_match() {
    let mut other = drg_policy();
    other.year = 2026;
    let error = valuate(&other, &tables(), &drg_case("15000")).expect_err("mismatch");
    assert_eq!(error.reason(), "TABLES_DO_NOT_MATCH_POLICY");
    let mut resident = drg_case("15000");
    resident.fund_type = kernel::FundType::Resident;
    let error = valuate(&drg_policy(), &tables(), &resident).expect_err("mismatch");
    assert_eq!(error.reason(), "FUND_TYPE_MISMATCH");
    let mut bad_type = drg_case("15000");
    bad_type.discharge_type = 7;
    let error = valuate(&drg_policy(), &tables(), &bad_type).expect_err("bad type");
    assert_eq!(error.reason(), "UNKNOWN_DISCHARGE_TYPE");
}
