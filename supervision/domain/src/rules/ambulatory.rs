//! Rules 7 and 8: costs of a stay settled as outpatient or pharmacy care, before the admission or
//! during the stay (DOMAIN.md §6 "Screening: precise defaults"). The finding is on the inpatient
//! list and names the ambulatory settlement; its lines are that settlement's.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Date, Decimal};

use crate::catalogue::RuleId;
use crate::finding::{Finding, amount_at_stake};
use crate::model::{AmbulatoryKind, AmbulatorySettlement, FeeLine, InpatientList, category_of};
use crate::parameters::Parameters;
use crate::screening::Context;

/// The first day an ambulatory settlement rules 7 and 8 can flag on `lists` may have been
/// settled: the earliest admission less the outpatient lookback (rule 8 only looks inside the
/// stays, which start later). `None` without lists. Supervision's ScreenCases reads the
/// ambulatory settlements from this day's month to the screened month.
pub fn first_relevant_day(lists: &[InpatientList], parameters: &Parameters) -> Option<Date> {
    lists
        .iter()
        .map(|list| list.admitted_at.date())
        .min()
        .map(|day| day.add_days(-parameters.outpatient_lookback_days.max(0)))
}

/// Keeps the settlements rules 7 and 8 can flag on `lists`: those of a person with a stay among
/// them (both rules pair a settlement with a stay of the same person). Supervision's ScreenCases
/// applies it to what it streams so that a region's ambulatory care is not held whole.
pub fn retain_relevant(settlements: &mut Vec<AmbulatorySettlement>, lists: &[InpatientList]) {
    let persons: BTreeSet<&str> = lists.iter().map(|list| list.person_id.as_str()).collect();
    settlements.retain(|settlement| persons.contains(settlement.person_id.as_str()));
}

fn by_person<'a>(context: &Context<'a>) -> BTreeMap<&'a str, Vec<&'a AmbulatorySettlement>> {
    let mut map: BTreeMap<&str, Vec<&AmbulatorySettlement>> = BTreeMap::new();
    for settlement in &context.input.ambulatory {
        map.entry(settlement.person_id.as_str())
            .or_default()
            .push(settlement);
    }
    map
}

fn settlement_finding<'l>(
    context: &Context<'_>,
    rule: RuleId,
    list: &InpatientList,
    settlement: &AmbulatorySettlement,
    lines: impl Iterator<Item = (u32, &'l FeeLine)>,
) -> Finding {
    let mut finding = context.finding(rule, crate::finding::Subject::Settlement(list.key.clone()));
    let mut raw = Decimal::ZERO;
    for (position, line) in lines {
        finding.lines.push(position);
        raw += line.in_policy_amount.value();
    }
    finding.amount = amount_at_stake(raw);
    finding.other = Some(settlement.key.clone());
    finding
}

/// Rule 7: an outpatient or chronic-outpatient settlement at the same institution, settled
/// before the admission time and 0–7 days before the admission date, for the admission's
/// diagnosis (same 3 characters), with examinations or labs.
pub fn costs_moved_to_outpatient(context: &Context<'_>) -> Vec<Finding> {
    let lookback = context.parameters().outpatient_lookback_days;
    let settlements = by_person(context);
    let mut findings = Vec::new();
    for list in &context.input.lists {
        let Some(principal) = list.principal() else {
            continue;
        };
        let category = principal.category();
        for settlement in settlements
            .get(list.person_id.as_str())
            .into_iter()
            .flatten()
        {
            let days_before = list
                .admitted_at
                .date()
                .days_since(settlement.settled_at.date());
            let relevant = settlement.key.hospital == list.key.hospital
                && matches!(
                    settlement.kind,
                    AmbulatoryKind::Outpatient | AmbulatoryKind::ChronicOutpatient
                )
                && settlement.settled_at < list.admitted_at
                && (0..=lookback).contains(&days_before)
                && settlement
                    .diagnoses
                    .iter()
                    .any(|code| category_of(code).eq_ignore_ascii_case(category));
            let exam_lines: Vec<(u32, &FeeLine)> = settlement
                .numbered_lines()
                .filter(|(_, line)| line.category.is_exam_or_lab())
                .collect();
            if relevant && !exam_lines.is_empty() {
                findings.push(settlement_finding(
                    context,
                    RuleId::CostsMovedToOutpatient,
                    list,
                    settlement,
                    exam_lines.into_iter(),
                ));
            }
        }
    }
    findings
}

/// Rule 8: any ambulatory settlement of the person, at any institution, settled strictly inside
/// the stay.
pub fn ambulatory_during_stay(context: &Context<'_>) -> Vec<Finding> {
    let settlements = by_person(context);
    let mut findings = Vec::new();
    for list in &context.input.lists {
        for settlement in settlements
            .get(list.person_id.as_str())
            .into_iter()
            .flatten()
        {
            if list.admitted_at < settlement.settled_at
                && settlement.settled_at < list.discharged_at
            {
                findings.push(settlement_finding(
                    context,
                    RuleId::AmbulatoryDuringStay,
                    list,
                    settlement,
                    settlement.numbered_lines(),
                ));
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SettlementKey;
    use crate::testkit::*;

    fn stay() -> InpatientList {
        with_principal(
            list("L1", "P1", "2026-03-10 09:00", "2026-03-15 09:00"),
            "J18.900",
        )
    }

    fn outpatient(settled: &str) -> AmbulatorySettlement {
        let mut settlement = ambulatory(HOSPITAL, "O1", "P1", AmbulatoryKind::Outpatient, settled);
        settlement.diagnoses = vec!["J18.000".into()];
        settlement.lines = vec![
            line("002201000010000", 3, "1", "150", settled),
            line("XJ01DDA001", 9, "2", "12.5", settled),
            line("002501010010000", 4, "1", "20", settled),
        ];
        settlement
    }

    #[test]
    fn outpatient_exams_up_to_7_days_before_admission_are_moved_costs() {
        let findings = run(
            RuleId::CostsMovedToOutpatient,
            vec![stay()],
            vec![outpatient("2026-03-03 16:00")],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].other, Some(key("O1")));
        assert_eq!(findings[0].lines, [1, 3]);
        assert_eq!(findings[0].amount, money("170.00"));

        let eight_days = run(
            RuleId::CostsMovedToOutpatient,
            vec![stay()],
            vec![outpatient("2026-03-02 23:59")],
        );
        assert!(eight_days.is_empty());
    }

    #[test]
    fn moved_costs_are_settled_before_the_admission_time_at_the_same_institution() {
        let same_day_before = run(
            RuleId::CostsMovedToOutpatient,
            vec![stay()],
            vec![outpatient("2026-03-10 08:59")],
        );
        assert_eq!(same_day_before.len(), 1);
        let same_day_after = run(
            RuleId::CostsMovedToOutpatient,
            vec![stay()],
            vec![outpatient("2026-03-10 09:00")],
        );
        assert!(same_day_after.is_empty());
        let mut elsewhere = outpatient("2026-03-09 08:00");
        elsewhere.key = SettlementKey::new("H9", "O1");
        assert!(
            run(
                RuleId::CostsMovedToOutpatient,
                vec![stay()],
                vec![elsewhere]
            )
            .is_empty()
        );
        let mut pharmacy = outpatient("2026-03-09 08:00");
        pharmacy.kind = AmbulatoryKind::Pharmacy;
        assert!(run(RuleId::CostsMovedToOutpatient, vec![stay()], vec![pharmacy]).is_empty());
    }

    #[test]
    fn moved_costs_need_the_diagnosis_and_an_exam_or_lab() {
        let mut other_disease = outpatient("2026-03-09 08:00");
        other_disease.diagnoses = vec!["K35.800".into()];
        assert!(
            run(
                RuleId::CostsMovedToOutpatient,
                vec![stay()],
                vec![other_disease]
            )
            .is_empty()
        );
        let mut drugs_only = outpatient("2026-03-09 08:00");
        drugs_only.lines.retain(|l| !l.category.is_exam_or_lab());
        assert!(
            run(
                RuleId::CostsMovedToOutpatient,
                vec![stay()],
                vec![drugs_only]
            )
            .is_empty()
        );
        let mut chronic = outpatient("2026-03-09 08:00");
        chronic.kind = AmbulatoryKind::ChronicOutpatient;
        assert_eq!(
            run(RuleId::CostsMovedToOutpatient, vec![stay()], vec![chronic]).len(),
            1
        );
    }

    #[test]
    fn the_relevant_settlements_start_a_lookback_before_the_first_admission_and_are_the_patients() {
        let parameters = Parameters::default();
        let early = list("L0", "P2", "2026-02-27 10:00", "2026-03-02 09:00");
        assert_eq!(
            first_relevant_day(&[stay(), early.clone()], &parameters),
            Some(at("2026-02-20 00:00").date())
        );
        assert_eq!(first_relevant_day(&[], &parameters), None);
        let mut settlements = vec![
            outpatient("2026-03-09 08:00"),
            outpatient("2026-03-09 09:00"),
        ];
        settlements[1].person_id = "P3".into();
        retain_relevant(&mut settlements, &[stay(), early]);
        assert_eq!(settlements.len(), 1);
        assert_eq!(settlements[0].person_id, "P1");
    }

    #[test]
    fn settlements_strictly_inside_the_stay_anywhere_are_flagged_with_all_lines() {
        let mut pharmacy = ambulatory(
            "P46001",
            "Y1",
            "P1",
            AmbulatoryKind::Pharmacy,
            "2026-03-12 11:00",
        );
        pharmacy.lines = vec![
            line("XC10AAA001", 9, "28", "2.3", "2026-03-12 11:00"),
            line("XB05BAA001", 9, "1", "398", "2026-03-12 11:00"),
        ];
        let findings = run(
            RuleId::AmbulatoryDuringStay,
            vec![stay()],
            vec![pharmacy.clone()],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].other, Some(SettlementKey::new("P46001", "Y1")));
        assert_eq!(findings[0].lines, [1, 2]);
        assert_eq!(findings[0].amount, money("462.40"));

        for edge in ["2026-03-10 09:00", "2026-03-15 09:00"] {
            let mut at_edge = pharmacy.clone();
            at_edge.settled_at = at(edge);
            assert!(run(RuleId::AmbulatoryDuringStay, vec![stay()], vec![at_edge]).is_empty());
        }
        let mut someone_else = pharmacy;
        someone_else.person_id = "P2".into();
        assert!(
            run(
                RuleId::AmbulatoryDuringStay,
                vec![stay()],
                vec![someone_else]
            )
            .is_empty()
        );
    }
}
