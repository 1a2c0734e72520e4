//! The traced path: the same rule loop as [`CompiledScheme::group`] with a recording observer,
//! and the explanation of each condition (may allocate; the plain path pays nothing for it).

use super::group::split_codes;
use super::*;
use crate::trace::{CheckTrace, ComplicationTrace, GroupTrace, RuleStep, RunTrace, TracedCode};

#[derive(Default)]
struct Recorder {
    steps: Vec<RuleStep>,
    diagnosis_text: Vec<String>,
    procedure_text: Vec<String>,
}

impl Observer for Recorder {
    const RECORDS: bool = true;
    fn step(
        &mut self,
        level: RuleLevel,
        code: &str,
        condition: ConditionTrace,
        note: Option<String>,
    ) {
        self.steps.push(RuleStep {
            level,
            code: code.to_owned(),
            matched: condition.matched,
            condition,
            note,
        });
    }

    fn diagnosis_text(&self, index: usize) -> Option<&str> {
        self.diagnosis_text.get(index).map(String::as_str)
    }

    fn procedure_text(&self, index: usize) -> Option<&str> {
        self.procedure_text.get(index).map(String::as_str)
    }
}

impl CompiledScheme {
    /// Groups one case and records every rule tried, with why it matched or not.
    pub fn group_traced(&self, case: &RawCase<'_>, map_codes: bool) -> GroupTrace {
        let mut diagnoses = Vec::new();
        let mut procedures = Vec::new();
        let read = self.read_codes(case, map_codes, &mut diagnoses, &mut procedures);
        let diagnosis_input: Vec<&str> = split_codes(case.diagnoses).collect();
        let procedure_input: Vec<&str> = if case.procedures.is_empty() {
            Vec::new()
        } else {
            split_codes(case.procedures).collect()
        };
        let mut trace = GroupTrace {
            scheme: self.id.clone(),
            map_codes,
            result: GroupResult::failed(GroupStatus::Fail),
            diagnoses: self.traced_codes(&diagnosis_input, map_codes, true),
            procedures: self.traced_codes(&procedure_input, map_codes, false),
            mapping_failure: None,
            check: CheckTrace::default(),
            cc_exclusion_table: None,
            complications: Vec::new(),
            runs: Vec::new(),
        };
        if let Err(status) = read {
            let (codes, what) = match status {
                GroupStatus::DxNotMapped => (&trace.diagnoses, "diagnosis"),
                _ => (&trace.procedures, "procedure"),
            };
            trace.mapping_failure = codes.iter().find(|c| c.code.is_none()).map(|c| {
                format!(
                    "{what} {:?} (position {}) is not in the map",
                    c.input, c.position
                )
            });
            trace.result = GroupResult::failed(status);
            return trace;
        }
        let checked = self.check(case, &diagnoses);
        trace.check = CheckTrace {
            passed: checked.is_ok(),
            failure: checked.err().map(|f| f.describe().to_owned()),
            gender: checked.ok().map(|d| d.gender),
            age_years: checked.ok().map(|d| d.age),
            age_days: checked.ok().and_then(|d| d.age_days),
            weight: checked.ok().and_then(|d| d.weight),
            length_of_stay_days: parse_stay_days(case.length_of_stay),
        };
        let Ok(demographics) = checked else {
            trace.result = GroupResult::failed(GroupStatus::CheckFailed);
            return trace;
        };
        let mut list_bits = Vec::new();
        let (case_bits, retry_bits) = self.list_bitsets(&mut list_bits, &diagnoses, &procedures);
        let facts = self.facts(&diagnoses, &procedures, case_bits, demographics, case);
        trace.cc_exclusion_table = (facts.exclusion != NO_TABLE)
            .then(|| self.table_names[facts.exclusion as usize].clone());
        for (index, &code) in diagnoses.iter().enumerate().skip(1) {
            let info = self.info(code);
            for (kind, table) in [("MCC", info.mcc), ("CC", info.cc)] {
                if table != NO_TABLE {
                    trace.complications.push(ComplicationTrace {
                        position: index + 1,
                        code: self.code_text(code, diagnosis_input.get(index).copied()),
                        kind: kind.to_owned(),
                        table: self.table_names[table as usize].clone(),
                        excluded: table == facts.exclusion,
                    });
                }
            }
        }
        let mut recorder = Recorder {
            diagnosis_text: trace
                .diagnoses
                .iter()
                .map(|c| c.code.clone().unwrap_or_else(|| c.input.clone()))
                .collect(),
            procedure_text: trace
                .procedures
                .iter()
                .map(|c| c.code.clone().unwrap_or_else(|| c.input.clone()))
                .collect(),
            ..Recorder::default()
        };
        let result = self.run_rules(facts, &mut recorder);
        trace.runs.push(RunTrace {
            procedures: recorder.procedure_text.clone(),
            status: result.status,
            steps: std::mem::take(&mut recorder.steps),
        });
        trace.result = result;
        if result.status == GroupStatus::Fail && self.retries(&facts) {
            let all_text = recorder.procedure_text.clone();
            for position in 1..procedures.len() {
                let single = self.single_procedure(facts, position, retry_bits);
                recorder.procedure_text = all_text[position..=position].to_vec();
                let retried = self.run_rules(single, &mut recorder);
                trace.runs.push(RunTrace {
                    procedures: recorder.procedure_text.clone(),
                    status: retried.status,
                    steps: std::mem::take(&mut recorder.steps),
                });
                if retried.status != GroupStatus::Fail {
                    trace.result = retried;
                    break;
                }
            }
        }
        trace
    }

    pub(super) fn traced_codes(
        &self,
        input: &[&str],
        map_codes: bool,
        diagnosis: bool,
    ) -> Vec<TracedCode> {
        input
            .iter()
            .enumerate()
            .map(|(index, &raw)| {
                let id = self.lookup(raw);
                let code_id = if map_codes {
                    let info = self.info(id);
                    if diagnosis {
                        info.diagnosis_map
                    } else {
                        info.procedure_map
                    }
                } else {
                    id
                };
                let code = if map_codes {
                    (code_id != NO_CODE).then(|| self.codes[code_id as usize].to_string())
                } else {
                    Some(raw.to_owned())
                };
                let names = if diagnosis {
                    &self.diagnosis_names
                } else {
                    &self.procedure_names
                };
                TracedCode {
                    position: index + 1,
                    input: raw.to_owned(),
                    mapped: map_codes && code.as_deref() != Some(raw),
                    name: names.get(&code_id).cloned(),
                    code,
                }
            })
            .collect()
    }

    pub(super) fn code_text(&self, id: u32, fallback: Option<&str>) -> String {
        if id == NO_CODE {
            fallback.unwrap_or_default().to_owned()
        } else {
            self.codes[id as usize].to_string()
        }
    }

    /// Same truth value as [`Self::eval`], with an explanation.
    pub(super) fn explain<O: Observer>(
        &self,
        node: u32,
        facts: &Facts<'_>,
        observer: &O,
    ) -> ConditionTrace {
        let recorder_text = |codes: &[u32], index: usize, diagnosis: bool| -> String {
            let recorded = if diagnosis {
                observer.diagnosis_text(index)
            } else {
                observer.procedure_text(index)
            };
            match recorded {
                Some(text) => format!("{text:?}"),
                None => format!("{:?}", self.code_text(codes[index], None)),
            }
        };
        // An undeclared list (only possible in a scheme that skipped validation) matches nothing.
        let list = |list: u32| {
            self.list_names
                .get(list as usize)
                .map_or("(undeclared list)", String::as_str)
        };
        let leaf = |kind: &str, matched: bool, detail: String| ConditionTrace {
            kind: kind.to_owned(),
            matched,
            detail: Some(detail),
            operands: Vec::new(),
        };
        let value = self.eval(node, facts);
        match self.nodes[node as usize] {
            Node::Always => leaf("always", true, "always true".to_owned()),
            Node::All { start, len } | Node::Any { start, len } => {
                let kind = if matches!(self.nodes[node as usize], Node::All { .. }) {
                    "all"
                } else {
                    "any"
                };
                ConditionTrace {
                    kind: kind.to_owned(),
                    matched: value,
                    detail: None,
                    operands: self
                        .operand_slice(start, len)
                        .iter()
                        .map(|&child| self.explain(child, facts, observer))
                        .collect(),
                }
            }
            Node::Not(child) => ConditionTrace {
                kind: "not".to_owned(),
                matched: value,
                detail: None,
                operands: vec![self.explain(child, facts, observer)],
            },
            Node::PdxIn(l) => {
                let pdx = recorder_text(facts.diagnoses, 0, true);
                let verb = if value { "is" } else { "is not" };
                leaf(
                    "pdx_in",
                    value,
                    format!("principal diagnosis {pdx} {verb} in {}", list(l)),
                )
            }
            Node::AnyDxIn(l) => {
                let hit = facts.diagnoses.iter().position(|&c| self.in_list(c, l));
                let detail = match hit {
                    Some(i) => format!(
                        "diagnosis {} (position {}) is in {}",
                        recorder_text(facts.diagnoses, i, true),
                        i + 1,
                        list(l)
                    ),
                    None => format!("no diagnosis is in {}", list(l)),
                };
                leaf("any_dx_in", value, detail)
            }
            Node::PrincipalProcIn(l) => {
                let detail = if facts.procedures.is_empty() {
                    "no procedure".to_owned()
                } else {
                    let verb = if value { "is" } else { "is not" };
                    format!(
                        "principal procedure {} {verb} in {}",
                        recorder_text(facts.procedures, 0, false),
                        list(l)
                    )
                };
                leaf("principal_proc_in", value, detail)
            }
            Node::AnyProcIn(l) => {
                let hit = facts.procedures.iter().position(|&c| self.in_list(c, l));
                let detail = match hit {
                    Some(i) => format!(
                        "procedure {} (position {}) is in {}",
                        recorder_text(facts.procedures, i, false),
                        i + 1,
                        list(l)
                    ),
                    None => format!("no procedure is in {}", list(l)),
                };
                leaf("any_proc_in", value, detail)
            }
            Node::PrincipalProcIsOr => {
                let detail = if facts.procedures.is_empty() {
                    "no procedure".to_owned()
                } else {
                    let verb = if value { "is" } else { "is not" };
                    format!(
                        "principal procedure {} {verb} an OR procedure",
                        recorder_text(facts.procedures, 0, false)
                    )
                };
                leaf("principal_proc_is_or", value, detail)
            }
            Node::AnyProcIsOr => {
                let hit = facts
                    .procedures
                    .iter()
                    .position(|&c| self.is_or_procedure(c));
                let detail = match hit {
                    Some(i) => format!(
                        "procedure {} (position {}) is an OR procedure",
                        recorder_text(facts.procedures, i, false),
                        i + 1
                    ),
                    None => "no OR procedure".to_owned(),
                };
                leaf("any_proc_is_or", value, detail)
            }
            Node::Gender(g) => leaf(
                "gender",
                value,
                format!(
                    "gender is {}, rule wants {}",
                    facts.demographics.gender,
                    if g == 1 { "M (1)" } else { "F (2)" }
                ),
            ),
            Node::AgeYearsEq(n) => leaf(
                "age_years_eq",
                value,
                format!("age {} years = {n}", facts.demographics.age),
            ),
            Node::AgeYearsLt(n) => leaf(
                "age_years_lt",
                value,
                format!("age {} years < {n}", facts.demographics.age),
            ),
            Node::AgeDaysLe(n) => leaf(
                "age_days_le",
                value,
                match facts.demographics.age_days {
                    Some(days) => format!("ageDay {days} <= {n}"),
                    None => "ageDay absent".to_owned(),
                },
            ),
            Node::WeightLt(n) | Node::WeightGe(n) => {
                let (kind, op) = if matches!(self.nodes[node as usize], Node::WeightLt(_)) {
                    ("weight_lt", "<")
                } else {
                    ("weight_ge", ">=")
                };
                leaf(
                    kind,
                    value,
                    match facts.demographics.weight {
                        Some(0) => "weight 0 counts as absent".to_owned(),
                        Some(w) => format!("weight {w} {op} {n}"),
                        None => "weight absent".to_owned(),
                    },
                )
            }
            Node::DxListsMin { start, len, min } => {
                let hits: Vec<String> = self
                    .operand_slice(start, len)
                    .iter()
                    .filter_map(|&l| {
                        facts
                            .diagnoses
                            .iter()
                            .position(|&c| self.in_list(c, l))
                            .map(|i| {
                                format!("{} ({})", list(l), recorder_text(facts.diagnoses, i, true))
                            })
                    })
                    .collect();
                leaf(
                    "dx_lists_min",
                    value,
                    format!(
                        "{} of the lists hold a diagnosis (minimum {min}){}{}",
                        hits.len(),
                        if hits.is_empty() { "" } else { ": " },
                        hits.join(", ")
                    ),
                )
            }
            Node::HasMcc | Node::HasCc => {
                let (kind, name, table_of): (_, _, fn(&CodeInfo) -> u32) =
                    if matches!(self.nodes[node as usize], Node::HasMcc) {
                        ("has_mcc", "MCC", |info| info.mcc)
                    } else {
                        ("has_cc", "CC", |info| info.cc)
                    };
                let hit = facts
                    .diagnoses
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|&(_, &code)| {
                        let table = table_of(self.info(code));
                        table != NO_TABLE && table != facts.exclusion
                    });
                leaf(
                    kind,
                    value,
                    match hit {
                        Some((i, _)) => format!(
                            "secondary diagnosis {} (position {}) is a {name} not excluded by the principal diagnosis",
                            recorder_text(facts.diagnoses, i, true),
                            i + 1
                        ),
                        None => format!("no secondary diagnosis is a {name} that is not excluded"),
                    },
                )
            }
            Node::DeptIn(l) => {
                let verb = if value { "is" } else { "is not" };
                leaf("dept_in", value, format!("dept {verb} in {}", list(l)))
            }
            Node::AnySecondaryDxIn(l) => {
                let hit = facts
                    .diagnoses
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|&(_, &c)| self.in_list(c, l));
                let detail = match hit {
                    Some((i, _)) => format!(
                        "secondary diagnosis {} (position {}) is in {}",
                        recorder_text(facts.diagnoses, i, true),
                        i + 1,
                        list(l)
                    ),
                    None if facts.diagnoses.len() < 2 => "no secondary diagnosis".to_owned(),
                    None => format!("no secondary diagnosis is in {}", list(l)),
                };
                leaf("any_secondary_dx_in", value, detail)
            }
            Node::AnySecondaryProcIn(l) => {
                let hit = facts
                    .procedures
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|&(_, &c)| self.in_list(c, l));
                let detail = match hit {
                    Some((i, _)) => format!(
                        "secondary procedure {} (position {}) is in {}",
                        recorder_text(facts.procedures, i, false),
                        i + 1,
                        list(l)
                    ),
                    None if facts.procedures.len() < 2 => {
                        "fewer than two procedures: no secondary procedure".to_owned()
                    }
                    None => format!("no secondary procedure is in {}", list(l)),
                };
                leaf("any_secondary_proc_in", value, detail)
            }
            Node::AgeYearsLe(n) => leaf(
                "age_years_le",
                value,
                format!("age {} years <= {n}", facts.demographics.age),
            ),
            Node::AgeYearsGt(n) => leaf(
                "age_years_gt",
                value,
                format!("age {} years > {n}", facts.demographics.age),
            ),
            Node::AgeYearsGe(n) => leaf(
                "age_years_ge",
                value,
                format!("age {} years >= {n}", facts.demographics.age),
            ),
            Node::LosDays(comparison, n) => leaf(
                comparison.kind(),
                value,
                match facts.length_of_stay {
                    Some(days) => {
                        format!("length of stay {days} days {} {n}", comparison.symbol())
                    }
                    None => "length of stay (inHospitalTime) absent or not an integer".to_owned(),
                },
            ),
            Node::LeavingTypeIn(l) => {
                let verb = if value { "is" } else { "is not" };
                let given = if facts.leaving_type == NO_CODE {
                    String::new()
                } else {
                    format!(" {:?}", self.code_text(facts.leaving_type, None))
                };
                leaf(
                    "leaving_type_in",
                    value,
                    format!("discharge type (leavingType){given} {verb} in {}", list(l)),
                )
            }
        }
    }
}
