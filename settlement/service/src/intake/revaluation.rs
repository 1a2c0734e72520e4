//! Revaluation (DOMAIN.md §5): a case stored unvalued (no scheme or table in force at intake, a
//! peer down), or valued with a table corrected since, is grouped and valued again through the
//! same [`CaseValuer`](settlement_domain::ports::CaseValuer) port as intake. The peers are asked
//! first; what changed is stored afterwards as new versions in the request's unit of work. A
//! version grouped again carries the warnings of that grouping: the codes the scheme it was
//! grouped under does not know replace those the scheme before did not.

use std::collections::BTreeMap;

use kernel::{FundType, RegionCode};
use settlement_domain::case::SettlementList;
use settlement_domain::intake_warnings::rechecked;
use settlement_domain::ledger::LedgerStatus;
use settlement_domain::ports::{UnknownCode, ValuedCase};

use super::{Intake, IntakeError};
use crate::store::ledger::{CaseStore, LedgerCase};
use crate::store::rechecked_warnings::{self, Recheck};

/// How many still-unvalued cases an answer names.
const UNVALUED_NAMED: usize = 100;

/// What to revalue.
#[derive(Clone, Debug)]
pub struct RevaluationOrder {
    pub region: RegionCode,
    pub fund: FundType,
    /// Inclusive `yyyymmdd` range of the discharge date.
    pub discharged: (i32, i32),
    /// Every current case not yet cleared, not only the unvalued ones.
    pub include_valued: bool,
    pub request_id: String,
    pub stored_at: i64,
}

/// The new versions to store and what the revaluation found.
#[derive(Clone, Debug, Default)]
pub struct Revaluation {
    /// Cases whose valuation changed, as their next version.
    pub versions: Vec<LedgerCase>,
    /// The warnings of those of them that were grouped (the others keep their warnings).
    pub rechecks: Vec<Recheck>,
    pub read: u64,
    pub unchanged: u64,
    pub still_unvalued: u64,
    /// The first of them: (hospital, list id, why).
    pub unvalued: Vec<(String, String, String)>,
}

/// Whether two stored versions carry the same valuation.
fn same_valuation(a: &LedgerCase, b: &LedgerCase) -> bool {
    (
        a.status,
        &a.payment_mode,
        &a.group_code,
        a.points,
        a.amount,
        &a.scheme_version,
        &a.table_version,
        &a.valuation_json,
        &a.valuation_error,
        (&a.episode_programme, a.prior_episode_days),
    ) == (
        b.status,
        &b.payment_mode,
        &b.group_code,
        b.points,
        b.amount,
        &b.scheme_version,
        &b.table_version,
        &b.valuation_json,
        &b.valuation_error,
        (&b.episode_programme, b.prior_episode_days),
    )
}

impl Intake {
    /// Values the order's cases again, per pooling region; the new versions are returned, not
    /// stored. A peer that cannot be reached, or refuses this service, fails the whole order.
    pub async fn revalue(&self, order: &RevaluationOrder) -> Result<Revaluation, IntakeError> {
        let current = CaseStore::revaluable(
            &self.db,
            order.region,
            order.fund,
            order.discharged,
            order.include_valued,
        )
        .await?;
        let mut done = Revaluation {
            read: current.len() as u64,
            ..Revaluation::default()
        };
        let mut by_region: BTreeMap<RegionCode, Vec<(LedgerCase, SettlementList)>> =
            BTreeMap::new();
        for case in current {
            match serde_json::from_str::<SettlementList>(&case.case_json) {
                Ok(list) => by_region.entry(case.region).or_default().push((case, list)),
                // A stored list this version cannot read stays as it is, named in the answer.
                Err(error) => {
                    done.note_unvalued(&case, &format!("stored list unreadable: {error}"))
                }
            }
        }
        for (region, cases) in by_region {
            let lists: Vec<SettlementList> = cases.iter().map(|(_, list)| list.clone()).collect();
            let checked = self.value_with_episodes(region, &lists).await?;
            let (answers, unknown) = (checked.valuations, checked.unknown_codes);
            // (previous version, new version, the codes its grouping did not know)
            let mut grouped: Vec<(LedgerCase, usize, &[UnknownCode])> = Vec::new();
            for (slot, (case, _)) in cases.into_iter().enumerate() {
                let answer = answers
                    .get(slot)
                    .cloned()
                    .unwrap_or_else(|| Err("valuation answered fewer results".to_owned()));
                let mut next = case.clone();
                record_valuation(&mut next, Some(&answer));
                if next.status == LedgerStatus::Unvalued {
                    done.note_unvalued(&next, &next.valuation_error.clone());
                }
                if same_valuation(&case, &next) {
                    done.unchanged += 1;
                    continue;
                }
                next.version = case.version + 1;
                next.request_id = order.request_id.clone();
                next.stored_at = order.stored_at;
                // A valuer that cannot tell the unknown codes answers none for the batch:
                // the warnings then stay as they were.
                if let (Ok(_), Some(codes)) = (&answer, unknown.get(slot)) {
                    grouped.push((case, done.versions.len(), codes));
                }
                done.versions.push(next);
            }
            self.recheck(&mut done, grouped).await?;
        }
        Ok(done)
    }

    /// The warnings of the new versions that were grouped: their previous version's, with the
    /// unknown codes of the new grouping.
    async fn recheck(
        &self,
        done: &mut Revaluation,
        grouped: Vec<(LedgerCase, usize, &[UnknownCode])>,
    ) -> Result<(), IntakeError> {
        if grouped.is_empty() {
            return Ok(());
        }
        let previous: Vec<LedgerCase> = grouped.iter().map(|(case, _, _)| case.clone()).collect();
        let kept = rechecked_warnings::of_versions(&self.db, &previous).await?;
        for (case, index, codes) in grouped {
            let Some(next) = done.versions.get(index) else {
                continue;
            };
            let before = kept
                .get(&(
                    case.hospital_code.clone(),
                    case.list_id.clone(),
                    case.version,
                ))
                .map_or(&[][..], Vec::as_slice);
            done.rechecks.push(Recheck {
                region: next.region,
                hospital_code: next.hospital_code.clone(),
                list_id: next.list_id.clone(),
                version: next.version,
                content_hash: next.content_hash.clone(),
                warnings: rechecked(before, codes),
            });
        }
        Ok(())
    }
}

impl Revaluation {
    fn note_unvalued(&mut self, case: &LedgerCase, why: &str) {
        self.still_unvalued += 1;
        if self.unvalued.len() < UNVALUED_NAMED {
            self.unvalued.push((
                case.hospital_code.clone(),
                case.list_id.clone(),
                why.to_owned(),
            ));
        }
    }
}

/// Records an inpatient case's valuation (or why it has none) on its stored version.
pub(super) fn record_valuation(
    stored: &mut LedgerCase,
    valuation: Option<&Result<ValuedCase, String>>,
) {
    stored.payment_mode = String::new();
    stored.group_code = String::new();
    stored.points = kernel::Points::from_scaled(0);
    stored.amount = None;
    stored.scheme_version = String::new();
    stored.table_version = String::new();
    stored.valuation_json = String::new();
    stored.valuation_error = String::new();
    (stored.episode_programme, stored.prior_episode_days) = (String::new(), 0);
    match valuation {
        Some(Ok(v)) => {
            stored.status = LedgerStatus::Valued;
            stored.payment_mode = v.payment_mode.clone();
            stored.group_code = v.group_code.clone();
            stored.points = v.points;
            stored.amount = v.amount;
            stored.scheme_version = v.scheme_version.clone();
            stored.table_version = v.table_version.clone();
            stored.valuation_json = v.valuation_json.clone();
            (stored.episode_programme, stored.prior_episode_days) =
                (v.episode_programme.clone(), v.prior_episode_days);
        }
        Some(Err(why)) => {
            stored.status = LedgerStatus::Unvalued;
            stored.valuation_error = why.clone();
        }
        None => {
            stored.status = LedgerStatus::Unvalued;
            stored.valuation_error = "not valued".to_owned();
        }
    }
}
