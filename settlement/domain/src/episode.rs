//! Per-diem days accumulated across a readmission (DOMAIN.md §3 per diem; §5 "rules that span
//! cases are settlement's" and Hainan precise defaults). Settlement alone holds a person's stays,
//! so it owns the rule: when it has a stay valued (intake, `RevalueCases`) it chains the person's
//! stays and sends the points context the episode days before the stay
//! (`prior_episode_days`), and every prepayment and clearing checks that each stay of its period
//! was valued with the days its stays give now, so the order in which lists arrived never
//! changes what is paid.
//!
//! The chain: stays of one person at one hospital in one per-diem programme (the programme the
//! points context names by its diagnosis and department tests, however the stay was paid: an
//! acute psychiatric stay paid by its DIP group counts), ordered by admission date, then
//! discharge date, then list id. A stay continues the episode of the stay before it when its
//! admission date − that stay's discharge date is 0 ..= the window (default 15 days): its prior
//! days are that stay's prior days plus that stay's billable days (max(LOS, 1)); otherwise 0.

use std::collections::BTreeMap;

use kernel::Date;
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;

/// Parameters of the accumulation, per region, year and fund (in the settlement policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodePolicy {
    /// Largest gap, later admission date − earlier discharge date, in days (default 15).
    pub window_days: u32,
    /// Billable days of a stay = max(LOS, this) (default 1).
    pub minimum_billable_days: u32,
}

impl Default for EpisodePolicy {
    fn default() -> Self {
        Self {
            window_days: 15,
            minimum_billable_days: 1,
        }
    }
}

impl EpisodePolicy {
    /// The parameters' bounds: a window of at most a year, at least one billable day.
    pub fn check(&self) -> Result<(), SettlementError> {
        if self.window_days > 366 {
            return Err(SettlementError::ParameterOutOfRange {
                record: "policy".into(),
                field: "per_diem_episode.window_days",
                value: self.window_days.to_string(),
                allowed: "0..=366",
            });
        }
        if !(1..=31).contains(&self.minimum_billable_days) {
            return Err(SettlementError::ParameterOutOfRange {
                record: "policy".into(),
                field: "per_diem_episode.minimum_billable_days",
                value: self.minimum_billable_days.to_string(),
                allowed: "1..=31",
            });
        }
        Ok(())
    }

    /// Billable days of a stay: max(discharge − admission, the minimum).
    pub fn billable_days(&self, admission: Date, discharge: Date) -> u32 {
        let los = u32::try_from(discharge.days_since(admission)).unwrap_or(0);
        los.max(self.minimum_billable_days)
    }
}

/// One stay as the chain reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeStay {
    pub hospital_code: String,
    pub list_id: String,
    /// 医保编号.
    pub person_id: String,
    /// The per-diem programme of the stay (`psychiatric`, `rehabilitation`, `hospice`); a stay
    /// of none takes no part.
    pub programme: String,
    pub admission_date: Date,
    pub discharge_date: Date,
    /// The prior days the stay was valued with, taken as they are: a stay outside the set being
    /// decided (an earlier stay already stored). `None`: decide them.
    pub fixed_prior: Option<u32>,
}

/// The prior episode days of each stay, in input order: decided by the chain for a stay without
/// `fixed_prior`, that value for the others. A stay of no programme or without a person has 0.
pub fn prior_episode_days(stays: &[EpisodeStay], policy: &EpisodePolicy) -> Vec<u32> {
    let mut priors: Vec<u32> = stays.iter().map(|s| s.fixed_prior.unwrap_or(0)).collect();
    let mut chains: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (index, stay) in stays.iter().enumerate() {
        if stay.programme.is_empty() || stay.person_id.is_empty() {
            continue;
        }
        chains
            .entry((&stay.hospital_code, &stay.person_id, &stay.programme))
            .or_default()
            .push(index);
    }
    let window = i64::from(policy.window_days);
    for chain in chains.values_mut() {
        chain.sort_by(|&a, &b| {
            let key = |s: &EpisodeStay| (s.admission_date, s.discharge_date, s.list_id.clone());
            key(&stays[a]).cmp(&key(&stays[b]))
        });
        for n in 0..chain.len() {
            let stay = &stays[chain[n]];
            if stay.fixed_prior.is_some() {
                continue;
            }
            priors[chain[n]] = match n.checked_sub(1).map(|m| chain[m]) {
                Some(before) => {
                    let earlier = &stays[before];
                    let gap = i64::from(stay.admission_date.days_since(earlier.discharge_date));
                    if (0..=window).contains(&gap) {
                        priors[before].saturating_add(
                            policy.billable_days(earlier.admission_date, earlier.discharge_date),
                        )
                    } else {
                        0
                    }
                }
                None => 0,
            };
        }
    }
    priors
}

/// A stay of a run's period valued with other prior days than its stays give now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleEpisode {
    pub hospital_code: String,
    pub list_id: String,
    pub valued_with: u32,
    pub expected: u32,
}

/// The stays of `period` (each with the prior days it was valued with) whose prior days differ
/// from what the chain over them and the `earlier` stored stays gives, in (hospital, list id)
/// order.
pub fn stale_episodes(
    period: &[(EpisodeStay, u32)],
    earlier: &[EpisodeStay],
    policy: &EpisodePolicy,
) -> Vec<StaleEpisode> {
    let stays: Vec<EpisodeStay> = period
        .iter()
        .map(|(stay, _)| EpisodeStay {
            fixed_prior: None,
            ..stay.clone()
        })
        .chain(earlier.iter().cloned())
        .collect();
    let expected = prior_episode_days(&stays, policy);
    let mut stale: Vec<StaleEpisode> = period
        .iter()
        .zip(expected)
        .filter(|((stay, valued), expected)| !stay.programme.is_empty() && valued != expected)
        .map(|((stay, valued), expected)| StaleEpisode {
            hospital_code: stay.hospital_code.clone(),
            list_id: stay.list_id.clone(),
            valued_with: *valued,
            expected,
        })
        .collect();
    stale.sort_by(|a, b| (&a.hospital_code, &a.list_id).cmp(&(&b.hospital_code, &b.list_id)));
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().expect("date")
    }

    fn stay(id: &str, admitted: &str, discharged: &str) -> EpisodeStay {
        EpisodeStay {
            hospital_code: "H1".into(),
            list_id: id.into(),
            person_id: "P1".into(),
            programme: "psychiatric".into(),
            admission_date: day(admitted),
            discharge_date: day(discharged),
            fixed_prior: None,
        }
    }

    fn priors(stays: &[EpisodeStay]) -> Vec<u32> {
        prior_episode_days(stays, &EpisodePolicy::default())
    }

    #[test]
    fn a_readmission_on_day_15_continues_the_episode_and_day_16_starts_a_new_one() {
        // A: 1 → 31 March, 30 days. B admitted 15 April: 15 days after A's discharge.
        let within = [
            stay("A", "2025-03-01", "2025-03-31"),
            stay("B", "2025-04-15", "2025-04-20"),
        ];
        assert_eq!(priors(&within), [0, 30]);
        let beyond = [
            stay("A", "2025-03-01", "2025-03-31"),
            stay("B", "2025-04-16", "2025-04-20"),
        ];
        assert_eq!(priors(&beyond), [0, 0]);
    }

    #[test]
    fn the_chain_carries_every_earlier_stay_and_a_same_day_stay_bills_one_day() {
        // A 20 days, B the same day (LOS 0 → 1 billable day), C 10 days later.
        let stays = [
            stay("C", "2025-02-05", "2025-02-10"),
            stay("A", "2025-01-01", "2025-01-21"),
            stay("B", "2025-01-26", "2025-01-26"),
        ];
        assert_eq!(priors(&stays), [21, 0, 20]);
    }

    #[test]
    fn only_the_same_person_hospital_and_programme_and_a_fixed_prior_is_kept() {
        let base = || {
            [
                stay("A", "2025-03-01", "2025-03-31"),
                stay("B", "2025-04-01", "2025-04-10"),
            ]
        };
        type Change = fn(&mut EpisodeStay);
        let changes: [(&str, Change); 4] = [
            ("another person", |b| b.person_id = "P2".into()),
            ("another hospital", |b| b.hospital_code = "H2".into()),
            ("another programme", |b| {
                b.programme = "rehabilitation".into()
            }),
            ("no programme", |b| b.programme = String::new()),
        ];
        for (why, change) in changes {
            let mut stays = base();
            change(&mut stays[1]);
            assert_eq!(priors(&stays), [0, 0], "{why}");
        }
        // A stored earlier stay valued with 40 prior days: the chain continues from them.
        let mut stays = base();
        stays[0].fixed_prior = Some(40);
        assert_eq!(priors(&stays), [40, 70]);
    }

    #[test]
    fn an_earlier_stay_arriving_late_makes_the_later_one_stale() {
        // B was valued first, alone (0 prior days); A, admitted before it, arrived afterwards.
        let period = [
            (stay("A", "2025-03-01", "2025-03-31"), 0),
            (stay("B", "2025-04-10", "2025-04-20"), 0),
        ];
        assert_eq!(
            stale_episodes(&period, &[], &EpisodePolicy::default()),
            [StaleEpisode {
                hospital_code: "H1".into(),
                list_id: "B".into(),
                valued_with: 0,
                expected: 30,
            }]
        );
        // Valued with the right days: nothing stale. An earlier stored stay outside the period
        // counts with its own prior days.
        let period = [(stay("B", "2025-04-10", "2025-04-20"), 35)];
        let mut earlier = stay("A", "2025-03-01", "2025-03-31");
        earlier.fixed_prior = Some(5);
        assert!(stale_episodes(&period, &[earlier], &EpisodePolicy::default()).is_empty());
    }
}
