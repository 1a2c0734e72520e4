//! The report's figures, gathered from the same clearing summaries the printed table reads:
//! payments by mode and by hospital level, the sharing tiers, prepaid against cleared. Sums
//! only: nothing here rounds.

use std::collections::BTreeMap;

use kernel::Money;

use crate::demo::summary::ClearingSummary;

/// The line of the points-paid modes in "paid by mode": their fund part follows from the point
/// value per hospital, not per mode.
pub const POINTS_PAID: &str = "points_paid";

/// What the fund paid per payment mode: each money-paid mode's fund part, and the points-paid
/// modes (those whose lines carry points) together as [`POINTS_PAID`] with every hospital's
/// points fund part. Adds up to the entitlements plus the special cases.
pub fn paid_by_mode(c: &ClearingSummary) -> BTreeMap<String, Money> {
    let mut paid: BTreeMap<String, Money> = BTreeMap::new();
    for h in &c.hospitals {
        *paid.entry(POINTS_PAID.to_owned()).or_insert(Money::ZERO) += h.points_fund_part;
        for (mode, line) in &h.modes {
            if line.points.value().is_zero() {
                *paid.entry(mode.clone()).or_insert(Money::ZERO) += line.fund_part;
            }
        }
    }
    paid
}

/// The modes whose lines carry points, by name.
pub fn points_modes(c: &ClearingSummary) -> Vec<String> {
    let mut modes: Vec<String> = c
        .hospitals
        .iter()
        .flat_map(|h| &h.modes)
        .filter(|(_, line)| !line.points.value().is_zero())
        .map(|(mode, _)| mode.clone())
        .collect();
    modes.sort();
    modes.dedup();
    modes
}

/// A group of hospitals' year: the level's or the tier's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub hospitals: u64,
    pub cases: u64,
    pub entitlement: Money,
    pub standard: Money,
    pub actual: Money,
    pub adjustment: Money,
    pub final_amount: Money,
    pub prepaid: Money,
    pub balance: Money,
}

impl Group {
    fn add(&mut self, h: &crate::demo::summary::HospitalTotals) {
        self.hospitals += 1;
        self.cases += h.cases;
        self.entitlement += h.fund_entitlement;
        self.standard += h.sharing_standard;
        self.actual += h.sharing_actual;
        self.adjustment += h.sharing_adjustment;
        self.final_amount += h.final_amount;
        self.prepaid += h.prepaid;
        self.balance += h.balance;
    }
}

/// The order levels are read in: tertiary first.
pub const LEVELS: [&str; 7] = ["3A", "3B", "2A", "2B", "1", "community", "unknown"];

fn level_rank(level: &str) -> usize {
    LEVELS
        .iter()
        .position(|l| *l == level)
        .unwrap_or(LEVELS.len())
}

/// The clearing's hospitals by level, tertiary first.
pub fn by_level(c: &ClearingSummary) -> Vec<(String, Group)> {
    let mut groups: BTreeMap<(usize, String), Group> = BTreeMap::new();
    for h in &c.hospitals {
        groups
            .entry((level_rank(&h.level), h.level.clone()))
            .or_default()
            .add(h);
    }
    groups
        .into_iter()
        .map(|((_, level), group)| (level, group))
        .collect()
}

/// The clearing's hospitals by the sharing tier that applied.
pub fn by_tier(c: &ClearingSummary) -> BTreeMap<String, Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for h in &c.hospitals {
        groups.entry(h.sharing_tier.clone()).or_default().add(h);
    }
    groups
}

/// The whole clearing as one group.
pub fn whole(c: &ClearingSummary) -> Group {
    let mut group = Group::default();
    for h in &c.hospitals {
        group.add(h);
    }
    group
}
