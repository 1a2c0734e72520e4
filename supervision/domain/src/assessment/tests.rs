use std::collections::BTreeMap;

use kernel::{Decimal, Money};
use rust_decimal_macros::dec;

use super::*;
use crate::monitoring::IndicatorCode as C;

const CARD: &str = r#"{"items": [
  {"id": "cost_index", "name": "费用消耗指数", "group": "fund_efficiency", "measure": "cost_consumption_index", "weight": "60", "rule": "linear", "target": "1.0", "zero_at": "1.5"},
  {"id": "readmission", "group": "quality", "measure": "readmission_rate", "weight": "10", "rule": "linear", "target": "0.02", "zero_at": "0.10"},
  {"id": "cmi", "group": "capacity", "measure": "cmi", "weight": "10", "rule": "linear", "target": "1.2", "zero_at": "0.6"},
  {"id": "violations", "group": "behaviour", "measure": "confirmed_findings", "weight": "15", "rule": "deduct", "per_unit": "3"},
  {"id": "self_pay", "group": "cost_control", "measure": "self_pay_ratio", "weight": "5", "rule": "linear", "target": "0.05", "zero_at": "0.15"}
]}"#;

fn facts(code: &str, indicators: &[(C, Decimal)], confirmed: u32) -> HospitalFacts {
    HospitalFacts {
        hospital_code: code.to_owned(),
        indicators: indicators.iter().copied().collect::<BTreeMap<_, _>>(),
        confirmed_findings: confirmed,
        confirmed_amount: Money::ZERO,
    }
}

fn item_scores(assessment: &HospitalAssessment) -> Vec<(&str, Decimal)> {
    assessment
        .items
        .iter()
        .map(|i| (i.item_id.as_str(), i.score))
        .collect()
}

#[test]
fn a_hospital_scores_the_hand_computed_sum_of_its_items() {
    let card = read_scorecard(CARD).expect("scorecard");
    let h1 = facts(
        "H1",
        &[
            (C::CostConsumptionIndex, dec!(1.1)),
            (C::ReadmissionRate, dec!(0.06)),
            (C::Cmi, dec!(0.9)),
            (C::SelfPayRatio, dec!(0.0833)),
        ],
        2,
    );
    let assessed = card.assess(&h1);
    // cost index 1.1: 0.2 of the way from 1.0 to 1.5 → 0.8 × 60 = 48;
    // readmission 0.06: halfway from 0.02 to 0.10 → 5; CMI 0.9: halfway from 1.2 down to 0.6
    // → 5; two findings at 3 points each → 15 − 6 = 9; self-pay 0.0833: 0.333 of the way →
    // 5 × 0.667 = 3.335 → 3.34 (half away from zero).
    assert_eq!(
        item_scores(&assessed),
        [
            ("cost_index", dec!(48)),
            ("readmission", dec!(5)),
            ("cmi", dec!(5)),
            ("violations", dec!(9)),
            ("self_pay", dec!(3.34)),
        ]
    );
    assert_eq!(assessed.score, dec!(70.34));
    let groups: Vec<_> = assessed
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.score, g.weight))
        .collect();
    assert_eq!(
        groups,
        [
            ("fund_efficiency", dec!(48), dec!(60)),
            ("quality", dec!(5), dec!(10)),
            ("capacity", dec!(5), dec!(10)),
            ("behaviour", dec!(9), dec!(15)),
            ("cost_control", dec!(3.34), dec!(5)),
        ]
    );
}

#[test]
fn values_beyond_the_bounds_clamp_and_missing_data_scores_full_weight() {
    let card = read_scorecard(CARD).expect("scorecard");
    let h2 = facts(
        "H2",
        &[
            (C::CostConsumptionIndex, dec!(0.9)),
            (C::Cmi, dec!(1.5)),
            (C::SelfPayRatio, dec!(0.2)),
        ],
        6,
    );
    let assessed = card.assess(&h2);
    assert_eq!(
        item_scores(&assessed),
        [
            ("cost_index", dec!(60)),
            ("readmission", dec!(10)),
            ("cmi", dec!(10)),
            ("violations", dec!(0)),
            ("self_pay", dec!(0)),
        ]
    );
    assert_eq!(assessed.items[1].value, None, "no readmission data");
    assert_eq!(assessed.score, dec!(80));
}

#[test]
fn a_score_at_a_bound_is_exact() {
    let card = read_scorecard(CARD).expect("scorecard");
    let at_target = facts(
        "H3",
        &[
            (C::CostConsumptionIndex, dec!(1.0)),
            (C::ReadmissionRate, dec!(0.10)),
            (C::Cmi, dec!(1.2)),
            (C::SelfPayRatio, dec!(0.15)),
        ],
        5,
    );
    // 60 + 0 + 10 + 0 (5 × 3 = 15) + 0.
    assert_eq!(card.assess(&at_target).score, dec!(70));
}

#[test]
fn every_problem_of_a_scorecard_is_named_by_item_and_field() {
    let bad = r#"{"items": [
      {"id": "a", "group": "quality", "measure": "readmission_rate", "weight": "50", "rule": "linear", "target": "0.1", "zero_at": "0.1"},
      {"id": "a", "group": "kindness", "measure": "smiles", "weight": "-5", "rule": "deduct", "per_unit": "0"},
      {"id": "", "group": "quality", "measure": "cmi", "weight": "x", "rule": "step"}
    ]}"#;
    let errors = read_scorecard(bad).expect_err("refused");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "items[0].zero_at",
            "items[1].id",
            "items[1].group",
            "items[1].measure",
            "items[1].weight",
            "items[1].per_unit",
            "items[2].id",
            "items[2].weight",
            "items[2].rule",
            "items",
        ]
    );
    assert!(errors[9].reason.contains("add up to 45"), "{}", errors[9]);
    let not_json = read_scorecard("{").expect_err("not a document");
    assert_eq!(not_json[0].field, "scorecard");
}

#[test]
fn the_demo_scorecard_weighs_100_over_every_group_and_reads_back_from_its_json() {
    let demo = Scorecard::demo().expect("demo scorecard");
    let total: Decimal = demo.items.iter().map(|i| i.weight).sum();
    assert_eq!(total, dec!(100));
    for group in IndicatorGroup::ALL {
        assert!(
            demo.items.iter().any(|i| i.group == group),
            "{group:?} has no item"
        );
    }
    assert_eq!(read_scorecard(&demo.to_json()).expect("round trip"), demo);
    // A hospital without any data or finding scores full marks.
    assert_eq!(demo.assess(&facts("H0", &[], 0)).score, dec!(100));
}
