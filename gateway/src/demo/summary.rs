//! The year as the bureau reads it back: one summary per clearing from its identity check and
//! its statements, printed as a table and written as CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kernel::{Decimal, FundType, Money, Points, RegionCode};
use serde_json::Value;

/// One payment-mode line of a hospital's statement.
#[derive(Clone, Debug)]
pub struct ModeTotals {
    pub cases: u64,
    pub points: Points,
    pub amount: Money,
    pub fund_part: Money,
}

/// What the bureau's roster says of an institution besides its statement.
#[derive(Clone, Debug)]
pub struct RosterEntry {
    pub region: RegionCode,
    /// Comes from the institution's registration, so it is text to escape, not markup.
    pub name: String,
    /// The level word of the registration (3A, 3B, 2A, 2B, 1, community).
    pub level: &'static str,
}

/// Every registered institution by code, and the province's region names by code.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    pub institutions: BTreeMap<String, RosterEntry>,
    pub region_names: BTreeMap<String, String>,
}

/// A hospital's clearing statement, as far as the summary needs it.
#[derive(Clone, Debug)]
pub struct HospitalTotals {
    pub hospital: String,
    /// The registered name; empty when the roster does not know the hospital.
    pub name: String,
    /// The registered level word; "unknown" when the roster does not know the hospital.
    pub level: String,
    /// The hospital's pooling region (the province when the roster does not know it).
    pub region: Option<RegionCode>,
    pub cases: u64,
    pub points: Points,
    pub points_fund_part: Money,
    pub money_fund_part: Money,
    pub fund_entitlement: Money,
    /// Std and Act of the year-end sharing, the tier that applied and what the reserve added
    /// (or, negative, took).
    pub sharing_standard: Money,
    pub sharing_actual: Money,
    pub sharing_tier: String,
    pub sharing_adjustment: Money,
    pub final_amount: Money,
    pub prepaid: Money,
    pub balance: Money,
    pub modes: Vec<(String, ModeTotals)>,
}

/// One clearing of one region and fund.
#[derive(Clone, Debug)]
pub struct ClearingSummary {
    pub region: RegionCode,
    pub fund: FundType,
    pub run_id: String,
    /// The settlement point value the clearing paid the points with.
    pub point_value: Decimal,
    /// The DIP budget point value the months were prepaid with; `None` on DRG.
    pub budget_point_value: Option<Decimal>,
    /// What the points-paid modes shared (the fund amount for DIP), as the run reports it.
    pub points_budget: Option<Money>,
    /// Σ fund paid / Σ total cost of the points-paid cases, on the reimbursement-ratio basis.
    pub reimbursement_ratio: Option<Decimal>,
    pub distributable_budget: Money,
    pub total_entitlements: Money,
    pub special_cases: Money,
    pub residue: Money,
    pub identity_holds: bool,
    pub hospitals: Vec<HospitalTotals>,
}

fn money(value: &Value, field: &str) -> anyhow::Result<Money> {
    value[field]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("statement has no {field}"))?
        .parse()
        .map_err(|e| anyhow::anyhow!("statement {field}: {e}"))
}

fn points(value: &Value, field: &str) -> anyhow::Result<Points> {
    value[field]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("statement has no {field}"))?
        .parse()
        .map_err(|e| anyhow::anyhow!("statement {field}: {e}"))
}

fn count(value: &Value, field: &str) -> anyhow::Result<u64> {
    value[field]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("statement has no {field}"))
}

impl HospitalTotals {
    /// Reads a hospital's clearing statement (the `statement_json` of `ListStatements`).
    pub fn from_statement(statement: &Value, roster: &Roster) -> anyhow::Result<Self> {
        let hospital = statement["hospital_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let modes = statement["modes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|line| {
                Ok((
                    line["mode"].as_str().unwrap_or_default().to_owned(),
                    ModeTotals {
                        cases: count(line, "cases")?,
                        points: points(line, "points")?,
                        amount: money(line, "amount")?,
                        fund_part: money(line, "fund_part")?,
                    },
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        let known = roster.institutions.get(&hospital);
        Ok(Self {
            region: known.map(|entry| entry.region),
            name: known.map(|entry| entry.name.clone()).unwrap_or_default(),
            level: known.map_or("unknown", |entry| entry.level).to_owned(),
            hospital,
            cases: count(statement, "cases")?,
            points: points(statement, "points")?,
            points_fund_part: money(statement, "points_fund_part")?,
            money_fund_part: money(statement, "money_fund_part")?,
            fund_entitlement: money(statement, "fund_entitlement")?,
            sharing_standard: money(statement, "sharing_standard")?,
            sharing_actual: money(statement, "sharing_actual")?,
            sharing_tier: statement["sharing_tier"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("statement has no sharing_tier"))?
                .to_owned(),
            sharing_adjustment: money(statement, "sharing_adjustment")?,
            final_amount: money(statement, "final_amount")?,
            prepaid: money(statement, "prepaid")?,
            balance: money(statement, "balance")?,
            modes,
        })
    }
}

impl ClearingSummary {
    pub fn cases(&self) -> u64 {
        self.hospitals.iter().map(|h| h.cases).sum()
    }

    pub fn points(&self) -> Points {
        self.hospitals.iter().map(|h| h.points).sum()
    }

    /// Cases per payment mode over every hospital.
    pub fn cases_by_mode(&self) -> BTreeMap<&str, u64> {
        let mut modes = BTreeMap::new();
        for (mode, line) in self.hospitals.iter().flat_map(|h| &h.modes) {
            *modes.entry(mode.as_str()).or_insert(0) += line.cases;
        }
        modes
    }
}

/// One region's hospitals within a clearing.
#[derive(Clone, Debug, Default)]
pub struct RegionTotals {
    pub hospitals: usize,
    pub cases: u64,
    pub points: Points,
    pub fund_entitlement: Money,
    pub cases_by_mode: BTreeMap<String, u64>,
}

impl ClearingSummary {
    /// The clearing's hospitals gathered by their pooling region.
    pub fn by_region(&self) -> BTreeMap<String, RegionTotals> {
        let mut regions: BTreeMap<String, RegionTotals> = BTreeMap::new();
        for h in &self.hospitals {
            let key = h
                .region
                .map_or_else(|| "unknown".to_owned(), |r| r.to_string());
            let totals = regions.entry(key).or_default();
            totals.hospitals += 1;
            totals.cases += h.cases;
            totals.points += h.points;
            totals.fund_entitlement += h.fund_entitlement;
            for (mode, line) in &h.modes {
                *totals.cases_by_mode.entry(mode.clone()).or_insert(0) += line.cases;
            }
        }
        regions
    }
}

fn modes_of(cases_by_mode: &BTreeMap<String, u64>) -> String {
    cases_by_mode
        .iter()
        .map(|(mode, cases)| format!("{mode}={cases}"))
        .collect::<Vec<_>>()
        .join(" ")
}

const REGIONS_HEADER: &str =
    "clearing_region,fund,run_id,region,hospitals,cases,cases_by_mode,points,fund_entitlement";

/// `regions.csv`: a line per region of every clearing.
pub fn regions_csv(clearings: &[ClearingSummary]) -> String {
    let mut csv = format!("{REGIONS_HEADER}\n");
    for c in clearings {
        for (region, t) in c.by_region() {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{}",
                c.region,
                c.fund.code(),
                c.run_id,
                region,
                t.hospitals,
                t.cases,
                modes_of(&t.cases_by_mode),
                t.points,
                t.fund_entitlement
            );
        }
    }
    csv
}

const SUMMARY_HEADER: &str = "region,fund,run_id,hospitals,cases,cases_by_mode,points,budget_point_value,point_value,points_budget,reimbursement_ratio,distributable_budget,entitlements,special_cases,residue,identity_holds";

/// An optional figure as a CSV cell: empty when absent.
fn cell(value: Option<impl std::fmt::Display>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}
const HOSPITALS_HEADER: &str = "region,fund,run_id,hospital,hospital_region,cases,points,points_fund_part,money_fund_part,fund_entitlement";
const MODES_HEADER: &str = "region,fund,run_id,hospital,mode,cases,points,amount,fund_part";

fn modes_cell(summary: &ClearingSummary) -> String {
    summary
        .cases_by_mode()
        .iter()
        .map(|(mode, cases)| format!("{mode}={cases}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `summary.csv`: a line per clearing.
pub fn summary_csv(clearings: &[ClearingSummary]) -> String {
    let mut csv = format!("{SUMMARY_HEADER}\n");
    for c in clearings {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.region,
            c.fund.code(),
            c.run_id,
            c.hospitals.len(),
            c.cases(),
            modes_cell(c),
            c.points(),
            cell(c.budget_point_value),
            c.point_value,
            cell(c.points_budget),
            cell(c.reimbursement_ratio),
            c.distributable_budget,
            c.total_entitlements,
            c.special_cases,
            c.residue,
            c.identity_holds
        );
    }
    csv
}

/// `hospitals.csv`: a line per hospital statement of every clearing.
pub fn hospitals_csv(clearings: &[ClearingSummary]) -> String {
    let mut csv = format!("{HOSPITALS_HEADER}\n");
    for c in clearings {
        for h in &c.hospitals {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{},{}",
                c.region,
                c.fund.code(),
                c.run_id,
                h.hospital,
                h.region.map(|r| r.to_string()).unwrap_or_default(),
                h.cases,
                h.points,
                h.points_fund_part,
                h.money_fund_part,
                h.fund_entitlement
            );
        }
    }
    csv
}

/// `modes.csv`: a line per payment-mode line of every hospital statement.
pub fn modes_csv(clearings: &[ClearingSummary]) -> String {
    let mut csv = format!("{MODES_HEADER}\n");
    for c in clearings {
        for h in &c.hospitals {
            for (mode, line) in &h.modes {
                let _ = writeln!(
                    csv,
                    "{},{},{},{},{},{},{},{},{}",
                    c.region,
                    c.fund.code(),
                    c.run_id,
                    h.hospital,
                    mode,
                    line.cases,
                    line.points,
                    line.amount,
                    line.fund_part
                );
            }
        }
    }
    csv
}

/// The table printed at the end: for each clearing, a line per region of its hospitals, then
/// the clearing's identity (budget = paid + special cases + residue).
pub fn table(clearings: &[ClearingSummary]) -> String {
    let mut out = String::new();
    for c in clearings {
        let _ = writeln!(
            out,
            "\nclearing {} fund {} ({}), point value {}",
            c.region,
            c.fund.code(),
            c.run_id,
            c.point_value
        );
        if let Some(budget_point_value) = c.budget_point_value {
            let _ = writeln!(
                out,
                "DIP: budget point value {budget_point_value} (prepaid), settlement point value {} = points budget {} / reimbursement ratio {} / scores {}",
                c.point_value,
                cell(c.points_budget),
                cell(c.reimbursement_ratio.map(|r| r.round_dp(6))),
                c.points()
            );
        }
        let _ = writeln!(
            out,
            "{:<7} {:>9} {:>7} {:>14} {:>16}  cases by mode",
            "region", "hospitals", "cases", "points", "paid"
        );
        for (region, t) in c.by_region() {
            let _ = writeln!(
                out,
                "{:<7} {:>9} {:>7} {:>14} {:>16}  {}",
                region,
                t.hospitals,
                t.cases,
                t.points.to_string(),
                t.fund_entitlement.to_string(),
                modes_of(&t.cases_by_mode)
            );
        }
        let _ = writeln!(
            out,
            "{:<7} {:>9} {:>7} {:>14} {:>16}  {}",
            "all",
            c.hospitals.len(),
            c.cases(),
            c.points().to_string(),
            c.hospitals
                .iter()
                .map(|h| h.fund_entitlement)
                .sum::<Money>()
                .to_string(),
            modes_cell(c)
        );
        let _ = writeln!(
            out,
            "budget {} = entitlements {} + special cases {} + residue {}: identity {}",
            c.distributable_budget,
            c.total_entitlements,
            c.special_cases,
            c.residue,
            if c.identity_holds { "holds" } else { "BROKEN" }
        );
    }
    out
}

/// The screening printed after the clearings: a line per rule in force.
pub fn findings_table(screening: &super::bureau::Screening) -> String {
    let mut out = format!(
        "\nscreening: {} stays, {} findings\n{:>3} {:<28} {:<8} {:>8} {:>14}\n",
        screening.cases,
        screening.findings(),
        "no",
        "rule",
        "level",
        "findings",
        "amount"
    );
    for rule in &screening.rules {
        let _ = writeln!(
            out,
            "{:>3} {:<28} {:<8} {:>8} {:>14}",
            rule.number,
            rule.rule_id,
            rule.level,
            rule.findings,
            rule.amount.to_string()
        );
    }
    out
}
