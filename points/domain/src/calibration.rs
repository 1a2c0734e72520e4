//! Calibration of valuation tables from historical cases (DOMAIN.md §3 DRG base points and
//! difference coefficients, §2/§3 DIP scores).
//!
//! Rules implemented, each a field of [`CalibrationOptions`]:
//! - cases of 1–3 years, each case weighted by its year's weight (e.g. 1:2:7 oldest to newest);
//! - outliers trimmed within each group: cases outside Q1 − k·IQR … Q3 + k·IQR (k = 1.5) are
//!   dropped; quartiles by linear interpolation between order statistics (h = (n − 1)·p), on the
//!   unweighted costs of all years;
//! - group mean = Σ w·cost / Σ w over kept cases; all-case mean likewise over every kept case;
//!   base points (DRG) = group mean / all-case mean × 100, scores (DIP) the same × 1000;
//! - CV = population σ / mean (weighted); a group is unstable if it keeps fewer than 5 cases or
//!   its CV > 1 (strict);
//! - RIV = (SST − SSW) / SST over the kept cases, weighted;
//! - hospital difference coefficient of h = Σ_g W_hg · (mean_hg / mean_g) / Σ_g W_hg: the ratio of
//!   the hospital's mean to the all-hospital mean in each group it treats, averaged over groups
//!   weighted by the hospital's (year-weighted) kept cases in the group;
//! - DIP reference costs (同级别次均费用) by `crate::reference` (DOMAIN.md §5 Hainan): the newest
//!   weighted year's untrimmed mean at each level from 5 cases, else over every level, else the
//!   group's calibrated mean; the basic-level reference over 2A and 2B with the same fallbacks.
//!
//! Cases stream through per-group accumulators; only each group's costs are kept (as whole fen)
//! for the quartiles. The output is a new draft table value, reviewed before activation.

use std::collections::{BTreeMap, HashMap};

use kernel::{Decimal, FundType, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use crate::case::SchemeKind;
use crate::level::HospitalLevel;
use crate::policy::UnstableRule;
use crate::reference::{CostSum, basic_level_reference, every_level, reference_cost};
use crate::tables::{
    CoefficientSet, DatedCoefficient, DipGroupRate, DrgGroupRate, ValuationTables,
};
use kernel::Date;

/// One historical case.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoricalCase<'a> {
    /// Data year (must be one of the options' weighted years).
    pub year: i32,
    /// DRG code or DIP group code.
    pub group_code: &'a str,
    /// Hospital code, for the difference coefficients.
    pub hospital_code: &'a str,
    /// Needed for DIP same-level reference costs; ignored for DRG.
    pub hospital_level: Option<HospitalLevel>,
    /// Total cost of the case.
    pub total_cost: Money,
}

/// Outlier trimming within a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrimRule {
    /// Keep every case.
    None,
    /// Drop cases outside Q1 − k·IQR … Q3 + k·IQR (default k = 1.5).
    Iqr { multiplier: Decimal },
}

/// What to calibrate and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationOptions {
    /// Key of the table produced.
    pub region: RegionCode,
    /// Year the table is for.
    pub year: i32,
    /// Fund the table is for.
    pub fund_type: FundType,
    /// Version given to the table produced.
    pub version: u32,
    /// DRG base points or DIP scores.
    pub scheme: SchemeKind,
    /// Weight of each data year (1 to 3 years; default 1:2:7 oldest to newest).
    pub year_weights: BTreeMap<i32, Decimal>,
    /// Outlier trimming within each group.
    pub trim: TrimRule,
    /// Scale: 100 for DRG base points, 1000 for DIP scores.
    pub scale: Decimal,
    /// Unstable-group rule (fewer than 5 cases or CV > 1).
    pub unstable: UnstableRule,
    /// Start date of the hospital coefficients produced.
    pub coefficient_effective_from: Date,
}

impl CalibrationOptions {
    /// DOMAIN.md defaults for `scheme`, calibrating the table of `year` from the three years
    /// before it weighted 1:2:7.
    pub fn new(
        scheme: SchemeKind,
        region: RegionCode,
        year: i32,
        fund_type: FundType,
        coefficient_effective_from: Date,
    ) -> Self {
        Self {
            region,
            year,
            fund_type,
            version: 1,
            scheme,
            year_weights: BTreeMap::from([
                (year - 3, Decimal::ONE),
                (year - 2, Decimal::from(2)),
                (year - 1, Decimal::from(7)),
            ]),
            trim: TrimRule::Iqr {
                multiplier: Decimal::new(15, 1),
            },
            scale: match scheme {
                SchemeKind::Drg => Decimal::from(100),
                SchemeKind::Dip => Decimal::from(1000),
            },
            unstable: UnstableRule::default(),
            coefficient_effective_from,
        }
    }
}

/// Why calibration could not run at all (bad records are reported, not fatal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationError {
    #[error("year_weights must name 1 to 3 years, it names {count}")]
    WrongYearCount { count: usize },
    #[error("year_weights.{year} is {weight}, it must be greater than zero")]
    BadWeight { year: i32, weight: Decimal },
    #[error("scale is {scale}, it must be greater than zero")]
    BadScale { scale: Decimal },
    #[error("trim multiplier is {multiplier}, it must not be negative")]
    BadTrim { multiplier: Decimal },
    #[error("no usable case: every case was rejected or trimmed, or none was given")]
    NoCases,
    #[error("sums overflowed the decimal range")]
    Overflow,
}

impl CalibrationError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            CalibrationError::WrongYearCount { .. } => "WRONG_YEAR_COUNT",
            CalibrationError::BadWeight { .. } => "BAD_YEAR_WEIGHT",
            CalibrationError::BadScale { .. } => "BAD_SCALE",
            CalibrationError::BadTrim { .. } => "BAD_TRIM",
            CalibrationError::NoCases => "NO_CASES",
            CalibrationError::Overflow => "OVERFLOW",
        }
    }
}

/// A case calibration did not use, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedCase {
    /// Position in the input.
    pub index: u64,
    /// `NEGATIVE_COST`, `YEAR_NOT_WEIGHTED` or `EMPTY_GROUP_CODE`.
    pub reason: String,
}

/// Statistics of one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupStatistics {
    /// DRG code or DIP group code.
    pub group_code: String,
    /// Cases read for the group.
    pub cases: u64,
    /// Cases kept after trimming.
    pub kept: u64,
    /// Trimming bounds, when trimming applied.
    pub lower_bound: Option<Money>,
    /// Upper trimming bound.
    pub upper_bound: Option<Money>,
    /// Weighted mean cost of the kept cases.
    pub mean_cost: Money,
    /// Coefficient of variation (population σ / mean), to 4 places.
    pub cv: Decimal,
    /// Whether the group is stable under the options' rule.
    pub stable: bool,
    /// Base points (DRG) or score (DIP).
    pub base_points: Points,
}

/// Outcome of a calibration run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// The new draft tables (DRG or DIP rows, hospital coefficients).
    pub tables: ValuationTables,
    /// Statistics of every group, in code order.
    pub groups: Vec<GroupStatistics>,
    /// Year-weighted mean cost of every kept case.
    pub all_case_mean_cost: Money,
    /// Reduction in variance, to 4 places.
    pub riv: Decimal,
    /// Cases read from the input.
    pub cases_read: u64,
    /// Cases used after rejection and trimming.
    pub cases_kept: u64,
    /// Cases dropped by trimming.
    pub cases_trimmed: u64,
    /// Cases not used, with the reason.
    pub rejected: Vec<RejectedCase>,
    /// Difference coefficient per hospital, to 4 places.
    pub hospital_coefficients: BTreeMap<String, Decimal>,
    /// The rule behind `hospital_coefficients`.
    pub coefficient_rule: String,
}

const COEFFICIENT_RULE: &str = "coefficient of hospital h = sum over groups g of W_hg * (mean_hg / mean_g) / sum over g of W_hg, W_hg = year-weighted kept cases of h in g";

#[derive(Clone, Copy)]
struct Entry {
    cost_fen: i64,
    hospital: u32,
    year: u8,
    level: u8,
}

const NO_LEVEL: u8 = u8::MAX;

/// Integer sums of one (group, year) or (group, hospital, year): exact.
#[derive(Clone, Copy, Default)]
struct Sums {
    count: u64,
    sum: i128,
    sum_squares: i128,
}

impl Sums {
    fn add(&mut self, cost_fen: i64) {
        self.count += 1;
        self.sum += i128::from(cost_fen);
        self.sum_squares += i128::from(cost_fen) * i128::from(cost_fen);
    }
}

fn dec(value: i128) -> Result<Decimal, CalibrationError> {
    Decimal::try_from_i128_with_scale(value, 0).map_err(|_| CalibrationError::Overflow)
}

/// Year-weighted totals: W = Σ w·n, S = Σ w·sum, Q = Σ w·sum².
#[derive(Clone, Copy, Default)]
struct Weighted {
    weight: Decimal,
    sum: Decimal,
    sum_squares: Decimal,
}

impl Weighted {
    fn from_sums(sums: &[Sums], weights: &[Decimal]) -> Result<Self, CalibrationError> {
        let mut out = Weighted::default();
        for (year_sums, weight) in sums.iter().zip(weights) {
            if year_sums.count == 0 {
                continue;
            }
            out.weight += *weight * Decimal::from(year_sums.count);
            out.sum += *weight * dec(year_sums.sum)?;
            out.sum_squares += *weight * dec(year_sums.sum_squares)?;
        }
        Ok(out)
    }

    fn mean(&self) -> Decimal {
        if self.weight.is_zero() {
            Decimal::ZERO
        } else {
            self.sum / self.weight
        }
    }

    /// Σ w (x − mean)² = Q − S²/W.
    fn squared_deviation(&self) -> Decimal {
        if self.weight.is_zero() {
            Decimal::ZERO
        } else {
            self.sum_squares - self.sum * self.sum / self.weight
        }
    }
}

/// Square root by Newton's method (the value is a dimensionless CV², small).
fn sqrt(value: Decimal) -> Decimal {
    if value <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let mut root = if value > Decimal::ONE {
        value
    } else {
        Decimal::ONE
    };
    for _ in 0..100 {
        let next = (root + value / root) / Decimal::TWO;
        if (next - root).abs() < Decimal::new(1, 20) {
            return next;
        }
        root = next;
    }
    root
}

/// Quantile by linear interpolation between order statistics of sorted `values`.
fn quantile(sorted: &[i64], p: Decimal) -> Decimal {
    let last = sorted.len().saturating_sub(1);
    let position = Decimal::from(last) * p;
    let below = usize::try_from(position.floor()).unwrap_or(0).min(last);
    let above = (below + 1).min(last);
    let fraction = position - Decimal::from(below);
    Decimal::from(sorted[below]) + fraction * Decimal::from(sorted[above] - sorted[below])
}

fn yuan(fen: Decimal) -> Decimal {
    fen / Decimal::ONE_HUNDRED
}

/// Calibrates a DRG or DIP table from historical cases.
pub fn calibrate<'a, I>(
    cases: I,
    options: &CalibrationOptions,
) -> Result<CalibrationReport, CalibrationError>
where
    I: IntoIterator<Item = HistoricalCase<'a>>,
{
    let year_count = options.year_weights.len();
    if !(1..=3).contains(&year_count) {
        return Err(CalibrationError::WrongYearCount { count: year_count });
    }
    for (&year, &weight) in &options.year_weights {
        if weight <= Decimal::ZERO {
            return Err(CalibrationError::BadWeight { year, weight });
        }
    }
    if options.scale <= Decimal::ZERO {
        return Err(CalibrationError::BadScale {
            scale: options.scale,
        });
    }
    let trim_multiplier = match &options.trim {
        TrimRule::None => None,
        TrimRule::Iqr { multiplier } if *multiplier < Decimal::ZERO => {
            return Err(CalibrationError::BadTrim {
                multiplier: *multiplier,
            });
        }
        TrimRule::Iqr { multiplier } => Some(*multiplier),
    };
    let years: Vec<i32> = options.year_weights.keys().copied().collect();
    let weights: Vec<Decimal> = options.year_weights.values().copied().collect();

    // Pass 1: stream the cases into per-group vectors of whole-fen costs.
    let mut group_index: HashMap<String, u32> = HashMap::new();
    let mut group_codes: Vec<String> = Vec::new();
    let mut hospital_index: HashMap<String, u32> = HashMap::new();
    let mut hospital_codes: Vec<String> = Vec::new();
    let mut entries: Vec<Vec<Entry>> = Vec::new();
    let mut rejected = Vec::new();
    let mut cases_read = 0_u64;
    for (index, case) in cases.into_iter().enumerate() {
        cases_read += 1;
        let reject = |reason: &str| RejectedCase {
            index: index as u64,
            reason: reason.to_owned(),
        };
        let Some(year) = years.iter().position(|&y| y == case.year) else {
            rejected.push(reject("YEAR_NOT_WEIGHTED"));
            continue;
        };
        let cost_fen = match case.total_cost.to_fen() {
            Ok(fen) if fen >= 0 => fen,
            _ => {
                rejected.push(reject("NEGATIVE_COST"));
                continue;
            }
        };
        if case.group_code.is_empty() {
            rejected.push(reject("EMPTY_GROUP_CODE"));
            continue;
        }
        let group = match group_index.get(case.group_code) {
            Some(&g) => g,
            None => {
                let g = group_codes.len() as u32;
                group_index.insert(case.group_code.to_owned(), g);
                group_codes.push(case.group_code.to_owned());
                entries.push(Vec::new());
                g
            }
        };
        let hospital = match hospital_index.get(case.hospital_code) {
            Some(&h) => h,
            None => {
                let h = hospital_codes.len() as u32;
                hospital_index.insert(case.hospital_code.to_owned(), h);
                hospital_codes.push(case.hospital_code.to_owned());
                h
            }
        };
        let level = case
            .hospital_level
            .and_then(|level| HospitalLevel::ALL.iter().position(|l| *l == level))
            .map_or(NO_LEVEL, |p| p as u8);
        entries[group as usize].push(Entry {
            cost_fen,
            hospital,
            year: year as u8,
            level,
        });
    }

    // Pass 2, per group: trimming bounds, then exact integer sums of the kept cases.
    struct GroupWork {
        cases: u64,
        kept: u64,
        bounds: Option<(Decimal, Decimal)>,
        totals: Weighted,
        /// The newest year's cases by level, trimmed or not: the DIP reference costs' facts.
        last_year: BTreeMap<HospitalLevel, CostSum>,
        by_hospital: Vec<(u32, Weighted)>,
    }
    let hospitals = hospital_codes.len();
    let mut hospital_sums: Vec<Sums> = vec![Sums::default(); hospitals * year_count];
    let mut touched: Vec<u32> = Vec::new();
    let mut scratch: Vec<i64> = Vec::new();
    let mut work = Vec::with_capacity(entries.len());
    for group_entries in &entries {
        let bounds = match trim_multiplier {
            Some(k) if group_entries.len() >= 2 => {
                scratch.clear();
                scratch.extend(group_entries.iter().map(|e| e.cost_fen));
                scratch.sort_unstable();
                let q1 = quantile(&scratch, Decimal::new(25, 2));
                let q3 = quantile(&scratch, Decimal::new(75, 2));
                let spread = k * (q3 - q1);
                Some((q1 - spread, q3 + spread))
            }
            _ => None,
        };
        let mut year_sums = vec![Sums::default(); year_count];
        let mut last_year: BTreeMap<HospitalLevel, CostSum> = BTreeMap::new();
        let mut kept = 0_u64;
        for entry in group_entries {
            // DOMAIN.md §5: the reference is last year's untrimmed mean, so it is counted
            // before the trimming bounds apply.
            if usize::from(entry.year) + 1 == year_count
                && let Some(level) = HospitalLevel::ALL.get(usize::from(entry.level))
            {
                last_year
                    .entry(*level)
                    .or_default()
                    .add(Money::from_fen(entry.cost_fen));
            }
            if let Some((low, high)) = bounds {
                let cost = Decimal::from(entry.cost_fen);
                if cost < low || cost > high {
                    continue;
                }
            }
            kept += 1;
            let year = usize::from(entry.year);
            year_sums[year].add(entry.cost_fen);
            let slot = entry.hospital as usize * year_count + year;
            if hospital_sums[slot].count == 0
                && (0..year_count)
                    .all(|y| hospital_sums[entry.hospital as usize * year_count + y].count == 0)
            {
                touched.push(entry.hospital);
            }
            hospital_sums[slot].add(entry.cost_fen);
        }
        let totals = Weighted::from_sums(&year_sums, &weights)?;
        let mut by_hospital = Vec::with_capacity(touched.len());
        for &hospital in &touched {
            let range = hospital as usize * year_count..(hospital as usize + 1) * year_count;
            by_hospital.push((
                hospital,
                Weighted::from_sums(&hospital_sums[range.clone()], &weights)?,
            ));
            hospital_sums[range].fill(Sums::default());
        }
        touched.clear();
        work.push(GroupWork {
            cases: group_entries.len() as u64,
            kept,
            bounds,
            totals,
            last_year,
            by_hospital,
        });
    }
    drop(entries);

    let mut all = Weighted::default();
    for group in &work {
        all.weight += group.totals.weight;
        all.sum += group.totals.sum;
        all.sum_squares += group.totals.sum_squares;
    }
    if all.weight.is_zero() || all.sum.is_zero() {
        return Err(CalibrationError::NoCases);
    }
    let all_mean = all.mean();

    // RIV = (SST − SSW) / SST.
    let sst = all.squared_deviation();
    let ssw: Decimal = work.iter().map(|g| g.totals.squared_deviation()).sum();
    let riv = if sst.is_zero() {
        Decimal::ZERO
    } else {
        kernel::round_points((sst - ssw) / sst)
    };

    let mut tables = ValuationTables::new(options.region, options.year, options.fund_type);
    tables.version = options.version;
    tables.drg.all_case_mean_cost = Money::round(yuan(all_mean));
    let mut statistics = Vec::with_capacity(work.len());
    let mut coefficient_numerators = vec![Decimal::ZERO; hospitals];
    let mut coefficient_weights = vec![Decimal::ZERO; hospitals];
    let max_cv_squared = options.unstable.max_cv * options.unstable.max_cv;
    for (code, group) in group_codes.iter().zip(&work) {
        let mean = group.totals.mean();
        let (cv, cv_squared) = if mean.is_zero() || group.totals.weight.is_zero() {
            (Decimal::ZERO, Decimal::ZERO)
        } else {
            let variance = group.totals.squared_deviation() / group.totals.weight;
            let cv_squared = variance.max(Decimal::ZERO) / (mean * mean);
            (kernel::round_points(sqrt(cv_squared)), cv_squared)
        };
        // Unstable: fewer than min_cases kept cases, or CV > max_cv (strict); compared on CV²
        // so that no rounded root decides it.
        let stable = group.kept >= options.unstable.min_cases && cv_squared <= max_cv_squared;
        let base_points = Points::round(mean / all_mean * options.scale);
        let mean_cost = Money::round(yuan(mean));
        if !mean.is_zero() {
            for (hospital, hospital_totals) in &group.by_hospital {
                let ratio = hospital_totals.mean() / mean;
                coefficient_numerators[*hospital as usize] += hospital_totals.weight * ratio;
                coefficient_weights[*hospital as usize] += hospital_totals.weight;
            }
        }
        if group.kept > 0 {
            match options.scheme {
                SchemeKind::Drg => {
                    tables.drg.groups.insert(
                        code.clone(),
                        DrgGroupRate {
                            mean_cost,
                            base_points,
                            stable,
                            per_diem_points: None,
                        },
                    );
                }
                SchemeKind::Dip => {
                    // Every level gets a reference (points_domain::reference: last year's mean
                    // at the level from 5 cases, else over every level, else the group's
                    // calibrated mean standing for the published one), so that no stay meets
                    // a group without one.
                    let all_levels = every_level(&group.last_year);
                    let reference_costs = HospitalLevel::ALL
                        .iter()
                        .map(|level| {
                            let at_level = group.last_year.get(level).copied().unwrap_or_default();
                            (*level, reference_cost(at_level, all_levels, mean_cost))
                        })
                        .collect();
                    let basic_level = basic_level_reference(&group.last_year, mean_cost);
                    tables.dip.groups.insert(
                        code.clone(),
                        DipGroupRate {
                            score: base_points,
                            reference_costs,
                            basic_level_reference: Some(basic_level),
                        },
                    );
                }
            }
        }
        statistics.push(GroupStatistics {
            group_code: code.clone(),
            cases: group.cases,
            kept: group.kept,
            lower_bound: group.bounds.map(|(low, _)| Money::round(yuan(low))),
            upper_bound: group.bounds.map(|(_, high)| Money::round(yuan(high))),
            mean_cost,
            cv,
            stable,
            base_points,
        });
    }
    if options.scheme == SchemeKind::Dip {
        tables.drg.all_case_mean_cost = Money::ZERO;
    }
    statistics.sort_by(|a, b| a.group_code.cmp(&b.group_code));

    let mut hospital_coefficients = BTreeMap::new();
    for (hospital, code) in hospital_codes.iter().enumerate() {
        let weight = coefficient_weights[hospital];
        if weight.is_zero() {
            continue;
        }
        let coefficient = kernel::round_points(coefficient_numerators[hospital] / weight);
        hospital_coefficients.insert(code.clone(), coefficient);
        if options.scheme == SchemeKind::Drg {
            tables.coefficients.drg_by_hospital.insert(
                code.clone(),
                CoefficientSet {
                    all_groups: vec![DatedCoefficient {
                        coefficient,
                        effective_from: options.coefficient_effective_from,
                        effective_to: None,
                    }],
                    per_group: Default::default(),
                },
            );
        }
    }

    let cases_kept: u64 = work.iter().map(|g| g.kept).sum();
    let cases_used: u64 = work.iter().map(|g| g.cases).sum();
    Ok(CalibrationReport {
        tables,
        groups: statistics,
        all_case_mean_cost: Money::round(yuan(all_mean)),
        riv,
        cases_read,
        cases_kept,
        cases_trimmed: cases_used - cases_kept,
        rejected,
        hospital_coefficients,
        coefficient_rule: COEFFICIENT_RULE.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let sorted = [96, 98, 99, 100, 100, 101, 102, 104];
        // h = 7 × 0.25 = 1.75 → 98 + 0.75 × 1 = 98.75; h = 5.25 → 101 + 0.25 × 1 = 101.25.
        assert_eq!(
            quantile(&sorted, Decimal::new(25, 2)),
            Decimal::new(9875, 2)
        );
        assert_eq!(
            quantile(&sorted, Decimal::new(75, 2)),
            Decimal::new(10125, 2)
        );
        assert_eq!(quantile(&[7], Decimal::new(75, 2)), Decimal::from(7));
    }

    #[test]
    fn square_root_converges() {
        assert_eq!(sqrt(Decimal::from(4)).round_dp(12), Decimal::TWO);
        assert_eq!(sqrt(Decimal::ZERO), Decimal::ZERO);
        let root = sqrt(Decimal::new(2, 0));
        assert!((root * root - Decimal::TWO).abs() < Decimal::new(1, 18));
        let small = sqrt(Decimal::new(25, 4));
        assert_eq!(small.round_dp(12), Decimal::new(5, 2));
    }
}
