//! Calibration from history: base points, CV, stability, trimming, RIV, hospital coefficients.

use crate::common::*;
use kernel::FundType;
use points_domain::{
    CalibrationOptions, HistoricalCase, HospitalLevel, SchemeKind, TrimRule, calibrate,
};
use rust_decimal_macros::dec;

fn options(scheme: SchemeKind) -> CalibrationOptions {
    let mut options = CalibrationOptions::new(
        scheme,
        region(),
        2025,
        FundType::Employee,
        date("2025-01-01"),
    );
    options.year_weights = [(2024, dec!(1))].into();
    options.trim = TrimRule::None;
    options
}

fn case<'a>(group: &'a str, hospital: &'a str, cost: &str) -> HistoricalCase<'a> {
    HistoricalCase {
        year: 2024,
        group_code: group,
        hospital_code: hospital,
        hospital_level: Some(HospitalLevel::Secondary2A),
        total_cost: money(cost),
    }
}

#[test]
fn riv_example_and_base_points() {
    // DOMAIN.md §6 RIV example: {8k,10k,12k}, {18k,20k,22k}, {4k,5k,6k,5k} → 0.956.
    let cases = [
        case("A", "H1", "8000"),
        case("A", "H1", "10000"),
        case("A", "H1", "12000"),
        case("B", "H1", "18000"),
        case("B", "H1", "20000"),
        case("B", "H1", "22000"),
        case("C", "H1", "4000"),
        case("C", "H1", "5000"),
        case("C", "H1", "6000"),
        case("C", "H1", "5000"),
    ];
    let report = calibrate(cases, &options(SchemeKind::Drg)).expect("calibrated");
    assert_eq!(report.riv.round_dp(3), dec!(0.956));
    // All-case mean 11,000; group B mean 20,000 → 181.8182 points.
    assert_eq!(report.all_case_mean_cost, money("11000"));
    let b = &report.tables.drg.groups["B"];
    assert_eq!(b.mean_cost, money("20000"));
    assert_eq!(b.base_points, points("181.8182"));
    // Fewer than 5 cases: unstable.
    assert!(!b.stable);
    let a = report
        .groups
        .iter()
        .find(|g| g.group_code == "A")
        .expect("A");
    // σ = sqrt(8/3)·1000 = 1632.99; CV = 0.1633.
    assert_eq!(a.cv, dec!(0.1633));
    assert_eq!(report.cases_read, 10);
    assert_eq!(report.hospital_coefficients["H1"], dec!(1));
}

#[test]
fn stability_both_sides() {
    // Five cases with CV ≤ 1: stable; four: unstable.
    let five: Vec<_> = ["90", "100", "100", "100", "110"]
        .iter()
        .map(|c| case("S", "H1", c))
        .collect();
    let report = calibrate(five.clone(), &options(SchemeKind::Drg)).expect("calibrated");
    assert!(report.tables.drg.groups["S"].stable);
    let report = calibrate(five[..4].to_vec(), &options(SchemeKind::Drg)).expect("calibrated");
    assert!(!report.tables.drg.groups["S"].stable);
    // CV exactly 1 is stable (CV > 1 is strict): {0, 200} repeated has mean 100 and
    // population σ 100.
    let cv_one: Vec<_> = ["0", "200", "0", "200", "0", "200"]
        .iter()
        .map(|c| case("V", "H1", c))
        .collect();
    let report = calibrate(cv_one, &options(SchemeKind::Drg)).expect("calibrated");
    let v = &report.groups[0];
    assert_eq!(v.cv, dec!(1));
    assert!(v.stable);
    let cv_above: Vec<_> = ["0", "201", "0", "200", "0", "199", "0"]
        .iter()
        .map(|c| case("W", "H1", c))
        .collect();
    let report = calibrate(cv_above, &options(SchemeKind::Drg)).expect("calibrated");
    assert!(!report.groups[0].stable);
}

#[test]
fn iqr_trimming_drops_outliers() {
    // Q1 = 99, Q3 = 102 (interpolated order statistics), bounds 94.5 … 106.5.
    let mut cases: Vec<_> = ["96", "98", "99", "100", "100", "101", "102", "104"]
        .iter()
        .map(|c| case("T", "H1", c))
        .collect();
    cases.push(case("T", "H1", "1000"));
    let mut trimmed = options(SchemeKind::Drg);
    trimmed.trim = TrimRule::Iqr {
        multiplier: dec!(1.5),
    };
    let report = calibrate(cases, &trimmed).expect("calibrated");
    let t = &report.groups[0];
    assert_eq!(t.cases, 9);
    assert_eq!(t.kept, 8);
    assert_eq!(report.cases_trimmed, 1);
    assert_eq!(t.mean_cost, money("100"));
}

#[test]
fn year_weights_and_hospital_coefficients() {
    let mut options = options(SchemeKind::Drg);
    options.year_weights = [(2023, dec!(1)), (2024, dec!(3))].into();
    let mut old = case("G", "H1", "100");
    old.year = 2023;
    let cases = vec![
        old,
        case("G", "H1", "200"),
        case("G", "H2", "100"),
        case("G", "H2", "100"),
        HistoricalCase {
            year: 2019,
            ..case("G", "H2", "1")
        },
        case("G", "H2", "-5"),
    ];
    let report = calibrate(cases, &options).expect("calibrated");
    // Weighted: H1 (1·100 + 3·200) / 4 = 175; H2 (3·100 + 3·100)/6 = 100; all (700 + 600)/10 = 130.
    assert_eq!(report.groups[0].mean_cost, money("130"));
    assert_eq!(report.hospital_coefficients["H1"], dec!(1.3462));
    assert_eq!(report.hospital_coefficients["H2"], dec!(0.7692));
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons, ["YEAR_NOT_WEIGHTED", "NEGATIVE_COST"]);
    assert_eq!(
        report.tables.coefficients.drg_by_hospital["H1"].all_groups[0].coefficient,
        dec!(1.3462)
    );
}

#[test]
fn dip_scores_and_reference_costs() {
    let mut third = case("D2", "H3", "3000");
    third.hospital_level = Some(HospitalLevel::Tertiary3A);
    let cases = vec![case("D1", "H1", "1000"), case("D2", "H1", "2000"), third];
    let report = calibrate(cases, &options(SchemeKind::Dip)).expect("calibrated");
    // All-case mean 2,000; D2 mean 2,500 → 1,250 points on the 1000 scale.
    let d2 = &report.tables.dip.groups["D2"];
    assert_eq!(d2.score, points("1250"));
    // Two cases: no level (nor the group) reaches 5, so every level, and the basic-level
    // reference, take the group's calibrated mean.
    for level in HospitalLevel::ALL {
        assert_eq!(d2.reference_costs[&level], money("2500"), "{level:?}");
    }
    assert_eq!(d2.basic_level_reference, Some(money("2500")));
    assert!(report.tables.drg.groups.is_empty());
}

/// DOMAIN.md §5 Hainan: the reference at a level is last year's untrimmed mean there (5 cases),
/// else last year's mean over every level (5 cases), else the group's mean; older years and the
/// trimming of the scores do not enter it.
#[test]
fn dip_reference_costs_are_last_years_untrimmed_means_by_level() {
    let mut options = options(SchemeKind::Dip);
    options.year_weights = [(2023, dec!(1)), (2024, dec!(9))].into();
    options.trim = TrimRule::Iqr {
        multiplier: dec!(1.5),
    };
    let at = |level: HospitalLevel, year: i32, cost: &'static str| HistoricalCase {
        year,
        hospital_level: Some(level),
        ..case("G", "H1", cost)
    };
    let mut cases = Vec::new();
    // 2024 at 3A: 1000 ×5 and 100000 (an outlier the trimming drops from the score):
    // (5000 + 100000) / 6 = 17500.
    for _ in 0..5 {
        cases.push(at(HospitalLevel::Tertiary3A, 2024, "1000"));
    }
    cases.push(at(HospitalLevel::Tertiary3A, 2024, "100000"));
    // 2024 at 2A: 3 cases, at 2B: 2 cases → 二级 together 5: (3×2000 + 2×2000.05) / 5 = 2000.02.
    for _ in 0..3 {
        cases.push(at(HospitalLevel::Secondary2A, 2024, "2000"));
    }
    for _ in 0..2 {
        cases.push(at(HospitalLevel::Secondary2B, 2024, "2000.05"));
    }
    // 2023 at 2A: many cases of another cost, never in last year's means.
    for _ in 0..10 {
        cases.push(at(HospitalLevel::Secondary2A, 2023, "9000"));
    }
    let report = calibrate(cases, &options).expect("calibrated");
    let g = &report.tables.dip.groups["G"];
    assert_eq!(
        g.reference_costs[&HospitalLevel::Tertiary3A],
        money("17500")
    );
    // 2A has 3 cases: last year's mean over every level, (105000 + 10000.10) / 11 = 10454.5545…
    assert_eq!(
        g.reference_costs[&HospitalLevel::Secondary2A],
        money("10454.55")
    );
    assert_eq!(
        g.reference_costs[&HospitalLevel::Primary1],
        money("10454.55")
    );
    assert_eq!(g.basic_level_reference, Some(money("2000.02")));
}

#[test]
fn bad_options_and_empty_input_are_errors() {
    let mut no_years = options(SchemeKind::Drg);
    no_years.year_weights.clear();
    assert_eq!(
        calibrate(Vec::new(), &no_years)
            .expect_err("no years")
            .reason(),
        "WRONG_YEAR_COUNT"
    );
    let mut zero_weight = options(SchemeKind::Drg);
    zero_weight.year_weights.insert(2024, dec!(0));
    assert_eq!(
        calibrate(Vec::new(), &zero_weight)
            .expect_err("weight")
            .reason(),
        "BAD_YEAR_WEIGHT"
    );
    assert_eq!(
        calibrate(Vec::new(), &options(SchemeKind::Drg))
            .expect_err("empty")
            .reason(),
        "NO_CASES"
    );
}

/// Regional schemes name sub-groups with five characters (`BV11B` beside `BV11A`) and an ADRG
/// without a matching split gives its three-character code (`FR1`): calibration keeps every code
/// as its own group and valuation finds each by its full code.
#[test]
fn three_four_and_five_character_drg_codes_are_distinct_groups() {
    let codes = ["BV11B", "BV11A", "BV11", "FR1"];
    let costs = ["10000", "20000", "30000", "40000"];
    let cases: Vec<_> = codes
        .iter()
        .zip(costs)
        .flat_map(|(code, cost)| (0..5).map(move |_| case(code, "H1", cost)))
        .collect();
    let report = calibrate(cases, &options(SchemeKind::Drg)).expect("calibrated");
    let groups = &report.tables.drg.groups;
    assert_eq!(groups.len(), 4);
    for (code, cost) in codes.iter().zip(costs) {
        assert_eq!(groups[*code].mean_cost, money(cost), "{code}");
    }
    // All-case mean 25,000: BV11B (10,000) = 40 points, BV11A (20,000) = 80.
    assert_eq!(groups["BV11B"].base_points, points("40"));
    assert_eq!(groups["BV11A"].base_points, points("80"));

    let mut case = drg_case("10000");
    case.grouping.group_code = "BV11B".into();
    case.grouping.adrg = "BV1".into();
    let valued = points_domain::valuate(&drg_policy(), &report.tables, &case).expect("valued");
    assert_eq!(valued.base, dec!(40));
    assert_eq!(valued.case_type, points_domain::CaseType::Normal);
}
