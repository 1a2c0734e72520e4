//! The grouping trace returned by [`CompiledScheme::group_traced`](crate::CompiledScheme::group_traced):
//! the case's codes with their dictionary names and mapping, the input check, the CC/MCC found
//! and excluded, and every MDC/ADRG/DRG rule tried, in order, with why it matched or not.
//! Serializable so a service can return it as JSON.

use serde::{Deserialize, Serialize};

use crate::case::{GroupResult, GroupStatus};

/// Full explanation of one grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTrace {
    /// Scheme id.
    pub scheme: String,
    /// Whether code mapping (step 2) was on.
    pub map_codes: bool,
    /// Final result (same as the plain grouping).
    pub result: GroupResult,
    /// Diagnoses in input order.
    pub diagnoses: Vec<TracedCode>,
    /// Procedures in input order.
    pub procedures: Vec<TracedCode>,
    /// Which code could not be mapped (`DX_NOT_MAPPED` / `PROC_NOT_MAPPED`).
    pub mapping_failure: Option<String>,
    /// Step 3.
    pub check: CheckTrace,
    /// Exclusion table of the principal diagnosis.
    pub cc_exclusion_table: Option<String>,
    /// CC/MCC secondary diagnoses, excluded or not.
    pub complications: Vec<ComplicationTrace>,
    /// Rule runs: the first with all procedures, then one per retried secondary procedure.
    pub runs: Vec<RunTrace>,
}

/// One input code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedCode {
    /// 1-based position (1 = principal).
    pub position: usize,
    /// Code as given.
    pub input: String,
    /// Code used for grouping (after mapping); `None` when it could not be mapped.
    pub code: Option<String>,
    /// True when mapping changed the code.
    pub mapped: bool,
    /// Dictionary name of the grouping code.
    pub name: Option<String>,
}

/// Step 3 outcome and the values read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTrace {
    /// Whether the checks passed (false also when step 3 was not reached).
    pub passed: bool,
    /// Why they failed.
    pub failure: Option<String>,
    /// Gender read (1 or 2).
    pub gender: Option<u8>,
    /// Age in years read.
    pub age_years: Option<i64>,
    /// Age in days used (after the `absent_age_days` option).
    pub age_days: Option<i64>,
    /// Weight used (after the `absent_weight` option).
    pub weight: Option<i64>,
    /// Length of stay read from `inHospitalTime` (absent when empty or not an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_of_stay_days: Option<i64>,
}

/// A secondary diagnosis found in the CC or MCC table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplicationTrace {
    /// 1-based diagnosis position (≥ 2).
    pub position: usize,
    /// Diagnosis code.
    pub code: String,
    /// `MCC` or `CC`.
    pub kind: String,
    /// Its exclusion table.
    pub table: String,
    /// True when the principal diagnosis excludes this table.
    pub excluded: bool,
}

/// One pass over the MDC rules (steps 4–7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTrace {
    /// Procedures used in this run.
    pub procedures: Vec<String>,
    /// Outcome of this run.
    pub status: GroupStatus,
    /// Every rule evaluated, in order.
    pub steps: Vec<RuleStep>,
}

/// Rule level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleLevel {
    /// MDC entry rule.
    Mdc,
    /// ADRG entry rule.
    Adrg,
    /// DRG split.
    Drg,
    /// MDC ambiguity rule.
    Ambiguity,
}

/// One rule evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStep {
    /// Level of the rule.
    pub level: RuleLevel,
    /// MDC, ADRG or DRG code.
    pub code: String,
    /// Whether the rule's condition was true.
    pub matched: bool,
    /// The condition tree with each operand's value.
    pub condition: ConditionTrace,
    /// Extra remark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A condition with its value and, for leaves, what decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionTrace {
    /// Condition kind (`pdx_in`, `all`, ...), or `note` for engine remarks.
    pub kind: String,
    /// Value.
    pub matched: bool,
    /// Which code matched which list, or why nothing did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Operands of `all`, `any`, `not`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operands: Vec<ConditionTrace>,
}

impl ConditionTrace {
    pub(crate) fn note(matched: bool, detail: &str) -> Self {
        Self {
            kind: "note".to_owned(),
            matched,
            detail: Some(detail.to_owned()),
            operands: Vec::new(),
        }
    }
}
