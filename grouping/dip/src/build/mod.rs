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
//! 8. Auxiliary directory, for each dimension the history and the tables allow: every trimmed
//!    case is classified into subtypes as the grouper classifies it; a subtype with at least
//!    [`BuildOptions::auxiliary_min_cases`] cases gets coefficient = Σ weight × cost / Σ weight ×
//!    published mean of the case's group, rounded once to 4 places (`*` over every group, and a
//!    group's own row when the group alone has enough cases). A coefficient below 1 is kept: it is
//!    what the history says (a death within 3 days costs less than its group's mean).

mod assemble;
mod auxiliary;
mod history;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use grouping_domain::csv::{CsvInput, HeaderError};
use kernel::{Decimal, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use crate::directory::{
    AuxiliaryDimension, AuxiliaryPolicy, AuxiliarySubtype, Directory, GroupKind, TreatmentType,
};
use crate::error::{DirectoryError, Problem};
use assemble::History;
use auxiliary::AuxiliaryInputs;
use history::{Reader, missing_column, read_header};

pub(crate) use history::parse_fen;

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
    /// The CCI weight table, as the text of a `cci_weights.tsv` (FORMAT.md); with a
    /// `secondary_diagnoses` column in the history the build derives the CCI subtypes. Written to
    /// the directory's `cci_weights.tsv`. `None` = no CCI table.
    #[serde(default)]
    pub cci_weights_tsv: Option<String>,
    /// The tumour marker table, as the text of a `tumour_markers.tsv`; the build derives the
    /// tumour subtypes. Written to the directory's `tumour_markers.tsv`. `None` = no markers.
    #[serde(default)]
    pub tumour_markers_tsv: Option<String>,
    /// Bounds of the auxiliary subtypes, classified by and written to `directory.json`.
    #[serde(default)]
    pub auxiliary_policy: AuxiliaryPolicy,
    /// Trimmed cases a subtype needs for a coefficient (over every group for `*`, in the group
    /// alone for a group's own row); `None` = `min_cases`.
    #[serde(default)]
    pub auxiliary_min_cases: Option<u64>,
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
            cci_weights_tsv: None,
            tumour_markers_tsv: None,
            auxiliary_policy: AuxiliaryPolicy::default(),
            auxiliary_min_cases: None,
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
    #[error("secondary_diagnoses {value:?} has an empty code or one with white space")]
    BadSecondaryDiagnoses { value: String },
    #[error("discharge_type {value:?} is not one of 1, 2, 3, 4, 5, 9")]
    BadDischargeType { value: String },
    #[error("los_days {value:?} is not a whole number of days")]
    BadLosDays { value: String },
    #[error("age_years {value:?} is not a whole number of years")]
    BadAgeYears { value: String },
    #[error("age_days {value:?} is not a whole number of days")]
    BadAgeDays { value: String },
    #[error("age_days is required when age_years is 0")]
    MissingAgeDays,
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
            RecordProblemKind::BadSecondaryDiagnoses { .. } => "BAD_SECONDARY_DIAGNOSES",
            RecordProblemKind::BadDischargeType { .. } => "BAD_DISCHARGE_TYPE",
            RecordProblemKind::BadLosDays { .. } => "BAD_LOS_DAYS",
            RecordProblemKind::BadAgeYears { .. } => "BAD_AGE_YEARS",
            RecordProblemKind::BadAgeDays { .. } => "BAD_AGE_DAYS",
            RecordProblemKind::MissingAgeDays => "MISSING_AGE_DAYS",
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
    #[error("option {option} is not a valid table ({} problems), first: {}",
        problems.len(),
        problems.first().map_or(String::new(), ToString::to_string))]
    BadTable {
        /// `cci_weights_tsv` or `tumour_markers_tsv`.
        option: &'static str,
        /// Every problem, with its line (the header is line 1).
        problems: Vec<Problem>,
    },
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
            BuildError::BadTable { .. } => "BAD_AUXILIARY_TABLE",
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

/// One derived row of the auxiliary directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuxiliaryReport {
    /// A group code, or `*` for every group without a row of its own.
    pub group: String,
    pub dimension: AuxiliaryDimension,
    /// As written in `auxiliary.tsv` (`1-2`, `within_3_days` …).
    #[serde(serialize_with = "subtype_text")]
    pub subtype: AuxiliarySubtype,
    /// Trimmed cases of the subtype (in the group, or in every group for `*`).
    pub cases: u64,
    pub coefficient: Decimal,
}

fn subtype_text<S: serde::Serializer>(
    subtype: &AuxiliarySubtype,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(subtype.as_str())
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
    /// The derived auxiliary rows, as written to `auxiliary.tsv` (empty when no dimension could
    /// be derived).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auxiliary: Vec<AuxiliaryReport>,
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

/// Most history years a build accepts (DOMAIN.md §2 DIP uses 1–3).
pub const MAX_YEARS: usize = 5;

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
    if options.auxiliary_min_cases == Some(0) {
        return bad("auxiliary_min_cases", "must be at least 1");
    }
    if let Some(why) = options.auxiliary_policy.problem() {
        return bad("auxiliary_policy", why);
    }
    Ok(())
}

/// Threads parsing the history while this thread reads on (the machine budget is 2 cores).
const PARSERS: usize = 2;

/// Builds a directory from a history CSV (columns in `FORMAT.md`), streaming it in chunks of
/// lines through the grouping CSV reader: memory holds the parsed cases (24 bytes each) and two
/// chunks, never the whole text.
pub fn build_from_csv<R: Read>(
    reader: R,
    options: &BuildOptions,
) -> Result<BuildOutput, BuildError> {
    check_options(options)?;
    let tables = auxiliary::read_tables(options)?;
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
    let auxiliary = AuxiliaryInputs::new(options, tables, columns.optional());

    let codes: Vec<&str> = options.procedure_types.keys().map(String::as_str).collect();
    let mut parsers: [Reader<'_>; PARSERS] =
        std::array::from_fn(|_| Reader::new(options, &codes, columns, &auxiliary));
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
        auxiliary: &auxiliary,
    }
    .assemble()
}
