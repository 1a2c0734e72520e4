//! The DIP budget point value (预算点值) of a region, year and fund (DOMAIN.md §3 DIP point
//! values, §5 Hainan precise defaults): round4(Σ over the history years of weight × total cost /
//! Σ of weight × case score), over the fund's history DIP-paid cases (modes DIP and
//! basic-level) in groups with a score, where case score = group score × coefficient (level +
//! add-on; basic-level cases at their one coefficient). Settlement holds the ledger of those
//! years, so it computes the value and publishes it in versions; a monthly prepayment may price
//! its points with it.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Decimal, FundType, Money, RegionCode, round_points};
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use crate::payment_mode::PaymentMode;

/// The history a budget point value is computed over when a request names none: the years just
/// before the value's year, oldest first, with their weights (DOMAIN.md §3 DIP: 3 years 1:2:7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BudgetPointValuePolicy {
    /// Weights of the years before the value's year, oldest first: `[1, 2, 7]` weighs year − 3
    /// by 1, year − 2 by 2 and year − 1 by 7.
    pub history_weights: Vec<Decimal>,
}

impl Default for BudgetPointValuePolicy {
    fn default() -> Self {
        Self {
            history_weights: vec![Decimal::ONE, Decimal::TWO, Decimal::from(7)],
        }
    }
}

impl BudgetPointValuePolicy {
    /// The history years of a value for `year` with their weights, oldest first.
    pub fn history(&self, year: i32) -> Vec<HistoryWeight> {
        let years = i32::try_from(self.history_weights.len()).unwrap_or(i32::MAX);
        self.history_weights
            .iter()
            .zip(0..)
            .map(|(weight, offset)| HistoryWeight {
                year: year - years + offset,
                weight: *weight,
            })
            .collect()
    }
}

/// One history year and its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryWeight {
    pub year: i32,
    pub weight: Decimal,
}

/// A stored case of a history year as the budget point value reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryCase {
    /// `hospital/list id`, to name the case in an error.
    pub record: String,
    /// Discharge year.
    pub year: i32,
    pub mode: PaymentMode,
    pub total_cost: Money,
    /// The group's score (分值) the case was valued with.
    pub group_score: Decimal,
    /// The coefficient it was valued with (level + add-on, or the basic-level one).
    pub coefficient: Decimal,
}

/// What one history year put into the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryYear {
    pub year: i32,
    pub weight: Decimal,
    /// DIP-paid cases in groups with a score.
    pub cases: u64,
    pub total_cost: Money,
    /// Σ group score × coefficient, unrounded.
    pub case_scores: Decimal,
    /// weight × total cost.
    pub weighted_total_cost: Decimal,
    /// weight × case scores.
    pub weighted_case_scores: Decimal,
}

/// A computed budget point value with its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetPointValue {
    /// 4 places, half away from zero.
    pub point_value: Decimal,
    /// Oldest year first.
    pub history: Vec<HistoryYear>,
    pub weighted_total_cost: Decimal,
    pub weighted_case_scores: Decimal,
}

/// A published budget point value as a prepayment uses it: the figure and which version of
/// which value it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPointValue {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub version: i32,
    pub value: Decimal,
}

impl PublishedPointValue {
    /// How a statement names where its point value comes from.
    pub fn source(&self) -> String {
        format!(
            "DIP budget point value {} {} fund {} v{}",
            self.region,
            self.year,
            self.fund.code(),
            self.version
        )
    }
}

/// Checks a history for a value of `year`: at least one year, each before `year` and named once,
/// each weight positive. Every fault is reported.
pub fn check_history(year: i32, history: &[HistoryWeight]) -> Result<(), Vec<SettlementError>> {
    let mut errors = Vec::new();
    let out_of_range =
        |record: String, field, value: String, allowed| SettlementError::ParameterOutOfRange {
            record,
            field,
            value,
            allowed,
        };
    if history.is_empty() {
        errors.push(out_of_range(
            "history".to_owned(),
            "years",
            "none".to_owned(),
            "at least one year",
        ));
    }
    let mut seen = BTreeSet::new();
    for entry in history {
        let record = format!("history year {}", entry.year);
        if entry.year >= year {
            errors.push(out_of_range(
                record.clone(),
                "year",
                entry.year.to_string(),
                "years before the value's year",
            ));
        }
        if !seen.insert(entry.year) {
            errors.push(out_of_range(
                record.clone(),
                "year",
                entry.year.to_string(),
                "each year once",
            ));
        }
        if entry.weight <= Decimal::ZERO {
            errors.push(out_of_range(
                record,
                "weight",
                entry.weight.to_string(),
                "(0, ∞)",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The one rounding of the budget point value: published at 4 places.
fn publish(weighted_total_cost: Decimal, weighted_case_scores: Decimal) -> Decimal {
    round_points(weighted_total_cost / weighted_case_scores)
}

/// Computes the budget point value of `(region, year, fund)` over `cases`: those paid DIP or
/// basic-level, discharged in a history year, in a group with a score > 0 (a score-0 group is
/// paid at cost and carries no score). Every unreadable case is reported.
pub fn budget_point_value(
    (region, year, fund): (RegionCode, i32, FundType),
    history: &[HistoryWeight],
    cases: &[HistoryCase],
) -> Result<BudgetPointValue, Vec<SettlementError>> {
    check_history(year, history)?;
    #[derive(Default)]
    struct Sums {
        cases: u64,
        total_cost: Money,
        case_scores: Decimal,
    }
    let weights: BTreeMap<i32, Decimal> = history.iter().map(|h| (h.year, h.weight)).collect();
    let mut sums: BTreeMap<i32, Sums> = weights.keys().map(|y| (*y, Sums::default())).collect();
    let mut errors = Vec::new();
    for case in cases {
        let dip_paid = matches!(case.mode, PaymentMode::Dip | PaymentMode::BasicLevelDisease);
        let Some(year_sums) = sums.get_mut(&case.year).filter(|_| dip_paid) else {
            continue;
        };
        if case.group_score <= Decimal::ZERO {
            continue;
        }
        if case.coefficient <= Decimal::ZERO {
            errors.push(SettlementError::ParameterOutOfRange {
                record: case.record.clone(),
                field: "coefficient",
                value: case.coefficient.to_string(),
                allowed: "(0, ∞)",
            });
            continue;
        }
        year_sums.cases += 1;
        year_sums.total_cost += case.total_cost;
        // Unrounded: the formula rounds once, at the end.
        year_sums.case_scores += case.group_score * case.coefficient;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let history: Vec<HistoryYear> = sums
        .into_iter()
        .map(|(year, sums)| {
            let weight = weights.get(&year).copied().unwrap_or(Decimal::ZERO);
            HistoryYear {
                year,
                weight,
                cases: sums.cases,
                total_cost: sums.total_cost,
                case_scores: sums.case_scores,
                weighted_total_cost: weight * sums.total_cost.value(),
                weighted_case_scores: weight * sums.case_scores,
            }
        })
        .collect();
    let weighted_total_cost: Decimal = history.iter().map(|h| h.weighted_total_cost).sum();
    let weighted_case_scores: Decimal = history.iter().map(|h| h.weighted_case_scores).sum();
    if weighted_case_scores.is_zero() {
        return Err(vec![SettlementError::NoHistoryScores {
            region: region.to_string(),
            year,
            fund: fund.code().to_string(),
            years: history
                .iter()
                .map(|h| h.year.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }]);
    }
    Ok(BudgetPointValue {
        point_value: publish(weighted_total_cost, weighted_case_scores),
        history,
        weighted_total_cost,
        weighted_case_scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const KEY: fn() -> (RegionCode, i32, FundType) =
        || ("460100".parse().expect("region"), 2025, FundType::Employee);

    fn case(
        year: i32,
        mode: PaymentMode,
        cost: Decimal,
        score: Decimal,
        coefficient: Decimal,
    ) -> HistoryCase {
        HistoryCase {
            record: format!("H/{year}-{cost}"),
            year,
            mode,
            total_cost: Money::round(cost),
            group_score: score,
            coefficient,
        }
    }

    #[test]
    fn default_history_is_the_three_years_before_weighted_one_two_seven() {
        let history = BudgetPointValuePolicy::default().history(2025);
        assert_eq!(
            history,
            vec![
                HistoryWeight {
                    year: 2022,
                    weight: dec!(1)
                },
                HistoryWeight {
                    year: 2023,
                    weight: dec!(2)
                },
                HistoryWeight {
                    year: 2024,
                    weight: dec!(7)
                },
            ]
        );
    }

    /// 2023 (weight 3): 12,000 at 1,000 × 1.2 = 1,200; a basic-level 5,000 at 400 × 1.05 = 420.
    /// 2024 (weight 7): 9,000 at 800 × 1.0 = 800. Excluded: a score-0 group, a per-diem stay, a
    /// case of 2022. Σ w × cost = 3 × 17,000 + 7 × 9,000 = 114,000; Σ w × score = 3 × 1,620 +
    /// 7 × 800 = 10,460; 114,000 / 10,460 = 10.898661… → 10.8987.
    #[test]
    fn weighted_history_over_dip_paid_cases_with_a_score() {
        let history = [
            HistoryWeight {
                year: 2023,
                weight: dec!(3),
            },
            HistoryWeight {
                year: 2024,
                weight: dec!(7),
            },
        ];
        let cases = [
            case(2023, PaymentMode::Dip, dec!(12000), dec!(1000), dec!(1.2)),
            case(
                2023,
                PaymentMode::BasicLevelDisease,
                dec!(5000),
                dec!(400),
                dec!(1.05),
            ),
            case(2024, PaymentMode::Dip, dec!(9000), dec!(800), dec!(1.0)),
            case(2024, PaymentMode::Dip, dec!(50000), dec!(0), dec!(1.2)),
            case(
                2024,
                PaymentMode::PerDiemPsychiatric,
                dec!(9730),
                dec!(0),
                dec!(0),
            ),
            case(2022, PaymentMode::Dip, dec!(99999), dec!(999), dec!(1)),
        ];
        let value = budget_point_value(KEY(), &history, &cases).expect("a value");
        assert_eq!(value.point_value, dec!(10.8987));
        assert_eq!(value.weighted_total_cost, dec!(114000));
        assert_eq!(value.weighted_case_scores, dec!(10460));
        assert_eq!(value.history[0].cases, 2);
        assert_eq!(value.history[0].case_scores, dec!(1620));
        assert_eq!(value.history[1].cases, 1);
        assert_eq!(value.history[1].total_cost, Money::round(dec!(9000)));
    }

    #[test]
    fn a_history_without_scores_is_refused_by_its_key() {
        let history = BudgetPointValuePolicy::default().history(2025);
        let errors = budget_point_value(
            KEY(),
            &history,
            &[case(2024, PaymentMode::Dip, dec!(100), dec!(0), dec!(1))],
        )
        .expect_err("no scores");
        assert_eq!(errors[0].reason(), "NO_HISTORY_SCORES");
        assert!(
            errors[0].to_string().contains("460100 2025 fund 310"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn every_bad_history_entry_is_reported() {
        let history = [
            HistoryWeight {
                year: 2025,
                weight: dec!(1),
            },
            HistoryWeight {
                year: 2024,
                weight: dec!(0),
            },
            HistoryWeight {
                year: 2024,
                weight: dec!(1),
            },
        ];
        let errors = check_history(2025, &history).expect_err("bad");
        let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{fields:?}");
        assert!(check_history(2025, &[]).is_err());
        assert!(
            check_history(
                2025,
                &[HistoryWeight {
                    year: 2024,
                    weight: dec!(0.5)
                }]
            )
            .is_ok()
        );
    }

    #[test]
    fn the_source_names_region_year_fund_and_version() {
        let published = PublishedPointValue {
            region: "460100".parse().expect("region"),
            year: 2025,
            fund: FundType::Employee,
            version: 2,
            value: dec!(10.8987),
        };
        assert_eq!(
            published.source(),
            "DIP budget point value 460100 2025 fund 310 v2"
        );
    }
}
