//! The database every bench runs on: a migrated SQLite file in a temporary directory, then a
//! PostgreSQL schema created, migrated and dropped again when `MEDPAY_BENCH_DATABASE_URL` or
//! `TEST_DATABASE_URL` is set. `BENCH_BACKENDS=postgres` leaves SQLite out (a run at full size
//! on one backend takes minutes). `BENCH_PARTITIONED=1` partitions the PostgreSQL ledger by
//! discharge year with deploy/postgres/partition-by-year.sql after migrating, as a province
//! deployment may.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use settlement_service::Migrator;
use settlement_service::store::ledger::{CaseStore, LedgerCase};
use std::time::Instant;

/// Runs `bench` with the backend's name on each database; `name` names the SQLite file and the
/// PostgreSQL schema (with the process id, so concurrent benches never share one).
pub async fn each_backend(name: &str, bench: impl AsyncFn(&str, &DatabaseConnection)) {
    let only_postgres = std::env::var("BENCH_BACKENDS").is_ok_and(|b| b.trim() == "postgres");
    if !only_postgres {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = platform::db::sqlite_url(&dir.path().join(format!("{name}.db")));
        let db = platform::db::connect(&url).await.expect("sqlite");
        Migrator::up(&db, None).await.expect("migrate");
        bench("sqlite", &db).await;
    }

    let postgres = std::env::var("MEDPAY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok();
    if let Some(url) = postgres {
        let schema = format!("bench_{name}_{}", std::process::id());
        let admin = platform::db::connect(&url).await.expect("postgres");
        admin
            .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .expect("schema");
        let db = platform::db::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        if std::env::var("BENCH_PARTITIONED").is_ok_and(|p| p.trim() == "1") {
            partition_by_year(&db).await;
        }
        bench("postgres", &db).await;
        admin
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .expect("drop schema");
    }
}

/// Stores `cases` ledger cases built by `case` from their index, a thousand to a write.
pub async fn seed_ledger(
    db: &DatabaseConnection,
    cases: usize,
    case: impl Fn(usize) -> LedgerCase,
) {
    let started = Instant::now();
    let mut index = 0;
    while index < cases {
        let end = (index + 1_000).min(cases);
        let chunk: Vec<LedgerCase> = (index..end).map(&case).collect();
        CaseStore::store_versions(db, &chunk).await.expect("seed");
        index = end;
    }
    // A deployed ledger has statistics (autovacuum analyzes a table after it grew); a table
    // seeded a moment ago has none, and PostgreSQL then walks the keyset pages through another
    // index, sorting each page out of the rest of the region (750 ms a page at 1,000,000).
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE settlement_case")
            .await
            .expect("analyze");
    }
    println!(
        "  seeded {cases} cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Runs deploy/postgres/partition-by-year.sql on the bench's schema.
async fn partition_by_year(db: &DatabaseConnection) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/postgres/partition-by-year.sql");
    let sql = std::fs::read_to_string(&script).expect("deploy/postgres/partition-by-year.sql");
    db.execute_unprepared(&sql)
        .await
        .expect("partition by year");
    println!("  ledger partitioned by discharge year");
}
