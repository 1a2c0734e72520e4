//! The ground truth of each generated case: what it really is, which the settlement record does
//! not say. Supervision's findings are scored against it (precision and recall per rule).

use serde::Serialize;

use crate::province::HospitalLevel;

/// The payment path a case was generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The region's main method (DIP in Hainan; the codes also group under the demo DRG scheme).
    MainMethod,
    BasicLevel,
    DaySurgery,
    PerDiemPsychiatric,
    PerDiemRehabilitation,
    PerDiemHospice,
    LongStay,
    ReadmissionWithin15Days,
    ReadmissionAfter15Days,
    Outpatient,
    Pharmacy,
}

impl Mode {
    pub const ALL: [Mode; 11] = [
        Mode::MainMethod,
        Mode::BasicLevel,
        Mode::DaySurgery,
        Mode::PerDiemPsychiatric,
        Mode::PerDiemRehabilitation,
        Mode::PerDiemHospice,
        Mode::LongStay,
        Mode::ReadmissionWithin15Days,
        Mode::ReadmissionAfter15Days,
        Mode::Outpatient,
        Mode::Pharmacy,
    ];
}

/// A seeded irregularity (DOMAIN.md §6 screening rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Irregularity {
    /// 分解住院 (rule 1): this stay follows `related_list_id` 0–3 days after its discharge, same
    /// hospital and principal diagnosis.
    SplitAdmission,
    /// 高套 (rule 5): coded as `coded_dip_group` (or with MCCs) while the care was `dip_group`.
    Upcoding,
    /// 重复收费 (rule 10): one fee line billed twice on the same day.
    DuplicateCharge,
    /// 分解收费 (rule 11): package components billed besides the package.
    UnbundledCharge,
    /// 挂床住院 (rule 13): three or more consecutive days with a bed charge only.
    BedBlocking,
    /// 分解至门诊 (rules 7 and 8): an ambulatory settlement for stay `related_list_id`, before
    /// admission or inside the stay.
    CostShiftedToOutpatient,
    /// 虚假住院: a stay without examinations, laboratory tests, nursing or procedures.
    PhantomStay,
}

impl Irregularity {
    pub const ALL: [Irregularity; 7] = [
        Irregularity::SplitAdmission,
        Irregularity::Upcoding,
        Irregularity::DuplicateCharge,
        Irregularity::UnbundledCharge,
        Irregularity::BedBlocking,
        Irregularity::CostShiftedToOutpatient,
        Irregularity::PhantomStay,
    ];
}

/// Kind of the settlement record a case is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Inpatient,
    Outpatient,
    ChronicOutpatient,
    Pharmacy,
}

/// What a generated case really is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroundTruth {
    /// Position in the stream, from 0.
    pub sequence: u64,
    /// The simulated year the case was drawn for (its admission or settlement year, except that
    /// a follow-up stay may start in the next year).
    pub year: i32,
    pub record: RecordKind,
    /// `setl_id` of the record.
    pub list_id: String,
    /// `fixmedins_code` of the record.
    pub institution_code: String,
    /// Level of the hospital (`None` for a pharmacy).
    pub hospital_level: Option<HospitalLevel>,
    pub person_id: String,
    pub mode: Mode,
    pub irregularity: Option<Irregularity>,
    /// The earlier stay of a readmission, split admission or cost shift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_list_id: Option<String>,
    /// Days from the earlier stay's discharge date to this admission (readmissions and splits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readmission_gap_days: Option<i32>,
    /// The DIP group of the care given (inpatient cases from a directory template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dip_group: Option<String>,
    /// The group the case is coded as, when upcoded to another group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coded_dip_group: Option<String>,
    /// What makes the case irregular, in words (the fee items, days or codes concerned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}
