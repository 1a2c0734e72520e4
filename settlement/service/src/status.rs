//! The one mapping of the runs' and special cases' errors to gRPC statuses. Storage detail goes
//! to the log only (`platform::status::storage_failure`); every refusal carries the domain's
//! stable reason.

use kernel::RegionCode;
use platform::status::{bad_request, storage_failure, with_reason};
use settlement_domain::SettlementError;
use tonic::{Code, Status};

use crate::budget_peer::{BudgetError, BudgetFailure};
use crate::runs::RunError;
use crate::special_cases::StepError;

/// One code per kind of domain error: a bad figure or a bad step argument is the caller's
/// (`INVALID_ARGUMENT`); a step the state does not allow, or a year the domain cannot settle as
/// it stands, is `FAILED_PRECONDITION`.
pub fn settlement_code(error: &SettlementError) -> Code {
    match error {
        SettlementError::NoPoints
        | SettlementError::Port { .. }
        | SettlementError::IllegalTransition { .. }
        | SettlementError::NotEnoughReviewers { .. }
        | SettlementError::QuotaExceeded { .. }
        | SettlementError::DisputeTransition { .. } => Code::FailedPrecondition,
        SettlementError::NegativeAmount { .. }
        | SettlementError::NegativePoints { .. }
        | SettlementError::ParameterOutOfRange { .. }
        | SettlementError::DuplicateHospital { .. }
        | SettlementError::MissingMonthlyQuota { .. }
        | SettlementError::UnknownHospital { .. }
        | SettlementError::HistoryOutOfOrder { .. }
        | SettlementError::AgreementPeriod { .. }
        | SettlementError::ReviewerNotAssigned { .. }
        | SettlementError::NoMaterial { .. }
        | SettlementError::ObjectionWithoutReason { .. } => Code::InvalidArgument,
    }
}

/// A refusal of the domain, with its reason.
pub fn refused(error: &SettlementError) -> Status {
    with_reason(settlement_code(error), error.reason(), error.to_string())
}

/// Every error of a calculation at once: the first one's code and reason, all messages.
pub fn refused_all(errors: &[SettlementError]) -> Status {
    let Some(first) = errors.first() else {
        return Status::internal("a calculation failed without a reason");
    };
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    with_reason(settlement_code(first), first.reason(), message)
}

/// Whatever the budget context answered, the run stored nothing and may be retried.
pub fn budget(error: BudgetError) -> Status {
    let code = match error.failure {
        BudgetFailure::Refused => Code::FailedPrecondition,
        BudgetFailure::Denied => Code::PermissionDenied,
        BudgetFailure::Unavailable => Code::Unavailable,
    };
    with_reason(code, "BUDGET_PEER", error.to_string())
}

/// A run not stored in `region` or a region inside it, whether it does not exist or belongs to
/// another region.
pub fn run_not_found(run_id: &str, region: RegionCode) -> Status {
    with_reason(
        Code::NotFound,
        "RUN_NOT_FOUND",
        format!("no run {run_id} in region {region}"),
    )
}

/// A special case not stored in `region` or a region inside it.
pub fn special_case_not_found(application_id: &str, region: RegionCode) -> Status {
    with_reason(
        Code::NotFound,
        "SPECIAL_CASE_NOT_FOUND",
        format!("no special case {application_id} in region {region}"),
    )
}

impl From<RunError> for Status {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Store(error) => storage_failure(error),
            RunError::Invalid(violations) => bad_request(violations),
            RunError::Domain(errors) => refused_all(&errors),
            RunError::Precondition { reason, message } => {
                with_reason(Code::FailedPrecondition, reason, message)
            }
            RunError::NotFound(message) => with_reason(Code::NotFound, "NOT_FOUND", message),
            RunError::Conflict(message) => {
                with_reason(Code::Aborted, "RUN_INPUTS_CHANGED", message)
            }
            RunError::Budget(error) => budget(error),
            RunError::Internal(message) => {
                tracing::error!(%message, "run failed");
                with_reason(Code::Internal, "RUN_FAILED", message)
            }
            RunError::Reused(reused) => reused.into(),
        }
    }
}

impl From<StepError> for Status {
    fn from(error: StepError) -> Self {
        match error {
            StepError::Refused(error) => refused(&error),
            StepError::NotFound {
                application_id,
                region,
            } => special_case_not_found(&application_id, region),
            error @ StepError::CaseNotFound { .. } => {
                with_reason(Code::NotFound, "CASE_NOT_FOUND", error.to_string())
            }
            error @ StepError::NotPointsValued { .. } => with_reason(
                Code::FailedPrecondition,
                "NOT_POINTS_VALUED",
                error.to_string(),
            ),
            error @ StepError::Exists { .. } => with_reason(
                Code::AlreadyExists,
                "SPECIAL_CASE_EXISTS",
                error.to_string(),
            ),
            StepError::Reused(reused) => reused.into(),
            StepError::Db(error) => storage_failure(error),
            StepError::Store(error) => storage_failure(error),
            StepError::Internal(message) => storage_failure(message),
        }
    }
}
