//! The quality deposit (质量保证金): a share withheld from monthly payments and returned at the
//! year end by assessment score through a tier table. DOMAIN.md §4 "Quality deposit";
//! research/domain-formulas.md §1.4.

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

use crate::error::{BudgetError, check_not_negative, check_range, check_rate};

/// How much of the deposit a tier returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ReturnRule {
    /// A fixed share of the deposit, in 0..=1.
    Fixed { rate: Decimal },
    /// score / 100 of the deposit.
    ScoreOverHundred,
}

/// A tier: applies to scores ≥ `min_score` not taken by a higher tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnTier {
    pub min_score: Decimal,
    pub rule: ReturnRule,
}

/// Quality-deposit parameters with the DOMAIN.md §4 defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DepositPolicy {
    /// Share of each monthly payment withheld. Default 5 %.
    pub withholding_rate: Decimal,
    /// Tiers from the highest `min_score` down; the last starts at 0 so every score has a tier.
    /// Default: ≥ 90 → 100 %, ≥ 60 → score/100, ≥ 0 → nothing.
    pub return_tiers: Vec<ReturnTier>,
}

impl Default for DepositPolicy {
    fn default() -> Self {
        // DOMAIN.md §4 Quality deposit: withhold 5 %; return 100 % at ≥ 90, score/100 between 60
        // and 90, nothing below 60.
        Self {
            withholding_rate: Decimal::new(5, 2),
            return_tiers: vec![
                ReturnTier {
                    min_score: Decimal::from(90),
                    rule: ReturnRule::Fixed { rate: Decimal::ONE },
                },
                ReturnTier {
                    min_score: Decimal::from(60),
                    rule: ReturnRule::ScoreOverHundred,
                },
                ReturnTier {
                    min_score: Decimal::ZERO,
                    rule: ReturnRule::Fixed {
                        rate: Decimal::ZERO,
                    },
                },
            ],
        }
    }
}

impl DepositPolicy {
    /// Rejects a policy whose rates or tiers are out of shape, naming every bad field.
    pub fn validate(&self) -> Result<(), BudgetError> {
        let mut problems = Vec::new();
        check_rate(&mut problems, "withholding_rate", self.withholding_rate);
        if self.return_tiers.is_empty() {
            problems.push(BudgetError::InvalidPolicy {
                field: "return_tiers".into(),
                why: "needs at least one tier",
            });
        }
        for (index, tier) in self.return_tiers.iter().enumerate() {
            check_range(
                &mut problems,
                format!("return_tiers[{index}].min_score"),
                tier.min_score,
                Decimal::ZERO,
                Decimal::ONE_HUNDRED,
            );
            if let ReturnRule::Fixed { rate } = tier.rule {
                check_rate(
                    &mut problems,
                    format!("return_tiers[{index}].rule.rate"),
                    rate,
                );
            }
            if index > 0 && tier.min_score >= self.return_tiers[index - 1].min_score {
                problems.push(BudgetError::BandsNotSorted {
                    field: "return_tiers".into(),
                    index,
                });
            }
        }
        if let Some(last) = self.return_tiers.last()
            && !last.min_score.is_zero()
        {
            problems.push(BudgetError::InvalidPolicy {
                field: format!("return_tiers[{}].min_score", self.return_tiers.len() - 1),
                why: "the lowest tier must start at 0 so every score has a tier",
            });
        }
        BudgetError::collect(problems)
    }

    /// The deposit withheld from a monthly payment, rounded once to the fen.
    pub fn withhold(&self, payment: Money) -> Money {
        payment.mul_round(self.withholding_rate)
    }

    /// The share of the deposit returned at `score` (0..=100), unrounded.
    pub fn return_rate(&self, score: Decimal) -> Result<Decimal, BudgetError> {
        self.validate()?;
        if score < Decimal::ZERO || score > Decimal::ONE_HUNDRED {
            return Err(BudgetError::ScoreOutOfRange { score });
        }
        let tier = self
            .return_tiers
            .iter()
            .find(|tier| score >= tier.min_score)
            .ok_or(BudgetError::ScoreOutOfRange { score })?;
        Ok(match tier.rule {
            ReturnRule::Fixed { rate } => rate,
            ReturnRule::ScoreOverHundred => score / Decimal::ONE_HUNDRED,
        })
    }
}

/// The deposit settled at the year end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositReturn {
    pub deposit: Money,
    pub score: Decimal,
    /// Share returned, unrounded.
    pub rate: Decimal,
    /// deposit × rate, rounded once.
    pub returned: Money,
    /// deposit − returned.
    pub forfeited: Money,
}

/// Returns a deposit by assessment score through the policy's tiers.
pub fn deposit_return(
    policy: &DepositPolicy,
    deposit: Money,
    score: Decimal,
) -> Result<DepositReturn, BudgetError> {
    let mut problems = Vec::new();
    check_not_negative(&mut problems, "deposit", "deposit", deposit);
    BudgetError::collect(problems)?;
    let rate = policy.return_rate(score)?;
    let returned = deposit.mul_round(rate);
    Ok(DepositReturn {
        deposit,
        score,
        rate,
        returned,
        forfeited: deposit - returned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    #[test]
    fn default_tiers_on_both_sides_of_each_boundary() {
        let policy = DepositPolicy::default();
        let deposit = yuan("100000.00");
        for (score, returned) in [
            (dec!(100), "100000.00"),
            (dec!(90), "100000.00"),
            (dec!(89.99), "89990.00"),
            (dec!(60), "60000.00"),
            (dec!(59.99), "0.00"),
            (dec!(0), "0.00"),
        ] {
            let result = deposit_return(&policy, deposit, score).expect("valid");
            assert_eq!(result.returned, yuan(returned), "score {score}");
            assert_eq!(result.returned + result.forfeited, deposit);
        }
    }

    #[test]
    fn withholding_rounds_once() {
        let policy = DepositPolicy::default();
        assert_eq!(policy.withhold(yuan("1000.10")), yuan("50.01"));
        assert_eq!(policy.withhold(yuan("0.10")), yuan("0.01"));
    }

    #[test]
    fn scores_outside_0_to_100_are_refused() {
        let policy = DepositPolicy::default();
        for score in [dec!(-0.01), dec!(100.01)] {
            let err = deposit_return(&policy, yuan("1"), score).expect_err("out of range");
            assert_eq!(err.reason(), "SCORE_OUT_OF_RANGE");
        }
    }

    #[test]
    fn bad_policies_name_the_field() {
        let mut policy = DepositPolicy {
            withholding_rate: dec!(1.2),
            ..DepositPolicy::default()
        };
        policy.return_tiers[1].min_score = dec!(95);
        policy.return_tiers[2] = ReturnTier {
            min_score: dec!(10),
            rule: ReturnRule::Fixed { rate: dec!(2) },
        };
        let err = policy.validate().expect_err("bad");
        let texts: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
        assert!(texts[0].contains("withholding_rate"), "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.contains("return_tiers bands are not sorted"))
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("return_tiers[2].rule.rate"))
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("return_tiers[2].min_score"))
        );
    }

    #[test]
    fn policy_round_trips_through_json() {
        let policy = DepositPolicy::default();
        let json = serde_json::to_string(&policy).expect("serialize");
        let back: DepositPolicy = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, policy);
    }
}
