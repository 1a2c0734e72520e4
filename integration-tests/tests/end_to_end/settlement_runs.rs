//! A year-end clearing killed half way: the real `medpay up` binary on a SQLite folder seeded
//! with a large year of valued cases, RunClearing sent and the process SIGKILLed while it runs.
//! After a restart nothing of the run is stored (no run, statement, case recorded as cleared or
//! journal entry), the same request then runs to completion, and its statements digest equals that of a
//! clean run on an untouched copy of the same database.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use integration_tests::Medpay;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;

const CONFIG: &str = "[telemetry]\nlog_filter = \"warn\"\n";
const CASES: u64 = 400_000;

fn database(data: &Path) -> std::path::PathBuf {
    data.join("data").join("medpay.db")
}

fn sqlite(db: &Path, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("sqlite3").arg(db).arg(sql).output()?;
    anyhow::ensure!(
        output.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// 200 hospitals' valued inpatient cases of 2025, written straight into the ledger table.
fn seed(db: &Path) -> anyhow::Result<()> {
    sqlite(
        db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
             INSERT INTO settlement_case (hospital_code, list_id, version, region_code, \
             is_current, record_kind, fund_type, discharge_date, payment_mode, group_code, \
             points_scaled, total_fen, individual_burden_fen, fund_fen, status, valuation_error, \
             scheme_version, table_version, valuation_json, content_hash, case_json, request_id, \
             stored_at) \
             SELECT printf('H%03d', i % 200), printf('L%07d', i / 200), 1, 460108, 1, \
             'inpatient', 310, 20250101 + (i / 200 % 12) * 100 + i / 200 % 28, 'drg', \
             printf('GB%02d', i % 60), 500000 + (i * 7919) % 2000000, 1500000, \
             250000 + i % 1009, 1250000 + i % 991, 'valued', '', 'demo@1', \
             '460100-2025-310@1', '{{}}', 'h' || i, '{{}}', 'seed', 1700000000 FROM n;",
            last = CASES - 1
        ),
    )?;
    Ok(())
}

fn clearing() -> settlement::RunClearingRequest {
    settlement::RunClearingRequest {
        request_id: "year-end-2025".into(),
        region_code: "460100".into(),
        year: 2025,
        fund_type: 310,
        distributable_budget: Some(common::Money {
            yuan: "4400000000.00".into(),
        }),
        reason: String::new(),
        skip_unvalued: false,
    }
}

fn stored(db: &Path) -> anyhow::Result<Vec<String>> {
    [
        "SELECT count(*) FROM settlement_run",
        "SELECT count(*) FROM settlement_statement",
        "SELECT count(*) FROM settlement_case_clearing",
        "SELECT count(*) FROM settlement_request WHERE request_id = 'year-end-2025'",
    ]
    .iter()
    .map(|sql| sqlite(db, sql))
    .collect()
}

#[tokio::test]
async fn a_clearing_killed_half_way_leaves_nothing_and_reruns_to_the_same_result()
-> anyhow::Result<()> {
    // First start creates the schema; then the year is seeded while no server runs.
    let data = Medpay::up_in(tempfile::tempdir()?, CONFIG)?.kill()?;
    seed(&database(data.path()))?;
    let clean = tempfile::tempdir()?;
    std::fs::create_dir_all(clean.path().join("data"))?;
    for suffix in ["", "-wal", "-shm"] {
        let from = data.path().join("data").join(format!("medpay.db{suffix}"));
        if from.exists() {
            std::fs::copy(
                &from,
                clean.path().join("data").join(format!("medpay.db{suffix}")),
            )?;
        }
    }

    let server = Medpay::up_in(data, CONFIG)?;
    let mut client = SettlementRunServiceClient::new(server.channel().await?);
    let running = tokio::spawn(async move { client.run_clearing(clearing()).await });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let data = server.kill()?;
    let interrupted = running.await?;
    anyhow::ensure!(
        interrupted.is_err(),
        "the clearing finished before the kill; make the year bigger"
    );
    assert_eq!(stored(&database(data.path()))?, vec!["0", "0", "0", "0"]);

    let server = Medpay::up_in(data, CONFIG)?;
    let mut client = SettlementRunServiceClient::new(server.channel().await?);
    let rerun = client.run_clearing(clearing()).await?.into_inner();
    assert_eq!(rerun.version, 1);
    assert_eq!(rerun.statements, 200);
    assert!(
        rerun
            .identity
            .as_ref()
            .is_some_and(|identity| identity.holds)
    );
    let data = server.kill()?;
    assert_eq!(
        stored(&database(data.path()))?,
        vec!["1", "200", &CASES.to_string(), "1"]
    );

    let server = Medpay::up_in(clean, CONFIG)?;
    let mut client = SettlementRunServiceClient::new(server.channel().await?);
    let reference = client.run_clearing(clearing()).await?.into_inner();
    assert_eq!(reference.statements_digest, rerun.statements_digest);
    assert_eq!(reference.totals, rerun.totals);
    server.stop()?;
    Ok(())
}
