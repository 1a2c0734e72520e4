//! The budget service's one boundary to gRPC: every way a request fails, and the one
//! `From<Error> for Status` that gives each kind its code. A domain refusal's `ErrorInfo.reason`
//! is the domain's stable reason, and every individual problem is a BadRequest field violation
//! named by the request field that carried it, so a caller fixes all of them in one go.

use budget_domain::BudgetError;
use kernel::{FundType, RegionCode};
use platform::status::{ERROR_DOMAIN, bad_request, storage_failure, with_reason};
use platform::wire::Violation;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::store::StoreError;

/// Why a budget request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request's fields, every violation at once.
    #[error("invalid request: {0:?}")]
    InvalidArgument(Vec<Violation>),
    /// A domain refusal of one input of the request.
    #[error("{}", .0.error)]
    Domain(DomainError),
    /// Nothing is stored under what the request names.
    #[error("{0}")]
    NotFound(String),
    /// The request needs something stored first (a budget whose reserve pays the sharing).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A first version of a budget that already has one.
    #[error("region {region} already has a {year} budget for fund {fund}; adjust it")]
    BudgetExists {
        region: RegionCode,
        year: i32,
        fund: FundType,
    },
    /// Another adjustment wrote the version this one computed.
    #[error("version {version} was written by another adjustment; read the latest and retry")]
    ConcurrentAdjustment { version: i32 },
    #[error("too many versions")]
    TooManyVersions,
    /// A storage outcome: a reused request id is the caller's, the rest are internal.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored data that cannot be read back, or an answer that cannot be written.
    #[error("storage failure: {0}")]
    Storage(String),
}

impl Error {
    /// A domain refusal of the input carried in request field `input`.
    pub fn domain(input: &'static str) -> impl FnOnce(BudgetError) -> Error {
        move |error| Error::Domain(DomainError::new(input, error))
    }

    /// A storage failure; the detail goes to the log, not to the caller.
    pub fn storage(detail: impl std::fmt::Display) -> Self {
        Error::Storage(detail.to_string())
    }
}

impl From<DomainError> for Error {
    fn from(error: DomainError) -> Self {
        Error::Domain(error)
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(violations) => bad_request(violations),
            Error::Domain(error) => domain_status(error),
            Error::NotFound(message) => Status::not_found(message),
            Error::FailedPrecondition(message) => Status::failed_precondition(message),
            error @ Error::BudgetExists { .. } => {
                with_reason(Code::AlreadyExists, "BUDGET_EXISTS", error.to_string())
            }
            error @ Error::ConcurrentAdjustment { .. } => {
                with_reason(Code::Aborted, "CONCURRENT_ADJUSTMENT", error.to_string())
            }
            error @ Error::TooManyVersions => {
                with_reason(Code::OutOfRange, "TOO_MANY_VERSIONS", error.to_string())
            }
            Error::Store(StoreError::Reused(reused)) => reused.into(),
            Error::Store(other) => storage_failure(other),
            Error::Storage(detail) => storage_failure(detail),
        }
    }
}

/// A domain refusal of the input carried in request field `input` (e.g. `document_json`).
#[derive(Debug)]
pub struct DomainError {
    pub input: &'static str,
    pub error: BudgetError,
}

impl DomainError {
    pub fn new(input: &'static str, error: BudgetError) -> Self {
        Self { input, error }
    }
}

/// The path of the field a single problem is about, under the request field that carried it.
fn field_of(input: &str, problem: &BudgetError) -> String {
    let inner = match problem {
        BudgetError::OutOfRange { field, .. }
        | BudgetError::InvalidPolicy { field, .. }
        | BudgetError::BandsNotSorted { field, .. }
        | BudgetError::BandsNotContiguous { field, .. } => Some(field.clone()),
        BudgetError::NegativeAmount { field, record, .. }
        | BudgetError::NotPositive { field, record, .. } => Some(format!("{record}.{field}")),
        BudgetError::DuplicateRecord { record }
        | BudgetError::HistoryLengthMismatch { record, .. }
        | BudgetError::EmptyAlliance { record }
        | BudgetError::DeductionExceedsClaim { record, .. }
        | BudgetError::MonthOutsideYear { record, .. }
        | BudgetError::MixedFunds { record, .. } => Some(record.clone()),
        BudgetError::AdjustmentChangesKey { field, .. } => Some((*field).to_owned()),
        BudgetError::NegativeBudget { .. } => Some("basis".to_owned()),
        BudgetError::SharesDoNotAddUp { .. }
        | BudgetError::AmountsDoNotAddUp { .. }
        | BudgetError::DuplicateBlock { .. } => Some("split".to_owned()),
        // The reason is a request field of its own, not part of the document.
        BudgetError::AdjustmentReasonRequired => return "reason".to_owned(),
        _ => None,
    };
    let inner = match (input, inner) {
        (_, None) => return input.to_owned(),
        (_, Some(inner)) if inner.is_empty() => return input.to_owned(),
        ("document", Some(inner)) => crate::typed::document_field(&inner, true),
        ("document_json", Some(inner)) => crate::typed::document_field(&inner, false),
        ("policy", Some(inner)) => crate::typed::policy_field(&inner),
        (_, Some(inner)) => inner,
    };
    format!("{input}.{inner}")
}

fn domain_status(failure: DomainError) -> Status {
    let DomainError { input, error } = failure;
    let code = match error {
        BudgetError::NoSuchVersion { .. } | BudgetError::EmptyHistory => Code::NotFound,
        BudgetError::NoCapsInRegionalPointMode => Code::FailedPrecondition,
        _ => Code::InvalidArgument,
    };
    let mut details = ErrorDetails::with_error_info(error.reason(), ERROR_DOMAIN, []);
    if code == Code::InvalidArgument {
        for problem in error.problems() {
            details.add_bad_request_violation(field_of(input, problem), problem.to_string());
        }
    }
    Status::with_error_details(code, error.to_string(), details)
}
