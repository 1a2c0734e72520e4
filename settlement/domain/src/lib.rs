//! The settlement context's domain (DOMAIN.md §1 and §5): the case model (settlement list) and
//! its validation, case identity and versions, the registry of designated institutions, monthly
//! prepayment, year-end clearing, special-case review, statement disputes and shadow settlement.
//!
//! Pure: no I/O, no async, no wire or storage types, no dependency on another context's crate.
//! What settlement needs from grouping, points and budget it declares as ports ([`ports`]), which
//! the service layer implements over gRPC. Money and points are kernel decimals; every formula
//! rounds once, half away from zero, through `kernel::round_money` / `kernel::round_points`.

pub mod canonical;
pub mod case;
pub mod clearing;
pub mod clearing_assembly;
pub mod clock;
pub mod dispute;
pub mod error;
pub mod identity;
pub mod institution;
pub mod payment_mode;
pub mod policy;
pub mod ports;
pub mod prepayment;
pub mod run_summary;
pub mod shadow;
pub mod special_case;
pub mod statement_table;
pub mod validation;
pub mod valued_case;

#[cfg(test)]
mod fixtures;

pub use error::{PortError, SettlementError};
pub use policy::SettlementPolicy;
