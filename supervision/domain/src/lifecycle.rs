//! The levels and parameters a region changes over the configured policy (DOMAIN.md §6: weak ↔
//! general ↔ strong, one step at a time, each change recorded with who, why and the findings it
//! rests on).
//!
//! A change holds from its year on. For a region and year, each level of the region's chain
//! (province, then prefecture, then the region itself, the nearer applied later so that it wins)
//! gives each rule its latest change of a year not after the one asked for.

use kernel::RegionCode;
use serde::{Deserialize, Serialize};

use crate::catalogue::{RuleId, RuleLevel};
use crate::parameters::{Override, ScreeningPolicy};
use crate::review::Tally;

/// A recorded change of a rule's level for a region from a year on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    pub region: RegionCode,
    pub year: i32,
    pub rule: RuleId,
    pub from: RuleLevel,
    pub to: RuleLevel,
    pub changed_by: String,
    pub reason: String,
    /// The rule's reviewed findings in the region when the change was made.
    pub evidence: Tally,
}

/// A rule's parameters a region set from a year on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleParameters {
    pub region: RegionCode,
    pub year: i32,
    pub rule: RuleId,
    pub overrides: Vec<Override>,
}

/// Every change a province and its regions made, each list in the order the changes were made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyChanges {
    pub levels: Vec<LevelChange>,
    pub parameters: Vec<RuleParameters>,
}

/// A level that is not one step from the level in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("rule {rule} is {} already", .level.as_str())]
    Unchanged { rule: RuleId, level: RuleLevel },
    #[error(
        "rule {rule} is {}; it moves one step at a time (weak ↔ general ↔ strong), not to {}",
        .from.as_str(), .to.as_str()
    )]
    Jump {
        rule: RuleId,
        from: RuleLevel,
        to: RuleLevel,
    },
}

fn rank(level: RuleLevel) -> i8 {
    match level {
        RuleLevel::Weak => 0,
        RuleLevel::General => 1,
        RuleLevel::Strong => 2,
    }
}

/// Whether `rule` may move from `from` to `to`: one step up or down.
pub fn check_step(rule: RuleId, from: RuleLevel, to: RuleLevel) -> Result<(), StepError> {
    match (rank(to) - rank(from)).abs() {
        0 => Err(StepError::Unchanged { rule, level: from }),
        1 => Ok(()),
        _ => Err(StepError::Jump { rule, from, to }),
    }
}

/// The region's chain, farthest first: province, prefecture, itself.
fn chain(region: RegionCode) -> Vec<RegionCode> {
    let mut chain: Vec<RegionCode> = region.self_and_ancestors().collect();
    chain.reverse();
    chain
}

/// Of `items` (in the order made), for each level of `region`'s chain and each rule, the latest
/// of a year not after `year`, farthest region first, then in the order made.
fn in_force<T>(
    items: &[T],
    region: RegionCode,
    year: i32,
    key: impl Fn(&T) -> (RegionCode, i32, RuleId),
) -> Vec<&T> {
    let mut chosen = Vec::new();
    for level in chain(region) {
        let mut latest: std::collections::BTreeMap<RuleId, (i32, usize)> = Default::default();
        for (index, item) in items.iter().enumerate() {
            let (item_region, item_year, rule) = key(item);
            if item_region == level && item_year <= year {
                let entry = latest.entry(rule).or_insert((item_year, index));
                if (item_year, index) >= *entry {
                    *entry = (item_year, index);
                }
            }
        }
        let mut indices: Vec<usize> = latest.into_values().map(|(_, index)| index).collect();
        indices.sort_unstable();
        chosen.extend(indices.into_iter().filter_map(|index| items.get(index)));
    }
    chosen
}

impl PolicyChanges {
    /// `policy` (the configured one for `region` and `year`) with the changes in force applied.
    pub fn apply(
        &self,
        mut policy: ScreeningPolicy,
        region: RegionCode,
        year: i32,
    ) -> ScreeningPolicy {
        for change in in_force(&self.levels, region, year, |c| (c.region, c.year, c.rule)) {
            policy.levels.insert(change.rule, change.to);
        }
        for set in in_force(&self.parameters, region, year, |s| {
            (s.region, s.year, s.rule)
        }) {
            for change in &set.overrides {
                policy.parameters.apply(change);
            }
        }
        policy
    }

    /// The level changes of `rule` made for `region` or a region above it, in the order made.
    pub fn history(&self, region: RegionCode, rule: RuleId) -> Vec<&LevelChange> {
        let chain = chain(region);
        self.levels
            .iter()
            .filter(|change| change.rule == rule && chain.contains(&change.region))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters::{ParameterBook, ParameterSet};

    fn region(code: u32) -> RegionCode {
        RegionCode::from_u32(code).expect("test region")
    }

    fn change(code: u32, year: i32, from: RuleLevel, to: RuleLevel) -> LevelChange {
        LevelChange {
            region: region(code),
            year,
            rule: RuleId::BedBlocking,
            from,
            to,
            changed_by: "bureau".into(),
            reason: "reviewed".into(),
            evidence: Tally::default(),
        }
    }

    #[test]
    fn a_level_moves_one_step_either_way() {
        use RuleLevel::*;
        let rule = RuleId::BedBlocking;
        assert_eq!(check_step(rule, Weak, General), Ok(()));
        assert_eq!(check_step(rule, Strong, General), Ok(()));
        assert_eq!(check_step(rule, General, Weak), Ok(()));
        assert_eq!(
            check_step(rule, Weak, Strong),
            Err(StepError::Jump {
                rule,
                from: Weak,
                to: Strong
            })
        );
        assert_eq!(
            check_step(rule, Strong, Weak),
            Err(StepError::Jump {
                rule,
                from: Strong,
                to: Weak
            })
        );
        assert_eq!(
            check_step(rule, General, General),
            Err(StepError::Unchanged {
                rule,
                level: General
            })
        );
    }

    #[test]
    fn the_nearest_region_and_latest_year_win_over_the_configuration() {
        use RuleLevel::*;
        let mut configured = ParameterSet::new(region(460100), 2026);
        configured.levels.insert(RuleId::BedBlocking, Weak);
        let book = ParameterBook {
            sets: vec![configured],
        };
        let changes = PolicyChanges {
            levels: vec![
                change(460000, 2026, General, Strong),
                change(460100, 2027, Weak, General),
                change(460100, 2028, General, Strong),
            ],
            parameters: vec![
                RuleParameters {
                    region: region(460000),
                    year: 2026,
                    rule: RuleId::BedBlocking,
                    overrides: vec![Override::BedBlockingDays(5)],
                },
                RuleParameters {
                    region: region(460100),
                    year: 2027,
                    rule: RuleId::BedBlocking,
                    overrides: vec![Override::BedBlockingDays(4)],
                },
            ],
        };
        let at = |code: u32, year: i32| {
            changes.apply(book.policy_for(region(code), year), region(code), year)
        };

        // Haikou 2026: the province's change over Haikou's configured weak.
        assert_eq!(at(460100, 2026).level(RuleId::BedBlocking), Strong);
        assert_eq!(at(460100, 2026).parameters.bed_blocking_days, 5);
        // From 2027 Haikou's own change is nearer.
        assert_eq!(at(460100, 2027).level(RuleId::BedBlocking), General);
        assert_eq!(at(460100, 2027).parameters.bed_blocking_days, 4);
        assert_eq!(at(460100, 2030).level(RuleId::BedBlocking), Strong);
        // Sanya has the province's; before 2026 nothing was changed.
        assert_eq!(at(460200, 2027).level(RuleId::BedBlocking), Strong);
        assert_eq!(at(460200, 2025), ScreeningPolicy::default());

        assert_eq!(
            changes.history(region(460105), RuleId::BedBlocking).len(),
            3
        );
        assert_eq!(
            changes.history(region(460200), RuleId::BedBlocking).len(),
            1
        );
        assert!(
            changes
                .history(region(460100), RuleId::VeryLongStay)
                .is_empty()
        );
    }
}
