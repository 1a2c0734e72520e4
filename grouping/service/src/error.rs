//! Why a request of the grouping service failed, and the one place each kind becomes a gRPC
//! status: handlers return [`Error`] and `?` turns it into a [`Status`] at the boundary.

use platform::status::{bad_request, storage_failure, with_reason};
use platform::wire::Violation;
use tonic::{Code, Status};

use crate::store::StoreError;

/// A failed grouping request, by kind; each kind has one status code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Request fields are missing or malformed: every violation, field by field.
    #[error("invalid request: {0:?}")]
    Invalid(Vec<Violation>),
    /// The input is well formed but refused by a rule (stable reason, message).
    #[error("{1}")]
    Refused(&'static str, String),
    /// The named scheme is not loaded (stable reason, message).
    #[error("{1}")]
    NotFound(&'static str, String),
    /// The registry's state does not allow the request (stable reason, message).
    #[error("{1}")]
    Precondition(&'static str, String),
    /// What the request would create exists already (stable reason, message).
    #[error("{1}")]
    AlreadyExists(&'static str, String),
    /// The registry could not be read or written, or a request id was reused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault of the service itself.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// One violated field.
    pub fn field(field: &str, description: impl Into<String>) -> Self {
        Self::Invalid(vec![(field.to_owned(), description.into())])
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => bad_request(violations),
            Error::Refused(reason, message) => with_reason(Code::InvalidArgument, reason, message),
            Error::NotFound(reason, message) => with_reason(Code::NotFound, reason, message),
            Error::Precondition(reason, message) => {
                with_reason(Code::FailedPrecondition, reason, message)
            }
            Error::AlreadyExists(reason, message) => {
                with_reason(Code::AlreadyExists, reason, message)
            }
            Error::Store(StoreError::Reused(reused)) => reused.into(),
            Error::Store(other) => storage_failure(other),
            Error::Internal(message) => Status::internal(message),
        }
    }
}
