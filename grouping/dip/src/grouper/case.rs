//! The case grouping reads and what it answers: the outcome, its auxiliary subtype, and the
//! trace of every candidate considered.

use kernel::{Decimal, Money, Points};
use serde::{Deserialize, Serialize};

use crate::directory::{AuxiliarySubtype, GroupKind, TreatmentType};

/// 离院方式 5: death (DOMAIN.md §1).
pub const DISCHARGE_DEATH: u8 = 5;
/// Discharge types of the settlement list (DOMAIN.md §1).
pub const DISCHARGE_TYPES: [u8; 6] = [1, 2, 3, 4, 5, 9];

/// What DIP grouping reads from a settlement list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DipCase {
    /// Principal diagnosis, ICD-10 医保版 2.0, e.g. `K35.800`.
    pub principal_diagnosis: String,
    /// Other diagnoses (ICD-10 医保版 2.0), read for the CCI and tumour markers.
    #[serde(default)]
    pub secondary_diagnoses: Vec<String>,
    /// ICD-9-CM-3 医保版 2.0, principal first.
    #[serde(default)]
    pub procedures: Vec<String>,
    /// Age in whole years.
    pub age_years: u32,
    /// Age in days, required when `age_years` is 0 (实足天龄).
    #[serde(default)]
    pub age_days: Option<u32>,
    /// 离院方式: 1, 2, 3, 4, 5 (death) or 9.
    pub discharge_type: u8,
    /// Length of stay in days (discharge date − admission date).
    pub los_days: u32,
    /// 医疗总费用, yuan.
    pub total_cost: Decimal,
}

impl DipCase {
    /// Whether the patient died (discharge type 5).
    pub fn died(&self) -> bool {
        self.discharge_type == DISCHARGE_DEATH
    }
}

/// The first 5 characters of a diagnosis code (`K35.800` → `K35.8`), or the whole code when it
/// is shorter.
pub fn diagnosis_category(code: &str) -> &str {
    code.get(..5).unwrap_or(code)
}

/// Why a valid case has no group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UngroupedReason {
    /// No core group matched and the directory has no comprehensive group for the category and
    /// treatment type.
    NoComprehensiveGroup,
}

impl UngroupedReason {
    /// Stable machine-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            UngroupedReason::NoComprehensiveGroup => "NO_COMPREHENSIVE_GROUP",
        }
    }
}

/// The auxiliary subtype a case falls into and its coefficient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuxiliaryAssignment {
    pub subtype: AuxiliarySubtype,
    pub coefficient: Decimal,
}

/// The group a case belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DipAssignment {
    pub group_code: String,
    pub kind: GroupKind,
    /// The group's treatment type.
    pub treatment: TreatmentType,
    pub score: Points,
    pub mean_cost: Money,
    /// Case procedures the group's combination used (0 for conservative and comprehensive).
    pub matched_procedures: u32,
    /// Charlson comorbidity index of the secondary diagnoses.
    pub cci: u32,
    pub auxiliary: Option<AuxiliaryAssignment>,
    /// The auxiliary coefficient, 1 when no subtype applies.
    pub auxiliary_coefficient: Decimal,
}

/// Result of grouping a valid case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DipOutcome {
    /// The case's group.
    Grouped(DipAssignment),
    /// No group covers the case.
    Ungrouped {
        /// First 3 characters of the principal diagnosis.
        diagnosis_category3: String,
        /// The case's treatment type.
        treatment: TreatmentType,
        reason: UngroupedReason,
    },
}

impl DipOutcome {
    /// The group code, if grouped.
    pub fn group_code(&self) -> Option<&str> {
        match self {
            DipOutcome::Grouped(a) => Some(&a.group_code),
            DipOutcome::Ungrouped { .. } => None,
        }
    }
}

/// A typed procedure of the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypedProcedure {
    pub code: String,
    pub treatment: TreatmentType,
}

/// Why a candidate won or lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Won,
    /// The combination's term (shown) has none of its codes among the case's procedures.
    NotMatched {
        missing_term: String,
    },
    /// A conservative group, but the case has typed procedures.
    CaseHasProcedures,
    LostOnPrecedence {
        winner: String,
    },
    LostOnMatchedProcedures {
        winner: String,
    },
    LostOnCostDistance {
        winner: String,
    },
    LostOnGroupCode {
        winner: String,
    },
}

/// One core or basic-level group considered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CandidateTrace {
    pub group: String,
    pub kind: GroupKind,
    pub treatment: TreatmentType,
    /// The combination as written, empty for conservative.
    pub procedures: String,
    /// 0 is best (core + surgery) … 7 (basic conservative); see the module doc.
    pub precedence: u8,
    pub matched_procedures: u32,
    /// |group mean cost − case cost|, for matching candidates.
    pub cost_distance: Option<Decimal>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The comprehensive-group lookup, when no core group matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComprehensiveTrace {
    pub diagnosis_category3: String,
    pub treatment: TreatmentType,
    /// The group found for the 3-character category, if any.
    pub by_category: Option<String>,
    /// The group found for the chapter range (looked up only when the category has none).
    pub by_range: Option<String>,
}

/// One auxiliary subtype that applies to the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuxiliaryCandidate {
    pub subtype: AuxiliarySubtype,
    /// `None` when the directory has no coefficient for it (the subtype is then not used).
    pub coefficient: Option<Decimal>,
    pub chosen: bool,
}

/// How a case was grouped: everything considered, and why each candidate won or lost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GroupingTrace {
    pub diagnosis_category: String,
    pub typed_procedures: Vec<TypedProcedure>,
    /// Procedures not in the procedure-type table (ignored for grouping).
    pub ignored_procedures: Vec<String>,
    pub case_treatment: Option<TreatmentType>,
    pub candidates: Vec<CandidateTrace>,
    pub comprehensive: Option<ComprehensiveTrace>,
    /// Comorbidity conditions counted in the CCI.
    pub cci_conditions: Vec<String>,
    pub auxiliary: Vec<AuxiliaryCandidate>,
}
