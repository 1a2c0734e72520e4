//! The DIP same-level reference cost (同级别次均费用, DOMAIN.md §5 Hainan precise defaults) a
//! valuation table publishes for each group, and the one reference of basic-level groups.
//!
//! Reference at a level = round2 of last year's untrimmed mean total cost of the group's cases at
//! that level when there are at least [`MIN_REFERENCE_CASES`]; else the group's last-year mean
//! over every level (again at least [`MIN_REFERENCE_CASES`]); else the published mean. A
//! basic-level group (基层病种) has one reference at every level: the same rule with the cases of
//! 二级 hospitals (2A and 2B) together as "the level".

use std::collections::BTreeMap;

use kernel::{Decimal, Money};

use crate::level::HospitalLevel;

/// Cases a mean needs before it is used as a reference.
pub const MIN_REFERENCE_CASES: u64 = 5;

/// Last year's cases of one group (at one level, or at several together): count and total cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostSum {
    pub cases: u64,
    pub total: Money,
}

impl CostSum {
    /// Counts one case.
    pub fn add(&mut self, cost: Money) {
        self.cases += 1;
        self.total += cost;
    }

    /// The cases of two disjoint sets together.
    pub fn plus(self, other: CostSum) -> CostSum {
        CostSum {
            cases: self.cases + other.cases,
            total: self.total + other.total,
        }
    }

    /// The mean when at least [`MIN_REFERENCE_CASES`] cases back it, unrounded.
    fn mean(self) -> Option<Decimal> {
        (self.cases >= MIN_REFERENCE_CASES).then(|| self.total.value() / Decimal::from(self.cases))
    }
}

/// The reference of cases `at_level` (the group's cases at one level), falling back to
/// `all_levels` (every case of the group last year) and then to `published`; rounded once.
pub fn reference_cost(at_level: CostSum, all_levels: CostSum, published: Money) -> Money {
    match at_level.mean().or_else(|| all_levels.mean()) {
        Some(mean) => Money::round(mean),
        None => published,
    }
}

/// The one reference of a basic-level group at every level: the 2A and 2B cases together, with
/// the same fallbacks as [`reference_cost`].
pub fn basic_level_reference(
    by_level: &BTreeMap<HospitalLevel, CostSum>,
    published: Money,
) -> Money {
    let at = |level| by_level.get(&level).copied().unwrap_or_default();
    let secondary = at(HospitalLevel::Secondary2A).plus(at(HospitalLevel::Secondary2B));
    reference_cost(secondary, every_level(by_level), published)
}

/// The group's cases at every level together.
pub fn every_level(by_level: &BTreeMap<HospitalLevel, CostSum>) -> CostSum {
    by_level
        .values()
        .fold(CostSum::default(), |sum, level| sum.plus(*level))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(costs: &[&str]) -> CostSum {
        let mut sum = CostSum::default();
        for cost in costs {
            sum.add(cost.parse().expect("money"));
        }
        sum
    }

    fn yuan(text: &str) -> Money {
        text.parse().expect("money")
    }

    #[test]
    fn basic_level_reference_pools_2a_and_2b_with_the_fallbacks() {
        // 2A: 3 cases, 2B: 2 cases: neither alone reaches 5, together they do:
        // (1000 + 2000 + 3000 + 4000 + 5000.03) / 5 = 3000.006 → 3000.01.
        let by_level = BTreeMap::from([
            (
                HospitalLevel::Tertiary3A,
                sum(&["9000", "9000", "9000", "9000", "9000"]),
            ),
            (HospitalLevel::Secondary2A, sum(&["1000", "2000", "3000"])),
            (HospitalLevel::Secondary2B, sum(&["4000", "5000.03"])),
        ]);
        assert_eq!(
            basic_level_reference(&by_level, yuan("777")),
            yuan("3000.01")
        );
        // Four 二级 cases: the mean over every level.
        let by_level = BTreeMap::from([
            (
                HospitalLevel::Tertiary3A,
                sum(&["9000", "9000", "9000", "9000", "9000"]),
            ),
            (HospitalLevel::Secondary2A, sum(&["1000", "2000", "3000"])),
            (HospitalLevel::Secondary2B, sum(&["4000"])),
        ]);
        // (45000 + 10000) / 9 = 6111.111… → 6111.11.
        assert_eq!(
            basic_level_reference(&by_level, yuan("777")),
            yuan("6111.11")
        );
        // Four cases in all: the published mean.
        let by_level = BTreeMap::from([(HospitalLevel::Secondary2A, sum(&["1", "2", "3", "4"]))]);
        assert_eq!(basic_level_reference(&by_level, yuan("777")), yuan("777"));
    }

    #[test]
    fn same_level_reference_needs_five_cases() {
        let level = sum(&["100", "100", "100", "100", "100.05"]);
        let all = sum(&["1", "1", "1", "1", "1", "1"]);
        // 500.05 / 5 = 100.01.
        assert_eq!(reference_cost(level, all, yuan("9")), yuan("100.01"));
        let four = sum(&["100", "100", "100", "100"]);
        assert_eq!(reference_cost(four, all, yuan("9")), yuan("1.00"));
        assert_eq!(reference_cost(four, four, yuan("9")), yuan("9"));
    }
}
