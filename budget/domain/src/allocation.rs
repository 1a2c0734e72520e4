//! Allocation of a budget block to hospitals and medical alliances in cap mode (医院总额控制):
//! weighted history × assessment coefficient × adjustment factor, tilted towards primary
//! institutions, split fen-exactly. DOMAIN.md §4 "Allocation"; research/domain-formulas.md §1.2.

use std::collections::HashSet;

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

use crate::apportion::apportion;
use crate::budget::{AnnualBudget, BlockKind, BudgetMode};
use crate::error::{BudgetError, check_not_negative};

/// Allocation parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllocationPolicy {
    /// Weights of the history years, oldest first, 1 to 3 of them (1:2:7 or 2:3:5 in DOMAIN.md
    /// §4). Default 1:2:7.
    pub history_weights: Vec<Decimal>,
    /// Multiplier on the score of primary institutions (基层倾斜). DOMAIN.md §4 names the tilt
    /// without a figure, so the default 1 tilts nothing until a policy sets it.
    pub primary_care_tilt: Decimal,
}

impl Default for AllocationPolicy {
    fn default() -> Self {
        Self {
            history_weights: vec![Decimal::ONE, Decimal::TWO, Decimal::from(7)],
            primary_care_tilt: Decimal::ONE,
        }
    }
}

impl AllocationPolicy {
    /// Rejects a policy that cannot weigh history, naming the field.
    pub fn validate(&self) -> Result<(), BudgetError> {
        let mut problems = Vec::new();
        if !(1..=3).contains(&self.history_weights.len()) {
            problems.push(BudgetError::InvalidPolicy {
                field: "history_weights".into(),
                why: "weighs 1 to 3 history years",
            });
        }
        for (index, weight) in self.history_weights.iter().enumerate() {
            if weight.is_sign_negative() && !weight.is_zero() {
                problems.push(BudgetError::InvalidPolicy {
                    field: format!("history_weights[{index}]"),
                    why: "a weight may not be negative",
                });
            }
        }
        if self.history_weights.iter().all(|weight| weight.is_zero()) {
            problems.push(BudgetError::InvalidPolicy {
                field: "history_weights".into(),
                why: "at least one weight must be positive",
            });
        }
        if self.primary_care_tilt <= Decimal::ZERO {
            problems.push(BudgetError::InvalidPolicy {
                field: "primary_care_tilt".into(),
                why: "must be greater than zero",
            });
        }
        BudgetError::collect(problems)
    }
}

/// A member hospital of a medical alliance, with its own history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllianceMember {
    pub hospital_code: String,
    /// Fund spending per history year, oldest first.
    pub history: Vec<Money>,
}

/// What is being allocated to: one hospital, or a medical alliance (紧密型医联体) budgeted as one
/// unit whose history is the sum of its members' (internal transfers are the alliance's own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UnitKind {
    /// A single hospital.
    Hospital {
        /// Fund spending per history year, oldest first.
        history: Vec<Money>,
    },
    /// A medical alliance budgeted as one unit.
    Alliance {
        /// Member hospitals, each with its own history.
        members: Vec<AllianceMember>,
    },
}

/// One allocation unit with its coefficients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationUnit {
    /// Hospital code, or the alliance's code.
    pub code: String,
    /// Hospital or alliance, with the history to weigh.
    pub kind: UnitKind,
    /// 考核系数 (> 0).
    pub assessment_coefficient: Decimal,
    /// Adjustment for new services or disciplines, as a factor (1 + adjustment; > 0).
    pub adjustment_factor: Decimal,
    /// Whether the primary-care tilt applies.
    pub primary_care: bool,
}

/// One unit's allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationLine {
    pub code: String,
    /// Member hospital codes of an alliance; empty for a hospital.
    pub members: Vec<String>,
    /// Σ weight × history / Σ weights, unrounded.
    pub weighted_history: Decimal,
    /// weighted history × assessment × adjustment × tilt, unrounded.
    pub score: Decimal,
    /// score / Σ scores, unrounded.
    pub share: Decimal,
    /// The allocation, fen-exact.
    pub amount: Money,
}

/// A block allocated to units; the lines add up to `block` exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The amount allocated (the block after its reserve).
    pub block: Money,
    pub lines: Vec<AllocationLine>,
}

/// Allocates the allocatable part of `kind` (after the adjustment reserve) of a cap-mode budget.
pub fn allocate_block(
    budget: &AnnualBudget,
    kind: BlockKind,
    policy: &AllocationPolicy,
    units: &[AllocationUnit],
) -> Result<Allocation, BudgetError> {
    if budget.mode() == BudgetMode::RegionalPoints {
        // DOMAIN.md §4: the regional point method caps no hospital.
        return Err(BudgetError::NoCapsInRegionalPointMode);
    }
    allocate(policy, budget.allocatable(kind), units)
}

/// Allocates `block` to `units`: share_u = weighted history × assessment coefficient × adjustment
/// factor (× primary-care tilt) over the sum of all scores; amounts by the largest-remainder rule
/// of [`apportion`] (floor to the fen, remaining fen to the largest remainders, ties by code), so
/// they add up to `block` exactly. Every bad unit is reported.
pub fn allocate<'a>(
    policy: &AllocationPolicy,
    block: Money,
    units: &'a [AllocationUnit],
) -> Result<Allocation, BudgetError> {
    policy.validate()?;
    let mut problems = Vec::new();
    check_not_negative(&mut problems, "block", "allocation", block);
    if units.is_empty() {
        problems.push(BudgetError::NothingToApportion {
            what: "no hospital or alliance to allocate to",
        });
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut note_code = |record: &'a str, problems: &mut Vec<BudgetError>| {
        if !seen.insert(record) {
            problems.push(BudgetError::DuplicateRecord {
                record: record.to_owned(),
            });
        }
    };
    let weight_sum: Decimal = policy.history_weights.iter().copied().sum();
    let mut lines = Vec::with_capacity(units.len());
    for unit in units {
        note_code(&unit.code, &mut problems);
        let histories: Vec<(&str, &[Money])> = match &unit.kind {
            UnitKind::Hospital { history } => vec![(unit.code.as_str(), history.as_slice())],
            UnitKind::Alliance { members } => {
                if members.is_empty() {
                    problems.push(BudgetError::EmptyAlliance {
                        record: unit.code.clone(),
                    });
                }
                for member in members {
                    note_code(&member.hospital_code, &mut problems);
                }
                members
                    .iter()
                    .map(|m| (m.hospital_code.as_str(), m.history.as_slice()))
                    .collect()
            }
        };
        let mut weighted = Decimal::ZERO;
        for (record, history) in histories {
            if history.len() != policy.history_weights.len() {
                problems.push(BudgetError::HistoryLengthMismatch {
                    record: record.to_owned(),
                    expected: policy.history_weights.len(),
                    found: history.len(),
                });
                continue;
            }
            for (year, amount) in history.iter().enumerate() {
                check_not_negative(&mut problems, &format!("history[{year}]"), record, *amount);
            }
            weighted += history
                .iter()
                .zip(&policy.history_weights)
                .map(|(amount, weight)| amount.value() * *weight)
                .sum::<Decimal>();
        }
        let weighted_history = weighted / weight_sum;
        for (field, value) in [
            ("assessment_coefficient", unit.assessment_coefficient),
            ("adjustment_factor", unit.adjustment_factor),
        ] {
            if value <= Decimal::ZERO {
                problems.push(BudgetError::NotPositive {
                    field: field.into(),
                    record: unit.code.clone(),
                    value,
                });
            }
        }
        let tilt = if unit.primary_care {
            policy.primary_care_tilt
        } else {
            Decimal::ONE
        };
        // DOMAIN.md §4 Allocation: weighted history × assessment coefficient × adjustments, tilted.
        let score = weighted_history * unit.assessment_coefficient * unit.adjustment_factor * tilt;
        let members = match &unit.kind {
            UnitKind::Hospital { .. } => Vec::new(),
            UnitKind::Alliance { members } => {
                members.iter().map(|m| m.hospital_code.clone()).collect()
            }
        };
        lines.push(AllocationLine {
            code: unit.code.clone(),
            members,
            weighted_history,
            score,
            share: Decimal::ZERO,
            amount: Money::ZERO,
        });
    }
    BudgetError::collect(problems)?;

    let score_sum: Decimal = lines.iter().map(|line| line.score).sum();
    if score_sum.is_zero() {
        return Err(BudgetError::NothingToApportion {
            what: "every unit has a zero weighted history",
        });
    }
    let weights: Vec<(&str, Decimal)> = lines
        .iter()
        .map(|line| (line.code.as_str(), line.score))
        .collect();
    let amounts = apportion(block, &weights)?;
    for (line, amount) in lines.iter_mut().zip(amounts) {
        line.share = line.score / score_sum;
        line.amount = amount;
    }
    Ok(Allocation { block, lines })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{BlockAmount, BlockSplit, BudgetBasis, BudgetDocument, BudgetPolicy};
    use kernel::FundType;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    fn hospital(code: &str, history: &[i64], primary: bool) -> AllocationUnit {
        AllocationUnit {
            code: code.into(),
            kind: UnitKind::Hospital {
                history: history.iter().map(|y| Money::from_yuan(*y)).collect(),
            },
            assessment_coefficient: Decimal::ONE,
            adjustment_factor: Decimal::ONE,
            primary_care: primary,
        }
    }

    #[test]
    fn weighted_history_uses_policy_weights() {
        let policy = AllocationPolicy {
            history_weights: vec![dec!(2), dec!(3), dec!(5)],
            primary_care_tilt: Decimal::ONE,
        };
        // A: (2×100 + 3×200 + 5×300) / 10 = 230; B: (2×300 + 3×200 + 5×100) / 10 = 170.
        let allocation = allocate(
            &policy,
            yuan("1000.00"),
            &[
                hospital("A", &[100, 200, 300], false),
                hospital("B", &[300, 200, 100], false),
            ],
        )
        .expect("valid");
        assert_eq!(allocation.lines[0].weighted_history, dec!(230));
        assert_eq!(allocation.lines[0].amount, yuan("575.00"));
        assert_eq!(allocation.lines[1].amount, yuan("425.00"));
    }

    #[test]
    fn coefficients_tilt_and_alliances() {
        let policy = AllocationPolicy {
            history_weights: vec![Decimal::ONE],
            primary_care_tilt: dec!(1.2),
        };
        let mut general = hospital("H1", &[500], false);
        general.assessment_coefficient = dec!(0.9);
        let primary = hospital("P1", &[250], true);
        let alliance = AllocationUnit {
            code: "ALLIANCE-1".into(),
            kind: UnitKind::Alliance {
                members: vec![
                    AllianceMember {
                        hospital_code: "M1".into(),
                        history: vec![Money::from_yuan(100)],
                    },
                    AllianceMember {
                        hospital_code: "M2".into(),
                        history: vec![Money::from_yuan(50)],
                    },
                ],
            },
            assessment_coefficient: Decimal::ONE,
            adjustment_factor: dec!(1.1),
            primary_care: false,
        };
        // Scores: H1 450, P1 300, alliance 165 → total 915.
        let allocation =
            allocate(&policy, yuan("915.00"), &[general, primary, alliance]).expect("valid");
        let amounts: Vec<_> = allocation.lines.iter().map(|l| l.amount).collect();
        assert_eq!(
            amounts,
            vec![yuan("450.00"), yuan("300.00"), yuan("165.00")]
        );
        assert_eq!(allocation.lines[2].members, vec!["M1", "M2"]);
    }

    #[test]
    fn remaining_fen_go_by_remainder_then_code() {
        let policy = AllocationPolicy {
            history_weights: vec![Decimal::ONE],
            primary_care_tilt: Decimal::ONE,
        };
        let allocation = allocate(
            &policy,
            yuan("0.02"),
            &[
                hospital("Z", &[1], false),
                hospital("B", &[1], false),
                hospital("M", &[1], false),
            ],
        )
        .expect("valid");
        let amounts: Vec<_> = allocation.lines.iter().map(|l| l.amount).collect();
        assert_eq!(amounts, vec![Money::ZERO, yuan("0.01"), yuan("0.01")]);
    }

    #[test]
    fn every_bad_unit_is_reported() {
        let mut bad_coefficient = hospital("C", &[1, 2, 3], false);
        bad_coefficient.assessment_coefficient = Decimal::ZERO;
        let err = allocate(
            &AllocationPolicy::default(),
            yuan("100"),
            &[
                hospital("A", &[1, 2], false),
                hospital("A", &[1, 2, -3], false),
                bad_coefficient,
                AllocationUnit {
                    code: "E".into(),
                    kind: UnitKind::Alliance { members: vec![] },
                    assessment_coefficient: Decimal::ONE,
                    adjustment_factor: Decimal::ONE,
                    primary_care: false,
                },
            ],
        )
        .expect_err("bad");
        let reasons: Vec<_> = err.problems().iter().map(|p| p.reason()).collect();
        assert_eq!(
            reasons,
            vec![
                "HISTORY_LENGTH_MISMATCH",
                "DUPLICATE_RECORD",
                "NEGATIVE_AMOUNT",
                "NOT_POSITIVE",
                "EMPTY_ALLIANCE"
            ]
        );
    }

    #[test]
    fn bad_policies_name_the_field() {
        for (policy, field) in [
            (
                AllocationPolicy {
                    history_weights: vec![Decimal::ONE; 4],
                    ..AllocationPolicy::default()
                },
                "history_weights",
            ),
            (
                AllocationPolicy {
                    history_weights: vec![Decimal::ONE, dec!(-1)],
                    ..AllocationPolicy::default()
                },
                "history_weights[1]",
            ),
            (
                AllocationPolicy {
                    primary_care_tilt: Decimal::ZERO,
                    ..AllocationPolicy::default()
                },
                "primary_care_tilt",
            ),
        ] {
            let err = policy.validate().expect_err("bad policy");
            assert!(
                err.problems().iter().any(|p| matches!(
                    p,
                    BudgetError::InvalidPolicy { field: f, .. } if f == field
                )),
                "{field}: {err}"
            );
        }
    }

    #[test]
    fn regional_point_mode_has_no_caps() {
        let document = BudgetDocument {
            region: "460000".parse().expect("region"),
            year: 2025,
            fund: FundType::Resident,
            mode: BudgetMode::RegionalPoints,
            basis: BudgetBasis::LastYearGrowth {
                last_year_spending: yuan("1000"),
                growth_cap: Decimal::ZERO,
            },
            split: BlockSplit::Amounts(vec![BlockAmount {
                block: BlockKind::Inpatient,
                amount: yuan("1000"),
            }]),
            policy: BudgetPolicy::default(),
        };
        let mut budget = AnnualBudget::compute(document, 1, String::new()).expect("valid");
        let units = [hospital("A", &[1, 1, 1], false)];
        let err = allocate_block(
            &budget,
            BlockKind::Inpatient,
            &AllocationPolicy::default(),
            &units,
        )
        .expect_err("no caps");
        assert_eq!(err.reason(), "NO_CAPS_IN_REGIONAL_POINT_MODE");
        budget.document.mode = BudgetMode::HospitalCaps;
        let allocation = allocate_block(
            &budget,
            BlockKind::Inpatient,
            &AllocationPolicy::default(),
            &units,
        )
        .expect("caps");
        // 1000 − 5 % reserve = 950.
        assert_eq!(allocation.lines[0].amount, yuan("950"));
    }

    proptest! {
        #[test]
        fn allocations_sum_to_the_block_to_the_fen(
            block_fen in 0_i64..100_000_000_000_000,
            histories in proptest::collection::vec(
                (proptest::collection::vec(0_i64..10_000_000_000, 3), 50_u32..150, any::<bool>()),
                1..60,
            ),
        ) {
            let units: Vec<AllocationUnit> = histories
                .iter()
                .enumerate()
                .map(|(index, (history, coefficient, primary))| AllocationUnit {
                    code: format!("H{index:04}"),
                    kind: UnitKind::Hospital {
                        history: history.iter().map(|fen| Money::from_fen(*fen + 1)).collect(),
                    },
                    assessment_coefficient: Decimal::new(i64::from(*coefficient), 2),
                    adjustment_factor: Decimal::ONE,
                    primary_care: *primary,
                })
                .collect();
            let policy = AllocationPolicy {
                history_weights: vec![dec!(2), dec!(3), dec!(5)],
                primary_care_tilt: dec!(1.15),
            };
            let block = Money::from_fen(block_fen);
            let allocation = allocate(&policy, block, &units).expect("valid");
            prop_assert_eq!(allocation.lines.iter().map(|l| l.amount).sum::<Money>(), block);
            prop_assert!(allocation.lines.iter().all(|l| !l.amount.is_negative()));
        }
    }
}
