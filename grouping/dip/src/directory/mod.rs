//! The DIP directory (病种目录库) as a value: its metadata, core and basic-level groups,
//! comprehensive groups, procedure types and auxiliary directory (DOMAIN.md §2 DIP), and how it is
//! read from and written to the `dip-directory/1` folder format described in `FORMAT.md`.
//!
//! Loading validates every table and reports every problem with its file and line; a directory
//! that loads is consistent (every procedure a combination names has a type, group codes are
//! unique, chapter ranges do not overlap). This module does not group cases: see
//! [`crate::grouper`].

use std::fmt;
use std::str::FromStr;

use kernel::{Decimal, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

mod read;
mod tables;
mod write;

pub(crate) use read::is_category3;

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

impl Directory {
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
}
