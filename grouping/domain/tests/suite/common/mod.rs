//! Test support shared by the integration tests: where the shared schemes are, how to read an
//! `examples.csv`.

#![allow(dead_code)]

use std::path::PathBuf;

/// Folder holding the shared schemes: `$MEDPAY_SHARED_DIR/schemes` when set, else
/// `shared/schemes` beside the workspace. `None` (after printing why) when it is absent and
/// `CI` is not `true`; panics when absent under CI.
pub fn shared_schemes_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MEDPAY_SHARED_DIR") {
        Some(shared) => PathBuf::from(shared).join("schemes"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemes"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    assert!(
        !ci,
        "shared schemes folder {} is missing (set MEDPAY_SHARED_DIR); required when CI=true",
        dir.display()
    );
    println!(
        "skipped: shared schemes folder {} not found (set MEDPAY_SHARED_DIR)",
        dir.display()
    );
    None
}

/// One row of an `examples.csv`.
#[derive(Debug, Clone)]
pub struct Example {
    pub line: usize,
    pub index: String,
    pub gender: String,
    pub age: String,
    pub age_days: String,
    pub weight: String,
    pub dept: String,
    pub diagnoses: String,
    pub procedures: String,
    pub length_of_stay: String,
    pub leaving_type: String,
    /// mdc, adrg, drg, status with code mapping off.
    pub expected: [String; 4],
    /// The same with code mapping on.
    pub expected_mapped: [String; 4],
}

impl Example {
    pub fn raw(&self) -> grouping_domain::RawCase<'_> {
        grouping_domain::RawCase {
            gender: &self.gender,
            age: &self.age,
            age_days: &self.age_days,
            weight: &self.weight,
            dept: &self.dept,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
            length_of_stay: &self.length_of_stay,
            leaving_type: &self.leaving_type,
        }
    }
}

/// Reads an examples file (plain CSV, header by name).
pub fn read_examples(path: &std::path::Path) -> Vec<Example> {
    let text = std::fs::read_to_string(path).expect("examples.csv readable");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("column {name} missing in {}", path.display()))
    };
    let columns = [
        "Index",
        "gender",
        "age",
        "ageDay",
        "weight",
        "dept",
        "ICD10_DRGS",
        "ICD9_DRGS",
        "inHospitalTime",
        "leavingType",
        "mdc",
        "adrg",
        "drg",
        "status",
    ]
    .map(column);
    let mapped = ["map_mdc", "map_adrg", "map_drg", "map_status"]
        .map(|name| header.iter().position(|h| *h == name));
    lines
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "line {}", i + 2);
            let get = |c: usize| fields[columns[c]].to_owned();
            let get_mapped = |c: usize| mapped[c].map(|p| fields[p].to_owned()).unwrap_or_default();
            Example {
                line: i + 2,
                index: get(0),
                gender: get(1),
                age: get(2),
                age_days: get(3),
                weight: get(4),
                dept: get(5),
                diagnoses: get(6),
                procedures: get(7),
                length_of_stay: get(8),
                leaving_type: get(9),
                expected: [get(10), get(11), get(12), get(13)],
                expected_mapped: [0, 1, 2, 3].map(get_mapped),
            }
        })
        .collect()
}

/// How a scheme's examples fared: rows matching the expected result with code mapping off and
/// on, and a line for every mismatch (including a traced result that differs from the plain one).
#[derive(Debug, Default)]
pub struct Tally {
    pub examples: usize,
    pub matched_plain: usize,
    pub matched_mapped: usize,
    pub mismatches: Vec<String>,
}

/// Groups every example with mapping off and (when `with_mapping`) on, plain and traced.
pub fn tally(
    scheme: &grouping_domain::CompiledScheme,
    examples: &[Example],
    with_mapping: bool,
) -> Tally {
    let mut grouper = scheme.grouper();
    let mut tally = Tally {
        examples: examples.len(),
        ..Tally::default()
    };
    let modes: &[bool] = if with_mapping {
        &[false, true]
    } else {
        &[false]
    };
    for example in examples {
        for &map_codes in modes {
            let result = grouper.group(&example.raw(), map_codes);
            let got = [
                result.mdc.as_str().to_owned(),
                result.adrg.as_str().to_owned(),
                result.drg.as_str().to_owned(),
                result.status.as_str().to_owned(),
            ];
            let expected = if map_codes {
                &example.expected_mapped
            } else {
                &example.expected
            };
            if &got == expected {
                if map_codes {
                    tally.matched_mapped += 1;
                } else {
                    tally.matched_plain += 1;
                }
            } else {
                tally.mismatches.push(format!(
                    "{} line {} (Index {}) map={map_codes}: expected {:?}, got {:?}",
                    scheme.id(),
                    example.line,
                    example.index,
                    expected,
                    got
                ));
            }
            // The traced path must agree with the plain path.
            let traced = scheme.group_traced(&example.raw(), map_codes);
            if traced.result != result {
                tally.mismatches.push(format!(
                    "{} line {}: traced result {:?} differs from plain {:?}",
                    scheme.id(),
                    example.line,
                    traced.result,
                    result
                ));
            }
        }
    }
    tally
}

/// Every mismatch of [`tally`].
pub fn mismatches(
    scheme: &grouping_domain::CompiledScheme,
    examples: &[Example],
    with_mapping: bool,
) -> Vec<String> {
    tally(scheme, examples, with_mapping).mismatches
}

/// Every scheme folder (one holding a `scheme.json`) of the shared schemes folder, by name.
pub fn shared_scheme_dirs(root: &std::path::Path) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{} unreadable: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("scheme.json").is_file())
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, path)
        })
        .collect();
    dirs.sort();
    dirs
}

/// A small scheme built in memory for focused tests.
#[derive(Debug, Clone, Default)]
pub struct MiniScheme {
    /// Lists: name and codes.
    pub lists: Vec<(String, Vec<String>)>,
    pub cc: Vec<(String, String)>,
    pub mcc: Vec<(String, String)>,
    pub cc_exclusion: Vec<(String, String)>,
    pub or_procedures: Vec<String>,
    /// Diagnosis / procedure codes with identity rows in the maps and dictionaries.
    pub diagnoses: Vec<String>,
    pub procedures: Vec<String>,
    /// `mdcs` array of scheme.json.
    pub mdcs: serde_json::Value,
    /// Extra top-level scheme.json fields (engine options).
    pub options: serde_json::Map<String, serde_json::Value>,
}

fn tsv(header: &str, rows: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut text = format!("{header}\n");
    for row in rows {
        text.push_str(&row);
        text.push('\n');
    }
    text.into_bytes()
}

impl MiniScheme {
    /// One MDC `MDCX` (entered always) with one ADRG `XA1` entered when `when` holds and a
    /// single `always` split `XA11`.
    pub fn single_rule(when: serde_json::Value) -> Self {
        Self {
            mdcs: serde_json::json!([{
                "code": "MDCX", "name_zh": "测试", "name_en": "test",
                "when": {"always": true},
                "adrgs": [{"code": "XA1", "name": "测试", "when": when,
                           "drgs": [{"drg": "XA11", "when": {"always": true}}]}],
                "ambiguity": {"enabled": false, "after_adrg": null, "drg": "XQY",
                              "when": {"always": true}}
            }]),
            ..Self::default()
        }
    }

    pub fn list(mut self, name: &str, codes: &[&str]) -> Self {
        self.lists.push((
            name.to_owned(),
            codes.iter().map(|c| (*c).to_owned()).collect(),
        ));
        self
    }

    pub fn option(mut self, key: &str, value: serde_json::Value) -> Self {
        self.options.insert(key.to_owned(), value);
        self
    }

    /// The scheme.json value with correct counts.
    pub fn definition(&self) -> serde_json::Value {
        let mdcs = self.mdcs.as_array().cloned().unwrap_or_default();
        let adrgs: Vec<&serde_json::Value> = mdcs
            .iter()
            .flat_map(|m| m["adrgs"].as_array().into_iter().flatten())
            .collect();
        let drgs: usize = adrgs
            .iter()
            .map(|a| a["drgs"].as_array().map_or(0, Vec::len))
            .sum();
        let mut lists = serde_json::Map::new();
        for (name, codes) in &self.lists {
            lists.insert(name.clone(), serde_json::json!({"size": codes.len()}));
        }
        let mut definition = serde_json::json!({
            "format": "drg-scheme/1", "id": "mini", "name": "mini", "version": "1",
            "description": "test scheme",
            "counts": {
                "mdcs": mdcs.len(), "adrgs": adrgs.len(), "drgs": drgs,
                "lists": self.lists.len(),
                "list_rows": self.lists.iter().map(|(_, c)| c.len()).sum::<usize>(),
                "cc": self.cc.len(), "mcc": self.mcc.len(), "cc_exclusion": self.cc_exclusion.len(),
                "valid_or_procedures": self.or_procedures.len(),
                "diagnoses": self.diagnoses.len(), "procedures": self.procedures.len(),
                "diagnosis_map": self.diagnoses.len(), "procedure_map": self.procedures.len(),
                "drg_names": drgs
            },
            "files": {
                "lists": "lists.tsv", "cc": "cc.tsv", "mcc": "mcc.tsv",
                "cc_exclusion": "cc_exclusion.tsv",
                "valid_or_procedures": "valid_or_procedures.tsv",
                "drg_names": "drg_names.tsv", "diagnoses": "diagnoses.tsv",
                "procedures": "procedures.tsv", "diagnosis_map": "diagnosis_map.tsv",
                "procedure_map": "procedure_map.tsv"
            },
            "newborn_max_age_days": 28,
            "statuses": [{"code": "SUCCESS", "label_zh": "分组成功", "meaning": "grouped"}],
            "lists": lists,
            "mdc_order": mdcs.iter().map(|m| m["code"].clone()).collect::<Vec<_>>(),
            "mdcs": mdcs,
        });
        if let Some(object) = definition.as_object_mut() {
            for (key, value) in &self.options {
                object.insert(key.clone(), value.clone());
            }
        }
        definition
    }

    /// All files of the scheme.
    pub fn files(&self) -> std::collections::HashMap<String, Vec<u8>> {
        let definition = self.definition();
        let drg_names: Vec<String> = definition["mdcs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|m| m["adrgs"].as_array().into_iter().flatten())
            .flat_map(|a| a["drgs"].as_array().into_iter().flatten())
            .map(|d| format!("{}\t名称", d["drg"].as_str().unwrap_or_default()))
            .collect();
        let pairs = |rows: &[(String, String)]| {
            rows.iter()
                .map(|(a, b)| format!("{a}\t{b}"))
                .collect::<Vec<_>>()
        };
        let mut files = std::collections::HashMap::new();
        files.insert(
            "scheme.json".to_owned(),
            serde_json::to_vec_pretty(&definition).unwrap_or_default(),
        );
        files.insert(
            "lists.tsv".to_owned(),
            tsv(
                "list\tcode",
                self.lists
                    .iter()
                    .flat_map(|(name, codes)| codes.iter().map(move |c| format!("{name}\t{c}"))),
            ),
        );
        files.insert("cc.tsv".to_owned(), tsv("code\ttable", pairs(&self.cc)));
        files.insert("mcc.tsv".to_owned(), tsv("code\ttable", pairs(&self.mcc)));
        files.insert(
            "cc_exclusion.tsv".to_owned(),
            tsv("pdx\ttable", pairs(&self.cc_exclusion)),
        );
        files.insert(
            "valid_or_procedures.tsv".to_owned(),
            tsv(
                "code\tname",
                self.or_procedures.iter().map(|c| format!("{c}\t手术")),
            ),
        );
        files.insert("drg_names.tsv".to_owned(), tsv("drg\tname", drg_names));
        files.insert(
            "diagnoses.tsv".to_owned(),
            tsv(
                "code\tname",
                self.diagnoses.iter().map(|c| format!("{c}\t诊断")),
            ),
        );
        files.insert(
            "procedures.tsv".to_owned(),
            tsv(
                "code\tname",
                self.procedures.iter().map(|c| format!("{c}\t操作")),
            ),
        );
        files.insert(
            "diagnosis_map.tsv".to_owned(),
            tsv(
                "from\tto",
                self.diagnoses.iter().map(|c| format!("{c}\t{c}")),
            ),
        );
        files.insert(
            "procedure_map.tsv".to_owned(),
            tsv(
                "from\tto",
                self.procedures.iter().map(|c| format!("{c}\t{c}")),
            ),
        );
        files
    }

    /// Loads and compiles; panics with every problem if the scheme is refused.
    pub fn compile(&self) -> grouping_domain::CompiledScheme {
        let scheme = grouping_domain::Scheme::from_files(&self.files())
            .unwrap_or_else(|e| panic!("mini scheme refused: {:#?}", e.problems));
        grouping_domain::CompiledScheme::compile(&scheme)
    }
}

/// A valid adult case with the given codes.
pub fn adult<'a>(diagnoses: &'a str, procedures: &'a str) -> grouping_domain::RawCase<'a> {
    grouping_domain::RawCase {
        gender: "1",
        age: "40",
        age_days: "",
        weight: "",
        dept: "",
        diagnoses,
        procedures,
        ..grouping_domain::RawCase::default()
    }
}
