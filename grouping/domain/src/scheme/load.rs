//! Reading a scheme's files: `scheme.json` and every code table it names, each problem kept with
//! its file and line, then the rules validated against the tables.

use std::collections::{HashMap, HashSet};

use super::validate::validate_rules;
use super::{
    CodeList, CodeMapping, NamedCode, SCHEME_FILE, Scheme, SchemeDefinition, SchemeError,
    SchemeProblem, TableEntry,
};
use crate::tsv;

pub(super) struct Loader<'a> {
    pub(super) files: &'a HashMap<String, Vec<u8>>,
    pub(super) problems: Vec<SchemeProblem>,
}

impl Loader<'_> {
    pub(super) fn load(mut self, definition: SchemeDefinition) -> Result<Scheme, SchemeError> {
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
