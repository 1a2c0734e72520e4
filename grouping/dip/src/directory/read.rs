//! Reading a directory: `directory.json`, each table through one TSV reader that collects every
//! problem with its file and line, the field parsers, and the checks across tables.

use std::collections::HashMap;
use std::path::Path;

use kernel::{Decimal, Money, Points};

use super::tables::{
    read_auxiliary, read_cci, read_comprehensive_groups, read_core_groups, read_procedure_types,
    read_tumour,
};
use super::{
    CciWeight, DiagnosisScope, Directory, DirectoryMeta, FORMAT, TreatmentType, TumourMarkerRule,
};
use crate::error::{DirectoryError, Problem, ProblemKind};

/// Collects problems while a directory is read.
pub(super) struct Problems(Vec<Problem>);

impl Problems {
    pub(super) fn push(&mut self, file: &str, line: usize, kind: ProblemKind) {
        self.0.push(Problem {
            file: file.to_owned(),
            line,
            kind,
        });
    }
}

/// Rows of one TSV table: (line number, fields).
pub(super) fn read_table<'a>(
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

pub(super) fn bad_value(field: &'static str, value: &str, why: impl Into<String>) -> ProblemKind {
    ProblemKind::BadValue {
        field,
        value: value.to_owned(),
        why: why.into(),
    }
}

pub(super) fn require(field: &'static str, value: &str) -> Result<(), ProblemKind> {
    if value.is_empty() {
        return Err(ProblemKind::EmptyField { field });
    }
    if value.trim() != value {
        return Err(bad_value(field, value, "leading or trailing white space"));
    }
    Ok(())
}

pub(super) fn parse_score(value: &str) -> Result<Points, ProblemKind> {
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

pub(super) fn parse_mean(value: &str) -> Result<Money, ProblemKind> {
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

pub(super) fn parse_scope(value: &str) -> Result<DiagnosisScope, ProblemKind> {
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

pub(super) fn parse_coefficient(value: &str) -> Result<Decimal, ProblemKind> {
    let coefficient = kernel::parse_decimal(value).map_err(|e| match e {
        kernel::AmountError::TooLong { .. } => {
            let start: String = value.chars().take(16).collect();
            bad_value("coefficient", &format!("{start}…"), e.to_string())
        }
        _ => bad_value("coefficient", value, "not a decimal number"),
    })?;
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
        // The scale and the reference cost are read by rust_decimal, which recurses once per
        // leading zero: an uploaded directory's overlong number is refused before it is read.
        let read = kernel::check_decimal_strings_in_json(directory_json)
            .map_err(|too_long| (0, too_long.to_string()))
            .and_then(|()| {
                serde_json::from_str::<DirectoryMeta>(directory_json)
                    .map_err(|e| (e.line(), e.to_string()))
            });
        let meta = match read {
            Ok(meta) => meta,
            Err((line, message)) => {
                problems.push("directory.json", line, ProblemKind::Json { message });
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
}

/// Every problem collected, or the rows.
fn table_result<T>(rows: T, problems: Problems) -> Result<T, DirectoryError> {
    if problems.0.is_empty() {
        Ok(rows)
    } else {
        Err(DirectoryError::Invalid {
            problems: problems.0,
        })
    }
}

impl CciWeight {
    /// Reads a table in the `cci_weights.tsv` format with the checks of [`Directory::load`];
    /// problems name `file` and their line.
    pub fn parse_table(file: &str, text: &str) -> Result<Vec<CciWeight>, DirectoryError> {
        let mut problems = Problems(Vec::new());
        let rows = read_cci(file, text, &mut problems);
        table_result(rows, problems)
    }
}

impl TumourMarkerRule {
    /// Reads a table in the `tumour_markers.tsv` format with the checks of [`Directory::load`];
    /// problems name `file` and their line.
    pub fn parse_table(file: &str, text: &str) -> Result<Vec<TumourMarkerRule>, DirectoryError> {
        let mut problems = Problems(Vec::new());
        let rows = read_tumour(file, text, &mut problems);
        table_result(rows, problems)
    }
}
