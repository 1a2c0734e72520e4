//! 15-day readmission halving and batch valuation.

use crate::common::*;
use points_domain::{StayKey, ValuedStay, apply_readmission, valuate, valuate_all};

fn earlier() -> ValuedStay {
    let case = drg_case("15000");
    let valued = valuate(&drg_policy(), &tables(), &case).expect("valued");
    ValuedStay::from_valuation(&case, &valued)
}

fn later(gap_days: i32) -> StayKey {
    let mut case = drg_case("15000");
    case.list_id = "L0002".into();
    case.admission_date = drg_case("1").discharge_date.add_days(gap_days);
    StayKey::of(&case)
}

#[test]
fn halved_on_day_15_not_on_day_16() {
    let halving = apply_readmission(&drg_policy(), &earlier(), &later(15)).expect("halved");
    assert_eq!(halving.points_before, points("157.5"));
    assert_eq!(halving.points_after, points("78.75"));
    assert_eq!(halving.gap_days, 15);
    assert!(apply_readmission(&drg_policy(), &earlier(), &later(16)).is_none());
    // Same-day readmission counts.
    assert!(apply_readmission(&drg_policy(), &earlier(), &later(0)).is_some());
}

#[test]
fn halving_rounds_again_half_away_from_zero() {
    let mut stay = earlier();
    stay.points = points("50.0001");
    let halving = apply_readmission(&drg_policy(), &stay, &later(3)).expect("halved");
    assert_eq!(halving.points_after, points("25.0001"));
}

#[test]
fn exempt_adrg_planned_flag_other_hospital_other_group() {
    let mut exempt = earlier();
    exempt.adrg = "RB1".into();
    assert!(apply_readmission(&drg_policy(), &exempt, &later(3)).is_none());

    let mut planned = earlier();
    planned.planned_readmission = true;
    assert!(apply_readmission(&drg_policy(), &planned, &later(3)).is_none());

    let mut other_hospital = later(3);
    other_hospital.hospital_code = "H2".into();
    assert!(apply_readmission(&drg_policy(), &earlier(), &other_hospital).is_none());

    let mut other_group = later(3);
    other_group.group_code = "LOW1".into();
    assert!(apply_readmission(&drg_policy(), &earlier(), &other_group).is_none());

    let mut same_stay = later(3);
    same_stay.list_id = "L0001".into();
    assert!(apply_readmission(&drg_policy(), &earlier(), &same_stay).is_none());
}

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
