use super::*;
use crate::{Simulation, SimulationConfig};

fn case(institution: &str, list_id: &str) -> CaseRef {
    CaseRef::new(institution, list_id)
}

fn finding(rule: u8, on: (&str, &str), other: Option<(&str, &str)>) -> FindingRef {
    FindingRef {
        rule,
        case: case(on.0, on.1),
        other: other.map(|(h, l)| case(h, l)),
    }
}

/// Four seeded cases and ten findings, scored by hand:
/// - rule 1: the split's own pair (true) and a later pair naming the split stay as its
///   earlier one (false: it does not name the split's earlier stay) → 1 of 1 found, 1 of 2;
/// - rule 2: the same pair (true) and a pair nothing seeded (false) → 1 of 1, 1 of 2;
/// - rule 7: the stay naming the shifted settlement → 1 of 1, 1 of 1;
/// - rule 10: nothing seeded for it, one finding → no recall, 0 of 1;
/// - rule 12: two findings on one duplicate (both true, one case found), one on the same list
///   id at another hospital (false), the second duplicate missed → 1 of 2, 2 of 3;
/// - a finding of rule 99 is set apart.
fn hand_checked() -> (Seeded, Vec<FindingRef>) {
    let mut seeded = Seeded::new(2025);
    seeded.add(Target {
        irregularity: Some(Irregularity::SplitAdmission),
        case: case("H1", "ZY2"),
        related: Some(case("H1", "ZY1")),
        rules: vec![RuleId::SplitAdmission, RuleId::Readmission15Days],
    });
    for (hospital, list) in [("H1", "ZY3"), ("H2", "ZY4")] {
        seeded.add(Target {
            irregularity: Some(Irregularity::DuplicateCharge),
            case: case(hospital, list),
            related: None,
            rules: vec![RuleId::OverFrequency],
        });
    }
    seeded.add(Target {
        irregularity: Some(Irregularity::CostShiftedToOutpatient),
        case: case("H1", "MZ5"),
        related: Some(case("H1", "ZY6")),
        rules: vec![RuleId::CostsMovedToOutpatient],
    });
    let findings = vec![
        finding(1, ("H1", "ZY2"), Some(("H1", "ZY1"))),
        finding(1, ("H1", "ZY7"), Some(("H1", "ZY2"))),
        finding(2, ("H1", "ZY2"), Some(("H1", "ZY1"))),
        finding(2, ("H2", "ZY8"), Some(("H2", "ZY9"))),
        finding(12, ("H1", "ZY3"), None),
        finding(12, ("H1", "ZY3"), None),
        finding(12, ("H2", "ZY3"), None),
        finding(7, ("H1", "ZY6"), Some(("H1", "MZ5"))),
        finding(10, ("H1", "ZY3"), None),
        finding(99, ("H1", "ZY3"), None),
    ];
    (seeded, findings)
}

#[test]
fn a_hand_checked_year_scores_recall_and_precision_per_rule() {
    let (seeded, findings) = hand_checked();
    let scores = seeded.score(findings);
    let line = |rule: RuleId| {
        let s = scores.rule(rule).expect("a line for the rule");
        (
            s.seeded,
            s.found,
            s.findings,
            s.true_positives,
            s.false_positives(),
        )
    };
    assert_eq!(line(RuleId::SplitAdmission), (1, 1, 2, 1, 1));
    assert_eq!(line(RuleId::Readmission15Days), (1, 1, 2, 1, 1));
    assert_eq!(line(RuleId::CostsMovedToOutpatient), (1, 1, 1, 1, 0));
    assert_eq!(line(RuleId::DuplicateCharging), (0, 0, 1, 0, 1));
    assert_eq!(line(RuleId::OverFrequency), (2, 1, 3, 2, 1));
    let numbers: Vec<u8> = scores.rules.iter().map(|s| s.rule.number()).collect();
    assert_eq!(
        numbers,
        [1, 2, 7, 10, 12],
        "rules with a target or a finding, in order"
    );
    assert_eq!(scores.unknown_rules, 1);

    let percent_of = |rule: RuleId| {
        let s = scores.rule(rule).expect("line");
        (percent_text(s.recall()), percent_text(s.precision()))
    };
    assert_eq!(
        percent_of(RuleId::SplitAdmission),
        ("100.0%".into(), "50.0%".into())
    );
    assert_eq!(
        percent_of(RuleId::OverFrequency),
        ("50.0%".into(), "66.7%".into())
    );
    assert_eq!(
        percent_of(RuleId::DuplicateCharging),
        ("–".into(), "0.0%".into())
    );
    assert!(
        scores
            .rule(RuleId::SplitAdmission)
            .expect("line")
            .recall_at_least(95)
    );
    assert!(
        !scores
            .rule(RuleId::OverFrequency)
            .expect("line")
            .recall_at_least(95)
    );
    assert!(
        !scores
            .rule(RuleId::DuplicateCharging)
            .expect("line")
            .recall_at_least(0)
    );
}

#[test]
fn percentages_round_once_half_away_from_zero_and_the_threshold_compares_exactly() {
    assert_eq!(
        percent(1, 2_000),
        Some(Decimal::new(1, 1)),
        "0.05 % → 0.1 %"
    );
    assert_eq!(percent(1, 6), Some(Decimal::new(167, 1)));
    assert_eq!(percent(0, 0), None);
    let score = |seeded, found| RuleScore {
        rule: RuleId::SplitAdmission,
        seeded,
        found,
        findings: found,
        true_positives: found,
    };
    assert!(score(20, 19).recall_at_least(95), "19 of 20 is 95 %");
    assert!(!score(21, 19).recall_at_least(95), "19 of 21 is 90.48 %");
    // 949 of 1,000 prints as 94.9 % and is below; 9,499 of 10,000 prints 95.0 % and is not.
    assert!(!score(1_000, 949).recall_at_least(95));
    assert!(!score(10_000, 9_499).recall_at_least(95));
    assert_eq!(percent(9_499, 10_000), Some(Decimal::new(950, 1)));
}

#[test]
fn every_seeded_case_of_a_simulated_year_is_a_target_unscreened_or_outside_the_year() {
    let simulation = Simulation::hainan(SimulationConfig {
        seed: 5,
        cases_per_year: 3_000,
        ..SimulationConfig::default()
    })
    .expect("simulation");
    let year = simulation.config().first_year;
    let seeded_cases = simulation
        .cases()
        .filter(|c| c.truth.irregularity.is_some() || c.truth.mode == Mode::ReadmissionWithin15Days)
        .count() as u64;
    let seeded = Seeded::from_cases(year, simulation.cases());
    let scores = seeded.score(Vec::new());
    let unscreened: u64 = scores.unscreened.values().sum();
    assert_eq!(
        seeded.targets().len() as u64 + unscreened + scores.outside_year,
        seeded_cases
    );
    assert_eq!(
        scores.unscreened.keys().copied().collect::<Vec<_>>(),
        [Irregularity::PhantomStay],
        "only phantom stays have no rule"
    );
    for target in seeded.targets() {
        assert!(!target.rules.is_empty());
        match target.irregularity {
            Some(Irregularity::SplitAdmission) | None => {
                let related = target.related.as_ref().expect("the earlier stay");
                assert_eq!(related.institution, target.case.institution, "{target:?}");
                assert!(target.rules.contains(&RuleId::Readmission15Days));
            }
            Some(Irregularity::CostShiftedToOutpatient) => {
                assert!(target.related.is_some(), "{target:?}");
                assert!(
                    target.case.list_id.starts_with("MZ") || target.case.list_id.starts_with("YD")
                );
            }
            Some(_) => assert!(target.related.is_none(), "{target:?}"),
        }
    }
    // Nothing found: every rule with a target has recall 0 and no precision.
    for line in &scores.rules {
        assert_eq!((line.found, line.findings), (0, 0));
        assert_eq!(line.recall(), Some(Decimal::ZERO));
        assert_eq!(line.precision(), None);
    }
    for rule in [
        RuleId::SplitAdmission,
        RuleId::Upcoding,
        RuleId::UnbundledCharging,
        RuleId::OverFrequency,
        RuleId::BedBlocking,
    ] {
        assert!(
            scores.rule(rule).is_some_and(|s| s.seeded > 0),
            "{rule:?} has targets in 3,000 cases"
        );
    }
}
