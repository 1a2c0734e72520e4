//! The words the case, the policy, the tables and payment-mode selection all speak: grouping
//! schemes, discharge types, cost bases, payment modes and the rules that choose them, per-diem
//! programmes. They depend on nothing else of the crate, so those modules depend on this one and
//! never on each other in a circle.

use serde::{Deserialize, Serialize};

/// Discharge types of the settlement list (离院方式).
pub const DISCHARGE_TYPES: [u8; 6] = [1, 2, 3, 4, 5, 9];

/// The grouping scheme a case was grouped under, and a region's main method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemeKind {
    /// DRG (CHS-DRG).
    Drg,
    /// DIP (按病种分值).
    Dip,
}

impl SchemeKind {
    /// "drg" or "dip".
    pub fn as_str(self) -> &'static str {
        match self {
            SchemeKind::Drg => "drg",
            SchemeKind::Dip => "dip",
        }
    }
}

/// How cases are compared with group means (DOMAIN.md conventions: total cost unless the policy
/// names in-policy cost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// 医疗总费用.
    #[default]
    TotalCost,
    /// 政策范围内费用.
    InPolicyCost,
}

/// A payment-mode rule, as named in a policy's evaluation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeRule {
    /// 1. special case approved for fee-for-service.
    SpecialCaseFfs,
    /// 2. psychiatric stay: acute phase by group, stable phase per diem.
    Psychiatric,
    /// 3. rehabilitation or hospice stay, per diem.
    RehabilitationHospice,
    /// 4. day surgery from the list, within the hour limit.
    DaySurgery,
    /// Fixed rate by disease (单病种), when the region keeps such a list.
    FixedRateDisease,
    /// 5. basic-level disease, one coefficient at every level.
    BasicLevel,
    /// 6. excluded stays (long, optionally short), fee-for-service.
    ExcludedStay,
    /// 7. none of the above: the region's main method.
    MainMethod,
}

impl ModeRule {
    /// DOMAIN.md §3 order (the fixed-rate list, empty by default, sits after day surgery).
    pub const HAINAN_ORDER: [ModeRule; 7] = [
        ModeRule::SpecialCaseFfs,
        ModeRule::Psychiatric,
        ModeRule::RehabilitationHospice,
        ModeRule::DaySurgery,
        ModeRule::FixedRateDisease,
        ModeRule::BasicLevel,
        ModeRule::ExcludedStay,
    ];

    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ModeRule::SpecialCaseFfs => "special_case_ffs",
            ModeRule::Psychiatric => "psychiatric",
            ModeRule::RehabilitationHospice => "rehabilitation_hospice",
            ModeRule::DaySurgery => "day_surgery",
            ModeRule::FixedRateDisease => "fixed_rate_disease",
            ModeRule::BasicLevel => "basic_level",
            ModeRule::ExcludedStay => "excluded_stay",
            ModeRule::MainMethod => "main_method",
        }
    }
}

impl std::fmt::Display for ModeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a case is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    /// 按项目: paid item by item.
    FeeForService,
    /// 按床日.
    PerDiem(PerDiemProgramme),
    /// 日间手术按病种.
    DaySurgery,
    /// 单病种 按病种定额.
    FixedRate,
    /// 基层病种: points of the main method with one coefficient at every level.
    BasicLevel,
    /// DRG points.
    Drg,
    /// DIP scores.
    Dip,
}

impl PaymentMode {
    /// Whether the mode pays points (valued with a point value later) rather than money.
    pub fn pays_points(self) -> bool {
        matches!(
            self,
            PaymentMode::BasicLevel | PaymentMode::Drg | PaymentMode::Dip
        )
    }

    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMode::FeeForService => "fee_for_service",
            PaymentMode::PerDiem(PerDiemProgramme::Psychiatric) => "per_diem_psychiatric",
            PaymentMode::PerDiem(PerDiemProgramme::Rehabilitation) => "per_diem_rehabilitation",
            PaymentMode::PerDiem(PerDiemProgramme::Hospice) => "per_diem_hospice",
            PaymentMode::DaySurgery => "day_surgery",
            PaymentMode::FixedRate => "fixed_rate",
            PaymentMode::BasicLevel => "basic_level",
            PaymentMode::Drg => "drg",
            PaymentMode::Dip => "dip",
        }
    }
}

/// Per-diem programmes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerDiemProgramme {
    /// Psychiatric stays.
    Psychiatric,
    /// Rehabilitation stays.
    Rehabilitation,
    /// Hospice (palliative) stays.
    Hospice,
}

impl PerDiemProgramme {
    /// Name used in errors and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PerDiemProgramme::Psychiatric => "psychiatric",
            PerDiemProgramme::Rehabilitation => "rehabilitation",
            PerDiemProgramme::Hospice => "hospice",
        }
    }
}
