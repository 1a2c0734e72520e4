//! The DIP directory (病种目录库) as a value: its metadata, core and basic-level groups,
//! comprehensive groups, procedure types and auxiliary directory (DOMAIN.md §2 DIP), and how it is
//! read from and written to the `dip-directory/1` folder format described in `FORMAT.md`.
//!
//! Loading validates every table and reports every problem with its file and line; a directory
//! that loads is consistent (every procedure a combination names has a type, group codes are
//! unique, chapter ranges do not overlap). This module does not group cases: see
//! [`crate::grouper`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use kernel::{Decimal, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use crate::error::{DirectoryError, Problem, ProblemKind};

/// The format tag `directory.json` must carry.
pub const FORMAT: &str = "dip-directory/1";

/// Treatment type of a group or a case, in DOMAIN.md §2 order:
/// conservative < diagnostic < therapeutic < interventional < surgical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentType {
    /// 保守治疗: no procedure.
    Conservative,
    /// 诊断性操作.
    Diagnostic,
    /// 治疗性操作.
    Therapeutic,
    /// 介入治疗.
    Interventional,
    /// 手术.
    Surgical,
}

impl TreatmentType {
    /// Every treatment type, lowest first.
    pub const ALL: [TreatmentType; 5] = [
        TreatmentType::Conservative,
        TreatmentType::Diagnostic,
        TreatmentType::Therapeutic,
        TreatmentType::Interventional,
        TreatmentType::Surgical,
    ];

    /// The name used in the TSV tables.
    pub fn as_str(self) -> &'static str {
        match self {
            TreatmentType::Conservative => "conservative",
            TreatmentType::Diagnostic => "diagnostic",
            TreatmentType::Therapeutic => "therapeutic",
            TreatmentType::Interventional => "interventional",
            TreatmentType::Surgical => "surgical",
        }
    }

    /// Reads a TSV name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Position in [`TreatmentType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for TreatmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a diagnosis × treatment group is a core group, a basic-level group (基层病种: a core
/// group paid at one price at every hospital level) or a comprehensive group (综合病种).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// 核心病种.
    Core,
    /// 基层病种.
    Basic,
    /// 综合病种.
    Comprehensive,
}

impl GroupKind {
    /// The name used in the TSV tables and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Core => "core",
            GroupKind::Basic => "basic",
            GroupKind::Comprehensive => "comprehensive",
        }
    }
}

/// A procedure combination: every term must be matched (`+`, all of), a term is matched by any
/// one of its codes (`/`, any of). `47.0100/47.0900+54.9100` = (47.0100 or 47.0900) and 54.9100.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcedureCombination {
    /// The `+` terms in written order; each holds its `/` alternatives in written order.
    pub all_of: Vec<Vec<String>>,
}

impl ProcedureCombination {
    /// Every code the combination names, in written order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.all_of.iter().flatten().map(String::as_str)
    }
}

/// Why a combination text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CombinationSyntaxError(pub String);

impl FromStr for ProcedureCombination {
    type Err = CombinationSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut all_of = Vec::new();
        for term in text.split('+') {
            let mut any_of = Vec::new();
            for code in term.split('/') {
                if code.is_empty() {
                    return Err(CombinationSyntaxError(format!(
                        "{text:?} has an empty code (check `+` and `/`)"
                    )));
                }
                if code.chars().any(char::is_whitespace) {
                    return Err(CombinationSyntaxError(format!(
                        "{text:?} contains white space"
                    )));
                }
                if any_of.iter().any(|c: &String| c == code) {
                    return Err(CombinationSyntaxError(format!(
                        "{text:?} repeats {code} inside one term"
                    )));
                }
                any_of.push(code.to_owned());
            }
            all_of.push(any_of);
        }
        Ok(Self { all_of })
    }
}

impl fmt::Display for ProcedureCombination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.all_of.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(&term.join("/"))?;
        }
        Ok(())
    }
}

/// A core or basic-level group: principal diagnosis category (first 5 characters of the code) ×
/// treatment (DOMAIN.md §2 DIP, core groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreGroup {
    pub code: String,
    pub name: String,
    /// [`GroupKind::Core`] or [`GroupKind::Basic`].
    pub kind: GroupKind,
    /// First 5 characters of the principal diagnosis, e.g. `K35.8`.
    pub diagnosis_category: String,
    /// The highest type among the combination's procedures; conservative when there is none.
    pub treatment: TreatmentType,
    /// `None` for a conservative group (matched by cases without a typed procedure).
    pub procedures: Option<ProcedureCombination>,
    pub score: Points,
    pub mean_cost: Money,
}

/// The diagnoses a comprehensive group covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DiagnosisScope {
    /// One 3-character category, e.g. `K35`.
    Category(String),
    /// A chapter range of 3-character categories, both ends included, e.g. `A00`–`B99`.
    Range { first: String, last: String },
}

impl DiagnosisScope {
    /// Whether the 3-character category lies in this scope.
    pub fn contains(&self, category3: &str) -> bool {
        match self {
            DiagnosisScope::Category(c) => c == category3,
            DiagnosisScope::Range { first, last } => {
                first.as_str() <= category3 && category3 <= last.as_str()
            }
        }
    }
}

impl fmt::Display for DiagnosisScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiagnosisScope::Category(c) => f.write_str(c),
            DiagnosisScope::Range { first, last } => write!(f, "{first}-{last}"),
        }
    }
}

/// A comprehensive group (综合病种): the residue by diagnosis category or chapter × treatment type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComprehensiveGroup {
    pub code: String,
    pub name: String,
    pub diagnosis: DiagnosisScope,
    pub treatment: TreatmentType,
    pub score: Points,
    pub mean_cost: Money,
}

/// The type of one procedure code (ICD-9-CM-3 医保版 2.0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcedureType {
    pub code: String,
    /// Never [`TreatmentType::Conservative`].
    pub treatment: TreatmentType,
    pub name: String,
}

/// An auxiliary-directory dimension (辅助目录, DOMAIN.md §2 DIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuxiliaryDimension {
    /// Death within 3 days or later.
    Death,
    /// Tumour severity: metastasis, radiotherapy, chemotherapy.
    Tumour,
    /// Charlson comorbidity index band.
    Cci,
    /// Age band.
    Age,
}

impl AuxiliaryDimension {
    /// The `dimension` text of `auxiliary.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuxiliaryDimension::Death => "death",
            AuxiliaryDimension::Tumour => "tumour",
            AuxiliaryDimension::Cci => "cci",
            AuxiliaryDimension::Age => "age",
        }
    }
}

/// An auxiliary subtype. The declaration order is the tie-break when two applicable subtypes have
/// the same coefficient (earlier wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuxiliarySubtype {
    /// Died, length of stay below 3 days (IV-A).
    DeathWithin3Days,
    /// Died after 3 or more days (IV-B).
    DeathAfter3Days,
    Metastasis,
    Radiotherapy,
    Chemotherapy,
    /// CCI 0.
    Cci0,
    /// CCI 1–2.
    Cci1To2,
    /// CCI 3–4.
    Cci3To4,
    /// CCI ≥ 5.
    Cci5Plus,
    /// 0–28 days.
    Age0To28Days,
    /// 29 days to under 1 year.
    Age29DaysTo1Year,
    /// 1–6 years.
    Age1To6Years,
    /// 7–17 years.
    Age7To17Years,
    /// 66 years and older.
    Age66Plus,
}

impl AuxiliarySubtype {
    /// Every subtype in tie-break order.
    pub const ALL: [AuxiliarySubtype; 14] = [
        AuxiliarySubtype::DeathWithin3Days,
        AuxiliarySubtype::DeathAfter3Days,
        AuxiliarySubtype::Metastasis,
        AuxiliarySubtype::Radiotherapy,
        AuxiliarySubtype::Chemotherapy,
        AuxiliarySubtype::Cci0,
        AuxiliarySubtype::Cci1To2,
        AuxiliarySubtype::Cci3To4,
        AuxiliarySubtype::Cci5Plus,
        AuxiliarySubtype::Age0To28Days,
        AuxiliarySubtype::Age29DaysTo1Year,
        AuxiliarySubtype::Age1To6Years,
        AuxiliarySubtype::Age7To17Years,
        AuxiliarySubtype::Age66Plus,
    ];

    /// The dimension this subtype splits.
    pub fn dimension(self) -> AuxiliaryDimension {
        use AuxiliarySubtype::*;
        match self {
            DeathWithin3Days | DeathAfter3Days => AuxiliaryDimension::Death,
            Metastasis | Radiotherapy | Chemotherapy => AuxiliaryDimension::Tumour,
            Cci0 | Cci1To2 | Cci3To4 | Cci5Plus => AuxiliaryDimension::Cci,
            Age0To28Days | Age29DaysTo1Year | Age1To6Years | Age7To17Years | Age66Plus => {
                AuxiliaryDimension::Age
            }
        }
    }

    /// The `subtype` text of `auxiliary.tsv`.
    pub fn as_str(self) -> &'static str {
        use AuxiliarySubtype::*;
        match self {
            DeathWithin3Days => "within_3_days",
            DeathAfter3Days => "after_3_days",
            Metastasis => "metastasis",
            Radiotherapy => "radiotherapy",
            Chemotherapy => "chemotherapy",
            Cci0 => "0",
            Cci1To2 => "1-2",
            Cci3To4 => "3-4",
            Cci5Plus => "5+",
            Age0To28Days => "0-28d",
            Age29DaysTo1Year => "29d-1y",
            Age1To6Years => "1-6y",
            Age7To17Years => "7-17y",
            Age66Plus => "66y+",
        }
    }

    /// Reads a (dimension, subtype) pair of `auxiliary.tsv`.
    pub fn parse(dimension: &str, subtype: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.dimension().as_str() == dimension && s.as_str() == subtype)
    }

    /// Position in [`AuxiliarySubtype::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which groups an auxiliary row applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuxiliaryScope {
    /// `*`: every group without a row of its own for the same subtype.
    AllGroups,
    Group(String),
}

/// One coefficient of the auxiliary directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuxiliaryCoefficient {
    pub scope: AuxiliaryScope,
    pub subtype: AuxiliarySubtype,
    /// Positive, at most 4 decimal places.
    pub coefficient: Decimal,
}

/// One row of the CCI weight table: secondary diagnoses starting with `prefix` are the
/// comorbidity `condition` with Charlson weight `weight`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CciWeight {
    pub prefix: String,
    pub weight: u32,
    pub condition: String,
}

/// A tumour-severity marker (DOMAIN.md §2 DIP, auxiliary directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TumourMarker {
    /// 转移.
    Metastasis,
    /// 放疗.
    Radiotherapy,
    /// 化疗.
    Chemotherapy,
}

impl TumourMarker {
    /// The `marker` text of `tumour_markers.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            TumourMarker::Metastasis => "metastasis",
            TumourMarker::Radiotherapy => "radiotherapy",
            TumourMarker::Chemotherapy => "chemotherapy",
        }
    }

    /// The auxiliary subtype this marker selects.
    pub fn subtype(self) -> AuxiliarySubtype {
        match self {
            TumourMarker::Metastasis => AuxiliarySubtype::Metastasis,
            TumourMarker::Radiotherapy => AuxiliarySubtype::Radiotherapy,
            TumourMarker::Chemotherapy => AuxiliarySubtype::Chemotherapy,
        }
    }
}

/// Where a tumour marker is looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerSource {
    /// A secondary diagnosis starts with the prefix.
    Diagnosis,
    /// A procedure starts with the prefix.
    Procedure,
}

/// One row of `tumour_markers.tsv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TumourMarkerRule {
    pub marker: TumourMarker,
    pub source: MarkerSource,
    pub prefix: String,
}

/// Row counts declared in `directory.json` (checked at load time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub core_groups: usize,
    pub basic_groups: usize,
    pub comprehensive_groups: usize,
    pub procedure_types: usize,
    pub auxiliary: usize,
    pub cci_weights: usize,
    pub tumour_markers: usize,
}

/// Table name → file name inside the directory folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    pub core_groups: String,
    pub comprehensive_groups: String,
    pub procedure_types: String,
    pub auxiliary: String,
    pub cci_weights: String,
    pub tumour_markers: String,
}

impl Default for Files {
    fn default() -> Self {
        Self {
            core_groups: "core_groups.tsv".into(),
            comprehensive_groups: "comprehensive_groups.tsv".into(),
            procedure_types: "procedure_types.tsv".into(),
            auxiliary: "auxiliary.tsv".into(),
            cci_weights: "cci_weights.tsv".into(),
            tumour_markers: "tumour_markers.tsv".into(),
        }
    }
}

/// The content of `directory.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryMeta {
    /// Always [`FORMAT`].
    pub format: String,
    pub id: String,
    pub name: String,
    pub version: String,
    /// Pooling region the directory is published for.
    pub region: RegionCode,
    pub year: i32,
    /// Score scale: score = mean cost / reference mean × scale (1000, 100 in some regions).
    pub score_scale: Decimal,
    /// M: the mean cost of all cases the scores were computed from.
    pub reference_mean_cost: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Bounds of the auxiliary subtypes; absent = the DOMAIN.md defaults.
    #[serde(default)]
    pub auxiliary_policy: AuxiliaryPolicy,
    pub counts: Counts,
    pub files: Files,
}

/// Bounds of the auxiliary subtypes (DOMAIN.md §2 DIP auxiliary directory). The subtype names
/// (`within_3_days`, `1-2`, `66y+` …) keep the default wording whatever the bounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuxiliaryPolicy {
    /// A death with a stay shorter than this many days is `within_3_days` (default 3).
    pub early_death_los_days: u32,
    /// Age in days up to which a baby is `0-28d` (default 28).
    pub newborn_max_days: u32,
    /// Oldest age in years of `1-6y` (default 6).
    pub young_child_max_years: u32,
    /// Oldest age in years of `7-17y` (default 17).
    pub minor_max_years: u32,
    /// Youngest age in years of `66y+` (default 66).
    pub elderly_min_years: u32,
    /// Highest CCI of band `1-2` (default 2).
    pub cci_mild_max: u32,
    /// Highest CCI of band `3-4` (default 4); above it: `5+`.
    pub cci_severe_max: u32,
}

impl Default for AuxiliaryPolicy {
    /// DOMAIN.md §2 DIP: CCI 0 / 1–2 / 3–4 / ≥ 5; death within 3 days; ages 0–28 d, 29 d–1 y,
    /// 1–6, 7–17, ≥ 66.
    fn default() -> Self {
        Self {
            early_death_los_days: 3,
            newborn_max_days: 28,
            young_child_max_years: 6,
            minor_max_years: 17,
            elderly_min_years: 66,
            cci_mild_max: 2,
            cci_severe_max: 4,
        }
    }
}

impl AuxiliaryPolicy {
    /// Why the bounds are inconsistent, if they are.
    pub fn problem(&self) -> Option<&'static str> {
        if self.newborn_max_days == 0 || self.newborn_max_days >= 365 {
            return Some("newborn_max_days must be between 1 and 364");
        }
        if !(1 <= self.young_child_max_years
            && self.young_child_max_years < self.minor_max_years
            && self.minor_max_years < self.elderly_min_years)
        {
            return Some("age bounds must satisfy 1 ≤ young_child_max < minor_max < elderly_min");
        }
        if !(1 <= self.cci_mild_max && self.cci_mild_max < self.cci_severe_max) {
            return Some("CCI bounds must satisfy 1 ≤ cci_mild_max < cci_severe_max");
        }
        None
    }
}

/// A whole DIP directory. Obtain one from [`Directory::load`], [`Directory::from_sources`],
/// [`crate::load_demo`] or [`crate::build::build_from_csv`]; compile it with
/// [`crate::CompiledDirectory::new`] to group cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directory {
    pub meta: DirectoryMeta,
    /// Core and basic-level groups.
    pub core_groups: Vec<CoreGroup>,
    pub comprehensive_groups: Vec<ComprehensiveGroup>,
    pub procedure_types: Vec<ProcedureType>,
    pub auxiliary: Vec<AuxiliaryCoefficient>,
    pub cci_weights: Vec<CciWeight>,
    pub tumour_markers: Vec<TumourMarkerRule>,
}

const CORE_HEADER: &[&str] = &[
    "code",
    "name",
    "kind",
    "diagnosis_category",
    "treatment",
    "procedures",
    "score",
    "mean_cost",
];
const COMPREHENSIVE_HEADER: &[&str] = &[
    "code",
    "name",
    "diagnosis",
    "treatment",
    "score",
    "mean_cost",
];
const PROCEDURE_HEADER: &[&str] = &["code", "type", "name"];
const AUXILIARY_HEADER: &[&str] = &["group", "dimension", "subtype", "coefficient"];
const CCI_HEADER: &[&str] = &["prefix", "weight", "condition"];
const TUMOUR_HEADER: &[&str] = &["marker", "source", "prefix"];

/// Collects problems while a directory is read.
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, file: &str, line: usize, kind: ProblemKind) {
        self.0.push(Problem {
            file: file.to_owned(),
            line,
            kind,
        });
    }
}

/// Rows of one TSV table: (line number, fields).
fn read_table<'a>(
    file: &str,
    text: &'a str,
    header: &[&str],
    problems: &mut Problems,
) -> Vec<(usize, Vec<&'a str>)> {
    let mut rows = Vec::new();
    let mut lines = text.split('\n');
    let found = lines.next().unwrap_or("");
    if found.starts_with('\u{feff}') {
        problems.push(file, 1, ProblemKind::ByteOrderMark);
    }
    let found_columns: Vec<&str> = found.split('\t').collect();
    if found_columns != header {
        problems.push(
            file,
            1,
            ProblemKind::BadHeader {
                expected: header.join(","),
                found: found_columns.join(","),
            },
        );
        return rows;
    }
    let body: Vec<&str> = lines.collect();
    let last = body.len();
    for (index, line) in body.into_iter().enumerate() {
        let line_no = index + 2;
        if line.is_empty() && index + 1 == last {
            break; // the newline that ends the file
        }
        if line.ends_with('\r') {
            problems.push(file, line_no, ProblemKind::CarriageReturn);
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != header.len() {
            problems.push(
                file,
                line_no,
                ProblemKind::FieldCount {
                    expected: header.len(),
                    found: fields.len(),
                },
            );
            continue;
        }
        rows.push((line_no, fields));
    }
    rows
}

fn bad_value(field: &'static str, value: &str, why: impl Into<String>) -> ProblemKind {
    ProblemKind::BadValue {
        field,
        value: value.to_owned(),
        why: why.into(),
    }
}

fn require(field: &'static str, value: &str) -> Result<(), ProblemKind> {
    if value.is_empty() {
        return Err(ProblemKind::EmptyField { field });
    }
    if value.trim() != value {
        return Err(bad_value(field, value, "leading or trailing white space"));
    }
    Ok(())
}

fn parse_score(value: &str) -> Result<Points, ProblemKind> {
    let score: Points = value
        .parse()
        .map_err(|e: kernel::AmountError| bad_value("score", value, e.to_string()))?;
    if score.is_negative() {
        return Err(ProblemKind::Negative {
            field: "score",
            value: value.to_owned(),
        });
    }
    Ok(score)
}

fn parse_mean(value: &str) -> Result<Money, ProblemKind> {
    let mean: Money = value
        .parse()
        .map_err(|e: kernel::AmountError| bad_value("mean_cost", value, e.to_string()))?;
    if mean.is_negative() {
        return Err(ProblemKind::Negative {
            field: "mean_cost",
            value: value.to_owned(),
        });
    }
    Ok(mean)
}

/// `A00`: an upper-case ASCII letter and two ASCII digits.
pub(crate) fn is_category3(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

/// `K35.8`, `I10.x`, `C20.x`: a 3-character category, a dot, one ASCII letter or digit.
pub(crate) fn is_category5(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5 && is_category3(&text[..3]) && b[3] == b'.' && b[4].is_ascii_alphanumeric()
}

fn parse_scope(value: &str) -> Result<DiagnosisScope, ProblemKind> {
    if is_category3(value) {
        return Ok(DiagnosisScope::Category(value.to_owned()));
    }
    if let Some((first, last)) = value.split_once('-')
        && is_category3(first)
        && is_category3(last)
    {
        if first > last {
            return Err(bad_value("diagnosis", value, "range starts after its end"));
        }
        return Ok(DiagnosisScope::Range {
            first: first.to_owned(),
            last: last.to_owned(),
        });
    }
    Err(bad_value(
        "diagnosis",
        value,
        "expected a 3-character category (K35) or a range (K00-K93)",
    ))
}

fn parse_coefficient(value: &str) -> Result<Decimal, ProblemKind> {
    let coefficient = Decimal::from_str(value)
        .map_err(|_| bad_value("coefficient", value, "not a decimal number"))?;
    if coefficient.normalize().scale() > Points::SCALE {
        return Err(bad_value(
            "coefficient",
            value,
            "more than 4 decimal places",
        ));
    }
    if coefficient <= Decimal::ZERO {
        return Err(bad_value("coefficient", value, "must be positive"));
    }
    Ok(coefficient)
}

impl Directory {
    /// Reads and validates the directory folder at `path` (its `directory.json` and tables).
    pub fn load(path: &Path) -> Result<Directory, DirectoryError> {
        let meta_path = path.join("directory.json");
        let json = std::fs::read_to_string(&meta_path).map_err(|e| DirectoryError::Io {
            path: meta_path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_sources(&json, |file| std::fs::read_to_string(path.join(file)).ok())
    }

    /// Reads and validates a directory from the text of `directory.json` and a function that
    /// returns the text of a table file by name (`None` when it does not exist).
    pub fn from_sources(
        directory_json: &str,
        mut read_file: impl FnMut(&str) -> Option<String>,
    ) -> Result<Directory, DirectoryError> {
        let mut problems = Problems(Vec::new());
        let meta: DirectoryMeta = match serde_json::from_str(directory_json) {
            Ok(meta) => meta,
            Err(e) => {
                problems.push(
                    "directory.json",
                    e.line(),
                    ProblemKind::Json {
                        message: e.to_string(),
                    },
                );
                return Err(DirectoryError::Invalid {
                    problems: problems.0,
                });
            }
        };
        if meta.format != FORMAT {
            problems.push(
                "directory.json",
                0,
                ProblemKind::UnsupportedFormat {
                    found: meta.format.clone(),
                },
            );
        }
        if meta.score_scale <= Decimal::ZERO {
            problems.push(
                "directory.json",
                0,
                bad_value(
                    "score_scale",
                    &meta.score_scale.to_string(),
                    "must be positive",
                ),
            );
        }
        if let Some(why) = meta.auxiliary_policy.problem() {
            problems.push("directory.json", 0, bad_value("auxiliary_policy", "", why));
        }
        let mut text_of = |file: &str, problems: &mut Problems| -> String {
            match read_file(file) {
                Some(text) => text,
                None => {
                    problems.push(file, 0, ProblemKind::MissingFile);
                    String::new()
                }
            }
        };
        let procedures_text = text_of(&meta.files.procedure_types, &mut problems);
        let core_text = text_of(&meta.files.core_groups, &mut problems);
        let comprehensive_text = text_of(&meta.files.comprehensive_groups, &mut problems);
        let auxiliary_text = text_of(&meta.files.auxiliary, &mut problems);
        let cci_text = text_of(&meta.files.cci_weights, &mut problems);
        let tumour_text = text_of(&meta.files.tumour_markers, &mut problems);
        if !problems.0.is_empty() {
            return Err(DirectoryError::Invalid {
                problems: problems.0,
            });
        }

        let procedure_types =
            read_procedure_types(&meta.files.procedure_types, &procedures_text, &mut problems);
        let type_of: HashMap<&str, TreatmentType> = procedure_types
            .iter()
            .map(|p| (p.code.as_str(), p.treatment))
            .collect();
        let mut group_lines: HashMap<String, (String, usize)> = HashMap::new();
        let core_groups = read_core_groups(
            &meta.files.core_groups,
            &core_text,
            &type_of,
            &mut group_lines,
            &mut problems,
        );
        let comprehensive_groups = read_comprehensive_groups(
            &meta.files.comprehensive_groups,
            &comprehensive_text,
            &mut group_lines,
            &mut problems,
        );
        let auxiliary = read_auxiliary(
            &meta.files.auxiliary,
            &auxiliary_text,
            &group_lines,
            &mut problems,
        );
        let cci_weights = read_cci(&meta.files.cci_weights, &cci_text, &mut problems);
        let tumour_markers = read_tumour(&meta.files.tumour_markers, &tumour_text, &mut problems);

        let directory = Directory {
            meta,
            core_groups,
            comprehensive_groups,
            procedure_types,
            auxiliary,
            cci_weights,
            tumour_markers,
        };
        let declared = &directory.meta.counts;
        let actual = directory.counts();
        let checks = [
            ("core_groups", declared.core_groups, actual.core_groups),
            ("basic_groups", declared.basic_groups, actual.basic_groups),
            (
                "comprehensive_groups",
                declared.comprehensive_groups,
                actual.comprehensive_groups,
            ),
            (
                "procedure_types",
                declared.procedure_types,
                actual.procedure_types,
            ),
            ("auxiliary", declared.auxiliary, actual.auxiliary),
            ("cci_weights", declared.cci_weights, actual.cci_weights),
            (
                "tumour_markers",
                declared.tumour_markers,
                actual.tumour_markers,
            ),
        ];
        // Counts are compared only when the tables read cleanly: otherwise every bad row would
        // also be reported as a count mismatch.
        if problems.0.is_empty() {
            for (table, declared, found) in checks {
                if declared != found {
                    problems.push(
                        "directory.json",
                        0,
                        ProblemKind::CountMismatch {
                            table,
                            declared,
                            found,
                        },
                    );
                }
            }
        }
        if problems.0.is_empty() {
            Ok(directory)
        } else {
            Err(DirectoryError::Invalid {
                problems: problems.0,
            })
        }
    }

    /// Row counts of the tables as they are now.
    pub fn counts(&self) -> Counts {
        Counts {
            core_groups: self
                .core_groups
                .iter()
                .filter(|g| g.kind == GroupKind::Core)
                .count(),
            basic_groups: self
                .core_groups
                .iter()
                .filter(|g| g.kind == GroupKind::Basic)
                .count(),
            comprehensive_groups: self.comprehensive_groups.len(),
            procedure_types: self.procedure_types.len(),
            auxiliary: self.auxiliary.len(),
            cci_weights: self.cci_weights.len(),
            tumour_markers: self.tumour_markers.len(),
        }
    }

    /// Writes the directory in the `dip-directory/1` format into the folder `dir_path`
    /// (created if missing); `directory.json` gets the current row counts.
    pub fn write(&self, dir_path: &Path) -> Result<(), DirectoryError> {
        let io = |path: &Path, e: std::io::Error| DirectoryError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let files = self.files()?;
        std::fs::create_dir_all(dir_path).map_err(|e| io(dir_path, e))?;
        for (name, text) in files {
            let path = dir_path.join(name);
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
        Ok(())
    }

    /// The directory in the `dip-directory/1` format as file name → text: `directory.json`
    /// (with the current row counts) and the tables under the names it gives them. What
    /// [`Directory::write`] writes, and what [`Directory::from_sources`] reads back.
    pub fn files(&self) -> Result<BTreeMap<String, String>, DirectoryError> {
        let mut meta = self.meta.clone();
        meta.counts = self.counts();
        let mut files = BTreeMap::new();
        for (table, text) in self.table_texts() {
            files.insert(meta_file(&meta.files, table), text);
        }
        let json = serde_json::to_string_pretty(&meta).map_err(|e| DirectoryError::Io {
            path: "directory.json".into(),
            message: e.to_string(),
        })? + "\n";
        files.insert("directory.json".to_owned(), json);
        Ok(files)
    }

    /// The TSV text of every table, keyed by logical table name.
    pub fn table_texts(&self) -> BTreeMap<&'static str, String> {
        let mut tables = BTreeMap::new();
        let mut core = tsv_header(CORE_HEADER);
        for g in &self.core_groups {
            let procedures = g
                .procedures
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            core.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                g.code,
                g.name,
                g.kind.as_str(),
                g.diagnosis_category,
                g.treatment,
                procedures,
                g.score,
                g.mean_cost
            ));
        }
        tables.insert("core_groups", core);
        let mut comprehensive = tsv_header(COMPREHENSIVE_HEADER);
        for g in &self.comprehensive_groups {
            comprehensive.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                g.code, g.name, g.diagnosis, g.treatment, g.score, g.mean_cost
            ));
        }
        tables.insert("comprehensive_groups", comprehensive);
        let mut procedures = tsv_header(PROCEDURE_HEADER);
        for p in &self.procedure_types {
            procedures.push_str(&format!("{}\t{}\t{}\n", p.code, p.treatment, p.name));
        }
        tables.insert("procedure_types", procedures);
        let mut auxiliary = tsv_header(AUXILIARY_HEADER);
        for a in &self.auxiliary {
            let scope = match &a.scope {
                AuxiliaryScope::AllGroups => "*",
                AuxiliaryScope::Group(code) => code.as_str(),
            };
            auxiliary.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                scope,
                a.subtype.dimension().as_str(),
                a.subtype.as_str(),
                a.coefficient
            ));
        }
        tables.insert("auxiliary", auxiliary);
        let mut cci = tsv_header(CCI_HEADER);
        for c in &self.cci_weights {
            cci.push_str(&format!("{}\t{}\t{}\n", c.prefix, c.weight, c.condition));
        }
        tables.insert("cci_weights", cci);
        let mut tumour = tsv_header(TUMOUR_HEADER);
        for t in &self.tumour_markers {
            let source = match t.source {
                MarkerSource::Diagnosis => "diagnosis",
                MarkerSource::Procedure => "procedure",
            };
            tumour.push_str(&format!(
                "{}\t{}\t{}\n",
                t.marker.as_str(),
                source,
                t.prefix
            ));
        }
        tables.insert("tumour_markers", tumour);
        tables
    }
}

fn meta_file(files: &Files, table: &str) -> String {
    match table {
        "core_groups" => files.core_groups.clone(),
        "comprehensive_groups" => files.comprehensive_groups.clone(),
        "procedure_types" => files.procedure_types.clone(),
        "auxiliary" => files.auxiliary.clone(),
        "cci_weights" => files.cci_weights.clone(),
        _ => files.tumour_markers.clone(),
    }
}

fn tsv_header(columns: &[&str]) -> String {
    let mut header = columns.join("\t");
    header.push('\n');
    header
}

fn read_procedure_types(file: &str, text: &str, problems: &mut Problems) -> Vec<ProcedureType> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (line, f) in read_table(file, text, PROCEDURE_HEADER, problems) {
        let row = (|| {
            require("code", f[0])?;
            let treatment = match TreatmentType::parse(f[1]) {
                Some(TreatmentType::Conservative) | None => {
                    return Err(bad_value(
                        "type",
                        f[1],
                        "expected diagnostic, therapeutic, interventional or surgical",
                    ));
                }
                Some(t) => t,
            };
            if let Some(first_line) = seen.insert(f[0], line) {
                return Err(ProblemKind::Duplicate {
                    what: "procedure code",
                    value: f[0].to_owned(),
                    first_line,
                });
            }
            Ok(ProcedureType {
                code: f[0].to_owned(),
                treatment,
                name: f[2].to_owned(),
            })
        })();
        match row {
            Ok(p) => out.push(p),
            Err(kind) => problems.push(file, line, kind),
        }
    }
    out
}

fn check_group_code(
    file: &str,
    line: usize,
    code: &str,
    group_lines: &mut HashMap<String, (String, usize)>,
) -> Result<(), ProblemKind> {
    require("code", code)?;
    if code == "*" {
        return Err(bad_value("code", code, "`*` is reserved"));
    }
    if let Some((first_file, first_line)) = group_lines.get(code) {
        return Err(ProblemKind::DuplicateGroup {
            code: code.to_owned(),
            first: format!("{first_file}:{first_line}"),
        });
    }
    group_lines.insert(code.to_owned(), (file.to_owned(), line));
    Ok(())
}

fn read_core_groups(
    file: &str,
    text: &str,
    type_of: &HashMap<&str, TreatmentType>,
    group_lines: &mut HashMap<String, (String, usize)>,
    problems: &mut Problems,
) -> Vec<CoreGroup> {
    let mut out = Vec::new();
    // (category, canonical combination) -> first line: one group per combination.
    let mut combinations: HashMap<(String, String), usize> = HashMap::new();
    for (line, f) in read_table(file, text, CORE_HEADER, problems) {
        let mut row_problems = Vec::new();
        if let Err(kind) = check_group_code(file, line, f[0], group_lines) {
            row_problems.push(kind);
        }
        let kind = match f[2] {
            "core" => Some(GroupKind::Core),
            "basic" => Some(GroupKind::Basic),
            other => {
                row_problems.push(bad_value("kind", other, "expected core or basic"));
                None
            }
        };
        if !is_category5(f[3]) {
            row_problems.push(bad_value(
                "diagnosis_category",
                f[3],
                "expected the first 5 characters of an ICD-10 code, e.g. K35.8",
            ));
        }
        let declared = TreatmentType::parse(f[4]);
        if declared.is_none() {
            row_problems.push(bad_value(
                "treatment",
                f[4],
                "expected conservative, diagnostic, therapeutic, interventional or surgical",
            ));
        }
        let procedures = if f[5].is_empty() {
            None
        } else {
            match f[5].parse::<ProcedureCombination>() {
                Ok(c) => Some(c),
                Err(CombinationSyntaxError(why)) => {
                    row_problems.push(bad_value("procedures", f[5], why));
                    None
                }
            }
        };
        let mut derived = TreatmentType::Conservative;
        let mut all_typed = procedures.is_some() || f[5].is_empty();
        if let Some(combination) = &procedures {
            for code in combination.codes() {
                match type_of.get(code) {
                    Some(t) => derived = derived.max(*t),
                    None => {
                        all_typed = false;
                        row_problems.push(ProblemKind::UnknownProcedure {
                            code: code.to_owned(),
                        });
                    }
                }
            }
        }
        if let Some(declared) = declared
            && declared != derived
            && all_typed
        {
            row_problems.push(ProblemKind::TreatmentMismatch {
                declared: declared.as_str(),
                derived: derived.as_str(),
            });
        }
        if !f[5].is_empty() {
            let key = (f[3].to_owned(), canonical_combination(procedures.as_ref()));
            if let Some(first_line) = combinations.get(&key) {
                row_problems.push(ProblemKind::Duplicate {
                    what: "diagnosis category and procedure combination",
                    value: format!("{} {}", f[3], f[5]),
                    first_line: *first_line,
                });
            } else {
                combinations.insert(key, line);
            }
        } else {
            let key = (f[3].to_owned(), String::new());
            if let Some(first_line) = combinations.get(&key) {
                row_problems.push(ProblemKind::Duplicate {
                    what: "conservative group of the category",
                    value: f[3].to_owned(),
                    first_line: *first_line,
                });
            } else {
                combinations.insert(key, line);
            }
        }
        let score = parse_score(f[6]).map_err(|k| row_problems.push(k)).ok();
        let mean = parse_mean(f[7]).map_err(|k| row_problems.push(k)).ok();
        if row_problems.is_empty()
            && let (Some(kind), Some(score), Some(mean_cost)) = (kind, score, mean)
        {
            out.push(CoreGroup {
                code: f[0].to_owned(),
                name: f[1].to_owned(),
                kind,
                diagnosis_category: f[3].to_owned(),
                treatment: derived,
                procedures,
                score,
                mean_cost,
            });
        }
        for kind in row_problems {
            problems.push(file, line, kind);
        }
    }
    out
}

/// Order-independent text of a combination, to find two rows naming the same one.
fn canonical_combination(combination: Option<&ProcedureCombination>) -> String {
    let Some(combination) = combination else {
        return String::new();
    };
    let mut terms: Vec<String> = combination
        .all_of
        .iter()
        .map(|term| {
            let mut codes = term.clone();
            codes.sort();
            codes.join("/")
        })
        .collect();
    terms.sort();
    terms.join("+")
}

fn read_comprehensive_groups(
    file: &str,
    text: &str,
    group_lines: &mut HashMap<String, (String, usize)>,
    problems: &mut Problems,
) -> Vec<ComprehensiveGroup> {
    let mut out: Vec<(usize, ComprehensiveGroup)> = Vec::new();
    for (line, f) in read_table(file, text, COMPREHENSIVE_HEADER, problems) {
        let mut row_problems = Vec::new();
        if let Err(kind) = check_group_code(file, line, f[0], group_lines) {
            row_problems.push(kind);
        }
        let scope = parse_scope(f[2]).map_err(|k| row_problems.push(k)).ok();
        let treatment = TreatmentType::parse(f[3]);
        if treatment.is_none() {
            row_problems.push(bad_value(
                "treatment",
                f[3],
                "expected conservative, diagnostic, therapeutic, interventional or surgical",
            ));
        }
        let score = parse_score(f[4]).map_err(|k| row_problems.push(k)).ok();
        let mean = parse_mean(f[5]).map_err(|k| row_problems.push(k)).ok();
        if let (Some(diagnosis), Some(treatment)) = (&scope, treatment) {
            // Two groups of one treatment may not claim the same category: grouping must be
            // unambiguous. A single category may sit inside a range (it is more specific).
            for (other_line, other) in &out {
                if other.treatment != treatment {
                    continue;
                }
                let clash = match (diagnosis, &other.diagnosis) {
                    (DiagnosisScope::Category(a), DiagnosisScope::Category(b)) => a == b,
                    (
                        DiagnosisScope::Range { first, last },
                        DiagnosisScope::Range {
                            first: other_first,
                            last: other_last,
                        },
                    ) => first <= other_last && other_first <= last,
                    _ => false,
                };
                if clash {
                    row_problems.push(ProblemKind::OverlappingScope {
                        scope: diagnosis.to_string(),
                        treatment: treatment.as_str(),
                        other_line: *other_line,
                    });
                }
            }
        }
        if row_problems.is_empty()
            && let (Some(diagnosis), Some(treatment), Some(score), Some(mean_cost)) =
                (scope, treatment, score, mean)
        {
            out.push((
                line,
                ComprehensiveGroup {
                    code: f[0].to_owned(),
                    name: f[1].to_owned(),
                    diagnosis,
                    treatment,
                    score,
                    mean_cost,
                },
            ));
        }
        for kind in row_problems {
            problems.push(file, line, kind);
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

fn read_auxiliary(
    file: &str,
    text: &str,
    group_lines: &HashMap<String, (String, usize)>,
    problems: &mut Problems,
) -> Vec<AuxiliaryCoefficient> {
    let mut seen: HashMap<(String, AuxiliarySubtype), usize> = HashMap::new();
    let mut out = Vec::new();
    for (line, f) in read_table(file, text, AUXILIARY_HEADER, problems) {
        let row = (|| {
            require("group", f[0])?;
            let scope = if f[0] == "*" {
                AuxiliaryScope::AllGroups
            } else if group_lines.contains_key(f[0]) {
                AuxiliaryScope::Group(f[0].to_owned())
            } else {
                return Err(ProblemKind::UnknownGroup {
                    code: f[0].to_owned(),
                });
            };
            let subtype = AuxiliarySubtype::parse(f[1], f[2]).ok_or_else(|| {
                bad_value(
                    "subtype",
                    &format!("{} {}", f[1], f[2]),
                    "unknown dimension or subtype (see FORMAT.md)",
                )
            })?;
            let coefficient = parse_coefficient(f[3])?;
            if let Some(first_line) = seen.insert((f[0].to_owned(), subtype), line) {
                return Err(ProblemKind::Duplicate {
                    what: "group and subtype",
                    value: format!("{} {} {}", f[0], f[1], f[2]),
                    first_line,
                });
            }
            Ok(AuxiliaryCoefficient {
                scope,
                subtype,
                coefficient,
            })
        })();
        match row {
            Ok(a) => out.push(a),
            Err(kind) => problems.push(file, line, kind),
        }
    }
    out
}

fn read_cci(file: &str, text: &str, problems: &mut Problems) -> Vec<CciWeight> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (line, f) in read_table(file, text, CCI_HEADER, problems) {
        let row = (|| {
            require("prefix", f[0])?;
            let weight: u32 = f[1]
                .parse()
                .ok()
                .filter(|w| (1..=6).contains(w))
                .ok_or_else(|| bad_value("weight", f[1], "expected a whole number 1 to 6"))?;
            require("condition", f[2])?;
            if let Some(first_line) = seen.insert(f[0], line) {
                return Err(ProblemKind::Duplicate {
                    what: "CCI prefix",
                    value: f[0].to_owned(),
                    first_line,
                });
            }
            Ok(CciWeight {
                prefix: f[0].to_owned(),
                weight,
                condition: f[2].to_owned(),
            })
        })();
        match row {
            Ok(c) => out.push(c),
            Err(kind) => problems.push(file, line, kind),
        }
    }
    // One condition, one weight: the index sums weights per condition.
    let mut weight_of: HashMap<&str, u32> = HashMap::new();
    for c in &out {
        if let Some(w) = weight_of.insert(c.condition.as_str(), c.weight)
            && w != c.weight
        {
            problems.push(
                file,
                0,
                bad_value(
                    "weight",
                    &c.weight.to_string(),
                    format!("condition {} has two weights", c.condition),
                ),
            );
        }
    }
    out
}

fn read_tumour(file: &str, text: &str, problems: &mut Problems) -> Vec<TumourMarkerRule> {
    let mut out = Vec::new();
    for (line, f) in read_table(file, text, TUMOUR_HEADER, problems) {
        let row = (|| {
            let marker = match f[0] {
                "metastasis" => TumourMarker::Metastasis,
                "radiotherapy" => TumourMarker::Radiotherapy,
                "chemotherapy" => TumourMarker::Chemotherapy,
                other => {
                    return Err(bad_value(
                        "marker",
                        other,
                        "expected metastasis, radiotherapy or chemotherapy",
                    ));
                }
            };
            let source = match f[1] {
                "diagnosis" => MarkerSource::Diagnosis,
                "procedure" => MarkerSource::Procedure,
                other => {
                    return Err(bad_value(
                        "source",
                        other,
                        "expected diagnosis or procedure",
                    ));
                }
            };
            require("prefix", f[2])?;
            Ok(TumourMarkerRule {
                marker,
                source,
                prefix: f[2].to_owned(),
            })
        })();
        match row {
            Ok(t) => out.push(t),
            Err(kind) => problems.push(file, line, kind),
        }
    }
    out
}
