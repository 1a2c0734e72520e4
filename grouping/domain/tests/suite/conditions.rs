//! One focused test per condition kind (both outcomes), per status and per engine option, on
//! small in-memory schemes: the single ADRG `XA1` is entered when the condition under test holds,
//! so a case groups to `XA11` (SUCCESS) or FAILs.

use crate::common;

use common::{MiniScheme, adult};
use grouping_domain::{GroupStatus, RawCase};
use serde_json::json;

fn matches(scheme: &MiniScheme, case: RawCase<'_>) -> bool {
    let compiled = scheme.compile();
    let result = compiled.group(&case, false, &mut Default::default());
    // The traced path must agree.
    assert_eq!(compiled.group_traced(&case, false).result, result);
    match result.status {
        GroupStatus::Success => {
            assert_eq!(result.drg.as_str(), "XA11");
            true
        }
        GroupStatus::Fail => {
            assert!(result.drg.is_empty() && result.mdc.is_empty());
            false
        }
        other => panic!("unexpected status {other}"),
    }
}

fn with_age<'a>(case: RawCase<'a>, age: &'a str, age_days: &'a str) -> RawCase<'a> {
    RawCase {
        age,
        age_days,
        ..case
    }
}

#[test]
fn always() {
    assert!(matches(
        &MiniScheme::single_rule(json!({"always": true})),
        adult("A", "")
    ));
}

#[test]
fn all_any_not() {
    let scheme =
        MiniScheme::single_rule(json!({"all": [{"pdx_in": "L1"}, {"not": {"any_dx_in": "L2"}}]}))
            .list("L1", &["A"])
            .list("L2", &["B"]);
    assert!(matches(&scheme, adult("A|C", "")));
    assert!(!matches(&scheme, adult("A|B", "")));
    assert!(!matches(&scheme, adult("C", "")));
    let scheme = MiniScheme::single_rule(json!({"any": [{"pdx_in": "L1"}, {"pdx_in": "L2"}]}))
        .list("L1", &["A"])
        .list("L2", &["B"]);
    assert!(matches(&scheme, adult("B", "")));
    assert!(!matches(&scheme, adult("C|A", "")));
}

#[test]
fn pdx_in_reads_only_the_first_code_exactly() {
    let scheme = MiniScheme::single_rule(json!({"pdx_in": "L"})).list("L", &["K35.800"]);
    assert!(matches(&scheme, adult("K35.800|J18.900", "")));
    assert!(!matches(&scheme, adult("J18.900|K35.800", "")));
    // Codes are compared as bytes: no trimming, no case folding.
    assert!(!matches(&scheme, adult(" K35.800", "")));
    assert!(!matches(&scheme, adult("k35.800", "")));
    // Comma and bar both separate.
    assert!(matches(&scheme, adult("K35.800,J18.900", "")));
    assert!(!matches(&scheme, adult("", "")));
}

#[test]
fn any_dx_in_reads_every_position() {
    let scheme = MiniScheme::single_rule(json!({"any_dx_in": "L"})).list("L", &["B"]);
    assert!(matches(&scheme, adult("A|C,B", "")));
    assert!(matches(&scheme, adult("B", "")));
    assert!(!matches(&scheme, adult("A||C", "")));
}

#[test]
fn principal_proc_in_needs_a_first_procedure_in_the_list() {
    let scheme = MiniScheme::single_rule(json!({"principal_proc_in": "L"})).list("L", &["47.0100"]);
    assert!(matches(&scheme, adult("A", "47.0100|51.2300")));
    assert!(!matches(&scheme, adult("A", "51.2300|47.0100")));
    assert!(!matches(&scheme, adult("A", "")));
    // An empty first item is the code "" (no trimming), which is in no list.
    assert!(!matches(&scheme, adult("A", "|47.0100")));
}

#[test]
fn any_proc_in_and_one_procedure_in_two_lists() {
    let scheme = MiniScheme::single_rule(json!({"any_proc_in": "L"})).list("L", &["P2"]);
    assert!(matches(&scheme, adult("A", "P1|P2")));
    assert!(!matches(&scheme, adult("A", "P1")));
    // README: one procedure that is in both A and B satisfies both.
    let scheme =
        MiniScheme::single_rule(json!({"all": [{"any_proc_in": "A"}, {"any_proc_in": "B"}]}))
            .list("A", &["P1"])
            .list("B", &["P1", "P2"]);
    assert!(matches(&scheme, adult("D", "P1")));
    assert!(!matches(&scheme, adult("D", "P2")));
}

#[test]
fn principal_and_any_proc_is_or() {
    let mut scheme = MiniScheme::single_rule(json!({"principal_proc_is_or": true}));
    scheme.or_procedures = vec!["OR1".to_owned()];
    assert!(matches(&scheme, adult("A", "OR1|X")));
    assert!(!matches(&scheme, adult("A", "X|OR1")));
    assert!(!matches(&scheme, adult("A", "")));
    let mut scheme = MiniScheme::single_rule(json!({"any_proc_is_or": true}));
    scheme.or_procedures = vec!["OR1".to_owned()];
    assert!(matches(&scheme, adult("A", "X|OR1")));
    assert!(!matches(&scheme, adult("A", "X")));
    // `not principal_proc_is_or` holds without procedures.
    let mut scheme = MiniScheme::single_rule(json!({"not": {"principal_proc_is_or": true}}));
    scheme.or_procedures = vec!["OR1".to_owned()];
    assert!(matches(&scheme, adult("A", "")));
    assert!(matches(&scheme, adult("A", "X|OR1")));
    assert!(!matches(&scheme, adult("A", "OR1")));
}

#[test]
fn gender() {
    let scheme = MiniScheme::single_rule(json!({"gender": "F"}));
    assert!(matches(
        &scheme,
        RawCase {
            gender: "2",
            ..adult("A", "")
        }
    ));
    assert!(!matches(
        &scheme,
        RawCase {
            gender: "1",
            ..adult("A", "")
        }
    ));
    let scheme = MiniScheme::single_rule(json!({"gender": "M"}));
    assert!(matches(
        &scheme,
        RawCase {
            gender: "1",
            ..adult("A", "")
        }
    ));
}

#[test]
fn age_years_eq_and_lt_on_both_sides() {
    let scheme = MiniScheme::single_rule(json!({"age_years_eq": 0}));
    assert!(matches(&scheme, with_age(adult("A", ""), "0", "100")));
    assert!(!matches(&scheme, with_age(adult("A", ""), "1", "")));
    let scheme = MiniScheme::single_rule(json!({"age_years_lt": 17}));
    assert!(matches(&scheme, with_age(adult("A", ""), "16", "")));
    assert!(!matches(&scheme, with_age(adult("A", ""), "17", "")));
    assert!(matches(&scheme, with_age(adult("A", ""), "-1", "")));
}

#[test]
fn age_days_le_needs_a_present_age_day() {
    let scheme = MiniScheme::single_rule(json!({"age_days_le": 28}));
    let newborn = RawCase {
        weight: "3000",
        ..adult("A", "")
    };
    assert!(matches(&scheme, with_age(newborn, "0", "28")));
    assert!(!matches(&scheme, with_age(newborn, "0", "29")));
    assert!(!matches(&scheme, with_age(adult("A", ""), "1", "")));
    // With age ≠ 0 a non-integer ageDay counts as absent.
    assert!(!matches(&scheme, with_age(adult("A", ""), "1", "x")));
}

#[test]
fn weight_lt_and_ge_ignore_absent_and_zero() {
    let case = |weight: &'static str| RawCase {
        weight,
        ..with_age(adult("A", ""), "0", "5")
    };
    let lt = MiniScheme::single_rule(json!({"weight_lt": 1500}));
    assert!(matches(&lt, case("1499")));
    assert!(!matches(&lt, case("1500")));
    assert!(!matches(&lt, case("0")));
    let ge = MiniScheme::single_rule(json!({"weight_ge": 1500}));
    assert!(matches(&ge, case("1500")));
    assert!(!matches(&ge, case("1499")));
    assert!(!matches(&ge, case("0")));
    let adult_without_weight = adult("A", "");
    assert!(!matches(&lt, adult_without_weight));
    assert!(!matches(&ge, adult_without_weight));
}

#[test]
fn dx_lists_min_counts_lists_not_codes() {
    let scheme =
        MiniScheme::single_rule(json!({"dx_lists_min": {"lists": ["R1", "R2", "R3"], "min": 2}}))
            .list("R1", &["S1", "S1b"])
            .list("R2", &["S2"])
            .list("R3", &["S3"]);
    assert!(matches(&scheme, adult("S1|S3", "")));
    assert!(matches(&scheme, adult("X|S2|S1b", "")));
    // Two codes of the same list count once.
    assert!(!matches(&scheme, adult("S1|S1b", "")));
    assert!(!matches(&scheme, adult("S2", "")));
}

fn complication_scheme(kind: &str) -> MiniScheme {
    let mut scheme = MiniScheme::single_rule(json!({ kind: true }));
    scheme.mcc = vec![
        ("M1".to_owned(), "t1".to_owned()),
        ("M2".to_owned(), "t2".to_owned()),
    ];
    scheme.cc = vec![
        ("C1".to_owned(), "t1".to_owned()),
        ("C2".to_owned(), "t2".to_owned()),
    ];
    scheme.cc_exclusion = vec![("P".to_owned(), "t1".to_owned())];
    scheme
}

#[test]
fn has_mcc_with_exclusion() {
    let scheme = complication_scheme("has_mcc");
    assert!(matches(&scheme, adult("Q|M1", "")));
    // The principal diagnosis P excludes table t1.
    assert!(!matches(&scheme, adult("P|M1", "")));
    assert!(matches(&scheme, adult("P|M1|M2", "")));
    // Only secondary diagnoses count; a repeated principal counts like any other code.
    assert!(!matches(&scheme, adult("M2", "")));
    assert!(matches(&scheme, adult("M2|M2", "")));
    // has_mcc does not look at CCs.
    assert!(!matches(&scheme, adult("Q|C1", "")));
}

#[test]
fn has_cc_with_exclusion() {
    let scheme = complication_scheme("has_cc");
    assert!(matches(&scheme, adult("Q|C1", "")));
    assert!(!matches(&scheme, adult("P|C1", "")));
    assert!(matches(&scheme, adult("P|C2", "")));
    // has_cc does not look at MCCs.
    assert!(!matches(&scheme, adult("Q|M1", "")));
}

/// The diagnoses `has_mcc`/`has_cc` count, reported by position: the facts supervision's
/// upcoding rule reads.
#[test]
fn counted_complications_are_the_ones_the_conditions_count() {
    use grouping_domain::ComplicationKind::{Cc, Mcc};
    let compiled = complication_scheme("has_mcc").compile();
    let counted = |diagnoses: &str| {
        compiled
            .counted_complications(&adult(diagnoses, ""), false)
            .into_iter()
            .map(|c| (c.position, c.code, c.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counted("Q|M1|X|C2"),
        [(2, "M1".to_owned(), Mcc), (4, "C2".to_owned(), Cc)]
    );
    // The principal diagnosis P excludes table t1: M1 and C1 do not count, M2 and C2 do.
    assert_eq!(
        counted("P|M1|C1|M2|C2"),
        [(4, "M2".to_owned(), Mcc), (5, "C2".to_owned(), Cc)]
    );
    // Only secondary diagnoses count.
    assert!(counted("M1").is_empty());
    assert!(counted("Q|X").is_empty());
    // Agrees with the condition on every case above.
    for case in ["Q|M1|X|C2", "P|M1|C1|M2|C2", "P|M1", "M1", "Q|C1"] {
        let has_mcc = counted(case).iter().any(|(_, _, kind)| *kind == Mcc);
        assert_eq!(
            matches(&complication_scheme("has_mcc"), adult(case, "")),
            has_mcc,
            "{case}"
        );
    }
}

#[test]
fn dept_in_compares_exact_bytes() {
    let scheme =
        MiniScheme::single_rule(json!({"dept_in": "XA11_DEPT"})).list("XA11_DEPT", &["ICU"]);
    let case = |dept: &'static str| RawCase {
        dept,
        ..adult("A", "")
    };
    assert!(matches(&scheme, case("ICU")));
    assert!(!matches(&scheme, case("icu")));
    assert!(!matches(&scheme, case("ICU ")));
    assert!(!matches(&scheme, case("")));
}

// ---- statuses ----

fn status(scheme: &MiniScheme, case: RawCase<'_>, map_codes: bool) -> GroupStatus {
    let compiled = scheme.compile();
    let result = compiled.group(&case, map_codes, &mut Default::default());
    assert_eq!(compiled.group_traced(&case, map_codes).result, result);
    result.status
}

#[test]
fn success_and_fail() {
    let scheme = MiniScheme::single_rule(json!({"pdx_in": "L"})).list("L", &["A"]);
    assert_eq!(status(&scheme, adult("A", ""), false), GroupStatus::Success);
    assert_eq!(status(&scheme, adult("B", ""), false), GroupStatus::Fail);
    // An empty diagnosis field is the code "": it passes the checks and matches nothing.
    assert_eq!(status(&scheme, adult("", ""), false), GroupStatus::Fail);
}

#[test]
fn check_failed_for_each_rule_of_step_3() {
    let scheme = MiniScheme::single_rule(json!({"always": true}));
    let ok = adult("A", "");
    let failing = [
        RawCase { gender: "", ..ok },
        RawCase { gender: "3", ..ok },
        RawCase {
            gender: "1.0",
            ..ok
        },
        RawCase { age: "", ..ok },
        RawCase { age: "4O", ..ok },
        RawCase { age: "40.5", ..ok },
        RawCase {
            age: "0",
            age_days: "",
            ..ok
        },
        RawCase {
            age: "0",
            age_days: "x",
            ..ok
        },
        RawCase {
            age: "0",
            age_days: "28",
            weight: "",
            ..ok
        },
        RawCase {
            weight: "3.5",
            ..ok
        },
    ];
    for case in failing {
        assert_eq!(
            status(&scheme, case, false),
            GroupStatus::CheckFailed,
            "{case:?}"
        );
    }
    let passing = [
        ok,
        RawCase { gender: " 1", ..ok },
        RawCase { gender: "+2", ..ok },
        RawCase { gender: "01", ..ok },
        RawCase {
            age: "0",
            age_days: "29",
            weight: "",
            ..ok
        },
        RawCase {
            age: "0",
            age_days: "28",
            weight: "0",
            ..ok
        },
        RawCase {
            age_days: "abc",
            ..ok
        },
        RawCase {
            age: "40",
            weight: "3000",
            ..ok
        },
    ];
    for case in passing {
        assert_eq!(
            status(&scheme, case, false),
            GroupStatus::Success,
            "{case:?}"
        );
    }
}

#[test]
fn not_mapped_statuses_come_before_the_checks() {
    let mut scheme = MiniScheme::single_rule(json!({"always": true}));
    scheme.diagnoses = vec!["A".to_owned()];
    scheme.procedures = vec!["P".to_owned()];
    assert_eq!(status(&scheme, adult("A", "P"), true), GroupStatus::Success);
    assert_eq!(
        status(&scheme, adult("A|B", "P"), true),
        GroupStatus::DxNotMapped
    );
    assert_eq!(
        status(&scheme, adult("A", "P|Q"), true),
        GroupStatus::ProcNotMapped
    );
    // "" is never mappable; diagnoses are mapped before procedures; both before step 3.
    assert_eq!(
        status(&scheme, adult("", ""), true),
        GroupStatus::DxNotMapped
    );
    assert_eq!(
        status(&scheme, adult("B", "Q"), true),
        GroupStatus::DxNotMapped
    );
    let bad_gender = RawCase {
        gender: "9",
        ..adult("A", "Q")
    };
    assert_eq!(
        status(&scheme, bad_gender, true),
        GroupStatus::ProcNotMapped
    );
    // Mapping off: unknown codes are simply in no list.
    assert_eq!(
        status(&scheme, adult("A|B", "P|Q"), false),
        GroupStatus::Success
    );
}

#[test]
fn mapping_replaces_codes_one_step() {
    let mut scheme = MiniScheme::single_rule(json!({"pdx_in": "L"})).list("L", &["NEW"]);
    scheme.diagnoses = vec!["NEW".to_owned()];
    let mut files = scheme.files();
    files.insert(
        "diagnosis_map.tsv".to_owned(),
        b"from\tto\nOLD\tNEW\nNEW\tNEW\n".to_vec(),
    );
    let mut definition = scheme.definition();
    definition["counts"]["diagnosis_map"] = json!(2);
    files.insert(
        "scheme.json".to_owned(),
        serde_json::to_vec(&definition).unwrap_or_default(),
    );
    let compiled = grouping_domain::CompiledScheme::compile(
        &grouping_domain::Scheme::from_files(&files).unwrap_or_else(|e| panic!("{e}")),
    );
    let mut scratch = Default::default();
    assert_eq!(
        compiled.group(&adult("OLD", ""), true, &mut scratch).status,
        GroupStatus::Success
    );
    assert_eq!(
        compiled
            .group(&adult("OLD", ""), false, &mut scratch)
            .status,
        GroupStatus::Fail
    );
    let trace = compiled.group_traced(&adult("OLD", ""), true);
    assert!(trace.diagnoses[0].mapped);
    assert_eq!(trace.diagnoses[0].code.as_deref(), Some("NEW"));
}

fn two_adrg_scheme(ambiguity_enabled: bool) -> MiniScheme {
    MiniScheme {
        mdcs: json!([{
            "code": "MDCX", "name_zh": "测试", "name_en": "test",
            "when": {"always": true},
            "adrgs": [
                {"code": "XA1", "name": "甲", "when": {"pdx_in": "A1"},
                 "drgs": [{"drg": "XA11", "when": {"has_mcc": true}}]},
                {"code": "XB1", "name": "乙", "when": {"pdx_in": "B1"},
                 "drgs": [{"drg": "XB19", "when": {"always": true}}]}
            ],
            "ambiguity": {"enabled": ambiguity_enabled, "after_adrg": "XA1", "drg": "XQY",
                          "when": {"any_dx_in": "AMB"}}
        }, {
            "code": "MDCY", "name_zh": "次", "name_en": "next",
            "when": {"always": true},
            "adrgs": [{"code": "YA1", "name": "丙", "when": {"pdx_in": "A1"},
                       "drgs": [{"drg": "YA19", "when": {"always": true}}]}],
            "ambiguity": {"enabled": false, "after_adrg": null, "drg": "YQY", "when": {"always": true}}
        }]),
        ..MiniScheme::default()
    }
    .list("A1", &["A"])
    .list("B1", &["A", "B"])
    .list("AMB", &["Z"])
}

#[test]
fn ambiguous_after_its_adrg_when_enabled() {
    let scheme = two_adrg_scheme(true);
    let compiled = scheme.compile();
    let result = compiled.group(&adult("B|Z", ""), false, &mut Default::default());
    assert_eq!(result.status, GroupStatus::Ambiguous);
    assert_eq!(
        (
            result.mdc.as_str(),
            result.adrg.as_str(),
            result.drg.as_str()
        ),
        ("MDCX", "QY", "XQY")
    );
    // Disabled: the next ADRG takes the case.
    let compiled = two_adrg_scheme(false).compile();
    let result = compiled.group(&adult("B|Z", ""), false, &mut Default::default());
    assert_eq!(result.drg.as_str(), "XB19");
}

#[test]
fn no_matching_split_uses_the_adrg_code_or_tries_the_next_adrg() {
    let compiled = two_adrg_scheme(false).compile();
    let result = compiled.group(&adult("A", ""), false, &mut Default::default());
    assert_eq!((result.adrg.as_str(), result.drg.as_str()), ("XA1", "XA1"));
    let compiled = two_adrg_scheme(false)
        .option("when_no_drg_matches", json!("try_next_adrg"))
        .compile();
    let result = compiled.group(&adult("A", ""), false, &mut Default::default());
    assert_eq!((result.adrg.as_str(), result.drg.as_str()), ("XB1", "XB19"));
    // With the split matching, XA1 still wins.
    let mut scheme = two_adrg_scheme(false).option("when_no_drg_matches", json!("try_next_adrg"));
    scheme.mcc = vec![("M".to_owned(), "1".to_owned())];
    let result = scheme
        .compile()
        .group(&adult("A|M", ""), false, &mut Default::default());
    assert_eq!(result.drg.as_str(), "XA11");
}

#[test]
fn mdc_falls_through_to_the_next_mdc() {
    let scheme = MiniScheme {
        mdcs: json!([{
            "code": "MDCX", "name_zh": "甲", "name_en": "x", "when": {"always": true},
            "adrgs": [{"code": "XA1", "name": "甲", "when": {"pdx_in": "L"},
                       "drgs": [{"drg": "XA19", "when": {"always": true}}]}],
            "ambiguity": {"enabled": false, "after_adrg": null, "drg": "XQY", "when": {"always": true}}
        }, {
            "code": "MDCY", "name_zh": "乙", "name_en": "y", "when": {"always": true},
            "adrgs": [{"code": "YA1", "name": "乙", "when": {"always": true},
                       "drgs": [{"drg": "YA19", "when": {"always": true}}]}],
            "ambiguity": {"enabled": false, "after_adrg": null, "drg": "YQY", "when": {"always": true}}
        }]),
        ..MiniScheme::default()
    }
    .list("L", &["A"]);
    let compiled = scheme.compile();
    assert_eq!(
        compiled
            .group(&adult("B", ""), false, &mut Default::default())
            .mdc
            .as_str(),
        "MDCY"
    );
    assert_eq!(
        compiled
            .group(&adult("A", ""), false, &mut Default::default())
            .mdc
            .as_str(),
        "MDCX"
    );
}

#[test]
fn retry_with_each_secondary_procedure_alone() {
    let scheme = MiniScheme::single_rule(json!({"principal_proc_in": "L"}))
        .list("L", &["P2", "P3"])
        .option("retry_with_secondary_procedures", json!(true));
    let compiled = scheme.compile();
    let mut scratch = Default::default();
    assert_eq!(
        compiled
            .group(&adult("A", "P1|P2"), false, &mut scratch)
            .status,
        GroupStatus::Success
    );
    assert_eq!(
        compiled
            .group(&adult("A", "P1|X|P3"), false, &mut scratch)
            .status,
        GroupStatus::Success
    );
    assert_eq!(
        compiled
            .group(&adult("A", "P1|X"), false, &mut scratch)
            .status,
        GroupStatus::Fail
    );
    // A single procedure is never retried.
    assert_eq!(
        compiled
            .group(&adult("A", "P1"), false, &mut scratch)
            .status,
        GroupStatus::Fail
    );
    let trace = compiled.group_traced(&adult("A", "P1|X|P3"), false);
    assert_eq!(trace.runs.len(), 3);
    assert_eq!(trace.runs[2].procedures, vec!["P3".to_owned()]);
    // The retry drops the other procedures: "any_proc_in" sees only the retried one.
    let scheme =
        MiniScheme::single_rule(json!({"all": [{"principal_proc_in": "L"}, {"any_proc_in": "M"}]}))
            .list("L", &["P2"])
            .list("M", &["P1"])
            .option("retry_with_secondary_procedures", json!(true));
    assert_eq!(
        scheme
            .compile()
            .group(&adult("A", "P1|P2"), false, &mut Default::default())
            .status,
        GroupStatus::Fail
    );
    // Without the option there is no retry.
    let scheme = MiniScheme::single_rule(json!({"principal_proc_in": "L"})).list("L", &["P2"]);
    assert_eq!(
        scheme
            .compile()
            .group(&adult("A", "P1|P2"), false, &mut Default::default())
            .status,
        GroupStatus::Fail
    );
}

#[test]
fn input_options_text_gender_and_absent_values() {
    let scheme = MiniScheme::single_rule(json!({"age_days_le": 0})).option(
        "input",
        json!({"gender": "text", "absent_age_days": 0, "absent_weight": 0}),
    );
    let compiled = scheme.compile();
    let mut scratch = Default::default();
    let mut run = |case: RawCase<'_>| compiled.group(&case, false, &mut scratch).status;
    assert_eq!(
        run(adult("A", "")),
        GroupStatus::Success,
        "absent ageDay reads as 0"
    );
    for gender in [" 1", "01", "+1", "1 "] {
        assert_eq!(
            run(RawCase {
                gender,
                ..adult("A", "")
            }),
            GroupStatus::CheckFailed,
            "{gender:?}"
        );
    }
    // A present non-integer ageDay fails even with age ≠ 0.
    assert_eq!(
        run(RawCase {
            age_days: "x",
            ..adult("A", "")
        }),
        GroupStatus::CheckFailed
    );
    // Newborn without weight passes: absent weight reads as 0.
    assert_eq!(run(with_age(adult("A", ""), "0", "")), GroupStatus::Success);
    let weight = MiniScheme::single_rule(json!({"weight_lt": 1500}))
        .option("input", json!({"absent_weight": 0}));
    let result = weight.compile().group(
        &with_age(adult("A", ""), "0", "3"),
        false,
        &mut Default::default(),
    );
    assert_eq!(
        result.status,
        GroupStatus::Fail,
        "0 satisfies no weight condition"
    );
}

#[test]
fn trace_explains_rules_codes_and_complications() {
    let mut scheme = complication_scheme("has_mcc");
    scheme.diagnoses = vec!["P".to_owned(), "M1".to_owned(), "M2".to_owned()];
    let compiled = scheme.compile();
    let trace = compiled.group_traced(&adult("P|M1|M2", ""), false);
    assert_eq!(trace.result.status, GroupStatus::Success);
    assert_eq!(trace.cc_exclusion_table.as_deref(), Some("t1"));
    assert_eq!(trace.complications.len(), 2);
    assert!(trace.complications[0].excluded && !trace.complications[1].excluded);
    assert_eq!(trace.diagnoses[0].name.as_deref(), Some("诊断"));
    let steps = &trace.runs[0].steps;
    assert_eq!(steps.len(), 3, "MDC, ADRG and DRG rule: {steps:#?}");
    let detail = steps[1].condition.detail.clone().unwrap_or_default();
    assert!(
        detail.contains("M2") && detail.contains("position 3"),
        "{detail}"
    );
    let json = serde_json::to_value(&trace).unwrap_or_default();
    assert_eq!(json["result"]["status"], "SUCCESS");
    assert_eq!(json["result"]["drg"], "XA11");
    let check = compiled.group_traced(
        &RawCase {
            gender: "x",
            ..adult("P", "")
        },
        false,
    );
    assert!(check.check.failure.is_some_and(|f| f.contains("gender")));
}
