//! The crate's one mapping of errors to gRPC statuses: intake and registry failures, runs and
//! special-case steps, domain refusals and the budget peer. Codes and reasons are chosen here and
//! nowhere else; storage detail goes to the log only (`platform::status::storage_failure`), and
//! every refusal carries the domain's stable reason.

use crate::budget_peer::{BudgetError, BudgetFailure};
use crate::grpc::MAX_STREAM_MESSAGE_BYTES;
use crate::intake::{BrokenStream, IntakeError};
use crate::outpatient_valuer::{PointsError, PointsFailure};
use crate::runs::RunError;
use crate::special_cases::StepError;
use crate::store::institutions::{RegistryError, RegistryRefusal};
use crate::supervision_peer::{SupervisionError, SupervisionFailure};
use kernel::RegionCode;
use platform::status::{bad_request, storage_failure, with_reason};
use settlement_domain::SettlementError;
use tonic::{Code, Status};

impl From<BrokenStream> for Status {
    fn from(broken: BrokenStream) -> Self {
        match broken {
            BrokenStream::TooLarge { length, position } => with_reason(
                Code::ResourceExhausted,
                "MESSAGE_TOO_LARGE",
                format!(
                    "message {position} of the stream is {length} bytes, at most \
                     {MAX_STREAM_MESSAGE_BYTES} are read; records before it were stored, retry \
                     with the same request_id after fixing it"
                ),
            ),
            // tonic's refusal of a message over the decoding limit is what it is: too large.
            BrokenStream::OverDecodingLimit(message) => with_reason(
                Code::ResourceExhausted,
                "MESSAGE_TOO_LARGE",
                format!("{message}; a message of the stream carries one record"),
            ),
            BrokenStream::Failed { code, message } => Status::new(Code::from(code), message),
        }
    }
}

impl From<IntakeError> for Status {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Unavailable(unavailable) => with_reason(
                Code::Unavailable,
                "PEER_UNAVAILABLE",
                format!(
                    "{unavailable}; nothing of the failing chunk was stored, retry with the same request_id"
                ),
            ),
            IntakeError::Contended(position) => with_reason(
                Code::Aborted,
                "CONCURRENT_UPLOAD",
                format!(
                    "cases from record {position} on kept colliding with a concurrent upload; retry with the same request_id"
                ),
            ),
            IntakeError::Input(broken) => broken.into(),
            IntakeError::Reused(reused) => reused.into(),
            IntakeError::RequestIdReused { .. } => with_reason(
                Code::AlreadyExists,
                "REQUEST_ID_REUSED",
                format!(
                    "{error}; nothing of this upload was stored, send it under a new request_id"
                ),
            ),
            other => storage_failure(other),
        }
    }
}

impl From<RegistryError> for Status {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Store(error) => storage_failure(error),
            RegistryError::Refused(refusal) => refusal_status(refusal),
            RegistryError::Reused(reused) => reused.into(),
        }
    }
}

fn refusal_status(refusal: RegistryRefusal) -> Status {
    let message = refusal.to_string();
    match refusal {
        RegistryRefusal::UnknownInstitution { .. } => {
            with_reason(Code::NotFound, "UNKNOWN_INSTITUTION", message)
        }
        RegistryRefusal::CodeTaken { .. } => {
            with_reason(Code::AlreadyExists, "INSTITUTION_CODE_TAKEN", message)
        }
        RegistryRefusal::ReasonRequired { .. } => bad_request(vec![("reason".into(), message)]),
        RegistryRefusal::HistoryOutOfOrder { .. } => {
            with_reason(Code::FailedPrecondition, "HISTORY_OUT_OF_ORDER", message)
        }
    }
}

/// One code per kind of domain error: a bad figure or a bad step argument is the caller's
/// (`INVALID_ARGUMENT`); a step the state does not allow, or a year the domain cannot settle as
/// it stands, is `FAILED_PRECONDITION`.
pub fn settlement_code(error: &SettlementError) -> Code {
    match error {
        SettlementError::NoPoints
        | SettlementError::MissingStandardAmount { .. }
        | SettlementError::NoReimbursementRatio
        | SettlementError::NoHistoryScores { .. }
        | SettlementError::MissingCaseScore { .. }
        | SettlementError::BudgetBelowMoneyModes { .. }
        | SettlementError::Port { .. }
        | SettlementError::IllegalTransition { .. }
        | SettlementError::NotEnoughReviewers { .. }
        | SettlementError::QuotaExceeded { .. }
        | SettlementError::DisputeTransition { .. }
        | SettlementError::TypedViolationDeductions { .. }
        | SettlementError::DeductionFindingsMismatch { .. } => Code::FailedPrecondition,
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

/// Whatever the points context answered, the outpatient run stored nothing and may be retried.
pub fn points(error: PointsError) -> Status {
    let code = match error.failure {
        PointsFailure::Refused => Code::FailedPrecondition,
        PointsFailure::Denied => Code::PermissionDenied,
        PointsFailure::Unavailable => Code::Unavailable,
    };
    with_reason(code, "POINTS_PEER", format!("{error}; nothing was stored"))
}

/// Whatever the supervision context answered, the clearing stored nothing and may be retried;
/// it never runs on without the deductions.
pub fn supervision(error: SupervisionError) -> Status {
    let code = match error.failure {
        SupervisionFailure::Refused => Code::FailedPrecondition,
        SupervisionFailure::Denied => Code::PermissionDenied,
        SupervisionFailure::Unavailable => Code::Unavailable,
    };
    with_reason(
        code,
        "SUPERVISION_PEER",
        format!("violation deductions could not be read: {error}; nothing was stored"),
    )
}

/// A run not stored in `region` or a region inside it, whether it does not exist or belongs to
/// another region.
pub fn budget_point_value_not_found(
    (region, year, fund): (RegionCode, i32, kernel::FundType),
    version: Option<i32>,
) -> Status {
    let which = version.map_or_else(|| "no version".to_owned(), |v| format!("no version {v}"));
    with_reason(
        Code::NotFound,
        "BUDGET_POINT_VALUE_NOT_FOUND",
        format!(
            "{which} of a DIP budget point value is published for region {region}, year {year}, \
             fund {}",
            fund.code()
        ),
    )
}

/// A run not stored in `region` or a region inside it.
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
            RunError::Supervision(error) => supervision(error),
            RunError::Points(error) => points(error),
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
            StepError::Store(error) => storage_failure(error),
            StepError::Internal(message) => storage_failure(message),
        }
    }
}
