//! `medpay group` end to end: the real binary on a CSV file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Every scheme of the shared folder (found by listing it: national and regional), mapping off
/// and on: the file's rows come back in input order with the expected groups.
#[test]
fn groups_every_example_of_every_shared_scheme_in_input_order() -> anyhow::Result<()> {
    let Some(schemes) = shared_schemes() else {
        return Ok(());
    };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&schemes)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("scheme.json").is_file())
        .collect();
    folders.sort();
    assert!(!folders.is_empty(), "no scheme in {}", schemes.display());
    let dir = tempfile::tempdir()?;
    for scheme in &folders {
        let examples = std::fs::read_to_string(scheme.join("examples.csv"))?;
        for map_codes in [false, true] {
            let output = dir.path().join("groups.csv");
            let mut command = Command::new(medpay_binary()?);
            command
                .args(["group", "--scheme"])
                .arg(scheme)
                .arg("--input")
                .arg(scheme.join("examples.csv"))
                .arg("--output")
                .arg(&output)
                .args(["--threads", "2"]);
            if map_codes {
                command.arg("--map-codes");
            }
            let status = command.status()?;
            assert!(status.success(), "{} map={map_codes}", scheme.display());
            let written = std::fs::read_to_string(&output)?;
            let mut lines = written.lines();
            assert_eq!(lines.next(), Some("Index,mdc,adrg,drg,status"));
            let mut compared = 0;
            for (example, grouped) in examples.lines().skip(1).zip(lines) {
                let fields: Vec<&str> = example.split(',').collect();
                let first = if map_codes { 14 } else { 10 };
                let expected = format!(
                    "{},{},{},{},{}",
                    fields[0],
                    fields[first],
                    fields[first + 1],
                    fields[first + 2],
                    fields[first + 3]
                );
                assert_eq!(grouped, expected, "{} map={map_codes}", scheme.display());
                compared += 1;
            }
            assert_eq!(compared, examples.lines().count() - 1);
        }
    }
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

fn medpay_group(scheme: &str, input: &Path, output: &Path) -> anyhow::Result<Output> {
    Ok(Command::new(medpay_binary()?)
        .args(["group", "--scheme", scheme, "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(["--threads", "2"])
        .output()?)
}

#[test]
fn the_demo_dip_directory_groups_a_file_by_its_own_columns() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("cases.csv");
    std::fs::write(
        &input,
        "Index,gender,age,ageDay,leavingType,inHospitalTime,ICD10_DRGS,ICD9_DRGS,totalCost\n\
         a1,1,35,,1,5,K35.800,47.0100,11000\n\
         a2,2,40,,1,7,K35.800|I10.x00x002,47.0900|54.9100,15000\n\
         a3,1,70,,1,6,K35.800,47.0900,9000.50\n\
         a4,1,60,,5,2,I21.900,36.0700|00.6600,50000\n\
         a5,2,30,,1,3,K35.300,,4000\n",
    )?;
    let output = dir.path().join("groups.csv");
    let result = medpay_group("demo-dip", &input, &output)?;
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    // Worked out by hand from grouping/dip/directories/demo: core + surgery beats basic +
    // surgery; two matched procedures beat one; the auxiliary coefficients of the `*` rows.
    assert_eq!(
        std::fs::read_to_string(&output)?,
        "Index,group,kind,subtype,coefficient,status\n\
         a1,K35.8-01,core,,1,SUCCESS\n\
         a2,K35.8-03,core,,1,SUCCESS\n\
         a3,K35.8-02,basic,66y+,1.08,SUCCESS\n\
         a4,I21.9-02,core,within_3_days,0.8,SUCCESS\n\
         a5,ZH-K35-C,comprehensive,,1,SUCCESS\n"
    );

    // The same directory as a folder: its manifest (directory.json) says it is DIP.
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../grouping/dip/directories/demo");
    let from_folder = dir.path().join("from-folder.csv");
    let result = medpay_group(&folder.display().to_string(), &input, &from_folder)?;
    assert!(result.status.success());
    assert_eq!(
        std::fs::read_to_string(&from_folder)?,
        std::fs::read_to_string(&output)?
    );
    Ok(())
}

#[test]
fn a_bad_dip_row_is_reported_with_its_line_and_field_and_writes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("cases.csv");
    std::fs::write(
        &input,
        "Index,age,ageDay,leavingType,inHospitalTime,ICD10_DRGS,ICD9_DRGS,totalCost\n\
         1,35,,1,5,K35.800,47.0100,11000\n\
         2,35,,1,5,K35.800,47.0100,12,000\n\
         3,35,,1,5,K35.800,47.0100,twelve\n",
    )?;
    let output = dir.path().join("groups.csv");
    let result = medpay_group("demo-dip", &input, &output)?;
    assert!(!result.status.success());
    let message = String::from_utf8_lossy(&result.stderr);
    assert!(
        message.contains("line 3: 9 field(s), header has 8"),
        "{message}"
    );
    assert!(
        message.contains("line 4, field totalCost: \"twelve\""),
        "{message}"
    );
    assert!(!output.exists(), "no partial output");
    assert!(!dir.path().join("groups.csv.partial").exists());
    Ok(())
}

#[test]
fn a_folder_that_is_no_scheme_is_refused_by_name() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("cases.csv");
    std::fs::write(&input, "Index\n")?;
    let result = medpay_group(
        &dir.path().display().to_string(),
        &input,
        &dir.path().join("groups.csv"),
    )?;
    assert!(!result.status.success());
    let message = String::from_utf8_lossy(&result.stderr);
    assert!(
        message.contains("neither a DRG scheme folder (scheme.json) nor a DIP directory"),
        "{message}"
    );
    Ok(())
}
