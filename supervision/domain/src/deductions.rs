//! Violation deductions (违规扣款) from reviewed findings (DOMAIN.md §6 → §4): what clearing
//! deducts from each hospital's entitlement for a region, year and fund.
//!
//! - Only a CONFIRMED finding deducts; an open one is not decided yet and a dismissed one was
//!   judged no violation.
//! - A finding deducts from the clearing of the fund its case was settled from and of the year
//!   its screened month falls in; a finding on a hospital as a whole names no fund (and puts
//!   nothing at stake), so it deducts from none.
//! - A region's deductions are those on its own cases and on the cases of the regions inside it;
//!   each finding's own region is checked, whatever the store was asked.
//! - A case found in several screening runs (a re-run of the month, or a run of the province, the
//!   prefecture and the county over the same cases) deducts once: its confirmed findings for a
//!   rule (and other settlement) count from one run, chosen by [`crate::overlap::counted_once`]
//!   (the narrowest region's run, then its latest version), whatever the other runs found.
//! - A hospital's deduction is the sum of its findings' amounts, rounded once in
//!   [`deduction_amount`].

use std::collections::BTreeMap;

use kernel::{Date, Decimal, FundType, Money, RegionCode};
use serde::{Deserialize, Serialize};

use crate::catalogue::RuleId;
use crate::overlap::{CountedAs, RunRef, counted_once};
use crate::review::FindingStatus;

/// A stored finding as the deductions read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewedFinding {
    pub finding_id: String,
    /// The region of the case the finding is on (the run's region for a hospital finding).
    pub region: RegionCode,
    /// Year of the screened month.
    pub year: i32,
    /// The fund of the case; `None` for a finding on a hospital as a whole.
    pub fund: Option<FundType>,
    /// The run that found it.
    pub run: RunRef,
    pub rule: RuleId,
    pub hospital_code: String,
    /// Empty for a finding on a hospital as a whole.
    pub list_id: String,
    pub arm: String,
    pub item_code: String,
    pub date: Option<Date>,
    pub other_hospital_code: String,
    pub other_list_id: String,
    pub fee_lines: Vec<u32>,
    pub amount: Money,
    pub status: FindingStatus,
}

impl ReviewedFinding {
    /// What the finding counts as across overlapping runs, and the run it came from.
    fn origin(&self) -> (CountedAs, RunRef) {
        (
            CountedAs {
                rule: self.rule,
                hospital_code: self.hospital_code.clone(),
                list_id: self.list_id.clone(),
                other_hospital_code: self.other_hospital_code.clone(),
                other_list_id: self.other_list_id.clone(),
                period: self.run.period,
            },
            self.run,
        )
    }

    /// The settlement lists the finding is on: its own, then the other one it names.
    pub fn case_ids(&self) -> Vec<String> {
        [&self.list_id, &self.other_list_id]
            .into_iter()
            .filter(|id| !id.is_empty())
            .cloned()
            .collect()
    }
}

/// A confirmed finding behind a deduction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeductedFinding {
    pub finding_id: String,
    pub rule: RuleId,
    pub case_ids: Vec<String>,
    pub amount: Money,
}

/// One hospital's violation deduction for a year and fund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalDeduction {
    pub hospital_code: String,
    pub amount: Money,
    /// In finding id order.
    pub findings: Vec<DeductedFinding>,
}

/// Which deductions are asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeductionScope {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
}

impl DeductionScope {
    fn covers(&self, finding: &ReviewedFinding) -> bool {
        self.region.contains(finding.region)
            && finding.year == self.year
            && finding.fund == Some(self.fund)
    }
}

/// A hospital's deduction from the unrounded sum of its findings: the one place deductions
/// round (to the fen, half away from zero; the amounts at stake are fen already, so it never
/// changes a sum of them).
pub fn deduction_amount(raw: Decimal) -> Money {
    Money::round(raw)
}

/// Each hospital's deduction in `scope` from `findings`, in hospital code order; hospitals
/// without a confirmed finding in scope have none.
pub fn deductions(
    scope: DeductionScope,
    findings: impl IntoIterator<Item = ReviewedFinding>,
) -> Vec<HospitalDeduction> {
    let findings: Vec<ReviewedFinding> = findings
        .into_iter()
        .filter(|f| f.status == FindingStatus::Confirmed && scope.covers(f))
        .collect();
    let findings = counted_once(findings, ReviewedFinding::origin);
    let mut hospitals: BTreeMap<&str, Vec<&ReviewedFinding>> = BTreeMap::new();
    for finding in &findings {
        hospitals
            .entry(finding.hospital_code.as_str())
            .or_default()
            .push(finding);
    }
    hospitals
        .into_iter()
        .map(|(hospital, mut kept)| {
            kept.sort_by(|a, b| a.finding_id.cmp(&b.finding_id));
            let raw: Decimal = kept.iter().map(|f| f.amount.value()).sum();
            HospitalDeduction {
                hospital_code: hospital.to_owned(),
                amount: deduction_amount(raw),
                findings: kept
                    .into_iter()
                    .map(|f| DeductedFinding {
                        finding_id: f.finding_id.clone(),
                        rule: f.rule,
                        case_ids: f.case_ids(),
                        amount: f.amount,
                    })
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> RegionCode {
        code.parse().expect("region")
    }

    fn money(yuan: &str) -> Money {
        yuan.parse().expect("money")
    }

    const HAIKOU: &str = "460100";
    const MEILAN: &str = "460108";

    fn finding(
        id: &str,
        hospital: &str,
        list: &str,
        amount: &str,
        status: FindingStatus,
    ) -> ReviewedFinding {
        ReviewedFinding {
            finding_id: id.to_owned(),
            region: region(MEILAN),
            year: 2025,
            fund: Some(FundType::Employee),
            run: RunRef {
                region: region(MEILAN),
                period: kernel::YearMonth::new(2025, 3).expect("month"),
                version: 1,
            },
            rule: RuleId::Readmission15Days,
            hospital_code: hospital.to_owned(),
            list_id: list.to_owned(),
            arm: String::new(),
            item_code: String::new(),
            date: None,
            other_hospital_code: hospital.to_owned(),
            other_list_id: format!("{list}-before"),
            fee_lines: Vec::new(),
            amount: money(amount),
            status,
        }
    }

    fn scope(fund: FundType) -> DeductionScope {
        DeductionScope {
            region: region(HAIKOU),
            year: 2025,
            fund,
        }
    }

    /// (hospital, amount, finding ids) of each deduction.
    fn summary(deductions: &[HospitalDeduction]) -> Vec<(String, String, Vec<String>)> {
        deductions
            .iter()
            .map(|d| {
                (
                    d.hospital_code.clone(),
                    d.amount.to_string(),
                    d.findings.iter().map(|f| f.finding_id.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn only_confirmed_findings_deduct_per_hospital_and_fund() {
        let mut resident = finding("f5", "H1", "L5", "70.00", FindingStatus::Confirmed);
        resident.fund = Some(FundType::Resident);
        let findings = vec![
            finding("f1", "H1", "L1", "1200.50", FindingStatus::Confirmed),
            finding("f2", "H1", "L2", "300.25", FindingStatus::Confirmed),
            finding("f3", "H1", "L3", "999.00", FindingStatus::Dismissed),
            finding("f4", "H1", "L4", "888.00", FindingStatus::Open),
            resident,
            finding("f6", "H2", "L6", "10.01", FindingStatus::Confirmed),
        ];
        let employee = deductions(scope(FundType::Employee), findings.clone());
        assert_eq!(
            summary(&employee),
            [
                (
                    "H1".to_owned(),
                    "1500.75".to_owned(),
                    vec!["f1".to_owned(), "f2".to_owned()]
                ),
                ("H2".to_owned(), "10.01".to_owned(), vec!["f6".to_owned()]),
            ]
        );
        assert_eq!(employee[0].findings[0].case_ids, ["L1", "L1-before"]);
        assert_eq!(employee[0].findings[0].rule, RuleId::Readmission15Days);
        assert_eq!(
            summary(&deductions(scope(FundType::Resident), findings)),
            [("H1".to_owned(), "70.00".to_owned(), vec!["f5".to_owned()])]
        );
    }

    #[test]
    fn another_region_another_year_and_hospital_findings_deduct_nothing() {
        let mut sanya = finding("f2", "H1", "L2", "500.00", FindingStatus::Confirmed);
        sanya.region = region("460200");
        let mut last_year = finding("f3", "H1", "L3", "600.00", FindingStatus::Confirmed);
        last_year.year = 2024;
        let mut whole_hospital = finding("f4", "H1", "", "700.00", FindingStatus::Confirmed);
        whole_hospital.fund = None;
        let findings = vec![
            finding("f1", "H1", "L1", "100.00", FindingStatus::Confirmed),
            sanya,
            last_year,
            whole_hospital,
        ];
        assert_eq!(
            summary(&deductions(scope(FundType::Employee), findings.clone())),
            [("H1".to_owned(), "100.00".to_owned(), vec!["f1".to_owned()])]
        );
        // Asked for a county, a prefecture-wide finding on a case of another county is not its.
        let county = DeductionScope {
            region: region("460105"),
            ..scope(FundType::Employee)
        };
        assert!(deductions(county, findings).is_empty());
    }

    #[test]
    fn a_violation_confirmed_in_two_runs_deducts_once_at_the_later_run() {
        let first = finding(
            "460108-202503-1-1",
            "H1",
            "L1",
            "100.00",
            FindingStatus::Confirmed,
        );
        let mut rerun = finding(
            "460108-202503-2-1",
            "H1",
            "L1",
            "120.00",
            FindingStatus::Confirmed,
        );
        rerun.run.version = 2;
        let mut other_arm = finding(
            "460108-202503-2-2",
            "H1",
            "L1",
            "5.00",
            FindingStatus::Confirmed,
        );
        other_arm.run.version = 2;
        other_arm.arm = "b".to_owned();
        let found = deductions(scope(FundType::Employee), vec![rerun, first, other_arm]);
        assert_eq!(
            summary(&found),
            [(
                "H1".to_owned(),
                "125.00".to_owned(),
                vec![
                    "460108-202503-2-1".to_owned(),
                    "460108-202503-2-2".to_owned()
                ]
            )]
        );
    }

    #[test]
    fn a_case_confirmed_by_a_province_run_and_its_county_run_deducts_once() {
        let province = RunRef {
            region: region("460000"),
            period: kernel::YearMonth::new(2025, 3).expect("month"),
            version: 1,
        };
        let mut wide = finding(
            "460000-202503-1-9",
            "H1",
            "L1",
            "130.00",
            FindingStatus::Confirmed,
        );
        wide.run = province;
        // The province's parameters flagged other lines of the same case.
        wide.fee_lines = vec![2, 3];
        let mut also_wide = wide.clone();
        also_wide.finding_id = "460000-202503-1-10".to_owned();
        also_wide.list_id = "L2".to_owned();
        also_wide.other_list_id = "L2-before".to_owned();
        let county = finding(
            "460108-202503-1-1",
            "H1",
            "L1",
            "100.00",
            FindingStatus::Confirmed,
        );
        let found = deductions(
            scope(FundType::Employee),
            vec![wide, county.clone(), also_wide],
        );
        assert_eq!(
            summary(&found),
            [(
                "H1".to_owned(),
                "230.00".to_owned(),
                vec![
                    "460000-202503-1-10".to_owned(),
                    "460108-202503-1-1".to_owned()
                ]
            )]
        );
    }

    #[test]
    fn the_deduction_rounds_once_half_away_from_zero() {
        assert_eq!(
            deduction_amount(Decimal::new(1_2345, 3)).to_string(),
            "12.35"
        );
        assert_eq!(deduction_amount(Decimal::new(-5, 3)).to_string(), "-0.01");
    }
}
