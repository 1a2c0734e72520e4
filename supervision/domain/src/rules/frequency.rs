//! Rule 12, 超频次收费: more units of an item than its limit (DOMAIN.md §6 "Rules 9–12").
//!
//! - daily: Σ units of the item on one date of a list > its daily limit;
//! - total: Σ units over a list > LOS + 1, for items marked `los+1` (lines outside the stay
//!   count too);
//! - period: per person across every settlement and institution, the units in the N days ending
//!   on a line's date (d−N+1..d), counted in time order (ties: institution, settlement id, line
//!   position), exceed M.
//!
//! Lines are taken in time order, then position; those past the limit offend. Only the excess
//! units are at stake, at the line's in-policy unit amount.

use std::collections::BTreeMap;

use kernel::{Date, DateTime, Decimal};

use crate::catalogue::RuleId;
use crate::finding::{Arm, Finding, Subject, amount_at_stake};
use crate::model::{FeeLine, InpatientList, SettlementKey};
use crate::screening::Context;
use crate::tables::PeriodLimit;

/// Runs the three arms.
pub fn over_frequency(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for list in &context.input.lists {
        findings.extend(daily(context, list));
        findings.extend(total(context, list));
    }
    findings.extend(period(context));
    findings
}

/// The offending lines of a run of lines (already in order) against `limit`, each with its
/// excess units.
fn past_limit<'l>(
    lines: impl IntoIterator<Item = (u32, &'l FeeLine)>,
    limit: Decimal,
) -> Vec<(u32, &'l FeeLine, Decimal)> {
    let mut count = Decimal::ZERO;
    let mut offending = Vec::new();
    for (position, line) in lines {
        count += line.quantity;
        if count > limit {
            offending.push((position, line, line.quantity.min(count - limit)));
        }
    }
    offending
}

fn excess_finding(
    context: &Context<'_>,
    list: &InpatientList,
    arm: Arm,
    item: &str,
    date: Option<Date>,
    offending: &[(u32, &FeeLine, Decimal)],
) -> Finding {
    let mut finding = context.finding(RuleId::OverFrequency, Subject::Settlement(list.key.clone()));
    finding.arm = arm;
    finding.item = Some(item.to_owned());
    finding.date = date;
    finding.lines = offending.iter().map(|(position, _, _)| *position).collect();
    finding.amount = amount_at_stake(
        offending
            .iter()
            .map(|(_, line, excess)| *excess * line.in_policy_unit_amount())
            .sum(),
    );
    let excess: Decimal = offending.iter().map(|(_, _, excess)| *excess).sum();
    finding.evidence = vec![format!("excess_units={}", excess.normalize())];
    finding
}

/// A list's lines of each item, in time order then position.
fn lines_by_item(list: &InpatientList) -> BTreeMap<&str, Vec<(u32, &FeeLine)>> {
    let mut items: BTreeMap<&str, Vec<(u32, &FeeLine)>> = BTreeMap::new();
    for (position, line) in list.numbered_lines() {
        items
            .entry(line.item_code.as_str())
            .or_default()
            .push((position, line));
    }
    for lines in items.values_mut() {
        lines.sort_by_key(|(position, line)| (line.charged_at, *position));
    }
    items
}

fn daily(context: &Context<'_>, list: &InpatientList) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (item, lines) in lines_by_item(list) {
        // A region's limit for the year replaces the table's.
        let limit = context.parameters().item_daily_limits.get(item).copied();
        let Some(limit) =
            limit.or_else(|| context.tables.items.get(item).and_then(|i| i.daily_limit))
        else {
            continue;
        };
        let mut by_day: BTreeMap<Date, Vec<(u32, &FeeLine)>> = BTreeMap::new();
        for (position, line) in lines {
            by_day
                .entry(line.date())
                .or_default()
                .push((position, line));
        }
        for (day, day_lines) in by_day {
            let offending = past_limit(day_lines, limit);
            if !offending.is_empty() {
                findings.push(excess_finding(
                    context,
                    list,
                    Arm::Daily,
                    item,
                    Some(day),
                    &offending,
                ));
            }
        }
    }
    findings
}

fn total(context: &Context<'_>, list: &InpatientList) -> Vec<Finding> {
    let limit = Decimal::from(list.length_of_stay() + 1);
    let mut findings = Vec::new();
    for (item, lines) in lines_by_item(list) {
        if !context
            .tables
            .items
            .get(item)
            .is_some_and(|i| i.limited_to_stay_plus_one)
        {
            continue;
        }
        let offending = past_limit(lines, limit);
        if !offending.is_empty() {
            findings.push(excess_finding(
                context,
                list,
                Arm::Total,
                item,
                None,
                &offending,
            ));
        }
    }
    findings
}

/// One line of a person's item history across settlements.
struct Charge<'a> {
    at: DateTime,
    settlement: &'a SettlementKey,
    position: u32,
    line: &'a FeeLine,
}

fn period(context: &Context<'_>) -> Vec<Finding> {
    let limits: BTreeMap<&str, PeriodLimit> = context
        .tables
        .items
        .values()
        .filter_map(|item| item.period_limit.map(|limit| (item.code.as_str(), limit)))
        .collect();
    if limits.is_empty() {
        return Vec::new();
    }
    let mut histories: BTreeMap<(&str, &str), Vec<Charge<'_>>> = BTreeMap::new();
    let inpatient = context
        .input
        .lists
        .iter()
        .map(|l| (l.person_id.as_str(), &l.key, &l.lines));
    let ambulatory = context
        .input
        .ambulatory
        .iter()
        .map(|s| (s.person_id.as_str(), &s.key, &s.lines));
    for (person, settlement, lines) in inpatient.chain(ambulatory) {
        for (position, line) in (1u32..).zip(lines) {
            if limits.contains_key(line.item_code.as_str()) {
                histories
                    .entry((person, line.item_code.as_str()))
                    .or_default()
                    .push(Charge {
                        at: line.charged_at,
                        settlement,
                        position,
                        line,
                    });
            }
        }
    }
    let mut findings = Vec::new();
    for ((_, item), mut charges) in histories {
        let Some(limit) = limits.get(item) else {
            continue;
        };
        charges.sort_by(|a, b| {
            (a.at, a.settlement, a.position).cmp(&(b.at, b.settlement, b.position))
        });
        let mut start = 0;
        let mut count = Decimal::ZERO;
        // A window holds at least the line's own day, so `start` never passes the line.
        let days = limit.days.max(1);
        for charge in &charges {
            let window_start = charge.at.date().add_days(1 - days);
            while charges[start].at.date() < window_start {
                count -= charges[start].line.quantity;
                start += 1;
            }
            count += charge.line.quantity;
            if count <= limit.max {
                continue;
            }
            let excess = charge.line.quantity.min(count - limit.max);
            let first = &charges[start];
            let mut finding = context.finding(
                RuleId::OverFrequency,
                Subject::Settlement(charge.settlement.clone()),
            );
            finding.arm = Arm::Period;
            finding.item = Some(item.to_owned());
            finding.date = Some(charge.at.date());
            finding.lines = vec![charge.position];
            finding.other =
                (first.settlement != charge.settlement).then(|| first.settlement.clone());
            finding.amount = amount_at_stake(excess * charge.line.in_policy_unit_amount());
            finding.evidence = vec![
                format!("window={}..{}", window_start, charge.at.date()),
                format!("excess_units={}", excess.normalize()),
            ];
            findings.push(finding);
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AmbulatoryKind;
    use crate::testkit::*;

    const BED: &str = "001101000010000";
    const HBA1C: &str = "002503030010000";
    const DIALYSIS: &str = "003105000010000";

    fn beds(count_on_second_day: &str) -> InpatientList {
        with_lines(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-04 08:00"),
            vec![
                line(BED, 1, "1", "50", "2026-03-01 08:00"),
                line(BED, 1, count_on_second_day, "50", "2026-03-02 08:00"),
            ],
        )
    }

    #[test]
    fn daily_limit_allows_n_and_flags_n_plus_one() {
        assert!(run(RuleId::OverFrequency, vec![beds("1")], vec![]).is_empty());
        let findings = run(RuleId::OverFrequency, vec![beds("2")], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::Daily);
        assert_eq!(findings[0].date, Some(day("2026-03-02")));
        assert_eq!(findings[0].lines, [2]);
        assert_eq!(findings[0].amount, money("50.00"));
    }

    #[test]
    fn daily_offenders_are_the_lines_past_the_limit_in_time_order() {
        let stay = with_lines(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-04 08:00"),
            vec![
                line(BED, 1, "1", "50", "2026-03-02 20:00"),
                line(BED, 1, "1", "50", "2026-03-02 08:00"),
                line(BED, 1, "1", "50", "2026-03-02 12:00"),
            ],
        );
        let findings = run(RuleId::OverFrequency, vec![stay], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].lines, [3, 1]);
        assert_eq!(findings[0].amount, money("100.00"));
    }

    #[test]
    fn only_the_excess_units_are_at_stake() {
        // 3 units at an in-policy 33.33 for 3: one unit allowed, two in excess = 22.22.
        let mut three = line(BED, 1, "3", "11.11", "2026-03-02 08:00");
        three.in_policy_amount = money("33.33");
        let stay = with_lines(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-04 08:00"),
            vec![three],
        );
        let findings = run(RuleId::OverFrequency, vec![stay], vec![]);
        assert_eq!(findings[0].amount, money("22.22"));
        assert_eq!(findings[0].evidence, ["excess_units=2"]);
    }

    #[test]
    fn total_allows_los_plus_one_counting_lines_outside_the_stay() {
        // LOS 2: three bed-days allowed over the list.
        let lines_on = |days: &[&str]| {
            days.iter()
                .map(|d| line(BED, 1, "1", "50", &format!("{d} 08:00")))
                .collect::<Vec<_>>()
        };
        let stay = |lines| {
            with_lines(
                list("L1", "P1", "2026-03-01 08:00", "2026-03-03 08:00"),
                lines,
            )
        };
        let three = stay(lines_on(&["2026-03-01", "2026-03-02", "2026-03-03"]));
        assert!(run(RuleId::OverFrequency, vec![three], vec![]).is_empty());
        let four = stay(lines_on(&[
            "2026-02-28",
            "2026-03-01",
            "2026-03-02",
            "2026-03-03",
        ]));
        let findings = run(RuleId::OverFrequency, vec![four], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::Total);
        assert_eq!(findings[0].date, None);
        assert_eq!(findings[0].lines, [4]);
        assert_eq!(findings[0].amount, money("50.00"));
    }

    fn hba1c_at(hospital: &str, id: &str, settled: &str) -> crate::model::AmbulatorySettlement {
        let mut settlement = ambulatory(hospital, id, "P1", AmbulatoryKind::Outpatient, settled);
        settlement.lines = vec![line(HBA1C, 4, "1", "60", settled)];
        settlement
    }

    #[test]
    fn period_limit_spans_institutions_and_days_d_minus_n_plus_one_to_d() {
        // HbA1c: at most 1 in 90 days. 2026-01-01 + 89 days = 2026-03-31, still in the window.
        let first = hba1c_at("H1", "O1", "2026-01-01 09:00");
        let inside = hba1c_at("H2", "O2", "2026-03-31 09:00");
        let findings = run(RuleId::OverFrequency, vec![], vec![first.clone(), inside]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::Period);
        assert_eq!(
            findings[0].subject,
            Subject::Settlement(SettlementKey::new("H2", "O2"))
        );
        assert_eq!(findings[0].other, Some(SettlementKey::new("H1", "O1")));
        assert_eq!(findings[0].lines, [1]);
        assert_eq!(findings[0].amount, money("60.00"));

        let outside = hba1c_at("H2", "O2", "2026-04-01 09:00");
        assert!(run(RuleId::OverFrequency, vec![], vec![first, outside]).is_empty());
    }

    #[test]
    fn period_limit_within_one_settlement_names_no_other() {
        // Dialysis: daily 1, at most 3 in 7 days; four sessions in four days of one stay.
        let sessions = (1..=4)
            .map(|d| line(DIALYSIS, 5, "1", "400", &format!("2026-03-0{d} 08:00")))
            .collect();
        let stay = with_lines(
            list("L1", "P1", "2026-03-01 07:00", "2026-03-05 08:00"),
            sessions,
        );
        let findings = run(RuleId::OverFrequency, vec![stay], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].date, Some(day("2026-03-04")));
        assert_eq!(findings[0].other, None);
        assert_eq!(findings[0].lines, [4]);
        // Another person's sessions are their own.
        let mut other_person = hba1c_at("H1", "O9", "2026-03-02 09:00");
        other_person.person_id = "P2".into();
        let mut mine = hba1c_at("H1", "O1", "2026-03-01 09:00");
        mine.person_id = "P1".into();
        assert!(run(RuleId::OverFrequency, vec![], vec![mine, other_person]).is_empty());
    }
}
