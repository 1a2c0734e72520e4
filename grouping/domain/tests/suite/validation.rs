//! Broken schemes are refused at load with every problem, each naming its file (and line for
//! table rows).

use crate::common;

use common::MiniScheme;
use grouping_domain::{Scheme, SchemeError, SchemeProblem, demo_scheme_dir};
use serde_json::json;

fn valid() -> MiniScheme {
    let mut scheme = MiniScheme::single_rule(json!({"pdx_in": "L"})).list("L", &["A", "B"]);
    scheme.diagnoses = vec!["A".to_owned(), "B".to_owned()];
    scheme.cc = vec![("A".to_owned(), "1".to_owned())];
    scheme
}

fn refused(files: &std::collections::HashMap<String, Vec<u8>>) -> Vec<SchemeProblem> {
    match Scheme::from_files(files) {
        Ok(_) => panic!("scheme accepted"),
        Err(SchemeError { problems }) => problems,
    }
}

fn has(problems: &[SchemeProblem], file: &str, line: Option<usize>, text: &str) -> bool {
    problems
        .iter()
        .any(|p| p.file == file && p.line == line && p.message.contains(text))
}

fn with_definition(
    edit: impl FnOnce(&mut serde_json::Value),
) -> std::collections::HashMap<String, Vec<u8>> {
    let scheme = valid();
    let mut definition = scheme.definition();
    edit(&mut definition);
    let mut files = scheme.files();
    files.insert(
        "scheme.json".to_owned(),
        serde_json::to_vec_pretty(&definition).unwrap_or_default(),
    );
    files
}

#[test]
fn the_valid_mini_scheme_loads() {
    assert!(Scheme::from_files(&valid().files()).is_ok());
}

#[test]
fn unknown_condition_kind_is_refused_naming_the_file() {
    let files =
        with_definition(|d| d["mdcs"][0]["adrgs"][0]["when"] = json!({"pdx_starts_with": "A"}));
    let problems = refused(&files);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].file, "scheme.json");
    assert!(problems[0].line.is_some());
    assert!(
        problems[0].message.contains("pdx_starts_with"),
        "{}",
        problems[0].message
    );
}

#[test]
fn unknown_option_values_and_fields_are_refused() {
    for edit in [
        json!({"when_no_drg_matches": "use_first_drg"}),
        json!({"input": {"gender": "letters"}}),
        json!({"input": {"absent_height": 0}}),
        json!({"retry_everything": true}),
        json!({"format": "drg-scheme/2"}),
    ] {
        let files = with_definition(|d| {
            for (key, value) in edit.as_object().into_iter().flatten() {
                d[key] = value.clone();
            }
        });
        let problems = refused(&files);
        assert!(
            problems.iter().all(|p| p.file == "scheme.json"),
            "{edit}: {problems:?}"
        );
    }
    // Values this engine does not implement inside known kinds.
    for when in [
        json!({"always": false}),
        json!({"has_mcc": false}),
        json!({"gender": "X"}),
    ] {
        let files = with_definition(|d| d["mdcs"][0]["adrgs"][0]["when"] = when.clone());
        let problems = refused(&files);
        assert!(
            has(&problems, "scheme.json", None, "mdcs[MDCX].adrgs[XA1].when"),
            "{when}: {problems:?}"
        );
    }
    // A condition object with two keys is not one condition.
    let files = with_definition(|d| {
        d["mdcs"][0]["adrgs"][0]["when"] = json!({"pdx_in": "L", "any_dx_in": "L"});
    });
    refused(&files);
}

#[test]
fn wrong_counts_are_reported_per_table_and_rule_level() {
    let files = with_definition(|d| {
        d["counts"]["cc"] = json!(5);
        d["counts"]["drgs"] = json!(2);
        d["counts"]["lists"] = json!(3);
    });
    let problems = refused(&files);
    assert!(has(&problems, "cc.tsv", None, "declares 5"), "{problems:?}");
    assert!(
        has(&problems, "scheme.json", None, "counts.drgs"),
        "{problems:?}"
    );
    assert!(
        has(&problems, "scheme.json", None, "counts.lists"),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 3, "every problem, once: {problems:?}");
}

#[test]
fn undeclared_lists_and_size_mismatches() {
    // A rule uses a list that is not declared.
    let files =
        with_definition(|d| d["mdcs"][0]["adrgs"][0]["when"] = json!({"any_dx_in": "NOPE"}));
    let problems = refused(&files);
    assert!(
        has(&problems, "scheme.json", None, "list NOPE is not declared"),
        "{problems:?}"
    );
    // lists.tsv has rows of a list scheme.json does not declare, and a declared size differs.
    let scheme = valid();
    let mut files = scheme.files();
    files.insert(
        "lists.tsv".to_owned(),
        b"list\tcode\nL\tA\nOTHER\tB\n".to_vec(),
    );
    let mut definition = scheme.definition();
    definition["counts"]["list_rows"] = json!(2);
    files.insert(
        "scheme.json".to_owned(),
        serde_json::to_vec(&definition).unwrap_or_default(),
    );
    let problems = refused(&files);
    assert!(
        has(&problems, "lists.tsv", Some(3), "OTHER is not declared"),
        "{problems:?}"
    );
    assert!(
        has(&problems, "scheme.json", None, "list L declares size 2"),
        "{problems:?}"
    );
}

#[test]
fn duplicate_codes_are_reported_with_file_and_line() {
    let scheme = valid();
    let mut files = scheme.files();
    files.insert("lists.tsv".to_owned(), b"list\tcode\nL\tA\nL\tA\n".to_vec());
    files.insert(
        "diagnoses.tsv".to_owned(),
        "code\tname\nA\t甲\nA\t乙\n".as_bytes().to_vec(),
    );
    files.insert("mcc.tsv".to_owned(), b"code\ttable\nA\t1\n".to_vec());
    let mut definition = scheme.definition();
    definition["counts"]["mcc"] = json!(1);
    files.insert(
        "scheme.json".to_owned(),
        serde_json::to_vec(&definition).unwrap_or_default(),
    );
    let problems = refused(&files);
    assert!(
        has(
            &problems,
            "lists.tsv",
            Some(3),
            "duplicate code A in list L (first on line 2)"
        ),
        "{problems:?}"
    );
    assert!(
        has(&problems, "diagnoses.tsv", Some(3), "duplicate code A"),
        "{problems:?}"
    );
    assert!(
        !problems.iter().any(|p| p.file == "mcc.tsv"),
        "a code in both the CC and the MCC table is allowed: {problems:?}"
    );
}

#[test]
fn malformed_tables_are_reported_with_lines() {
    let scheme = valid();
    let mut files = scheme.files();
    files.insert(
        "cc.tsv".to_owned(),
        b"\xef\xbb\xbfcode\ttable\nA\t1\n".to_vec(),
    );
    files.insert("mcc.tsv".to_owned(), b"code\ttable\nA\t1\textra\n".to_vec());
    files.insert("cc_exclusion.tsv".to_owned(), b"code\ttable\n".to_vec());
    files.remove("procedures.tsv");
    let problems = refused(&files);
    assert!(has(&problems, "cc.tsv", Some(1), "BOM"), "{problems:?}");
    assert!(
        has(&problems, "mcc.tsv", Some(2), "3 field(s), expected 2"),
        "{problems:?}"
    );
    assert!(
        has(&problems, "cc_exclusion.tsv", Some(1), "header"),
        "{problems:?}"
    );
    assert!(
        has(&problems, "procedures.tsv", None, "missing"),
        "{problems:?}"
    );
}

#[test]
fn drgs_without_names_and_bad_mdc_order() {
    let scheme = valid();
    let mut files = scheme.files();
    files.insert(
        "drg_names.tsv".to_owned(),
        b"drg\tname\nZZ99\tother\n".to_vec(),
    );
    let mut definition = scheme.definition();
    definition["mdc_order"] = json!(["MDCX", "MDCQ"]);
    files.insert(
        "scheme.json".to_owned(),
        serde_json::to_vec(&definition).unwrap_or_default(),
    );
    let problems = refused(&files);
    assert!(
        has(
            &problems,
            "scheme.json",
            None,
            "DRG XA11 of ADRG XA1 has no name"
        ),
        "{problems:?}"
    );
    assert!(
        has(&problems, "scheme.json", None, "unknown MDC MDCQ"),
        "{problems:?}"
    );
}

#[test]
fn broken_copy_of_the_demo_folder_is_refused_from_disk() {
    let dir = std::env::temp_dir().join(format!("grouping-domain-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for entry in std::fs::read_dir(demo_scheme_dir()).expect("demo dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
    let lists = std::fs::read_to_string(dir.join("lists.tsv")).expect("lists");
    std::fs::write(
        dir.join("lists.tsv"),
        lists.replace("GR1_DX\tC18.900", "GR1_DX\tK35.800\nGR1_DX\tK35.800"),
    )
    .expect("write");
    let problems = Scheme::load_dir(&dir).expect_err("refused").problems;
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        problems.iter().any(|p| p.file == "lists.tsv"
            && p.line.is_some()
            && p.message.contains("duplicate code K35.800")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.file == "lists.tsv" && p.message.contains("declares")),
        "{problems:?}"
    );
}
