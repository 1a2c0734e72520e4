//! The format elements the regional schemes added, each on both sides of its boundary, on small
//! in-memory schemes: the single ADRG `XA1` is entered when the condition under test holds, so a
//! case groups to `XA11` (SUCCESS) or FAILs; plus ambiguity rules placed before an MDC's first
//! ADRG, five-character DRG codes, the words the trace uses and the batch columns.

use crate::common;

use common::{MiniScheme, adult};
use grouping_domain::{
    BatchError, BatchOptions, GroupStatus, RawCase, Scheme, group_csv, parse_stay_days,
};
use serde_json::json;

/// Whether `case` groups into `XA11`; the traced path must agree and explain the leaf.
fn matches(scheme: &MiniScheme, case: RawCase<'_>) -> bool {
    let compiled = scheme.compile();
    let result = compiled.group(&case, false, &mut Default::default());
    let trace = compiled.group_traced(&case, false);
    assert_eq!(trace.result, result);
    match result.status {
        GroupStatus::Success => {
            assert_eq!(result.drg.as_str(), "XA11");
            true
        }
        GroupStatus::Fail => false,
        other => panic!("unexpected status {other}"),
    }
}

/// The explanation of the ADRG rule of `scheme` for `case`.
fn explained(scheme: &MiniScheme, case: RawCase<'_>) -> (String, String) {
    let trace = scheme.compile().group_traced(&case, false);
    let step = trace.runs[0]
        .steps
        .iter()
        .find(|step| step.code == "XA1")
        .expect("the ADRG rule was tried");
    (
        step.condition.kind.clone(),
        step.condition.detail.clone().unwrap_or_default(),
    )
}

fn aged(age: &str) -> RawCase<'_> {
    RawCase {
        age,
        ..adult("A", "")
    }
}

fn stay(days: &str) -> RawCase<'_> {
    RawCase {
        length_of_stay: days,
        ..adult("A", "")
    }
}

#[test]
fn age_years_le_gt_ge_on_both_sides_of_the_threshold() {
    let le = MiniScheme::single_rule(json!({"age_years_le": 17}));
    assert!(matches(&le, aged("17")));
    assert!(!matches(&le, aged("18")));
    let gt = MiniScheme::single_rule(json!({"age_years_gt": 17}));
    assert!(!matches(&gt, aged("17")));
    assert!(matches(&gt, aged("18")));
    let ge = MiniScheme::single_rule(json!({"age_years_ge": 18}));
    assert!(!matches(&ge, aged("17")));
    assert!(matches(&ge, aged("18")));
    assert_eq!(
        explained(&le, aged("18")),
        ("age_years_le".to_owned(), "age 18 years <= 17".to_owned())
    );
    assert_eq!(explained(&gt, aged("18")).1, "age 18 years > 17");
    assert_eq!(explained(&ge, aged("17")).1, "age 17 years >= 18");
}

#[test]
fn los_days_comparisons_on_both_sides_of_the_threshold() {
    for (kind, below, at, above) in [
        ("los_days_eq", false, true, false),
        ("los_days_lt", true, false, false),
        ("los_days_le", true, true, false),
        ("los_days_gt", false, false, true),
        ("los_days_ge", false, true, true),
    ] {
        let scheme = MiniScheme::single_rule(json!({ kind: 5 }));
        assert_eq!(matches(&scheme, stay("4")), below, "{kind} with 4 days");
        assert_eq!(matches(&scheme, stay("5")), at, "{kind} with 5 days");
        assert_eq!(matches(&scheme, stay("6")), above, "{kind} with 6 days");
    }
    let lt = MiniScheme::single_rule(json!({"los_days_lt": 5}));
    assert!(matches(&lt, stay("-1")), "a negative integer is an integer");
    assert!(matches(&lt, stay("04")));
    assert_eq!(
        explained(&lt, stay("4")),
        (
            "los_days_lt".to_owned(),
            "length of stay 4 days < 5".to_owned()
        )
    );
}

#[test]
fn los_days_is_false_when_the_stay_is_absent_or_not_an_integer() {
    for kind in [
        "los_days_eq",
        "los_days_lt",
        "los_days_le",
        "los_days_gt",
        "los_days_ge",
    ] {
        // With threshold 0 every comparison but one is true for some integer; none for these.
        let scheme = MiniScheme::single_rule(json!({"any": [{ kind: 0 }, { kind: 5 }]}));
        for text in ["", " 4", "4 ", "+4", "4.0", "4d", "-", "４"] {
            assert!(!matches(&scheme, stay(text)), "{kind} with {text:?}");
        }
    }
    let (_, detail) = explained(
        &MiniScheme::single_rule(json!({"los_days_ge": 1})),
        stay("4.5"),
    );
    assert_eq!(
        detail,
        "length of stay (inHospitalTime) absent or not an integer"
    );
    assert_eq!(parse_stay_days("12"), Some(12));
    assert_eq!(parse_stay_days("-3"), Some(-3));
    assert_eq!(parse_stay_days("99999999999999999999"), Some(i64::MAX));
    assert_eq!(parse_stay_days("+3"), None);
    assert_eq!(parse_stay_days(" 3"), None);
}

#[test]
fn leaving_type_in_compares_exact_bytes() {
    let scheme = MiniScheme::single_rule(json!({"leaving_type_in": "XA1_LEAVING"}))
        .list("XA1_LEAVING", &["2", "5"]);
    let case = |leaving_type| RawCase {
        leaving_type,
        ..adult("A", "")
    };
    assert!(matches(&scheme, case("2")));
    assert!(matches(&scheme, case("5")));
    for other in ["1", "3", "02", " 2", "2 ", ""] {
        assert!(!matches(&scheme, case(other)), "{other:?}");
    }
    assert_eq!(
        explained(&scheme, case("5")),
        (
            "leaving_type_in".to_owned(),
            "discharge type (leavingType) \"5\" is in XA1_LEAVING".to_owned()
        )
    );
    assert_eq!(
        explained(&scheme, case("9")).1,
        "discharge type (leavingType) is not in XA1_LEAVING"
    );
}

/// Changzhou's short-stay split: stay under 5 days and discharge type 2 or 5.
#[test]
fn length_of_stay_and_leaving_type_together() {
    let scheme = MiniScheme::single_rule(json!({"all": [
        {"los_days_lt": 5}, {"leaving_type_in": "XA11_LEAVING"}
    ]}))
    .list("XA11_LEAVING", &["2", "5"]);
    let case = |length_of_stay, leaving_type| RawCase {
        length_of_stay,
        leaving_type,
        ..adult("A", "")
    };
    assert!(matches(&scheme, case("4", "2")));
    assert!(!matches(&scheme, case("5", "2")));
    assert!(!matches(&scheme, case("4", "1")));
    assert!(!matches(&scheme, case("", "2")));
}

#[test]
fn any_secondary_dx_in_skips_the_principal_diagnosis() {
    let scheme =
        MiniScheme::single_rule(json!({"any_secondary_dx_in": "XA1_DX"})).list("XA1_DX", &["Z37"]);
    assert!(!matches(&scheme, adult("Z37", "")), "principal only");
    assert!(
        !matches(&scheme, adult("Z37|O80", "")),
        "principal, not secondary"
    );
    assert!(matches(&scheme, adult("O80|Z37", "")), "position 2");
    assert!(matches(&scheme, adult("O80|K35|Z37", "")), "position 3");
    assert!(
        matches(&scheme, adult("Z37|Z37", "")),
        "a repeated principal counts"
    );
    assert!(!matches(&scheme, adult("O80", "")));
    assert_eq!(
        explained(&scheme, adult("O80|K35|Z37", "")),
        (
            "any_secondary_dx_in".to_owned(),
            "secondary diagnosis \"Z37\" (position 3) is in XA1_DX".to_owned()
        )
    );
    assert_eq!(
        explained(&scheme, adult("Z37", "")).1,
        "no secondary diagnosis"
    );
}

#[test]
fn any_secondary_proc_in_needs_two_procedures() {
    let scheme = MiniScheme::single_rule(json!({"any_secondary_proc_in": "XA1_PROC"}))
        .list("XA1_PROC", &["P2"]);
    assert!(!matches(&scheme, adult("A", "")), "no procedure");
    assert!(
        !matches(&scheme, adult("A", "P2")),
        "one procedure: principal only"
    );
    assert!(
        !matches(&scheme, adult("A", "P2|P1")),
        "principal, not secondary"
    );
    assert!(matches(&scheme, adult("A", "P1|P2")), "position 2");
    assert!(
        matches(&scheme, adult("A", "P1||P2")),
        "position 3, after an empty code"
    );
    assert_eq!(
        explained(&scheme, adult("A", "P2")).1,
        "fewer than two procedures: no secondary procedure"
    );
    assert_eq!(
        explained(&scheme, adult("A", "P1|P2")).1,
        "secondary procedure \"P2\" (position 2) is in XA1_PROC"
    );
}

/// One MDC whose ambiguity rule sits before its first ADRG (`after_adrg` null), and a second
/// MDC that takes every case the first one does not.
fn ambiguity_first_scheme(enabled: bool) -> MiniScheme {
    MiniScheme {
        mdcs: json!([{
            "code": "MDCU", "name_zh": "甲", "name_en": "u",
            "when": {"pdx_in": "MDCU_PDX"},
            "adrgs": [{"code": "UA1", "name": "甲", "when": {"always": true},
                       "drgs": [{"drg": "UA11", "when": {"always": true}}]}],
            "ambiguity": {"enabled": enabled, "after_adrg": null, "drg": "UQY",
                          "when": {"any_proc_is_or": true}}
        }, {
            "code": "MDCX", "name_zh": "乙", "name_en": "x", "when": {"always": true},
            "adrgs": [{"code": "XA1", "name": "乙", "when": {"always": true},
                       "drgs": [{"drg": "XA11", "when": {"always": true}}]}],
            "ambiguity": {"enabled": false, "after_adrg": null, "drg": "XQY",
                          "when": {"always": true}}
        }]),
        or_procedures: vec!["OR1".to_owned()],
        ..MiniScheme::default()
    }
    .list("MDCU_PDX", &["F20"])
}

#[test]
fn ambiguity_rule_without_after_adrg_comes_before_the_first_adrg() {
    let codes = |scheme: &MiniScheme, case: RawCase<'_>| {
        let compiled = scheme.compile();
        let result = compiled.group(&case, false, &mut Default::default());
        assert_eq!(compiled.group_traced(&case, false).result, result);
        (
            result.status,
            format!("{},{},{}", result.mdc, result.adrg, result.drg),
        )
    };
    let enabled = ambiguity_first_scheme(true);
    // The MDC is entered and the rule holds: ambiguous, although the first ADRG would match.
    assert_eq!(
        codes(&enabled, adult("F20", "OR1")),
        (GroupStatus::Ambiguous, "MDCU,QY,UQY".to_owned())
    );
    // The rule does not hold: the first ADRG takes the case.
    assert_eq!(
        codes(&enabled, adult("F20", "X1")),
        (GroupStatus::Success, "MDCU,UA1,UA11".to_owned())
    );
    // The MDC is not entered: its rule is never tried.
    assert_eq!(
        codes(&enabled, adult("K35", "OR1")),
        (GroupStatus::Success, "MDCX,XA1,XA11".to_owned())
    );
    // Disabled: the first ADRG.
    assert_eq!(
        codes(&ambiguity_first_scheme(false), adult("F20", "OR1")),
        (GroupStatus::Success, "MDCU,UA1,UA11".to_owned())
    );
    // The trace shows the rule right after the MDC, before any ADRG.
    let trace = enabled.compile().group_traced(&adult("F20", "OR1"), false);
    let codes: Vec<&str> = trace.runs[0]
        .steps
        .iter()
        .map(|s| s.code.as_str())
        .collect();
    assert_eq!(codes, ["MDCU", "UQY"]);
}

#[test]
fn an_enabled_ambiguity_rule_after_an_unknown_adrg_is_still_refused() {
    let mut definition = ambiguity_first_scheme(true).definition();
    definition["mdcs"][0]["ambiguity"]["after_adrg"] = json!("ZZ9");
    let mut files = ambiguity_first_scheme(true).files();
    files.insert(
        "scheme.json".to_owned(),
        serde_json::to_vec(&definition).unwrap_or_default(),
    );
    let error = Scheme::from_files(&files).expect_err("refused");
    assert!(
        error
            .problems
            .iter()
            .any(|p| p.file == "scheme.json" && p.message.contains("\"ZZ9\"")),
        "{:?}",
        error.problems
    );
}

#[test]
fn five_character_drg_codes_are_results_like_any_other() {
    let scheme = MiniScheme {
        mdcs: json!([{
            "code": "MDCB", "name_zh": "甲", "name_en": "b", "when": {"always": true},
            "adrgs": [{"code": "BV1", "name": "甲", "when": {"always": true},
                       "drgs": [{"drg": "BV11B", "when": {"age_years_gt": 60}},
                                {"drg": "BV11A", "when": {"always": true}}]}],
            "ambiguity": {"enabled": false, "after_adrg": null, "drg": "BQY",
                          "when": {"always": true}}
        }]),
        ..MiniScheme::default()
    };
    let compiled = scheme.compile();
    let old = compiled.group(&aged("61"), false, &mut Default::default());
    assert_eq!(
        (old.status, old.adrg.as_str(), old.drg.as_str()),
        (GroupStatus::Success, "BV1", "BV11B")
    );
    assert_eq!(compiled.drg_name("BV11B"), Some("名称"));
    let young = compiled.group(&aged("60"), false, &mut Default::default());
    assert_eq!(young.drg.as_str(), "BV11A");
    let json = serde_json::to_value(compiled.group_traced(&aged("61"), false)).unwrap_or_default();
    assert_eq!(json["result"]["drg"], "BV11B");
}

#[test]
fn a_code_in_both_the_cc_and_the_mcc_table_counts_for_both() {
    let mut scheme = MiniScheme::single_rule(json!({"all": [{"has_cc": true}, {"has_mcc": true}]}));
    scheme.cc = vec![("J96".to_owned(), "94".to_owned())];
    scheme.mcc = vec![("J96".to_owned(), "94".to_owned())];
    assert!(matches(&scheme, adult("A|J96", "")));
    assert!(!matches(&scheme, adult("J96", "")), "not as principal");
}

/// A scheme splitting on the stay reads `inHospitalTime` and `leavingType` from the file by
/// name, and refuses a file without them rather than reading every stay as absent.
#[test]
fn the_batch_reads_the_stay_columns_a_scheme_needs() {
    let scheme = MiniScheme::single_rule(json!({"all": [
        {"los_days_lt": 5}, {"leaving_type_in": "XA11_LEAVING"}
    ]}))
    .list("XA11_LEAVING", &["2"])
    .compile();
    let run = |input: &str| {
        let mut output = Vec::new();
        group_csv(
            input.as_bytes(),
            &mut output,
            &scheme,
            BatchOptions::default(),
            |_| {},
        )
        .map(|_| String::from_utf8(output).unwrap_or_default())
    };
    let output = run(
        "Index,gender,age,ageDay,weight,dept,leavingType,inHospitalTime,ICD10_DRGS,ICD9_DRGS\n\
                      1,1,40,,,,2,4,A,\n\
                      2,1,40,,,,2,5,A,\n",
    )
    .expect("groups");
    assert_eq!(
        output,
        "Index,mdc,adrg,drg,status\n1,MDCX,XA1,XA11,SUCCESS\n2,,,,FAIL\n"
    );
    for (header, missing) in [
        (
            "Index,gender,age,ageDay,weight,dept,leavingType,ICD10_DRGS,ICD9_DRGS",
            "inHospitalTime",
        ),
        (
            "Index,gender,age,ageDay,weight,dept,inHospitalTime,ICD10_DRGS,ICD9_DRGS",
            "leavingType",
        ),
    ] {
        match run(&format!("{header}\n")) {
            Err(BatchError::MissingColumn { column }) => assert_eq!(column, missing),
            other => panic!("expected {missing} missing, got {other:?}"),
        }
    }
    // A scheme that reads neither groups a file without them.
    let plain = MiniScheme::single_rule(json!({"always": true})).compile();
    let mut output = Vec::new();
    let summary = group_csv(
        "Index,gender,age,ageDay,weight,dept,ICD10_DRGS,ICD9_DRGS\n1,1,40,,,,A,\n".as_bytes(),
        &mut output,
        &plain,
        BatchOptions::default(),
        |_| {},
    )
    .expect("groups");
    assert_eq!(summary.rows, 1);
}
