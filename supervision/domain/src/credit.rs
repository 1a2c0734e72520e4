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

/// A threshold a [`CreditPolicy`] cannot have: the field (as the policy names it) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyProblem {
    pub field: &'static str,
    pub reason: String,
}

impl CreditPolicy {
    /// The policy if its thresholds grade sensibly, else every problem: each score within 0–100
    /// with at most 2 places (scores are given with 2), A's score above B's above C's, and A
    /// allowing no more findings than B, so a better grade is never easier to get.
    pub fn checked(self) -> Result<Self, Vec<PolicyProblem>> {
        let mut problems = Vec::new();
        let scores = [
            ("a_min_score", self.a_min_score),
            ("b_min_score", self.b_min_score),
            ("c_min_score", self.c_min_score),
        ];
        for (field, score) in scores {
            if let Some(reason) = score_problem(score) {
                problems.push(PolicyProblem { field, reason });
            }
        }
        for pair in scores.windows(2) {
            let ((better, above), (field, below)) = (pair[0], pair[1]);
            if below >= above {
                problems.push(PolicyProblem {
                    field,
                    reason: format!("{below} must lie below {better} ({above})"),
                });
            }
        }
        if self.a_max_findings > self.b_max_findings {
            problems.push(PolicyProblem {
                field: "a_max_findings",
                reason: format!(
                    "{} exceeds b_max_findings ({}): A may not allow more findings than B",
                    self.a_max_findings, self.b_max_findings
                ),
            });
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems)
        }
    }
}

/// Why `score` cannot be a threshold on its own (outside 0–100, or finer than the 2 places
/// scores are given with), if it cannot.
pub fn score_problem(score: Decimal) -> Option<String> {
    if score < Decimal::ZERO || score > Decimal::ONE_HUNDRED {
        Some(format!("{score} is not a score from 0 to 100"))
    } else if score.normalize().scale() > 2 {
        Some(format!("{score} has more than 2 decimal places"))
    } else {
        None
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

    fn policy(a: Decimal, a_max: u32, b: Decimal, b_max: u32, c: Decimal) -> CreditPolicy {
        CreditPolicy {
            a_min_score: a,
            a_max_findings: a_max,
            b_min_score: b,
            b_max_findings: b_max,
            c_min_score: c,
        }
    }

    fn fields(policy: CreditPolicy) -> Vec<&'static str> {
        policy
            .checked()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn the_default_and_tight_but_ordered_thresholds_pass() {
        assert!(CreditPolicy::default().checked().is_ok());
        assert!(fields(policy(dec!(100), 0, dec!(99.99), 0, dec!(0))).is_empty());
    }

    #[test]
    fn thresholds_out_of_range_out_of_order_or_too_fine_name_their_field() {
        assert_eq!(
            fields(policy(dec!(100.01), 0, dec!(75), 2, dec!(-1))),
            ["a_min_score", "c_min_score"]
        );
        // Equal scores leave no room for B.
        assert_eq!(
            fields(policy(dec!(80), 0, dec!(80), 2, dec!(60))),
            ["b_min_score"]
        );
        assert_eq!(
            fields(policy(dec!(90), 0, dec!(60), 2, dec!(70))),
            ["c_min_score"]
        );
        assert_eq!(
            fields(policy(dec!(90.005), 3, dec!(75), 2, dec!(60))),
            ["a_min_score", "a_max_findings"]
        );
        let problems = policy(dec!(90), 0, dec!(95), 2, dec!(60))
            .checked()
            .expect_err("B above A");
        assert_eq!(problems[0].reason, "95 must lie below a_min_score (90)");
    }

    #[test]
    fn a_region_s_thresholds_change_the_grade() {
        let strict = policy(dec!(95), 0, dec!(85), 1, dec!(70));
        assert_eq!(strict.grade(dec!(92), 0).grade, CreditGrade::B);
        assert_eq!(strict.grade(dec!(80), 0).grade, CreditGrade::C);
        assert_eq!(strict.grade(dec!(65), 0).grade, CreditGrade::D);
        assert_eq!(
            CreditPolicy::default().grade(dec!(65), 0).grade,
            CreditGrade::C
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
