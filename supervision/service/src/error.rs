//! The supervision service's one boundary to gRPC: every way a request fails, and the one
//! `From<Error> for Status` that gives each kind its code.

use platform::status::{bad_request, permission_denied, storage_failure, with_reason};
use platform::wire::Violation;
use tonic::{Code, Status};

use crate::cases::CaseSourceError;
use crate::store::{StoreError, WriteError};

/// Why a supervision request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request's fields, every violation at once.
    #[error("invalid request: {0:?}")]
    InvalidArgument(Vec<Violation>),
    #[error("{0}")]
    NotFound(String),
    /// The region and year have no scorecard to assess with.
    #[error("region {region} has no scorecard for {year}: put one with PutScorecard")]
    NoScorecard { region: String, year: i32 },
    /// Reading the cases from the settlement context failed.
    #[error(transparent)]
    Cases(#[from] CaseSourceError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A report could not be written as the file asked for.
    #[error("the report could not be written: {0}")]
    Export(String),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(violations) => bad_request(violations),
            Error::NotFound(message) => Status::not_found(message),
            error @ Error::NoScorecard { .. } => {
                with_reason(Code::FailedPrecondition, "NO_SCORECARD", error.to_string())
            }
            Error::Cases(error) => cases_status(error),
            Error::Write(error) => write_status(error),
            Error::Store(error) => storage_failure(error),
            Error::Export(message) => Status::internal(message),
        }
    }
}

fn cases_status(error: CaseSourceError) -> Status {
    match &error {
        CaseSourceError::Denied(_) => {
            with_reason(Code::PermissionDenied, "PEER_DENIED", error.to_string())
        }
        CaseSourceError::Unavailable(_) => {
            with_reason(Code::Unavailable, "PEER_UNAVAILABLE", error.to_string())
        }
        // The ledger holds a list this context cannot screen: nothing the caller can retry away.
        CaseSourceError::Unreadable { .. } => with_reason(
            Code::FailedPrecondition,
            "CASE_UNREADABLE",
            error.to_string(),
        ),
    }
}

fn write_status(error: WriteError) -> Status {
    match error {
        WriteError::Reused(reused) => reused.into(),
        WriteError::NoSuchFinding(id) => {
            Status::not_found(format!("no finding {id} in this region"))
        }
        error @ WriteError::AlreadyDecided(_) => with_reason(
            Code::FailedPrecondition,
            "FINDING_DECIDED",
            error.to_string(),
        ),
        error @ WriteError::Step(_) => with_reason(
            Code::FailedPrecondition,
            "RULE_LEVEL_STEP",
            error.to_string(),
        ),
        error @ WriteError::NotYourFinding { .. } => {
            permission_denied("NOT_YOUR_FINDING", error.to_string())
        }
        error @ WriteError::AlreadyAnswered(_) => with_reason(
            Code::FailedPrecondition,
            "FINDING_ANSWERED",
            error.to_string(),
        ),
        WriteError::NoSuchLead(id) => Status::not_found(format!("no lead {id} in this region")),
        WriteError::Link(error) => {
            let reason = match error {
                supervision_domain::leads::LinkError::OtherHospital { .. } => "LEAD_OTHER_HOSPITAL",
                supervision_domain::leads::LinkError::AlreadyLinked { .. } => "LEAD_ALREADY_LINKED",
            };
            with_reason(Code::FailedPrecondition, reason, error.to_string())
        }
        WriteError::Store(error) => storage_failure(error),
    }
}
