//! The gRPC status of every intake and registry failure: the one place their codes and reasons
//! are chosen. Storage detail goes to the log only.

use platform::status::{bad_request, storage_failure, with_reason};
use tonic::{Code, Status};

use crate::grpc::MAX_STREAM_MESSAGE_BYTES;
use crate::institutions::{RegistryError, RegistryRefusal};
use crate::intake::{BrokenStream, IntakeError};

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
