//! The per-diem episode check of every prepayment and clearing (DOMAIN.md §5: rules across
//! stays are applied over the stored cases of the period at every run). Settlement applies the
//! rule when it values a stay (`intake::episodes`); a stay valued before an earlier stay of its
//! episode arrived was valued with too few prior days. A run pays only what was valued, so it
//! chains the period's stays with the person's stored stays and refuses while any stay of the
//! period was valued with other prior days than its stays give, naming them: the bureau revalues
//! them (`RevalueCases` over their discharge period with `include_valued`, new valuation versions
//! with the old ones kept) and runs again. The refusal, rather than a silent revaluation inside
//! the run, keeps every change of a case's value an act of its own in the ledger and the audit.

use std::collections::BTreeSet;

use settlement_domain::episode::{EpisodeStay, stale_episodes};
use settlement_domain::policy::SettlementPolicy;

use super::RunError;
use super::store::RunCase;
use crate::store::Storage;
use crate::store::case_clearing;
use crate::store::episodes::episode_stays;

/// How many stale stays a refusal names.
const STALE_LISTED: usize = 20;

/// Refuses the run when a per-diem stay of `cases` (the period's) was valued with other prior
/// episode days than the chain over its stays gives now.
pub(super) async fn refuse_stale_episodes<C: Storage>(
    conn: &C,
    cases: &[RunCase],
    policy: &SettlementPolicy,
) -> Result<(), RunError> {
    let episode = &policy.per_diem_episode;
    episode
        .check()
        .map_err(|error| RunError::Domain(vec![error]))?;
    let stays: Vec<&RunCase> = cases
        .iter()
        .filter(|case| {
            !case.episode_programme.is_empty()
                && !case.person_id.is_empty()
                && case.status != crate::store::ledger::status::CLEARED
        })
        .collect();
    // A cleared stay's valuation is final (RevalueCases leaves it): a re-run takes it as it was
    // cleared rather than refusing for ever.
    let keys: Vec<(&str, &str)> = stays
        .iter()
        .map(|case| (case.hospital_code.as_str(), case.list_id.as_str()))
        .collect();
    let cleared = case_clearing::current_taken(conn, &keys).await?;
    let mut period = Vec::new();
    for case in stays {
        if cleared.contains(&(case.hospital_code.clone(), case.list_id.clone())) {
            continue;
        }
        let date = |value: i32, column: &str| {
            kernel::Date::from_yyyymmdd(value).map_err(|e| {
                RunError::Internal(format!(
                    "stored {column} {value} of {}/{}: {e}",
                    case.hospital_code, case.list_id
                ))
            })
        };
        let stay = EpisodeStay {
            hospital_code: case.hospital_code.clone(),
            list_id: case.list_id.clone(),
            person_id: case.person_id.clone(),
            programme: case.episode_programme.clone(),
            admission_date: date(case.admission_date, "admission_date")?,
            discharge_date: date(case.discharge_date, "discharge_date")?,
            fixed_prior: None,
        };
        let valued = u32::try_from(case.prior_episode_days).unwrap_or(0);
        period.push((stay, valued));
    }
    let (Some(first), Some(last)) = (
        period.iter().map(|(s, _)| s.admission_date).min(),
        period.iter().map(|(s, _)| s.admission_date).max(),
    ) else {
        return Ok(());
    };
    let window = i32::try_from(episode.window_days).unwrap_or(i32::MAX);
    let persons: Vec<String> = period
        .iter()
        .map(|(s, _)| s.person_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys: BTreeSet<(&str, &str)> = period
        .iter()
        .map(|(s, _)| (s.hospital_code.as_str(), s.list_id.as_str()))
        .collect();
    let range = (first.add_days(-window).to_yyyymmdd(), last.to_yyyymmdd());
    let earlier: Vec<EpisodeStay> = episode_stays(conn, &persons, range)
        .await?
        .into_iter()
        .filter(|s| !keys.contains(&(s.hospital_code.as_str(), s.list_id.as_str())))
        .collect();
    let stale = stale_episodes(&period, &earlier, episode);
    if stale.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = stale
        .iter()
        .take(STALE_LISTED)
        .map(|s| {
            format!(
                "{}/{} (valued with {} prior days, its stays give {})",
                s.hospital_code, s.list_id, s.valued_with, s.expected
            )
        })
        .collect();
    Err(RunError::Precondition {
        reason: "EPISODE_DAYS_STALE",
        message: format!(
            "{} per-diem stay(s) of the period were valued before an earlier stay of their \
             episode arrived: {}{}; revalue them (RevalueCases over their discharge period with \
             include_valued) and run again",
            stale.len(),
            names.join(", "),
            if stale.len() > STALE_LISTED {
                ", …"
            } else {
                ""
            }
        ),
    })
}
