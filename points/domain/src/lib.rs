//! The points context's domain: which payment mode a case is paid under, how many points (or how
//! much money) it is worth, how point values follow from a budget, how outpatient visits are
//! valued, and how valuation tables are calibrated from history.
//!
//! Pure: no I/O, no async, no dependency on another context's crate. A case arrives as plain data
//! ([`CaseForValuation`]) already grouped by the grouping context. Every parameter DOMAIN.md §3
//! names lives in [`ValuationPolicy`] with its documented default; every published number (group
//! means, base points, scores, coefficients, per-diem standards) lives in [`ValuationTables`].
//!
//! Rounding happens once per formula, half away from zero, through `kernel::round_points` /
//! `kernel::round_money` (or [`point_value::publish_point_value`] for point values).

pub mod calibration;
pub mod case;
pub mod error;
pub mod level;
pub mod mode;
pub mod outpatient;
pub mod point_value;
pub mod policy;
pub mod reference;
pub mod tables;
pub mod valuation;
pub mod vocabulary;

pub use calibration::{
    CalibrationError, CalibrationOptions, CalibrationReport, GroupStatistics, HistoricalCase,
    TrimRule, calibrate,
};
pub use case::{CaseForValuation, GroupStatus, GroupedCase, SchemeKind, SpecialCaseDecision};
pub use error::{PolicyError, PolicyErrors, ValuationError};
pub use level::HospitalLevel;
pub use mode::{ModeDecision, ModeRule, PaymentMode, episode_programme, select_payment_mode};
pub use outpatient::{
    ApgError, ApgTable, ApgValuation, OutpatientVisit, chronic_per_capita_budget,
    per_capita_budget, valuate_visit,
};
pub use point_value::{
    DipPointValues, DrgClearing, HospitalClearing, HospitalTotals, PointValue, PointValueError,
    PointValuePreview, PreviewBudget, clear_drg, clear_hospital, dip_settlement_point_value,
    drg_point_value, points_amount, preview_point_value, publish_point_value, reimbursement_ratio,
};
pub use policy::ValuationPolicy;
pub use tables::ValuationTables;
pub use valuation::{
    BatchValuation, CaseType, CostBand, PhaseDays, RecordError, Valuation, valuate, valuate_all,
};
