//! deploy/postgres/partition-by-year.sql on PostgreSQL (`TEST_DATABASE_URL`, skipped without it;
//! `.ci/run` sets it): the ledger partitioned by discharge year after `medpay up` migrated it, then
//! the same year submitted and cleared through `medpay up` on it and on an unpartitioned database.
//! The statements must agree to the fen, a correction that moves a case into another year must
//! leave one current version, a version taken twice must still be refused whatever its date, a
//! year's scan must read that year's partition only, and a year added later must take in the cases
//! that arrived before it.

use std::path::PathBuf;
use std::process::Command;

use integration_tests::{Medpay, list_json, put_and_activate_table};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::transport::Channel;

use super::backup_drill::{CONFIG, REGION, clearing, submit_year, table};
use super::postgres::{drop_database, fresh_database, psql};

const HOSPITAL: &str = "H46010801";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/postgres/partition-by-year.sql")
}

/// Submits one list of the hospital; (accepted, corrected, unchanged, rejected).
async fn submit(
    channel: Channel,
    request_id: &str,
    list_id: &str,
    day: &str,
) -> anyhow::Result<(u64, u64, u64, u64)> {
    let outcome = SettlementServiceClient::new(channel)
        .submit_case_batch(settlement::SubmitCaseBatchRequest {
            request_id: request_id.into(),
            region_code: REGION.into(),
            records: vec![settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    list_json(HOSPITAL, list_id, day, "BA-LATE"),
                )),
            }],
        })
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    if outcome.rejected > 0 {
        eprintln!("{list_id} of {day} rejected: {:?}", outcome.rejections);
    }
    Ok((
        outcome.accepted,
        outcome.corrected,
        outcome.unchanged,
        outcome.rejected,
    ))
}

/// What must not depend on how the ledger is stored: a case's versions (number, discharge date,
/// content, fund part) and the clearing's statements without their run id.
#[derive(Debug, PartialEq)]
struct Paid {
    versions: Vec<(i32, Option<medpay_proto::common::v1::Date>, String, String)>,
    statements: Vec<(String, serde_json::Value, Option<String>)>,
}

async fn versions(
    channel: Channel,
    list_id: &str,
) -> anyhow::Result<Vec<(i32, Option<medpay_proto::common::v1::Date>, String, String)>> {
    Ok(SettlementServiceClient::new(channel)
        .get_case(settlement::GetCaseRequest {
            region_code: REGION.into(),
            hospital_code: HOSPITAL.into(),
            list_id: list_id.into(),
        })
        .await?
        .into_inner()
        .versions
        .into_iter()
        .filter_map(|version| version.summary)
        .map(|summary| {
            (
                summary.version,
                summary.discharge_date,
                summary.content_hash,
                summary.fund_amount.map(|m| m.yuan).unwrap_or_default(),
            )
        })
        .collect())
}

/// The 2025 year of the backup drill, plus a case discharged on 2024-12-28 and corrected to
/// 2025-01-03 (its versions in two years' partitions), cleared.
async fn pay_the_year(server: &Medpay) -> anyhow::Result<Paid> {
    put_and_activate_table(server.channel().await?, REGION, table()).await?;
    submit_year(server.channel().await?).await?;
    // The hospital's agreements of the years before, for its late and old cases.
    SettlementServiceClient::new(server.channel().await?)
        .put_agreement(settlement::PutAgreementRequest {
            request_id: format!("agreement-{HOSPITAL}-2021-2024"),
            region_code: REGION.into(),
            institution_code: HOSPITAL.into(),
            agreement: Some(settlement::Agreement {
                agreement_id: "2021-2024".into(),
                valid_from: Some(medpay_proto::common::v1::Date {
                    year: 2021,
                    month: 1,
                    day: 1,
                }),
                valid_to: Some(medpay_proto::common::v1::Date {
                    year: 2024,
                    month: 12,
                    day: 31,
                }),
                status: "active".into(),
            }),
            reason: "earlier agreements".into(),
        })
        .await?;
    assert_eq!(
        submit(server.channel().await?, "late-v1", "LATE-1", "2024-12-28").await?,
        (1, 0, 0, 0)
    );
    assert_eq!(
        submit(server.channel().await?, "late-v2", "LATE-1", "2025-01-03").await?,
        (0, 1, 0, 0)
    );
    let cleared = SettlementRunServiceClient::new(server.channel().await?)
        .run_clearing(clearing())
        .await?
        .into_inner();
    assert!(cleared.identity.as_ref().is_some_and(|i| i.holds));
    let statements = SettlementRunServiceClient::new(server.channel().await?)
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: cleared.run_id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements
        .into_iter()
        .map(|statement| {
            let mut json: serde_json::Value = serde_json::from_str(&statement.statement_json)?;
            if let Some(members) = json.as_object_mut() {
                members.remove("run_id");
            }
            Ok((
                statement.hospital_code,
                json,
                statement.balance.map(|m| m.yuan),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Paid {
        versions: versions(server.channel().await?, "LATE-1").await?,
        statements,
    })
}

/// The rows of each partition of the ledger, `partition|rows` per line, by name.
fn rows_by_partition(url: &str) -> anyhow::Result<String> {
    psql(
        url,
        &[
            "-c",
            "SELECT tableoid::regclass::text, count(*) FROM settlement_case GROUP BY 1 ORDER BY 1",
        ],
    )
}

#[tokio::test]
async fn a_ledger_partitioned_by_year_pays_the_year_as_the_unpartitioned_one() -> anyhow::Result<()>
{
    let Ok(test_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let (plain_url, _) = fresh_database(&test_url, "unpartitioned")?;
    let server = Medpay::up_on(&plain_url, CONFIG)?;
    let unpartitioned = pay_the_year(&server).await?;
    assert!(server.stop()?.success());
    assert_eq!(unpartitioned.statements.len(), 2);
    assert_eq!(unpartitioned.versions.len(), 2);

    // Migrated by `medpay up`, then partitioned; the second run of the script changes nothing.
    let (url, _) = fresh_database(&test_url, "partitioned")?;
    let server = Medpay::up_on(&url, CONFIG)?;
    server.channel().await?;
    assert!(server.stop()?.success());
    let script = script().display().to_string();
    for _ in 0..2 {
        psql(&url, &["-f", &script])?;
    }
    assert_eq!(
        psql(&url, &["-c", "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'settlement_case'::regclass"])?
        .trim(),
        "1"
    );

    let server = Medpay::up_on(&url, CONFIG)?;
    let partitioned = pay_the_year(&server).await?;
    assert_eq!(partitioned, unpartitioned);
    assert_eq!(
        rows_by_partition(&url)?,
        "settlement_case_y2024|1\nsettlement_case_y2025|25\n"
    );
    let current = psql(
        &url,
        &[
            "-c",
            "SELECT version, discharge_date FROM settlement_case \
         WHERE list_id = 'LATE-1' AND is_current",
        ],
    )?;
    assert_eq!(current, "2|20250103\n");

    // A year's scan reads its partition and no other.
    let plan = psql(
        &url,
        &[
            "-c",
            "EXPLAIN SELECT count(*) FROM settlement_case WHERE region_code = 460108 \
         AND discharge_date BETWEEN 20250101 AND 20251231 AND is_current",
        ],
    )?;
    assert!(plan.contains("settlement_case_y2025"), "{plan}");
    assert!(
        !plan.contains("settlement_case_y2024") && !plan.contains("settlement_case_default"),
        "{plan}"
    );

    // A version already taken is refused even with another discharge date (another partition).
    let taken = Command::new("psql")
        .args([
            url.as_str(),
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            "CREATE TEMPORARY TABLE again AS SELECT * FROM settlement_case \
             WHERE list_id = 'LATE-1' AND version = 2; \
             UPDATE again SET discharge_date = 20260110; \
             INSERT INTO settlement_case SELECT * FROM again;",
        ])
        .output()?;
    assert!(!taken.status.success());
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("settlement_case_version_key_pkey"),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );

    // A case of a year without a partition lands in the default one; adding its year moves it,
    // and it is read and corrected as before.
    assert_eq!(
        submit(server.channel().await?, "old-v1", "OLD-2021", "2021-06-10").await?,
        (1, 0, 0, 0)
    );
    assert!(rows_by_partition(&url)?.contains("settlement_case_default|1\n"));
    psql(&url, &["-c", "SELECT settlement_case_add_year(2021)"])?;
    assert_eq!(
        rows_by_partition(&url)?,
        "settlement_case_y2021|1\nsettlement_case_y2024|1\nsettlement_case_y2025|25\n"
    );
    assert_eq!(
        submit(
            server.channel().await?,
            "old-v1-again",
            "OLD-2021",
            "2021-06-10"
        )
        .await?,
        (0, 0, 1, 0)
    );
    assert_eq!(
        submit(server.channel().await?, "old-v2", "OLD-2021", "2021-06-11").await?,
        (0, 1, 0, 0)
    );
    let old = versions(server.channel().await?, "OLD-2021").await?;
    assert_eq!(old.iter().map(|v| v.0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        psql(
            &url,
            &[
                "-c",
                "SELECT count(*), count(*) FILTER (WHERE is_current) FROM settlement_case_y2021"
            ]
        )?,
        "2|1\n"
    );
    assert_eq!(
        psql(
            &url,
            &["-c", "SELECT count(*) FROM settlement_case_version_key"]
        )?,
        psql(&url, &["-c", "SELECT count(*) FROM settlement_case"])?
    );
    assert!(server.stop()?.success());
    for suffix in ["partitioned", "unpartitioned"] {
        drop_database(&test_url, suffix)?;
    }
    Ok(())
}
