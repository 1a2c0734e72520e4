//! Clearing with every payment mode (DOMAIN.md §5, "Hainan clearing with every mode"), computed
//! by hand.

use super::*;
use crate::clearing_assembly::{ClearingFacts, assemble_clearing};
use crate::ports::PayStandard;
use crate::valued_case::ValuedCase;
use rust_decimal_macros::dec;

fn yuan(value: Decimal) -> Money {
    Money::round(value)
}

struct Case {
    hospital: &'static str,
    id: &'static str,
    mode: PaymentMode,
    payment: CasePayment,
    points: Decimal,
    total_cost: Decimal,
    burden: Decimal,
    fund: Decimal,
}

impl Case {
    fn clearing(&self) -> ClearingCase {
        ClearingCase {
            hospital_code: self.hospital.into(),
            list_id: self.id.into(),
            mode: Some(self.mode),
            payment: self.payment,
            points: Points::round(self.points),
            total_cost: yuan(self.total_cost),
            individual_burden: yuan(self.burden),
            ffs_special: false,
            fund_amount_ffs: yuan(self.fund),
        }
    }
}

fn points(hospital: &'static str, id: &'static str, mode: PaymentMode, p: Decimal) -> Case {
    Case {
        hospital,
        id,
        mode,
        payment: CasePayment::Points,
        points: p,
        total_cost: Decimal::ZERO,
        burden: Decimal::ZERO,
        fund: Decimal::ZERO,
    }
}

/// Hospital A: two DIP cases, a psychiatric per-diem stay and a day surgery whose burden is
/// above its price. Hospital B: a basic-level case, an excluded long stay, an approved special
/// case and a case paid at cost (score-0 group). Budget 1,000,000.
fn hainan_year() -> ClearingInput {
    let cases = [
        Case {
            total_cost: dec!(12000),
            burden: dec!(3600),
            fund: dec!(8400),
            ..points("A", "a1", PaymentMode::Dip, dec!(1500))
        },
        Case {
            total_cost: dec!(4000),
            burden: dec!(1200),
            fund: dec!(2800),
            ..points("A", "a2", PaymentMode::Dip, dec!(500))
        },
        Case {
            payment: CasePayment::Standard(yuan(dec!(9730))),
            total_cost: dec!(8000),
            burden: dec!(2000),
            fund: dec!(6000),
            ..points("A", "a3", PaymentMode::PerDiemPsychiatric, dec!(0))
        },
        Case {
            payment: CasePayment::Standard(yuan(dec!(5000))),
            total_cost: dec!(7000),
            burden: dec!(6000),
            fund: dec!(1000),
            ..points("A", "a4", PaymentMode::DaySurgery, dec!(0))
        },
        Case {
            total_cost: dec!(10000),
            burden: dec!(3000),
            fund: dec!(7000),
            ..points("B", "b1", PaymentMode::BasicLevelDisease, dec!(1000))
        },
        Case {
            payment: CasePayment::Claimed,
            total_cost: dec!(25000),
            burden: dec!(5000),
            fund: dec!(20000),
            ..points("B", "b2", PaymentMode::FeeForService, dec!(0))
        },
        Case {
            payment: CasePayment::Claimed,
            total_cost: dec!(5000),
            burden: dec!(1500),
            fund: dec!(3500),
            ..points("B", "b4", PaymentMode::Dip, dec!(0))
        },
    ];
    let mut cases: Vec<ClearingCase> = cases.iter().map(Case::clearing).collect();
    cases.push(ClearingCase {
        ffs_special: true,
        ..Case {
            total_cost: dec!(5000),
            burden: dec!(1000),
            fund: dec!(4000),
            ..points("B", "b3", PaymentMode::Dip, dec!(800))
        }
        .clearing()
    });
    ClearingInput {
        region: "460100".parse().expect("region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: yuan(dec!(1000000)),
        cases,
        hospitals: vec![
            HospitalClearingInput::plain("A"),
            HospitalClearingInput::plain("B"),
        ],
    }
}

fn ratio_policy() -> ClearingPolicy {
    ClearingPolicy {
        point_value_basis: PointValueBasis::ReimbursementRatio,
        ..ClearingPolicy::default()
    }
}

fn line<'a>(lines: &'a [ModeLine], mode: &str) -> &'a ModeLine {
    lines
        .iter()
        .find(|line| line.mode == mode)
        .unwrap_or_else(|| panic!("no {mode} line in {lines:?}"))
}

#[test]
fn money_modes_are_paid_first_and_the_ratio_point_value_divides_the_rest() {
    let statement = run_clearing(&hainan_year(), &ratio_policy(), &PayStandard).expect("cleared");
    // Paid first: special case 4,000; per diem 9,730 − 2,000; day surgery max(0, 5,000 − 6,000);
    // excluded stay 20,000; paid at cost 3,500.
    assert_eq!(statement.ffs_special_total, yuan(dec!(4000)));
    assert_eq!(statement.money_fund_total, yuan(dec!(31230)));
    assert_eq!(statement.points_budget, yuan(dec!(964770)));
    // ρ over the points-paid cases (DIP and basic-level): 18,200 / 26,000.
    assert_eq!(statement.reimbursement_ratio, Some(dec!(0.7)));
    assert_eq!(statement.total_points, Points::round(dec!(3000)));
    // 964,770 / 0.7 / 3,000 = 459.41428…
    assert_eq!(statement.point_value, dec!(459.4143));

    let a = &statement.hospitals[0];
    assert_eq!(a.gross_entitlement, yuan(dec!(918828.60)));
    assert_eq!(a.points_fund_part, yuan(dec!(643180.02)));
    assert_eq!(a.money_fund_part, yuan(dec!(7730)));
    assert_eq!(a.fund_entitlement, yuan(dec!(650910.02)));
    // Act: the fund paid of every case of A (its money modes too).
    assert_eq!(a.sharing_actual, yuan(dec!(18200)));

    let b = &statement.hospitals[1];
    assert_eq!(b.points_fund_part, yuan(dec!(321590.01)));
    assert_eq!(b.money_fund_part, yuan(dec!(23500)));
    assert_eq!(b.fund_entitlement, yuan(dec!(345090.01)));
    assert_eq!(b.ffs_special_amount, yuan(dec!(4000)));
    // The special case is outside both sides of the sharing.
    assert_eq!(b.sharing_standard, yuan(dec!(345090.01)));
    assert_eq!(b.sharing_actual, yuan(dec!(30500)));
    assert_eq!(b.final_amount, yuan(dec!(349090.01)));

    // Identity to the fen; the residue is the two roundings.
    assert_eq!(statement.residue, yuan(dec!(-0.03)));
    assert_eq!(
        statement.total_fund_entitlement + statement.ffs_special_total + statement.residue,
        statement.distributable_budget
    );
}

#[test]
fn statements_show_each_mode() {
    let statement = run_clearing(&hainan_year(), &ratio_policy(), &PayStandard).expect("cleared");
    let a = &statement.hospitals[0].modes;
    let names: Vec<&str> = a.iter().map(|l| l.mode.as_str()).collect();
    assert_eq!(names, ["day_surgery", "dip", "per_diem_psychiatric"]);
    assert_eq!(line(a, "dip").cases, 2);
    assert_eq!(line(a, "dip").points, Points::round(dec!(2000)));
    assert_eq!(line(a, "per_diem_psychiatric").amount, yuan(dec!(9730)));
    assert_eq!(line(a, "per_diem_psychiatric").fund_part, yuan(dec!(7730)));
    assert_eq!(line(a, "day_surgery").fund_part, Money::ZERO);

    let b = &statement.hospitals[1].modes;
    assert_eq!(line(b, PAID_AT_COST_LINE).fund_part, yuan(dec!(3500)));
    assert_eq!(line(b, SPECIAL_CASE_LINE).fund_part, yuan(dec!(4000)));
    assert_eq!(line(b, "fee_for_service").fund_part, yuan(dec!(20000)));
    assert_eq!(
        line(b, "basic_level_disease").points,
        Points::round(dec!(1000))
    );

    // The region's lines add the hospitals' up; every case is on exactly one line.
    let region = &statement.modes;
    assert_eq!(region.iter().map(|l| l.cases).sum::<u64>(), 8);
    let money: Money = region.iter().map(|l| l.fund_part).sum();
    assert_eq!(
        money,
        statement.money_fund_total + statement.ffs_special_total
    );
    let points: Points = region.iter().map(|l| l.points).sum();
    assert_eq!(points, statement.total_points);
}

/// Under DRG the money modes are paid first too: a per-diem stay is paid its standard, and its
/// burden no longer reduces the points-paid hospital's entitlement.
#[test]
fn a_drg_year_pays_its_per_diem_stays_at_their_standard() {
    let input = ClearingInput {
        region: "330100".parse().expect("region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: yuan(dec!(100000)),
        cases: vec![
            Case {
                total_cost: dec!(10000),
                burden: dec!(2000),
                fund: dec!(8000),
                ..points("H1", "1", PaymentMode::Drg, dec!(100))
            }
            .clearing(),
            Case {
                payment: CasePayment::Standard(yuan(dec!(9730))),
                total_cost: dec!(9000),
                burden: dec!(1000),
                fund: dec!(8000),
                ..points("H2", "1", PaymentMode::PerDiemRehabilitation, dec!(0))
            }
            .clearing(),
        ],
        hospitals: vec![
            HospitalClearingInput::plain("H1"),
            HospitalClearingInput::plain("H2"),
        ],
    };
    let statement =
        run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect("cleared");
    // (100,000 − 8,730 + 2,000) / 100 points.
    assert_eq!(statement.point_value, dec!(932.7));
    assert_eq!(statement.hospitals[0].fund_entitlement, yuan(dec!(91270)));
    assert_eq!(statement.hospitals[1].fund_entitlement, yuan(dec!(8730)));
    assert_eq!(statement.hospitals[1].individual_burden, Money::ZERO);
    assert_eq!(statement.residue, Money::ZERO);
    assert_eq!(statement.reimbursement_ratio, None);
}

#[test]
fn the_ratio_needs_points_paid_cases_with_a_cost() {
    let mut input = hainan_year();
    for case in &mut input.cases {
        if case.payment.is_points() {
            case.total_cost = Money::ZERO;
        }
    }
    assert_eq!(
        run_clearing(&input, &ratio_policy(), &PayStandard).expect_err("no ratio"),
        vec![SettlementError::NoReimbursementRatio]
    );
}

#[test]
fn a_budget_below_what_the_money_modes_are_owed_is_refused() {
    let mut input = hainan_year();
    input.distributable_budget = yuan(dec!(35000));
    let errors = run_clearing(&input, &ratio_policy(), &PayStandard).expect_err("too small");
    assert_eq!(
        errors,
        vec![SettlementError::BudgetBelowMoneyModes {
            budget: yuan(dec!(35000)),
            paid_first: yuan(dec!(35230)),
        }]
    );
    assert_eq!(errors[0].reason(), "BUDGET_BELOW_MONEY_MODES");
}

fn valued(hospital: &str, id: &str, mode: &str, amount: Option<Decimal>) -> ValuedCase {
    ValuedCase {
        hospital_code: hospital.into(),
        list_id: id.into(),
        payment_mode: PaymentMode::from_stored(mode),
        group_code: "G1".into(),
        points: Points::ZERO,
        total_cost: yuan(dec!(1000)),
        individual_burden: yuan(dec!(100)),
        fund_amount: yuan(dec!(900)),
        amount: amount.map(yuan),
        scheme_version: "s@1".into(),
        table_version: "t@1".into(),
        stay: None,
    }
}

#[test]
fn a_standard_paid_case_without_its_amount_is_reported_not_paid_nothing() {
    let facts = ClearingFacts {
        region: "460100".parse().expect("region"),
        year: 2025,
        fund: FundType::Employee,
        distributable_budget: yuan(dec!(1000)),
        year_inputs: Vec::new(),
        supervised_deductions: None,
        supervised_scores: None,
        prepayments: Vec::new(),
        decisions: Default::default(),
        later_stays: Vec::new(),
        readmission: Default::default(),
        alliances: Default::default(),
        cases: vec![
            valued("A", "1", "per_diem_hospice", None),
            valued("A", "2", "day_surgery", Some(dec!(500))),
            valued("A", "3", "fixed_rate", None),
            valued("A", "4", "dip", Some(dec!(1000))),
        ],
    };
    let errors = assemble_clearing(facts).expect_err("missing amounts");
    let records: Vec<String> = errors
        .iter()
        .map(|e| match e {
            SettlementError::MissingStandardAmount { record, mode } => format!("{record} {mode}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(records, ["A/1 per_diem_hospice", "A/3 fixed_rate"]);
}

#[test]
fn each_mode_is_classified_as_paid() {
    use CasePayment::{Claimed, Points, Standard};
    let standard = Some(yuan(dec!(10)));
    for (mode, amount, expected) in [
        (Some(PaymentMode::Drg), None, Some(Points)),
        (Some(PaymentMode::Dip), None, Some(Points)),
        (Some(PaymentMode::BasicLevelDisease), None, Some(Points)),
        (Some(PaymentMode::Dip), standard, Some(Claimed)),
        (Some(PaymentMode::FeeForService), standard, Some(Claimed)),
        (Some(PaymentMode::FeeForService), None, Some(Claimed)),
        (
            Some(PaymentMode::PerDiemPsychiatric),
            standard,
            Some(Standard(yuan(dec!(10)))),
        ),
        (
            Some(PaymentMode::DaySurgery),
            standard,
            Some(Standard(yuan(dec!(10)))),
        ),
        (Some(PaymentMode::FixedRate), None, None),
        (None, None, Some(Points)),
    ] {
        assert_eq!(
            CasePayment::of(mode, amount),
            expected,
            "{mode:?} {amount:?}"
        );
    }
    // The fund part: standard − burden, never below zero; a claim as claimed.
    let part = |payment: CasePayment, burden| payment.money_fund_part(yuan(burden), yuan(dec!(7)));
    assert_eq!(part(Standard(yuan(dec!(10))), dec!(3)), yuan(dec!(7)));
    assert_eq!(part(Standard(yuan(dec!(10))), dec!(10.01)), Money::ZERO);
    assert_eq!(part(Claimed, dec!(3)), yuan(dec!(7)));
    assert_eq!(part(Points, dec!(3)), Money::ZERO);
}
