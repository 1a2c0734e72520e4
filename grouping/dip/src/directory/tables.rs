//! The readers of the six tables, one function per table: each row checked, every problem kept.

use std::collections::HashMap;

use super::read::{
    Problems, bad_value, is_category5, parse_coefficient, parse_mean, parse_scope, parse_score,
    read_table, require,
};
use super::{
    AUXILIARY_HEADER, AuxiliaryCoefficient, AuxiliaryScope, AuxiliarySubtype, CCI_HEADER,
    COMPREHENSIVE_HEADER, CORE_HEADER, CciWeight, CombinationSyntaxError, ComprehensiveGroup,
    CoreGroup, DiagnosisScope, GroupKind, MarkerSource, PROCEDURE_HEADER, ProcedureCombination,
    ProcedureType, TUMOUR_HEADER, TreatmentType, TumourMarker, TumourMarkerRule,
};
use crate::error::ProblemKind;

pub(super) fn read_procedure_types(
    file: &str,
    text: &str,
    problems: &mut Problems,
) -> Vec<ProcedureType> {
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

pub(super) fn check_group_code(
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

pub(super) fn read_core_groups(
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
pub(super) fn canonical_combination(combination: Option<&ProcedureCombination>) -> String {
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

pub(super) fn read_comprehensive_groups(
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

pub(super) fn read_auxiliary(
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

pub(super) fn read_cci(file: &str, text: &str, problems: &mut Problems) -> Vec<CciWeight> {
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

pub(super) fn read_tumour(
    file: &str,
    text: &str,
    problems: &mut Problems,
) -> Vec<TumourMarkerRule> {
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
