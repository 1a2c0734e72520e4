//! The storage test harness: every store test runs on in-memory SQLite, and also on PostgreSQL
//! when `TEST_DATABASE_URL` is set, each time in a fresh database (a fresh schema on PostgreSQL).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

/// One database a test runs on.
pub struct TestDatabase {
    /// `sqlite` or `postgres`, for messages.
    pub backend: &'static str,
    pub db: DatabaseConnection,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Drops the test's PostgreSQL schema.
    pub async fn finish(self) {
        let _ = self.db.close().await;
        if let Some((url, schema)) = self.postgres
            && let Ok(admin) = crate::db::connect(&url).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await;
            let _ = admin.close().await;
        }
    }
}

static SCHEMA_COUNTER: AtomicU64 = AtomicU64::new(0);

fn fresh_schema_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        SCHEMA_COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Fresh, migrated databases: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set.
///
/// A set but unreachable `TEST_DATABASE_URL` panics: a store test must never pass by skipping the
/// database it was asked to run on.
pub async fn databases<M: MigratorTrait>() -> Vec<TestDatabase> {
    let mut found = Vec::new();
    let sqlite = crate::db::connect("sqlite::memory:")
        .await
        .expect("in-memory sqlite opens");
    M::up(&sqlite, None)
        .await
        .expect("migrations run on sqlite");
    found.push(TestDatabase {
        backend: "sqlite",
        db: sqlite,
        postgres: None,
    });
    if let Ok(url) = std::env::var("TEST_DATABASE_URL")
        && !url.is_empty()
    {
        let schema = fresh_schema_name();
        let admin = crate::db::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL {url} is unreachable: {e}"));
        admin
            .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .expect("test schema is created");
        let _ = admin.close().await;
        let db = crate::db::connect_with_schema(&url, &schema)
            .await
            .expect("postgres connects with the test schema");
        M::up(&db, None).await.expect("migrations run on postgres");
        found.push(TestDatabase {
            backend: "postgres",
            db,
            postgres: Some((url, schema)),
        });
    }
    found
}

/// Defines a `#[tokio::test]` that runs `$body` once per database of [`databases`], with `$db`
/// bound to `&DatabaseConnection`.
#[macro_export]
macro_rules! store_test {
    ($name:ident, $migrator:ty, |$db:ident| $body:block) => {
        #[tokio::test]
        async fn $name() {
            for test_database in $crate::testing::databases::<$migrator>().await {
                eprintln!("{} on {}", stringify!($name), test_database.backend);
                {
                    let $db = &test_database.db;
                    $body
                }
                test_database.finish().await;
            }
        }
    };
}
