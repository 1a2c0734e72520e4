//! Each rule's findings over a report's months, read from the stored screening runs: only the
//! latest version of each run counts (a rerun replaces its findings), and a case found by runs
//! of several regions (the province's and its county's) counts from one of them
//! ([`supervision_domain::overlap::counted_once`]); counted by rule and status in the service
//! since the rows are narrow and the sums portable across both backends.

use std::collections::{BTreeMap, HashMap};

use kernel::{FundType, Money, RegionCode, YearMonth};
use platform::db::{fund_to_db, region_from_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, QuerySelect};
use supervision_domain::overlap::{CountedAs, RunRef, counted_once};
use supervision_domain::reports::FindingCount;
use supervision_domain::{FindingStatus, RuleId};

use crate::store::{
    StoreError, SupervisionStore, region_span, supervision_finding, supervision_run,
};

/// (run region, period, version, rule number, status, amount in fen, hospital, list id, other
/// hospital, other list id) of a stored finding.
type HitRow = (
    i32,
    i32,
    i32,
    i32,
    String,
    i64,
    String,
    String,
    String,
    String,
);

/// Whose findings a report counts.
pub struct HitScope<'a> {
    /// The cases' region (and the regions inside it).
    pub region: RegionCode,
    pub months: &'a [YearMonth],
    pub fund: Option<FundType>,
    /// A hospital caller's own institution.
    pub hospital: Option<&'a str>,
}

/// Findings counted by rule and status, and how many runs they came from.
pub async fn rule_counts(
    store: &SupervisionStore,
    scope: &HitScope<'_>,
) -> Result<(Vec<FindingCount>, u32), StoreError> {
    let db: &DatabaseConnection = store.connection();
    let (Some(first), Some(last)) = (scope.months.first(), scope.months.last()) else {
        return Ok((Vec::new(), 0));
    };
    let (first, last) = (first.as_int(), last.as_int());
    // The latest version of every run of the months, whatever its region: a province-wide
    // run's findings on a county's cases count for that county.
    let runs: Vec<(i32, i32, i32)> = supervision_run::Entity::find()
        .select_only()
        .column(supervision_run::Column::RegionCode)
        .column(supervision_run::Column::Period)
        .column(supervision_run::Column::Version)
        .filter(supervision_run::Column::Period.between(first, last))
        .into_tuple()
        .all(db)
        .await?;
    let mut latest: HashMap<(i32, i32), i32> = HashMap::new();
    for (region, period, version) in runs {
        let entry = latest.entry((region, period)).or_insert(version);
        *entry = (*entry).max(version);
    }
    use supervision_finding::Column;
    let (from, to) = region_span(scope.region);
    let mut query = supervision_finding::Entity::find()
        .select_only()
        .column(Column::RegionCode)
        .column(Column::Period)
        .column(Column::RunVersion)
        .column(Column::RuleNumber)
        .column(Column::Status)
        .column(Column::AmountFen)
        .column(Column::HospitalCode)
        .column(Column::ListId)
        .column(Column::OtherHospitalCode)
        .column(Column::OtherListId)
        .filter(Column::Period.between(first, last))
        .filter(Column::CaseRegionCode.between(from, to));
    if let Some(fund) = scope.fund {
        query = query.filter(Column::FundType.eq(fund_to_db(fund)));
    }
    if let Some(hospital) = scope.hospital {
        query = query.filter(Column::HospitalCode.eq(hospital));
    }
    let rows: Vec<HitRow> = query.into_tuple().all(db).await?;
    let mut hits = Vec::with_capacity(rows.len());
    for (region, period, version, rule, status, fen, hospital, list, other_hospital, other_list) in
        rows
    {
        if latest.get(&(region, period)) != Some(&version) {
            continue;
        }
        let rule = u8::try_from(rule).ok().and_then(RuleId::from_number);
        let status = FindingStatus::parse(&status);
        let run = region_from_db(region).ok().and_then(|region| {
            let period = YearMonth::from_int(period).ok()?;
            Some(RunRef {
                region,
                period,
                version,
            })
        });
        let (Some(rule), Some(status), Some(run)) = (rule, status, run) else {
            return Err(StoreError::Corrupt(platform::db::CorruptRow {
                column: "rule_number",
                value: format!("{region}/{period}/{version}"),
                reason: "a finding of this run has an unknown rule, status or run".into(),
            }));
        };
        let counted = CountedAs {
            rule,
            hospital_code: hospital,
            list_id: list,
            other_hospital_code: other_hospital,
            other_list_id: other_list,
            period: run.period,
        };
        hits.push((counted, run, status, fen));
    }
    let hits = counted_once(hits, |(counted, run, _, _)| (counted.clone(), *run));
    let mut counts: BTreeMap<(u8, &'static str), (u64, i64)> = BTreeMap::new();
    let mut counted_runs = std::collections::HashSet::new();
    for (counted, run, status, fen) in hits {
        let rule = counted.rule;
        counted_runs.insert((region_to_db(run.region), run.period.as_int()));
        let entry = counts.entry((rule.number(), status.as_str())).or_default();
        entry.0 += 1;
        entry.1 = entry.1.saturating_add(fen);
    }
    let counts = counts
        .into_iter()
        .filter_map(|((rule, status), (findings, fen))| {
            Some(FindingCount {
                rule: RuleId::from_number(rule)?,
                status: FindingStatus::parse(status)?,
                findings,
                amount: Money::from_fen(fen),
            })
        })
        .collect();
    // Runs without a finding in scope still were screened: count every latest run of a region
    // inside the one asked, and those outside it that found something here.
    let inside = latest
        .keys()
        .filter(|(region, _)| (from..=to).contains(region))
        .count();
    let outside = counted_runs
        .iter()
        .filter(|(region, _)| !(from..=to).contains(region))
        .count();
    Ok((counts, u32::try_from(inside + outside).unwrap_or(u32::MAX)))
}
