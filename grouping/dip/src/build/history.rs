//! Reading the history: each well-formed line becomes a case of its combination (category ×
//! typed procedures), every bad record a problem with its line.

use grouping_domain::csv::{Line, LineFault, LineWorker};
use grouping_domain::hash::FastMap;

use super::auxiliary::{AuxiliaryInputs, CaseFacts, OptionalColumns};
use super::{BuildError, BuildOptions, RecordProblem, RecordProblemKind};
use crate::directory::{TreatmentType, is_category3};
use crate::grouper::{DISCHARGE_TYPES, diagnosis_category};

/// One combination of the history: its category and typed procedures.
pub(super) struct Combination {
    pub(super) category: u32,
    /// Range in the flat procedure-id list.
    pub(super) procedures_start: u32,
    pub(super) procedures_len: u32,
    pub(super) treatment: TreatmentType,
}

/// One case of the history, reduced to what the build needs.
#[derive(Clone, Copy)]
pub(super) struct CaseRow {
    pub(super) combination: u32,
    /// The year as read; its position in the window once the cases are placed by combination.
    pub(super) year: i32,
    pub(super) fen: i64,
    /// The auxiliary subtypes the case falls in, a bit set over `AuxiliarySubtype::index`.
    pub(super) subtypes: u16,
}

/// Upper bound of a case cost in fen (10^10 yuan): keeps every sum inside the decimal range.
const MAX_COST_FEN: i64 = 1_000_000_000_000;

#[derive(Clone, Copy)]
pub(super) struct Columns {
    year: usize,
    diagnosis: usize,
    procedures: usize,
    cost: usize,
    secondary_diagnoses: Option<usize>,
    discharge_type: Option<usize>,
    los_days: Option<usize>,
    age_years: Option<usize>,
    age_days: Option<usize>,
}

impl Columns {
    pub(super) fn optional(&self) -> OptionalColumns {
        OptionalColumns {
            secondary_diagnoses: self.secondary_diagnoses.is_some(),
            discharge_and_los: self.discharge_type.is_some() && self.los_days.is_some(),
            age_years: self.age_years.is_some(),
        }
    }
}

/// A whole number ≥ 0 written with digits only.
fn whole_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A whole-number field: `None` when absent, `bad` with its text when it is not one.
fn whole_field(
    text: Option<&str>,
    bad: fn(String) -> RecordProblemKind,
) -> Result<Option<u32>, RecordProblemKind> {
    text.map(|text| whole_number(text).ok_or_else(|| bad(text.to_owned())))
        .transpose()
}

/// The auxiliary fields of a record, checked as the grouper checks a case.
fn case_facts<'l>(
    columns: &Columns,
    line: &Line<'l>,
    principal_diagnosis: &'l str,
    procedures: &'l str,
) -> Result<CaseFacts<'l>, RecordProblemKind> {
    let secondary_diagnoses = columns.secondary_diagnoses.map_or("", |i| line.field(i));
    if !secondary_diagnoses.is_empty()
        && secondary_diagnoses
            .split('|')
            .any(|code| code.is_empty() || code.chars().any(char::is_whitespace))
    {
        return Err(RecordProblemKind::BadSecondaryDiagnoses {
            value: secondary_diagnoses.to_owned(),
        });
    }
    let discharge_type = match columns.discharge_type.map(|i| line.field(i)) {
        None => None,
        Some(text) => Some(
            whole_number(text)
                .and_then(|v| u8::try_from(v).ok())
                .filter(|v| DISCHARGE_TYPES.contains(v))
                .ok_or_else(|| RecordProblemKind::BadDischargeType {
                    value: text.to_owned(),
                })?,
        ),
    };
    let field = |column: Option<usize>| column.map(|i| line.field(i));
    let los_days = whole_field(field(columns.los_days), |value| {
        RecordProblemKind::BadLosDays { value }
    })?;
    let age_years = whole_field(field(columns.age_years), |value| {
        RecordProblemKind::BadAgeYears { value }
    })?;
    // Left empty above one year, as a grouped case's age in days.
    let age_days = whole_field(
        field(columns.age_days).filter(|text| !text.is_empty()),
        |value| RecordProblemKind::BadAgeDays { value },
    )?;
    // As a grouped case: under one year the bands need the age in days.
    if age_years == Some(0) && age_days.is_none() {
        return Err(RecordProblemKind::MissingAgeDays);
    }
    Ok(CaseFacts {
        principal_diagnosis,
        secondary_diagnoses,
        procedures,
        death: discharge_type.zip(los_days),
        age: age_years.map(|years| (years, age_days)),
    })
}

pub(super) fn missing_column(name: &str) -> BuildError {
    BuildError::BadHeader {
        why: format!("column {name} is missing"),
    }
}

pub(super) fn read_header(line: &str) -> Result<Columns, BuildError> {
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
    let optional = |name: &str| -> Result<Option<usize>, BuildError> {
        if names.contains(&name) {
            find(name).map(Some)
        } else {
            Ok(None)
        }
    };
    let columns = Columns {
        year: find("year")?,
        diagnosis: find("principal_diagnosis")?,
        procedures: find("procedures")?,
        cost: find("total_cost")?,
        secondary_diagnoses: optional("secondary_diagnoses")?,
        discharge_type: optional("discharge_type")?,
        los_days: optional("los_days")?,
        age_years: optional("age_years")?,
        age_days: optional("age_days")?,
    };
    const KNOWN: [&str; 11] = [
        "year",
        "principal_diagnosis",
        "procedures",
        "total_cost",
        "hospital_level",
        "case_id",
        "secondary_diagnoses",
        "discharge_type",
        "los_days",
        "age_years",
        "age_days",
    ];
    if let Some(unknown) = names.iter().find(|n| !KNOWN.contains(n)) {
        return Err(BuildError::BadHeader {
            why: format!("unknown column {unknown:?}"),
        });
    }
    Ok(columns)
}

/// Reads the history CSV and accumulates cases per combination.
pub(super) struct Reader<'a> {
    options: &'a BuildOptions,
    columns: Columns,
    auxiliary: &'a AuxiliaryInputs,
    procedure_ids: FastMap<&'a str, u32>,
    procedure_types: Vec<TreatmentType>,
    pub(super) categories: Vec<Box<str>>,
    category_index: FastMap<Box<str>, u32>,
    pub(super) combinations: Vec<Combination>,
    pub(super) combination_procedures: Vec<u32>,
    index: FastMap<Box<[u8]>, u32>,
    pub(super) cases: Vec<CaseRow>,
    pub(super) problems: Vec<RecordProblem>,
    pub(super) ignored_procedure_codes: u64,
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
        let procedures = line.field(columns.procedures);
        let facts = match case_facts(&columns, &line, diagnosis, procedures) {
            Ok(facts) => facts,
            Err(kind) => return problem(kind),
        };
        if !self.problems.is_empty() {
            return; // the build fails anyway: only keep looking for problems
        }
        let subtypes = self.auxiliary.classify(&facts);
        self.ids.clear();
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
            subtypes,
        });
    }
}

impl<'a> Reader<'a> {
    pub(super) fn new(
        options: &'a BuildOptions,
        codes: &[&'a str],
        columns: Columns,
        auxiliary: &'a AuxiliaryInputs,
    ) -> Self {
        Reader {
            options,
            columns,
            auxiliary,
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
    pub(super) fn merge(&mut self, other: Reader<'_>) {
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

#[cfg(test)]
mod tests {
    use super::parse_fen;

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
