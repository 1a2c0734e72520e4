//! Rules about the stay itself: 4 low-standard admission, 13 bed-blocking, 17 very long stay,
//! 18 cost shifted to self-pay (DOMAIN.md §6 "Screening: precise defaults").

use kernel::{Date, Decimal};

use crate::catalogue::RuleId;
use crate::finding::{Arm, Finding, amount_at_stake};
use crate::screening::Context;

/// Rule 4. (a) a short stay without a procedure that its discharge type does not explain;
/// (b) a stay mostly of examinations and labs that costs well under its DRG's published mean.
pub fn low_standard_admission(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    let mut findings = Vec::new();
    for list in &context.input.lists {
        if list.length_of_stay() <= parameters.low_standard_max_los
            && list.procedures.is_empty()
            && !parameters
                .low_standard_exempt_discharges
                .contains(&list.discharge_type)
        {
            let mut finding = context.list_finding(RuleId::LowStandardAdmission, list);
            finding.arm = Arm::A;
            finding.evidence = vec![format!("los={}", list.length_of_stay())];
            findings.push(finding);
        }
        let Some(mean) = list
            .drg
            .as_deref()
            .and_then(|drg| context.tables.group_means.get(drg))
        else {
            continue;
        };
        let exam_and_lab: Decimal = list
            .lines
            .iter()
            .filter(|line| line.category.is_exam_or_lab())
            .map(|line| line.amount.value())
            .sum();
        let total = list.total_cost.value();
        if exam_and_lab >= parameters.exam_lab_min_share * total
            && total < parameters.low_cost_ratio * mean.mean_cost.value()
        {
            let mut finding = context.list_finding(RuleId::LowStandardAdmission, list);
            finding.arm = Arm::B;
            finding.evidence = vec![
                format!("exam_lab={exam_and_lab}"),
                format!("group_mean={}", mean.mean_cost),
            ];
            findings.push(finding);
        }
    }
    findings
}

/// Rule 13, 挂床住院: runs of at least N stay days (admission date .. discharge date − 1) without
/// any care charge. One finding per list; its lines are every line on the days of those runs.
pub fn bed_blocking(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    let minimum_run = parameters.bed_blocking_days.max(1);
    let mut findings = Vec::new();
    for list in &context.input.lists {
        let first = list.admitted_at.date();
        let last = list.discharged_at.date().add_days(-1);
        let cared = |day: Date| {
            list.lines.iter().any(|line| {
                line.date() == day && parameters.care_categories.contains(&line.category)
            })
        };
        let mut runs: Vec<(Date, Date)> = Vec::new();
        let mut current: Option<(Date, Date)> = None;
        let mut day = first;
        while day <= last {
            if cared(day) {
                runs.extend(current.take());
            } else {
                current = Some(current.map_or((day, day), |(start, _)| (start, day)));
            }
            day = day.add_days(1);
        }
        runs.extend(current);
        runs.retain(|(start, end)| end.days_since(*start) + 1 >= minimum_run as i32);
        let Some((first_empty, _)) = runs.first().copied() else {
            continue;
        };
        let in_runs = |day: Date| runs.iter().any(|(start, end)| *start <= day && day <= *end);
        let mut finding = context.finding(
            RuleId::BedBlocking,
            crate::finding::Subject::Settlement(list.key.clone()),
        );
        let offending: Vec<_> = list
            .numbered_lines()
            .filter(|(_, line)| in_runs(line.date()))
            .collect();
        finding.lines = offending.iter().map(|(position, _)| *position).collect();
        finding.amount = amount_at_stake(
            offending
                .iter()
                .map(|(_, line)| line.in_policy_amount.value())
                .sum(),
        );
        finding.date = Some(first_empty);
        finding.evidence = runs
            .iter()
            .map(|(start, end)| format!("{start}..{end}"))
            .collect();
        findings.push(finding);
    }
    findings
}

/// Rule 17: a stay of at least 60 days that is not a per-diem stay.
pub fn very_long_stay(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    context
        .input
        .lists
        .iter()
        .filter(|list| {
            list.length_of_stay() >= parameters.very_long_stay_days
                && list.med_type != parameters.per_diem_med_type
        })
        .map(|list| {
            let mut finding = context.list_finding(RuleId::VeryLongStay, list);
            finding.evidence = vec![format!("los={}", list.length_of_stay())];
            finding
        })
        .collect()
}

/// Rule 18: wholly self-paid cost above 15 % of the total (exactly 15 % is no finding).
pub fn self_pay_shift(context: &Context<'_>) -> Vec<Finding> {
    let share = context.parameters().self_pay_max_share;
    context
        .input
        .lists
        .iter()
        .filter(|list| list.full_self_pay.value() > share * list.total_cost.value())
        .map(|list| {
            let mut finding = context.list_finding(RuleId::SelfPayShift, list);
            finding.evidence = vec![format!("self_pay={}", list.full_self_pay)];
            finding
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DischargeType;
    use crate::testkit::*;

    #[test]
    fn low_standard_a_is_two_days_without_procedure() {
        let two_days = list("L1", "P1", "2026-03-01 08:00", "2026-03-03 20:00");
        let findings = run(RuleId::LowStandardAdmission, vec![two_days.clone()], vec![]);
        assert_eq!(flagged(&findings), ["L1"]);
        assert_eq!(findings[0].arm, Arm::A);
        assert_eq!(findings[0].amount, money("800.00"));

        let three_days = list("L2", "P1", "2026-03-01 08:00", "2026-03-04 07:00");
        assert!(run(RuleId::LowStandardAdmission, vec![three_days], vec![]).is_empty());
        let operated = with_procedure(two_days.clone(), "47.0100x001");
        assert!(run(RuleId::LowStandardAdmission, vec![operated], vec![]).is_empty());
        for exempt in [
            DischargeType::OrderedTransfer,
            DischargeType::AgainstAdvice,
            DischargeType::Death,
        ] {
            let mut left = two_days.clone();
            left.discharge_type = exempt;
            assert!(run(RuleId::LowStandardAdmission, vec![left], vec![]).is_empty());
        }
        let mut to_community = two_days;
        to_community.discharge_type = DischargeType::TransferToCommunity;
        assert_eq!(
            run(RuleId::LowStandardAdmission, vec![to_community], vec![]).len(),
            1
        );
    }

    /// A five-day ES23 stay (demo mean 8,600.00, so cheap below 3,440.00) with `exam` in
    /// examinations and `other` in drugs.
    fn cheap_stay(total: &str, exam: &str, other: &str) -> crate::model::InpatientList {
        let mut stay = with_drg(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-06 08:00"),
            "ES23",
        );
        stay.total_cost = money(total);
        with_lines(
            stay,
            vec![
                line("002201000010000", 3, "1", exam, "2026-03-01 09:00"),
                line("XJ01DDA001", 9, "1", other, "2026-03-01 10:00"),
            ],
        )
    }

    #[test]
    fn low_standard_b_is_exams_at_70_percent_under_0_4_of_the_mean() {
        let at_share = run(
            RuleId::LowStandardAdmission,
            vec![cheap_stay("3000.00", "2100.00", "900.00")],
            vec![],
        );
        assert_eq!(at_share.len(), 1);
        assert_eq!(at_share[0].arm, Arm::B);

        let under_share = run(
            RuleId::LowStandardAdmission,
            vec![cheap_stay("3000.00", "2099.99", "900.01")],
            vec![],
        );
        assert!(under_share.is_empty());
        // 0.4 × 8,600.00 = 3,440.00: a stay costing exactly that is not cheap.
        let at_limit = run(
            RuleId::LowStandardAdmission,
            vec![cheap_stay("3440.00", "3000.00", "440.00")],
            vec![],
        );
        assert!(at_limit.is_empty());
        let just_under = run(
            RuleId::LowStandardAdmission,
            vec![cheap_stay("3439.99", "3000.00", "439.99")],
            vec![],
        );
        assert_eq!(just_under.len(), 1);
    }

    #[test]
    fn low_standard_b_skips_ungrouped_lists_and_groups_without_a_mean() {
        let mut ungrouped = cheap_stay("3000.00", "2900.00", "100.00");
        ungrouped.drg = None;
        let mut unknown = cheap_stay("3000.00", "2900.00", "100.00");
        unknown.drg = Some("ZZ99".into());
        assert!(
            run(
                RuleId::LowStandardAdmission,
                vec![ungrouped, unknown],
                vec![]
            )
            .is_empty()
        );
    }

    /// A stay 03-01 → 03-08 (stay days 03-01..03-07) with care on the given days and a bed line
    /// every day.
    fn stay_with_care(care_days: &[u32]) -> crate::model::InpatientList {
        let mut lines = Vec::new();
        for d in 1..=7 {
            lines.push(line(
                "001101000010000",
                1,
                "1",
                "50",
                &format!("2026-03-0{d} 08:00"),
            ));
            if care_days.contains(&d) {
                lines.push(line(
                    "001201000010000",
                    7,
                    "1",
                    "30",
                    &format!("2026-03-0{d} 09:00"),
                ));
            }
        }
        with_lines(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-08 10:00"),
            lines,
        )
    }

    #[test]
    fn bed_blocking_needs_three_empty_days_in_a_row() {
        // Empty 03-03, 03-04, 03-05, whose bed lines are at positions 5, 6, 7.
        let findings = run(
            RuleId::BedBlocking,
            vec![stay_with_care(&[1, 2, 6, 7])],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].date, Some(day("2026-03-03")));
        assert_eq!(findings[0].lines, [5, 6, 7]);
        assert_eq!(findings[0].amount, money("150.00"));

        let two_empty = run(
            RuleId::BedBlocking,
            vec![stay_with_care(&[1, 2, 5, 6, 7])],
            vec![],
        );
        assert!(two_empty.is_empty());
    }

    #[test]
    fn bed_blocking_counts_only_runs_long_enough_and_not_the_discharge_day() {
        // Empty 03-02 alone (too short) and 03-05..03-07; the discharge day 03-08 is no stay day.
        let findings = run(
            RuleId::BedBlocking,
            vec![stay_with_care(&[1, 3, 4])],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].date, Some(day("2026-03-05")));
        assert_eq!(findings[0].evidence, ["2026-03-05..2026-03-07"]);
        assert_eq!(findings[0].lines.len(), 3);
        let cared_to_the_end = run(
            RuleId::BedBlocking,
            vec![stay_with_care(&[1, 3, 4, 6])],
            vec![],
        );
        assert!(cared_to_the_end.is_empty());
    }

    #[test]
    fn very_long_stay_is_60_days_outside_per_diem() {
        let sixty = list("L1", "P1", "2026-01-01 08:00", "2026-03-02 08:00");
        assert_eq!(sixty.length_of_stay(), 60);
        assert_eq!(
            flagged(&run(RuleId::VeryLongStay, vec![sixty.clone()], vec![])),
            ["L1"]
        );
        let fifty_nine = list("L2", "P1", "2026-01-01 08:00", "2026-03-01 23:00");
        assert!(run(RuleId::VeryLongStay, vec![fifty_nine], vec![]).is_empty());
        let mut per_diem = sixty;
        per_diem.med_type = "2105".into();
        assert!(run(RuleId::VeryLongStay, vec![per_diem], vec![]).is_empty());
    }

    #[test]
    fn self_pay_above_15_percent_exactly_15_is_none() {
        let mut at_limit = list("L1", "P1", "2026-03-01 08:00", "2026-03-05 08:00");
        at_limit.full_self_pay = money("150.00");
        assert!(run(RuleId::SelfPayShift, vec![at_limit.clone()], vec![]).is_empty());
        let mut above = at_limit;
        above.full_self_pay = money("150.01");
        assert_eq!(
            flagged(&run(RuleId::SelfPayShift, vec![above], vec![])),
            ["L1"]
        );
    }
}
