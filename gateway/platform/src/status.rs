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

/// INTERNAL for a storage failure; the detail goes to the log, not to the caller.
pub fn storage_failure(error: impl std::fmt::Display) -> Status {
    tracing::error!(%error, "storage failure");
    with_reason(Code::Internal, "STORAGE_FAILURE", "storage failure")
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
    fn reason_is_published() {
        let status = permission_denied("REGION_OUT_OF_SCOPE", "no");
        let details = status.get_error_details();
        assert_eq!(
            details.error_info().expect("info").reason,
            "REGION_OUT_OF_SCOPE"
        );
    }
}
