use super::*;
use crate::error::PortError;
use crate::payment_mode::PaymentMode;
use crate::ports::{MockSharingCalculator, PayStandard, SharingOutcome};
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn money(value: Decimal) -> Money {
    Money::round(value)
}

fn case(hospital: &str, id: &str, points: Decimal, burden: Decimal) -> ClearingCase {
    ClearingCase {
        hospital_code: hospital.into(),
        list_id: id.into(),
        mode: Some(PaymentMode::Drg),
        payment: CasePayment::Points,
        points: Points::round(points),
        total_cost: Money::ZERO,
        individual_burden: money(burden),
        ffs_special: false,
        fund_amount_ffs: Money::ZERO,
    }
}

/// DOMAIN.md §3 worked example: fund 600,000,000 + individual 200,000,000 over 7,800,000
/// points; hospital H with 100,000 points and burden 2,800,000, prepaid 7,000,000.
fn worked_example() -> ClearingInput {
    let mut h = HospitalClearingInput::plain("H");
    h.prepaid = money(dec!(7000000));
    ClearingInput {
        region: "460000".parse().expect("region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: money(dec!(600000000)),
        cases: vec![
            case("H", "1", dec!(100000), dec!(2800000)),
            case("OTHERS", "2", dec!(7700000), dec!(197200000)),
        ],
        hospitals: vec![HospitalClearingInput::plain("OTHERS"), h],
    }
}

#[test]
fn domain_worked_example_exactly() {
    let statement =
        run_clearing(&worked_example(), &ClearingPolicy::default(), &PayStandard).expect("valid");
    assert_eq!(statement.point_value, dec!(102.5641));
    let h = statement
        .hospitals
        .iter()
        .find(|s| s.hospital_code == "H")
        .expect("H");
    assert_eq!(h.gross_entitlement.to_string(), "10256410.00");
    assert_eq!(h.fund_entitlement.to_string(), "7456410.00");
    assert_eq!(h.balance.to_string(), "456410.00");
    assert_eq!(h.direction, BalanceDirection::TopUp);
    // Sorted by hospital code.
    assert_eq!(statement.hospitals[0].hospital_code, "H");
    // Identity to the fen: 7,800,000 × 102.5641 − 200,000,000 = 599,999,980.00, residue 20.00.
    assert_eq!(statement.total_fund_entitlement.to_string(), "599999980.00");
    assert_eq!(statement.residue.to_string(), "20.00");
    assert_eq!(
        statement.total_fund_entitlement + statement.residue,
        statement.distributable_budget
    );
}

#[test]
fn a_policy_stored_before_the_sharing_switch_pays_the_standard() {
    let stored: ClearingPolicy =
        serde_json::from_str(r#"{"point_value_basis": "fund_only", "point_value_places": 2}"#)
            .expect("old policy loads");
    assert_eq!(stored.sharing, SharingSource::PayStandard);
    let budget: ClearingPolicy = serde_json::from_str(r#"{"sharing": "budget"}"#).expect("switch");
    assert_eq!(budget.sharing, SharingSource::Budget);
    assert_eq!(budget.point_value_places, 4);
}

#[test]
fn fund_basis_divides_the_fund_budget_only() {
    let policy = ClearingPolicy {
        point_value_basis: PointValueBasis::FundOnly,
        ..ClearingPolicy::default()
    };
    let statement = run_clearing(&worked_example(), &policy, &PayStandard).expect("valid");
    // 600,000,000 / 7,800,000 = 76.923076… → 76.9231.
    assert_eq!(statement.point_value, dec!(76.9231));
}

fn sharing_example() -> ClearingInput {
    let mut paid_case = case("H", "1", dec!(500000), dec!(0));
    paid_case.fund_amount_ffs = money(dec!(54000000));
    ClearingInput {
        region: "460000".parse().expect("region"),
        year: 2025,
        fund_type: FundType::Resident,
        // 51,000,000 for points + 200,000 for the FFS special case.
        distributable_budget: money(dec!(51200000)),
        cases: vec![
            paid_case,
            ClearingCase {
                ffs_special: true,
                fund_amount_ffs: money(dec!(200000)),
                ..case("H", "2", dec!(999), dec!(0))
            },
        ],
        hospitals: vec![HospitalClearingInput {
            violation_deductions: money(dec!(1000000)),
            deposit_withheld: money(dec!(100000)),
            deposit_returned: money(dec!(80000)),
            prepaid: money(dec!(45900000)),
            ..HospitalClearingInput::plain("H")
        }],
    }
}

#[test]
fn sharing_deductions_deposit_and_ffs_special_cases() {
    // DOMAIN.md §4 example through the port: Std 50,000,000, Act 54,000,000 → pay 52,000,000.
    let mut sharing = MockSharingCalculator::new();
    sharing
        .expect_share()
        .withf(|r| {
            r.standard == Money::round(dec!(50000000))
                && r.actual == Money::round(dec!(54000000))
                && r.fund_type == FundType::Resident
        })
        .times(1)
        .returning(|_| {
            Ok(SharingOutcome {
                payable: Money::round(dec!(52000000)),
                tier: "overspend_shared".into(),
            })
        });
    let statement =
        run_clearing(&sharing_example(), &ClearingPolicy::default(), &sharing).expect("valid");
    // Points budget 51,000,000 over 500,000 points with no burden → 102.0000; the FFS
    // special case's points are not counted.
    assert_eq!(statement.point_value, dec!(102));
    assert_eq!(statement.total_points, Points::round(dec!(500000)));
    assert_eq!(statement.residue, Money::ZERO);
    let h = &statement.hospitals[0];
    assert_eq!((h.cases, h.ffs_special_cases), (2, 1));
    assert_eq!(h.fund_entitlement, money(dec!(51000000)));
    assert_eq!(h.sharing_standard, money(dec!(50000000)));
    assert_eq!(h.sharing_adjustment, money(dec!(2000000)));
    assert_eq!(h.ffs_special_amount, money(dec!(200000)));
    assert_eq!(h.deposit_forfeited, money(dec!(20000)));
    // 52,000,000 + 200,000 − 20,000 − 45,900,000.
    assert_eq!(h.final_amount, money(dec!(52180000)));
    assert_eq!(h.balance, money(dec!(6280000)));
}

#[test]
fn assessment_coefficient_applies_before_deductions_and_repayment_is_signed() {
    let mut input = sharing_example();
    input.hospitals[0].assessment_coefficient = dec!(0.9833);
    input.hospitals[0].prepaid = money(dec!(60000000));
    let statement = run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect("valid");
    let h = &statement.hospitals[0];
    // 51,000,000 × 0.9833 = 50,148,300.00; − 1,000,000 deductions.
    assert_eq!(h.assessed_entitlement, money(dec!(50148300)));
    assert_eq!(h.sharing_payable, money(dec!(49148300)));
    // 49,148,300 + 200,000 − 20,000 − 60,000,000.
    assert_eq!(h.balance, money(dec!(-10671700)));
    assert_eq!(h.direction, BalanceDirection::Repayment);
}

#[test]
fn port_failures_are_reported_per_hospital() {
    let mut input = worked_example();
    input.hospitals.push(HospitalClearingInput::plain("Z"));
    let mut sharing = MockSharingCalculator::new();
    sharing.expect_share().returning(|r| {
        if r.hospital_code == "OTHERS" {
            Ok(SharingOutcome {
                payable: r.standard,
                tier: "standard".into(),
            })
        } else {
            Err(PortError {
                port: "sharing_calculator",
                reason: "UNAVAILABLE".into(),
                message: "budget service down".into(),
            })
        }
    });
    let errors =
        run_clearing(&input, &ClearingPolicy::default(), &sharing).expect_err("port failed");
    let records: Vec<String> = errors
        .iter()
        .map(|e| match e {
            SettlementError::Port { record, .. } => record.clone(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(records, vec!["H", "Z"]);
    assert!(errors.iter().all(|e| e.reason() == "PORT_FAILED"));
}

#[test]
fn every_bad_record_is_reported() {
    let mut input = worked_example();
    input.cases.push(case("NOBODY", "9", dec!(1), dec!(0)));
    input.cases.push(case("H", "10", dec!(-1), dec!(-1)));
    input.hospitals.push(HospitalClearingInput {
        deposit_returned: money(dec!(1)),
        ..HospitalClearingInput::plain("H")
    });
    let errors =
        run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect_err("invalid");
    let reasons: Vec<_> = errors.iter().map(SettlementError::reason).collect();
    assert_eq!(
        reasons,
        vec![
            "DUPLICATE_HOSPITAL",
            "PARAMETER_OUT_OF_RANGE",
            "UNKNOWN_HOSPITAL",
            "NEGATIVE_POINTS",
            "NEGATIVE_AMOUNT"
        ]
    );
}

#[test]
fn same_inputs_in_any_order_give_identical_output() {
    let a = worked_example();
    let mut b = worked_example();
    b.cases.reverse();
    b.hospitals.reverse();
    let sa = run_clearing(&a, &ClearingPolicy::default(), &PayStandard).expect("a");
    let sb = run_clearing(&b, &ClearingPolicy::default(), &PayStandard).expect("b");
    assert_eq!(
        serde_json::to_string(&sa).expect("json"),
        serde_json::to_string(&sb).expect("json")
    );
}

proptest! {
    #[test]
    fn entitlements_plus_residue_equal_the_budget_to_the_fen(
        budget_fen in 0i64..100_000_000_000_000,
        cases in proptest::collection::vec((0usize..7, 1i64..50_000_000_000, 0i64..1_000_000_000, any::<bool>(), 0i64..100_000_000, 0u8..4), 1..60),
        basis in 0u8..3,
    ) {
        let hospitals: Vec<HospitalClearingInput> =
            (0..7).map(|i| HospitalClearingInput::plain(format!("H{i}"))).collect();
        let cases: Vec<ClearingCase> = cases
            .into_iter()
            .enumerate()
            .map(|(n, (h, points, burden, ffs, ffs_fen, mode))| {
                // Every kind of payment: points, a standard (per diem), a claim (excluded stay).
                let (mode, payment) = match mode {
                    0 => (PaymentMode::PerDiemPsychiatric, CasePayment::Standard(Money::from_fen(ffs_fen / 2 + burden / 3))),
                    1 => (PaymentMode::FeeForService, CasePayment::Claimed),
                    _ => (PaymentMode::Dip, CasePayment::Points),
                };
                ClearingCase {
                    hospital_code: format!("H{h}"),
                    list_id: n.to_string(),
                    mode: Some(mode),
                    payment,
                    points: Points::from_scaled(points),
                    total_cost: Money::from_fen(burden + ffs_fen + 1),
                    individual_burden: Money::from_fen(burden),
                    ffs_special: ffs && n % 3 == 0,
                    fund_amount_ffs: Money::from_fen(ffs_fen),
                }
            })
            .collect();
        let paid_first: i64 = cases
            .iter()
            .map(|c| {
                let part = if c.ffs_special {
                    c.fund_amount_ffs
                } else {
                    c.payment.money_fund_part(c.individual_burden, c.fund_amount_ffs)
                };
                part.to_fen().unwrap_or(0)
            })
            .sum();
        let input = ClearingInput {
            region: "460000".parse().expect("region"),
            year: 2025,
            fund_type: FundType::Employee,
            distributable_budget: Money::from_fen(budget_fen + paid_first),
            cases,
            hospitals,
        };
        let policy = ClearingPolicy {
            point_value_basis: match basis {
                0 => PointValueBasis::TotalCost,
                1 => PointValueBasis::FundOnly,
                _ => PointValueBasis::ReimbursementRatio,
            },
            ..ClearingPolicy::default()
        };
        let statement = match run_clearing(&input, &policy, &PayStandard) {
            Ok(s) => s,
            Err(errors) => {
                // Only a year without points-paid cases and money left to divide has no points
                // (nor a reimbursement ratio).
                prop_assert!(
                    errors == vec![SettlementError::NoPoints]
                        || errors == vec![SettlementError::NoReimbursementRatio],
                    "{:?}", errors
                );
                prop_assert!(statement_has_no_points(&input));
                return Ok(());
            }
        };
        let entitlements: Money = statement.hospitals.iter().map(|h| h.fund_entitlement).sum();
        let ffs: Money = statement.hospitals.iter().map(|h| h.ffs_special_amount).sum();
        prop_assert_eq!(entitlements + ffs + statement.residue, input.distributable_budget);
        // The residue is only rounding: ½ × 10⁻⁴ per point (× ρ) plus ½ fen per hospital, and
        // a second ½ fen for the ratio basis's fund part.
        let per_hospital = if basis == 2 { dec!(0.01) } else { dec!(0.005) };
        let bound = statement.total_points.value() * dec!(0.00005)
            * statement.reimbursement_ratio.unwrap_or(Decimal::ONE)
            + Decimal::from(statement.hospitals.len() as i64) * per_hospital;
        prop_assert!(statement.residue.value().abs() <= bound,
            "residue {} above bound {}", statement.residue, bound);
    }
}

fn statement_has_no_points(input: &ClearingInput) -> bool {
    input
        .cases
        .iter()
        .all(|c| c.ffs_special || !c.payment.is_points())
}

/// DOMAIN.md §4: all of the deposit from a score of 90, score/100 of it from 60, none below.
#[test]
fn the_assessment_score_returns_the_deposit_by_tiers() {
    let tiers = DepositReturn::default();
    let withheld = money(dec!(100000));
    for (score, returned) in [
        (dec!(100), dec!(100000)),
        (dec!(90), dec!(100000)),
        (dec!(89.99), dec!(89990)),
        (dec!(75.5), dec!(75500)),
        (dec!(60), dec!(60000)),
        (dec!(59.99), dec!(0)),
        (dec!(0), dec!(0)),
    ] {
        assert_eq!(
            tiers.returned(score, withheld),
            money(returned),
            "score {score}"
        );
    }

    let mut input = worked_example();
    // OTHERS.
    input.hospitals[0].deposit_withheld = money(dec!(350000));
    input.hospitals[0].assessment_score = Some(dec!(80));
    let statement =
        run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect("cleared");
    let h = &statement.hospitals[1];
    assert_eq!(h.hospital_code, "OTHERS");
    assert_eq!(h.assessment_score, Some(dec!(80)));
    assert_eq!(h.deposit_returned, money(dec!(280000)));
    assert_eq!(h.deposit_forfeited, money(dec!(70000)));
    assert_eq!(h.final_amount, h.sharing_payable - money(dec!(70000)));

    // A score outside 0–100, or a score beside a typed-in return, is refused.
    input.hospitals[0].assessment_score = Some(dec!(100.01));
    input.hospitals[0].deposit_returned = money(dec!(1));
    let errors =
        run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect_err("refused");
    let fields: Vec<&str> = errors
        .iter()
        .filter_map(|e| match e {
            SettlementError::ParameterOutOfRange { field, .. } => Some(*field),
            _ => None,
        })
        .collect();
    assert_eq!(fields, ["assessment_score", "deposit_returned"]);
}
