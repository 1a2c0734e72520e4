//! Every row of each shared scheme's `examples.csv` groups to the expected result, with code
//! mapping off and on.

mod common;

use grouping_domain::{CompiledScheme, Scheme};

fn check_scheme(name: &str) {
    let Some(dir) = common::shared_schemes_dir() else {
        return;
    };
    let dir = dir.join(name);
    let scheme = match Scheme::load_dir(&dir) {
        Ok(scheme) => scheme,
        Err(error) => panic!("{name} does not load: {:#?}", error.problems),
    };
    let compiled = CompiledScheme::compile(&scheme);
    let examples = common::read_examples(&dir.join("examples.csv"));
    assert_eq!(examples.len(), 2030, "{name}: example count");
    let mismatches = common::mismatches(&compiled, &examples, true);
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es) in {name}:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn chs_drg_1_1_examples_all_match() {
    check_scheme("chs-drg-1.1");
}

#[test]
fn yancheng_2023_examples_all_match() {
    check_scheme("yancheng-2023");
}

#[test]
fn zhejiang_2022_examples_all_match() {
    check_scheme("zhejiang-2022");
}
