//! The points domain's rules from the outside, in one test binary: DRG and DIP points, the
//! money modes, payment-mode order and policy validation, point values and outpatient budgets,
//! readmission, calibration, and the invariants every valuation keeps.

mod common;

mod calibration;
mod damaged_documents;
mod dip_and_money_modes;
mod drg;
mod modes_and_policy;
use kernel::mutation;
mod point_values_and_outpatient;
mod properties;
mod readmission_and_batch;
