//! The quality deposit (质量保证金) returned at clearing by the assessment score.

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

/// The quality deposit returned by assessment score (质量保证金, DOMAIN.md §4): all of it from
/// `full_from`, score / 100 of it from `none_below` up, nothing below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DepositReturn {
    pub full_from: Decimal,
    pub none_below: Decimal,
}

impl Default for DepositReturn {
    fn default() -> Self {
        Self {
            full_from: Decimal::from(90),
            none_below: Decimal::from(60),
        }
    }
}

impl DepositReturn {
    /// The share of the deposit a score returns; the score is compared exactly.
    pub fn share(&self, score: Decimal) -> Decimal {
        if score >= self.full_from {
            Decimal::ONE
        } else if score < self.none_below {
            Decimal::ZERO
        } else {
            score / Decimal::ONE_HUNDRED
        }
    }

    /// What `score` returns of `withheld`, rounded once.
    pub fn returned(&self, score: Decimal, withheld: Money) -> Money {
        Money::round(withheld.value() * self.share(score))
    }
}
