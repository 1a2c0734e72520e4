//! Grouping one case: precedence, tie rules, comprehensive fallback, auxiliary subtypes, trace,
//! input errors, and the invariant that every valid case lands in exactly one group.

use crate::common;

use common::{case, directory};
use grouping_dip::grouper::{UngroupedReason, Verdict};
use grouping_dip::{
    AuxiliarySubtype, CaseError, CompiledDirectory, DipCase, DipOutcome, GroupKind, TreatmentType,
    load_demo,
};
use kernel::Decimal;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn compiled() -> CompiledDirectory {
    CompiledDirectory::new(&directory())
}

fn group_of(dir: &CompiledDirectory, case: &DipCase) -> String {
    match dir.group(case) {
        Ok(DipOutcome::Grouped(a)) => a.group_code,
        other => panic!("expected a group, got {other:?}"),
    }
}

#[test]
fn precedence_follows_domain_section_2() {
    let dir = compiled();
    // (procedures, expected group, rule)
    let table: &[(&[&str], &str, &str)] = &[
        (
            &["47.0900", "47.0100"],
            "K35.8-S",
            "core + surgery > basic + surgery",
        ),
        (
            &["47.0900", "54.9100"],
            "K35.8-SB",
            "basic + surgery > core + therapeutic",
        ),
        (
            &["54.9100", "99.2500"],
            "K35.8-T",
            "core + therapeutic > basic + therapeutic",
        ),
        (
            &["99.2500", "45.2300"],
            "K35.8-TB",
            "basic + therapeutic > core + diagnostic",
        ),
        (
            &["45.2300", "88.7200"],
            "K35.8-D",
            "core + diagnostic > basic + diagnostic",
        ),
        (&["88.7200"], "K35.8-DB", "basic + diagnostic"),
        (&[], "K35.8-00", "conservative core group when no procedure"),
        (
            &["99.9999x001"],
            "K35.8-00",
            "untyped procedures are ignored",
        ),
        (
            &["51.2300"],
            "ZH-K35-S",
            "no core match: 3-character comprehensive group",
        ),
        (
            &["36.0700"],
            "ZH-K-I",
            "no 3-character group: chapter range",
        ),
    ];
    for (procedures, expected, rule) in table {
        let c = case("K35.800", procedures, 8000);
        assert_eq!(group_of(&dir, &c), *expected, "{rule}");
    }
}

#[test]
fn interventional_ranks_with_surgery() {
    let dir = compiled();
    assert_eq!(
        group_of(&dir, &case("I21.900", &["36.0700", "99.1000"], 25000)),
        "I21.9-I"
    );
    // core + interventional (surgery tier) > basic + surgery
    assert_eq!(
        group_of(&dir, &case("I21.900", &["36.1000", "36.0700"], 25000)),
        "I21.9-I"
    );
    assert_eq!(
        group_of(&dir, &case("I21.900", &["36.1000"], 25000)),
        "I21.9-SB"
    );
}

#[test]
fn ties_most_matched_then_closest_mean_then_code() {
    let dir = compiled();
    // Same precedence: the combination using two procedures beats the one using one.
    assert_eq!(
        group_of(&dir, &case("K80.100", &["51.2300", "54.9100"], 10000)),
        "K80.1-02"
    );
    assert_eq!(
        group_of(&dir, &case("K80.100", &["51.2300"], 14000)),
        "K80.1-01"
    );
    // One matched procedure each: mean 9,000 vs 13,000.
    let both = ["51.2200", "53.0000"];
    assert_eq!(group_of(&dir, &case("K80.100", &both, 12000)), "K80.1-04");
    assert_eq!(group_of(&dir, &case("K80.100", &both, 10000)), "K80.1-03");
    // Equal distance (2,000 each): the smaller group code.
    assert_eq!(group_of(&dir, &case("K80.100", &both, 11000)), "K80.1-03");
}

#[test]
fn trace_explains_every_candidate() {
    let dir = compiled();
    let (outcome, trace) = dir
        .group_traced(&case("K35.800", &["47.0900", "54.9100", "00.0000"], 9000))
        .expect("valid case");
    assert_eq!(outcome.group_code(), Some("K35.8-SB"));
    assert_eq!(trace.diagnosis_category, "K35.8");
    assert_eq!(trace.ignored_procedures, vec!["00.0000".to_owned()]);
    assert_eq!(trace.case_treatment, Some(TreatmentType::Surgical));
    let verdict = |code: &str| {
        trace
            .candidates
            .iter()
            .find(|c| c.group == code)
            .map(|c| c.verdict.clone())
            .expect("candidate traced")
    };
    assert_eq!(trace.candidates.len(), 7);
    assert_eq!(verdict("K35.8-SB"), Verdict::Won);
    assert_eq!(verdict("K35.8-00"), Verdict::CaseHasProcedures);
    assert_eq!(
        verdict("K35.8-S"),
        Verdict::NotMatched {
            missing_term: "47.0100".into()
        }
    );
    assert_eq!(
        verdict("K35.8-T"),
        Verdict::LostOnPrecedence {
            winner: "K35.8-SB".into()
        }
    );
    let (_, trace) = dir
        .group_traced(&case("K80.100", &["51.2200", "53.0000"], 11000))
        .expect("valid case");
    assert!(trace.candidates.iter().any(|c| c.group == "K80.1-04"
        && c.verdict
            == Verdict::LostOnGroupCode {
                winner: "K80.1-03".into()
            }));
    let (_, trace) = dir
        .group_traced(&case("K80.100", &["51.2200", "53.0000"], 12500))
        .expect("valid case");
    assert!(trace.candidates.iter().any(|c| c.group == "K80.1-03"
        && c.verdict
            == Verdict::LostOnCostDistance {
                winner: "K80.1-04".into()
            }));
    let (_, trace) = dir
        .group_traced(&case("K80.100", &["51.2300", "54.9100"], 10000))
        .expect("valid case");
    assert!(trace.candidates.iter().any(|c| c.group == "K80.1-01"
        && c.verdict
            == Verdict::LostOnMatchedProcedures {
                winner: "K80.1-02".into()
            }));
    let json = serde_json::to_value(&trace).expect("trace serializes");
    assert_eq!(
        json["candidates"][0]["verdict"],
        "lost_on_matched_procedures"
    );
    // The comprehensive lookup is traced when no core group matched.
    let (_, trace) = dir
        .group_traced(&case("K35.800", &["36.0700"], 9000))
        .expect("valid case");
    let comprehensive = trace.comprehensive.expect("comprehensive traced");
    assert_eq!(comprehensive.by_category, None);
    assert_eq!(comprehensive.by_range.as_deref(), Some("ZH-K-I"));
}

#[test]
fn ungrouped_when_no_comprehensive_group_covers_the_case() {
    let dir = compiled();
    let outcome = dir.group(&case("J18.900", &[], 5000)).expect("valid case");
    assert_eq!(
        outcome,
        DipOutcome::Ungrouped {
            diagnosis_category3: "J18".into(),
            treatment: TreatmentType::Conservative,
            reason: UngroupedReason::NoComprehensiveGroup,
        }
    );
}

fn auxiliary(dir: &CompiledDirectory, c: &DipCase) -> (u32, Option<AuxiliarySubtype>, Decimal) {
    match dir.group(c) {
        Ok(DipOutcome::Grouped(a)) => (
            a.cci,
            a.auxiliary.map(|x| x.subtype),
            a.auxiliary_coefficient,
        ),
        other => panic!("expected a group, got {other:?}"),
    }
}

#[test]
fn cci_bands_and_weights() {
    use AuxiliarySubtype::*;
    let dir = compiled();
    let with = |secondary: &[&str]| {
        let mut c = case("K35.800", &[], 5000);
        c.secondary_diagnoses = secondary.iter().map(|s| (*s).to_owned()).collect();
        auxiliary(&dir, &c)
    };
    // No comorbidity: band 0 has no coefficient in this directory, so no subtype.
    assert_eq!(with(&[]), (0, None, dec!(1)));
    assert_eq!(with(&["I21.900"]), (1, Some(Cci1To2), dec!(1.05)));
    // One condition counts once.
    assert_eq!(
        with(&["I50.900", "I50.100"]),
        (1, Some(Cci1To2), dec!(1.05))
    );
    // Longest prefix: E11.2 (weight 2), not E11.9.
    assert_eq!(with(&["E11.200"]), (2, Some(Cci1To2), dec!(1.05)));
    assert_eq!(
        with(&["I21.900", "N18.500"]),
        (3, Some(Cci3To4), dec!(1.12))
    );
    assert_eq!(
        with(&["I21.900", "N18.500", "I50.900"]),
        (4, Some(Cci3To4), dec!(1.12))
    );
    assert_eq!(
        with(&["I21.900", "N18.500", "E11.200"]),
        (5, Some(Cci5Plus), dec!(1.25))
    );
    // Metastasis (1.15) and CCI ≥ 5 (1.25) both apply: the higher coefficient wins.
    assert_eq!(with(&["C78.000"]), (6, Some(Cci5Plus), dec!(1.25)));
}

/// The secondaries that raised the score through the CCI band (the DIP form of a counted
/// complication, which supervision's upcoding rule checks against the fee lines).
#[test]
fn counted_comorbidities_are_the_secondaries_of_a_winning_cci_band() {
    let dir = compiled();
    let counted = |c: &DipCase| match dir.group(c) {
        Ok(DipOutcome::Grouped(a)) => dir.counted_comorbidities(c, &a),
        other => panic!("expected a group, got {other:?}"),
    };
    let mut c = case("K35.800", &[], 5000);
    // I50.100 repeats I50.900's condition and X99.000 is none: only the first counts.
    c.secondary_diagnoses = vec![
        "X99.000".into(),
        "I50.900".into(),
        "I50.100".into(),
        "N18.500".into(),
    ];
    assert_eq!(counted(&c), [1, 3]);
    c.secondary_diagnoses = vec!["X99.000".into()];
    assert!(counted(&c).is_empty());
    // At 70 the age band (1.08) beats CCI 1–2 (1.05): the comorbidity raised nothing.
    c.secondary_diagnoses = vec!["I21.900".into()];
    assert_eq!(counted(&c), [0]);
    c.age_years = 70;
    assert!(counted(&c).is_empty());
}

#[test]
fn age_bands_at_both_sides_of_every_boundary() {
    use AuxiliarySubtype::*;
    let dir = compiled();
    let at = |years: u32, days: Option<u32>| {
        let mut c = case("K35.800", &[], 5000);
        c.age_years = years;
        c.age_days = days;
        auxiliary(&dir, &c).1
    };
    assert_eq!(at(0, Some(0)), Some(Age0To28Days));
    assert_eq!(at(0, Some(28)), Some(Age0To28Days));
    assert_eq!(at(0, Some(29)), Some(Age29DaysTo1Year));
    assert_eq!(at(0, Some(364)), Some(Age29DaysTo1Year));
    assert_eq!(at(1, None), Some(Age1To6Years));
    assert_eq!(at(6, None), Some(Age1To6Years));
    assert_eq!(at(7, None), Some(Age7To17Years));
    assert_eq!(at(17, None), Some(Age7To17Years));
    assert_eq!(at(18, None), None);
    assert_eq!(at(65, None), None);
    assert_eq!(at(66, None), Some(Age66Plus));
}

#[test]
fn death_tumour_group_override_and_tie_break() {
    use AuxiliarySubtype::*;
    let dir = compiled();
    let mut died = case("K35.800", &[], 5000);
    died.discharge_type = 5;
    died.los_days = 2;
    assert_eq!(
        auxiliary(&dir, &died),
        (0, Some(DeathWithin3Days), dec!(0.8))
    );
    died.los_days = 3;
    assert_eq!(
        auxiliary(&dir, &died),
        (0, Some(DeathAfter3Days), dec!(1.3))
    );
    // Chemotherapy marked by procedure 99.25xx.
    let chemo = case("K35.800", &["99.2500"], 6500);
    assert_eq!(auxiliary(&dir, &chemo).1, Some(Chemotherapy));
    // A group's own row overrides the `*` row: K35.8-S pays 66y+ at 1.5.
    let mut old = case("K35.800", &["47.0100"], 12000);
    old.age_years = 70;
    assert_eq!(auxiliary(&dir, &old), (0, Some(Age66Plus), dec!(1.5)));
    old.procedures = vec![];
    assert_eq!(auxiliary(&dir, &old), (0, Some(Age66Plus), dec!(1.08)));
    // Equal coefficients (CCI 1–2 and 7–17 years, both 1.05): the earlier subtype wins.
    let mut child = case("K35.800", &[], 5000);
    child.age_years = 10;
    child.secondary_diagnoses = vec!["I21.900".into()];
    assert_eq!(auxiliary(&dir, &child).1, Some(Cci1To2));
}

#[test]
fn invalid_cases_are_rejected_with_a_reason() {
    let dir = compiled();
    let bad = |edit: fn(&mut DipCase)| {
        let mut c = case("K35.800", &[], 5000);
        edit(&mut c);
        dir.group(&c).map(|_| ()).map_err(|e| e.reason())
    };
    assert_eq!(
        bad(|c| c.principal_diagnosis.clear()),
        Err("MISSING_PRINCIPAL_DIAGNOSIS")
    );
    assert_eq!(
        bad(|c| c.principal_diagnosis = "35.800".into()),
        Err("BAD_PRINCIPAL_DIAGNOSIS")
    );
    assert_eq!(
        bad(|c| c.principal_diagnosis = "k35.800".into()),
        Err("BAD_PRINCIPAL_DIAGNOSIS")
    );
    assert_eq!(bad(|c| c.total_cost = dec!(-0.01)), Err("NEGATIVE_COST"));
    assert_eq!(bad(|c| c.total_cost = dec!(0)), Ok(()));
    assert_eq!(bad(|c| c.discharge_type = 6), Err("BAD_DISCHARGE_TYPE"));
    assert_eq!(bad(|c| c.discharge_type = 9), Ok(()));
    assert_eq!(bad(|c| c.age_years = 0), Err("MISSING_AGE_DAYS"));
    assert!(matches!(
        dir.group(&case("", &[], 1)),
        Err(CaseError::MissingPrincipalDiagnosis)
    ));
}

#[test]
fn demo_directory_groups_real_codes() {
    let demo = CompiledDirectory::new(&load_demo().expect("demo loads"));
    let assignment = |principal: &str, procedures: &[&str]| match demo
        .group(&case(principal, procedures, 9000))
    {
        Ok(DipOutcome::Grouped(a)) => a,
        other => panic!("expected a group, got {other:?}"),
    };
    let a = assignment("K35.800", &["47.0100", "54.9100"]);
    assert_eq!(a.group_code, "K35.8-03");
    assert_eq!(a.matched_procedures, 2);
    assert_eq!(assignment("K35.800", &["47.0900"]).kind, GroupKind::Basic);
    assert_eq!(assignment("K35.800", &[]).group_code, "K35.8-00");
    assert_eq!(
        assignment("I21.900", &["36.0700", "00.6600"]).group_code,
        "I21.9-02"
    );
    assert_eq!(assignment("K35.300", &["47.0100"]).group_code, "ZH-K35-S");
    assert_eq!(assignment("L03.100", &[]).group_code, "ZH-L00-L99-C");
}

fn demo_case() -> impl Strategy<Value = DipCase> {
    let categories = prop::sample::select(vec![
        "K35.8", "K80.1", "I21.9", "C34.9", "J18.9", "S72.0", "O82.0", "Z51.1", "I63.9",
    ]);
    let principal = prop_oneof![
        (categories, "[0-9x]{2}").prop_map(|(c, s)| format!("{c}{s}")),
        ("[A-Z]", 0u32..100, "[0-9]{3}").prop_map(|(l, n, s)| format!("{l}{n:02}.{s}")),
    ];
    let procedure = prop::sample::select(vec![
        "47.0100", "47.0900", "54.9100", "51.2300", "36.0700", "00.6600", "99.2500", "92.2400",
        "45.2300", "88.5500", "81.5100", "32.4100", "99.9999", "",
    ]);
    (
        principal,
        prop::collection::vec(procedure, 0..5),
        prop::collection::vec(
            prop::sample::select(vec!["I21.900", "C78.000", "E11.900", "N18.500"]),
            0..4,
        ),
        0u32..100,
        0u32..365,
        prop::sample::select(vec![1u8, 2, 3, 4, 5, 9]),
        0u32..90,
        0i64..10_000_000,
    )
        .prop_map(
            |(principal, procedures, secondary, age, days, discharge, los, fen)| DipCase {
                principal_diagnosis: principal,
                secondary_diagnoses: secondary.into_iter().map(str::to_owned).collect(),
                procedures: procedures.into_iter().map(str::to_owned).collect(),
                age_years: age,
                age_days: Some(days),
                discharge_type: discharge,
                los_days: los,
                total_cost: Decimal::new(fen, 2),
            },
        )
}

proptest! {
    #[test]
    fn every_valid_case_lands_in_exactly_one_group(c in demo_case()) {
        let demo = CompiledDirectory::new(&load_demo().expect("demo loads"));
        let (outcome, trace) = demo.group_traced(&c).expect("valid case");
        prop_assert_eq!(&outcome, &demo.group(&c).expect("valid case"));
        let DipOutcome::Grouped(assignment) = outcome else {
            return Err(TestCaseError::fail("the demo covers every category"));
        };
        prop_assert!(demo.group_info(&assignment.group_code).is_some());
        let winners = trace.candidates.iter().filter(|c| c.verdict == Verdict::Won).count();
        if assignment.kind == GroupKind::Comprehensive {
            prop_assert_eq!(winners, 0);
            let comprehensive = trace.comprehensive.expect("comprehensive traced");
            let found = comprehensive.by_category.or(comprehensive.by_range);
            prop_assert_eq!(found.as_deref(), Some(assignment.group_code.as_str()));
        } else {
            prop_assert_eq!(winners, 1);
            prop_assert!(trace.candidates.iter().any(|t| t.verdict == Verdict::Won
                && t.group == assignment.group_code));
        }
        prop_assert!(assignment.auxiliary_coefficient > Decimal::ZERO);
    }
}

#[test]
fn auxiliary_bounds_are_policy_parameters() {
    use AuxiliarySubtype::*;
    let json = common::meta(10, 4, 6).replace(
        "\"reference_mean_cost\": \"8000.00\",",
        "\"reference_mean_cost\": \"8000.00\",
  \"auxiliary_policy\": {\"early_death_los_days\": 5, \"elderly_min_years\": 65, \"cci_mild_max\": 1},",
    );
    let directory = common::load(&json, &common::tables()).expect("loads");
    let dir = CompiledDirectory::new(&directory);
    let mut c = case("K35.800", &[], 5000);
    c.age_years = 65;
    assert_eq!(auxiliary(&dir, &c).1, Some(Age66Plus));
    c.age_years = 40;
    c.discharge_type = 5;
    c.los_days = 4;
    assert_eq!(auxiliary(&dir, &c).1, Some(DeathWithin3Days));
    c.discharge_type = 1;
    c.secondary_diagnoses = vec!["N18.500".into()];
    assert_eq!(auxiliary(&dir, &c), (2, Some(Cci3To4), dec!(1.12)));
    // The defaults: 65 is no band, a 4-day death is "after", CCI 2 is band 1–2.
    let defaults = compiled();
    assert_eq!(auxiliary(&defaults, &c), (2, Some(Cci1To2), dec!(1.05)));

    let bad = common::meta(10, 4, 6).replace(
        "\"reference_mean_cost\": \"8000.00\",",
        "\"reference_mean_cost\": \"8000.00\",\n  \"auxiliary_policy\": {\"minor_max_years\": 80},",
    );
    let problems = match common::load(&bad, &common::tables()) {
        Err(e) => e.problems().to_vec(),
        Ok(_) => panic!("inconsistent bounds must be rejected"),
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].file, "directory.json");
    assert_eq!(problems[0].kind.reason(), "BAD_VALUE");
}
