//! Opening the database: SQLite (the embedded default, a file under `./data`) or PostgreSQL.

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// The SQLite URL of a database file, created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Page cache of each SQLite connection: 64 MiB (a negative `cache_size` counts KiB).
const SQLITE_CACHE_KIB: i64 = -65_536;
/// How much of an SQLite database file a connection maps into memory, in bytes.
const SQLITE_MMAP_BYTES: u64 = 1 << 30;
/// WAL pages a commit may leave before it copies them into the database file: 65,536 pages of
/// 4 KiB, 256 MiB. At SQLite's default of 1,000 pages (4 MiB) every chunk an upload stores is
/// checkpointed by its own commit, and the index pages each chunk touches are copied again with
/// every chunk; the 200,000-case demo's two uploads took 29.3 s and 35.6 s that way and 25.4 s
/// and 30.6 s this way.
const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 65_536;
/// What a WAL file is cut back to once a checkpoint has emptied it, in bytes: without a limit
/// it keeps the size of its largest run of writes.
const SQLITE_WAL_LIMIT_BYTES: u64 = 64 << 20;

/// Connects to `url` (`sqlite://…`, `sqlite::memory:` or `postgres://…`).
///
/// SQLite runs in WAL mode with a busy timeout so that readers never block the single writer and
/// concurrent writers wait instead of failing. An in-memory SQLite database lives in one
/// connection, so its pool holds exactly one.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite") {
        let in_memory = url.contains(":memory:");
        options.map_sqlx_sqlite_opts(move |opts: SqliteConnectOptions| {
            let opts = opts
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if in_memory {
                opts
            } else {
                // SQLite's default page cache (2 MiB a connection) makes a year's intake,
                // screening and clearing re-read their pages from the file with pread; a larger
                // cache and a memory map read them in place (`medpay demo --cases 20000`).
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .pragma("cache_size", SQLITE_CACHE_KIB.to_string())
                    .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                    .pragma(
                        "wal_autocheckpoint",
                        SQLITE_AUTOCHECKPOINT_PAGES.to_string(),
                    )
                    .pragma("journal_size_limit", SQLITE_WAL_LIMIT_BYTES.to_string())
            }
        });
        options.max_connections(if in_memory { 1 } else { 8 });
        if in_memory {
            // Closing the last connection of an in-memory database drops it.
            options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Begins a transaction that writes. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
/// waiting for another writer under the busy timeout: a deferred transaction that reads first
/// and writes later fails at once (`SQLITE_BUSY`, which the busy timeout does not retry) when
/// another connection committed in between, so two requests writing at the same time would
/// fail instead of taking turns. PostgreSQL begins as usual.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Connects to PostgreSQL with `schema` first on the search path (one schema per context or test).
pub async fn connect_with_schema(url: &str, schema: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(4)
        .set_schema_search_path(schema.to_owned());
    Database::connect(options).await
}

/// A stored value that no longer reads back as its domain type.
#[derive(Debug, thiserror::Error)]
#[error("stored {column} {value} is invalid: {reason}")]
pub struct CorruptRow {
    pub column: &'static str,
    pub value: String,
    pub reason: String,
}

/// The storage integer of a region code.
pub fn region_to_db(region: kernel::RegionCode) -> i32 {
    // Six digits always fit an i32.
    i32::try_from(region.as_u32()).unwrap_or(i32::MAX)
}

/// A region code read back from storage.
pub fn region_from_db(value: i32) -> Result<kernel::RegionCode, CorruptRow> {
    u32::try_from(value)
        .map_err(|e| e.to_string())
        .and_then(|v| kernel::RegionCode::from_u32(v).map_err(|e| e.to_string()))
        .map_err(|reason| CorruptRow {
            column: "region_code",
            value: value.to_string(),
            reason,
        })
}

/// The storage integer of a fund type.
pub fn fund_to_db(fund: kernel::FundType) -> i32 {
    i32::from(fund.code())
}

/// A fund type read back from storage.
pub fn fund_from_db(value: i32) -> Result<kernel::FundType, CorruptRow> {
    u16::try_from(value)
        .map_err(|e| e.to_string())
        .and_then(|v| kernel::FundType::from_code(v).map_err(|e| e.to_string()))
        .map_err(|reason| CorruptRow {
            column: "fund_type",
            value: value.to_string(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Statement};

    async fn pragma(db: &DatabaseConnection, name: &str) -> String {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("PRAGMA {name}"),
            ))
            .await
            .expect("pragma")
            .expect("a row");
        row.try_get_by_index::<i64>(0)
            .map(|n| n.to_string())
            .or_else(|_| row.try_get_by_index::<String>(0))
            .expect("a value")
    }

    fn fresh_folder(what: &str) -> std::path::PathBuf {
        let folder = std::env::temp_dir().join(format!(
            "medpay-db-{what}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&folder).expect("folder");
        folder
    }

    async fn count(conn: &impl ConnectionTrait) -> i64 {
        conn.query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) FROM entry",
        ))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a number")
    }

    async fn add_entry(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        conn.execute_unprepared("INSERT INTO entry DEFAULT VALUES")
            .await
            .map(drop)
    }

    /// Two writers that each read before they write, at the same time, on a database file: the
    /// second waits for the first and reads what it wrote, instead of failing on the write.
    #[tokio::test]
    async fn writers_that_read_first_take_turns_instead_of_failing() {
        let folder = fresh_folder("writers");
        let db = connect(&sqlite_url(&folder.join("medpay.db")))
            .await
            .expect("connect");
        db.execute_unprepared("CREATE TABLE entry (id INTEGER PRIMARY KEY)")
            .await
            .expect("table");
        let first = begin_write(&db).await.expect("first begins");
        assert_eq!(count(&first).await, 0);
        add_entry(&first).await.expect("first writes");
        let second = tokio::spawn({
            let db = db.clone();
            async move {
                let txn = begin_write(&db).await?;
                let seen = count(&txn).await;
                add_entry(&txn).await?;
                txn.commit().await?;
                Ok::<_, DbErr>(seen)
            }
        });
        // The second writer is under way (waiting) while the first still holds its change.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!second.is_finished(), "the second writer did not wait");
        first.commit().await.expect("first commits");
        let seen = second.await.expect("task").expect("second writer");
        assert_eq!(seen, 1, "the second writer read before the first committed");
        assert_eq!(count(&db).await, 2);
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&folder);
    }

    #[tokio::test]
    async fn a_database_file_checkpoints_its_wal_in_large_steps_on_every_connection() {
        let folder = fresh_folder("pragmas");
        let db = connect(&sqlite_url(&folder.join("medpay.db")))
            .await
            .expect("connect");
        // Asked at once, so the pool may answer from two connections.
        let (first, second) = tokio::join!(
            pragma(&db, "wal_autocheckpoint"),
            pragma(&db, "journal_size_limit")
        );
        assert_eq!(first, SQLITE_AUTOCHECKPOINT_PAGES.to_string());
        assert_eq!(second, SQLITE_WAL_LIMIT_BYTES.to_string());
        assert_eq!(pragma(&db, "journal_mode").await, "wal");
        assert_eq!(
            pragma(&db, "cache_size").await,
            SQLITE_CACHE_KIB.to_string()
        );
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&folder);
    }
}
