//! Helpers shared by the integration tests: where the shared schemes are and how to read an
//! `examples.csv`.

#![allow(dead_code)]

use std::path::PathBuf;

/// Folder holding the shared schemes: `$MEDPAY_SHARED_DIR/schemes` when set, else
/// `shared/schemes` beside the workspace. `None` (after printing why) when it is absent and
/// `CI` is not `true`; panics when absent under CI.
pub fn shared_schemes_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MEDPAY_SHARED_DIR") {
        Some(shared) => PathBuf::from(shared).join("schemes"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemes"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    assert!(
        !ci,
        "shared schemes folder {} is missing (set MEDPAY_SHARED_DIR); required when CI=true",
        dir.display()
    );
    println!(
        "skipped: shared schemes folder {} not found (set MEDPAY_SHARED_DIR)",
        dir.display()
    );
    None
}

/// One row of an `examples.csv`.
#[derive(Debug, Clone)]
pub struct Example {
    pub line: usize,
    pub index: String,
    pub gender: String,
    pub age: String,
    pub age_days: String,
    pub weight: String,
    pub dept: String,
    pub diagnoses: String,
    pub procedures: String,
    /// mdc, adrg, drg, status with code mapping off.
    pub expected: [String; 4],
    /// The same with code mapping on.
    pub expected_mapped: [String; 4],
}

impl Example {
    pub fn raw(&self) -> grouping_domain::RawCase<'_> {
        grouping_domain::RawCase {
            gender: &self.gender,
            age: &self.age,
            age_days: &self.age_days,
            weight: &self.weight,
            dept: &self.dept,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
        }
    }
}

/// Reads an examples file (plain CSV, header by name).
pub fn read_examples(path: &std::path::Path) -> Vec<Example> {
    let text = std::fs::read_to_string(path).expect("examples.csv readable");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("column {name} missing in {}", path.display()))
    };
    let columns = [
        "Index",
        "gender",
        "age",
        "ageDay",
        "weight",
        "dept",
        "ICD10_DRGS",
        "ICD9_DRGS",
        "mdc",
        "adrg",
        "drg",
        "status",
    ]
    .map(column);
    let mapped = ["map_mdc", "map_adrg", "map_drg", "map_status"]
        .map(|name| header.iter().position(|h| *h == name));
    lines
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "line {}", i + 2);
            let get = |c: usize| fields[columns[c]].to_owned();
            let get_mapped = |c: usize| mapped[c].map(|p| fields[p].to_owned()).unwrap_or_default();
            Example {
                line: i + 2,
                index: get(0),
                gender: get(1),
                age: get(2),
                age_days: get(3),
                weight: get(4),
                dept: get(5),
                diagnoses: get(6),
                procedures: get(7),
                expected: [get(8), get(9), get(10), get(11)],
                expected_mapped: [0, 1, 2, 3].map(get_mapped),
            }
        })
        .collect()
}

/// Groups every example with mapping off and (when `with_mapping`) on; returns every mismatch.
pub fn mismatches(
    scheme: &grouping_domain::CompiledScheme,
    examples: &[Example],
    with_mapping: bool,
) -> Vec<String> {
    let mut grouper = scheme.grouper();
    let mut out = Vec::new();
    for example in examples {
        let modes: &[bool] = if with_mapping {
            &[false, true]
        } else {
            &[false]
        };
        for &map_codes in modes {
            let result = grouper.group(&example.raw(), map_codes);
            let got = [
                result.mdc.as_str().to_owned(),
                result.adrg.as_str().to_owned(),
                result.drg.as_str().to_owned(),
                result.status.as_str().to_owned(),
            ];
            let expected = if map_codes {
                &example.expected_mapped
            } else {
                &example.expected
            };
            if &got != expected {
                out.push(format!(
                    "{} line {} (Index {}) map={map_codes}: expected {:?}, got {:?}",
                    scheme.id(),
                    example.line,
                    example.index,
                    expected,
                    got
                ));
            }
            // The traced path must agree with the plain path.
            let traced = scheme.group_traced(&example.raw(), map_codes);
            if traced.result != result {
                out.push(format!(
                    "{} line {}: traced result {:?} differs from plain {:?}",
                    scheme.id(),
                    example.line,
                    traced.result,
                    result
                ));
            }
        }
    }
    out
}
