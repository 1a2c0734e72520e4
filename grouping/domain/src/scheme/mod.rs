//! The `drg-scheme/1` format (see the scheme README): the rule file `scheme.json` as serde types,
//! the code tables it names, and the loader that reads them from a directory or from in-memory
//! files and validates everything before the scheme may be compiled.
//!
//! Validation is strict on purpose: a scheme that uses a condition kind, an option value or a
//! field this engine does not implement is refused, never half-understood. All problems are
//! collected, each with its file and (for TSV tables) its line.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::problem::{SchemeError, SchemeProblem};

mod load;
mod validate;

use load::Loader;
use validate::validate_rules;

/// The only format this engine implements.
pub const FORMAT: &str = "drg-scheme/1";

/// Name of the rule file inside a scheme folder or archive.
pub const SCHEME_FILE: &str = "scheme.json";

/// Longest MDC, ADRG or DRG code a scheme may use (results keep codes inline).
pub const MAX_GROUP_CODE_LEN: usize = 15;

/// The statuses a grouping can end with; a scheme may only describe these.
const KNOWN_STATUSES: [&str; 6] = [
    "SUCCESS",
    "FAIL",
    "CHECK_FAILED",
    "DX_NOT_MAPPED",
    "PROC_NOT_MAPPED",
    "AMBIGUOUS",
];

/// `scheme.json`: metadata, engine options and the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeDefinition {
    /// Must be [`FORMAT`].
    pub format: String,
    /// Short identifier, e.g. `chs-drg-1.1`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version text.
    pub version: String,
    /// Free text.
    pub description: String,
    /// Declared sizes, checked at load.
    pub counts: Counts,
    /// Logical table name -> file name.
    pub files: Files,
    /// Upper bound of the newborn age in days used by the input checks (step 3).
    pub newborn_max_age_days: i64,
    /// How raw input fields are read (step 3); absent means CHS-DRG 1.1 behaviour.
    #[serde(default, skip_serializing_if = "InputOptions::is_default")]
    pub input: InputOptions,
    /// Step 8: on `FAIL`, retry with each secondary procedure alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry_with_secondary_procedures: bool,
    /// Step 6: what an ADRG without a matching split gives.
    #[serde(default)]
    pub when_no_drg_matches: WhenNoDrgMatches,
    /// Status descriptions.
    pub statuses: Vec<StatusInfo>,
    /// Every list a rule uses, with its row count in the lists table.
    pub lists: BTreeMap<String, ListInfo>,
    /// Evaluation order of the MDCs.
    pub mdc_order: Vec<String>,
    /// The MDCs with their entry rules, ADRGs and DRG splits.
    pub mdcs: Vec<Mdc>,
}

/// Declared sizes of the rules and of every table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Counts {
    pub mdcs: usize,
    pub adrgs: usize,
    pub drgs: usize,
    pub lists: usize,
    pub list_rows: usize,
    pub cc: usize,
    pub mcc: usize,
    pub cc_exclusion: usize,
    pub valid_or_procedures: usize,
    pub diagnoses: usize,
    pub procedures: usize,
    pub diagnosis_map: usize,
    pub procedure_map: usize,
    pub drg_names: usize,
}

/// File names of the tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Files {
    pub lists: String,
    pub cc: String,
    pub mcc: String,
    pub cc_exclusion: String,
    pub valid_or_procedures: String,
    pub drg_names: String,
    pub diagnoses: String,
    pub procedures: String,
    pub diagnosis_map: String,
    pub procedure_map: String,
}

/// How the raw gender field is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenderInput {
    /// Any integer text equal to 1 or 2 (` 1`, `+1`, `01` are 1).
    #[default]
    Integer,
    /// Exactly the text `1` or `2`.
    Text,
}

/// Input reading options (step 3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputOptions {
    /// How gender is read.
    #[serde(default)]
    pub gender: GenderInput,
    /// Replaces an absent ageDay before the checks; a present non-integer ageDay then fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_age_days: Option<i64>,
    /// Replaces an absent weight before the checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_weight: Option<i64>,
}

impl InputOptions {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Step 6 option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenNoDrgMatches {
    /// The DRG is the ADRG code.
    #[default]
    UseAdrgCode,
    /// The ADRG counts as not matched; evaluation goes on with the next ADRG.
    TryNextAdrg,
}

/// One status description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct StatusInfo {
    pub code: String,
    pub label_zh: String,
    pub meaning: String,
}

/// A declared list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListInfo {
    /// Row count in the lists table.
    pub size: usize,
    /// Display label (trauma body regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A major diagnostic category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Mdc {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub when: Condition,
    pub adrgs: Vec<Adrg>,
    pub ambiguity: Ambiguity,
}

/// An adjacent DRG with its entry rule and splits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Adrg {
    pub code: String,
    pub name: String,
    pub when: Condition,
    pub drgs: Vec<DrgSplit>,
}

/// One DRG split of an ADRG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DrgSplit {
    pub drg: String,
    pub when: Condition,
}

/// Ambiguity rule of an MDC (step 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Ambiguity {
    pub enabled: bool,
    /// ADRG after which the rule applies; null places it before the MDC's first ADRG (right
    /// after the MDC's `when` is true).
    pub after_adrg: Option<String>,
    pub drg: String,
    pub when: Condition,
}

/// `dx_lists_min` operand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DxListsMin {
    /// Lists to count.
    pub lists: Vec<String>,
    /// How many of them must contain a diagnosis of the case.
    pub min: usize,
}

/// A rule condition: a JSON object with exactly one key (see the README's table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum Condition {
    Always(bool),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    PdxIn(String),
    AnyDxIn(String),
    PrincipalProcIn(String),
    AnyProcIn(String),
    PrincipalProcIsOr(bool),
    AnyProcIsOr(bool),
    Gender(String),
    AgeYearsEq(i64),
    AgeYearsLt(i64),
    AgeDaysLe(i64),
    WeightLt(i64),
    WeightGe(i64),
    DxListsMin(DxListsMin),
    HasMcc(bool),
    HasCc(bool),
    DeptIn(String),
    AnySecondaryDxIn(String),
    AnySecondaryProcIn(String),
    AgeYearsLe(i64),
    AgeYearsGt(i64),
    AgeYearsGe(i64),
    LosDaysEq(i64),
    LosDaysLt(i64),
    LosDaysLe(i64),
    LosDaysGt(i64),
    LosDaysGe(i64),
    LeavingTypeIn(String),
}

impl Condition {
    /// The snake_case kind, as written in `scheme.json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Always(_) => "always",
            Self::All(_) => "all",
            Self::Any(_) => "any",
            Self::Not(_) => "not",
            Self::PdxIn(_) => "pdx_in",
            Self::AnyDxIn(_) => "any_dx_in",
            Self::PrincipalProcIn(_) => "principal_proc_in",
            Self::AnyProcIn(_) => "any_proc_in",
            Self::PrincipalProcIsOr(_) => "principal_proc_is_or",
            Self::AnyProcIsOr(_) => "any_proc_is_or",
            Self::Gender(_) => "gender",
            Self::AgeYearsEq(_) => "age_years_eq",
            Self::AgeYearsLt(_) => "age_years_lt",
            Self::AgeDaysLe(_) => "age_days_le",
            Self::WeightLt(_) => "weight_lt",
            Self::WeightGe(_) => "weight_ge",
            Self::DxListsMin(_) => "dx_lists_min",
            Self::HasMcc(_) => "has_mcc",
            Self::HasCc(_) => "has_cc",
            Self::DeptIn(_) => "dept_in",
            Self::AnySecondaryDxIn(_) => "any_secondary_dx_in",
            Self::AnySecondaryProcIn(_) => "any_secondary_proc_in",
            Self::AgeYearsLe(_) => "age_years_le",
            Self::AgeYearsGt(_) => "age_years_gt",
            Self::AgeYearsGe(_) => "age_years_ge",
            Self::LosDaysEq(_) => "los_days_eq",
            Self::LosDaysLt(_) => "los_days_lt",
            Self::LosDaysLe(_) => "los_days_le",
            Self::LosDaysGt(_) => "los_days_gt",
            Self::LosDaysGe(_) => "los_days_ge",
            Self::LeavingTypeIn(_) => "leaving_type_in",
        }
    }

    /// Names of the lists this condition (and its operands) reads.
    pub fn list_names(&self, out: &mut Vec<String>) {
        match self {
            Self::All(items) | Self::Any(items) => {
                for item in items {
                    item.list_names(out);
                }
            }
            Self::Not(inner) => inner.list_names(out),
            Self::PdxIn(list)
            | Self::AnyDxIn(list)
            | Self::PrincipalProcIn(list)
            | Self::AnyProcIn(list)
            | Self::DeptIn(list)
            | Self::AnySecondaryDxIn(list)
            | Self::AnySecondaryProcIn(list)
            | Self::LeavingTypeIn(list) => out.push(list.clone()),
            Self::DxListsMin(operand) => out.extend(operand.lists.iter().cloned()),
            _ => {}
        }
    }
}

/// A named code list from the lists table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeList {
    /// List name, e.g. `BB1_PROC`.
    pub name: String,
    /// Member codes in source order.
    pub codes: Vec<String>,
}

/// A code with the CC/MCC exclusion table it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Diagnosis code.
    pub code: String,
    /// Exclusion table (opaque text).
    pub table: String,
}

/// A code with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCode {
    /// The code.
    pub code: String,
    /// Its name (Chinese).
    pub name: String,
}

/// One row of a code map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMapping {
    /// Input code.
    pub from: String,
    /// Code the grouper uses.
    pub to: String,
}

/// A validated scheme: rules plus every table, ready to be compiled with
/// [`CompiledScheme::compile`](crate::CompiledScheme::compile).
#[derive(Debug, Clone, PartialEq)]
pub struct Scheme {
    /// `scheme.json`.
    pub definition: SchemeDefinition,
    /// Declared lists in declaration order (empty lists included).
    pub lists: Vec<CodeList>,
    /// CC diagnoses.
    pub cc: Vec<TableEntry>,
    /// MCC diagnoses.
    pub mcc: Vec<TableEntry>,
    /// Principal diagnoses that exclude CC/MCCs of one table (`code` = the principal diagnosis).
    pub cc_exclusion: Vec<TableEntry>,
    /// Operating-room procedures.
    pub valid_or_procedures: Vec<NamedCode>,
    /// DRG names.
    pub drg_names: Vec<NamedCode>,
    /// Diagnosis dictionary.
    pub diagnoses: Vec<NamedCode>,
    /// Procedure dictionary.
    pub procedures: Vec<NamedCode>,
    /// Diagnosis input-code map.
    pub diagnosis_map: Vec<CodeMapping>,
    /// Procedure input-code map.
    pub procedure_map: Vec<CodeMapping>,
}

impl Scheme {
    /// Loads and validates a scheme folder (`scheme.json` and the files it names).
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, SchemeError> {
        let dir = dir.as_ref();
        let mut files = HashMap::new();
        let json = std::fs::read(dir.join(SCHEME_FILE)).map_err(|error| SchemeError {
            problems: vec![SchemeProblem::in_file(
                SCHEME_FILE,
                format!("cannot read {}: {error}", dir.join(SCHEME_FILE).display()),
            )],
        })?;
        // Read only the files scheme.json names; a broken scheme.json is reported by from_files.
        if let Ok(definition) = serde_json::from_slice::<SchemeDefinition>(&json) {
            for name in definition.files.all().map(|(_, name)| name) {
                if let Ok(bytes) = std::fs::read(dir.join(name)) {
                    files.insert(name.to_owned(), bytes);
                }
            }
        }
        files.insert(SCHEME_FILE.to_owned(), json);
        Self::from_files(&files)
    }

    /// Loads and validates a scheme from in-memory files (file name -> bytes), e.g. an
    /// uploaded archive. `scheme.json` must be present under [`SCHEME_FILE`].
    pub fn from_files(files: &HashMap<String, Vec<u8>>) -> Result<Self, SchemeError> {
        let Some(json) = files.get(SCHEME_FILE) else {
            return Err(SchemeError {
                problems: vec![SchemeProblem::in_file(SCHEME_FILE, "file missing")],
            });
        };
        let definition: SchemeDefinition = serde_json::from_slice(json).map_err(|error| {
            let line = (error.line() > 0).then_some(error.line());
            SchemeError {
                problems: vec![SchemeProblem {
                    file: SCHEME_FILE.to_owned(),
                    line,
                    message: error.to_string(),
                }],
            }
        })?;
        Loader {
            files,
            problems: Vec::new(),
        }
        .load(definition)
    }

    /// Validates a scheme built in memory (for example edited by a service) the same way the
    /// loaders do, without the table-format checks.
    pub fn validate(&self) -> Result<(), SchemeError> {
        let mut problems = Vec::new();
        validate_rules(self, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SchemeError { problems })
        }
    }
}

impl Files {
    /// Logical name and file name of every table.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("lists", self.lists.as_str()),
            ("cc", self.cc.as_str()),
            ("mcc", self.mcc.as_str()),
            ("cc_exclusion", self.cc_exclusion.as_str()),
            ("valid_or_procedures", self.valid_or_procedures.as_str()),
            ("drg_names", self.drg_names.as_str()),
            ("diagnoses", self.diagnoses.as_str()),
            ("procedures", self.procedures.as_str()),
            ("diagnosis_map", self.diagnosis_map.as_str()),
            ("procedure_map", self.procedure_map.as_str()),
        ]
        .into_iter()
    }
}
