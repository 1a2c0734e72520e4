//! Building `tonic::Status` values with `google.rpc` details, the same way in every service.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The domain under which every `ErrorInfo.reason` is published.
pub const ERROR_DOMAIN: &str = "medpay.cn";

/// INVALID_ARGUMENT with one field violation.
pub fn field_violation(field: &str, description: impl Into<String>) -> Status {
    bad_request(vec![(field.to_owned(), description.into())])
}

/// INVALID_ARGUMENT listing every violation found, so a caller fixes all of them at once.
pub fn bad_request(violations: Vec<(String, String)>) -> Status {
    let message = violations
        .iter()
        .map(|(field, description)| format!("{field}: {description}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut details = ErrorDetails::new();
    for (field, description) in violations {
        details.add_bad_request_violation(field, description);
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// A status with a stable machine-readable reason in `ErrorInfo`.
pub fn with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, []);
    Status::with_error_details(code, message, details)
}

/// PERMISSION_DENIED with a reason.
pub fn permission_denied(reason: &str, message: impl Into<String>) -> Status {
    with_reason(Code::PermissionDenied, reason, message)
}

/// The answer of a method whose context has not implemented it yet.
pub fn not_yet(method: &str) -> Status {
    Status::unimplemented(format!("{method} is not available in this release"))
}

/// A storage failure; the detail goes to the log, not to the caller. A database that cannot be
/// reached, or a connection to it lost mid-call, is UNAVAILABLE with the reason
/// `DATABASE_UNAVAILABLE`: nothing was stored or the write's answer was lost, and every write
/// carries a request id, so the caller retries the same request. Any other failure is INTERNAL
/// (`STORAGE_FAILURE`), which a caller must not simply repeat.
pub fn storage_failure(error: impl std::fmt::Display) -> Status {
    let message = error.to_string();
    if is_connection_lost(&message) {
        tracing::warn!(error = %message, "database unavailable");
        return with_reason(
            Code::Unavailable,
            "DATABASE_UNAVAILABLE",
            "the database is unavailable; retry the same request",
        );
    }
    tracing::error!(error = %message, "storage failure");
    with_reason(Code::Internal, "STORAGE_FAILURE", "storage failure")
}

/// How sqlx and sea-orm word a failure to reach the database or a connection lost under a
/// statement. Matched on the text because the stores wrap driver errors in their own types (and
/// some in `DbErr::Custom` strings) before they reach [`storage_failure`].
const CONNECTION_LOST: [&str; 7] = [
    // sqlx::Error::Io: the socket closed or failed, at connect or mid-statement.
    "error communicating with database",
    // sqlx::Error::PoolTimedOut: no connection could be opened or freed in time.
    "pool timed out while waiting for an open connection",
    // sqlx::Error::PoolClosed and WorkerCrashed.
    "attempted to acquire a connection on a closed pool",
    "crashed background worker",
    // sqlx::Error::Tls while connecting.
    "error occurred while attempting to establish a tls connection",
    // sea_orm::DbErr::ConnectionAcquire (pool timeout or connection closed).
    "failed to acquire connection from pool",
    // PostgreSQL's own messages when the server ends the connection (admin shutdown, crash).
    "terminating connection",
];

/// Whether a storage error's text says the database was unreachable or the connection lost.
pub fn is_connection_lost(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    CONNECTION_LOST
        .iter()
        .any(|marker| message.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_request_carries_every_violation() {
        let status = bad_request(vec![
            ("region_code".into(), "must be six digits".into()),
            ("year".into(), "must be positive".into()),
        ]);
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("details").field_violations;
        assert_eq!(violations.len(), 2);
        assert_eq!(violations[1].field, "year");
    }

    #[test]
    fn a_lost_database_connection_is_unavailable_and_other_storage_failures_internal() {
        let lost = [
            "database: Connection Error: error communicating with database: expected to read \
             5 bytes, got 0 bytes at EOF",
            "database: Custom Error: postgres: error communicating with database: Connection \
             reset by peer (os error 104)",
            "Failed to acquire connection from pool: Connection pool timed out",
            "pool timed out while waiting for an open connection",
            "error returned from database: terminating connection due to administrator command",
        ];
        for message in lost {
            let status = storage_failure(message);
            assert_eq!(status.code(), Code::Unavailable, "{message}");
            let details = status.get_error_details();
            assert_eq!(
                details.error_info().map(|info| info.reason.as_str()),
                Some("DATABASE_UNAVAILABLE")
            );
        }
        for message in [
            "error returned from database: duplicate key value violates unique constraint",
            "stored fund_type 9 is invalid",
        ] {
            assert_eq!(storage_failure(message).code(), Code::Internal, "{message}");
        }
    }

    #[test]
    fn reason_is_published() {
        let status = permission_denied("REGION_OUT_OF_SCOPE", "no");
        let details = status.get_error_details();
        assert_eq!(
            details.error_info().expect("info").reason,
            "REGION_OUT_OF_SCOPE"
        );
    }
}
