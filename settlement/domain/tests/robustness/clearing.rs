//! The year-end clearing against an exact reference: every amount is computed again in integer
//! fen (and ten-thousandths of a point) with exact rational arithmetic, each rounded once half
//! away from zero, and must equal the clearing's to the fen. All three point-value bases, with
//! money-paid cases first, over awkward amounts: zero, half a fen, and very large years.

use kernel::{Decimal, FundType, Money, Points};
use proptest::prelude::*;
use settlement_domain::SettlementError;
use settlement_domain::clearing::{
    CasePayment, ClearingCase, ClearingInput, ClearingPolicy, HospitalClearingInput,
    PointValueBasis, run_clearing,
};
use settlement_domain::payment_mode::PaymentMode;
use settlement_domain::ports::PayStandard;

/// `numerator / denominator` rounded half away from zero (denominator > 0).
fn round_div(numerator: i128, denominator: i128) -> i128 {
    assert!(denominator > 0);
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    if 2 * remainder.abs() >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

#[derive(Clone, Debug)]
struct GeneratedCase {
    hospital: usize,
    /// Points × 10⁴, for a points-paid case; `None` for a case paid a standard.
    points: Option<i64>,
    standard_fen: i64,
    total_cost_fen: i64,
    burden_fen: i64,
}

impl GeneratedCase {
    fn fund_fen(&self) -> i64 {
        self.total_cost_fen - self.burden_fen
    }
}

/// Amounts in fen: zero, a few fen, ordinary, and up to ten billion yuan.
fn fen() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        0i64..=3,
        0i64..=10_000_000,
        0i64..=1_000_000_000_000,
    ]
}

fn case(hospitals: usize) -> impl Strategy<Value = GeneratedCase> {
    (
        0..hospitals,
        proptest::option::weighted(0.8, prop_oneof![0i64..=5, 1i64..=100_000_000]),
        fen(),
        fen(),
        0u32..=100,
    )
        .prop_map(
            |(hospital, points, standard_fen, total_cost_fen, burden_percent)| GeneratedCase {
                hospital,
                points,
                standard_fen,
                total_cost_fen,
                burden_fen: i64::try_from(
                    i128::from(total_cost_fen) * i128::from(burden_percent) / 100,
                )
                .expect("burden fits"),
            },
        )
}

fn basis() -> impl Strategy<Value = PointValueBasis> {
    prop_oneof![
        Just(PointValueBasis::TotalCost),
        Just(PointValueBasis::FundOnly),
        Just(PointValueBasis::ReimbursementRatio),
    ]
}

fn hospital_code(index: usize) -> String {
    format!("H{index}")
}

fn input(cases: &[GeneratedCase], hospitals: usize, budget_fen: i64) -> ClearingInput {
    ClearingInput {
        region: "460100".parse().expect("region literal"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: Money::from_fen(budget_fen),
        cases: cases
            .iter()
            .enumerate()
            .map(|(i, c)| ClearingCase {
                hospital_code: hospital_code(c.hospital),
                list_id: format!("L{i}"),
                mode: Some(if c.points.is_some() {
                    PaymentMode::Dip
                } else {
                    PaymentMode::DaySurgery
                }),
                payment: match c.points {
                    Some(_) => CasePayment::Points,
                    None => CasePayment::Standard(Money::from_fen(c.standard_fen)),
                },
                points: Points::from_scaled(c.points.unwrap_or(0)),
                total_cost: Money::from_fen(c.total_cost_fen),
                individual_burden: Money::from_fen(c.burden_fen),
                ffs_special: false,
                fund_amount_ffs: Money::from_fen(c.fund_fen()),
            })
            .collect(),
        hospitals: (0..hospitals)
            .map(|h| HospitalClearingInput::plain(hospital_code(h)))
            .collect(),
    }
}

/// What the reference expects of one hospital, in fen.
#[derive(Debug, PartialEq, Eq)]
struct Expected {
    gross: i128,
    points_fund_part: i128,
    fund_entitlement: i128,
}

/// The clearing computed again exactly: `None` where the clearing must refuse.
fn reference(
    cases: &[GeneratedCase],
    hospitals: usize,
    budget_fen: i64,
    basis: PointValueBasis,
) -> Option<(i128, Vec<Expected>)> {
    let points_cases = || cases.iter().filter(|c| c.points.is_some());
    let money_part = |c: &GeneratedCase| i128::from((c.standard_fen - c.burden_fen).max(0));
    let money_total: i128 = cases
        .iter()
        .filter(|c| c.points.is_none())
        .map(money_part)
        .sum();
    let points_budget = i128::from(budget_fen) - money_total;
    let total_points: i128 = points_cases()
        .map(|c| i128::from(c.points.unwrap_or(0)))
        .sum();
    let burden: i128 = points_cases().map(|c| i128::from(c.burden_fen)).sum();
    let fund_paid: i128 = points_cases().map(|c| i128::from(c.fund_fen())).sum();
    let total_cost: i128 = points_cases().map(|c| i128::from(c.total_cost_fen)).sum();
    if points_budget < 0 || (total_points == 0 && points_budget != 0) {
        return None;
    }
    // The point value in ten-thousandths of a yuan: numerator fen × 100 / points (points are
    // counted in ten-thousandths, so fen/point = fen × 10⁴ / points×10⁴; yuan×10⁴ = fen × 100).
    let (numerator, denominator) = match basis {
        PointValueBasis::TotalCost => ((points_budget + burden) * 1_000_000, total_points),
        PointValueBasis::FundOnly => (points_budget * 1_000_000, total_points),
        PointValueBasis::ReimbursementRatio => {
            if total_cost <= 0 || fund_paid <= 0 {
                return None;
            }
            (
                points_budget * total_cost * 1_000_000,
                fund_paid * total_points,
            )
        }
    };
    let point_value = if total_points == 0 {
        0
    } else {
        round_div(numerator, denominator)
    };
    let per_hospital = (0..hospitals)
        .map(|h| {
            let mine = || cases.iter().filter(move |c| c.hospital == h);
            let points: i128 = mine().filter_map(|c| c.points).map(i128::from).sum();
            let burden: i128 = mine()
                .filter(|c| c.points.is_some())
                .map(|c| i128::from(c.burden_fen))
                .sum();
            let money: i128 = mine().filter(|c| c.points.is_none()).map(money_part).sum();
            // points × 10⁴ × yuan × 10⁴ = fen × 10⁶.
            let gross = round_div(points * point_value, 1_000_000);
            let points_fund_part = match basis {
                PointValueBasis::TotalCost => gross - burden,
                PointValueBasis::FundOnly => gross,
                PointValueBasis::ReimbursementRatio => round_div(gross * fund_paid, total_cost),
            };
            Expected {
                gross,
                points_fund_part,
                fund_entitlement: points_fund_part + money,
            }
        })
        .collect();
    Some((point_value, per_hospital))
}

/// Fen of an amount, also of one beyond what the ledger stores (the domain computes it).
fn fen_of(money: Money) -> i128 {
    let fen = money.value() * Decimal::ONE_HUNDRED;
    fen.mantissa() / 10i128.pow(fen.scale())
}

fn check(cases: &[GeneratedCase], hospitals: usize, budget_fen: i64, basis: PointValueBasis) {
    let policy = ClearingPolicy {
        point_value_basis: basis,
        ..ClearingPolicy::default()
    };
    let answer = run_clearing(&input(cases, hospitals, budget_fen), &policy, &PayStandard);
    let Some((point_value, expected)) = reference(cases, hospitals, budget_fen, basis) else {
        assert!(answer.is_err(), "the clearing must refuse: {answer:?}");
        return;
    };
    let statement = answer.expect("the clearing runs");
    assert_eq!(
        statement.point_value,
        Decimal::from_i128_with_scale(point_value, 4)
    );
    let got: Vec<Expected> = statement
        .hospitals
        .iter()
        .map(|h| Expected {
            gross: fen_of(h.gross_entitlement),
            points_fund_part: fen_of(h.points_fund_part),
            fund_entitlement: fen_of(h.fund_entitlement),
        })
        .collect();
    assert_eq!(got, expected);
    let entitled: i128 = expected.iter().map(|e| e.fund_entitlement).sum();
    assert_eq!(fen_of(statement.residue), i128::from(budget_fen) - entitled);
}

proptest! {
    #[test]
    fn clearing_equals_the_exact_reference_rounded_once(
        (hospitals, cases) in (1usize..=4).prop_flat_map(|h| (Just(h), proptest::collection::vec(case(h), 1..12))),
        budget_extra in fen(),
        basis in basis(),
    ) {
        // A budget at least what the money modes are paid first, so most runs clear.
        let money_first: i64 = cases
            .iter()
            .filter(|c| c.points.is_none())
            .map(|c| (c.standard_fen - c.burden_fen).max(0))
            .sum();
        check(&cases, hospitals, money_first + budget_extra, basis);
    }
}

fn points_case(
    hospital: usize,
    points: i64,
    total_cost_fen: i64,
    burden_fen: i64,
) -> GeneratedCase {
    GeneratedCase {
        hospital,
        points: Some(points),
        standard_fen: 0,
        total_cost_fen,
        burden_fen,
    }
}

/// ρ = 10 / 12 has no finite decimal; a point value of exactly 0.03 gives hospital 0 a gross of
/// 3 fen whose fund part, 3 × 5/6 = 2.5 fen, rounds to 3 fen. Rounding ρ first makes it 2.
#[test]
fn the_ratio_fund_part_is_rounded_once() {
    let cases = [points_case(0, 10_000, 6, 1), points_case(1, 390_000, 6, 1)];
    check(&cases, 2, 100, PointValueBasis::ReimbursementRatio);
}

#[test]
fn zero_and_half_fen_amounts_clear_exactly() {
    for basis in [
        PointValueBasis::TotalCost,
        PointValueBasis::FundOnly,
        PointValueBasis::ReimbursementRatio,
    ] {
        check(&[points_case(0, 1, 1, 0)], 1, 0, basis);
        check(&[points_case(0, 0, 1, 0)], 1, 0, basis);
        check(
            &[points_case(0, 5_000, 1, 0), points_case(1, 5_000, 1, 0)],
            2,
            1,
            basis,
        );
        check(&[points_case(0, 1, 2, 1)], 1, 1, basis);
    }
}

/// The largest year the ledger can store (amounts in BIGINT fen) is answered: a statement or a
/// refusal, not a crash.
#[test]
fn very_large_years_are_answered() {
    let huge = i64::MAX / 4;
    for basis in [
        PointValueBasis::TotalCost,
        PointValueBasis::FundOnly,
        PointValueBasis::ReimbursementRatio,
    ] {
        for (points, cost, burden, budget) in [
            (1, huge, 0, huge),
            (1, huge, huge - 1, huge),
            (i64::MAX / 4, huge, 0, huge),
            (1, 1, 0, huge),
        ] {
            let policy = ClearingPolicy {
                point_value_basis: basis,
                ..ClearingPolicy::default()
            };
            let cases = [points_case(0, points, cost, burden)];
            match run_clearing(&input(&cases, 1, budget), &policy, &PayStandard) {
                Ok(statement) => {
                    let entitled: Money =
                        statement.hospitals.iter().map(|h| h.fund_entitlement).sum();
                    assert_eq!(entitled + statement.residue, statement.distributable_budget);
                }
                Err(errors) => assert!(
                    errors
                        .iter()
                        .all(|e| matches!(e, SettlementError::ParameterOutOfRange { .. })),
                    "{errors:?}"
                ),
            }
        }
    }
}

/// Found by the generated years: one fen of fund paid against a cost of 2.3 × 10¹⁶ yuan makes
/// ρ ≈ 4 × 10⁻¹⁹, and the points budget / ρ overflowed a decimal and panicked.
#[test]
fn a_vanishing_reimbursement_ratio_is_refused() {
    let huge = i64::MAX / 4;
    let policy = ClearingPolicy {
        point_value_basis: PointValueBasis::ReimbursementRatio,
        ..ClearingPolicy::default()
    };
    let cases = [points_case(0, 1, huge, huge - 1)];
    let errors = run_clearing(&input(&cases, 1, huge), &policy, &PayStandard)
        .expect_err("no point value fits");
    assert!(
        matches!(
            &errors[..],
            [SettlementError::ParameterOutOfRange {
                field: "point_value",
                ..
            }]
        ),
        "{errors:?}"
    );
}

/// Found by the generated years: ρ = 1 fen / 52,101,482.82 yuan has no finite decimal, and
/// dividing the points budget by the rounded ρ published 236019717174599.9999 instead of the
/// exact 236019717174600.
#[test]
fn the_ratio_point_value_is_rounded_once() {
    let cases = [
        points_case(0, 0, 5_210_148_281, 5_210_148_281),
        points_case(0, 1, 1, 0),
    ];
    check(&cases, 3, 453, PointValueBasis::ReimbursementRatio);
}
