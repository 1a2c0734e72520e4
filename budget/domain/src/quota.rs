//! Monthly quotas (月预分额度) of an annual allocation and the monthly settlement of claims against
//! them: paid within the quota after deducting unreasonable costs, the excess deferred
//! (暂缓拨付) to the year end, unused quota carried forward. DOMAIN.md §4 "Monthly quota";
//! research/domain-formulas.md §1.3.

use std::collections::HashSet;

use kernel::{Decimal, Money, YearMonth};
use serde::{Deserialize, Serialize};

use crate::apportion::apportion;
use crate::error::{BudgetError, check_not_negative};

/// How an annual allocation is spread over the months.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum QuotaProfile {
    /// Annual allocation / 12 (DOMAIN.md §4 default).
    Even,
    /// A seasonal profile: twelve non-negative weights, January first.
    Seasonal { weights: [Decimal; 12] },
}

/// What happens to quota a month does not use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnusedQuotaRule {
    /// Unused quota is added to the next month's, cumulatively through the year. It pays later
    /// months' claims only: amounts already deferred wait for the year end, and what is still
    /// unused in December lapses (reported as `unused_at_year_end`).
    CarryForward,
    /// Each month's quota stands alone; unused quota lapses at the end of the month.
    Lapse,
}

/// Monthly quota parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaPolicy {
    pub profile: QuotaProfile,
    pub unused_quota: UnusedQuotaRule,
}

impl Default for QuotaPolicy {
    fn default() -> Self {
        Self {
            profile: QuotaProfile::Even,
            unused_quota: UnusedQuotaRule::CarryForward,
        }
    }
}

/// Splits an annual allocation into twelve monthly quotas adding up to it exactly: each month's
/// exact share floored to the fen, the remaining fen one each to the largest remainders, ties to
/// the earlier month (the rule of [`apportion`]). With [`QuotaProfile::Even`] the first months
/// carry the odd fen.
pub fn monthly_quotas(annual: Money, profile: &QuotaProfile) -> Result<[Money; 12], BudgetError> {
    let weights: Vec<(u32, Decimal)> = match profile {
        QuotaProfile::Even => (1..=12).map(|month| (month, Decimal::ONE)).collect(),
        QuotaProfile::Seasonal { weights } => {
            let mut problems = Vec::new();
            for (index, weight) in weights.iter().enumerate() {
                if weight.is_sign_negative() && !weight.is_zero() {
                    problems.push(BudgetError::InvalidPolicy {
                        field: format!("profile.weights[{index}]"),
                        why: "a month's weight may not be negative",
                    });
                }
            }
            if weights.iter().all(|weight| weight.is_zero()) {
                problems.push(BudgetError::InvalidPolicy {
                    field: "profile.weights".into(),
                    why: "at least one month's weight must be positive",
                });
            }
            BudgetError::collect(problems)?;
            (1..=12).zip(weights.iter().copied()).collect()
        }
    };
    let amounts = apportion(annual, &weights)?;
    let mut quotas = [Money::ZERO; 12];
    for (slot, amount) in quotas.iter_mut().zip(amounts) {
        *slot = amount;
    }
    Ok(quotas)
}

/// A hospital's fund claims of one month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthClaim {
    pub month: YearMonth,
    /// Fund amount claimed.
    pub claimed: Money,
    /// Unreasonable costs deducted on review (≤ claimed).
    pub unreasonable: Money,
}

/// One month of the quota ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthSettlement {
    pub month: YearMonth,
    pub quota: Money,
    /// Unused quota carried in from earlier months.
    pub carried_in: Money,
    /// quota + carried in.
    pub available: Money,
    pub claimed: Money,
    pub unreasonable: Money,
    /// claimed − unreasonable.
    pub admissible: Money,
    /// min(admissible, available).
    pub paid: Money,
    /// admissible − paid: 暂缓拨付, settled at year end.
    pub deferred: Money,
    /// available − paid, carried to the next month under [`UnusedQuotaRule::CarryForward`].
    pub unused: Money,
}

/// A year of monthly settlements against the quotas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLedger {
    pub year: i32,
    pub months: Vec<MonthSettlement>,
    pub total_paid: Money,
    pub total_deferred: Money,
    /// Quota left at the end of December (carry-forward) or summed over months (lapse).
    pub unused_at_year_end: Money,
}

/// Settles a year of claims against twelve monthly quotas (January first). A month without a
/// claim counts as a zero claim. Every bad claim is reported.
pub fn settle_months(
    policy: &QuotaPolicy,
    year: i32,
    quotas: &[Money; 12],
    claims: &[MonthClaim],
) -> Result<QuotaLedger, BudgetError> {
    let mut problems = Vec::new();
    for (index, quota) in quotas.iter().enumerate() {
        check_not_negative(
            &mut problems,
            "quota",
            &format!("month {}", index + 1),
            *quota,
        );
    }
    let mut by_month: [Option<&MonthClaim>; 12] = [None; 12];
    let mut seen = HashSet::new();
    for claim in claims {
        let record = claim.month.to_string();
        if claim.month.year() != year {
            problems.push(BudgetError::MonthOutsideYear {
                record: record.clone(),
                year,
            });
        } else if !seen.insert(claim.month) {
            problems.push(BudgetError::DuplicateRecord {
                record: record.clone(),
            });
        } else if let Some(slot) = usize::try_from(claim.month.month() - 1)
            .ok()
            .and_then(|index| by_month.get_mut(index))
        {
            *slot = Some(claim);
        }
        check_not_negative(&mut problems, "claimed", &record, claim.claimed);
        check_not_negative(&mut problems, "unreasonable", &record, claim.unreasonable);
        if !claim.claimed.is_negative() && claim.unreasonable > claim.claimed {
            problems.push(BudgetError::DeductionExceedsClaim {
                record,
                claimed: claim.claimed,
                unreasonable: claim.unreasonable,
            });
        }
    }
    BudgetError::collect(problems)?;

    let mut months = Vec::with_capacity(12);
    let mut carried = Money::ZERO;
    let mut lapsed = Money::ZERO;
    for (index, (quota, claim)) in quotas.iter().zip(by_month).enumerate() {
        let month =
            YearMonth::new(year, index as u32 + 1).map_err(|_| BudgetError::MonthOutsideYear {
                record: format!("{year}-{:02}", index + 1),
                year,
            })?;
        let (claimed, unreasonable) =
            claim.map_or((Money::ZERO, Money::ZERO), |c| (c.claimed, c.unreasonable));
        let available = *quota + carried;
        // DOMAIN.md §4: claims within the quota are paid after deducting unreasonable costs; the
        // part above is deferred to the year end.
        let admissible = claimed - unreasonable;
        let paid = admissible.min(available);
        let unused = available - paid;
        match policy.unused_quota {
            UnusedQuotaRule::CarryForward => carried = unused,
            UnusedQuotaRule::Lapse => lapsed += unused,
        }
        months.push(MonthSettlement {
            month,
            quota: *quota,
            carried_in: available - *quota,
            available,
            claimed,
            unreasonable,
            admissible,
            paid,
            deferred: admissible - paid,
            unused,
        });
    }
    let unused_at_year_end = match policy.unused_quota {
        UnusedQuotaRule::CarryForward => carried,
        UnusedQuotaRule::Lapse => lapsed,
    };
    Ok(QuotaLedger {
        year,
        total_paid: months.iter().map(|m| m.paid).sum(),
        total_deferred: months.iter().map(|m| m.deferred).sum(),
        months,
        unused_at_year_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    fn claim(month: u32, claimed: &str, unreasonable: &str) -> MonthClaim {
        MonthClaim {
            month: YearMonth::new(2025, month).expect("month"),
            claimed: yuan(claimed),
            unreasonable: yuan(unreasonable),
        }
    }

    #[test]
    fn even_quotas_give_odd_fen_to_early_months() {
        let quotas = monthly_quotas(yuan("1000.00"), &QuotaProfile::Even).expect("valid");
        // 100000 fen / 12 = 8333 r 4: January to April get 83.34.
        assert_eq!(quotas[0], yuan("83.34"));
        assert_eq!(quotas[3], yuan("83.34"));
        assert_eq!(quotas[4], yuan("83.33"));
        assert_eq!(quotas.iter().copied().sum::<Money>(), yuan("1000.00"));
    }

    #[test]
    fn seasonal_profile_and_bad_profiles() {
        let mut weights = [Decimal::ONE; 12];
        weights[0] = dec!(2);
        let quotas =
            monthly_quotas(yuan("1300"), &QuotaProfile::Seasonal { weights }).expect("valid");
        assert_eq!(quotas[0], yuan("200"));
        assert_eq!(quotas[11], yuan("100"));

        weights[5] = dec!(-1);
        let err = monthly_quotas(yuan("1300"), &QuotaProfile::Seasonal { weights })
            .expect_err("negative");
        assert!(err.to_string().contains("profile.weights[5]"));
        let err = monthly_quotas(
            yuan("1300"),
            &QuotaProfile::Seasonal {
                weights: [Decimal::ZERO; 12],
            },
        )
        .expect_err("zero");
        assert_eq!(err.reason(), "INVALID_POLICY");
    }

    #[test]
    fn excess_is_deferred_and_unused_quota_carries_forward() {
        let quotas = [yuan("100"); 12];
        let claims = [
            claim(1, "80", "0"),   // pays 80, 20 unused carried
            claim(2, "150", "10"), // admissible 140, available 120: pays 120, defers 20
            claim(3, "90", "0"),   // available 100: pays 90, carries 10
        ];
        let ledger = settle_months(&QuotaPolicy::default(), 2025, &quotas, &claims).expect("valid");
        let feb = &ledger.months[1];
        assert_eq!(feb.carried_in, yuan("20"));
        assert_eq!(feb.paid, yuan("120"));
        assert_eq!(feb.deferred, yuan("20"));
        assert_eq!(ledger.months[2].available, yuan("100"));
        assert_eq!(ledger.months[3].carried_in, yuan("10"));
        assert_eq!(ledger.total_paid, yuan("290"));
        assert_eq!(ledger.total_deferred, yuan("20"));
        // April to December unused: 10 + 9 × 100.
        assert_eq!(ledger.unused_at_year_end, yuan("910"));

        let lapse = QuotaPolicy {
            unused_quota: UnusedQuotaRule::Lapse,
            ..QuotaPolicy::default()
        };
        let ledger = settle_months(&lapse, 2025, &quotas, &claims).expect("valid");
        assert_eq!(ledger.months[1].paid, yuan("100"));
        assert_eq!(ledger.months[1].deferred, yuan("40"));
        assert_eq!(ledger.unused_at_year_end, yuan("930"));
    }

    #[test]
    fn every_bad_claim_is_reported() {
        let quotas = [yuan("100"); 12];
        let claims = [
            claim(1, "10", "20"),
            claim(1, "10", "0"),
            MonthClaim {
                month: YearMonth::new(2024, 12).expect("month"),
                claimed: yuan("-1"),
                unreasonable: Money::ZERO,
            },
        ];
        let err = settle_months(&QuotaPolicy::default(), 2025, &quotas, &claims).expect_err("bad");
        let reasons: Vec<_> = err.problems().iter().map(|p| p.reason()).collect();
        assert_eq!(
            reasons,
            vec![
                "DEDUCTION_EXCEEDS_CLAIM",
                "DUPLICATE_RECORD",
                "MONTH_OUTSIDE_YEAR",
                "NEGATIVE_AMOUNT"
            ]
        );
    }

    proptest! {
        #[test]
        fn quotas_sum_to_the_allocation(
            annual_fen in 0_i64..100_000_000_000_000,
            weights in proptest::array::uniform12(0_i64..1000),
            seasonal in any::<bool>(),
        ) {
            prop_assume!(!seasonal || weights.iter().any(|w| *w > 0));
            let profile = if seasonal {
                QuotaProfile::Seasonal { weights: weights.map(Decimal::from) }
            } else {
                QuotaProfile::Even
            };
            let annual = Money::from_fen(annual_fen);
            let quotas = monthly_quotas(annual, &profile).expect("valid");
            prop_assert_eq!(quotas.iter().copied().sum::<Money>(), annual);
        }

        #[test]
        fn paid_plus_deferred_is_admissible_and_paid_within_quota(
            claims in proptest::array::uniform12((0_i64..1_000_000, 0_i64..100)),
            quota_fen in 0_i64..1_000_000,
        ) {
            let quotas = [Money::from_fen(quota_fen); 12];
            let claims: Vec<MonthClaim> = claims
                .iter()
                .enumerate()
                .map(|(i, (fen, percent))| MonthClaim {
                    month: YearMonth::new(2025, i as u32 + 1).expect("month"),
                    claimed: Money::from_fen(*fen),
                    unreasonable: Money::from_fen(fen * percent / 100),
                })
                .collect();
            let ledger = settle_months(&QuotaPolicy::default(), 2025, &quotas, &claims)
                .expect("valid");
            let admissible: Money = ledger.months.iter().map(|m| m.admissible).sum();
            prop_assert_eq!(ledger.total_paid + ledger.total_deferred, admissible);
            prop_assert_eq!(ledger.total_paid + ledger.unused_at_year_end, Money::from_fen(quota_fen * 12));
        }
    }
}
