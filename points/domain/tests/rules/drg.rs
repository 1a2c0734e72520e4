//! DRG points (DOMAIN.md §3): the worked example, every threshold on both sides, case-type order.

use crate::common::*;
use points_domain::{CaseType, GroupStatus, PaymentMode, SpecialCaseDecision, valuate};
use rust_decimal_macros::dec;

fn value(cost: &str) -> points_domain::Valuation {
    valuate(&drg_policy(), &tables(), &drg_case(cost)).expect("valued")
}

#[test]
fn worked_example_normal_high_low() {
    let normal = value("15000");
    assert_eq!(normal.decision.mode, PaymentMode::Drg);
    assert_eq!(normal.case_type, CaseType::Normal);
    assert_eq!(normal.points, points("157.5"));
    assert_eq!(normal.coefficient, dec!(1.05));

    // 40000/15000 ≥ 2 → 157.5 + 150 × (40000/15000 − 2) = 257.5; the ratio is not rounded first.
    let high = value("40000");
    assert_eq!(high.case_type, CaseType::HighCost);
    assert_eq!(high.points, points("257.5"));
    assert_eq!(high.points.to_string(), "257.5000");
    assert_eq!(high.cost_ratio, Some(dec!(40000) / dec!(15000)));
    assert_eq!(high.add_on.round_dp(10), dec!(100));

    // 5000/15000 ≤ 0.4 → 150 × 1/3 = 50, no coefficient.
    let low = value("5000");
    assert_eq!(low.case_type, CaseType::LowCost);
    assert_eq!(low.points, points("50"));
    assert_eq!(low.coefficient, dec!(1));
    assert_eq!(low.amount, None);
}

#[test]
fn high_threshold_both_sides() {
    // Exactly 2 × mean is high-cost when the policy says ≥ (default), with no add-on.
    let at = value("30000");
    assert_eq!(at.case_type, CaseType::HighCost);
    assert_eq!(at.points, points("157.5"));
    let below = value("29999.99");
    assert_eq!(below.case_type, CaseType::Normal);

    let mut strict = drg_policy();
    strict.drg.high_cost_inclusive = false;
    let at_strict = valuate(&strict, &tables(), &drg_case("30000")).expect("valued");
    assert_eq!(at_strict.case_type, CaseType::Normal);
    let above_strict = valuate(&strict, &tables(), &drg_case("30000.01")).expect("valued");
    assert_eq!(above_strict.case_type, CaseType::HighCost);
}

#[test]
fn low_threshold_both_sides() {
    // 0.4 × 15000 = 6000.
    let at = value("6000");
    assert_eq!(at.case_type, CaseType::LowCost);
    assert_eq!(at.points, points("60"));
    assert_eq!(value("6000.01").case_type, CaseType::Normal);

    let mut strict = drg_policy();
    strict.drg.low_cost_inclusive = false;
    let at_strict = valuate(&strict, &tables(), &drg_case("6000")).expect("valued");
    assert_eq!(at_strict.case_type, CaseType::Normal);
    let below_strict = valuate(&strict, &tables(), &drg_case("5999.99")).expect("valued");
    assert_eq!(below_strict.case_type, CaseType::LowCost);
}

#[test]
fn high_cost_multiple_tiers_both_sides() {
    let rules = drg_policy().drg;
    assert_eq!(rules.high_cost_multiple(dec!(100)), dec!(3));
    assert_eq!(rules.high_cost_multiple(dec!(100.0001)), dec!(2));
    assert_eq!(rules.high_cost_multiple(dec!(300)), dec!(2));
    assert_eq!(rules.high_cost_multiple(dec!(300.0001)), dec!(1.5));

    // Same cost ratio 2.5 is high in a 100.0001-point group (m 2) and normal in a 100-point
    // group (m 3); H1's coefficient 1.05 applies to both.
    let tables = tables();
    let mut case = drg_case("25000");
    case.grouping.group_code = "LOW1".into();
    let at_100 = valuate(&drg_policy(), &tables, &case).expect("valued");
    assert_eq!(at_100.case_type, CaseType::Normal);
    case.grouping.group_code = "TIER".into();
    let above_100 = valuate(&drg_policy(), &tables, &case).expect("valued");
    assert_eq!(above_100.case_type, CaseType::HighCost);

    // Ratio 1.8 with mean 30000: 300 points → m 2 → normal; 300.0001 → m 1.5 → high.
    let mut case = drg_case("54000");
    case.grouping.group_code = "BIG1".into();
    assert_eq!(
        valuate(&drg_policy(), &tables, &case)
            .expect("valued")
            .case_type,
        CaseType::Normal
    );
    case.grouping.group_code = "BIG2".into();
    let high = valuate(&drg_policy(), &tables, &case).expect("valued");
    assert_eq!(high.case_type, CaseType::HighCost);
    // 300.0001 × 1.05 + 300.0001 × (1.8 − 1.5) = 405.000135 → 405.0001
    assert_eq!(high.points, points("405.0001"));
}

#[test]
fn incomplete_stays_and_their_cap() {
    for discharge_type in [2, 4, 5] {
        let mut case = drg_case("7500");
        case.discharge_type = discharge_type;
        let valued = valuate(&drg_policy(), &tables(), &case).expect("valued");
        assert_eq!(valued.case_type, CaseType::IncompleteStay);
        // 150 × 1.05 × 0.5
        assert_eq!(valued.points, points("78.75"));
    }
    // Capped at base × coefficient.
    let mut case = drg_case("20000");
    case.discharge_type = 5;
    let capped = valuate(&drg_policy(), &tables(), &case).expect("valued");
    assert_eq!(capped.points, points("157.5"));
    // Type 3 (transfer to community) and 9 are complete stays.
    case.discharge_type = 3;
    assert_eq!(
        valuate(&drg_policy(), &tables(), &case)
            .expect("valued")
            .case_type,
        CaseType::Normal
    );
    // Order: high before incomplete, low before incomplete.
    let mut high = drg_case("40000");
    high.discharge_type = 5;
    assert_eq!(
        valuate(&drg_policy(), &tables(), &high)
            .expect("valued")
            .case_type,
        CaseType::HighCost
    );
    let mut low = drg_case("5000");
    low.discharge_type = 5;
    assert_eq!(
        valuate(&drg_policy(), &tables(), &low)
            .expect("valued")
            .case_type,
        CaseType::LowCost
    );
}

#[test]
fn low_cost_capped_at_base() {
    // With m_low 1.2, a ratio of 1.1 is low-cost and 150 × 1.1 is capped at 150.
    let mut policy = drg_policy();
    policy.drg.low_cost_multiple = dec!(1.2);
    let valued = valuate(&policy, &tables(), &drg_case("16500")).expect("valued");
    assert_eq!(valued.case_type, CaseType::LowCost);
    assert_eq!(valued.points, points("150"));
}

#[test]
fn unstable_absent_and_ungroupable_are_valued_on_cost() {
    let tables = tables();
    let mut case = drg_case("12000");
    case.grouping.group_code = "UNST".into();
    let unstable = valuate(&drg_policy(), &tables, &case).expect("valued");
    assert_eq!(unstable.case_type, CaseType::Unstable);
    // 12000 / 10000 × 100, no coefficient.
    assert_eq!(unstable.points, points("120"));
    assert_eq!(unstable.coefficient, dec!(1));

    case.grouping.group_code = "NOPE".into();
    let absent = valuate(&drg_policy(), &tables, &case).expect("valued");
    assert_eq!(absent.case_type, CaseType::Unstable);
    assert_eq!(absent.points, points("120"));

    case.grouping.group_code = "0000".into();
    case.grouping.status = GroupStatus::Ungroupable;
    let ungroupable = valuate(&drg_policy(), &tables, &case).expect("valued");
    assert_eq!(ungroupable.case_type, CaseType::Ungroupable);
    assert_eq!(ungroupable.points, points("108"));
}

#[test]
fn per_diem_drg_counts_billable_days() {
    let mut case = drg_case("3000");
    case.grouping.group_code = "PD11".into();
    let five_days = valuate(&drg_policy(), &tables(), &case).expect("valued");
    assert_eq!(five_days.case_type, CaseType::PerDiem);
    assert_eq!(five_days.points, points("50"));
    // Same-day discharge: billable days = max(LOS, 1).
    case.discharge_date = case.admission_date;
    let same_day = valuate(&drg_policy(), &tables(), &case).expect("valued");
    assert_eq!(same_day.points, points("10"));
}

#[test]
fn coefficient_lookup_dates_and_default() {
    // Before H1's coefficient takes effect the default 1.0 applies.
    let mut case = drg_case("15000");
    case.admission_date = date("2024-12-20");
    case.discharge_date = date("2024-12-28");
    let valued = valuate(&drg_policy(), &tables(), &case).expect("valued");
    assert_eq!(valued.points, points("150"));
    // A hospital without coefficients gets the default.
    let mut other = drg_case("15000");
    other.hospital_code = "H9".into();
    assert_eq!(
        valuate(&drg_policy(), &tables(), &other)
            .expect("valued")
            .points,
        points("150")
    );
}

#[test]
fn special_case_extra_points_are_added() {
    let mut case = drg_case("15000");
    case.special_case = Some(SpecialCaseDecision::ExtraPoints(points("20.25")));
    let valued = valuate(&drg_policy(), &tables(), &case).expect("valued");
    assert_eq!(valued.points, points("177.75"));
    assert_eq!(valued.special_case_points, dec!(20.25));
}

#[test]
fn in_policy_cost_basis() {
    let mut policy = drg_policy();
    policy.cost_basis = points_domain::policy::CostBasis::InPolicyCost;
    let mut case = drg_case("40000");
    let missing = valuate(&policy, &tables(), &case).expect_err("no in-policy cost");
    assert_eq!(missing.reason(), "MISSING_IN_POLICY_COST");
    case.in_policy_cost = Some(money("15000"));
    let valued = valuate(&policy, &tables(), &case).expect("valued");
    assert_eq!(valued.case_type, CaseType::Normal);
}
