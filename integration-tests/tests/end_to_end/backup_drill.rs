//! The backup and restore drill of deploy/README.md on PostgreSQL (`TEST_DATABASE_URL`, skipped
//! without it; `.ci/run` sets it): a small year submitted and cleared through the real `medpay
//! up`, the database dumped with pg_dump, dropped, created anew and restored with pg_restore;
//! then the restored server answers the same run, the same statements to the fen, an export
//! whose SHA-256 is the run's statements digest, and a replay of the clearing request that finds
//! the journal entry instead of clearing again.

use std::path::Path;
use std::process::Command;

use integration_tests::{Medpay, list_json, put_and_activate_table, register_institution};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use sha2::{Digest, Sha256};

use super::postgres::{drop_database, fresh_database, pg, psql};
use tonic::transport::Channel;

pub(super) const REGION: &str = "460108";
const HOSPITALS: [&str; 2] = ["H46010801", "H46010802"];
pub(super) const CONFIG: &str = "[telemetry]\nlog_filter = \"warn\"\n";

/// The 2025 employee table of the county: GD15 at 100 points, both hospitals' coefficients.
pub(super) fn table() -> String {
    serde_json::json!({
        "policy": {"region": REGION, "year": 2025, "fund_type": "310", "main_method": "drg"},
        "tables": {
            "region": REGION, "year": 2025, "fund_type": "310",
            "drg": {
                "all_case_mean_cost": "10000",
                "groups": {
                    "GD15": {"mean_cost": "12000", "base_points": "100"},
                    "GD13": {"mean_cost": "15000", "base_points": "150"},
                },
            },
            "coefficients": {
                "drg_by_hospital": {
                    "H46010801": {"all_groups": [{"coefficient": "1.05", "effective_from": "2025-01-01"}]},
                    "H46010802": {"all_groups": [{"coefficient": "0.95", "effective_from": "2025-01-01"}]},
                },
            },
        },
    })
    .to_string()
}

/// Twelve appendectomies a hospital, one a month.
pub(super) async fn submit_year(channel: Channel) -> anyhow::Result<()> {
    let mut intake = SettlementServiceClient::new(channel);
    for hospital in HOSPITALS {
        register_institution(&mut intake, hospital, REGION, "3A").await?;
    }
    let records = HOSPITALS
        .iter()
        .flat_map(|hospital| {
            (1..=12).map(move |month| settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    list_json(
                        hospital,
                        &format!("{hospital}-{month:02}"),
                        &format!("2025-{month:02}-10"),
                        &format!("BA{month:02}"),
                    ),
                )),
            })
        })
        .collect();
    let outcome = intake
        .submit_case_batch(settlement::SubmitCaseBatchRequest {
            request_id: "drill-2025".into(),
            region_code: REGION.into(),
            records,
        })
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (24, 0), "{outcome:?}");
    Ok(())
}

pub(super) fn clearing() -> settlement::RunClearingRequest {
    settlement::RunClearingRequest {
        request_id: "drill-clearing-2025".into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: 310,
        distributable_budget: Some(common::Money {
            yuan: "250000.00".into(),
        }),
        reason: String::new(),
        skip_unvalued: false,
    }
}

/// What a restore must give back: the run, its statements and its CSV export.
#[derive(Debug, PartialEq)]
struct Cleared {
    run: Option<settlement::Run>,
    statements: Vec<settlement::Statement>,
    csv: Vec<u8>,
}

async fn read_back(channel: Channel, run_id: &str) -> anyhow::Result<Cleared> {
    let mut runs = SettlementRunServiceClient::new(channel);
    let run = runs
        .get_run(settlement::GetRunRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
        })
        .await?
        .into_inner()
        .run;
    let statements = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    let csv = runs
        .export_statements(settlement::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            format: settlement::ExportFormat::Csv as i32,
        })
        .await?
        .into_inner()
        .content;
    Ok(Cleared {
        run,
        statements,
        csv,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_cleared_year_reverifies_to_the_fen_after_dump_drop_and_restore() -> anyhow::Result<()> {
    let Ok(test_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let (drill_url, drill_name) = fresh_database(&test_url, "drill")?;

    // The year, cleared on the original database.
    let server = Medpay::up_on(&drill_url, CONFIG)?;
    put_and_activate_table(server.channel().await?, REGION, table()).await?;
    submit_year(server.channel().await?).await?;
    let cleared = SettlementRunServiceClient::new(server.channel().await?)
        .run_clearing(clearing())
        .await?
        .into_inner();
    assert_eq!(cleared.statements, 2);
    assert!(cleared.identity.as_ref().is_some_and(|i| i.holds));
    let before = read_back(server.channel().await?, &cleared.run_id).await?;
    assert_eq!(sha256_hex(&before.csv), cleared.statements_digest);
    assert!(server.stop()?.success());

    // Dump, drop, create, restore.
    let dump_dir = tempfile::tempdir()?;
    let dump = dump_dir.path().join("medpay.dump");
    let dump_arg = dump.display().to_string();
    pg(
        "pg_dump",
        &["--format=custom", "--file", &dump_arg, &drill_url],
    )?;
    psql(&test_url, &["-c", &format!("DROP DATABASE {drill_name}")])?;
    let gone = Command::new("psql")
        .args([drill_url.as_str(), "-c", "SELECT 1"])
        .output()?;
    assert!(!gone.status.success(), "the database was not dropped");
    psql(&test_url, &["-c", &format!("CREATE DATABASE {drill_name}")])?;
    pg(
        "pg_restore",
        &[
            "--exit-on-error",
            "--no-owner",
            "--dbname",
            &drill_url,
            &dump_arg,
        ],
    )?;
    assert!(Path::new(&dump).metadata()?.len() > 0);

    // The restored database: every migration already applied, the same run, statements and
    // export, and the clearing request answered from its journal entry.
    let server = Medpay::up_on(&drill_url, CONFIG)?;
    let after = read_back(server.channel().await?, &cleared.run_id).await?;
    assert_eq!(after, before);
    assert_eq!(sha256_hex(&after.csv), cleared.statements_digest);
    let replayed = SettlementRunServiceClient::new(server.channel().await?)
        .run_clearing(clearing())
        .await?
        .into_inner();
    assert_eq!(replayed, cleared);
    let listed = SettlementRunServiceClient::new(server.channel().await?)
        .list_runs(settlement::ListRunsRequest {
            region_code: REGION.into(),
            kind: "clearing".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .runs;
    assert_eq!(listed.len(), 1, "the replay cleared again: {listed:?}");
    assert!(server.stop()?.success());
    drop_database(&test_url, "drill")?;
    Ok(())
}
