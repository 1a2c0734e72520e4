//! The checks of a scheme's rules against themselves and its tables (everything but TSV syntax):
//! what the loaders and [`Scheme::validate`] run.

use std::collections::{HashMap, HashSet};

use super::{
    CodeList, Condition, FORMAT, KNOWN_STATUSES, MAX_GROUP_CODE_LEN, SCHEME_FILE, Scheme,
    SchemeProblem,
};

/// Checks the rules against themselves and the tables (everything but TSV syntax).
pub(super) fn validate_rules(scheme: &Scheme, problems: &mut Vec<SchemeProblem>) {
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
