//! Building a DIP directory from historical cases (DOMAIN.md §2 DIP, "building a directory from
//! history"; §3 DIP scores; domain-formulas §3.2).
//!
//! Steps, each a parameter of [`BuildOptions`]:
//! 1. Stream the history CSV (columns in `FORMAT.md`); every bad record is reported with its line.
//! 2. Combination = diagnosis category (first 5 characters) × the sorted set of typed procedure
//!    codes (codes missing from [`BuildOptions::procedure_types`] are ignored, as the grouper
//!    ignores them); no typed procedure = conservative.
//! 3. Trim outliers within each combination ([`TrimPolicy`], default Q1 − 1.5·IQR … Q3 + 1.5·IQR,
//!    quartiles by linear interpolation, bounds inclusive).
//! 4. Year weights by position, oldest to newest (default 1:2:7): a case weighs its year's weight.
//! 5. A combination with at least `min_cases` cases (before trimming) becomes a core group whose
//!    mean is the weighted mean of its own trimmed cases. Every other combination is grouped
//!    against those core groups exactly as [`crate::CompiledDirectory`] would group it (so a
//!    combination containing a core combination joins that group; the cost tie-break uses the
//!    combination's weighted mean); the rest form comprehensive groups by 3-character category ×
//!    treatment type.
//! 6. Score = weighted mean / weighted mean of all trimmed cases (M) × scale, rounded once to 4
//!    places; published mean costs are rounded once to the fen.
//! 7. Report per group (cases, weighted mean, CV with the population σ over the group's trimmed
//!    cases, unweighted, score) and the directory's RIV over all trimmed cases.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use kernel::{Decimal, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use crate::directory::{
    ComprehensiveGroup, CoreGroup, DiagnosisScope, Directory, DirectoryMeta, FORMAT, Files,
    GroupKind, ProcedureCombination, ProcedureType, TreatmentType, is_category3,
};
use crate::error::DirectoryError;
use crate::grouper::{CompiledDirectory, diagnosis_category};
use crate::stats::{Moments, riv};
use grouping_domain::csv::{CsvInput, HeaderError, Line, LineFault, LineWorker};
use grouping_domain::hash::FastMap;

/// How outliers are trimmed within each combination before averaging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum TrimPolicy {
    /// Keep every case.
    None,
    /// Keep cases within Q1 − lower_multiple·IQR … Q3 + upper_multiple·IQR (bounds included).
    Iqr {
        lower_multiple: Decimal,
        upper_multiple: Decimal,
    },
}

impl Default for TrimPolicy {
    /// DOMAIN.md §3 (trimming default): Q1 − 1.5·IQR … Q3 + 1.5·IQR.
    fn default() -> Self {
        TrimPolicy::Iqr {
            lower_multiple: Decimal::new(15, 1),
            upper_multiple: Decimal::new(15, 1),
        }
    }
}

fn default_year_weights() -> Vec<Decimal> {
    // DOMAIN.md §2 DIP: weights 1:2:7, oldest to newest.
    vec![Decimal::ONE, Decimal::TWO, Decimal::from(7)]
}

fn default_min_cases() -> u64 {
    // DOMAIN.md §2 DIP: a combination with ≥ 15 cases becomes a core group.
    15
}

fn default_score_scale() -> Decimal {
    // DOMAIN.md §3 DIP scores: × 1000 (100 in some regions).
    Decimal::from(1000)
}

fn default_version() -> String {
    "1".into()
}

/// Parameters of a build. Serde, so a build can be stored and repeated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOptions {
    /// History years, oldest first; empty = the years found in the data (at most as many as
    /// there are weights, which are then taken from the end of `year_weights`).
    #[serde(default)]
    pub years: Vec<i32>,
    /// Weight of each year by position, oldest to newest.
    #[serde(default = "default_year_weights")]
    pub year_weights: Vec<Decimal>,
    /// Cases a combination needs to become a core group.
    #[serde(default = "default_min_cases")]
    pub min_cases: u64,
    #[serde(default = "default_score_scale")]
    pub score_scale: Decimal,
    #[serde(default)]
    pub trim: TrimPolicy,
    /// Procedure code → type; written into the directory's procedure-type table.
    #[serde(default)]
    pub procedure_types: BTreeMap<String, TreatmentType>,
    /// Identity of the directory written.
    pub directory_id: String,
    pub directory_name: String,
    #[serde(default = "default_version")]
    pub directory_version: String,
    pub region: RegionCode,
    /// Year the directory applies to; `None` = the newest history year + 1.
    #[serde(default)]
    pub directory_year: Option<i32>,
    /// Whether the report lists every combination and its group (large for big histories).
    #[serde(default)]
    pub report_combinations: bool,
}

impl BuildOptions {
    /// Defaults of DOMAIN.md (weights 1:2:7, 15 cases, scale 1000, IQR trimming) for a region.
    pub fn new(region: RegionCode, procedure_types: BTreeMap<String, TreatmentType>) -> Self {
        Self {
            years: Vec::new(),
            year_weights: default_year_weights(),
            min_cases: default_min_cases(),
            score_scale: default_score_scale(),
            trim: TrimPolicy::default(),
            procedure_types,
            directory_id: format!("built-{region}"),
            directory_name: "DIP directory built from history".into(),
            directory_version: default_version(),
            region,
            directory_year: None,
            report_combinations: false,
        }
    }

    /// The procedure-type table of an existing directory, to build with its procedure types.
    pub fn procedure_types_of(directory: &Directory) -> BTreeMap<String, TreatmentType> {
        directory
            .procedure_types
            .iter()
            .map(|p| (p.code.clone(), p.treatment))
            .collect()
    }
}

/// What is wrong with one history record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblemKind {
    #[error("line is not valid UTF-8")]
    NotUtf8,
    #[error("quoted fields are not supported")]
    Quoted,
    #[error("expected {expected} comma-separated fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("year {value:?} is not a whole number")]
    BadYear { value: String },
    #[error("year {year} is not one of the build years")]
    YearOutsideWindow { year: i32 },
    #[error("principal_diagnosis {value:?} is not an ICD-10 code")]
    BadDiagnosis { value: String },
    #[error("total_cost {value:?} is not an amount in yuan with at most 2 decimals")]
    BadCost { value: String },
    #[error("total_cost {value} is negative")]
    NegativeCost { value: String },
    #[error("total_cost {value} exceeds 10,000,000,000 yuan")]
    CostTooLarge { value: String },
}

impl RecordProblemKind {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            RecordProblemKind::NotUtf8 => "NOT_UTF8",
            RecordProblemKind::Quoted => "QUOTED_FIELD",
            RecordProblemKind::FieldCount { .. } => "WRONG_FIELD_COUNT",
            RecordProblemKind::BadYear { .. } => "BAD_YEAR",
            RecordProblemKind::YearOutsideWindow { .. } => "YEAR_OUTSIDE_WINDOW",
            RecordProblemKind::BadDiagnosis { .. } => "BAD_PRINCIPAL_DIAGNOSIS",
            RecordProblemKind::BadCost { .. } => "BAD_COST",
            RecordProblemKind::NegativeCost { .. } => "NEGATIVE_COST",
            RecordProblemKind::CostTooLarge { .. } => "COST_TOO_LARGE",
        }
    }
}

/// One bad history record: its line (1 = header) and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProblem {
    pub line: usize,
    pub kind: RecordProblemKind,
}

/// Why a build failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the history: {message}")]
    Io { message: String },
    #[error("history header is invalid: {why}")]
    BadHeader { why: String },
    #[error("{} history records are invalid, first: line {}: {}",
        problems.len(),
        problems.first().map_or(0, |p| p.line),
        problems.first().map_or(String::new(), |p| p.kind.to_string()))]
    InvalidRecords { problems: Vec<RecordProblem> },
    #[error("option {field} is invalid: {why}")]
    BadOptions { field: &'static str, why: String },
    #[error("the history has no case with a positive year weight")]
    NoCases,
    #[error("sums overflow the decimal range")]
    Overflow,
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl BuildError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            BuildError::Io { .. } => "HISTORY_UNREADABLE",
            BuildError::BadHeader { .. } => "BAD_HISTORY_HEADER",
            BuildError::InvalidRecords { .. } => "INVALID_HISTORY_RECORDS",
            BuildError::BadOptions { .. } => "BAD_BUILD_OPTIONS",
            BuildError::NoCases => "NO_CASES",
            BuildError::Overflow => "OVERFLOW",
            BuildError::Directory(e) => e.reason(),
        }
    }
}

/// One year of the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YearReport {
    pub year: i32,
    pub weight: Decimal,
    pub cases: u64,
}

/// Statistics of one group of the built directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupReport {
    pub code: String,
    pub kind: GroupKind,
    pub treatment: TreatmentType,
    /// Diagnosis category (core) or 3-character category (comprehensive).
    pub diagnosis: String,
    /// Combination as written (core), empty otherwise.
    pub procedures: String,
    /// Trimmed cases assigned to the group (for a core group, its own and those of combinations
    /// that joined it).
    pub cases: u64,
    /// Cases dropped as outliers.
    pub trimmed_cases: u64,
    /// The published mean (core: of its own combination's cases), weighted by year.
    pub weighted_mean_cost: Money,
    /// σ / μ over `cases`, population σ, unweighted; `None` for a zero mean.
    pub cv: Option<Decimal>,
    pub score: Points,
}

/// Where one combination of the history went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CombinationReport {
    pub diagnosis_category: String,
    /// Sorted typed procedure codes; empty = conservative.
    pub procedures: Vec<String>,
    pub treatment: TreatmentType,
    /// Cases before trimming.
    pub cases: u64,
    pub trimmed_cases: u64,
    pub group: String,
}

/// Everything a build reports besides the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildReport {
    pub years: Vec<YearReport>,
    pub cases_read: u64,
    pub cases_trimmed: u64,
    /// Occurrences of procedure codes not in the procedure-type table (ignored).
    pub ignored_procedure_codes: u64,
    /// M, unrounded: the weighted mean cost of all trimmed cases.
    pub reference_mean_cost: Decimal,
    pub groups: Vec<GroupReport>,
    /// Every combination and its group, when [`BuildOptions::report_combinations`] is set.
    pub combinations: Vec<CombinationReport>,
    /// (SST − SSW) / SST over all trimmed cases and their groups (DOMAIN.md §6).
    pub riv: Option<Decimal>,
}

/// A built directory and its report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOutput {
    pub directory: Directory,
    pub report: BuildReport,
}

impl BuildOutput {
    /// Writes the directory in the `dip-directory/1` format (see `FORMAT.md`).
    pub fn write_directory(&self, dir_path: &Path) -> Result<(), DirectoryError> {
        self.directory.write(dir_path)
    }
}

/// One combination of the history: its category and typed procedures.
struct Combination {
    category: u32,
    /// Range in the flat procedure-id list.
    procedures_start: u32,
    procedures_len: u32,
    treatment: TreatmentType,
}

/// One case of the history, reduced to what the build needs.
#[derive(Clone, Copy)]
struct CaseRow {
    combination: u32,
    /// The year as read; its position in the window once the cases are placed by combination.
    year: i32,
    fen: i64,
}

/// Most history years a build accepts (DOMAIN.md §2 DIP uses 1–3).
pub const MAX_YEARS: usize = 5;

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

/// Upper bound of a case cost in fen (10^10 yuan): keeps every sum inside the decimal range.
const MAX_COST_FEN: i64 = 1_000_000_000_000;

#[derive(Clone, Copy)]
struct Columns {
    year: usize,
    diagnosis: usize,
    procedures: usize,
    cost: usize,
}

fn missing_column(name: &str) -> BuildError {
    BuildError::BadHeader {
        why: format!("column {name} is missing"),
    }
}

fn read_header(line: &str) -> Result<Columns, BuildError> {
    let names: Vec<&str> = line.split(',').collect();
    let find = |name: &str| -> Result<usize, BuildError> {
        let mut positions = names.iter().enumerate().filter(|(_, n)| **n == name);
        match (positions.next(), positions.next()) {
            (Some((i, _)), None) => Ok(i),
            (Some(_), Some(_)) => Err(BuildError::BadHeader {
                why: format!("column {name} appears twice"),
            }),
            (None, _) => Err(missing_column(name)),
        }
    };
    let columns = Columns {
        year: find("year")?,
        diagnosis: find("principal_diagnosis")?,
        procedures: find("procedures")?,
        cost: find("total_cost")?,
    };
    const KNOWN: [&str; 6] = [
        "year",
        "principal_diagnosis",
        "procedures",
        "total_cost",
        "hospital_level",
        "case_id",
    ];
    if let Some(unknown) = names.iter().find(|n| !KNOWN.contains(n)) {
        return Err(BuildError::BadHeader {
            why: format!("unknown column {unknown:?}"),
        });
    }
    Ok(columns)
}

fn check_options(options: &BuildOptions) -> Result<(), BuildError> {
    let bad = |field, why: &str| {
        Err(BuildError::BadOptions {
            field,
            why: why.to_owned(),
        })
    };
    if options.year_weights.is_empty() {
        return bad("year_weights", "at least one weight is needed");
    }
    if options.year_weights.len() > MAX_YEARS {
        return bad("year_weights", "at most 5 years");
    }
    if options.year_weights.iter().any(|w| w.is_sign_negative()) {
        return bad("year_weights", "weights must not be negative");
    }
    if !options.years.is_empty() {
        if options.years.len() != options.year_weights.len() {
            return bad("years", "one weight per year is needed");
        }
        if options.years.windows(2).any(|w| w[0] >= w[1]) {
            return bad("years", "years must be distinct and oldest first");
        }
    }
    if options.min_cases == 0 {
        return bad("min_cases", "must be at least 1");
    }
    if options.score_scale <= Decimal::ZERO {
        return bad("score_scale", "must be positive");
    }
    if let TrimPolicy::Iqr {
        lower_multiple,
        upper_multiple,
    } = &options.trim
        && [lower_multiple, upper_multiple]
            .iter()
            .any(|k| k.is_sign_negative() || k.normalize().scale() > 4 || **k > Decimal::from(1000))
    {
        return bad(
            "trim",
            "multiples must be between 0 and 1000 with at most 4 decimal places",
        );
    }
    if options
        .procedure_types
        .values()
        .any(|t| *t == TreatmentType::Conservative)
    {
        return bad("procedure_types", "a procedure cannot be conservative");
    }
    Ok(())
}

/// Reads the history CSV and accumulates cases per combination.
struct Reader<'a> {
    options: &'a BuildOptions,
    columns: Columns,
    procedure_ids: FastMap<&'a str, u32>,
    procedure_types: Vec<TreatmentType>,
    categories: Vec<Box<str>>,
    category_index: FastMap<Box<str>, u32>,
    combinations: Vec<Combination>,
    combination_procedures: Vec<u32>,
    index: FastMap<Box<[u8]>, u32>,
    cases: Vec<CaseRow>,
    problems: Vec<RecordProblem>,
    ignored_procedure_codes: u64,
    key: Vec<u8>,
    ids: Vec<u32>,
}

impl LineWorker for Reader<'_> {
    fn line(&mut self, line: Line<'_>, _output: &mut Vec<u8>) {
        self.record(line);
    }

    fn fault(&mut self, number: u64, fault: LineFault, text: &[u8]) {
        let kind = match fault {
            LineFault::InvalidUtf8 { .. } => RecordProblemKind::NotUtf8,
            // A quoted field with a comma splits wrongly: the quote is what to fix.
            LineFault::FieldCount { .. } if text.contains(&b'"') => RecordProblemKind::Quoted,
            LineFault::FieldCount { expected, found } => {
                RecordProblemKind::FieldCount { expected, found }
            }
        };
        self.problems.push(RecordProblem {
            line: line_number(number),
            kind,
        });
    }
}

/// A line number as the build reports it.
fn line_number(number: u64) -> usize {
    usize::try_from(number).unwrap_or(usize::MAX)
}

impl Reader<'_> {
    fn record(&mut self, line: Line<'_>) {
        let mut problem = |kind| {
            self.problems.push(RecordProblem {
                line: line_number(line.number),
                kind,
            })
        };
        if line.text().contains('"') {
            return problem(RecordProblemKind::Quoted);
        }
        let columns = self.columns;
        let year_text = line.field(columns.year);
        let Ok(year) = year_text.parse::<i32>() else {
            return problem(RecordProblemKind::BadYear {
                value: year_text.to_owned(),
            });
        };
        if !self.options.years.is_empty() && !self.options.years.contains(&year) {
            return problem(RecordProblemKind::YearOutsideWindow { year });
        }
        let diagnosis = line.field(columns.diagnosis);
        if !diagnosis.is_ascii() || diagnosis.len() < 3 || !is_category3(&diagnosis[..3]) {
            return problem(RecordProblemKind::BadDiagnosis {
                value: diagnosis.to_owned(),
            });
        }
        let cost_text = line.field(columns.cost);
        let Some(fen) = parse_fen(cost_text) else {
            return problem(RecordProblemKind::BadCost {
                value: cost_text.to_owned(),
            });
        };
        if fen < 0 {
            return problem(RecordProblemKind::NegativeCost {
                value: cost_text.to_owned(),
            });
        }
        if fen > MAX_COST_FEN {
            return problem(RecordProblemKind::CostTooLarge {
                value: cost_text.to_owned(),
            });
        }
        if !self.problems.is_empty() {
            return; // the build fails anyway: only keep looking for problems
        }
        self.ids.clear();
        let procedures = line.field(columns.procedures);
        if !procedures.is_empty() {
            for code in procedures.split('|') {
                match self.procedure_ids.get(code) {
                    Some(&id) => self.ids.push(id),
                    None => self.ignored_procedure_codes += 1,
                }
            }
        }
        self.ids.sort_unstable();
        self.ids.dedup();
        let category = self.category_id(diagnosis_category(diagnosis));
        // Key: category id, then each procedure id, 4 bytes each.
        self.key.clear();
        self.key.extend_from_slice(&category.to_le_bytes());
        for id in &self.ids {
            self.key.extend_from_slice(&id.to_le_bytes());
        }
        let combination = match self.index.get(self.key.as_slice()) {
            Some(&slot) => slot,
            None => {
                let slot = self.combinations.len() as u32;
                let treatment = self
                    .ids
                    .iter()
                    .map(|&id| self.procedure_types[id as usize])
                    .max()
                    .unwrap_or(TreatmentType::Conservative);
                self.combinations.push(Combination {
                    category,
                    procedures_start: self.combination_procedures.len() as u32,
                    procedures_len: self.ids.len() as u32,
                    treatment,
                });
                self.combination_procedures.extend_from_slice(&self.ids);
                self.index.insert(self.key.as_slice().into(), slot);
                slot
            }
        };
        self.cases.push(CaseRow {
            combination,
            year,
            fen,
        });
    }
}

impl<'a> Reader<'a> {
    fn new(options: &'a BuildOptions, codes: &[&'a str], columns: Columns) -> Self {
        Reader {
            options,
            columns,
            procedure_ids: codes
                .iter()
                .enumerate()
                .map(|(i, c)| (*c, i as u32))
                .collect(),
            procedure_types: options.procedure_types.values().copied().collect(),
            categories: Vec::new(),
            category_index: FastMap::default(),
            combinations: Vec::new(),
            combination_procedures: Vec::new(),
            index: FastMap::default(),
            cases: Vec::new(),
            problems: Vec::new(),
            ignored_procedure_codes: 0,
            key: Vec::new(),
            ids: Vec::new(),
        }
    }

    fn category_id(&mut self, text: &str) -> u32 {
        match self.category_index.get(text) {
            Some(&c) => c,
            None => {
                let c = self.categories.len() as u32;
                self.categories.push(text.into());
                self.category_index.insert(text.into(), c);
                c
            }
        }
    }

    /// Takes over another reader's cases (another part of the same file).
    fn merge(&mut self, other: Reader<'_>) {
        let category_map: Vec<u32> = other
            .categories
            .iter()
            .map(|c| self.category_id(c))
            .collect();
        let mut combination_map = Vec::with_capacity(other.combinations.len());
        for c in &other.combinations {
            let start = c.procedures_start as usize;
            let procedures =
                &other.combination_procedures[start..start + c.procedures_len as usize];
            let category = category_map[c.category as usize];
            self.key.clear();
            self.key.extend_from_slice(&category.to_le_bytes());
            for id in procedures {
                self.key.extend_from_slice(&id.to_le_bytes());
            }
            let slot = match self.index.get(self.key.as_slice()) {
                Some(&slot) => slot,
                None => {
                    let slot = self.combinations.len() as u32;
                    self.combinations.push(Combination {
                        category,
                        procedures_start: self.combination_procedures.len() as u32,
                        procedures_len: c.procedures_len,
                        treatment: c.treatment,
                    });
                    self.combination_procedures.extend_from_slice(procedures);
                    self.index.insert(self.key.as_slice().into(), slot);
                    slot
                }
            };
            combination_map.push(slot);
        }
        self.cases.extend(other.cases.iter().map(|case| CaseRow {
            combination: combination_map[case.combination as usize],
            ..*case
        }));
        self.problems.extend(other.problems);
        self.ignored_procedure_codes += other.ignored_procedure_codes;
    }
}

/// Threads parsing the history while this thread reads on (the machine budget is 2 cores).
const PARSERS: usize = 2;

/// Builds a directory from a history CSV (columns in `FORMAT.md`), streaming it in chunks of
/// lines through the grouping CSV reader: memory holds the parsed cases (16 bytes each) and two
/// chunks, never the whole text.
pub fn build_from_csv<R: Read>(
    reader: R,
    options: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    check_options(options)?;
    let io = |e: std::io::Error| BuildError::Io {
        message: e.to_string(),
    };
    let input = match CsvInput::open(reader) {
        Ok(input) => input,
        // No header line: the first required column is the first thing missing.
        Err(HeaderError::Empty) => return Err(missing_column("year")),
        Err(HeaderError::NotUtf8) => {
            return Err(BuildError::BadHeader {
                why: "header is not UTF-8".into(),
            });
        }
        Err(HeaderError::Io(e)) => return Err(io(e)),
    };
    let header = input.header();
    let columns = read_header(header.strip_prefix('\u{feff}').unwrap_or(header))?;

    let codes: Vec<&str> = options.procedure_types.keys().map(String::as_str).collect();
    let mut parsers: [Reader<'_>; PARSERS] =
        std::array::from_fn(|_| Reader::new(options, &codes, columns));
    input.read_into(&mut parsers).map_err(io)?;
    let [mut reader, others @ ..] = parsers;
    for other in others {
        reader.merge(other);
    }
    if !reader.problems.is_empty() {
        let mut problems = reader.problems;
        problems.sort_by_key(|p| p.line);
        return Err(BuildError::InvalidRecords { problems });
    }
    History {
        options,
        codes: &codes,
        categories: reader.categories,
        combinations: reader.combinations,
        combination_procedures: reader.combination_procedures,
        cases: reader.cases,
        ignored_procedure_codes: reader.ignored_procedure_codes,
    }
    .assemble()
}

/// The history as read, ready to be turned into a directory.
struct History<'a> {
    options: &'a BuildOptions,
    codes: &'a [&'a str],
    categories: Vec<Box<str>>,
    combinations: Vec<Combination>,
    combination_procedures: Vec<u32>,
    /// Sorted by (combination, cost) in `assemble`.
    cases: Vec<CaseRow>,
    ignored_procedure_codes: u64,
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

    /// Trims one combination's cases (sorted by cost) and returns their sums.
    fn trimmed_sums(&self, cases: &[CaseRow]) -> Result<Sums, BuildError> {
        let (lower, upper) = match &self.options.trim {
            TrimPolicy::None => (i64::MIN, i64::MAX),
            TrimPolicy::Iqr {
                lower_multiple,
                upper_multiple,
            } => iqr_fences(cases, *lower_multiple, *upper_multiple),
        };
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

    fn assemble(mut self) -> Result<BuildOutput, BuildError> {
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
                fen: 0
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
        };
        Ok(BuildOutput { directory, report })
    }
}

/// Reads an amount in yuan with at most 2 decimals (`9000`, `9000.5`, `9000.50`, `-1`) as fen.
pub(crate) fn parse_fen(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    if whole.is_empty() || whole.len() > 15 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut fen: i64 = 0;
    for b in whole.bytes() {
        fen = fen * 10 + i64::from(b - b'0');
    }
    fen *= 100;
    if let Some(fraction) = fraction {
        if fraction.is_empty()
            || fraction.len() > 2
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut cents = 0;
        for b in fraction.bytes() {
            cents = cents * 10 + i64::from(b - b'0');
        }
        if fraction.len() == 1 {
            cents *= 10;
        }
        fen += cents;
    }
    Some(if negative { -fen } else { fen })
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
    use super::{CaseRow, iqr_fences, parse_fen};
    use kernel::Decimal;

    fn rows(fens: &[i64]) -> Vec<CaseRow> {
        fens.iter()
            .map(|&fen| CaseRow {
                combination: 0,
                year: 2024,
                fen,
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

    #[test]
    fn amounts_parse_to_fen() {
        let table = [
            ("9000", Some(900_000)),
            ("9000.5", Some(900_050)),
            ("9000.05", Some(900_005)),
            ("0", Some(0)),
            ("-1", Some(-100)),
            ("1.001", None),
            ("1.", None),
            (".5", None),
            (" 1", None),
            ("1e3", None),
            ("", None),
            ("-", None),
            ("1234567890123456", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_fen(text), expected, "{text:?}");
        }
    }
}
