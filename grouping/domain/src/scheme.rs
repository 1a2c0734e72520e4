//! The `drg-scheme/1` format (see the scheme README): the rule file `scheme.json` as serde types,
//! the code tables it names, and the loader that reads them from a directory or from in-memory
//! files and validates everything before the scheme may be compiled.
//!
//! Validation is strict on purpose: a scheme that uses a condition kind, an option value or a
//! field this engine does not implement is refused, never half-understood. All problems are
//! collected, each with its file and (for TSV tables) its line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::problem::{SchemeError, SchemeProblem};
use crate::tsv;

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

struct Loader<'a> {
    files: &'a HashMap<String, Vec<u8>>,
    problems: Vec<SchemeProblem>,
}

impl Loader<'_> {
    fn load(mut self, definition: SchemeDefinition) -> Result<Scheme, SchemeError> {
        let files = definition.files.clone();
        let counts = definition.counts.clone();
        let list_rows = self.table(&files.lists, &["list", "code"], counts.list_rows);
        let cc = self.table(&files.cc, &["code", "table"], counts.cc);
        let mcc = self.table(&files.mcc, &["code", "table"], counts.mcc);
        let cc_exclusion = self.table(&files.cc_exclusion, &["pdx", "table"], counts.cc_exclusion);
        let valid_or = self.table(
            &files.valid_or_procedures,
            &["code", "name"],
            counts.valid_or_procedures,
        );
        let drg_names = self.table(&files.drg_names, &["drg", "name"], counts.drg_names);
        let diagnoses = self.table(&files.diagnoses, &["code", "name"], counts.diagnoses);
        let procedures = self.table(&files.procedures, &["code", "name"], counts.procedures);
        let diagnosis_map = self.table(&files.diagnosis_map, &["from", "to"], counts.diagnosis_map);
        let procedure_map = self.table(&files.procedure_map, &["from", "to"], counts.procedure_map);

        // Keys must be unique and non-empty inside every table.
        self.unique_keys(&files.cc, &cc, "code");
        self.unique_keys(&files.mcc, &mcc, "code");
        self.unique_keys(&files.cc_exclusion, &cc_exclusion, "principal diagnosis");
        self.unique_keys(&files.valid_or_procedures, &valid_or, "code");
        self.unique_keys(&files.drg_names, &drg_names, "DRG");
        self.unique_keys(&files.diagnoses, &diagnoses, "code");
        self.unique_keys(&files.procedures, &procedures, "code");
        self.unique_keys(&files.diagnosis_map, &diagnosis_map, "code");
        self.unique_keys(&files.procedure_map, &procedure_map, "code");
        // A code may be both a CC and an MCC (changzhou-2022: J96.900x003): `has_cc` reads only
        // the CC table and `has_mcc` only the MCC table, so each row keeps its own meaning.
        let lists = self.lists(&definition, &files.lists, list_rows);

        let mut scheme = Scheme {
            definition,
            lists,
            cc: cc.into_iter().map(table_entry).collect(),
            mcc: mcc.into_iter().map(table_entry).collect(),
            cc_exclusion: cc_exclusion.into_iter().map(table_entry).collect(),
            valid_or_procedures: valid_or.into_iter().map(named_code).collect(),
            drg_names: drg_names.into_iter().map(named_code).collect(),
            diagnoses: diagnoses.into_iter().map(named_code).collect(),
            procedures: procedures.into_iter().map(named_code).collect(),
            diagnosis_map: diagnosis_map.into_iter().map(code_mapping).collect(),
            procedure_map: procedure_map.into_iter().map(code_mapping).collect(),
        };
        validate_rules(&scheme, &mut self.problems);
        if self.problems.is_empty() {
            // Lists are kept in declaration order so list indices are stable.
            scheme.lists.shrink_to_fit();
            Ok(scheme)
        } else {
            Err(SchemeError {
                problems: self.problems,
            })
        }
    }

    fn table(&mut self, file: &str, header: &[&str], declared: usize) -> Vec<tsv::Row> {
        let Some(bytes) = self.files.get(file) else {
            self.problems
                .push(SchemeProblem::in_file(file, "file missing"));
            return Vec::new();
        };
        let before = self.problems.len();
        let rows = tsv::parse(file, bytes, header, &mut self.problems);
        // A count mismatch is only meaningful when every row could be read.
        if self.problems.len() == before && rows.len() != declared {
            self.problems.push(SchemeProblem::in_file(
                file,
                format!(
                    "{} data row(s), but scheme.json counts declares {declared}",
                    rows.len()
                ),
            ));
        }
        rows
    }

    fn unique_keys(&mut self, file: &str, rows: &[tsv::Row], what: &str) {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
        for row in rows {
            let key = row.fields[0].as_str();
            if key.is_empty() {
                self.problems
                    .push(SchemeProblem::at(file, row.line, format!("empty {what}")));
            } else if let Some(first) = seen.insert(key, row.line) {
                self.problems.push(SchemeProblem::at(
                    file,
                    row.line,
                    format!("duplicate {what} {key} (first on line {first})"),
                ));
            }
        }
    }

    fn lists(
        &mut self,
        definition: &SchemeDefinition,
        file: &str,
        rows: Vec<tsv::Row>,
    ) -> Vec<CodeList> {
        let mut members: HashMap<String, (Vec<String>, HashMap<String, usize>)> = HashMap::new();
        let mut undeclared_reported: HashSet<String> = HashSet::new();
        for row in rows {
            let mut fields = row.fields.into_iter();
            let (Some(list), Some(code)) = (fields.next(), fields.next()) else {
                continue;
            };
            if !definition.lists.contains_key(&list) {
                if undeclared_reported.insert(list.clone()) {
                    self.problems.push(SchemeProblem::at(
                        file,
                        row.line,
                        format!("list {list} is not declared in scheme.json lists"),
                    ));
                }
                continue;
            }
            if code.is_empty() {
                self.problems.push(SchemeProblem::at(
                    file,
                    row.line,
                    format!("empty code in list {list}"),
                ));
                continue;
            }
            let (codes, seen) = members.entry(list.clone()).or_default();
            if let Some(first) = seen.get(&code) {
                self.problems.push(SchemeProblem::at(
                    file,
                    row.line,
                    format!("duplicate code {code} in list {list} (first on line {first})"),
                ));
                continue;
            }
            seen.insert(code.clone(), row.line);
            codes.push(code);
        }
        let mut lists = Vec::with_capacity(definition.lists.len());
        for (name, info) in &definition.lists {
            let codes = members
                .remove(name)
                .map(|(codes, _)| codes)
                .unwrap_or_default();
            if codes.len() != info.size {
                self.problems.push(SchemeProblem::in_file(
                    SCHEME_FILE,
                    format!(
                        "list {name} declares size {} but {file} has {} row(s)",
                        info.size,
                        codes.len()
                    ),
                ));
            }
            lists.push(CodeList {
                name: name.clone(),
                codes,
            });
        }
        if definition.counts.lists != definition.lists.len() {
            self.problems.push(SchemeProblem::in_file(
                SCHEME_FILE,
                format!(
                    "counts.lists is {} but {} lists are declared",
                    definition.counts.lists,
                    definition.lists.len()
                ),
            ));
        }
        lists
    }
}

fn table_entry(row: tsv::Row) -> TableEntry {
    let mut fields = row.fields.into_iter();
    TableEntry {
        code: fields.next().unwrap_or_default(),
        table: fields.next().unwrap_or_default(),
    }
}

fn named_code(row: tsv::Row) -> NamedCode {
    let mut fields = row.fields.into_iter();
    NamedCode {
        code: fields.next().unwrap_or_default(),
        name: fields.next().unwrap_or_default(),
    }
}

fn code_mapping(row: tsv::Row) -> CodeMapping {
    let mut fields = row.fields.into_iter();
    CodeMapping {
        from: fields.next().unwrap_or_default(),
        to: fields.next().unwrap_or_default(),
    }
}

/// Checks the rules against themselves and the tables (everything but TSV syntax).
fn validate_rules(scheme: &Scheme, problems: &mut Vec<SchemeProblem>) {
    let definition = &scheme.definition;
    let json = |message: String| SchemeProblem::in_file(SCHEME_FILE, message);

    if definition.format != FORMAT {
        problems.push(json(format!(
            "format is {:?}, this engine implements {FORMAT:?}",
            definition.format
        )));
    }
    if definition.newborn_max_age_days < 0 {
        problems.push(json("newborn_max_age_days is negative".to_owned()));
    }
    for status in &definition.statuses {
        if !KNOWN_STATUSES.contains(&status.code.as_str()) {
            problems.push(json(format!("unknown status {:?}", status.code)));
        }
    }

    let adrg_total: usize = definition.mdcs.iter().map(|mdc| mdc.adrgs.len()).sum();
    let drg_total: usize = definition
        .mdcs
        .iter()
        .flat_map(|mdc| &mdc.adrgs)
        .map(|adrg| adrg.drgs.len())
        .sum();
    for (what, declared, actual) in [
        ("mdcs", definition.counts.mdcs, definition.mdcs.len()),
        ("adrgs", definition.counts.adrgs, adrg_total),
        ("drgs", definition.counts.drgs, drg_total),
    ] {
        if declared != actual {
            problems.push(json(format!(
                "counts.{what} is {declared} but the rules have {actual}"
            )));
        }
    }

    // MDC order: every MDC exactly once.
    let mdc_codes: HashSet<&str> = definition.mdcs.iter().map(|m| m.code.as_str()).collect();
    let mut ordered = HashSet::new();
    for code in &definition.mdc_order {
        if !mdc_codes.contains(code.as_str()) {
            problems.push(json(format!("mdc_order names unknown MDC {code}")));
        }
        if !ordered.insert(code.as_str()) {
            problems.push(json(format!("mdc_order names {code} twice")));
        }
    }
    for mdc in &definition.mdcs {
        if !ordered.contains(mdc.code.as_str()) {
            problems.push(json(format!("MDC {} is missing from mdc_order", mdc.code)));
        }
    }

    let declared_lists: HashMap<&str, &CodeList> = scheme
        .lists
        .iter()
        .map(|list| (list.name.as_str(), list))
        .collect();
    let drg_names: HashSet<&str> = scheme.drg_names.iter().map(|d| d.code.as_str()).collect();
    let mut seen_mdcs = HashSet::new();
    let mut seen_adrgs = HashSet::new();
    let mut seen_drgs = HashSet::new();
    let check_code = |problems: &mut Vec<SchemeProblem>, what: &str, code: &str| {
        if code.is_empty() || code.len() > MAX_GROUP_CODE_LEN {
            problems.push(json(format!(
                "{what} code {code:?} must have 1 to {MAX_GROUP_CODE_LEN} bytes"
            )));
        }
    };
    for mdc in &definition.mdcs {
        check_code(problems, "MDC", &mdc.code);
        if !seen_mdcs.insert(mdc.code.as_str()) {
            problems.push(json(format!("MDC {} is defined twice", mdc.code)));
        }
        let path = format!("mdcs[{}].when", mdc.code);
        validate_condition(&mdc.when, &path, &declared_lists, problems);
        for adrg in &mdc.adrgs {
            check_code(problems, "ADRG", &adrg.code);
            if !seen_adrgs.insert(adrg.code.as_str()) {
                problems.push(json(format!("ADRG {} is defined twice", adrg.code)));
            }
            let path = format!("mdcs[{}].adrgs[{}]", mdc.code, adrg.code);
            validate_condition(
                &adrg.when,
                &format!("{path}.when"),
                &declared_lists,
                problems,
            );
            for split in &adrg.drgs {
                check_code(problems, "DRG", &split.drg);
                if !seen_drgs.insert(split.drg.as_str()) {
                    problems.push(json(format!("DRG {} is defined twice", split.drg)));
                }
                if !drg_names.contains(split.drg.as_str()) {
                    problems.push(json(format!(
                        "DRG {} of ADRG {} has no name in {}",
                        split.drg, adrg.code, definition.files.drg_names
                    )));
                }
                validate_condition(
                    &split.when,
                    &format!("{path}.drgs[{}].when", split.drg),
                    &declared_lists,
                    problems,
                );
            }
        }
        let ambiguity = &mdc.ambiguity;
        check_code(problems, "ambiguity DRG", &ambiguity.drg);
        validate_condition(
            &ambiguity.when,
            &format!("mdcs[{}].ambiguity.when", mdc.code),
            &declared_lists,
            problems,
        );
        // A null `after_adrg` places the rule before the MDC's first ADRG.
        if ambiguity.enabled
            && let Some(after) = &ambiguity.after_adrg
            && !mdc.adrgs.iter().any(|a| &a.code == after)
        {
            problems.push(json(format!(
                "enabled ambiguity rule of {} follows {after:?}, which is not an ADRG of that MDC",
                mdc.code
            )));
        }
    }
}

fn validate_condition(
    condition: &Condition,
    path: &str,
    lists: &HashMap<&str, &CodeList>,
    problems: &mut Vec<SchemeProblem>,
) {
    let report = |problems: &mut Vec<SchemeProblem>, message: String| {
        problems.push(SchemeProblem::in_file(
            SCHEME_FILE,
            format!("{path}: {message}"),
        ));
    };
    let check_list = |problems: &mut Vec<SchemeProblem>, name: &str| {
        if !lists.contains_key(name) {
            report(problems, format!("list {name} is not declared in lists"));
        }
    };
    match condition {
        Condition::Always(value)
        | Condition::PrincipalProcIsOr(value)
        | Condition::AnyProcIsOr(value)
        | Condition::HasMcc(value)
        | Condition::HasCc(value) => {
            if !*value {
                report(
                    problems,
                    format!(
                        "{} must be true (false is not implemented)",
                        condition.kind()
                    ),
                );
            }
        }
        Condition::All(items) | Condition::Any(items) => {
            if items.is_empty() {
                report(problems, format!("{} has no operands", condition.kind()));
            }
            for (index, item) in items.iter().enumerate() {
                validate_condition(
                    item,
                    &format!("{path}.{}[{index}]", condition.kind()),
                    lists,
                    problems,
                );
            }
        }
        Condition::Not(inner) => {
            validate_condition(inner, &format!("{path}.not"), lists, problems);
        }
        Condition::PdxIn(list)
        | Condition::AnyDxIn(list)
        | Condition::PrincipalProcIn(list)
        | Condition::AnyProcIn(list)
        | Condition::DeptIn(list)
        | Condition::AnySecondaryDxIn(list)
        | Condition::AnySecondaryProcIn(list)
        | Condition::LeavingTypeIn(list) => check_list(problems, list),
        Condition::Gender(value) => {
            if value != "M" && value != "F" {
                report(problems, format!("gender {value:?} is not \"M\" or \"F\""));
            }
        }
        Condition::AgeYearsEq(_)
        | Condition::AgeYearsLt(_)
        | Condition::AgeDaysLe(_)
        | Condition::WeightLt(_)
        | Condition::WeightGe(_)
        | Condition::AgeYearsLe(_)
        | Condition::AgeYearsGt(_)
        | Condition::AgeYearsGe(_)
        | Condition::LosDaysEq(_)
        | Condition::LosDaysLt(_)
        | Condition::LosDaysLe(_)
        | Condition::LosDaysGt(_)
        | Condition::LosDaysGe(_) => {}
        Condition::DxListsMin(operand) => {
            if operand.lists.is_empty() {
                report(problems, "dx_lists_min has no lists".to_owned());
            }
            for name in &operand.lists {
                check_list(problems, name);
            }
        }
    }
}
