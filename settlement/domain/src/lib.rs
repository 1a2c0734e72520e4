//! The settlement context's domain (DOMAIN.md §1 and §5): the case model (settlement list) and
//! its validation, case keys and versions, the admission of records at intake, the flat CSV
//! export format, the ledger's kinds and statuses, the registry of designated institutions, monthly
//! prepayment, year-end clearing, the rules across a person's stays (readmission), special-case review, statement disputes and shadow settlement.
//!
//! Pure: no I/O, no async runtime, no wire or storage types, no dependency on another context's
//! crate. What settlement needs from grouping, points and budget it declares as ports
//! ([`ports`]), which the service layer implements over gRPC (a port that reaches a peer is
//! declared async; the domain never awaits it). Money and points are kernel decimals; every formula
//! rounds once, half away from zero, through `kernel::round_money` / `kernel::round_points`.

pub mod admission;
pub mod alliance_quota;
pub mod assessment_scores;
pub mod budget_point_value;
pub mod canonical;
pub mod case;
pub mod case_key;
pub mod clearing;
pub mod clearing_assembly;
pub mod clock;
pub mod csv_import;
pub mod dispute;
pub mod episode;
pub mod error;
pub mod institution;
pub mod intake_warnings;
pub mod ledger;
pub mod list_head;
pub mod outpatient_clearing;
pub mod outpatient_prepayment;
pub mod payment_mode;
pub mod policy;
pub mod ports;
pub mod prepayment;
pub mod readmission;
pub mod registry;
pub mod run_summary;
pub mod shadow;
pub mod special_case;
pub mod statement_table;
pub mod validation;
pub mod valuation_record;
pub mod valued_case;
pub mod violation_deductions;

#[cfg(test)]
mod fixtures;

pub use error::{PortError, SettlementError};
pub use policy::SettlementPolicy;
