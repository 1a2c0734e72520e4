//! `medpay dip build` end to end: history in, a directory out that loads and groups.

use std::fmt::Write as _;
use std::process::Command;
use std::str::FromStr;

use grouping_dip::Directory;
use grouping_dip::grouper::{CompiledDirectory, DipCase, DipOutcome};
use integration_tests::medpay_binary;
use rust_decimal::Decimal;

#[test]
fn a_built_directory_loads_and_groups_its_own_history() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let history = dir.path().join("history.csv");
    let mut csv = String::from("year,principal_diagnosis,procedures,total_cost\n");
    for year in [2023, 2024, 2025] {
        // Appendectomies: enough cases for a core group in every year.
        for i in 0..20 {
            writeln!(csv, "{year},K35.800,47.0100,{}", 9_000 + i * 100)?;
        }
        // Too few gallbladder cases for a core group: they go to a comprehensive group.
        for i in 0..3 {
            writeln!(csv, "{year},K80.100,51.2300,{}", 15_000 + i * 500)?;
        }
    }
    std::fs::write(&history, csv)?;
    let output = dir.path().join("directory");
    let status = Command::new(medpay_binary()?)
        .args(["dip", "build", "--cases"])
        .arg(&history)
        .args(["--years", "2023,2024,2025", "--min-cases", "15", "--output"])
        .arg(&output)
        .status()?;
    assert!(status.success());

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(output.join("report.json"))?)?;
    assert!(report["riv"].is_string(), "{report}");
    let directory = Directory::load(&output)?;
    let core: Vec<_> = directory
        .core_groups
        .iter()
        .filter(|g| g.diagnosis_category == "K35.8")
        .collect();
    assert_eq!(core.len(), 1, "one core group for the appendectomies");
    assert!(
        directory
            .core_groups
            .iter()
            .all(|g| g.diagnosis_category != "K80.1"),
        "three cases a year are below the core threshold"
    );

    let compiled = CompiledDirectory::new(&directory);
    let case = |diagnosis: &str, procedure: &str, cost: &str| DipCase {
        principal_diagnosis: diagnosis.into(),
        secondary_diagnoses: vec![],
        procedures: vec![procedure.into()],
        age_years: 40,
        age_days: None,
        discharge_type: 1,
        los_days: 5,
        total_cost: Decimal::from_str(cost).expect("decimal"),
    };
    match compiled.group(&case("K35.800", "47.0100", "10000"))? {
        DipOutcome::Grouped(assignment) => assert_eq!(assignment.group_code, core[0].code),
        other => panic!("appendectomy did not group: {other:?}"),
    }
    match compiled.group(&case("K80.100", "51.2300", "15000"))? {
        DipOutcome::Grouped(assignment) => {
            assert_eq!(assignment.kind, grouping_dip::GroupKind::Comprehensive)
        }
        other => panic!("gallbladder case did not group: {other:?}"),
    }

    // A malformed history is refused with its line, and nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "year,principal_diagnosis,procedures,total_cost\n2025,K35.800,47.0100,-5\n",
    )?;
    let refused = Command::new(medpay_binary()?)
        .args(["dip", "build", "--cases"])
        .arg(&bad)
        .arg("--output")
        .arg(dir.path().join("none"))
        .output()?;
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("line 2") && message.contains("total_cost"),
        "{message}"
    );
    assert!(!dir.path().join("none").exists());
    Ok(())
}
