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

/// Where a finding stands: open until a reviewer decides it, then final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FindingStatus {
    Open,
    Confirmed,
    Dismissed,
}

/// A decision on a finding that was already decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the finding is {} already; only an open finding is reviewed", .0.as_str())]
pub struct AlreadyDecided(pub FindingStatus);

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Confirmed => "confirmed",
            FindingStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => FindingStatus::Open,
            "confirmed" => FindingStatus::Confirmed,
            "dismissed" => FindingStatus::Dismissed,
            _ => return None,
        })
    }

    /// The status after `decision`: a review decides an open finding once, so that a
    /// confirmation counted towards a rule's promotion is never silently reversed.
    pub fn review(self, decision: Decision) -> Result<FindingStatus, AlreadyDecided> {
        match self {
            FindingStatus::Open => Ok(match decision {
                Decision::Confirmed => FindingStatus::Confirmed,
                Decision::Dismissed => FindingStatus::Dismissed,
            }),
            decided => Err(AlreadyDecided(decided)),
        }
    }
}

impl Decision {
    /// Reads `confirmed` or `dismissed`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "confirmed" => Some(Decision::Confirmed),
            "dismissed" => Some(Decision::Dismissed),
            _ => None,
        }
    }
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
    fn an_open_finding_is_decided_once() {
        assert_eq!(
            FindingStatus::Open.review(Decision::Confirmed),
            Ok(FindingStatus::Confirmed)
        );
        assert_eq!(
            FindingStatus::Open.review(Decision::Dismissed),
            Ok(FindingStatus::Dismissed)
        );
        assert_eq!(
            FindingStatus::Confirmed.review(Decision::Dismissed),
            Err(AlreadyDecided(FindingStatus::Confirmed))
        );
        for status in [
            FindingStatus::Open,
            FindingStatus::Confirmed,
            FindingStatus::Dismissed,
        ] {
            assert_eq!(FindingStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Decision::parse("open"), None);
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
