//! Medical alliances shared as one unit ([`super::alliance`]).

use super::*;
use crate::error::PortError;
use crate::payment_mode::PaymentMode;
use crate::ports::{SharingOutcome, SharingRequest};
use proptest::prelude::*;
use rust_decimal_macros::dec;

/// DOMAIN.md §4's Hainan tiers: R ≤ 1 pays Std; 1 < R ≤ 1.1 pays Std + 50 % of (Act − Std);
/// above, Std + 50 % of 0.1 × Std. It answers by the figures only, never by the code.
struct HainanTiers;

impl SharingCalculator for HainanTiers {
    fn share(&self, request: &SharingRequest) -> Result<SharingOutcome, PortError> {
        let (std, act) = (request.standard.value(), request.actual.value());
        let (payable, tier) = if std <= Decimal::ZERO {
            (std, "no_standard")
        } else if act <= std {
            (std, "surplus_retained")
        } else if act <= std * dec!(1.1) {
            (std + (act - std) * dec!(0.5), "overspend_shared")
        } else {
            (std + std * dec!(0.05), "overspend_capped")
        };
        Ok(SharingOutcome {
            payable: Money::round(payable),
            tier: tier.to_owned(),
        })
    }
}

fn case(hospital: &str, points: Decimal, claimed: Decimal) -> ClearingCase {
    ClearingCase {
        hospital_code: hospital.into(),
        list_id: format!("{hospital}-1"),
        mode: Some(PaymentMode::Drg),
        payment: CasePayment::Points,
        points: Points::round(points),
        total_cost: Money::ZERO,
        individual_burden: Money::ZERO,
        ffs_special: false,
        fund_amount_ffs: Money::round(claimed),
    }
}

fn member(code: &str, alliance: Option<&str>) -> HospitalClearingInput {
    HospitalClearingInput {
        alliance: alliance.map(str::to_owned),
        ..HospitalClearingInput::plain(code)
    }
}

fn fund_only() -> ClearingPolicy {
    ClearingPolicy {
        point_value_basis: PointValueBasis::FundOnly,
        ..ClearingPolicy::default()
    }
}

/// Budget 1,000,000.00 over 10,000 points: point value 100, so A's Std is 600,000.00 and B's
/// 400,000.00. A claimed 720,000.00 (R 1.2, over), B 300,000.00 (R 0.75, under).
fn two_members(alliance: Option<&str>) -> ClearingInput {
    ClearingInput {
        region: "460100".parse().expect("region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: Money::from_yuan(1_000_000),
        cases: vec![
            case("A", dec!(6000), dec!(720000)),
            case("B", dec!(4000), dec!(300000)),
        ],
        hospitals: vec![member("A", alliance), member("B", alliance)],
    }
}

fn payables(statement: &ClearingStatement) -> Vec<(String, String, String)> {
    statement
        .hospitals
        .iter()
        .map(|h| {
            (
                h.hospital_code.clone(),
                h.sharing_payable.to_string(),
                h.sharing_tier.clone(),
            )
        })
        .collect()
}

#[test]
fn an_alliance_is_shared_once_and_distributed_by_standard_share() {
    let alone = run_clearing(&two_members(None), &fund_only(), &HainanTiers).expect("alone");
    // Hospital by hospital: A over the 1.1 cap, 600,000 + 5 % = 630,000; B keeps its Std.
    assert_eq!(
        payables(&alone),
        [
            ("A".into(), "630000.00".into(), "overspend_capped".into()),
            ("B".into(), "400000.00".into(), "surplus_retained".into()),
        ]
    );
    assert!(alone.alliances.is_empty());

    let unit = run_clearing(&two_members(Some("MA-1")), &fund_only(), &HainanTiers).expect("unit");
    // The unit: Std 1,000,000, Act 1,020,000, R 1.02 → 1,000,000 + 50 % of 20,000 = 1,010,000,
    // to A 60 % (606,000) and B 40 % (404,000).
    assert_eq!(
        payables(&unit),
        [
            ("A".into(), "606000.00".into(), "overspend_shared".into()),
            ("B".into(), "404000.00".into(), "overspend_shared".into()),
        ]
    );
    let summary = &unit.alliances[0];
    assert_eq!(summary.alliance_code, "MA-1");
    assert_eq!(summary.standard, Money::from_yuan(1_000_000));
    assert_eq!(summary.actual, Money::from_yuan(1_020_000));
    assert_eq!(summary.ratio, Some(dec!(1.0200)));
    assert_eq!(summary.payable, Money::from_yuan(1_010_000));
    assert_eq!(summary.adjustment, Money::from_yuan(10_000));
    let shares: Vec<_> = summary.members.iter().map(|m| m.share).collect();
    assert_eq!(shares, [dec!(0.6), dec!(0.4)]);
    let a = unit.hospitals[0].alliance.as_ref().expect("A's alliance");
    assert_eq!(a.alliance_code, "MA-1");
    assert_eq!(a.unit_tier, "overspend_shared");
    assert_eq!(a.unit_ratio, Some(dec!(1.02)));
    assert_eq!(a.unit_payable, Money::from_yuan(1_010_000));
    assert_eq!(unit.hospitals[0].sharing_actual, Money::from_yuan(720_000));
    assert_eq!(unit.total_sharing_adjustment, Money::from_yuan(10_000));
    assert_eq!(alone.total_sharing_adjustment, Money::from_yuan(30_000));
    // The entitlements, and so the budget identity, are the hospitals' own either way.
    assert_eq!(unit.total_fund_entitlement, alone.total_fund_entitlement);
    assert_eq!(unit.residue, alone.residue);
}

#[test]
fn the_separate_switch_shares_members_alone() {
    let policy = ClearingPolicy {
        alliance_distribution: AllianceDistribution::Separate,
        ..fund_only()
    };
    let separate = run_clearing(&two_members(Some("MA-1")), &policy, &HainanTiers).expect("run");
    let alone = run_clearing(&two_members(None), &policy, &HainanTiers).expect("run");
    assert_eq!(separate, alone);
    let read: ClearingPolicy =
        serde_json::from_str(r#"{"alliance_distribution": "separate"}"#).expect("policy");
    assert_eq!(read.alliance_distribution, AllianceDistribution::Separate);
    // A policy stored before the switch reads as the default; a document naming it is accepted.
    let stored: ClearingPolicy = serde_json::from_str(r#"{"sharing": "budget"}"#).expect("old");
    assert_eq!(
        stored.alliance_distribution,
        AllianceDistribution::StandardShare
    );
    let document = crate::policy::SettlementPolicy::from_document(
        r#"{"clearing": {"alliance_distribution": "separate"}}"#,
    )
    .expect("a known key");
    assert_eq!(
        document.clearing.alliance_distribution,
        AllianceDistribution::Separate
    );
}

#[test]
fn the_unit_is_asked_under_its_code_and_members_are_reported_under_it() {
    let prepared = prepare_clearing(&two_members(Some("MA-1")), &fund_only()).expect("prepared");
    let asked = prepared.sharing_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].hospital_code, "MA-1");
    assert_eq!(asked[0].standard, Money::from_yuan(1_000_000));
    let refuse = crate::clearing_assembly::AnsweredSharing::default();
    let errors = prepared.settle(&refuse).expect_err("unanswered");
    assert_eq!(errors.len(), 1);
    assert!(matches!(&errors[0], SettlementError::Port { record, .. } if record == "MA-1"));
}

#[test]
fn an_alliance_named_like_a_hospital_outside_it_is_refused_by_name() {
    let mut input = two_members(Some("C"));
    input.hospitals.push(member("C", None));
    input.cases.push(case("C", dec!(1), dec!(1)));
    let errors = run_clearing(&input, &fund_only(), &HainanTiers).expect_err("refused");
    assert!(
        errors
            .iter()
            .all(|e| e.reason() == "PARAMETER_OUT_OF_RANGE")
    );
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("medical_alliance"))
    );
}

/// Hospitals H0… with the given points and claims; those flagged belong to alliance `U`.
fn random_year(members: &[(u32, u32, bool)]) -> ClearingInput {
    let cases = members
        .iter()
        .enumerate()
        .map(|(i, (points, claimed, _))| {
            case(
                &format!("H{i}"),
                Decimal::from(*points),
                Decimal::new(i64::from(*claimed), 2),
            )
        })
        .collect();
    ClearingInput {
        region: "460100".parse().expect("region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: Money::from_fen(123_456_789),
        cases,
        hospitals: members
            .iter()
            .enumerate()
            .map(|(i, (_, _, pooled))| member(&format!("H{i}"), pooled.then_some("U")))
            .collect(),
    }
}

proptest! {
    #[test]
    fn members_sum_to_the_unit_to_the_fen(
        members in proptest::collection::vec((1u32..100_000, 0u32..200_000_000, any::<bool>()), 1..6),
    ) {
        let statement = run_clearing(&random_year(&members), &fund_only(), &HainanTiers)
            .expect("clears");
        for summary in &statement.alliances {
            let parts: Money = summary.members.iter().map(|m| m.payable).sum();
            prop_assert_eq!(parts, summary.payable);
            let paid: Money = statement
                .hospitals
                .iter()
                .filter(|h| h.alliance.as_ref().is_some_and(|a| a.alliance_code == summary.alliance_code))
                .map(|h| h.sharing_payable)
                .sum();
            prop_assert_eq!(paid, summary.payable);
            let std: Money = summary.members.iter().map(|m| m.standard).sum();
            prop_assert_eq!(std, summary.standard);
        }
        let identity = statement.total_fund_entitlement + statement.residue + statement.ffs_special_total;
        prop_assert_eq!(identity, statement.distributable_budget);
    }

    #[test]
    fn a_unit_of_one_member_equals_the_hospital_alone(
        members in proptest::collection::vec((1u32..100_000, 0u32..200_000_000), 1..5),
    ) {
        let alone: Vec<_> = members.iter().map(|(p, c)| (*p, *c, false)).collect();
        let mut one = alone.clone();
        one[0].2 = true;
        let alone = run_clearing(&random_year(&alone), &fund_only(), &HainanTiers).expect("alone");
        let mut pooled = run_clearing(&random_year(&one), &fund_only(), &HainanTiers).expect("unit");
        prop_assert_eq!(pooled.alliances.len(), 1);
        prop_assert_eq!(pooled.alliances[0].payable, alone.hospitals[0].sharing_payable);
        pooled.alliances.clear();
        prop_assert!(pooled.hospitals[0].alliance.take().is_some());
        prop_assert_eq!(pooled, alone);
    }
}

#[test]
fn the_statement_table_shows_the_alliance_only_when_there_is_one() {
    use crate::statement_table::{ALLIANCE_COLUMNS, clearing_table};
    let alone = run_clearing(&two_members(None), &fund_only(), &HainanTiers).expect("alone");
    let table = clearing_table(&alone.hospitals);
    assert!(!table.header.iter().any(|c| c.starts_with("alliance_")));
    let unit = run_clearing(&two_members(Some("MA-1")), &fund_only(), &HainanTiers).expect("unit");
    let table = clearing_table(&unit.hospitals);
    let first = table.header.len() - ALLIANCE_COLUMNS.len();
    assert_eq!(table.header[first..], ALLIANCE_COLUMNS.map(str::to_owned));
    assert_eq!(
        table.rows[1][first..],
        [
            "MA-1",
            "1000000.00",
            "1020000.00",
            "1.0200",
            "overspend_shared",
            "1010000.00",
            "0.400000"
        ]
        .map(str::to_owned)
    );
}
