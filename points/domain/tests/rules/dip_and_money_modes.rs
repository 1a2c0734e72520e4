//! DIP scores, per diem, day surgery, fixed rates, fee-for-service (DOMAIN.md §3).

use crate::common::*;
use points_domain::point_value::points_amount;
use points_domain::policy::BelowStandard;
use points_domain::tables::PerDiemProgramme;
use points_domain::{
    CaseType, GroupStatus, HospitalLevel, ModeRule, PaymentMode, PointValue, valuate,
};
use rust_decimal_macros::dec;

fn ten() -> PointValue {
    PointValue {
        exact: dec!(10),
        published: dec!(10.0000),
        decimal_places: 4,
    }
}

fn value(cost: &str) -> points_domain::Valuation {
    valuate(&dip_policy(), &tables(), &dip_case(cost)).expect("valued")
}

#[test]
fn worked_example_normal_high_low() {
    let normal = value("12000");
    assert_eq!(normal.decision.mode, PaymentMode::Dip);
    assert_eq!(normal.case_type, CaseType::Normal);
    assert_eq!(normal.points, points("1200"));
    assert_eq!(points_amount(normal.points, &ten()), money("12000"));

    // (2.5 − 2 + 1) × 1200 = 1800 → 18,000.
    let high = value("30000");
    assert_eq!(high.case_type, CaseType::HighCost);
    assert_eq!(high.points, points("1800"));
    assert_eq!(points_amount(high.points, &ten()), money("18000"));

    // 4000/12000 × 1200 = 400 → 4,000.
    let low = value("4000");
    assert_eq!(low.case_type, CaseType::LowCost);
    assert_eq!(low.points, points("400"));
    assert_eq!(points_amount(low.points, &ten()), money("4000"));
}

#[test]
fn bands_both_sides() {
    // Strict by default: exactly 2 × ref and exactly 0.5 × ref are normal.
    assert_eq!(value("24000").case_type, CaseType::Normal);
    assert_eq!(value("24000.01").case_type, CaseType::HighCost);
    assert_eq!(value("6000").case_type, CaseType::Normal);
    assert_eq!(value("5999.99").case_type, CaseType::LowCost);
    // Extreme: exactly 5 × ref is high without review; above it goes to expert review.
    let at_five = value("60000");
    assert_eq!(at_five.case_type, CaseType::HighCost);
    assert!(!at_five.requires_expert_review);
    let extreme = value("60000.01");
    assert!(extreme.requires_expert_review);

    let mut inclusive = dip_policy();
    inclusive.dip.high_strict = false;
    inclusive.dip.low_strict = false;
    let at_two = valuate(&inclusive, &tables(), &dip_case("24000")).expect("valued");
    assert_eq!(at_two.case_type, CaseType::HighCost);
    assert_eq!(at_two.points, points("1200"));
    let at_half = valuate(&inclusive, &tables(), &dip_case("6000")).expect("valued");
    assert_eq!(at_half.case_type, CaseType::LowCost);
    assert_eq!(at_half.points, points("600"));
}

#[test]
fn level_and_auxiliary_coefficients_multiply() {
    let mut case = dip_case("12000");
    case.hospital_level = HospitalLevel::Tertiary3A;
    case.grouping.dip_aux_coefficient = Some(dec!(1.1));
    let valued = valuate(&dip_policy(), &tables(), &case).expect("valued");
    // 1200 × 1 × 1.2 × 1.1
    assert_eq!(valued.points, points("1584"));
    assert_eq!(valued.coefficient, dec!(1.2));
    assert_eq!(valued.aux_coefficient, dec!(1.1));
}

#[test]
fn basic_level_disease_uses_one_coefficient() {
    let mut policy = dip_policy();
    policy.modes.basic_level.group_codes = vec!["K35.8:47.01".into()];
    let mut case = dip_case("12000");
    case.hospital_level = HospitalLevel::Tertiary3A;
    let valued = valuate(&policy, &tables(), &case).expect("valued");
    assert_eq!(valued.decision.mode, PaymentMode::BasicLevel);
    assert_eq!(valued.case_type, CaseType::BasicLevel);
    // 1200 × 1.05 (the table's 2A coefficient) whatever the hospital's level.
    assert_eq!(valued.points, points("1260"));
    // The coefficient is the table's: a table with 2A at 1.10 gives 1200 × 1.10 = 1320, also to
    // a community hospital, whose own level coefficient (0.8) does not apply.
    let mut corrected = tables();
    corrected
        .coefficients
        .dip_levels
        .insert(HospitalLevel::Secondary2A, "1.10".parse().expect("decimal"));
    case.hospital_level = HospitalLevel::Community;
    let valued = valuate(&policy, &corrected, &case).expect("valued");
    assert_eq!(valued.points, points("1320"));
    assert_eq!(valued.coefficient, "1.10".parse().expect("decimal"));
    // A policy stored with its own coefficient may not drift from the table: equal is accepted,
    // different is refused with both numbers.
    policy.modes.basic_level.coefficient = Some("1.05".parse().expect("decimal"));
    assert_eq!(
        valuate(&policy, &tables(), &case).expect("valued").points,
        points("1260")
    );
    let error = valuate(&policy, &corrected, &case).expect_err("drifted");
    assert_eq!(error.reason(), "BASIC_LEVEL_COEFFICIENT_DIFFERS");
    assert!(error.to_string().contains("1.05") && error.to_string().contains("1.10"));
}

#[test]
fn basic_level_disease_uses_one_reference_at_every_level() {
    // The table: K35.8:47.01 has a same-level reference of 12,000 at every level and a
    // basic-level reference (last year's 2A and 2B mean) of 10,000; basic-level cases are
    // measured against the 10,000 whatever the hospital's level (DOMAIN.md §5 Hainan).
    let mut policy = dip_policy();
    policy.modes.basic_level.group_codes = vec!["K35.8:47.01".into()];
    let mut case = dip_case("25000");
    case.hospital_level = HospitalLevel::Tertiary3A;
    let valued = valuate(&policy, &tables(), &case).expect("valued");
    // 25,000 / 10,000 = 2.5 > 2: high, factor 2.5 − 2 + 1 = 1.5; 1200 × 1.5 × 1.05 = 1890
    // (against its own level's 12,000 the factor would be 1.0833…).
    assert_eq!(valued.case_type, CaseType::HighCost);
    assert_eq!(valued.cost_ratio, Some(dec!(2.5)));
    assert_eq!(valued.points, points("1890"));
    // Community hospital, 4,900: 0.49 < 0.5, low: 1200 × 0.49 × 1.05 = 617.4.
    case.hospital_level = HospitalLevel::Community;
    case.total_cost = money("4900");
    let valued = valuate(&policy, &tables(), &case).expect("valued");
    assert_eq!(valued.case_type, CaseType::LowCost);
    assert_eq!(valued.points, points("617.4"));
    // 5,500 is 0.55 of the basic-level reference, normal (0.458 of the level's 12,000 would
    // have been low): 1200 × 1.05 = 1260.
    case.total_cost = money("5500");
    let valued = valuate(&policy, &tables(), &case).expect("valued");
    assert_eq!(valued.case_type, CaseType::BasicLevel);
    assert_eq!(valued.points, points("1260"));
    // The same stay outside the basic-level list keeps its own level's reference: low,
    // 1200 × 5500/12000 × 0.8 (community) = 440.
    let valued = valuate(&dip_policy(), &tables(), &case).expect("valued");
    assert_eq!(valued.case_type, CaseType::LowCost);
    assert_eq!(valued.points, points("440"));
    // A table without the basic-level reference refuses the case, naming the group.
    let mut bare = tables();
    if let Some(row) = bare.dip.groups.get_mut("K35.8:47.01") {
        row.basic_level_reference = None;
    }
    let error = valuate(&policy, &bare, &case).expect_err("no basic-level reference");
    assert_eq!(error.reason(), "NO_BASIC_LEVEL_REFERENCE");
    assert!(error.to_string().contains("K35.8:47.01"));
}

#[test]
fn score_zero_and_ungroupable_are_paid_at_cost() {
    let mut case = dip_case("8000");
    case.grouping.group_code = "ZERO".into();
    let valued = valuate(&dip_policy(), &tables(), &case).expect("valued");
    assert_eq!(valued.case_type, CaseType::PaidAtCost);
    assert_eq!(valued.amount, Some(money("8000")));
    case.grouping.group_code = "0000".into();
    case.grouping.status = GroupStatus::Ungroupable;
    let ungroupable = valuate(&dip_policy(), &tables(), &case).expect("valued");
    assert_eq!(ungroupable.case_type, CaseType::Ungroupable);
    // A group neither in the table nor scored by the grouper is an error.
    let mut unknown = dip_case("8000");
    unknown.grouping.group_code = "X99".into();
    let error = valuate(&dip_policy(), &tables(), &unknown).expect_err("no score");
    assert_eq!(error.reason(), "MISSING_DIP_SCORE");
}

fn psychiatric(days: i32) -> points_domain::CaseForValuation {
    let mut case = dip_case("20000");
    case.hospital_level = HospitalLevel::Secondary2A;
    case.principal_diagnosis = "F20.000".into();
    case.admission_date = date("2025-01-01");
    case.discharge_date = case.admission_date.add_days(days);
    case
}

#[test]
fn per_diem_worked_example_9730() {
    // Level 2, 70 days: 150 × 56 + 95 × 14 = 9,730.
    let case = psychiatric(70);
    assert_eq!(case.length_of_stay(), 70);
    let valued = valuate(&dip_policy(), &tables(), &case).expect("valued");
    assert_eq!(
        valued.decision.mode,
        PaymentMode::PerDiem(PerDiemProgramme::Psychiatric)
    );
    assert_eq!(valued.decision.rule, ModeRule::Psychiatric);
    assert_eq!(valued.amount, Some(money("9730")));
    let days: Vec<u32> = valued.per_diem_days.iter().map(|p| p.days).collect();
    assert_eq!(days, [56, 14]);
}

#[test]
fn psychiatric_acute_limit_both_sides() {
    // 56 days: acute phase, paid by disease group under the main method.
    let acute = valuate(&dip_policy(), &tables(), &psychiatric(56)).expect("valued");
    assert_eq!(acute.decision.mode, PaymentMode::Dip);
    assert_eq!(acute.decision.rule, ModeRule::Psychiatric);
    // 57 days: per diem, 150 × 56 + 95 × 1.
    let stable = valuate(&dip_policy(), &tables(), &psychiatric(57)).expect("valued");
    assert_eq!(stable.amount, Some(money("8495")));
    // Days accumulate across a readmission: 10 prior days + 50 → days 11..60.
    let mut readmitted = psychiatric(50);
    readmitted.prior_episode_days = 10;
    let continued = valuate(&dip_policy(), &tables(), &readmitted).expect("valued");
    // days 11..56 acute (46 × 150) + 57..60 chronic (4 × 95)
    assert_eq!(continued.amount, Some(money("7280")));
    // Beyond 180 days: long-term phase.
    let long = valuate(&dip_policy(), &tables(), &psychiatric(200)).expect("valued");
    assert_eq!(
        long.amount,
        Some(money("21380")) // 56 × 150 + 124 × 95 + 20 × 60
    );
}

#[test]
fn per_diem_below_standard_can_pay_actual_cost() {
    let mut policy = dip_policy();
    policy.per_diem.below_standard = BelowStandard::PayActualCost;
    let mut case = psychiatric(70);
    case.total_cost = money("9000");
    assert_eq!(
        valuate(&policy, &tables(), &case).expect("valued").amount,
        Some(money("9000"))
    );
    // Default: the standard is paid.
    assert_eq!(
        valuate(&dip_policy(), &tables(), &case)
            .expect("valued")
            .amount,
        Some(money("9730"))
    );
}

#[test]
fn rehabilitation_by_department_and_hospice_by_diagnosis() {
    let mut rehab = dip_case("5000");
    rehab.hospital_level = HospitalLevel::Secondary2A;
    rehab.department = "A21".into();
    let valued = valuate(&dip_policy(), &tables(), &rehab).expect("valued");
    assert_eq!(
        valued.decision.mode,
        PaymentMode::PerDiem(PerDiemProgramme::Rehabilitation)
    );
    assert_eq!(valued.amount, Some(money("1500")));
    let mut hospice = dip_case("5000");
    hospice.hospital_level = HospitalLevel::Secondary2A;
    hospice.principal_diagnosis = "Z51.500".into();
    let valued = valuate(&dip_policy(), &tables(), &hospice).expect("valued");
    assert_eq!(
        valued.decision.mode,
        PaymentMode::PerDiem(PerDiemProgramme::Hospice)
    );
    // No standard for the level is an error naming it.
    hospice.hospital_level = HospitalLevel::Tertiary3A;
    let error = valuate(&dip_policy(), &tables(), &hospice).expect_err("no standard");
    assert_eq!(error.reason(), "NO_PER_DIEM_STANDARD");
}

#[test]
fn day_surgery_within_hours_and_fixed_rate() {
    let mut policy = dip_policy();
    policy.modes.day_surgery.procedure_codes = vec!["13.41".into()];
    let mut case = dip_case("6000");
    case.principal_procedure = Some("13.4100x001".into());
    case.stay_hours = Some(48);
    let valued = valuate(&policy, &tables(), &case).expect("valued");
    assert_eq!(valued.decision.mode, PaymentMode::DaySurgery);
    assert_eq!(valued.case_type, CaseType::DaySurgery);
    assert_eq!(valued.amount, Some(money("4200")));
    case.stay_hours = Some(49);
    assert_eq!(
        valuate(&policy, &tables(), &case)
            .expect("valued")
            .decision
            .mode,
        PaymentMode::Dip
    );

    policy.modes.fixed_rate.diagnosis_prefixes = vec!["O80".into()];
    let mut birth = dip_case("3500");
    birth.hospital_level = HospitalLevel::Secondary2A;
    birth.principal_diagnosis = "O80.000".into();
    let valued = valuate(&policy, &tables(), &birth).expect("valued");
    assert_eq!(valued.case_type, CaseType::FixedRate);
    assert_eq!(valued.amount, Some(money("2800")));
}

#[test]
fn prior_episode_days_carry_a_psychiatric_stay_across_day_56() {
    let policy = dip_policy();
    // A 10-day readmission after 46 days of the episode: days 47..56, still acute, paid by its
    // DIP group, and it belongs to the psychiatric programme.
    let mut acute = psychiatric(10);
    acute.prior_episode_days = 46;
    let valued = valuate(&policy, &tables(), &acute).expect("valued");
    assert_eq!(valued.decision.mode, PaymentMode::Dip);
    assert_eq!(valued.decision.rule, ModeRule::Psychiatric);
    assert_eq!(
        valued.episode_programme,
        Some(PerDiemProgramme::Psychiatric)
    );
    // After 47 days: days 48..57 pass the acute limit, the whole stay is per diem:
    // 9 × 150 (days 48..56) + 1 × 95 (day 57) = 1,445.00.
    acute.prior_episode_days = 47;
    let valued = valuate(&policy, &tables(), &acute).expect("valued");
    assert_eq!(
        valued.decision.mode,
        PaymentMode::PerDiem(PerDiemProgramme::Psychiatric)
    );
    assert_eq!(valued.amount, Some(money("1445")));
    let days: Vec<u32> = valued.per_diem_days.iter().map(|p| p.days).collect();
    assert_eq!(days, [9, 1]);
    // A same-day stay bills one day: after 56 days it is day 57, per diem at 95.00.
    let mut same_day = psychiatric(0);
    same_day.prior_episode_days = 56;
    let valued = valuate(&policy, &tables(), &same_day).expect("valued");
    assert_eq!(valued.amount, Some(money("95")));
    // Not psychiatric: no programme.
    let other = valuate(&policy, &tables(), &dip_case("5000")).expect("valued");
    assert_eq!(other.episode_programme, None);
}

#[test]
fn per_diem_days_continue_from_the_prior_episode_days() {
    let policy = dip_policy();
    // The readmission continues the episode: 40 + 20 days crosses the acute limit.
    let mut later = psychiatric(20);
    later.list_id = "L0002".into();
    later.prior_episode_days = 40;
    let valued = valuate(&policy, &tables(), &later).expect("valued");
    assert_eq!(
        valued.decision.mode,
        PaymentMode::PerDiem(PerDiemProgramme::Psychiatric)
    );
    // Days 41..60: 16 × 150 + 4 × 95.
    assert_eq!(valued.amount, Some(money("2780")));
}

#[test]
fn chronic_per_capita_by_disease() {
    let mut tables = tables();
    tables
        .per_capita
        .chronic_diseases
        .insert("I10".into(), money("600"));
    tables
        .per_capita
        .chronic_diseases
        .insert("E11".into(), money("900"));
    let patients = [("I10".to_owned(), 120_u64), ("E11".to_owned(), 80)].into();
    assert_eq!(
        points_domain::chronic_per_capita_budget(&tables.per_capita, &patients).expect("budget"),
        money("144000")
    );
    let unknown = [("N18".to_owned(), 1_u64)].into();
    let error = points_domain::chronic_per_capita_budget(&tables.per_capita, &unknown)
        .expect_err("no rate");
    assert_eq!(error.reason(), "NO_CHRONIC_RATE");
}
