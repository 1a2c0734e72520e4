//! Credit management (信用管理; the Hainan payment-method standard §11.4 puts performance and
//! violations into the medical-security credit system): an institution's credit grade from its
//! assessment score and its confirmed findings, with a history where every change says why.
//!
//! The seeds name no grading scale, so the grades follow the common four-level practice of the
//! provincial credit schemes: A (守信) requires a high score and a clean year, B (基本守信) a good
//! score and few confirmed violations, C (失信) a passing score, D (严重失信) anything below. The
//! thresholds are a [`CreditPolicy`] so a region can set its own.

use std::collections::BTreeMap;

use kernel::Decimal;

/// A credit grade, A best.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CreditGrade {
    A,
    B,
    C,
    D,
}

impl CreditGrade {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditGrade::A => "A",
            CreditGrade::B => "B",
            CreditGrade::C => "C",
            CreditGrade::D => "D",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "A" => Some(CreditGrade::A),
            "B" => Some(CreditGrade::B),
            "C" => Some(CreditGrade::C),
            "D" => Some(CreditGrade::D),
            _ => None,
        }
    }
}

/// The thresholds of the grades: a score at least `*_min_score` and at most `*_max_findings`
/// confirmed findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditPolicy {
    pub a_min_score: Decimal,
    pub a_max_findings: u32,
    pub b_min_score: Decimal,
    pub b_max_findings: u32,
    /// C needs only the score; below it is D.
    pub c_min_score: Decimal,
}

impl Default for CreditPolicy {
    /// A: ≥ 90 and none confirmed; B: ≥ 75 and at most 2; C: ≥ 60 (the score below which the
    /// quality deposit is forfeited, DOMAIN.md §4); D: below 60.
    fn default() -> Self {
        Self {
            a_min_score: Decimal::from(90),
            a_max_findings: 0,
            b_min_score: Decimal::from(75),
            b_max_findings: 2,
            c_min_score: Decimal::from(60),
        }
    }
}

/// A grade and why it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditStanding {
    pub grade: CreditGrade,
    pub reason: String,
}

impl CreditPolicy {
    /// The grade a year's `score` and `confirmed` findings give.
    pub fn grade(&self, score: Decimal, confirmed: u32) -> CreditStanding {
        let facts = format!("score {score}, {confirmed} confirmed finding(s)");
        let (grade, rule) = if score >= self.a_min_score && confirmed <= self.a_max_findings {
            (
                CreditGrade::A,
                format!(
                    "A needs a score ≥ {} and ≤ {} confirmed",
                    self.a_min_score, self.a_max_findings
                ),
            )
        } else if score >= self.b_min_score && confirmed <= self.b_max_findings {
            (
                CreditGrade::B,
                format!(
                    "B needs a score ≥ {} and ≤ {} confirmed",
                    self.b_min_score, self.b_max_findings
                ),
            )
        } else if score >= self.c_min_score {
            (
                CreditGrade::C,
                format!("C needs a score ≥ {}; A or B not met", self.c_min_score),
            )
        } else {
            (
                CreditGrade::D,
                format!("below the score {} that C needs", self.c_min_score),
            )
        };
        CreditStanding {
            grade,
            reason: format!("{facts}: {rule}"),
        }
    }
}

/// A hospital's grade as an assessment run gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditChange {
    pub hospital_code: String,
    /// The grade before; `None` for the first grade the hospital gets.
    pub from: Option<CreditGrade>,
    pub to: CreditGrade,
    pub reason: String,
}

/// The changes a run makes: each assessed hospital (code, score, confirmed findings) whose grade
/// differs from its `current` one, or that has none yet; in hospital code order. A grade that
/// stays the same records nothing, so the history holds changes only.
pub fn credit_changes<'a>(
    policy: &CreditPolicy,
    current: &BTreeMap<String, CreditGrade>,
    assessed: impl IntoIterator<Item = (&'a str, Decimal, u32)>,
) -> Vec<CreditChange> {
    let mut changes: Vec<CreditChange> = assessed
        .into_iter()
        .filter_map(|(hospital, score, confirmed)| {
            let standing = policy.grade(score, confirmed);
            let from = current.get(hospital).copied();
            (from != Some(standing.grade)).then(|| CreditChange {
                hospital_code: hospital.to_owned(),
                from,
                to: standing.grade,
                reason: standing.reason,
            })
        })
        .collect();
    changes.sort_by(|a, b| a.hospital_code.cmp(&b.hospital_code));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn grades_follow_the_score_and_the_confirmed_findings_at_their_boundaries() {
        let policy = CreditPolicy::default();
        let grade = |score, confirmed| policy.grade(score, confirmed).grade;
        assert_eq!(grade(dec!(90), 0), CreditGrade::A);
        assert_eq!(grade(dec!(89.99), 0), CreditGrade::B);
        assert_eq!(grade(dec!(95), 1), CreditGrade::B, "a finding costs the A");
        assert_eq!(grade(dec!(75), 2), CreditGrade::B);
        assert_eq!(
            grade(dec!(75), 3),
            CreditGrade::C,
            "too many findings for B"
        );
        assert_eq!(grade(dec!(74.99), 0), CreditGrade::C);
        assert_eq!(grade(dec!(60), 9), CreditGrade::C);
        assert_eq!(grade(dec!(59.99), 0), CreditGrade::D);
    }

    #[test]
    fn the_reason_names_the_facts_and_the_rule() {
        let standing = CreditPolicy::default().grade(dec!(82.5), 1);
        assert_eq!(standing.grade, CreditGrade::B);
        assert_eq!(
            standing.reason,
            "score 82.5, 1 confirmed finding(s): B needs a score ≥ 75 and ≤ 2 confirmed"
        );
    }

    #[test]
    fn only_new_or_changed_grades_are_recorded() {
        let current = BTreeMap::from([
            ("H1".to_owned(), CreditGrade::A),
            ("H2".to_owned(), CreditGrade::A),
        ]);
        let changes = credit_changes(
            &CreditPolicy::default(),
            &current,
            [
                ("H3", dec!(50), 0),
                ("H2", dec!(80), 0),
                ("H1", dec!(92), 0),
            ],
        );
        let seen: Vec<_> = changes
            .iter()
            .map(|c| (c.hospital_code.as_str(), c.from, c.to))
            .collect();
        assert_eq!(
            seen,
            [
                ("H2", Some(CreditGrade::A), CreditGrade::B),
                ("H3", None, CreditGrade::D),
            ]
        );
    }
}
