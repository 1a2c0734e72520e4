//! The quarterly analysis (季分析) and annual report (年报告) of attachment 3 of the province's
//! monitoring system, over a stream of inpatient lists and the findings of the period's
//! screening runs.
//!
//! A [`PeriodAccumulator`] reads each list once: the period's [`Monitor`] (indicators per
//! hospital against the region's means) and small sums per month, pooling region, fund and
//! hospital level, and DRG. The finished [`PeriodReport`] becomes tables ([`tables`]) that the
//! CSV and XLSX exports and the HTML page ([`html`]) all print, so the figures agree digit for
//! digit. Money is rounded once by [`Money::round`], ratios once by [`round_indicator`].

mod chart;
pub mod html;
pub mod tables;

use std::collections::BTreeMap;

use kernel::{Decimal, FundType, Money, RegionCode, YearMonth};

use crate::catalogue::RuleId;
use crate::indicators::round_indicator;
use crate::model::{EarlierCosts, InpatientList};
use crate::monitoring::{Breakdown, IndicatorRow, Indicators, Monitor, Unsupported};
use crate::parameters::Parameters;
use crate::review::FindingStatus;
use crate::tables::Tables;

/// DRGs the disease spectrum lists, most cases first.
pub const SPECTRUM_GROUPS: usize = 20;

/// Which part of attachment 3 a report is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    /// The quarterly analysis of quarter 1–4.
    Quarter(u8),
    /// The annual report.
    Year,
}

/// A report's period: a quarter or a calendar year of discharge months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub kind: PeriodKind,
}

impl Period {
    /// The discharge months of the period, in order; empty for a quarter outside 1–4 or a
    /// year outside the calendar.
    pub fn months(self) -> Vec<YearMonth> {
        let (first, count) = match self.kind {
            PeriodKind::Quarter(q @ 1..=4) => (u32::from(q - 1) * 3 + 1, 3),
            PeriodKind::Quarter(_) => return Vec::new(),
            PeriodKind::Year => (1, 12),
        };
        (first..first + count)
            .filter_map(|month| YearMonth::new(self.year, month).ok())
            .collect()
    }

    /// "2025Q1" or "2025".
    pub fn label(self) -> String {
        match self.kind {
            PeriodKind::Quarter(q) => format!("{}Q{q}", self.year),
            PeriodKind::Year => self.year.to_string(),
        }
    }

    /// The items of attachment 3 in this part that the lists and findings cannot support.
    pub fn unsupported(self) -> &'static [Unsupported] {
        match self.kind {
            PeriodKind::Quarter(_) => UNSUPPORTED_QUARTERLY,
            PeriodKind::Year => UNSUPPORTED_ANNUAL,
        }
    }
}

/// Quarterly items (14–28) without data here.
pub const UNSUPPORTED_QUARTERLY: &[Unsupported] = &[Unsupported {
    number: 17,
    name_zh: "特病单议分析",
    missing: "the special-case applications and their decisions, which settlement keeps \
              (its special cases) and does not stream to supervision",
}];

/// Annual items (29–30) without data here.
pub const UNSUPPORTED_ANNUAL: &[Unsupported] = &[Unsupported {
    number: 29,
    name_zh: "DRG点数法付费年度清算报告",
    missing: "the year-end clearing (point value, entitlements, sharing), which is settlement's: \
              its clearing run statements and their XLSX export",
}];

/// The attachment 3 item (19–28, 涉嫌违规分析) a rule's findings answer.
pub fn attachment_item(rule: RuleId) -> Option<u32> {
    Some(match rule {
        RuleId::SplitAdmission => 19,
        RuleId::Readmission15Days | RuleId::SameDayReadmission => 20,
        RuleId::LowStandardAdmission => 21,
        RuleId::Upcoding => 22,
        RuleId::AmbulatoryDuringStay => 23,
        RuleId::CostsMovedToOutpatient => 24,
        RuleId::Substitution => 25,
        RuleId::DuplicateCharging => 26,
        RuleId::UnbundledCharging => 27,
        RuleId::OverFrequency => 28,
        _ => return None,
    })
}

/// Sums of a set of lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub cases: u64,
    pub total_cost: Decimal,
    pub fund_paid: Decimal,
    pub self_pay: Decimal,
}

impl Sums {
    fn add(&mut self, list: &InpatientList) {
        self.cases += 1;
        self.total_cost += list.total_cost.value();
        self.fund_paid += list.fund_paid.value();
        self.self_pay += list.full_self_pay.value();
    }

    /// Total cost / cases, to the fen.
    pub fn mean_cost(&self) -> Option<Decimal> {
        (self.cases > 0).then(|| Money::round(self.total_cost / Decimal::from(self.cases)).value())
    }

    /// Fund payment / total cost (中心报销比例).
    pub fn fund_ratio(&self) -> Option<Decimal> {
        ratio(self.fund_paid, self.total_cost)
    }

    /// Wholly self-paid cost / total cost (自费结算比例).
    pub fn self_pay_ratio(&self) -> Option<Decimal> {
        ratio(self.self_pay, self.total_cost)
    }
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    (!denominator.is_zero()).then(|| round_indicator(numerator / denominator))
}

/// One discharge month: its sums and the weights behind its CMI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthLine {
    pub month: Option<YearMonth>,
    pub sums: Sums,
    weight_sum: Decimal,
    weighted_cases: u64,
}

impl MonthLine {
    /// Σ RW × n / Σ n over the month's lists whose group has a weight.
    pub fn cmi(&self) -> Option<Decimal> {
        ratio(self.weight_sum, Decimal::from(self.weighted_cases))
    }
}

/// A DRG's cases (`drg` `None`: the lists without a group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpectrumLine {
    pub drg: Option<String>,
    pub cases: u64,
    pub total_cost: Decimal,
}

/// A rule's findings over the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleHits {
    pub rule: RuleId,
    pub findings: u64,
    pub confirmed: u64,
    pub dismissed: u64,
    /// At stake in the findings not dismissed.
    pub amount: Money,
}

/// Findings counted by rule and status, as a store groups them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingCount {
    pub rule: RuleId,
    pub status: FindingStatus,
    pub findings: u64,
    pub amount: Money,
}

/// Every rule of the library in number order with its findings from `counts`.
pub fn rule_hits(counts: &[FindingCount]) -> Vec<RuleHits> {
    RuleId::ALL
        .iter()
        .map(|rule| {
            let mut hits = RuleHits {
                rule: *rule,
                findings: 0,
                confirmed: 0,
                dismissed: 0,
                amount: Money::ZERO,
            };
            for count in counts.iter().filter(|c| c.rule == *rule) {
                hits.findings += count.findings;
                match count.status {
                    FindingStatus::Confirmed => hits.confirmed += count.findings,
                    FindingStatus::Dismissed => hits.dismissed += count.findings,
                    FindingStatus::Open => {}
                }
                if count.status != FindingStatus::Dismissed {
                    hits.amount = Money::round(hits.amount.value() + count.amount.value());
                }
            }
            hits
        })
        .collect()
}

/// A finished report. `total` is `None` for a caller who may not see the region's total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodReport {
    pub region: RegionCode,
    pub period: Period,
    pub total: Option<IndicatorRow>,
    pub months: Vec<MonthLine>,
    pub hospitals: Vec<IndicatorRow>,
    pub regions: Vec<(RegionCode, Sums)>,
    pub fund_items: Vec<(FundType, String, Sums)>,
    pub spectrum: Vec<SpectrumLine>,
    /// Cases the spectrum's shares are taken of.
    pub spectrum_cases: u64,
    pub rules: Vec<RuleHits>,
    pub previous_year_read: bool,
    pub screening_runs: u32,
}

impl PeriodReport {
    /// A spectrum line's share of the period's cases.
    pub fn case_share(&self, line: &SpectrumLine) -> Option<Decimal> {
        ratio(
            Decimal::from(line.cases),
            Decimal::from(self.spectrum_cases),
        )
    }
}

/// One pass over a period's lists.
pub struct PeriodAccumulator<'a> {
    tables: &'a Tables,
    monitor: Monitor<'a>,
    months: BTreeMap<YearMonth, MonthLine>,
    regions: BTreeMap<RegionCode, Sums>,
    funds: BTreeMap<(FundType, String), Sums>,
    spectrum: BTreeMap<Option<String>, (u64, Decimal)>,
    visible_cases: u64,
    previous_year_read: bool,
}

/// What [`PeriodAccumulator::finish`] hands back for the caller's view to be cut from.
pub struct Accumulated {
    /// The period's indicators, per hospital, over every list read.
    pub indicators: Indicators,
    pub months: Vec<MonthLine>,
    pub regions: Vec<(RegionCode, Sums)>,
    pub fund_items: Vec<(FundType, String, Sums)>,
    pub spectrum: Vec<SpectrumLine>,
    pub spectrum_cases: u64,
    pub previous_year_read: bool,
}

impl<'a> PeriodAccumulator<'a> {
    /// A report over `months` (each starts with empty sums, so a month without cases still
    /// shows), with group weights and means from `tables`.
    pub fn new(tables: &'a Tables, parameters: &'a Parameters, months: &[YearMonth]) -> Self {
        Self {
            tables,
            monitor: Monitor::new(tables, parameters, Breakdown::Hospital),
            months: months
                .iter()
                .map(|m| {
                    (
                        *m,
                        MonthLine {
                            month: Some(*m),
                            ..MonthLine::default()
                        },
                    )
                })
                .collect(),
            regions: BTreeMap::new(),
            funds: BTreeMap::new(),
            spectrum: BTreeMap::new(),
            visible_cases: 0,
            previous_year_read: false,
        }
    }

    /// Adds a list discharged in `month`. Every list shapes the regional means the hospitals'
    /// consumption indices compare with; only a `visible` one counts in the month, region, fund
    /// and spectrum sums (a hospital caller sees its own lists there).
    pub fn add(&mut self, month: YearMonth, list: &InpatientList, visible: bool) {
        self.monitor.add(list);
        if !visible {
            return;
        }
        self.visible_cases += 1;
        let line = self.months.entry(month).or_insert_with(|| MonthLine {
            month: Some(month),
            ..MonthLine::default()
        });
        line.sums.add(list);
        if let Some(weight) = list
            .drg
            .as_deref()
            .and_then(|drg| self.tables.group_means.get(drg))
            .and_then(|mean| mean.weight)
        {
            line.weight_sum += weight;
            line.weighted_cases += 1;
        }
        self.regions
            .entry(list.pooling_region)
            .or_default()
            .add(list);
        self.funds
            .entry((list.fund_type, list.hospital_level.clone()))
            .or_default()
            .add(list);
        let entry = self.spectrum.entry(list.drg.clone()).or_default();
        entry.0 += 1;
        entry.1 += list.total_cost.value();
    }

    /// Adds a list of the same months a year earlier, for the growth rates.
    pub fn add_previous_year(&mut self, list: &EarlierCosts) {
        self.previous_year_read = true;
        self.monitor.add_previous_year(list);
    }

    pub fn finish(self) -> Accumulated {
        let mut groups: Vec<SpectrumLine> = self
            .spectrum
            .iter()
            .filter_map(|(drg, (cases, cost))| {
                drg.as_ref().map(|drg| SpectrumLine {
                    drg: Some(drg.clone()),
                    cases: *cases,
                    total_cost: *cost,
                })
            })
            .collect();
        groups.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.drg.cmp(&b.drg)));
        groups.truncate(SPECTRUM_GROUPS);
        if let Some((cases, cost)) = self.spectrum.get(&None) {
            groups.push(SpectrumLine {
                drg: None,
                cases: *cases,
                total_cost: *cost,
            });
        }
        Accumulated {
            indicators: self.monitor.finish(),
            months: self.months.into_values().collect(),
            regions: self.regions.into_iter().collect(),
            fund_items: self
                .funds
                .into_iter()
                .map(|((fund, level), sums)| (fund, level, sums))
                .collect(),
            spectrum: groups,
            spectrum_cases: self.visible_cases,
            previous_year_read: self.previous_year_read,
        }
    }
}

impl Accumulated {
    /// The report a caller sees: the region's total only when `with_total`, the hospitals
    /// `may_see` admits, and each rule's findings from `counts` (already cut to the caller).
    pub fn into_report(
        self,
        (region, period): (RegionCode, Period),
        with_total: bool,
        may_see: impl Fn(&str) -> bool,
        (counts, screening_runs): (&[FindingCount], u32),
    ) -> PeriodReport {
        PeriodReport {
            region,
            period,
            total: with_total.then_some(self.indicators.total),
            months: self.months,
            hospitals: self
                .indicators
                .rows
                .into_iter()
                .filter(|row| may_see(&row.key.hospital))
                .collect(),
            regions: self.regions,
            fund_items: self.fund_items,
            spectrum: self.spectrum,
            spectrum_cases: self.spectrum_cases,
            rules: rule_hits(counts),
            previous_year_read: self.previous_year_read,
            screening_runs,
        }
    }
}

#[cfg(test)]
mod tests;
