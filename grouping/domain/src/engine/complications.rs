//! The secondary diagnoses a scheme counts towards a case's severity (README "CC exclusion"):
//! the same decision `has_mcc` and `has_cc` make while grouping, reported per diagnosis so that
//! another context (supervision's upcoding rule, DOMAIN.md §6 rule 5) can ask whether the fee
//! lines support them. Kept off the grouping path, which does not allocate.

use serde::{Deserialize, Serialize};

use super::group::split_codes;
use super::*;

/// Whether a counted secondary diagnosis is a major complication or comorbidity (MCC, 严重并发症
/// 或合并症) or an ordinary one (CC, 一般并发症或合并症).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplicationKind {
    Mcc,
    Cc,
}

/// A secondary diagnosis the scheme counts: in its MCC or CC table and not excluded by the
/// principal diagnosis's exclusion table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CountedComplication {
    /// 1-based position among the case's diagnoses (≥ 2; 1 is the principal).
    pub position: usize,
    /// The code as the case gave it (before any code mapping).
    pub code: String,
    /// MCC when the code is in the MCC table (whether or not it is also a CC), else CC.
    pub kind: ComplicationKind,
}

impl CompiledScheme {
    /// The case's secondary diagnoses (positions 2..n) counted as MCC or CC, in diagnosis order:
    /// a code in the MCC (else the CC) table whose table is not the principal diagnosis's
    /// exclusion table, exactly as `has_mcc` and `has_cc` decide. Empty when the codes cannot be
    /// read (a code not in the map, with `map_codes`).
    pub fn counted_complications(
        &self,
        case: &RawCase<'_>,
        map_codes: bool,
    ) -> Vec<CountedComplication> {
        let mut diagnoses = Vec::new();
        let mut procedures = Vec::new();
        if self
            .read_codes(case, map_codes, &mut diagnoses, &mut procedures)
            .is_err()
        {
            return Vec::new();
        }
        let exclusion = diagnoses
            .first()
            .map_or(NO_TABLE, |&pdx| self.info(pdx).exclusion);
        let counts = |table: u32| table != NO_TABLE && table != exclusion;
        split_codes(case.diagnoses)
            .zip(&diagnoses)
            .enumerate()
            .skip(1)
            .filter_map(|(index, (text, &code))| {
                let info = self.info(code);
                let kind = if counts(info.mcc) {
                    ComplicationKind::Mcc
                } else if counts(info.cc) {
                    ComplicationKind::Cc
                } else {
                    return None;
                };
                Some(CountedComplication {
                    position: index + 1,
                    code: text.to_owned(),
                    kind,
                })
            })
            .collect()
    }
}
