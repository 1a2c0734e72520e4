//! `deploy/postgres/citus.sql`, the distribution of a national deployment by pooling region, run on
//! a database `medpay migrate` has just built, against stand-ins for Citus's functions that make
//! Citus's own checks (`citus_checks.sql`): the distribution column in every primary key and
//! unique index, never NULL, one type within a co-location group. Every table must be placed by
//! the plan or listed in it as pending, and a pending table must still fail those checks.
//! PostgreSQL only (`TEST_DATABASE_URL`); skipped without it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use integration_tests::medpay_binary;

use super::postgres::{fresh_database, psql};

fn repository_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_table_is_placed_by_the_citus_plan_or_pending_with_a_reason() -> anyhow::Result<()> {
    let Ok(test_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let (url, name) = fresh_database(&test_url, "citus")?;

    let migrated = Command::new(medpay_binary()?)
        .arg("migrate")
        .env("MEDPAY__DATABASE__URL", &url)
        .output()?;
    anyhow::ensure!(
        migrated.status.success(),
        "medpay migrate failed: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let checks = repository_file("integration-tests/tests/end_to_end/citus_checks.sql");
    let plan_path = repository_file("deploy/postgres/citus.sql");
    let tables = lines(&psql(
        &url,
        &[
            "-c",
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        ],
    )?);
    psql(&url, &["-f", &checks.to_string_lossy()])?;
    psql(&url, &["-f", &plan_path.to_string_lossy()])?;

    let placed = lines(&psql(
        &url,
        &["-c", "SELECT table_name FROM citus_placement"],
    )?);
    let plan = std::fs::read_to_string(&plan_path)?;
    let pending: BTreeSet<String> = plan
        .lines()
        .filter_map(|line| line.strip_prefix("-- pending: "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect();

    let both: Vec<_> = placed.intersection(&pending).collect();
    assert!(both.is_empty(), "placed and also pending: {both:?}");
    let unplaced: Vec<_> = tables
        .iter()
        .filter(|table| !placed.contains(*table) && !pending.contains(*table))
        .collect();
    assert!(
        unplaced.is_empty(),
        "tables the plan neither places nor lists as pending: {unplaced:?}"
    );
    let unknown: Vec<_> = placed
        .union(&pending)
        .filter(|t| !tables.contains(*t))
        .collect();
    assert!(
        unknown.is_empty(),
        "the plan names tables that do not exist: {unknown:?}"
    );

    for table in &pending {
        let refusal = psql(
            &url,
            &[
                "-c",
                &format!("SELECT coalesce(citus_refusal('{table}', 'region_code'), '')"),
            ],
        )?;
        assert!(
            !refusal.trim().is_empty(),
            "{table} is listed as pending but Citus would distribute it by region_code now: move it into the plan"
        );
    }

    // The region's ledger and runs share one co-location group, so a clearing stays on one node.
    let groups = lines(&psql(
        &url,
        &[
            "-c",
            "SELECT DISTINCT colocation_group FROM citus_placement \
             WHERE distribution_column = 'region_code'",
        ],
    )?);
    assert_eq!(groups, BTreeSet::from(["settlement_case".to_owned()]));

    psql(&test_url, &["-c", &format!("DROP DATABASE {name}")])?;
    Ok(())
}
