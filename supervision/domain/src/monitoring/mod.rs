//! The monitoring tables (DOMAIN.md §6 "Monitoring indicators", attachments 2 and 3 of the
//! province's monitoring system) over a stream of inpatient lists.
//!
//! A [`Monitor`] reads each list once and keeps only sums per row key (the region, a hospital,
//! or a hospital's department) and per group within it, the distinct persons, and the dates of
//! each stay for readmission pairing: a province-year never sits in memory as lists. The
//! formulas are those of [`crate::indicators`] (and the same rounding: ratios and indices by
//! [`round_indicator`], money by [`Money::round`]); CV and RIV are taken from per-group sums of
//! costs and their squares, which equal the sums of squared deviations exactly.

pub mod codes;
pub mod export;
mod figures;

use std::collections::{BTreeMap, HashMap, HashSet};

use kernel::{DateTime, Decimal, Money};

use crate::indicators::{CONSUMABLE_CATEGORIES, DRUG_CATEGORIES, round_indicator};
use crate::model::{DischargeType, EarlierCosts, InpatientList};
use crate::parameters::Parameters;
use crate::tables::Tables;

pub use codes::{IndicatorCode, Kind, UNSUPPORTED_MONTHLY, UNSUPPORTED_SYSTEM, Unsupported};
pub use export::{TrendLine, indicators_csv, month_on_month};

/// How the table's rows are cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakdown {
    /// The region's total only.
    Region,
    /// One row per hospital.
    Hospital,
    /// One row per hospital and admission department.
    Department,
}

/// A row of the table: empty fields mean "all" (the region's total has both empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    pub hospital: String,
    pub department: String,
}

/// One indicator of a row: its value, and for a ratio the numerator and denominator it was
/// taken from (unrounded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    pub code: IndicatorCode,
    pub value: Decimal,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
}

/// A row's indicators, in [`IndicatorCode::ALL`] order; an indicator whose denominator is zero
/// (or whose basis is absent, such as a CMI without any weighted group) is left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorRow {
    pub key: RowKey,
    pub figures: Vec<Figure>,
}

impl IndicatorRow {
    pub fn get(&self, code: IndicatorCode) -> Option<&Figure> {
        self.figures.iter().find(|f| f.code == code)
    }

    pub fn value(&self, code: IndicatorCode) -> Option<Decimal> {
        self.get(code).map(|f| f.value)
    }
}

/// The grouping-efficacy list of the region (attachment 3, items 3–8): cases, grouped cases,
/// ADRG and DRG counts, each DRG's CV of total cost (population σ) and the RIV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Efficacy {
    pub cases: u64,
    pub grouped: u64,
    pub adrgs: usize,
    pub drgs: usize,
    /// Cases of each DRG.
    pub group_cases: BTreeMap<String, u64>,
    pub cv: BTreeMap<String, Decimal>,
    pub riv: Option<Decimal>,
}

/// A finished table: the region's total, the rows of the breakdown in key order, and the
/// region's grouping efficacy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicators {
    pub total: IndicatorRow,
    pub rows: Vec<IndicatorRow>,
    pub efficacy: Efficacy,
}

/// Per-group sums within a row.
#[derive(Clone, Debug, Default)]
struct GroupSums {
    cases: u64,
    cost: Decimal,
    cost_squares: Decimal,
    days: i64,
    drugs: Decimal,
    consumables: Decimal,
    deaths: u64,
}

/// A row's sums over the period.
#[derive(Clone, Debug, Default)]
struct Tally {
    cases: u64,
    grouped: u64,
    grouped_cost: Decimal,
    grouped_fund: Decimal,
    total_cost: Decimal,
    fund_paid: Decimal,
    burden: Decimal,
    self_pay: Decimal,
    in_policy: Decimal,
    drugs: Decimal,
    consumables: Decimal,
    days: i64,
    priced: u64,
    high: u64,
    low: u64,
    persons: HashSet<u32>,
    groups: BTreeMap<String, GroupSums>,
    readmitted: u64,
    /// Lists passing quality control, and lists with a coding error.
    qc_passed: u64,
    coding_errors: u64,
}

/// A row's sums over the same months a year earlier, for the growth rates.
#[derive(Clone, Copy, Debug, Default)]
struct Earlier {
    cases: u64,
    total_cost: Decimal,
    fund_paid: Decimal,
}

/// What a stay keeps for readmission pairing.
#[derive(Clone, Debug)]
struct Stay {
    admitted: DateTime,
    discharged: DateTime,
    list_id: String,
    planned: bool,
    /// Index of its row in `Monitor::row_keys`, when the table has rows.
    row: Option<u32>,
}

/// The one-pass accumulator of a monitoring table.
pub struct Monitor<'a> {
    tables: &'a Tables,
    parameters: &'a Parameters,
    breakdown: Breakdown,
    total: Tally,
    rows: Vec<Tally>,
    row_keys: Vec<RowKey>,
    row_index: HashMap<RowKey, u32>,
    persons: HashMap<String, u32>,
    hospitals: HashMap<String, u32>,
    stays: HashMap<(u32, u32), Vec<Stay>>,
    earlier_total: Earlier,
    earlier_rows: HashMap<RowKey, Earlier>,
}

impl<'a> Monitor<'a> {
    /// A table reading group weights and published means from `tables`, and the readmission
    /// window, cost multiples and low-risk threshold from `parameters`.
    pub fn new(tables: &'a Tables, parameters: &'a Parameters, breakdown: Breakdown) -> Self {
        Self {
            tables,
            parameters,
            breakdown,
            total: Tally::default(),
            rows: Vec::new(),
            row_keys: Vec::new(),
            row_index: HashMap::new(),
            persons: HashMap::new(),
            hospitals: HashMap::new(),
            stays: HashMap::new(),
            earlier_total: Earlier::default(),
            earlier_rows: HashMap::new(),
        }
    }

    fn key_of(&self, list: &InpatientList) -> Option<RowKey> {
        self.key_at(&list.key.hospital, &list.department)
    }

    fn key_at(&self, hospital: &str, department: &str) -> Option<RowKey> {
        match self.breakdown {
            Breakdown::Region => None,
            Breakdown::Hospital => Some(RowKey {
                hospital: hospital.to_owned(),
                department: String::new(),
            }),
            Breakdown::Department => Some(RowKey {
                hospital: hospital.to_owned(),
                department: department.to_owned(),
            }),
        }
    }

    fn row_of(&mut self, key: RowKey) -> u32 {
        if let Some(index) = self.row_index.get(&key) {
            return *index;
        }
        let index = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        self.rows.push(Tally::default());
        self.row_keys.push(key.clone());
        self.row_index.insert(key, index);
        index
    }

    fn intern(map: &mut HashMap<String, u32>, text: &str) -> u32 {
        if let Some(id) = map.get(text) {
            return *id;
        }
        let id = u32::try_from(map.len()).unwrap_or(u32::MAX);
        map.insert(text.to_owned(), id);
        id
    }

    /// Adds one list of the period.
    pub fn add(&mut self, list: &InpatientList) {
        let facts = Facts::of(list, self.tables, self.parameters);
        let person = Self::intern(&mut self.persons, &list.person_id);
        let hospital = Self::intern(&mut self.hospitals, &list.key.hospital);
        self.total.add(&facts, person);
        let row = self.key_of(list).map(|key| self.row_of(key));
        if let Some(row) = row
            && let Some(tally) = self.rows.get_mut(row as usize)
        {
            tally.add(&facts, person);
        }
        self.stays
            .entry((person, hospital))
            .or_default()
            .push(Stay {
                admitted: list.admitted_at,
                discharged: list.discharged_at,
                list_id: list.key.id.clone(),
                planned: list.planned_readmission,
                row,
            });
    }

    /// Adds one list of the same months a year earlier (only its cost and fund payment count).
    pub fn add_previous_year(&mut self, list: &EarlierCosts) {
        let add = |earlier: &mut Earlier| {
            earlier.cases += 1;
            earlier.total_cost += list.total_cost.value();
            earlier.fund_paid += list.fund_paid.value();
        };
        add(&mut self.earlier_total);
        if let Some(key) = self.key_at(&list.hospital, &list.department) {
            add(self.earlier_rows.entry(key).or_default());
        }
    }

    /// The finished table.
    pub fn finish(mut self) -> Indicators {
        self.pair_readmissions();
        let basis = figures::Basis::of(&self.total, self.tables, self.parameters);
        let total = IndicatorRow {
            key: RowKey::default(),
            figures: basis.figures(&self.total, Some(self.earlier_total)),
        };
        let mut rows: Vec<IndicatorRow> = self
            .row_keys
            .iter()
            .zip(&self.rows)
            .map(|(key, tally)| IndicatorRow {
                key: key.clone(),
                figures: basis.figures(tally, self.earlier_rows.get(key).copied()),
            })
            .collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        Indicators {
            total,
            rows,
            efficacy: figures::efficacy(&self.total),
        }
    }

    /// Counts each discharge followed by an unplanned stay of the same person at the same
    /// hospital within the window, against the discharge's row.
    fn pair_readmissions(&mut self) {
        let window = self.parameters.readmission_window_days;
        for stays in self.stays.values_mut() {
            stays.sort_by(|a, b| {
                (a.admitted, a.discharged, &a.list_id).cmp(&(b.admitted, b.discharged, &b.list_id))
            });
            for pair in stays.windows(2) {
                let gap = pair[1]
                    .admitted
                    .date()
                    .days_since(pair[0].discharged.date());
                if pair[0].planned || !(0..=window).contains(&gap) {
                    continue;
                }
                self.total.readmitted += 1;
                if let Some(tally) = pair[0].row.and_then(|row| self.rows.get_mut(row as usize)) {
                    tally.readmitted += 1;
                }
            }
        }
    }
}

/// What one list adds to a row.
struct Facts<'l> {
    list: &'l InpatientList,
    drugs: Decimal,
    consumables: Decimal,
    days: i64,
    /// Whether it reaches the high-cost multiple, or stays under the low-cost ratio, of its
    /// group's published mean (`None` without a published mean).
    priced: Option<(bool, bool)>,
}

impl<'l> Facts<'l> {
    fn of(list: &'l InpatientList, tables: &Tables, parameters: &Parameters) -> Self {
        let drugs = list.billed_in(&DRUG_CATEGORIES);
        let consumables = list.billed_in(&CONSUMABLE_CATEGORIES);
        let priced = list
            .drg
            .as_deref()
            .and_then(|drg| tables.group_means.get(drg))
            .map(|mean| {
                let cost = list.total_cost.value();
                let mean = mean.mean_cost.value();
                (
                    cost >= parameters.high_cost_multiple * mean,
                    cost < parameters.low_cost_ratio * mean,
                )
            });
        Self {
            list,
            drugs,
            consumables,
            days: i64::from(list.length_of_stay()),
            priced,
        }
    }
}

impl Tally {
    fn add(&mut self, facts: &Facts<'_>, person: u32) {
        let list = facts.list;
        let cost = list.total_cost.value();
        self.cases += 1;
        self.total_cost += cost;
        self.fund_paid += list.fund_paid.value();
        self.burden += list.individual_burden.value();
        self.self_pay += list.full_self_pay.value();
        self.in_policy += list.in_policy_amount.value();
        self.drugs += facts.drugs;
        self.consumables += facts.consumables;
        self.days += facts.days;
        self.qc_passed += u64::from(list.passes_qc());
        self.coding_errors += u64::from(list.has_coding_error());
        self.persons.insert(person);
        if let Some((high, low)) = facts.priced {
            self.priced += 1;
            self.high += u64::from(high);
            self.low += u64::from(low);
        }
        let Some(drg) = list.drg.as_deref() else {
            return;
        };
        self.grouped += 1;
        self.grouped_cost += cost;
        self.grouped_fund += list.fund_paid.value();
        let group = match self.groups.get_mut(drg) {
            Some(group) => group,
            None => self.groups.entry(drg.to_owned()).or_default(),
        };
        group.cases += 1;
        group.cost += cost;
        group.cost_squares += cost * cost;
        group.days += facts.days;
        group.drugs += facts.drugs;
        group.consumables += facts.consumables;
        group.deaths += u64::from(list.discharge_type == DischargeType::Death);
    }
}

/// Money to the fen, for the money indicators.
fn money(value: Decimal) -> Decimal {
    Money::round(value).value()
}

/// A ratio to 4 places.
fn rounded(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    (!denominator.is_zero()).then(|| round_indicator(numerator / denominator))
}

#[cfg(test)]
mod tests;
