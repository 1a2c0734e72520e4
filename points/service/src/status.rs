//! Domain errors as gRPC statuses, in one place: the error's `reason()` is the `ErrorInfo` reason,
//! and errors that name fields become `BadRequest` field violations.

use points_domain::{CalibrationError, PointValueError, PolicyErrors, ValuationError};
use tonic::{Code, Status};

use crate::store::StoreError;

/// Every domain error a points method can meet.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Policy(#[from] PolicyErrors),
    #[error(transparent)]
    Valuation(#[from] ValuationError),
    #[error(transparent)]
    PointValue(#[from] PointValueError),
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
}

impl DomainError {
    pub fn reason(&self) -> &'static str {
        match self {
            DomainError::Policy(e) => e.reason(),
            DomainError::Valuation(e) => e.reason(),
            DomainError::PointValue(e) => e.reason(),
            DomainError::Calibration(e) => e.reason(),
        }
    }
}

/// Every violation of a policy or tables document, each field under `prefix`.
pub fn policy_violations(prefix: &str, errors: &PolicyErrors) -> Vec<(String, String)> {
    errors
        .0
        .iter()
        .map(|error| (format!("{prefix}{}", error.field()), error.to_string()))
        .collect()
}

impl From<DomainError> for Status {
    fn from(error: DomainError) -> Self {
        match &error {
            DomainError::Policy(errors) => {
                platform::status::bad_request(policy_violations("", errors))
            }
            DomainError::PointValue(PointValueError::NegativeAmount { field, .. }) => {
                platform::status::field_violation(field, error.to_string())
            }
            DomainError::PointValue(PointValueError::NoPoints { .. }) => {
                platform::status::field_violation("total_points", error.to_string())
            }
            DomainError::Calibration(
                CalibrationError::WrongYearCount { .. } | CalibrationError::BadWeight { .. },
            ) => platform::status::field_violation("options_json.year_weights", error.to_string()),
            DomainError::Calibration(CalibrationError::BadScale { .. }) => {
                platform::status::field_violation("options_json.scale", error.to_string())
            }
            DomainError::Calibration(CalibrationError::BadTrim { .. }) => {
                platform::status::field_violation("options_json.trim", error.to_string())
            }
            DomainError::Calibration(CalibrationError::NoCases) => {
                platform::status::field_violation("cases_csv", error.to_string())
            }
            // A case that cannot be valued under the table in force: the request is well formed
            // but the table or the case does not allow valuation.
            _ => platform::status::with_reason(
                Code::FailedPrecondition,
                error.reason(),
                error.to_string(),
            ),
        }
    }
}

/// Storage outcomes that are the caller's fault get their own code; the rest are internal.
pub fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::Reused(reused) => reused.into(),
        StoreError::NoSuchVersion { .. } => Status::not_found(error.to_string()),
        StoreError::NotDraft { .. } => platform::status::with_reason(
            Code::FailedPrecondition,
            "NOT_A_DRAFT",
            error.to_string(),
        ),
        StoreError::NotAfterLatest { .. } => platform::status::with_reason(
            Code::FailedPrecondition,
            "ACTIVATION_NOT_AFTER_LATEST",
            error.to_string(),
        ),
        other => platform::status::storage_failure(other),
    }
}
