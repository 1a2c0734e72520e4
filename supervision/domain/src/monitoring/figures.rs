//! A row's figures from its sums, against the region's per-group basis.

use std::collections::{BTreeMap, BTreeSet};

use kernel::Decimal;

use super::{Earlier, Efficacy, Figure, GroupSums, IndicatorCode as C, Tally, money, rounded};
use crate::indicators::{
    GroupComparison, Mortality, WeightedGroup, cmi_exact, consumption_index, low_risk_groups,
    round_indicator,
};
use crate::parameters::Parameters;
use crate::stats;
use crate::tables::Tables;

/// The region's per-group means and low-risk groups every row is compared with.
pub(super) struct Basis<'a> {
    tables: &'a Tables,
    regional: &'a BTreeMap<String, GroupSums>,
    low_risk: BTreeSet<String>,
}

impl<'a> Basis<'a> {
    pub(super) fn of(total: &'a Tally, tables: &'a Tables, parameters: &Parameters) -> Self {
        let mortality: BTreeMap<String, Mortality> = total
            .groups
            .iter()
            .map(|(drg, g)| {
                (
                    drg.clone(),
                    Mortality {
                        deaths: g.deaths,
                        cases: g.cases,
                    },
                )
            })
            .collect();
        Self {
            tables,
            regional: &total.groups,
            low_risk: low_risk_groups(&mortality, parameters.low_risk_z),
        }
    }

    /// A consumption index of `tally` on the group measure `measure` (a sum per group), over
    /// the groups `keep` admits.
    fn consumption(
        &self,
        tally: &Tally,
        measure: impl Fn(&GroupSums) -> Decimal,
        keep: impl Fn(&str) -> bool,
    ) -> Option<Decimal> {
        let groups: Vec<GroupComparison> = tally
            .groups
            .iter()
            .filter(|(drg, _)| keep(drg))
            .filter_map(|(drg, g)| {
                let region = self.regional.get(drg)?;
                Some(GroupComparison {
                    hospital_mean: measure(g) / Decimal::from(g.cases),
                    regional_mean: measure(region) / Decimal::from(region.cases),
                    cases: g.cases,
                })
            })
            .collect();
        consumption_index(&groups)
    }

    pub(super) fn figures(&self, t: &Tally, earlier: Option<Earlier>) -> Vec<Figure> {
        let mut out = Figures::default();
        let n = |v: u64| Decimal::from(v);
        out.count(C::Cases, t.cases);
        if t.cases == 0 {
            return out.0;
        }
        out.count(C::GroupedCases, t.grouped);
        out.ratio(C::GroupingRate, n(t.grouped), n(t.cases));
        out.ratio(C::GroupDrgCostShare, t.grouped_cost, t.total_cost);
        out.money_ratio(C::DrgMeanCost, t.grouped_cost, n(t.grouped));
        out.money(C::DrgFundPayment, t.grouped_fund);
        out.count(C::GroupsCovered, t.groups.len() as u64);
        let table_groups = self.tables.group_means.len() as u64;
        let blank = self
            .tables
            .group_means
            .keys()
            .filter(|drg| !t.groups.contains_key(*drg))
            .count() as u64;
        out.ratio(C::BlankGroupShare, n(blank), n(table_groups));

        let weighted: Vec<WeightedGroup> = t
            .groups
            .iter()
            .filter_map(|(drg, g)| {
                let weight = self.tables.group_means.get(drg)?.weight?;
                Some(WeightedGroup {
                    value: weight,
                    cases: g.cases,
                })
            })
            .collect();
        let weighted_cases: u64 = weighted.iter().map(|g| g.cases).sum();
        let weight_sum: Decimal = weighted
            .iter()
            .map(|g| g.value * Decimal::from(g.cases))
            .sum();
        let cmi = cmi_exact(&weighted);
        out.ratio(C::Cmi, weight_sum, n(weighted_cases));
        if let Some(cmi) = cmi.filter(|c| !c.is_zero()) {
            out.plain(
                C::CmiAdjustedMeanCost,
                money(t.total_cost / n(t.cases) / cmi),
            );
        }
        let all = |_: &str| true;
        if let Some(index) = self.consumption(t, |g| g.cost, all) {
            out.plain(C::CostConsumptionIndex, index);
        }
        if let Some(index) = self.consumption(t, |g| Decimal::from(g.days), all) {
            out.plain(C::TimeConsumptionIndex, index);
        }
        if let Some(index) = self.consumption(t, |g| g.drugs, all) {
            out.plain(C::DrugConsumptionIndex, index);
        }
        if let Some(index) = self.consumption(t, |g| g.consumables, surgical_or_procedure) {
            out.plain(C::ConsumableConsumptionIndex, index);
        }

        out.money_ratio(C::MeanCost, t.total_cost, n(t.cases));
        out.ratio(C::AverageLengthOfStay, Decimal::from(t.days), n(t.cases));
        out.ratio(C::ReadmissionRate, n(t.readmitted), n(t.cases));
        out.count(C::Patients, t.persons.len() as u64);
        out.ratio(
            C::AdmissionsPerPatient,
            n(t.cases),
            n(t.persons.len() as u64),
        );
        out.ratio(C::SelfPayRatio, t.self_pay, t.total_cost);
        out.ratio(C::PersonalBurdenRatio, t.burden, t.total_cost);
        out.ratio(
            C::OutOfPolicyShare,
            t.total_cost - t.in_policy,
            t.total_cost,
        );
        out.ratio(C::DrugShare, t.drugs, t.total_cost);
        out.ratio(C::ConsumableShare, t.consumables, t.total_cost);
        out.ratio(C::HighCostShare, n(t.high), n(t.priced));
        out.ratio(C::LowCostShare, n(t.low), n(t.priced));
        let (deaths, low_cases) = t
            .groups
            .iter()
            .filter(|(drg, _)| self.low_risk.contains(*drg))
            .fold((0u64, 0u64), |(d, c), (_, g)| (d + g.deaths, c + g.cases));
        out.ratio(C::LowRiskMortality, n(deaths), n(low_cases));
        if let Some((between, total)) = riv_parts(t.groups.values()) {
            out.ratio(C::Riv, between, total);
        }
        out.money(C::TotalCost, t.total_cost);
        out.money(C::FundPayment, t.fund_paid);
        if let Some(earlier) = earlier.filter(|e| e.cases > 0) {
            out.ratio(
                C::TotalCostGrowth,
                t.total_cost - earlier.total_cost,
                earlier.total_cost,
            );
            out.ratio(
                C::FundPaymentGrowth,
                t.fund_paid - earlier.fund_paid,
                earlier.fund_paid,
            );
        }
        out.ratio(C::QcPassRate, n(t.qc_passed), n(t.cases));
        out.ratio(C::CodingErrorRate, n(t.coding_errors), n(t.cases));
        out.0
    }
}

/// CHS-DRG ADRG codes carry the kind of group in their second letter: A–J surgical, K–Q
/// non-surgical procedures, R–Z medical.
fn surgical_or_procedure(drg: &str) -> bool {
    drg.chars().nth(1).is_some_and(|c| ('A'..='Q').contains(&c))
}

#[derive(Default)]
struct Figures(Vec<Figure>);

impl Figures {
    fn push(&mut self, code: C, value: Decimal, parts: Option<(Decimal, Decimal)>) {
        self.0.push(Figure {
            code,
            value,
            numerator: parts.map(|p| p.0),
            denominator: parts.map(|p| p.1),
        });
    }

    fn count(&mut self, code: C, value: u64) {
        self.push(code, Decimal::from(value), None);
    }

    fn plain(&mut self, code: C, value: Decimal) {
        self.push(code, value, None);
    }

    fn money(&mut self, code: C, value: Decimal) {
        self.push(code, super::money(value), None);
    }

    fn ratio(&mut self, code: C, numerator: Decimal, denominator: Decimal) {
        if let Some(value) = rounded(numerator, denominator) {
            self.push(code, value, Some((numerator, denominator)));
        }
    }

    fn money_ratio(&mut self, code: C, numerator: Decimal, denominator: Decimal) {
        if !denominator.is_zero() {
            self.push(
                code,
                super::money(numerator / denominator),
                Some((numerator, denominator)),
            );
        }
    }
}

/// Σ (y − ȳ_g)² of a group: Σy² − (Σy)²/n.
fn within(group: &GroupSums) -> Option<Decimal> {
    let sum_squared = group.cost.checked_mul(group.cost)?;
    Some(group.cost_squares - sum_squared / Decimal::from(group.cases))
}

/// (SST − SSW, SST) of the groups' costs, `None` when SST is zero or the sums overflow.
fn riv_parts<'g>(
    groups: impl Iterator<Item = &'g GroupSums> + Clone,
) -> Option<(Decimal, Decimal)> {
    let cases: u64 = groups.clone().map(|g| g.cases).sum();
    if cases == 0 {
        return None;
    }
    let sum: Decimal = groups.clone().map(|g| g.cost).sum();
    let squares: Decimal = groups.clone().map(|g| g.cost_squares).sum();
    let total = squares - sum.checked_mul(sum)? / Decimal::from(cases);
    let mut sse = Decimal::ZERO;
    for group in groups {
        sse += within(group)?;
    }
    (!total.is_zero()).then_some((total - sse, total))
}

/// σ/μ of a group's costs, population σ.
fn coefficient_of_variation(group: &GroupSums) -> Option<Decimal> {
    let cases = Decimal::from(group.cases);
    let mean = group.cost / cases;
    if mean.is_zero() {
        return None;
    }
    let variance = (within(group)? / cases).max(Decimal::ZERO);
    Some(round_indicator(stats::sqrt(variance)? / mean))
}

pub(super) fn efficacy(total: &Tally) -> Efficacy {
    let adrgs: BTreeSet<&str> = total.groups.keys().filter_map(|drg| drg.get(..3)).collect();
    Efficacy {
        cases: total.cases,
        grouped: total.grouped,
        adrgs: adrgs.len(),
        drgs: total.groups.len(),
        group_cases: total
            .groups
            .iter()
            .map(|(drg, g)| (drg.clone(), g.cases))
            .collect(),
        cv: total
            .groups
            .iter()
            .filter_map(|(drg, g)| coefficient_of_variation(g).map(|cv| (drg.clone(), cv)))
            .collect(),
        riv: riv_parts(total.groups.values()).and_then(|(between, all)| rounded(between, all)),
    }
}
