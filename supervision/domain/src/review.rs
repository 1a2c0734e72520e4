//! Reviewers' decisions on findings and the rule lifecycle (DOMAIN.md §6): a rule climbs from
//! weak to general to strong as its findings are confirmed. DOMAIN.md names no threshold; the
//! defaults (20 reviewed findings, 80 % confirmed) are parameters a region may change.
//!
//! A rule only ever moves up here: taking a rule down is a policy decision, not a count.

use std::collections::BTreeMap;

use kernel::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalogue::{RuleId, RuleLevel};
use crate::parameters::Parameters;

/// What a reviewer decided about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Decision {
    Confirmed,
    Dismissed,
}

/// A rule's reviewed findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub confirmed: u32,
    pub dismissed: u32,
}

impl Tally {
    pub fn record(&mut self, decision: Decision) {
        match decision {
            Decision::Confirmed => self.confirmed += 1,
            Decision::Dismissed => self.dismissed += 1,
        }
    }

    pub fn decided(&self) -> u32 {
        self.confirmed + self.dismissed
    }
}

/// Each rule's tally of `decisions`.
pub fn tally(decisions: impl IntoIterator<Item = (RuleId, Decision)>) -> BTreeMap<RuleId, Tally> {
    let mut tallies: BTreeMap<RuleId, Tally> = BTreeMap::new();
    for (rule, decision) in decisions {
        tallies.entry(rule).or_default().record(decision);
    }
    tallies
}

/// The level a rule at `current` should have after its reviews: one level up once enough
/// findings are decided and the confirmed share reaches the parameter (compared exactly).
pub fn proposed_level(current: RuleLevel, tally: &Tally, parameters: &Parameters) -> RuleLevel {
    let decided = tally.decided();
    if decided == 0 || decided < parameters.promotion_min_decided {
        return current;
    }
    let share = Decimal::from(tally.confirmed) / Decimal::from(decided);
    if share >= parameters.promotion_min_confirmed_share {
        current.promoted()
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reviewed(confirmed: u32, dismissed: u32) -> Tally {
        let decisions = std::iter::repeat_n(
            (RuleId::BedBlocking, Decision::Confirmed),
            confirmed as usize,
        )
        .chain(std::iter::repeat_n(
            (RuleId::BedBlocking, Decision::Dismissed),
            dismissed as usize,
        ));
        tally(decisions)
            .remove(&RuleId::BedBlocking)
            .unwrap_or_default()
    }

    #[test]
    fn a_rule_climbs_one_level_at_80_percent_of_20_reviews() {
        let parameters = Parameters::default();
        assert_eq!(
            proposed_level(RuleLevel::Weak, &reviewed(16, 4), &parameters),
            RuleLevel::General
        );
        assert_eq!(
            proposed_level(RuleLevel::General, &reviewed(16, 4), &parameters),
            RuleLevel::Strong
        );
        assert_eq!(
            proposed_level(RuleLevel::Strong, &reviewed(20, 0), &parameters),
            RuleLevel::Strong
        );
    }

    #[test]
    fn too_few_reviews_or_too_many_dismissals_keep_the_level() {
        let parameters = Parameters::default();
        assert_eq!(
            proposed_level(RuleLevel::Weak, &reviewed(19, 0), &parameters),
            RuleLevel::Weak
        );
        assert_eq!(
            proposed_level(RuleLevel::Weak, &reviewed(15, 5), &parameters),
            RuleLevel::Weak
        );
        assert_eq!(
            proposed_level(RuleLevel::General, &Tally::default(), &parameters),
            RuleLevel::General
        );
    }
}
