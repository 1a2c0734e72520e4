//! From the history as read to the directory and its report: the window and its weights,
//! trimming, core groups, the grouping of the other combinations, comprehensive groups, scores.

use grouping_domain::hash::FastMap;
use kernel::{Decimal, Money, Points};

use super::auxiliary::{AuxiliaryInputs, Derivation};
use super::history::{CaseRow, Combination};
use super::{
    BuildError, BuildOptions, BuildOutput, BuildReport, CombinationReport, GroupReport, MAX_YEARS,
    TrimPolicy, YearReport,
};
use crate::directory::{
    ComprehensiveGroup, CoreGroup, DiagnosisScope, Directory, DirectoryMeta, FORMAT, Files,
    GroupKind, ProcedureCombination, ProcedureType, TreatmentType,
};
use crate::grouper::CompiledDirectory;
use crate::stats::{Moments, riv};

/// Trimmed sums of a set of cases, per year position.
#[derive(Clone, Copy, Default)]
struct Sums {
    count_by_year: [u64; MAX_YEARS],
    fen_by_year: [i128; MAX_YEARS],
    count: u64,
    fen: i128,
    fen_squared: i128,
    trimmed: u64,
}

impl Sums {
    fn add(&mut self, year: usize, fen: i64) -> Result<(), BuildError> {
        let fen = i128::from(fen);
        self.count_by_year[year] += 1;
        self.fen_by_year[year] = self.fen_by_year[year]
            .checked_add(fen)
            .ok_or(BuildError::Overflow)?;
        self.count += 1;
        self.fen = self.fen.checked_add(fen).ok_or(BuildError::Overflow)?;
        self.fen_squared = fen
            .checked_mul(fen)
            .and_then(|sq| self.fen_squared.checked_add(sq))
            .ok_or(BuildError::Overflow)?;
        Ok(())
    }

    fn merge(&mut self, other: &Sums) -> Result<(), BuildError> {
        for i in 0..MAX_YEARS {
            self.count_by_year[i] += other.count_by_year[i];
            self.fen_by_year[i] = self.fen_by_year[i]
                .checked_add(other.fen_by_year[i])
                .ok_or(BuildError::Overflow)?;
        }
        self.count += other.count;
        self.trimmed += other.trimmed;
        self.fen = self
            .fen
            .checked_add(other.fen)
            .ok_or(BuildError::Overflow)?;
        self.fen_squared = self
            .fen_squared
            .checked_add(other.fen_squared)
            .ok_or(BuildError::Overflow)?;
        Ok(())
    }

    /// (Σ weight × cost in fen, Σ weight).
    fn weighted(&self, weights: &[Decimal]) -> Result<(Decimal, Decimal), BuildError> {
        let mut sum = Decimal::ZERO;
        let mut weight = Decimal::ZERO;
        for (i, w) in weights.iter().enumerate() {
            let fen = Decimal::try_from_i128_with_scale(self.fen_by_year[i], 0)
                .map_err(|_| BuildError::Overflow)?;
            sum = w
                .checked_mul(fen)
                .and_then(|x| sum.checked_add(x))
                .ok_or(BuildError::Overflow)?;
            weight = w
                .checked_mul(Decimal::from(self.count_by_year[i]))
                .and_then(|x| weight.checked_add(x))
                .ok_or(BuildError::Overflow)?;
        }
        Ok((sum, weight))
    }

    /// Weighted mean in yuan, unrounded; `None` when the weights of the cases sum to 0.
    fn weighted_mean(&self, weights: &[Decimal]) -> Result<Option<Decimal>, BuildError> {
        let (sum, weight) = self.weighted(weights)?;
        if weight.is_zero() {
            return Ok(None);
        }
        Ok(Some(
            sum.checked_div(weight)
                .and_then(|m| m.checked_div(Decimal::ONE_HUNDRED))
                .ok_or(BuildError::Overflow)?,
        ))
    }

    fn moments(&self) -> Result<Moments, BuildError> {
        Ok(Moments {
            count: self.count,
            sum: Decimal::try_from_i128_with_scale(self.fen, 2)
                .map_err(|_| BuildError::Overflow)?,
            sum_of_squares: Decimal::try_from_i128_with_scale(self.fen_squared, 4)
                .map_err(|_| BuildError::Overflow)?,
        })
    }
}

/// The history as read, ready to be turned into a directory.
pub(super) struct History<'a> {
    pub(super) options: &'a BuildOptions,
    pub(super) codes: &'a [&'a str],
    pub(super) categories: Vec<Box<str>>,
    pub(super) combinations: Vec<Combination>,
    pub(super) combination_procedures: Vec<u32>,
    /// Sorted by (combination, cost) in `assemble`.
    pub(super) cases: Vec<CaseRow>,
    pub(super) ignored_procedure_codes: u64,
    pub(super) auxiliary: &'a AuxiliaryInputs,
}

/// Where a combination's cases go.
#[derive(Clone, Copy)]
enum Target {
    Core(usize),
    Comprehensive(usize),
}

fn treatment_letter(t: TreatmentType) -> char {
    match t {
        TreatmentType::Conservative => 'C',
        TreatmentType::Diagnostic => 'D',
        TreatmentType::Therapeutic => 'T',
        TreatmentType::Interventional => 'I',
        TreatmentType::Surgical => 'S',
    }
}

fn treatment_label(t: TreatmentType) -> &'static str {
    match t {
        TreatmentType::Conservative => "保守治疗",
        TreatmentType::Diagnostic => "诊断性操作",
        TreatmentType::Therapeutic => "治疗性操作",
        TreatmentType::Interventional => "介入治疗",
        TreatmentType::Surgical => "手术",
    }
}

fn join<T: ToString>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

impl History<'_> {
    /// The build years and their weights.
    fn window(&self) -> Result<(Vec<i32>, Vec<Decimal>), BuildError> {
        let options = self.options;
        if !options.years.is_empty() {
            return Ok((options.years.clone(), options.year_weights.clone()));
        }
        let years: Vec<i32> = self
            .cases
            .iter()
            .map(|c| c.year)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if years.len() > options.year_weights.len() {
            return Err(BuildError::BadOptions {
                field: "year_weights",
                why: format!(
                    "the history has {} years but only {} weights",
                    years.len(),
                    options.year_weights.len()
                ),
            });
        }
        let weights = options.year_weights[options.year_weights.len() - years.len()..].to_vec();
        Ok((years, weights))
    }

    fn procedures(&self, c: &Combination) -> &[u32] {
        let start = c.procedures_start as usize;
        &self.combination_procedures[start..start + c.procedures_len as usize]
    }

    fn codes_of(&self, c: &Combination) -> Vec<String> {
        self.procedures(c)
            .iter()
            .map(|&i| self.codes[i as usize].to_owned())
            .collect()
    }

    /// The costs in fen a combination's cases (sorted by cost) keep, bounds included.
    fn fences(&self, cases: &[CaseRow]) -> (i64, i64) {
        match &self.options.trim {
            TrimPolicy::None => (i64::MIN, i64::MAX),
            TrimPolicy::Iqr {
                lower_multiple,
                upper_multiple,
            } => iqr_fences(cases, *lower_multiple, *upper_multiple),
        }
    }

    /// Trims one combination's cases (sorted by cost) and returns their sums.
    fn trimmed_sums(&self, cases: &[CaseRow]) -> Result<Sums, BuildError> {
        let (lower, upper) = self.fences(cases);
        let mut sums = Sums::default();
        for case in cases {
            if case.fen < lower || case.fen > upper {
                sums.trimmed += 1;
                continue;
            }
            // `year` holds the window position here; every year is in the window (records
            // outside it were rejected while reading).
            let position = case.year as usize;
            if position < MAX_YEARS {
                sums.add(position, case.fen)?;
            }
        }
        Ok(sums)
    }

    pub(super) fn assemble(mut self) -> Result<BuildOutput, BuildError> {
        let options = self.options;
        let (years, weights) = self.window()?;
        let year_position: FastMap<i32, usize> =
            years.iter().enumerate().map(|(i, y)| (*y, i)).collect();
        // Cases of one combination become one slice, sorted by cost (for the quartiles).
        let mut starts = vec![0usize; self.combinations.len() + 1];
        for case in &self.cases {
            starts[case.combination as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut placed = vec![
            CaseRow {
                combination: 0,
                year: 0,
                fen: 0,
                subtypes: 0,
            };
            self.cases.len()
        ];
        for case in &self.cases {
            let slot = &mut next[case.combination as usize];
            // From here on `year` is the year's position in the window.
            let position = year_position.get(&case.year).copied().unwrap_or(MAX_YEARS);
            placed[*slot] = CaseRow {
                year: position as i32,
                ..*case
            };
            *slot += 1;
        }
        for c in 0..self.combinations.len() {
            placed[starts[c]..starts[c + 1]].sort_unstable_by_key(|case| case.fen);
        }
        self.cases = placed;
        let cases_of = |c: usize| &self.cases[starts[c]..starts[c + 1]];
        // Deterministic order: by category text, then procedure codes (ids follow the codes'
        // sorted order, so comparing ids compares codes); conservative first.
        let mut category_rank = vec![0u32; self.categories.len()];
        let mut by_text: Vec<u32> = (0..self.categories.len() as u32).collect();
        by_text.sort_unstable_by(|a, b| {
            self.categories[*a as usize].cmp(&self.categories[*b as usize])
        });
        for (rank, c) in by_text.iter().enumerate() {
            category_rank[*c as usize] = rank as u32;
        }
        let by_text_then_codes = |a: &usize, b: &usize| {
            let (ca, cb) = (&self.combinations[*a], &self.combinations[*b]);
            category_rank[ca.category as usize]
                .cmp(&category_rank[cb.category as usize])
                .then_with(|| self.procedures(ca).cmp(self.procedures(cb)))
        };

        // Pass 1: M over all trimmed cases, and the core-eligible combinations' sums.
        let mut all = Sums::default();
        let mut eligible: Vec<(usize, Sums)> = Vec::new();
        for c in 0..self.combinations.len() {
            let cases = cases_of(c);
            let sums = self.trimmed_sums(cases)?;
            all.merge(&sums)?;
            if cases.len() as u64 >= options.min_cases {
                eligible.push((c, sums));
            }
        }
        eligible.sort_unstable_by(|a, b| by_text_then_codes(&a.0, &b.0));
        // DOMAIN.md §3 DIP scores: M = weighted mean cost of all (trimmed) cases.
        let reference_mean = all.weighted_mean(&weights)?.ok_or(BuildError::NoCases)?;
        if reference_mean.is_zero() {
            return Err(BuildError::NoCases);
        }
        let score_of = |mean: Decimal| -> Result<Points, BuildError> {
            let ratio = mean
                .checked_div(reference_mean)
                .and_then(|r| r.checked_mul(options.score_scale))
                .ok_or(BuildError::Overflow)?;
            // DOMAIN.md conventions: a score is rounded once, to 4 places.
            Ok(Points::round(ratio))
        };

        // Core groups: combinations with at least min_cases cases (DOMAIN.md §2 DIP).
        let mut core_groups = Vec::new();
        let mut core_means = Vec::new();
        let mut core_own_sums = Vec::new();
        let mut core_of_combination = vec![usize::MAX; self.combinations.len()];
        let mut per_category: FastMap<u32, u32> = FastMap::default();
        for (c, sums) in &eligible {
            let Some(mean) = sums.weighted_mean(&weights)? else {
                continue;
            };
            let combination = &self.combinations[*c];
            let category = self.categories[combination.category as usize].to_string();
            let procedures = self.codes_of(combination);
            let number = if procedures.is_empty() {
                0
            } else {
                let n = per_category.entry(combination.category).or_insert(0);
                *n += 1;
                *n
            };
            let written = (!procedures.is_empty()).then(|| ProcedureCombination {
                all_of: procedures.iter().map(|p| vec![p.clone()]).collect(),
            });
            let name = match &written {
                None => format!("{category} {}", treatment_label(combination.treatment)),
                Some(w) => format!("{category} {w}"),
            };
            core_of_combination[*c] = core_groups.len();
            core_means.push(mean);
            core_own_sums.push(*sums);
            core_groups.push(CoreGroup {
                code: format!("{category}-{number:02}"),
                name,
                kind: GroupKind::Core,
                diagnosis_category: category,
                treatment: combination.treatment,
                procedures: written,
                score: score_of(mean)?,
                mean_cost: Money::round(mean),
            });
        }
        let procedure_types: Vec<ProcedureType> = options
            .procedure_types
            .iter()
            .map(|(code, treatment)| ProcedureType {
                code: code.clone(),
                treatment: *treatment,
                name: String::new(),
            })
            .collect();
        let mut directory = Directory {
            meta: DirectoryMeta {
                format: FORMAT.into(),
                id: options.directory_id.clone(),
                name: options.directory_name.clone(),
                version: options.directory_version.clone(),
                region: options.region,
                year: options
                    .directory_year
                    .unwrap_or_else(|| years.last().map_or(0, |y| y + 1)),
                score_scale: options.score_scale,
                reference_mean_cost: Money::round(reference_mean),
                description: Some(format!(
                    "built from history {}, year weights {}",
                    join(&years, ", "),
                    join(&weights, ":")
                )),
                auxiliary_policy: Default::default(),
                counts: Default::default(),
                files: Files::default(),
            },
            core_groups,
            comprehensive_groups: Vec::new(),
            procedure_types,
            auxiliary: Vec::new(),
            cci_weights: Vec::new(),
            tumour_markers: Vec::new(),
        };
        let compiled = CompiledDirectory::new(&directory);
        let compiled_id: Vec<Option<u32>> = self
            .codes
            .iter()
            .map(|c| compiled.procedure_id(c))
            .collect();

        // Pass 2: every other combination joins a core group as the grouper would place it
        // (cost tie-break on the combination's weighted mean), else its comprehensive group.
        let mut core_sums = vec![Sums::default(); directory.core_groups.len()];
        let mut comprehensive_slots: FastMap<([u8; 3], TreatmentType), usize> = FastMap::default();
        let mut comprehensive_sums: Vec<Sums> = Vec::new();
        let mut targets: Vec<(usize, Target, u64)> = Vec::new();
        let mut target_of: Vec<Target> = Vec::with_capacity(self.combinations.len());
        let mut ids: Vec<u32> = Vec::new();
        for (c, (combination, &core)) in self
            .combinations
            .iter()
            .zip(&core_of_combination)
            .enumerate()
        {
            if core != usize::MAX {
                let sums = &core_own_sums[core];
                core_sums[core].merge(sums)?;
                target_of.push(Target::Core(core));
                if options.report_combinations {
                    targets.push((c, Target::Core(core), sums.trimmed));
                }
                continue;
            }
            let sums = self.trimmed_sums(cases_of(c))?;
            let mean = sums.weighted_mean(&weights)?.unwrap_or(Decimal::ZERO);
            ids.clear();
            ids.extend(
                self.procedures(combination)
                    .iter()
                    .filter_map(|&p| compiled_id[p as usize]),
            );
            ids.sort_unstable();
            let category = &self.categories[combination.category as usize];
            let target = match compiled.best_core(category, &ids, mean, None) {
                Some((group, _)) => {
                    core_sums[group as usize].merge(&sums)?;
                    Target::Core(group as usize)
                }
                None => {
                    let b = category.as_bytes();
                    let key = ([b[0], b[1], b[2]], combination.treatment);
                    let next = comprehensive_sums.len();
                    let slot = *comprehensive_slots.entry(key).or_insert(next);
                    if slot == next {
                        comprehensive_sums.push(Sums::default());
                    }
                    comprehensive_sums[slot].merge(&sums)?;
                    Target::Comprehensive(slot)
                }
            };
            target_of.push(target);
            if options.report_combinations {
                targets.push((c, target, sums.trimmed));
            }
        }
        targets.sort_unstable_by(|a, b| by_text_then_codes(&a.0, &b.0));

        let mut groups = Vec::new();
        let mut moments = Vec::new();
        for (g, group) in directory.core_groups.iter().enumerate() {
            let m = core_sums[g].moments()?;
            moments.push(m);
            groups.push(GroupReport {
                code: group.code.clone(),
                kind: group.kind,
                treatment: group.treatment,
                diagnosis: group.diagnosis_category.clone(),
                procedures: group
                    .procedures
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                cases: core_sums[g].count,
                trimmed_cases: core_sums[g].trimmed,
                weighted_mean_cost: Money::round(core_means[g]),
                cv: m.cv(),
                score: group.score,
            });
        }
        // Comprehensive groups by category, then treatment.
        let mut comprehensive_code = vec![String::new(); comprehensive_sums.len()];
        let mut comprehensive_position = vec![0usize; comprehensive_sums.len()];
        let mut comprehensive_order: Vec<_> = comprehensive_slots.into_iter().collect();
        comprehensive_order.sort_unstable();
        for ((category3, treatment), slot) in &comprehensive_order {
            let category3 = String::from_utf8_lossy(category3).into_owned();
            let sums = &comprehensive_sums[*slot];
            let mean = sums.weighted_mean(&weights)?.unwrap_or(Decimal::ZERO);
            let group = ComprehensiveGroup {
                code: format!("ZH-{category3}-{}", treatment_letter(*treatment)),
                name: format!("{category3} 综合病种 {}", treatment_label(*treatment)),
                diagnosis: DiagnosisScope::Category(category3.clone()),
                treatment: *treatment,
                score: score_of(mean)?,
                mean_cost: Money::round(mean),
            };
            let m = sums.moments()?;
            moments.push(m);
            groups.push(GroupReport {
                code: group.code.clone(),
                kind: GroupKind::Comprehensive,
                treatment: group.treatment,
                diagnosis: category3.clone(),
                procedures: String::new(),
                cases: sums.count,
                trimmed_cases: sums.trimmed,
                weighted_mean_cost: Money::round(mean),
                cv: m.cv(),
                score: group.score,
            });
            comprehensive_code[*slot] = group.code.clone();
            comprehensive_position[*slot] = directory.comprehensive_groups.len();
            directory.comprehensive_groups.push(group);
        }
        let combinations = if options.report_combinations {
            targets
                .iter()
                .map(|&(c, target, trimmed)| {
                    let combination = &self.combinations[c];
                    CombinationReport {
                        diagnosis_category: self.categories[combination.category as usize]
                            .to_string(),
                        procedures: self.codes_of(combination),
                        treatment: combination.treatment,
                        cases: (starts[c + 1] - starts[c]) as u64,
                        trimmed_cases: trimmed,
                        group: match target {
                            Target::Core(g) => directory.core_groups[g].code.clone(),
                            Target::Comprehensive(slot) => comprehensive_code[slot].clone(),
                        },
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let year_reports = years
            .iter()
            .zip(&weights)
            .enumerate()
            .map(|(i, (year, weight))| YearReport {
                year: *year,
                weight: *weight,
                cases: all.count_by_year[i],
            })
            .collect();
        let auxiliary = self.auxiliary;
        let auxiliary_report = if auxiliary.derives_any() {
            let core_count = directory.core_groups.len();
            let group_of = |c: usize| match target_of[c] {
                Target::Core(g) => g,
                Target::Comprehensive(slot) => core_count + comprehensive_position[slot],
            };
            let mut derivation = Derivation::new(
                directory
                    .core_groups
                    .iter()
                    .map(|g| g.mean_cost)
                    .chain(directory.comprehensive_groups.iter().map(|g| g.mean_cost)),
            )?;
            for c in 0..self.combinations.len() {
                let cases = cases_of(c);
                let (lower, upper) = self.fences(cases);
                let group = group_of(c);
                for case in cases {
                    if lower <= case.fen && case.fen <= upper {
                        derivation.add(group, case.subtypes, case.year as usize, case.fen)?;
                    }
                }
            }
            let codes: Vec<&str> = directory
                .core_groups
                .iter()
                .map(|g| g.code.as_str())
                .chain(
                    directory
                        .comprehensive_groups
                        .iter()
                        .map(|g| g.code.as_str()),
                )
                .collect();
            let (rows, report) = derivation.finish(
                &codes,
                &weights,
                options.auxiliary_min_cases.unwrap_or(options.min_cases),
            )?;
            directory.auxiliary = rows;
            report
        } else {
            Vec::new()
        };
        directory.cci_weights = auxiliary.cci_weights.clone();
        directory.tumour_markers = auxiliary.tumour_markers.clone();
        directory.meta.auxiliary_policy = auxiliary.policy.clone();
        directory.meta.counts = directory.counts();
        let report = BuildReport {
            years: year_reports,
            cases_read: self.cases.len() as u64,
            cases_trimmed: all.trimmed,
            ignored_procedure_codes: self.ignored_procedure_codes,
            reference_mean_cost: reference_mean,
            groups,
            combinations,
            riv: riv(&moments),
            auxiliary: auxiliary_report,
        };
        Ok(BuildOutput { directory, report })
    }
}

/// Whole-fen fences of IQR trimming for cases sorted by cost: keep
/// `Q1 − lower·IQR ≤ cost ≤ Q3 + upper·IQR`, i.e. `ceil(lower fence) ≤ fen ≤ floor(upper fence)`.
/// Quartiles interpolate linearly between order statistics (position (n − 1) · q / 4), computed
/// exactly in quarter-fen; a fence beyond the integer range means no trimming on that side.
fn iqr_fences(cases: &[CaseRow], lower: Decimal, upper: Decimal) -> (i64, i64) {
    let n = cases.len();
    if n == 0 {
        return (i64::MIN, i64::MAX);
    }
    let quarter = |q: usize| -> i128 {
        let scaled = (n - 1) * q;
        let low = scaled / 4;
        let x = i128::from(cases[low].fen);
        let y = cases.get(low + 1).map_or(x, |c| i128::from(c.fen));
        4 * x + (scaled % 4) as i128 * (y - x)
    };
    let (q1, q3) = (quarter(1), quarter(3)); // × 4
    let iqr = q3 - q1;
    // fence × 4 × 10^scale, exactly; None on overflow (the fence is then out of reach).
    let scaled_fence = |q: i128, k: Decimal, sign: i128| -> Option<(i128, i128)> {
        let k = k.normalize();
        let unit = 10_i128.checked_pow(k.scale())?;
        let product = k.mantissa().checked_mul(iqr)?;
        Some((q.checked_mul(unit)?.checked_add(sign * product)?, 4 * unit))
    };
    let low = scaled_fence(q1, lower, -1)
        .map(|(num, den)| {
            // ceil(num / den)
            let floor = num.div_euclid(den);
            if num.rem_euclid(den) == 0 {
                floor
            } else {
                floor + 1
            }
        })
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(i64::MIN);
    let high = scaled_fence(q3, upper, 1)
        .map(|(num, den)| num.div_euclid(den))
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(i64::MAX);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::iqr_fences;
    use crate::build::history::CaseRow;
    use kernel::Decimal;

    fn rows(fens: &[i64]) -> Vec<CaseRow> {
        fens.iter()
            .map(|&fen| CaseRow {
                combination: 0,
                year: 2024,
                fen,
                subtypes: 0,
            })
            .collect()
    }

    #[test]
    fn iqr_fences_interpolate_quartiles_exactly() {
        let k = Decimal::new(15, 1);
        // 1,2,3,4,100: Q1 = 2, Q3 = 4, IQR = 2 → fences -1 … 7.
        assert_eq!(iqr_fences(&rows(&[1, 2, 3, 4, 100]), k, k), (-1, 7));
        // 10,20,30,40: Q1 = 17.5, Q3 = 32.5, IQR = 15 → -5 … 55.
        assert_eq!(iqr_fences(&rows(&[10, 20, 30, 40]), k, k), (-5, 55));
        // 10,20,30,41: Q3 = 32.75, IQR = 15.25 → lower -5.375 → -5, upper 55.625 → 55.
        assert_eq!(iqr_fences(&rows(&[10, 20, 30, 41]), k, k), (-5, 55));
        assert_eq!(iqr_fences(&rows(&[5]), k, k), (5, 5));
        assert_eq!(iqr_fences(&rows(&[]), k, k), (i64::MIN, i64::MAX));
        // Multiple 0: the fences are the quartiles themselves (ceil / floor).
        let zero = Decimal::ZERO;
        assert_eq!(iqr_fences(&rows(&[10, 20, 30, 40]), zero, zero), (18, 32));
    }
}
