//! `medpay settlement import` end to end: the real binary imports the shipped sample into a
//! running `medpay up` through SubmitCases; a second run is a no-op; a file with bad rows and a
//! list of an unregistered hospital is reported row by row and fails.

use std::path::{Path, PathBuf};
use std::process::Output;

use integration_tests::{
    COUNTY_KEY, Medpay, config_with_county_key, medpay_binary, register_institution,
};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::transport::Channel;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../settlement/samples")
}

/// Registers the sample's two Meilan hospitals with agreements covering 2025.
async fn register_hospitals(client: &mut SettlementServiceClient<Channel>) -> anyhow::Result<()> {
    for (code, level) in [("H46010801", "3A"), ("H46010802", "2A")] {
        register_institution(client, code, "460108", level).await?;
    }
    Ok(())
}

fn import(server: &Medpay, file: &Path, fee_lines: Option<&Path>) -> anyhow::Result<Output> {
    let mut command = std::process::Command::new(medpay_binary()?);
    command
        .arg("settlement")
        .arg("import")
        .arg(file)
        .args(["--server", &format!("http://{}", server.address)])
        .args(["--api-key", COUNTY_KEY])
        .args(["--region", "460108"]);
    if let Some(fee_lines) = fee_lines {
        command.arg("--fee-lines").arg(fee_lines);
    }
    Ok(command.output()?)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn the_sample_imports_once_and_bad_rows_are_reported() -> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut client = SettlementServiceClient::new(server.channel().await?);
    register_hospitals(&mut client).await?;

    let lists = samples().join("settlement-lists.csv");
    let fees = samples().join("fee-lines.csv");
    let first = import(&server, &lists, Some(&fees))?;
    let said = text(&first);
    assert!(first.status.success(), "{said}");
    assert!(
        said.contains("accepted 10, corrected 0, unchanged 0, rejected 0"),
        "{said}"
    );

    let cases = client
        .list_cases(settlement::ListCasesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    assert_eq!(cases.len(), 10);
    assert!(cases.iter().any(|c| c.list_id == "S2025030003"));

    // The same import again: the server replays its answer and stores nothing.
    let again = import(&server, &lists, Some(&fees))?;
    let said = text(&again);
    assert!(again.status.success(), "{said}");
    assert!(said.contains("already done"), "{said}");
    let versions = client
        .get_case(settlement::GetCaseRequest {
            region_code: "460108".into(),
            hospital_code: "H46010801".into(),
            list_id: "S2025030001".into(),
        })
        .await?
        .into_inner();
    assert_eq!(versions.versions.len(), 1, "stored once");

    // A malformed row is reported locally; a list of an unregistered hospital is rejected by
    // intake; the good row is still stored, and the command fails.
    let sample = std::fs::read_to_string(&lists)?;
    let mut rows = sample.lines();
    let header = rows.next().unwrap_or_default();
    let good = rows.next().unwrap_or_default();
    let good_new = good.replace("S2025030001", "S2025039001");
    let bad = good
        .replace("S2025030001", "S2025039002")
        .replace(",12000.00,", ",twelve thousand,");
    let stranger = good
        .replace("S2025030001", "S2025039003")
        .replace("H46010801", "H46010899");
    let dir = tempfile::tempdir()?;
    let mixed = dir.path().join("mixed.csv");
    std::fs::write(&mixed, format!("{header}\n{good_new}\n{bad}\n{stranger}\n"))?;
    let output = import(&server, &mixed, None)?;
    let said = text(&output);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("mixed.csv:3: setl_id S2025039002: medfee_sumamt"),
        "{said}"
    );
    assert!(said.contains("H46010899/S2025039003"), "{said}");
    assert!(said.contains("accepted 1,"), "{said}");
    server.stop()?;
    Ok(())
}
