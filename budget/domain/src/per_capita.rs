//! Per-capita budgets (按人头) of primary institutions and their year-end sharing through the same
//! tier table as hospitals. DOMAIN.md §3 "Per-capita"; research/domain-formulas.md §5.1.

use kernel::Money;
use serde::{Deserialize, Serialize};

use crate::error::{BudgetError, check_not_negative};
use crate::tiers::{SharingPolicy, TierOutcome, apply_tiers, validate_std_act};

/// A primary institution's capitation for a year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerCapitaBudget {
    pub institution_code: String,
    /// Enrolled (签约/参保) persons.
    pub enrolled: u64,
    /// Rate per head per year.
    pub rate_per_head: Money,
    /// Costs of referrals out, deducted from the capitation pool.
    pub referrals_out: Money,
}

impl PerCapitaBudget {
    /// Budget = enrolled × rate per head − referrals out (DOMAIN.md §3 Per-capita), rounded once.
    pub fn budget(&self) -> Money {
        self.rate_per_head
            .mul_round(kernel::Decimal::from(self.enrolled))
            - self.referrals_out
    }
}

/// A per-capita year end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerCapitaOutcome {
    pub institution_code: String,
    /// Std: the capitation budget.
    pub budget: Money,
    /// Act: the fund amount actually spent.
    pub actual: Money,
    pub outcome: TierOutcome,
}

/// Applies the year-end tier table to a per-capita budget: below budget the savings are retained,
/// above it the policy's overspend bands apply (Hainan: 100–110 % shared at 50 %, beyond not).
pub fn per_capita_sharing(
    policy: &SharingPolicy,
    capitation: &PerCapitaBudget,
    actual: Money,
) -> Result<PerCapitaOutcome, BudgetError> {
    let mut problems = Vec::new();
    if let Err(err) = policy.validate() {
        problems.extend(err.problems().into_iter().cloned());
    }
    let record = capitation.institution_code.as_str();
    check_not_negative(
        &mut problems,
        "rate_per_head",
        record,
        capitation.rate_per_head,
    );
    check_not_negative(
        &mut problems,
        "referrals_out",
        record,
        capitation.referrals_out,
    );
    let budget = capitation.budget();
    if problems.is_empty() {
        validate_std_act(&mut problems, record, budget, actual);
    }
    BudgetError::collect(problems)?;
    Ok(PerCapitaOutcome {
        institution_code: capitation.institution_code.clone(),
        budget,
        actual,
        outcome: apply_tiers(policy, budget, actual),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::AppliedTier;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    fn capitation() -> PerCapitaBudget {
        PerCapitaBudget {
            institution_code: "CHC-01".into(),
            enrolled: 10_000,
            rate_per_head: yuan("120"),
            referrals_out: Money::ZERO,
        }
    }

    #[test]
    fn domain_example() {
        // DOMAIN.md §3 Per-capita: 10,000 × 120 = 1,200,000.
        let policy = SharingPolicy::hainan();
        assert_eq!(capitation().budget(), yuan("1200000"));

        // Actual 1,000,000 → 200,000 retained.
        let below = per_capita_sharing(&policy, &capitation(), yuan("1000000")).expect("valid");
        assert_eq!(below.outcome.tier, AppliedTier::SurplusRetained);
        assert_eq!(below.outcome.payment, yuan("1200000"));
        assert_eq!(below.outcome.retained_savings, yuan("200000"));

        // Actual 1,350,000 (112.5 %) → the 100–110 % band shared at 50 % (+60,000), the rest not.
        let above = per_capita_sharing(&policy, &capitation(), yuan("1350000")).expect("valid");
        assert_eq!(above.outcome.ratio.to_string(), "1.125");
        assert_eq!(above.outcome.shared, yuan("60000"));
        assert_eq!(above.outcome.payment, yuan("1260000"));
        assert_eq!(above.outcome.tier, AppliedTier::Overspend { band: 1 });
    }

    #[test]
    fn referrals_are_deducted_and_bad_input_reported() {
        let mut with_referrals = capitation();
        with_referrals.referrals_out = yuan("50000");
        assert_eq!(with_referrals.budget(), yuan("1150000"));

        let mut bad = capitation();
        bad.rate_per_head = yuan("-1");
        bad.referrals_out = yuan("-1");
        let err = per_capita_sharing(&SharingPolicy::hainan(), &bad, yuan("1")).expect_err("bad");
        assert_eq!(err.problems().len(), 2);

        let mut empty = capitation();
        empty.enrolled = 0;
        let err =
            per_capita_sharing(&SharingPolicy::hainan(), &empty, yuan("1")).expect_err("zero");
        assert_eq!(err.reason(), "NOT_POSITIVE");
    }
}
