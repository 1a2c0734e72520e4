//! The shipped demo scheme: it validates, its embedded copy equals the folder, and every one of
//! its examples groups as expected (the expectations were derived by hand from the rules).

use crate::common;

use grouping_domain::{CompiledScheme, GroupStatus, Scheme, demo_scheme_dir, load_demo};

#[test]
fn demo_scheme_passes_validation_and_matches_its_folder() {
    let embedded = load_demo().unwrap_or_else(|e| panic!("{:#?}", e.problems));
    let from_dir =
        Scheme::load_dir(demo_scheme_dir()).unwrap_or_else(|e| panic!("{:#?}", e.problems));
    assert_eq!(embedded, from_dir);
    assert!(embedded.validate().is_ok());
    assert_eq!(embedded.definition.mdcs.len(), 5);
}

#[test]
fn demo_examples_all_match_and_cover_every_status() {
    let scheme = CompiledScheme::compile(&load_demo().expect("demo loads"));
    let examples = common::read_examples(&demo_scheme_dir().join("examples.csv"));
    assert!(examples.len() >= 30);
    let mismatches = common::mismatches(&scheme, &examples, true);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    for status in [
        GroupStatus::Success,
        GroupStatus::Fail,
        GroupStatus::CheckFailed,
        GroupStatus::DxNotMapped,
        GroupStatus::ProcNotMapped,
        GroupStatus::Ambiguous,
    ] {
        let covered = examples
            .iter()
            .any(|e| e.expected[3] == status.as_str() || e.expected_mapped[3] == status.as_str());
        assert!(covered, "no demo example ends with {status}");
    }
}
