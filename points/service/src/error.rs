//! The points service's one boundary to gRPC: every way a request or a case fails, and the one
//! `From<Error> for Status` that gives each kind its code. A domain error's `reason()` is the
//! `ErrorInfo` reason, and errors that name fields become `BadRequest` field violations.

use platform::status::{bad_request, field_violation, storage_failure, with_reason};
use platform::wire::Violation;
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

/// Why a points request, or one case of it, failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request's fields, every violation at once.
    #[error("invalid request: {0:?}")]
    InvalidArgument(Vec<Violation>),
    /// A domain rule refused the request's input or the case.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No table version values the case on its discharge date.
    #[error("{0}")]
    NoTableInForce(String),
    /// Nothing is stored under what the request names.
    #[error("{0}")]
    NotFound(String),
    /// A storage outcome: the caller's fault for some, internal for the rest.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored data that cannot be read back, or an answer that cannot be written.
    #[error("storage failure: {0}")]
    Storage(String),
}

impl Error {
    /// One violation of `field`.
    pub fn field(field: &str, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![(field.to_owned(), description.into())])
    }

    /// A storage failure; the detail goes to the log, not to the caller.
    pub fn storage(detail: impl std::fmt::Display) -> Self {
        Error::Storage(detail.to_string())
    }
}

impl From<PolicyErrors> for Error {
    fn from(error: PolicyErrors) -> Self {
        Error::Domain(error.into())
    }
}

impl From<ValuationError> for Error {
    fn from(error: ValuationError) -> Self {
        Error::Domain(error.into())
    }
}

impl From<PointValueError> for Error {
    fn from(error: PointValueError) -> Self {
        Error::Domain(error.into())
    }
}

impl From<CalibrationError> for Error {
    fn from(error: CalibrationError) -> Self {
        Error::Domain(error.into())
    }
}

/// Every violation of a policy or tables document, each field under `prefix`.
pub fn policy_violations(prefix: &str, errors: &PolicyErrors) -> Vec<Violation> {
    errors
        .0
        .iter()
        .map(|error| (format!("{prefix}{}", error.field()), error.to_string()))
        .collect()
}

fn domain_status(error: DomainError) -> Status {
    match &error {
        DomainError::Policy(errors) => bad_request(policy_violations("", errors)),
        DomainError::PointValue(PointValueError::NegativeAmount { field, .. }) => {
            field_violation(field, error.to_string())
        }
        DomainError::PointValue(PointValueError::NoPoints { .. }) => {
            field_violation("total_points", error.to_string())
        }
        DomainError::Calibration(
            CalibrationError::WrongYearCount { .. } | CalibrationError::BadWeight { .. },
        ) => field_violation("options_json.year_weights", error.to_string()),
        DomainError::Calibration(CalibrationError::BadScale { .. }) => {
            field_violation("options_json.scale", error.to_string())
        }
        DomainError::Calibration(CalibrationError::BadTrim { .. }) => {
            field_violation("options_json.trim", error.to_string())
        }
        DomainError::Calibration(CalibrationError::NoCases) => {
            field_violation("cases_csv", error.to_string())
        }
        // A case that cannot be valued under the table in force: the request is well formed
        // but the table or the case does not allow valuation.
        _ => with_reason(Code::FailedPrecondition, error.reason(), error.to_string()),
    }
}

/// Storage outcomes that are the caller's fault get their own code; the rest are internal.
fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::Reused(reused) => reused.into(),
        StoreError::NoSuchVersion { .. } => Status::not_found(error.to_string()),
        StoreError::NotDraft { .. } => {
            with_reason(Code::FailedPrecondition, "NOT_A_DRAFT", error.to_string())
        }
        StoreError::NotAfterLatest { .. } => with_reason(
            Code::FailedPrecondition,
            "ACTIVATION_NOT_AFTER_LATEST",
            error.to_string(),
        ),
        other => storage_failure(other),
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(violations) => bad_request(violations),
            Error::Domain(error) => domain_status(error),
            Error::NoTableInForce(message) => {
                with_reason(Code::FailedPrecondition, "NO_TABLE_IN_FORCE", message)
            }
            Error::NotFound(message) => Status::not_found(message),
            Error::Store(error) => store_status(error),
            Error::Storage(detail) => storage_failure(detail),
        }
    }
}

/// Why one case could not be valued.
#[derive(Debug)]
pub enum CaseError {
    /// The case itself: its fields, no table in force on its discharge date, or a table that does
    /// not allow it. Reported for this case only.
    Case(Error),
    /// The service failed (storage): no later case would fare better.
    Service(Error),
}

impl From<CaseError> for Status {
    fn from(error: CaseError) -> Self {
        match error {
            CaseError::Case(error) | CaseError::Service(error) => error.into(),
        }
    }
}
