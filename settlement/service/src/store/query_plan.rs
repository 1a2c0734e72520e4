//! SQLite's plans of the ledger's statements on a freshly migrated database, which has no
//! statistics (as every embedded database has until analyzed): the index each statement reads.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

/// An empty, migrated in-memory SQLite database.
pub(crate) async fn migrated_sqlite() -> DatabaseConnection {
    let db = platform::db::connect("sqlite::memory:")
        .await
        .expect("in-memory sqlite opens");
    crate::Migrator::up(&db, None)
        .await
        .expect("migrations run on sqlite");
    db
}

/// The steps of `statement`'s plan, as `EXPLAIN QUERY PLAN` words them, joined by " ; ".
pub(crate) async fn plan(db: &DatabaseConnection, statement: Statement) -> String {
    let explained = Statement {
        sql: format!("EXPLAIN QUERY PLAN {}", statement.sql),
        ..statement
    };
    db.query_all_raw(explained)
        .await
        .expect("the statement is explained")
        .iter()
        .map(|row| row.try_get_by_index::<String>(3).expect("a plan step"))
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// The columns of index `name`, in order.
pub(crate) async fn index_columns(db: &DatabaseConnection, name: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        DbBackend::Sqlite,
        format!("SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"),
    ))
    .await
    .expect("index info")
    .iter()
    .map(|row| row.try_get_by_index::<String>(0).expect("a column"))
    .collect()
}
