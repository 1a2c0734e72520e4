//! Each rule's findings over a report's months, read from the stored screening runs: only the
//! latest version of each run counts (a rerun replaces its findings), counted by rule and
//! status in the service since the rows are narrow and the sums portable across both backends.

use std::collections::{BTreeMap, HashMap};

use kernel::{FundType, Money, RegionCode, YearMonth};
use platform::db::fund_to_db;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, QuerySelect};
use supervision_domain::reports::FindingCount;
use supervision_domain::{FindingStatus, RuleId};

use crate::store::{
    StoreError, SupervisionStore, region_span, supervision_finding, supervision_run,
};

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
        .filter(Column::Period.between(first, last))
        .filter(Column::CaseRegionCode.between(from, to));
    if let Some(fund) = scope.fund {
        query = query.filter(Column::FundType.eq(fund_to_db(fund)));
    }
    if let Some(hospital) = scope.hospital {
        query = query.filter(Column::HospitalCode.eq(hospital));
    }
    let rows: Vec<(i32, i32, i32, i32, String, i64)> = query.into_tuple().all(db).await?;
    let mut counts: BTreeMap<(u8, &'static str), (u64, i64)> = BTreeMap::new();
    let mut counted_runs = std::collections::HashSet::new();
    for (region, period, version, rule, status, fen) in rows {
        if latest.get(&(region, period)) != Some(&version) {
            continue;
        }
        let rule = u8::try_from(rule).ok().and_then(RuleId::from_number);
        let status = FindingStatus::parse(&status);
        let (Some(rule), Some(status)) = (rule, status) else {
            return Err(StoreError::Corrupt(platform::db::CorruptRow {
                column: "rule_number",
                value: format!("{region}/{period}/{version}"),
                reason: "a finding of this run has an unknown rule or status".into(),
            }));
        };
        counted_runs.insert((region, period));
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
