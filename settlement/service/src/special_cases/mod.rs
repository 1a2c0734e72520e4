//! Special-case review (特例单议): the expert registry, applications within the quota, reviewer
//! draws, decisions, appeals and binding into year-end clearing.

pub mod grpc;
pub mod store;
mod wire;

use kernel::RegionCode;
use settlement_domain::SettlementError;

use crate::store::journal::RequestIdReused;
use crate::store::ledger::StoreError;

pub use grpc::SpecialCaseApi;
pub use store::{BoundDecision, bound_decisions};

/// Why a step of the review could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The domain's workflow refused the step.
    #[error(transparent)]
    Refused(#[from] SettlementError),
    #[error("no special case {application_id} in region {region}")]
    NotFound {
        application_id: String,
        region: RegionCode,
    },
    #[error("no stored case {hospital_code}/{list_id} in region {region}")]
    CaseNotFound {
        hospital_code: String,
        list_id: String,
        region: RegionCode,
    },
    #[error(
        "case {hospital_code}/{list_id} is paid {payment_mode:?}, not by DRG or DIP points; only \
         points-valued cases are reviewed"
    )]
    NotPointsValued {
        hospital_code: String,
        list_id: String,
        payment_mode: String,
    },
    #[error("case {hospital_code}/{list_id} already has special case {application_id}")]
    Exists {
        hospital_code: String,
        list_id: String,
        application_id: String,
    },
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}
