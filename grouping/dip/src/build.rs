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

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use kernel::{Decimal, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use crate::directory::{
    ComprehensiveGroup, CoreGroup, DiagnosisScope, Directory, DirectoryMeta, FORMAT, Files,
    GroupKind, ProcedureCombination, ProcedureType, TreatmentType, is_category3,
};
use crate::error::DirectoryError;
use crate::grouper::{CompiledDirectory, diagnosis_category};
use crate::stats::{Moments, quartile, riv};

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

/// One combination's cases while the history is read.
struct Combination {
    category: String,
    procedures: Vec<u32>,
    treatment: TreatmentType,
    /// (year, cost in fen).
    cases: Vec<(i32, i64)>,
}

/// Trimmed sums of a set of cases, per year position.
#[derive(Clone, Default)]
struct Sums {
    count_by_year: Vec<u64>,
    fen_by_year: Vec<i128>,
    count: u64,
    fen: i128,
    fen_squared: i128,
    trimmed: u64,
}

impl Sums {
    fn new(years: usize) -> Self {
        Sums {
            count_by_year: vec![0; years],
            fen_by_year: vec![0; years],
            ..Sums::default()
        }
    }

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
        for i in 0..self.count_by_year.len() {
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

struct Columns {
    year: usize,
    diagnosis: usize,
    procedures: usize,
    cost: usize,
    count: usize,
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
            (None, _) => Err(BuildError::BadHeader {
                why: format!("column {name} is missing"),
            }),
        }
    };
    let columns = Columns {
        year: find("year")?,
        diagnosis: find("principal_diagnosis")?,
        procedures: find("procedures")?,
        cost: find("total_cost")?,
        count: names.len(),
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
        && (lower_multiple.is_sign_negative() || upper_multiple.is_sign_negative())
    {
        return bad("trim", "multiples must not be negative");
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
    procedure_ids: HashMap<&'a str, u32>,
    procedure_types: Vec<TreatmentType>,
    combinations: Vec<Combination>,
    index: HashMap<String, u32>,
    problems: Vec<RecordProblem>,
    cases_read: u64,
    ignored_procedure_codes: u64,
    key: String,
    ids: Vec<u32>,
}

impl<'a> Reader<'a> {
    fn record(&mut self, line_no: usize, line: &str, columns: &Columns) {
        let mut problem = |kind| {
            self.problems.push(RecordProblem {
                line: line_no,
                kind,
            })
        };
        if line.contains('"') {
            return problem(RecordProblemKind::Quoted);
        }
        let mut fields: [&str; 6] = [""; 6];
        let mut found = 0;
        for field in line.split(',') {
            if found < fields.len() {
                fields[found] = field;
            }
            found += 1;
        }
        if found != columns.count {
            return problem(RecordProblemKind::FieldCount {
                expected: columns.count,
                found,
            });
        }
        let year_text = fields[columns.year];
        let Ok(year) = year_text.parse::<i32>() else {
            return problem(RecordProblemKind::BadYear {
                value: year_text.to_owned(),
            });
        };
        if !self.options.years.is_empty() && !self.options.years.contains(&year) {
            return problem(RecordProblemKind::YearOutsideWindow { year });
        }
        let diagnosis = fields[columns.diagnosis];
        if !diagnosis.is_ascii() || diagnosis.len() < 3 || !is_category3(&diagnosis[..3]) {
            return problem(RecordProblemKind::BadDiagnosis {
                value: diagnosis.to_owned(),
            });
        }
        let cost_text = fields[columns.cost];
        let fen = match cost_text.parse::<Money>().map(Money::to_fen) {
            Ok(Ok(fen)) if cost_text.trim() == cost_text => fen,
            _ => {
                return problem(RecordProblemKind::BadCost {
                    value: cost_text.to_owned(),
                });
            }
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
        self.cases_read += 1;
        self.ids.clear();
        let procedures = fields[columns.procedures];
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
        let category = diagnosis_category(diagnosis);
        self.key.clear();
        self.key.push_str(category);
        for id in &self.ids {
            self.key.push('|');
            self.key.push_str(&id.to_string());
        }
        let slot = match self.index.get(self.key.as_str()) {
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
                    category: category.to_owned(),
                    procedures: self.ids.clone(),
                    treatment,
                    cases: Vec::new(),
                });
                self.index.insert(self.key.clone(), slot);
                slot
            }
        };
        self.combinations[slot as usize].cases.push((year, fen));
    }
}

/// Builds a directory from a history CSV (columns in `FORMAT.md`), streaming it line by line.
pub fn build_from_csv<R: Read>(
    reader: R,
    options: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    check_options(options)?;
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let mut buffer = Vec::with_capacity(256);
    let io = |e: std::io::Error| BuildError::Io {
        message: e.to_string(),
    };
    input.read_until(b'\n', &mut buffer).map_err(io)?;
    let header = std::str::from_utf8(&buffer).map_err(|_| BuildError::BadHeader {
        why: "header is not UTF-8".into(),
    })?;
    let header = header.trim_end_matches('\n').trim_end_matches('\r');
    let header = header.strip_prefix('\u{feff}').unwrap_or(header);
    let columns = read_header(header)?;

    let codes: Vec<&str> = options.procedure_types.keys().map(String::as_str).collect();
    let mut reader = Reader {
        options,
        procedure_ids: codes
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u32))
            .collect(),
        procedure_types: options.procedure_types.values().copied().collect(),
        combinations: Vec::new(),
        index: HashMap::new(),
        problems: Vec::new(),
        cases_read: 0,
        ignored_procedure_codes: 0,
        key: String::new(),
        ids: Vec::new(),
    };
    let mut line_no = 1;
    loop {
        buffer.clear();
        let read = input.read_until(b'\n', &mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buffer) else {
            reader.problems.push(RecordProblem {
                line: line_no,
                kind: RecordProblemKind::NotUtf8,
            });
            continue;
        };
        let line = line.trim_end_matches('\n').trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        reader.record(line_no, line, &columns);
    }
    if !reader.problems.is_empty() {
        return Err(BuildError::InvalidRecords {
            problems: reader.problems,
        });
    }
    let Reader {
        combinations,
        cases_read,
        ignored_procedure_codes,
        ..
    } = reader;
    assemble(
        options,
        &codes,
        combinations,
        cases_read,
        ignored_procedure_codes,
    )
}

/// The build years and their weights.
fn window(
    options: &BuildOptions,
    combinations: &[Combination],
) -> Result<(Vec<i32>, Vec<Decimal>), BuildError> {
    if !options.years.is_empty() {
        return Ok((options.years.clone(), options.year_weights.clone()));
    }
    let mut years: Vec<i32> = combinations
        .iter()
        .flat_map(|c| c.cases.iter().map(|(y, _)| *y))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    years.sort_unstable();
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

/// Trims one combination's cases and returns its sums.
fn trimmed_sums(
    combination: &mut Combination,
    trim: &TrimPolicy,
    year_position: &HashMap<i32, usize>,
    years: usize,
) -> Result<Sums, BuildError> {
    combination.cases.sort_unstable_by_key(|(_, fen)| *fen);
    let (lower, upper) = match trim {
        TrimPolicy::None => (None, None),
        TrimPolicy::Iqr {
            lower_multiple,
            upper_multiple,
        } => {
            let sorted: Vec<i64> = combination.cases.iter().map(|(_, f)| *f).collect();
            match (quartile(&sorted, 1), quartile(&sorted, 3)) {
                (Some(q1), Some(q3)) => {
                    let iqr = q3 - q1;
                    (
                        Some(q1 - *lower_multiple * iqr),
                        Some(q3 + *upper_multiple * iqr),
                    )
                }
                _ => (None, None),
            }
        }
    };
    let mut sums = Sums::new(years);
    for &(year, fen) in &combination.cases {
        let cost = Decimal::from(fen);
        if lower.is_some_and(|l| cost < l) || upper.is_some_and(|u| cost > u) {
            sums.trimmed += 1;
            continue;
        }
        // Every year is in the window: records outside it were rejected while reading.
        if let Some(&position) = year_position.get(&year) {
            sums.add(position, fen)?;
        }
    }
    Ok(sums)
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

fn assemble(
    options: &BuildOptions,
    codes: &[&str],
    mut combinations: Vec<Combination>,
    cases_read: u64,
    ignored_procedure_codes: u64,
) -> Result<BuildOutput, BuildError> {
    let (years, weights) = window(options, &combinations)?;
    let year_position: HashMap<i32, usize> =
        years.iter().enumerate().map(|(i, y)| (*y, i)).collect();
    // Deterministic order: by category, then procedure codes (conservative first).
    combinations.sort_by(|a, b| {
        a.category.cmp(&b.category).then_with(|| {
            let ac = a.procedures.iter().map(|&i| codes[i as usize]);
            let bc = b.procedures.iter().map(|&i| codes[i as usize]);
            ac.cmp(bc)
        })
    });
    let mut sums = Vec::with_capacity(combinations.len());
    let mut all = Sums::new(years.len());
    for combination in &mut combinations {
        let s = trimmed_sums(combination, &options.trim, &year_position, years.len())?;
        all.merge(&s)?;
        sums.push(s);
    }
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
        Ok(Points::round(ratio))
    };
    let code_list = |c: &Combination| -> Vec<String> {
        c.procedures
            .iter()
            .map(|&i| codes[i as usize].to_owned())
            .collect()
    };

    // Core groups: combinations with at least min_cases cases (DOMAIN.md §2 DIP).
    let mut core_groups = Vec::new();
    let mut core_of_combination: Vec<Option<usize>> = vec![None; combinations.len()];
    let mut core_means: Vec<Decimal> = Vec::new();
    let mut per_category: HashMap<&str, u32> = HashMap::new();
    for (i, c) in combinations.iter().enumerate() {
        if (c.cases.len() as u64) < options.min_cases {
            continue;
        }
        let Some(mean) = sums[i].weighted_mean(&weights)? else {
            continue;
        };
        let number = if c.procedures.is_empty() {
            0
        } else {
            let n = per_category.entry(c.category.as_str()).or_insert(0);
            *n += 1;
            *n
        };
        let procedures = code_list(c);
        let combination = (!procedures.is_empty()).then(|| ProcedureCombination {
            all_of: procedures.iter().map(|p| vec![p.clone()]).collect(),
        });
        let name = match &combination {
            None => format!("{} {}", c.category, treatment_label(c.treatment)),
            Some(comb) => format!("{} {}", c.category, comb),
        };
        core_of_combination[i] = Some(core_groups.len());
        core_means.push(mean);
        core_groups.push(CoreGroup {
            code: format!("{}-{number:02}", c.category),
            name,
            kind: GroupKind::Core,
            diagnosis_category: c.category.clone(),
            treatment: c.treatment,
            procedures: combination,
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
    let core_only = Directory {
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
                years
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                weights
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(":")
            )),
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
    let compiled = CompiledDirectory::new(&core_only);

    // Every other combination: into a core group as the grouper would, else comprehensive.
    enum Target {
        Core(usize),
        Comprehensive(usize),
    }
    let mut targets = Vec::with_capacity(combinations.len());
    let mut comprehensive_keys: BTreeMap<(String, TreatmentType), usize> = BTreeMap::new();
    let mut comprehensive_index_of: Vec<(String, TreatmentType)> = Vec::new();
    for (i, c) in combinations.iter().enumerate() {
        if let Some(core) = core_of_combination[i] {
            targets.push(Target::Core(core));
            continue;
        }
        let mean = sums[i].weighted_mean(&weights)?.unwrap_or(Decimal::ZERO);
        let (ids, _) =
            compiled.typed_procedures(c.procedures.iter().map(|&p| codes[p as usize]), None);
        if let Some((group, _)) = compiled.best_core(&c.category, &ids, mean, None) {
            targets.push(Target::Core(group as usize));
            continue;
        }
        let key = (c.category[..3].to_owned(), c.treatment);
        let next = comprehensive_keys.len();
        let slot = *comprehensive_keys.entry(key.clone()).or_insert(next);
        if slot == next {
            comprehensive_index_of.push(key);
        }
        targets.push(Target::Comprehensive(slot));
    }

    let mut core_sums = vec![Sums::new(years.len()); core_only.core_groups.len()];
    let mut comprehensive_sums = vec![Sums::new(years.len()); comprehensive_index_of.len()];
    for (target, s) in targets.iter().zip(&sums) {
        match target {
            Target::Core(g) => core_sums[*g].merge(s)?,
            Target::Comprehensive(g) => comprehensive_sums[*g].merge(s)?,
        }
    }
    let mut comprehensive_groups = Vec::new();
    let mut comprehensive_means = Vec::new();
    // BTreeMap order: by category, then treatment.
    for ((category3, treatment), slot) in &comprehensive_keys {
        let mean = comprehensive_sums[*slot]
            .weighted_mean(&weights)?
            .unwrap_or(Decimal::ZERO);
        comprehensive_means.push((*slot, mean));
        comprehensive_groups.push(ComprehensiveGroup {
            code: format!("ZH-{category3}-{}", treatment_letter(*treatment)),
            name: format!("{category3} 综合病种 {}", treatment_label(*treatment)),
            diagnosis: DiagnosisScope::Category(category3.clone()),
            treatment: *treatment,
            score: score_of(mean)?,
            mean_cost: Money::round(mean),
        });
    }
    let comprehensive_code_of_slot: HashMap<usize, String> = comprehensive_keys
        .values()
        .zip(&comprehensive_groups)
        .map(|(slot, g)| (*slot, g.code.clone()))
        .collect();

    let mut groups = Vec::new();
    let mut moments = Vec::new();
    for (g, group) in core_only.core_groups.iter().enumerate() {
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
    for (group, (slot, mean)) in comprehensive_groups.iter().zip(&comprehensive_means) {
        let s = &comprehensive_sums[*slot];
        let m = s.moments()?;
        moments.push(m);
        groups.push(GroupReport {
            code: group.code.clone(),
            kind: GroupKind::Comprehensive,
            treatment: group.treatment,
            diagnosis: group.diagnosis.to_string(),
            procedures: String::new(),
            cases: s.count,
            trimmed_cases: s.trimmed,
            weighted_mean_cost: Money::round(*mean),
            cv: m.cv(),
            score: group.score,
        });
    }
    let combination_reports = combinations
        .iter()
        .zip(&targets)
        .zip(&sums)
        .map(|((c, target), s)| CombinationReport {
            diagnosis_category: c.category.clone(),
            procedures: code_list(c),
            treatment: c.treatment,
            cases: c.cases.len() as u64,
            trimmed_cases: s.trimmed,
            group: match target {
                Target::Core(g) => core_only.core_groups[*g].code.clone(),
                Target::Comprehensive(slot) => comprehensive_code_of_slot
                    .get(slot)
                    .cloned()
                    .unwrap_or_default(),
            },
        })
        .collect();
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
    let mut directory = core_only;
    directory.comprehensive_groups = comprehensive_groups;
    directory.meta.counts = directory.counts();
    let report = BuildReport {
        years: year_reports,
        cases_read,
        cases_trimmed: all.trimmed,
        ignored_procedure_codes,
        reference_mean_cost: reference_mean,
        groups,
        combinations: combination_reports,
        riv: riv(&moments),
    };
    Ok(BuildOutput { directory, report })
}
