//! The supervision context's domain: violation screening (违规筛查) and monitoring indicators
//! (DOMAIN.md §6).
//!
//! - [`catalogue`]: the rule library, ids 1–23 with names, levels and the tables each reads;
//! - [`parameters`]: the defaults of DOMAIN.md §6 and the per-region-and-year sets over them;
//! - [`tables`]: the item, pair, package, substitution and group-mean tables, read from TSV;
//! - [`model`]: the inpatient lists and ambulatory settlements screening reads;
//! - [`screening`]: the run, [`rules`] the checks, [`finding`] what they return;
//! - [`indicators`]: CMI, RIV and the other monitoring figures;
//! - [`monitoring`]: the monitoring tables over a stream of lists, one pass, per row key;
//! - [`reports`]: the quarterly analysis and annual report of attachment 3 (one pass over the
//!   period's lists, each rule's findings), as tables, CSV and a self-contained HTML page;
//! - [`review`]: reviewers' decisions and the weak → general → strong lifecycle;
//! - [`lifecycle`]: level changes and rule parameters a region records over the configured policy,
//!   and [`rule_parameters`]: which parameters each rule reads, read and checked from JSON;
//! - [`deductions`]: confirmed findings as each hospital's violation deductions for clearing;
//! - [`assessment`]: the scorecard of a region-year and each hospital's score with its breakdown,
//!   [`credit`]: credit grades from the score and confirmed findings, [`leads`]: complaints and
//!   reports linked to findings.
//!
//! Pure: no I/O, no clock, no wire or storage types. Supervision reads the ledger through a
//! contract in its service; nothing here names another context.

pub mod assessment;
pub mod catalogue;
pub mod credit;
pub mod deductions;
pub mod finding;
pub mod indicators;
pub mod leads;
pub mod lifecycle;
pub mod model;
pub mod monitoring;
pub mod overlap;
pub mod parameters;
pub mod reports;
pub mod review;
pub mod rule_parameters;
pub mod rules;
pub mod screening;
mod stats;
pub mod tables;
#[cfg(test)]
mod testkit;

pub use catalogue::{RuleId, RuleLevel, TableKind};
pub use deductions::{
    DeductedFinding, DeductionScope, HospitalDeduction, ReviewedFinding, deduction_amount,
    deductions,
};
pub use finding::{Arm, Finding, Subject, amount_at_stake, export_csv};
pub use model::{
    AmbulatoryKind, AmbulatorySettlement, CategoryTotal, ChargeCategory, Complication, Diagnosis,
    DipGroup, DipTreatment, DischargeType, EarlierCosts, FeeLine, HospitalYear, InpatientList,
    ListWarning, Procedure, ScreeningInput, SettlementKey, Sex,
};
pub use parameters::{Override, ParameterBook, ParameterSet, Parameters, ScreeningPolicy};
pub use review::{AlreadyDecided, Decision, FindingStatus};
pub use screening::screen;
pub use tables::{TableError, Tables};
