//! Per-diem episode days when a stay is valued (DOMAIN.md §5: rules across stays are
//! settlement's; `settlement_domain::episode`). Intake and `RevalueCases` value a batch once with
//! no prior days, which tells each stay's per-diem programme; a stay whose programme continues an
//! episode of the same person at the same hospital (the batch's stays and the stored ones) is
//! valued again with its prior days. A stored stay admitted after a stay of the batch keeps its
//! valuation here: prepayment and clearing find it valued with other days than its stays give
//! now and refuse, naming it, until it is revalued.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{FundType, RegionCode};
use settlement_domain::case::SettlementList;
use settlement_domain::episode::{EpisodePolicy, EpisodeStay, prior_episode_days};
use settlement_domain::policy::SettlementPolicy;
use settlement_domain::ports::{BatchValuation, CheckedValuation};

use super::{Intake, IntakeError};
use crate::store::episodes::episode_stays;
use crate::store::ledger::StoreError;

impl Intake {
    /// Values `lists` of one pooling region with the per-diem episode days their stays give;
    /// the unknown codes are those of the first grouping (the days change no code).
    pub(super) async fn value_with_episodes(
        &self,
        region: RegionCode,
        lists: &[SettlementList],
    ) -> Result<CheckedValuation, IntakeError> {
        let checked = self.valuer.value_and_check(region, lists, &[]).await?;
        let lists: Vec<&SettlementList> = lists.iter().collect();
        self.with_episodes(region, &lists, checked).await
    }

    /// Completes a first valuation of `lists` (`checked`, valued with no prior days, perhaps
    /// before the chunks ahead of them were stored) with the episode days the ledger gives now.
    pub(super) async fn with_episodes(
        &self,
        region: RegionCode,
        lists: &[&SettlementList],
        checked: CheckedValuation,
    ) -> Result<CheckedValuation, IntakeError> {
        let valuations = self
            .with_episode_days(region, lists, checked.valuations)
            .await?;
        Ok(CheckedValuation {
            valuations,
            unknown_codes: checked.unknown_codes,
        })
    }

    /// Values again, with their prior days, the stays of `answers` that continue an episode.
    async fn with_episode_days(
        &self,
        region: RegionCode,
        lists: &[&SettlementList],
        mut answers: BatchValuation,
    ) -> Result<BatchValuation, IntakeError> {
        let batch: Vec<(usize, EpisodeStay)> = answers
            .iter()
            .enumerate()
            .filter_map(|(i, answer)| {
                let programme = answer.as_ref().ok()?.episode_programme.clone();
                let list = &lists[i];
                (!programme.is_empty() && !list.header.person_id.is_empty()).then(|| {
                    let stay = EpisodeStay {
                        hospital_code: list.header.hospital_code.clone(),
                        list_id: list.header.list_id.clone(),
                        person_id: list.header.person_id.clone(),
                        programme,
                        admission_date: list.stay.admitted_at.date(),
                        discharge_date: list.stay.discharged_at.date(),
                        fixed_prior: None,
                    };
                    (i, stay)
                })
            })
            .collect();
        if batch.is_empty() {
            return Ok(answers);
        }
        // The stays' policies, by fund and discharge year.
        let mut policies: BTreeMap<(u16, i32), EpisodePolicy> = BTreeMap::new();
        for (i, stay) in &batch {
            let key = (lists[*i].header.insurance_type, stay.discharge_date.year());
            if let std::collections::btree_map::Entry::Vacant(slot) = policies.entry(key) {
                slot.insert(self.episode_policy(region, key).await?);
            }
        }
        let widest = policies.values().map(|p| p.window_days).max().unwrap_or(0);
        let from = batch.iter().map(|(_, s)| s.admission_date).min();
        let until = batch.iter().map(|(_, s)| s.admission_date).max();
        let (Some(from), Some(until)) = (from, until) else {
            return Ok(answers);
        };
        let persons: Vec<String> = batch
            .iter()
            .map(|(_, s)| s.person_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let keys: BTreeSet<(&str, &str)> = batch
            .iter()
            .map(|(_, s)| (s.hospital_code.as_str(), s.list_id.as_str()))
            .collect();
        let range = (
            from.add_days(-i32::try_from(widest).unwrap_or(i32::MAX))
                .to_yyyymmdd(),
            until.to_yyyymmdd(),
        );
        // The stored versions of the batch's own cases are what is being replaced.
        let stored: Vec<EpisodeStay> = episode_stays(&self.db, &persons, range)
            .await?
            .into_iter()
            .filter(|s| !keys.contains(&(s.hospital_code.as_str(), s.list_id.as_str())))
            .collect();
        let stays: Vec<EpisodeStay> = batch.iter().map(|(_, s)| s.clone()).chain(stored).collect();
        let mut again: Vec<(usize, u32)> = Vec::new();
        for (key, policy) in &policies {
            let priors = prior_episode_days(&stays, policy);
            for (slot, (i, _)) in batch.iter().enumerate() {
                let list = &lists[*i];
                let of_policy = (
                    list.header.insurance_type,
                    list.stay.discharged_at.date().year(),
                );
                if of_policy == *key && priors[slot] > 0 {
                    again.push((*i, priors[slot]));
                }
            }
        }
        if again.is_empty() {
            return Ok(answers);
        }
        let (indices, priors): (Vec<usize>, Vec<u32>) = again.into_iter().unzip();
        let continuing: Vec<SettlementList> =
            indices.iter().map(|&i| (*lists[i]).clone()).collect();
        let revalued = self
            .valuer
            .value_batch(region, &continuing, &priors)
            .await?;
        for (slot, i) in indices.into_iter().enumerate() {
            answers[i] = revalued
                .get(slot)
                .cloned()
                .unwrap_or_else(|| Err("valuation answered fewer results".to_owned()));
        }
        Ok(answers)
    }

    /// The episode parameters in force for a stay of `region`: the latest settlement policy of
    /// the region or the nearest region above it for the fund and year, else the defaults.
    async fn episode_policy(
        &self,
        region: RegionCode,
        (insurance_type, year): (u16, i32),
    ) -> Result<EpisodePolicy, IntakeError> {
        let Ok(fund) = FundType::from_code(insurance_type) else {
            return Ok(EpisodePolicy::default());
        };
        for region in region.self_and_ancestors() {
            if let Some((version, json)) =
                crate::runs::store::latest_policy(&self.db, region, year, fund).await?
            {
                let policy: SettlementPolicy = serde_json::from_str(&json).map_err(|e| {
                    StoreError::Corrupt(platform::db::CorruptRow {
                        column: "policy_json",
                        value: format!("{region} {year} {fund} v{version}"),
                        reason: e.to_string(),
                    })
                })?;
                return Ok(policy.per_diem_episode);
            }
        }
        Ok(EpisodePolicy::default())
    }
}
