//! The one place where the domain's refusals become gRPC statuses: `ErrorInfo.reason` is the
//! domain's stable reason, and every individual problem is a BadRequest field violation named by
//! the request field that carried it, so a caller fixes all of them in one go.

use budget_domain::BudgetError;
use platform::status::ERROR_DOMAIN;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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
    match inner {
        Some(inner) if !inner.is_empty() => format!("{input}.{inner}"),
        _ => input.to_owned(),
    }
}

impl From<DomainError> for Status {
    fn from(failure: DomainError) -> Self {
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
}
