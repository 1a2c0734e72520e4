//! The storage test harness: every store test runs on in-memory SQLite, and also on PostgreSQL
//! when `TEST_DATABASE_URL` is set, each time in a fresh database (a fresh schema on PostgreSQL).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use tonic_types::StatusExt;

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

/// A fresh, migrated in-memory SQLite database (for tests that exercise a service, not its
/// storage: those use [`databases`]).
pub async fn sqlite<M: MigratorTrait>() -> DatabaseConnection {
    let db = crate::db::connect("sqlite::memory:")
        .await
        .expect("in-memory sqlite opens");
    M::up(&db, None).await.expect("migrations run on sqlite");
    db
}

/// Serves `routes` on a fresh loopback port for the rest of the test and returns a channel
/// connected to it: the real transport, as a caller reaches a service.
pub async fn serve(routes: tonic::service::Routes) -> tonic::transport::Channel {
    serve_at(routes).await.1
}

/// [`serve`], also giving the address (for tests that open their own connections).
pub async fn serve_at(
    routes: tonic::service::Routes,
) -> (std::net::SocketAddr, tonic::transport::Channel) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    // Nagle's algorithm off on accepted connections, as the real server has it: otherwise a small
    // answer waits for the caller's delayed ACK and a benchmark measures the kernel's 40 ms timer.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(incoming),
    );
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .expect("loopback uri")
        .connect()
        .await
        .expect("connect to the test server");
    (address, channel)
}

/// A principal as the edge would set it: `caller` acting in `scope` with `roles`.
pub fn principal(caller: &str, scope: &str, roles: &[&str]) -> kernel::Principal {
    kernel::Principal {
        caller_id: caller.to_owned(),
        scopes: vec![scope.parse().expect("test region code")],
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        institution: None,
    }
}

/// `message` sent as `principal` (the verified principal header the edge sets).
pub fn as_principal<T>(message: T, principal: &kernel::Principal) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    crate::set_principal(request.metadata_mut(), principal).expect("ascii principal");
    request
}

/// `message` sent by `caller` acting in `scope` with `roles`.
pub fn as_caller<T>(message: T, caller: &str, scope: &str, roles: &[&str]) -> tonic::Request<T> {
    as_principal(message, &principal(caller, scope, roles))
}

/// `message` sent by `{caller}-{scope}` acting in `scope` with `role` alone: the caller id names
/// the region, so the audit entries of callers in different regions tell them apart.
pub fn with_role<T>(message: T, caller: &str, scope: &str, role: &str) -> tonic::Request<T> {
    as_caller(message, &format!("{caller}-{scope}"), scope, &[role])
}

/// The fields a refusal's `BadRequest` names, in its order (none when it has no such detail).
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|violation| violation.field)
                .collect()
        })
        .unwrap_or_default()
}

/// The `ErrorInfo` reason of a refusal, empty when it has none.
pub fn error_reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// Asserts that `status` refuses `request_id`, first used by `method` with another body, as the
/// journal does: ALREADY_EXISTS, reason `REQUEST_ID_REUSED`, a message naming both.
#[track_caller]
pub fn assert_request_id_reused(status: &tonic::Status, request_id: &str, method: &str) {
    assert_eq!(status.code(), tonic::Code::AlreadyExists, "{status:?}");
    assert_eq!(error_reason(status), "REQUEST_ID_REUSED", "{status:?}");
    assert!(
        status.message().contains(request_id) && status.message().contains(method),
        "{}",
        status.message()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::ServingStatus;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    #[tokio::test]
    async fn a_served_route_answers_over_the_socket() {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("medpay.test", ServingStatus::NotServing)
            .await;
        let channel = serve(tonic::service::Routes::new(health)).await;
        let answer = HealthClient::new(channel)
            .check(as_caller(
                HealthCheckRequest {
                    service: "medpay.test".into(),
                },
                "tester",
                "460100",
                &["read"],
            ))
            .await
            .expect("health answers");
        assert_eq!(answer.into_inner().status, ServingStatus::NotServing as i32);
    }
}
