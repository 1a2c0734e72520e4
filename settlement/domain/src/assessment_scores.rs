//! The assessment scores (考核评价) the supervision context computed, as the clearing returns the
//! quality deposit by them (DOMAIN.md §4, issue "deposit returned from the assessment score").
//!
//! The agency's typed-in year inputs still win: a score typed into a hospital's year inputs, or
//! a deposit return typed in as an amount, is kept; supervision's score applies only to a
//! hospital whose year inputs give neither. Each statement says where its score came from.
//!
//! The assessment coefficient (考核系数) stays an input of the year: DOMAIN.md §4 names it a
//! factor of the allocation and of the entitlement but gives no formula from the score, and a
//! coefficient derived by a rule nobody has published would move money unseen. The score only
//! returns the deposit, by the policy's tiers.

use std::collections::BTreeMap;

use kernel::Decimal;
use serde::{Deserialize, Serialize};

use crate::clearing::HospitalClearingInput;

/// Where a statement's assessment score came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// Typed into the year inputs (`PutHospitalYearInputs`).
    YearInputs,
    /// The supervision context's latest assessment run of the region and year.
    Supervision,
}

impl ScoreSource {
    /// The source as statements and their exports name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScoreSource::YearInputs => "year_inputs",
            ScoreSource::Supervision => "supervision",
        }
    }
}

/// The scores of supervision's latest assessment run of the clearing's region and year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisedScores {
    /// The assessment run version read (0: the region-year was never assessed).
    pub version: i32,
    pub scores: BTreeMap<String, Decimal>,
    /// The credit grade (信用, A–D) the same run gave each hospital.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grades: BTreeMap<String, String>,
}

/// Marks the typed scores and gives supervision's score to each hospital without a typed score
/// or a typed deposit return. Supervision's credit grade goes to every hospital it graded,
/// whichever score the deposit follows: the grade is supervision's word alone.
pub fn apply(
    supervised: Option<&SupervisedScores>,
    hospitals: &mut BTreeMap<String, HospitalClearingInput>,
) {
    for (code, h) in hospitals.iter_mut() {
        h.credit_grade = supervised.and_then(|s| s.grades.get(code)).cloned();
        if h.assessment_score.is_some() {
            h.assessment_score_source = Some(ScoreSource::YearInputs);
            continue;
        }
        if !h.deposit_returned.value().is_zero() {
            continue;
        }
        if let Some(score) = supervised.and_then(|s| s.scores.get(code)) {
            h.assessment_score = Some(*score);
            h.assessment_score_source = Some(ScoreSource::Supervision);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Money;
    use rust_decimal_macros::dec;

    fn hospital(code: &str, score: Option<Decimal>, returned: &str) -> HospitalClearingInput {
        let mut h = HospitalClearingInput::plain(code);
        h.assessment_score = score;
        h.deposit_returned = returned.parse::<Money>().expect("money");
        h
    }

    #[test]
    fn typed_inputs_win_and_supervision_fills_the_rest() {
        let mut hospitals: BTreeMap<String, HospitalClearingInput> = [
            hospital("H1", Some(dec!(95)), "0"),
            hospital("H2", None, "1000.00"),
            hospital("H3", None, "0"),
            hospital("H4", None, "0"),
        ]
        .into_iter()
        .map(|h| (h.hospital_code.clone(), h))
        .collect();
        let supervised = SupervisedScores {
            version: 2,
            scores: [("H1", dec!(70)), ("H2", dec!(70)), ("H3", dec!(75))]
                .into_iter()
                .map(|(c, s)| (c.to_owned(), s))
                .collect(),
            grades: [("H1", "C"), ("H3", "B")]
                .into_iter()
                .map(|(c, g)| (c.to_owned(), g.to_owned()))
                .collect(),
        };
        apply(Some(&supervised), &mut hospitals);
        let seen: Vec<_> = hospitals
            .values()
            .map(|h| {
                (
                    h.hospital_code.as_str(),
                    h.assessment_score,
                    h.assessment_score_source,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("H1", Some(dec!(95)), Some(ScoreSource::YearInputs)),
                ("H2", None, None),
                ("H3", Some(dec!(75)), Some(ScoreSource::Supervision)),
                ("H4", None, None),
            ]
        );
        let grades: Vec<_> = hospitals
            .values()
            .map(|h| h.credit_grade.as_deref())
            .collect();
        assert_eq!(grades, [Some("C"), None, Some("B"), None]);
    }

    #[test]
    fn without_supervision_a_typed_score_still_names_its_source() {
        let mut hospitals =
            BTreeMap::from([("H1".to_owned(), hospital("H1", Some(dec!(80)), "0"))]);
        apply(None, &mut hospitals);
        assert_eq!(
            hospitals["H1"].assessment_score_source,
            Some(ScoreSource::YearInputs)
        );
    }
}
