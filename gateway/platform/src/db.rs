//! Opening the database: SQLite (the embedded default, a file under `./data`) or PostgreSQL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex as StdMutex};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The SQLite URL of a database file, created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Page cache of each SQLite connection: 64 MiB (a negative `cache_size` counts KiB).
const SQLITE_CACHE_KIB: i64 = -65_536;
/// The page size of a database file SQLite creates; one it opens keeps the pages it was created
/// with. A stored inpatient list is some 15 KB with its head and valuation: in 16 KiB pages it
/// is one page, in SQLite's default 4 KiB a page and a chain of three overflow pages that every
/// read of a column after the list walks and every write copies. The 200,000-case demo took
/// 198.6 s with 4 KiB pages and 165.2 s with these.
const SQLITE_PAGE_BYTES: u32 = 16_384;
/// How much of an SQLite database file a connection maps into memory, in bytes: 256 GiB, the
/// most the SQLite this workspace builds maps (`SQLITE_MAX_MMAP_SIZE` in `.cargo/config.toml`;
/// the bundled default is just under 2 GiB). A page beyond the map is read with pread into the
/// connection's page cache, and in WAL mode every commit of another connection empties that
/// cache, so under concurrent writes a read past the map reads the file again while one inside
/// it is a memory access. The map is address space, not memory: the pages read are the kernel's
/// file cache, counted in the process's resident size and given back under memory pressure. At
/// 1 GiB the 200,000-case demo took 165.2 s, at 2 GiB 150.0 s (its file grows to some 12 GB).
const SQLITE_MMAP_BYTES: u64 = 256 << 30;
/// WAL pages a commit may leave before it copies them into the database file: 16,384 pages of
/// 16 KiB, 256 MiB. At SQLite's default of 1,000 pages every chunk an upload stores is
/// checkpointed by its own commit, and the index pages each chunk touches are copied again with
/// every chunk; the 200,000-case demo's two uploads took 29.3 s and 35.6 s that way and 25.4 s
/// and 30.6 s at 256 MiB. (A database of 4 KiB pages checkpoints at 64 MiB.)
const SQLITE_AUTOCHECKPOINT_PAGES: u32 = (256 << 20) / SQLITE_PAGE_BYTES;
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
                opts.page_size(SQLITE_PAGE_BYTES)
                    .journal_mode(SqliteJournalMode::Wal)
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

/// How long a writer waits for its turn at an SQLite database before it fails: longer than any
/// one write takes (a 200,000-case clearing holds the writer for about 11 s), short of leaving a
/// request hanging when a writer never ends.
const SQLITE_WRITE_TURN_TIMEOUT: Duration = Duration::from_secs(120);

/// The write turn of each SQLite database this process opened, by file: writers queue for it
/// first-come, first-served before `BEGIN IMMEDIATE`.
static SQLITE_WRITE_TURNS: LazyLock<StdMutex<HashMap<PathBuf, Arc<Mutex<()>>>>> =
    LazyLock::new(StdMutex::default);

/// A transaction that writes ([`begin_write`]); on SQLite it holds its database's write turn
/// until it commits, rolls back or is dropped.
pub struct WriteTransaction {
    // Declared first so that it ends before the turn passes on.
    transaction: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.transaction
    }
}

impl WriteTransaction {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.transaction.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.transaction.rollback().await
    }
}

/// Begins a transaction that writes.
///
/// On SQLite it first waits for its database's write turn, which this process's writers take in
/// the order they ask, and then takes SQLite's write lock at `BEGIN IMMEDIATE`. Left to SQLite
/// alone, waiting writers poll the lock between growing sleeps (up to 100 ms) under the busy
/// timeout: a writer asking again the moment it committed (one prepayment after another) took
/// the lock ahead of a writer asleep, again and again, until that one's 10 s ran out and its
/// request failed with "database is locked". `IMMEDIATE` itself is for the writer of another
/// process: a deferred transaction that reads first and writes later fails at once
/// (`SQLITE_BUSY`, which the busy timeout does not retry) when another connection committed in
/// between. PostgreSQL begins as usual, writers side by side.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let turn = match sqlite_write_turn(db) {
        Some(turn) => Some(
            tokio::time::timeout(SQLITE_WRITE_TURN_TIMEOUT, turn.lock_owned())
                .await
                .map_err(|_| {
                    DbErr::Custom(format!(
                        "no turn to write within {} s: another writer holds the database",
                        SQLITE_WRITE_TURN_TIMEOUT.as_secs()
                    ))
                })?,
        ),
        None => None,
    };
    let transaction = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    Ok(WriteTransaction {
        transaction,
        _turn: turn,
    })
}

/// The write turn of `db`'s SQLite file; `None` on PostgreSQL.
fn sqlite_write_turn(db: &DatabaseConnection) -> Option<Arc<Mutex<()>>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    // A poisoned registry still holds valid turns: a panic cannot leave a half-inserted entry.
    let mut turns = SQLITE_WRITE_TURNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(turns.entry(file).or_default().clone())
}

/// How often a server copies an SQLite database's WAL into the database file in the
/// background ([`checkpoint_wal_until`]).
pub const WAL_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Copies an SQLite database's WAL into the database file every [`WAL_CHECKPOINT_INTERVAL`]
/// until `stop` resolves; returns at once on PostgreSQL and on a database without a WAL (in
/// memory). Otherwise the commit that crosses `wal_autocheckpoint` does the copy itself, with
/// the file's sync, while it holds the single writer: a 200,000-case upload stopped for over a
/// second every 256 MiB of WAL that way. Passive: it takes no lock a reader or writer waits on,
/// and copies what was committed when it began; the commit at the threshold is left only what
/// arrived since.
pub async fn checkpoint_wal_until(
    db: DatabaseConnection,
    stop: impl std::future::Future<Output = ()>,
) {
    if db.get_database_backend() != DbBackend::Sqlite
        || !matches!(sqlite_text(&db, "PRAGMA journal_mode").await, Ok(Some(mode)) if mode.eq_ignore_ascii_case("wal"))
    {
        return;
    }
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(WAL_CHECKPOINT_INTERVAL) => {}
        }
        if let Err(error) = checkpoint_wal(&db).await {
            tracing::warn!(%error, "the background WAL checkpoint failed; commits checkpoint instead");
        }
    }
}

/// One passive checkpoint: the WAL's frames and how many of them are in the database file.
pub async fn checkpoint_wal(db: &DatabaseConnection) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint answered no row".to_owned()))?;
    let frames = row.try_get_by_index::<i64>(1)?;
    let copied = row.try_get_by_index::<i64>(2)?;
    tracing::debug!(frames, copied, "WAL checkpoint");
    Ok((frames, copied))
}

async fn sqlite_text(db: &DatabaseConnection, sql: &str) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?;
    row.map(|row| row.try_get_by_index::<String>(0)).transpose()
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

    /// A database file with an empty `entry` table, in a fresh folder.
    async fn entries_in_a_file(what: &str) -> (std::path::PathBuf, DatabaseConnection) {
        let folder = fresh_folder(what);
        let db = connect(&sqlite_url(&folder.join("medpay.db")))
            .await
            .expect("connect");
        db.execute_unprepared("CREATE TABLE entry (id INTEGER PRIMARY KEY)")
            .await
            .expect("table");
        (folder, db)
    }

    /// Two writers that each read before they write, at the same time, on a database file: the
    /// second waits for the first and reads what it wrote, instead of failing on the write.
    #[tokio::test]
    async fn writers_that_read_first_take_turns_instead_of_failing() {
        let (folder, db) = entries_in_a_file("writers").await;
        let first = begin_write(&db).await.expect("first begins");
        assert_eq!(count(&*first).await, 0);
        add_entry(&*first).await.expect("first writes");
        let second = tokio::spawn({
            let db = db.clone();
            async move {
                let txn = begin_write(&db).await?;
                let seen = count(&*txn).await;
                add_entry(&*txn).await?;
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

    /// A writer that begins again the moment it commits does not keep another writer out: the
    /// other one, asking while the first writes, writes next. Left to SQLite's busy polling it
    /// would wait out the first writer's whole run (or its busy timeout).
    #[tokio::test]
    async fn writers_take_their_turns_in_the_order_they_ask() {
        let (folder, db) = entries_in_a_file("turns").await;
        const ROUNDS: i64 = 40;
        let (first_began, began) = tokio::sync::oneshot::channel();
        let busy = tokio::spawn({
            let db = db.clone();
            async move {
                let mut first_began = Some(first_began);
                for _ in 0..ROUNDS {
                    let txn = begin_write(&db).await?;
                    if let Some(began) = first_began.take() {
                        let _ = began.send(());
                    }
                    add_entry(&*txn).await?;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    txn.commit().await?;
                }
                Ok::<_, DbErr>(())
            }
        });
        began.await.expect("the busy writer began");
        let other = begin_write(&db).await.expect("the other writer begins");
        let entries_before = count(&*other).await;
        add_entry(&*other).await.expect("the other writer writes");
        other.commit().await.expect("the other writer commits");
        busy.await.expect("task").expect("busy writer");
        assert!(
            entries_before <= 2,
            "the other writer waited for {entries_before} of the busy writer's {ROUNDS} writes"
        );
        assert_eq!(count(&db).await, ROUNDS + 1);
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&folder);
    }

    /// Committed pages reach the database file within a few intervals of the background
    /// checkpointer, far below `wal_autocheckpoint`; it ends when told to stop.
    #[tokio::test]
    async fn the_background_checkpointer_copies_committed_pages_into_the_file_until_stopped() {
        let folder = fresh_folder("checkpointer");
        let file = folder.join("medpay.db");
        let db = connect(&sqlite_url(&file)).await.expect("connect");
        db.execute_unprepared("CREATE TABLE entry (id INTEGER PRIMARY KEY, body BLOB)")
            .await
            .expect("table");
        db.execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO entry (body) SELECT randomblob(1024) FROM n",
        )
        .await
        .expect("rows");
        let file_size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(
            file_size() < 1 << 20,
            "the rows reached the file before any checkpoint: {} bytes",
            file_size()
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let checkpointer = tokio::spawn(checkpoint_wal_until(db.clone(), async {
            let _ = stopped.await;
        }));
        let waited = std::time::Instant::now();
        while file_size() < 2 << 20 && waited.elapsed() < WAL_CHECKPOINT_INTERVAL * 20 {
            tokio::time::sleep(WAL_CHECKPOINT_INTERVAL / 5).await;
        }
        assert!(file_size() >= 2 << 20, "{} bytes in the file", file_size());
        assert!(
            !checkpointer.is_finished(),
            "the checkpointer ended by itself"
        );
        stop.send(()).expect("the checkpointer listens");
        tokio::time::timeout(WAL_CHECKPOINT_INTERVAL * 4, checkpointer)
            .await
            .expect("the checkpointer stops when told")
            .expect("task");
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&folder);
    }

    #[tokio::test]
    async fn a_database_in_memory_has_no_checkpointer() {
        let db = connect("sqlite::memory:").await.expect("connect");
        tokio::time::timeout(
            WAL_CHECKPOINT_INTERVAL,
            checkpoint_wal_until(db, std::future::pending()),
        )
        .await
        .expect("returns at once without a WAL");
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
        assert_eq!(
            pragma(&db, "page_size").await,
            SQLITE_PAGE_BYTES.to_string()
        );
        // SQLite answers the map it grants, which is at most its compiled maximum.
        assert_eq!(
            pragma(&db, "mmap_size").await,
            SQLITE_MMAP_BYTES.to_string()
        );
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&folder);
    }

    #[tokio::test]
    async fn a_database_created_with_other_pages_keeps_them_and_its_rows() {
        let folder = fresh_folder("pages");
        let url = sqlite_url(&folder.join("medpay.db"));
        let older = Database::connect(url.as_str()).await.expect("connect");
        for sql in [
            "PRAGMA page_size = 4096",
            "PRAGMA journal_mode = WAL",
            "CREATE TABLE kept (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
            "INSERT INTO kept (id, doc) VALUES (1, printf('%.*c', 20000, 'x'))",
        ] {
            older
                .execute_unprepared(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        older.close().await.expect("close");

        let db = connect(&url).await.expect("connect");
        assert_eq!(pragma(&db, "page_size").await, "4096");
        assert_eq!(pragma(&db, "journal_mode").await, "wal");
        assert_eq!(
            sqlite_text(&db, "SELECT doc FROM kept WHERE id = 1")
                .await
                .expect("read")
                .map(|doc| doc.len()),
            Some(20_000)
        );
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&folder);
    }
}
