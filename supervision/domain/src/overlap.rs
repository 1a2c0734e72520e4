//! Findings of overlapping screening runs counted once. A run screens the cases of its region
//! and the regions inside it, so a province-wide run, a prefecture run and a county run of the
//! same month each find the same case, possibly a little differently (each applies its own
//! region's parameter set). A case's findings for a rule (and for the other settlement it pairs
//! the case with, for rules 1–3, 7 and 8) count from one run only:
//!
//! - the run of the narrowest region (a county's own run over a prefecture's or the province's:
//!   it applies the parameters closest to the case),
//! - then the latest version of that region's run of the month (a rerun replaces its findings),
//! - then, never needed for real runs, the smaller region code.
//!
//! Applied by supervision's deductions (`crate::deductions`, for `GetDeductions` and
//! `ListDeductions`, after the confirmed findings in scope are chosen) and by the service's
//! period reports when they count each rule's findings (`reports::hits_store`).

use std::collections::BTreeMap;

use kernel::{RegionCode, RegionLevel, YearMonth};
use serde::{Deserialize, Serialize};

use crate::catalogue::RuleId;

/// The screening run a stored finding came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunRef {
    /// The region the run screened (the finding's `region_code`).
    pub region: RegionCode,
    /// The screened month.
    pub period: YearMonth,
    pub version: i32,
}

impl RunRef {
    /// How strongly the run's findings count for a case, larger first (see the module docs).
    fn precedence(&self) -> impl Ord {
        let depth = match self.region.level() {
            RegionLevel::Province => 0,
            RegionLevel::Prefecture => 1,
            RegionLevel::County => 2,
        };
        (depth, self.version, std::cmp::Reverse(self.region))
    }
}

/// What a finding is counted as: one rule on one case (or on one hospital as a whole), paired
/// with one other settlement or none, in one screened month.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountedAs {
    pub rule: RuleId,
    pub hospital_code: String,
    /// Empty for a finding on a hospital as a whole.
    pub list_id: String,
    pub other_hospital_code: String,
    pub other_list_id: String,
    pub period: YearMonth,
}

/// Keeps, in their order, the findings of the one run that counts for each [`CountedAs`];
/// `origin` tells what each finding is counted as and which run it came from.
pub fn counted_once<T>(findings: Vec<T>, origin: impl Fn(&T) -> (CountedAs, RunRef)) -> Vec<T> {
    let mut counting: BTreeMap<CountedAs, RunRef> = BTreeMap::new();
    for finding in &findings {
        let (what, run) = origin(finding);
        counting
            .entry(what)
            .and_modify(|kept| {
                if run.precedence() > kept.precedence() {
                    *kept = run;
                }
            })
            .or_insert(run);
    }
    findings
        .into_iter()
        .filter(|finding| {
            let (what, run) = origin(finding);
            counting.get(&what) == Some(&run)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(region: &str, version: i32) -> RunRef {
        RunRef {
            region: region.parse().expect("region"),
            period: YearMonth::new(2026, 3).expect("month"),
            version,
        }
    }

    /// (rule, list id, other list id, fee lines, run).
    type Row = (RuleId, &'static str, &'static str, &'static str, RunRef);

    fn kept(rows: Vec<Row>) -> Vec<(&'static str, &'static str, RunRef)> {
        counted_once(rows, |&(rule, list, other, _, run)| {
            (
                CountedAs {
                    rule,
                    hospital_code: "H1".into(),
                    list_id: list.into(),
                    other_hospital_code: String::new(),
                    other_list_id: other.into(),
                    period: run.period,
                },
                run,
            )
        })
        .into_iter()
        .map(|(_, list, other, lines, run)| {
            (list, if other.is_empty() { lines } else { other }, run)
        })
        .collect()
    }

    #[test]
    fn a_case_found_by_the_province_and_its_county_counts_from_the_county_run() {
        let province = run("460000", 1);
        let county = run("460108", 1);
        let rows = vec![
            // Over-frequency arms that differ with the regions' parameters.
            (RuleId::OverFrequency, "L1", "", "1;2", province),
            (RuleId::OverFrequency, "L1", "", "3", province),
            (RuleId::OverFrequency, "L1", "", "1", county),
            // Only the province saw this settlement (at another county's pharmacy).
            (RuleId::AmbulatoryDuringStay, "L1", "Y9", "", province),
            (RuleId::AmbulatoryDuringStay, "L1", "Y1", "", province),
            (RuleId::AmbulatoryDuringStay, "L1", "Y1", "", county),
            // Another case only the province run found.
            (RuleId::OverFrequency, "L2", "", "4", province),
        ];
        assert_eq!(
            kept(rows),
            [
                ("L1", "1", county),
                ("L1", "Y9", province),
                ("L1", "Y1", county),
                ("L2", "4", province),
            ]
        );
    }

    #[test]
    fn a_rerun_replaces_its_region_s_findings_whatever_the_order() {
        let first = run("460100", 1);
        let rerun = run("460100", 2);
        let province = run("460000", 7);
        let rows = vec![
            (RuleId::DuplicateCharging, "L1", "", "2", rerun),
            (RuleId::DuplicateCharging, "L1", "", "2;5", first),
            (RuleId::DuplicateCharging, "L1", "", "2;5;6", province),
        ];
        let mut reversed = rows.clone();
        reversed.reverse();
        assert_eq!(kept(rows), [("L1", "2", rerun)]);
        assert_eq!(kept(reversed), [("L1", "2", rerun)]);
    }
}
