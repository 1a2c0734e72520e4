//! Rules 9–11 on one list's fee lines, day by day (the day of a line is the date of its time):
//! substitution, duplicate charging, unbundled charging (DOMAIN.md §6 "Rules 9–12"). The amount
//! at stake is the in-policy amount of the offending lines.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Date, Decimal};

use crate::catalogue::RuleId;
use crate::finding::{Finding, Subject, amount_at_stake};
use crate::model::{FeeLine, InpatientList};
use crate::screening::Context;
use crate::tables::Substitution;

/// A list's lines by day, each with its position.
fn lines_by_day(list: &InpatientList) -> BTreeMap<Date, Vec<(u32, &FeeLine)>> {
    let mut days: BTreeMap<Date, Vec<(u32, &FeeLine)>> = BTreeMap::new();
    for (position, line) in list.numbered_lines() {
        days.entry(line.date()).or_default().push((position, line));
    }
    days
}

fn line_finding<'l>(
    context: &Context<'_>,
    rule: RuleId,
    list: &InpatientList,
    item: &str,
    day: Date,
    lines: impl Iterator<Item = &'l (u32, &'l FeeLine)>,
) -> Finding {
    let mut finding = context.finding(rule, Subject::Settlement(list.key.clone()));
    let mut raw = Decimal::ZERO;
    for (position, line) in lines {
        finding.lines.push(*position);
        raw += line.in_policy_amount.value();
    }
    finding.lines.sort_unstable();
    finding.amount = amount_at_stake(raw);
    finding.item = Some(item.to_owned());
    finding.date = Some(day);
    finding
}

/// The item codes billed on a day.
fn codes<'l>(day_lines: &[(u32, &'l FeeLine)]) -> BTreeSet<&'l str> {
    day_lines
        .iter()
        .map(|(_, line)| line.item_code.as_str())
        .collect()
}

/// Rule 9, 串换收费: the billed item on a day without the companion item it requires; the
/// billed item's lines that day offend.
pub fn substitution(context: &Context<'_>) -> Vec<Finding> {
    let mut by_billed: BTreeMap<&str, Vec<&Substitution>> = BTreeMap::new();
    for rule in &context.tables.substitutions {
        by_billed
            .entry(rule.billed.as_str())
            .or_default()
            .push(rule);
    }
    let mut findings = Vec::new();
    for list in &context.input.lists {
        for (day, day_lines) in lines_by_day(list) {
            let billed = codes(&day_lines);
            for rule in billed
                .iter()
                .filter_map(|code| by_billed.get(code))
                .flatten()
            {
                if billed.contains(rule.requires.as_str()) {
                    continue;
                }
                let offending = day_lines.iter().filter(|(_, l)| l.item_code == rule.billed);
                let mut finding = line_finding(
                    context,
                    RuleId::Substitution,
                    list,
                    &rule.billed,
                    day,
                    offending,
                );
                finding.evidence = vec![rule.analogue.clone(), rule.requires.clone()];
                findings.push(finding);
            }
        }
    }
    findings
}

/// Rule 10, 重复收费: item B billed on a day item A is; one finding per (B, day), B's lines
/// offend, naming every A that excludes it.
pub fn duplicate_charging(context: &Context<'_>) -> Vec<Finding> {
    let mut by_a: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for pair in &context.tables.exclusive_pairs {
        by_a.entry(pair.item_a.as_str())
            .or_default()
            .push(pair.item_b.as_str());
    }
    let mut findings = Vec::new();
    for list in &context.input.lists {
        for (day, day_lines) in lines_by_day(list) {
            let billed = codes(&day_lines);
            let mut excluded: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for item_a in &billed {
                for item_b in by_a.get(item_a).into_iter().flatten() {
                    if billed.contains(item_b) {
                        excluded.entry(item_b).or_default().insert(item_a);
                    }
                }
            }
            for (item_b, items_a) in excluded {
                let offending = day_lines.iter().filter(|(_, l)| l.item_code == item_b);
                let mut finding = line_finding(
                    context,
                    RuleId::DuplicateCharging,
                    list,
                    item_b,
                    day,
                    offending,
                );
                finding.evidence = items_a.into_iter().map(str::to_owned).collect();
                findings.push(finding);
            }
        }
    }
    findings
}

/// Rule 11, 分解收费: two or more distinct components of one package billed on one day; all
/// those component lines offend and the finding names the package.
pub fn unbundled_charging(context: &Context<'_>) -> Vec<Finding> {
    let mut packages_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (package, components) in &context.tables.packages {
        for component in components {
            packages_of
                .entry(component.as_str())
                .or_default()
                .push(package.as_str());
        }
    }
    let mut findings = Vec::new();
    for list in &context.input.lists {
        for (day, day_lines) in lines_by_day(list) {
            let mut billed_components: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for code in codes(&day_lines) {
                for package in packages_of.get(code).into_iter().flatten() {
                    billed_components.entry(package).or_default().insert(code);
                }
            }
            for (package, components) in billed_components {
                if components.len() < 2 {
                    continue;
                }
                let offending = day_lines
                    .iter()
                    .filter(|(_, l)| components.contains(l.item_code.as_str()));
                let mut finding = line_finding(
                    context,
                    RuleId::UnbundledCharging,
                    list,
                    package,
                    day,
                    offending,
                );
                finding.evidence = components.into_iter().map(str::to_owned).collect();
                findings.push(finding);
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    const CT_GUIDED: &str = "003302000020000";
    const CT_SCAN: &str = "002201000010000";
    const INFUSION: &str = "003107010010000";
    const INJECTION: &str = "003107020010000";
    const ALT: &str = "002501020010000";
    const AST: &str = "002501020020000";
    const BILIRUBIN: &str = "002501020030000";
    const LIVER_PANEL: &str = "002501020000000";

    fn stay(lines: Vec<FeeLine>) -> InpatientList {
        with_lines(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-06 08:00"),
            lines,
        )
    }

    #[test]
    fn substitution_is_the_billed_item_on_a_day_without_its_companion() {
        let findings = run(
            RuleId::Substitution,
            vec![stay(vec![
                line(CT_GUIDED, 5, "1", "300", "2026-03-02 10:00"),
                line(CT_SCAN, 3, "1", "150", "2026-03-03 09:00"),
                line(CT_GUIDED, 5, "1", "300", "2026-03-03 10:00"),
            ])],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].item.as_deref(), Some(CT_GUIDED));
        assert_eq!(findings[0].date, Some(day("2026-03-02")));
        assert_eq!(findings[0].lines, [1]);
        assert_eq!(findings[0].amount, money("300.00"));
    }

    #[test]
    fn substitution_companion_on_another_day_does_not_count() {
        let findings = run(
            RuleId::Substitution,
            vec![stay(vec![
                line(CT_SCAN, 3, "1", "150", "2026-03-01 23:59"),
                line(CT_GUIDED, 5, "1", "300", "2026-03-02 00:01"),
            ])],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        let none_billed = run(
            RuleId::Substitution,
            vec![stay(vec![line(CT_SCAN, 3, "1", "150", "2026-03-01 23:59")])],
            vec![],
        );
        assert!(none_billed.is_empty());
    }

    #[test]
    fn duplicate_charging_is_b_with_a_on_the_same_day() {
        let findings = run(
            RuleId::DuplicateCharging,
            vec![stay(vec![
                line(INFUSION, 5, "1", "15", "2026-03-02 10:00"),
                line(INJECTION, 5, "2", "5", "2026-03-02 11:00"),
                line(INJECTION, 5, "1", "5", "2026-03-02 18:00"),
                line(INJECTION, 5, "1", "5", "2026-03-03 10:00"),
            ])],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].item.as_deref(), Some(INJECTION));
        assert_eq!(findings[0].date, Some(day("2026-03-02")));
        assert_eq!(findings[0].lines, [2, 3]);
        assert_eq!(findings[0].amount, money("15.00"));
        assert_eq!(findings[0].evidence, [INFUSION]);
    }

    #[test]
    fn duplicate_charging_a_alone_or_on_another_day_is_fine() {
        let findings = run(
            RuleId::DuplicateCharging,
            vec![stay(vec![
                line(INFUSION, 5, "1", "15", "2026-03-02 10:00"),
                line(INJECTION, 5, "1", "5", "2026-03-03 10:00"),
            ])],
            vec![],
        );
        assert!(findings.is_empty());
    }

    #[test]
    fn unbundling_needs_two_distinct_components_on_one_day() {
        let findings = run(
            RuleId::UnbundledCharging,
            vec![stay(vec![
                line(ALT, 4, "1", "5", "2026-03-02 07:00"),
                line(AST, 4, "1", "5", "2026-03-02 07:00"),
                line(BILIRUBIN, 4, "1", "5", "2026-03-02 07:00"),
                line(ALT, 4, "1", "5", "2026-03-03 07:00"),
                line(ALT, 4, "1", "5", "2026-03-04 07:00"),
                line(ALT, 4, "1", "5", "2026-03-04 19:00"),
            ])],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].item.as_deref(), Some(LIVER_PANEL));
        assert_eq!(findings[0].date, Some(day("2026-03-02")));
        assert_eq!(findings[0].lines, [1, 2, 3]);
        assert_eq!(findings[0].amount, money("15.00"));
    }

    #[test]
    fn duplicate_charging_names_every_item_that_excludes_b_once() {
        let mut tables = crate::tables::Tables::demo().expect("demo tables");
        tables.exclusive_pairs =
            crate::tables::Tables::read_exclusive_pairs("item_a\titem_b\nA1\tB\nA2\tB\nA3\tB\n")
                .expect("pairs");
        let findings = run_with(
            RuleId::DuplicateCharging,
            vec![stay(vec![
                line("B", 5, "1", "5", "2026-03-02 08:00"),
                line("A2", 5, "1", "15", "2026-03-02 09:00"),
                line("A1", 5, "1", "15", "2026-03-02 10:00"),
            ])],
            vec![],
            &tables,
            crate::parameters::ScreeningPolicy::default(),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].evidence, ["A1", "A2"]);
        assert_eq!(findings[0].lines, [1]);
    }
}
