//! Valuation tables of one region, year and fund type: the published numbers cases are valued
//! with (DRG group means and base points, DIP scores and same-level reference costs, hospital
//! coefficients, per-diem standards, fixed rates, day-surgery prices, per-capita rates).
//!
//! Tables are data, versioned and serde; a calibration run produces a new table value that is
//! reviewed before it is activated.

use std::collections::{BTreeMap, HashMap};

use kernel::{Decimal, FundType, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use kernel::Date;

use crate::error::{Checker, PolicyError, PolicyErrors};
use crate::level::HospitalLevel;
use crate::outpatient::ApgTable;
use crate::policy::ValuationPolicy;
pub use crate::vocabulary::PerDiemProgramme;

/// All tables of one region, year and fund type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuationTables {
    /// Pooling region the tables belong to.
    pub region: RegionCode,
    /// Year the tables apply to.
    pub year: i32,
    /// Fund the tables apply to.
    pub fund_type: FundType,
    /// Version of this table value.
    #[serde(default = "one")]
    pub version: u32,
    /// DRG group means and base points.
    #[serde(default)]
    pub drg: DrgTable,
    /// DIP scores and reference costs.
    #[serde(default)]
    pub dip: DipTable,
    /// Hospital coefficients.
    #[serde(default)]
    pub coefficients: HospitalCoefficients,
    /// Per-diem standards.
    #[serde(default)]
    pub per_diem: PerDiemStandards,
    /// Fixed rates by disease.
    #[serde(default)]
    pub fixed_rates: FixedRateTable,
    /// Day-surgery prices.
    #[serde(default)]
    pub day_surgery: DaySurgeryPrices,
    /// Per-capita rates.
    #[serde(default)]
    pub per_capita: PerCapitaRates,
    /// APG table (门诊病例分组) ordinary outpatient visits are valued with; none when the region
    /// pays no visit in APG points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apg: Option<ApgTable>,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// Serialises a hashed map in key order, so stored table documents are stable.
fn sorted<S: serde::Serializer, V: Serialize>(
    map: &HashMap<String, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let ordered: BTreeMap<&String, &V> = map.iter().collect();
    ordered.serialize(serializer)
}

/// DRG points table: published group means (0.01) and base points (0.0001).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DrgTable {
    /// Mean cost of all DRG cases (the denominator of base points and of unstable cases).
    pub all_case_mean_cost: Money,
    /// Rows by DRG code (hashed for lookup, serialised in code order).
    #[serde(serialize_with = "sorted")]
    pub groups: HashMap<String, DrgGroupRate>,
}

/// One DRG's published values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrgGroupRate {
    /// Mean cost of the group.
    pub mean_cost: Money,
    /// Base points (基准点数).
    pub base_points: Points,
    /// Stable group (稳定病组); unstable groups are valued on cost.
    #[serde(default = "yes")]
    pub stable: bool,
    /// Per-day base points of a per-diem DRG (床日DRG); `None` for ordinary groups.
    #[serde(default)]
    pub per_diem_points: Option<Points>,
}

/// DIP directory scores and same-level reference costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DipTable {
    /// Rows by DIP group code (hashed for lookup, serialised in code order).
    #[serde(serialize_with = "sorted")]
    pub groups: HashMap<String, DipGroupRate>,
}

/// One DIP group's published values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DipGroupRate {
    /// Score (分值) on the policy's scale; 0 means paid at cost.
    pub score: Points,
    /// Last year's mean cost of the group at each hospital level (the deviation reference).
    #[serde(default)]
    pub reference_costs: BTreeMap<HospitalLevel, Money>,
    /// The one reference of a basic-level case (基层病种) at every level: last year's mean cost
    /// of the group over 二级 hospitals (2A and 2B together), with the same-level fallbacks
    /// (DOMAIN.md §5 Hainan precise defaults). Required for a group the policy pays as basic-level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_level_reference: Option<Money>,
}

/// A coefficient valid from `effective_from` to `effective_to` (both inclusive; open-ended when
/// `effective_to` is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedCoefficient {
    /// The coefficient.
    pub coefficient: Decimal,
    /// First day it applies (inclusive).
    pub effective_from: Date,
    /// Last day it applies (inclusive); open-ended when absent.
    #[serde(default)]
    pub effective_to: Option<Date>,
}

impl DatedCoefficient {
    fn covers(&self, date: Date) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date <= to)
    }
}

/// Difference coefficients of one hospital or one level: for every group, and per group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CoefficientSet {
    /// Coefficients that apply to every group without a group-specific row.
    #[serde(default)]
    pub all_groups: Vec<DatedCoefficient>,
    /// Group-specific coefficients by DRG code.
    #[serde(default, serialize_with = "sorted")]
    pub per_group: HashMap<String, Vec<DatedCoefficient>>,
}

impl CoefficientSet {
    pub(crate) fn lookup(&self, group: &str, date: Date) -> Option<Decimal> {
        let dated = |rows: &[DatedCoefficient]| {
            rows.iter()
                .find(|row| row.covers(date))
                .map(|row| row.coefficient)
        };
        self.per_group
            .get(group)
            .and_then(|rows| dated(rows))
            .or_else(|| dated(&self.all_groups))
    }
}

/// Hospital coefficients: DRG difference coefficients per hospital or per level, effective-dated;
/// DIP level coefficients with optional per-hospital add-ons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalCoefficients {
    /// DRG coefficients by hospital code (take precedence over the level's).
    #[serde(default, serialize_with = "sorted")]
    pub drg_by_hospital: HashMap<String, CoefficientSet>,
    /// DRG coefficients by hospital level.
    #[serde(default)]
    pub drg_by_level: BTreeMap<HospitalLevel, CoefficientSet>,
    /// DIP level coefficients (等级系数). Default (illustrative): 3A 1.2, 3B 1.15, 2A 1.05,
    /// 2B 1.0, 1 0.85, community 0.8.
    #[serde(default = "default_dip_levels")]
    pub dip_levels: BTreeMap<HospitalLevel, Decimal>,
    /// DIP add-ons (加成系数) per hospital, added to the level coefficient.
    #[serde(default, serialize_with = "sorted")]
    pub dip_hospital_add_ons: HashMap<String, Decimal>,
}

fn default_dip_levels() -> BTreeMap<HospitalLevel, Decimal> {
    BTreeMap::from([
        (HospitalLevel::Tertiary3A, Decimal::new(12, 1)),
        (HospitalLevel::Tertiary3B, Decimal::new(115, 2)),
        (HospitalLevel::Secondary2A, Decimal::new(105, 2)),
        (HospitalLevel::Secondary2B, Decimal::ONE),
        (HospitalLevel::Primary1, Decimal::new(85, 2)),
        (HospitalLevel::Community, Decimal::new(8, 1)),
    ])
}

impl Default for HospitalCoefficients {
    fn default() -> Self {
        Self {
            drg_by_hospital: HashMap::new(),
            drg_by_level: BTreeMap::new(),
            dip_levels: default_dip_levels(),
            dip_hospital_add_ons: HashMap::new(),
        }
    }
}

impl HospitalCoefficients {
    /// DRG difference coefficient of `hospital` (at `level`) for `group` on `date`: the hospital's
    /// group row, then its all-group row, then the level's, else `None` (the policy default).
    pub fn drg(
        &self,
        hospital: &str,
        level: HospitalLevel,
        group: &str,
        date: Date,
    ) -> Option<Decimal> {
        self.drg_by_hospital
            .get(hospital)
            .and_then(|set| set.lookup(group, date))
            .or_else(|| {
                self.drg_by_level
                    .get(&level)
                    .and_then(|set| set.lookup(group, date))
            })
    }

    /// DIP hospital coefficient: level coefficient plus the hospital's add-on.
    pub fn dip(&self, hospital: &str, level: HospitalLevel) -> Option<Decimal> {
        let base = *self.dip_levels.get(&level)?;
        let add_on = self
            .dip_hospital_add_ons
            .get(hospital)
            .copied()
            .unwrap_or(Decimal::ZERO);
        Some(base + add_on)
    }
}

/// One phase of a per-diem programme: days up to `last_day` of the episode (open-ended when
/// `None`), with a daily standard per level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerDiemPhase {
    /// Phase name (`acute`, `chronic`, `long_term`).
    pub name: String,
    /// Last day of the episode in this phase; `None` for the last, open-ended phase.
    #[serde(default)]
    pub last_day: Option<u32>,
    /// Daily standard by hospital level.
    #[serde(default)]
    pub daily_rates: BTreeMap<HospitalLevel, Money>,
}

/// Per-diem standards by programme, phase and level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerDiemStandards {
    /// Phases of each programme, in order.
    pub programmes: BTreeMap<PerDiemProgramme, Vec<PerDiemPhase>>,
}

impl Default for PerDiemStandards {
    /// DOMAIN.md §3 psychiatric phases (acute ≤ 56, chronic 57–180, long-term beyond) with no
    /// rates yet; rehabilitation and hospice as one open-ended phase.
    fn default() -> Self {
        let phase = |name: &str, last_day| PerDiemPhase {
            name: name.into(),
            last_day,
            daily_rates: BTreeMap::new(),
        };
        Self {
            programmes: BTreeMap::from([
                (
                    PerDiemProgramme::Psychiatric,
                    vec![
                        phase("acute", Some(56)),
                        phase("chronic", Some(180)),
                        phase("long_term", None),
                    ],
                ),
                (PerDiemProgramme::Rehabilitation, vec![phase("stay", None)]),
                (PerDiemProgramme::Hospice, vec![phase("stay", None)]),
            ]),
        }
    }
}

/// Fixed rates by disease (单病种 按病种定额): principal-diagnosis prefix → price per level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FixedRateTable {
    /// Principal-diagnosis prefix → price by level.
    pub diseases: BTreeMap<String, BTreeMap<HospitalLevel, Money>>,
}

/// Day-surgery prices by procedure code prefix (按病种, the same at every level).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DaySurgeryPrices {
    /// Procedure-code prefix → price.
    pub prices: BTreeMap<String, Money>,
}

/// Per-capita rates per head and year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PerCapitaRates {
    /// Ordinary outpatient rate per enrolled person and year.
    pub ordinary_outpatient: Money,
    /// Chronic and special outpatient diseases (门诊慢特病): rate per patient-year by disease.
    #[serde(default)]
    pub chronic_diseases: BTreeMap<String, Money>,
}

/// The longest key of `map` that prefixes `code`.
pub(crate) fn longest_prefix<'m, V>(
    map: &'m BTreeMap<String, V>,
    code: &str,
) -> Option<(&'m String, &'m V)> {
    map.iter()
        .filter(|(prefix, _)| code.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
}

impl ValuationTables {
    /// Empty tables with DOMAIN.md default shapes (DIP level coefficients, psychiatric phases).
    pub fn new(region: RegionCode, year: i32, fund_type: FundType) -> Self {
        Self {
            region,
            year,
            fund_type,
            version: 1,
            drg: DrgTable::default(),
            dip: DipTable::default(),
            coefficients: HospitalCoefficients::default(),
            per_diem: PerDiemStandards::default(),
            fixed_rates: FixedRateTable::default(),
            day_surgery: DaySurgeryPrices::default(),
            per_capita: PerCapitaRates::default(),
            apg: None,
        }
    }

    /// Whether these tables belong to `policy`'s region, year and fund.
    pub fn matches(&self, policy: &ValuationPolicy) -> bool {
        self.region == policy.region
            && self.year == policy.year
            && self.fund_type == policy.fund_type
    }

    /// Checks every value; returns every defect, each naming its field.
    pub fn validate(&self, policy: &ValuationPolicy) -> Result<(), PolicyErrors> {
        let mut check = Checker::default();
        if !self.matches(policy) {
            check.errors.push(PolicyError::Mismatch {
                field: "region/year/fund_type".into(),
                expected: format!("{} {} {}", policy.region, policy.year, policy.fund_type),
                actual: format!("{} {} {}", self.region, self.year, self.fund_type),
            });
        }
        if !self.drg.groups.is_empty() {
            check.positive(
                "drg.all_case_mean_cost",
                self.drg.all_case_mean_cost.value(),
            );
        }
        for (code, row) in sorted_rows(&self.drg.groups) {
            check.positive(
                &format!("drg.groups.{code}.mean_cost"),
                row.mean_cost.value(),
            );
            check.non_negative(
                &format!("drg.groups.{code}.base_points"),
                row.base_points.value(),
            );
            if let Some(per_day) = row.per_diem_points {
                check.non_negative(
                    &format!("drg.groups.{code}.per_diem_points"),
                    per_day.value(),
                );
            }
        }
        for (code, row) in sorted_rows(&self.dip.groups) {
            check.non_negative(&format!("dip.groups.{code}.score"), row.score.value());
            for (level, cost) in &row.reference_costs {
                check.positive(
                    &format!("dip.groups.{code}.reference_costs.{level}"),
                    cost.value(),
                );
            }
            if let Some(cost) = row.basic_level_reference {
                check.positive(
                    &format!("dip.groups.{code}.basic_level_reference"),
                    cost.value(),
                );
            }
        }
        let coefficients = &self.coefficients;
        let sets = sorted_rows(&coefficients.drg_by_hospital)
            .into_iter()
            .map(|(hospital, set)| (format!("coefficients.drg_by_hospital.{hospital}"), set))
            .chain(
                coefficients
                    .drg_by_level
                    .iter()
                    .map(|(level, set)| (format!("coefficients.drg_by_level.{level}"), set)),
            );
        for (prefix, set) in sets {
            check_dated(&mut check, &format!("{prefix}.all_groups"), &set.all_groups);
            for (group, rows) in sorted_rows(&set.per_group) {
                check_dated(&mut check, &format!("{prefix}.per_group.{group}"), rows);
            }
        }
        for (level, coefficient) in &coefficients.dip_levels {
            check.positive(&format!("coefficients.dip_levels.{level}"), *coefficient);
        }
        for (programme, phases) in &self.per_diem.programmes {
            let field = format!("per_diem.programmes.{}", programme.as_str());
            check.non_empty(&field, phases);
            let mut previous = 0;
            let mut increasing = true;
            for (index, phase) in phases.iter().enumerate() {
                let is_last = index + 1 == phases.len();
                match phase.last_day {
                    Some(day) if day > previous && !is_last => previous = day,
                    None if is_last => {}
                    _ => increasing = false,
                }
                for (level, rate) in &phase.daily_rates {
                    check.non_negative(
                        &format!("{field}[{index}].daily_rates.{level}"),
                        rate.value(),
                    );
                }
            }
            if !increasing {
                check.errors.push(PolicyError::NotIncreasing { field });
            }
        }
        for (code, prices) in &self.fixed_rates.diseases {
            for (level, price) in prices {
                check.non_negative(
                    &format!("fixed_rates.diseases.{code}.{level}"),
                    price.value(),
                );
            }
        }
        for (code, price) in &self.day_surgery.prices {
            check.non_negative(&format!("day_surgery.prices.{code}"), price.value());
        }
        check.non_negative(
            "per_capita.ordinary_outpatient",
            self.per_capita.ordinary_outpatient.value(),
        );
        for (disease, rate) in &self.per_capita.chronic_diseases {
            check.non_negative(
                &format!("per_capita.chronic_diseases.{disease}"),
                rate.value(),
            );
        }
        if let Some(apg) = &self.apg {
            apg.check(&mut check);
        }
        check.finish()
    }
}

/// Rows of a hashed map in key order, so defects are reported in a stable order.
fn sorted_rows<V>(map: &HashMap<String, V>) -> Vec<(&String, &V)> {
    let mut rows: Vec<(&String, &V)> = map.iter().collect();
    rows.sort_by_key(|(code, _)| *code);
    rows
}

fn check_dated(check: &mut Checker, field: &str, rows: &[DatedCoefficient]) {
    for (index, row) in rows.iter().enumerate() {
        check.positive(&format!("{field}[{index}].coefficient"), row.coefficient);
        if row.effective_to.is_some_and(|to| to < row.effective_from) {
            check.errors.push(PolicyError::LowNotBelowHigh {
                low_field: format!("{field}[{index}].effective_from"),
                low: Decimal::from(row.effective_from.days_since_epoch()),
                high_field: format!("{field}[{index}].effective_to"),
                high: Decimal::from(row.effective_to.map_or(0, Date::days_since_epoch)),
            });
        }
        for (other_index, other) in rows[..index].iter().enumerate() {
            let overlaps = row.effective_to.is_none_or(|to| other.effective_from <= to)
                && other.effective_to.is_none_or(|to| row.effective_from <= to);
            if overlaps {
                check.errors.push(PolicyError::Duplicate {
                    field: field.into(),
                    value: format!("overlapping periods at [{other_index}] and [{index}]"),
                });
            }
        }
    }
}
