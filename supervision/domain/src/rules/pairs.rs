//! Rules 1–3: a stay against the same person's immediately preceding stay at the same hospital
//! (DOMAIN.md §6 "Pairs"). gap = later admission date − earlier discharge date; the finding is on
//! the later list and names the earlier.

use crate::catalogue::RuleId;
use crate::finding::Finding;
use crate::model::InpatientList;
use crate::screening::Context;

fn gap_days(earlier: &InpatientList, later: &InpatientList) -> i32 {
    later
        .admitted_at
        .date()
        .days_since(earlier.discharged_at.date())
}

fn pair_finding(
    context: &Context<'_>,
    rule: RuleId,
    earlier: &InpatientList,
    later: &InpatientList,
) -> Finding {
    let mut finding = context.list_finding(rule, later);
    finding.other = Some(earlier.key.clone());
    finding.evidence = vec![format!("gap_days={}", gap_days(earlier, later))];
    finding
}

/// Pairs whose gap lies in 0..=the readmission window.
fn readmissions<'a>(
    context: &'a Context<'a>,
) -> impl Iterator<Item = (&'a InpatientList, &'a InpatientList)> + 'a {
    let window = context.parameters().readmission_window_days;
    context
        .consecutive_stays()
        .filter(move |(earlier, later)| (0..=window).contains(&gap_days(earlier, later)))
}

fn same_condition(earlier: &InpatientList, later: &InpatientList) -> bool {
    let same_category = match (earlier.principal(), later.principal()) {
        (Some(a), Some(b)) => a.category().eq_ignore_ascii_case(b.category()),
        _ => false,
    };
    let same_adrg = matches!((earlier.adrg(), later.adrg()), (Some(a), Some(b)) if a == b);
    same_category || same_adrg
}

fn planned_cycle(context: &Context<'_>, earlier: &InpatientList, later: &InpatientList) -> bool {
    let parameters = context.parameters();
    let planned_group = later
        .adrg()
        .is_some_and(|adrg| parameters.planned_cycle_adrgs.iter().any(|p| p == adrg));
    let planned_principal = later.principal().is_some_and(|principal| {
        let code = principal.code.to_ascii_uppercase();
        parameters
            .planned_cycle_principals
            .iter()
            .any(|prefix| code.starts_with(&prefix.to_ascii_uppercase()))
    });
    earlier.planned_readmission || planned_group || planned_principal
}

/// Rule 1, 分解住院.
pub fn split_admission(context: &Context<'_>) -> Vec<Finding> {
    let excluded = &context.parameters().split_excluded_discharges;
    readmissions(context)
        .filter(|(earlier, later)| {
            same_condition(earlier, later)
                && !excluded.contains(&earlier.discharge_type)
                && !planned_cycle(context, earlier, later)
        })
        .map(|(earlier, later)| pair_finding(context, RuleId::SplitAdmission, earlier, later))
        .collect()
}

/// Rule 2, 15日内再入院: any readmission in the window, no exclusions.
pub fn readmission(context: &Context<'_>) -> Vec<Finding> {
    readmissions(context)
        .map(|(earlier, later)| pair_finding(context, RuleId::Readmission15Days, earlier, later))
        .collect()
}

/// Rule 3: readmitted to the same hospital on the day of discharge.
pub fn same_day_readmission(context: &Context<'_>) -> Vec<Finding> {
    context
        .consecutive_stays()
        .filter(|(earlier, later)| gap_days(earlier, later) == 0)
        .map(|(earlier, later)| pair_finding(context, RuleId::SameDayReadmission, earlier, later))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DischargeType, SettlementKey};
    use crate::testkit::*;

    fn first_stay() -> InpatientList {
        with_principal(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-10 10:00"),
            "J18.900",
        )
    }

    fn readmitted(on: &str, principal: &str) -> InpatientList {
        with_principal(list("L2", "P1", on, "2026-04-20 10:00"), principal)
    }

    #[test]
    fn split_admission_counts_day_15_not_day_16() {
        let day_15 = run(
            RuleId::SplitAdmission,
            vec![first_stay(), readmitted("2026-03-25 09:00", "J18.000")],
            vec![],
        );
        assert_eq!(flagged(&day_15), ["L2"]);
        assert_eq!(day_15[0].other, Some(key("L1")));
        assert_eq!(day_15[0].amount, money("800.00"));
        assert_eq!(day_15[0].evidence, ["gap_days=15"]);

        let day_16 = run(
            RuleId::SplitAdmission,
            vec![first_stay(), readmitted("2026-03-26 09:00", "J18.000")],
            vec![],
        );
        assert!(day_16.is_empty());
    }

    #[test]
    fn split_admission_needs_the_same_category_or_adrg() {
        let other_disease = run(
            RuleId::SplitAdmission,
            vec![first_stay(), readmitted("2026-03-12 09:00", "K35.800")],
            vec![],
        );
        assert!(other_disease.is_empty());
        let same_adrg = run(
            RuleId::SplitAdmission,
            vec![
                with_drg(first_stay(), "ES23"),
                with_drg(readmitted("2026-03-12 09:00", "J44.100"), "ES21"),
            ],
            vec![],
        );
        assert_eq!(flagged(&same_adrg), ["L2"]);
    }

    #[test]
    fn split_admission_spares_deaths_transfers_and_planned_cycles() {
        for discharge in [
            DischargeType::OrderedTransfer,
            DischargeType::TransferToCommunity,
        ] {
            let mut earlier = first_stay();
            earlier.discharge_type = discharge;
            let later = readmitted("2026-03-12 09:00", "J18.000");
            assert!(run(RuleId::SplitAdmission, vec![earlier, later], vec![]).is_empty());
        }
        let mut planned = first_stay();
        planned.planned_readmission = true;
        let later = readmitted("2026-03-12 09:00", "J18.000");
        assert!(run(RuleId::SplitAdmission, vec![planned, later], vec![]).is_empty());

        let chemo = readmitted("2026-03-12 09:00", "Z51.100x002");
        let chemo_first = with_principal(first_stay(), "Z51.100");
        assert!(run(RuleId::SplitAdmission, vec![chemo_first, chemo], vec![]).is_empty());
        let dialysis = with_drg(readmitted("2026-03-12 09:00", "J18.000"), "LL11");
        assert!(run(RuleId::SplitAdmission, vec![first_stay(), dialysis], vec![]).is_empty());
        // A Z51 code outside the listed prefixes is no planned cycle.
        let rehab = readmitted("2026-03-12 09:00", "Z51.800");
        let rehab_first = with_principal(first_stay(), "Z51.800");
        assert_eq!(
            flagged(&run(
                RuleId::SplitAdmission,
                vec![rehab_first, rehab],
                vec![]
            )),
            ["L2"]
        );
    }

    #[test]
    fn pairs_are_per_hospital_and_with_the_immediately_preceding_stay() {
        let mut elsewhere = readmitted("2026-03-12 09:00", "J18.000");
        elsewhere.key = SettlementKey::new("H9", "L2");
        assert!(
            run(
                RuleId::SplitAdmission,
                vec![first_stay(), elsewhere],
                vec![]
            )
            .is_empty()
        );

        // L1 → L3 (other disease) → L2: L2 pairs with L3 only.
        let middle = with_principal(
            list("L3", "P1", "2026-03-11 09:00", "2026-03-11 18:00"),
            "K35.800",
        );
        let last = with_principal(
            list("L2", "P1", "2026-03-13 09:00", "2026-03-14 09:00"),
            "J18.000",
        );
        assert!(
            run(
                RuleId::SplitAdmission,
                vec![last, first_stay(), middle],
                vec![]
            )
            .is_empty()
        );
    }

    #[test]
    fn readmission_flags_any_cause_and_death_but_not_day_16() {
        let mut died = first_stay();
        died.discharge_type = DischargeType::Death;
        let findings = run(
            RuleId::Readmission15Days,
            vec![died, readmitted("2026-03-25 23:00", "K35.800")],
            vec![],
        );
        assert_eq!(flagged(&findings), ["L2"]);
        let late = run(
            RuleId::Readmission15Days,
            vec![first_stay(), readmitted("2026-03-26 00:00", "K35.800")],
            vec![],
        );
        assert!(late.is_empty());
    }

    #[test]
    fn same_day_readmission_is_gap_zero_at_the_same_hospital() {
        let same_day = run(
            RuleId::SameDayReadmission,
            vec![first_stay(), readmitted("2026-03-10 15:00", "K35.800")],
            vec![],
        );
        assert_eq!(flagged(&same_day), ["L2"]);
        assert_eq!(same_day[0].level, crate::catalogue::RuleLevel::General);
        let next_day = run(
            RuleId::SameDayReadmission,
            vec![first_stay(), readmitted("2026-03-11 08:00", "K35.800")],
            vec![],
        );
        assert!(next_day.is_empty());
        let mut transfer = readmitted("2026-03-10 15:00", "K35.800");
        transfer.key = SettlementKey::new("H9", "L2");
        assert!(
            run(
                RuleId::SameDayReadmission,
                vec![first_stay(), transfer],
                vec![]
            )
            .is_empty()
        );
    }
}
