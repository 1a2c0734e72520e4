//! Opening the database: SQLite (the embedded default, a file under `./data`) or PostgreSQL.

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The SQLite URL of a database file, created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

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
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
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

/// Connects to PostgreSQL with `schema` first on the search path (one schema per context or test).
pub async fn connect_with_schema(url: &str, schema: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(4)
        .set_schema_search_path(schema.to_owned());
    Database::connect(options).await
}
