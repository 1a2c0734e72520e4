//! Payment-mode order, policy and table validation, serde of policies.

use crate::common::*;
use kernel::FundType;
use points_domain::policy::HighCostTier;
use points_domain::tables::{DatedCoefficient, PerDiemProgramme};
use points_domain::{
    ModeRule, PaymentMode, SpecialCaseDecision, ValuationPolicy, select_payment_mode, valuate,
};
use rust_decimal_macros::dec;

#[test]
fn first_matching_rule_wins() {
    let policy = dip_policy();
    // Special case FFS and psychiatric: FFS (rule 1 before rule 2).
    let mut case = dip_case("20000");
    case.principal_diagnosis = "F32.100".into();
    case.discharge_date = case.admission_date.add_days(80);
    case.special_case = Some(SpecialCaseDecision::FeeForService);
    let decision = select_payment_mode(&policy, &case);
    assert_eq!(decision.mode, PaymentMode::FeeForService);
    assert_eq!(decision.rule, ModeRule::SpecialCaseFfs);

    // Psychiatric and long stay (≥ 60): psychiatric per diem (rule 2 before rule 6).
    case.special_case = None;
    let decision = select_payment_mode(&policy, &case);
    assert_eq!(
        decision.mode,
        PaymentMode::PerDiem(PerDiemProgramme::Psychiatric)
    );

    // Day surgery and basic-level: day surgery (rule 4 before rule 5).
    let mut policy = dip_policy();
    policy.modes.day_surgery.procedure_codes = vec!["13.41".into()];
    policy.modes.basic_level.group_codes = vec!["K35.8:47.01".into()];
    let mut both = dip_case("5000");
    both.principal_procedure = Some("13.4100".into());
    both.discharge_date = both.admission_date.add_days(1);
    assert_eq!(
        select_payment_mode(&policy, &both).rule,
        ModeRule::DaySurgery
    );
    // Reordering the policy reorders the outcome.
    policy.modes.order = vec![
        ModeRule::BasicLevel,
        ModeRule::DaySurgery,
        ModeRule::ExcludedStay,
    ];
    assert_eq!(
        select_payment_mode(&policy, &both).mode,
        PaymentMode::BasicLevel
    );
}

#[test]
fn excluded_stays_both_sides() {
    let policy = dip_policy();
    let mut case = dip_case("20000");
    case.discharge_date = case.admission_date.add_days(60);
    let long = valuate(&policy, &tables(), &case).expect("valued");
    assert_eq!(long.decision.rule, ModeRule::ExcludedStay);
    assert_eq!(long.amount, Some(money("20000")));
    case.discharge_date = case.admission_date.add_days(59);
    assert_eq!(
        select_payment_mode(&policy, &case).rule,
        ModeRule::MainMethod
    );

    // Short stays are not excluded by default; when on, LOS ≤ 2 is.
    case.discharge_date = case.admission_date.add_days(2);
    assert_eq!(
        select_payment_mode(&policy, &case).rule,
        ModeRule::MainMethod
    );
    let mut short = dip_policy();
    short.modes.excluded_stays.short_stay_enabled = true;
    assert_eq!(
        select_payment_mode(&short, &case).rule,
        ModeRule::ExcludedStay
    );
    case.discharge_date = case.admission_date.add_days(3);
    assert_eq!(
        select_payment_mode(&short, &case).rule,
        ModeRule::MainMethod
    );
}

#[test]
fn defaults_are_the_domain_defaults() {
    let policy = dip_policy();
    assert_eq!(policy.modes.psychiatric.acute_limit_days, 56);
    assert_eq!(policy.modes.day_surgery.max_stay_hours, 48);
    assert_eq!(policy.modes.excluded_stays.long_stay_min_days, 60);
    assert!(!policy.modes.excluded_stays.short_stay_enabled);
    assert_eq!(policy.drg.low_cost_multiple, dec!(0.4));
    assert_eq!(policy.drg.incomplete_discharge_types, [2, 4, 5]);
    assert_eq!(policy.drg.ungroupable_factor, dec!(0.9));
    assert_eq!(policy.drg.unstable.min_cases, 5);
    assert_eq!(policy.readmission.window_days, 15);
    assert_eq!(
        policy.readmission.exempt_adrgs,
        ["RB1", "RB2", "RC1", "RE1", "RG1", "RV1"]
    );
    assert_eq!(policy.dip.low_band, dec!(0.5));
    assert_eq!(policy.dip.high_band, dec!(2));
    assert_eq!(policy.dip.extreme_band, dec!(5));
    assert_eq!(policy.dip.score_scale, dec!(1000));
    assert_eq!(policy.point_value.published_decimal_places, 4);
    assert_eq!(
        policy
            .special_cases
            .quota(points_domain::SchemeKind::Drg, 1000),
        50
    );
    assert_eq!(
        policy
            .special_cases
            .quota(points_domain::SchemeKind::Dip, 1000),
        5
    );
    assert!(policy.validate().is_ok());
    assert!(tables().validate(&drg_policy()).is_ok());
}

#[test]
fn policy_json_round_trips_and_fills_defaults() {
    let minimal: ValuationPolicy =
        serde_json::from_str(r#"{"region":"460000","year":2025,"fund_type":"310"}"#)
            .expect("minimal policy");
    assert_eq!(minimal, dip_policy());
    let partial: ValuationPolicy = serde_json::from_str(
        r#"{"region":"460000","year":2025,"fund_type":"390","main_method":"drg",
            "drg":{"low_cost_multiple":"0.3"}}"#,
    )
    .expect("partial policy");
    assert_eq!(partial.fund_type, FundType::Resident);
    assert_eq!(partial.drg.low_cost_multiple, dec!(0.3));
    assert_eq!(partial.drg.ungroupable_factor, dec!(0.9));
    let unknown = serde_json::from_str::<ValuationPolicy>(
        r#"{"region":"460000","year":2025,"fund_type":"310","drg":{"low_multiple":"0.3"}}"#,
    );
    assert!(unknown.is_err());

    let json = serde_json::to_string(&drg_policy()).expect("serialise");
    let back: ValuationPolicy = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, drg_policy());
    let tables_json = serde_json::to_string(&tables()).expect("serialise");
    let tables_back: points_domain::ValuationTables =
        serde_json::from_str(&tables_json).expect("parse");
    assert_eq!(tables_back, tables());
}

fn rejected_fields(policy: &ValuationPolicy) -> Vec<(String, &'static str)> {
    policy
        .validate()
        .expect_err("policy must be rejected")
        .0
        .iter()
        .map(|e| (e.field().to_owned(), e.reason()))
        .collect()
}

#[test]
fn bad_policies_are_rejected_with_the_field_named() {
    let mut negative = drg_policy();
    negative.drg.low_cost_multiple = dec!(-0.1);
    assert!(
        rejected_fields(&negative)
            .contains(&("drg.low_cost_multiple".into(), "NEGATIVE_PARAMETER"))
    );

    let mut low_not_below_high = drg_policy();
    low_not_below_high.drg.low_cost_multiple = dec!(1.5);
    assert!(
        rejected_fields(&low_not_below_high)
            .contains(&("drg.low_cost_multiple".into(), "LOW_NOT_BELOW_HIGH"))
    );

    let mut unsorted = drg_policy();
    unsorted.drg.high_cost_tiers = vec![
        HighCostTier {
            base_points_up_to: Some(dec!(300)),
            multiple: dec!(2),
        },
        HighCostTier {
            base_points_up_to: Some(dec!(100)),
            multiple: dec!(3),
        },
        HighCostTier {
            base_points_up_to: None,
            multiple: dec!(1.5),
        },
    ];
    assert!(
        rejected_fields(&unsorted)
            .contains(&("drg.high_cost_tiers".into(), "TIERS_NOT_INCREASING"))
    );

    let mut empty = drg_policy();
    empty.drg.incomplete_discharge_types.clear();
    empty.drg.high_cost_tiers.clear();
    let fields = rejected_fields(&empty);
    assert!(fields.contains(&("drg.incomplete_discharge_types".into(), "EMPTY_LIST")));
    assert!(fields.contains(&("drg.high_cost_tiers".into(), "EMPTY_LIST")));

    let mut duplicate = drg_policy();
    duplicate.modes.order.push(ModeRule::DaySurgery);
    duplicate.readmission.exempt_adrgs.push("RB1".into());
    let fields = rejected_fields(&duplicate);
    assert!(fields.contains(&("modes.order".into(), "DUPLICATE_ENTRY")));
    assert!(fields.contains(&("readmission.exempt_adrgs".into(), "DUPLICATE_ENTRY")));

    let mut bands = dip_policy();
    bands.dip.low_band = dec!(2);
    bands.dip.extreme_band = dec!(1);
    let fields = rejected_fields(&bands);
    assert!(fields.contains(&("dip.low_band".into(), "LOW_NOT_BELOW_HIGH")));
    assert!(fields.contains(&("dip.high_band".into(), "LOW_NOT_BELOW_HIGH")));

    let mut ranges = dip_policy();
    ranges.drg.ungroupable_factor = dec!(1.2);
    ranges.readmission.kept_share = dec!(-1);
    ranges.drg.incomplete_discharge_types = vec![7];
    let fields = rejected_fields(&ranges);
    assert!(fields.contains(&("drg.ungroupable_factor".into(), "PARAMETER_OUT_OF_RANGE")));
    assert!(fields.contains(&("readmission.kept_share".into(), "PARAMETER_OUT_OF_RANGE")));
    assert!(fields.contains(&("drg.incomplete_discharge_types".into(), "UNKNOWN_VALUE")));
}

#[test]
fn bad_tables_are_rejected_with_the_field_named() {
    let mut bad = tables();
    bad.per_diem
        .programmes
        .insert(PerDiemProgramme::Hospice, Vec::new());
    if let Some(row) = bad.drg.groups.get_mut("GB11") {
        row.mean_cost = money("0");
    }
    if let Some(set) = bad.coefficients.drg_by_hospital.get_mut("H1") {
        set.all_groups.push(DatedCoefficient {
            coefficient: dec!(1.1),
            effective_from: date("2025-06-01"),
            effective_to: None,
        });
    }
    let errors = bad.validate(&drg_policy()).expect_err("rejected");
    assert!(errors.names("per_diem.programmes.hospice"));
    assert!(errors.names("drg.groups.GB11.mean_cost"));
    assert!(errors.names("coefficients.drg_by_hospital.H1.all_groups"));
    let mut other_year = drg_policy();
    other_year.year = 2026;
    assert!(
        tables()
            .validate(&other_year)
            .expect_err("mismatch")
            .names("region/year/fund_type")
    );
}
