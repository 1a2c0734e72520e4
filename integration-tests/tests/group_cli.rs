//! `medpay group` end to end: the real binary on a CSV file.

use std::path::PathBuf;
use std::process::Command;

use integration_tests::medpay_binary;

fn shared_schemes() -> Option<PathBuf> {
    let dir = std::env::var("MEDPAY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("schemes");
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing: CI must test the real schemes",
            dir.display()
        );
    } else {
        eprintln!("skipped: {} is absent on this machine", dir.display());
        None
    }
}

#[test]
fn groups_every_example_of_the_national_scheme_in_input_order() -> anyhow::Result<()> {
    let Some(schemes) = shared_schemes() else {
        return Ok(());
    };
    let scheme = schemes.join("chs-drg-1.1");
    let examples = std::fs::read_to_string(scheme.join("examples.csv"))?;
    let dir = tempfile::tempdir()?;
    let output = dir.path().join("groups.csv");
    let status = Command::new(medpay_binary()?)
        .args(["group", "--scheme"])
        .arg(&scheme)
        .arg("--input")
        .arg(scheme.join("examples.csv"))
        .arg("--output")
        .arg(&output)
        .args(["--threads", "2"])
        .status()?;
    assert!(status.success());
    let written = std::fs::read_to_string(&output)?;
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("Index,mdc,adrg,drg,status"));
    let mut compared = 0;
    for (example, grouped) in examples.lines().skip(1).zip(lines) {
        let fields: Vec<&str> = example.split(',').collect();
        let expected = format!(
            "{},{},{},{},{}",
            fields[0], fields[10], fields[11], fields[12], fields[13]
        );
        assert_eq!(grouped, expected);
        compared += 1;
    }
    assert_eq!(compared, examples.lines().count() - 1);
    Ok(())
}

#[test]
fn a_malformed_file_is_rejected_with_its_line_and_writes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("cases.csv");
    std::fs::write(
        &input,
        "Index,gender,age,ageDay,weight,dept,inHospitalTime,leavingType,ICD10_DRGS,ICD9_DRGS\n\
         1,1,35,,,,3,1,K35.800,47.0100\n\
         2,1,35,,,3,1,K35.800\n",
    )?;
    let output = dir.path().join("groups.csv");
    let result = Command::new(medpay_binary()?)
        .args(["group", "--scheme", "demo", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()?;
    assert!(!result.status.success());
    let message = String::from_utf8_lossy(&result.stderr);
    assert!(message.contains("line 3"), "{message}");
    assert!(!output.exists(), "no partial output");
    assert!(!dir.path().join("groups.csv.partial").exists());
    Ok(())
}
