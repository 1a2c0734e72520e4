//! Monthly prepayment (月度预付, DOMAIN.md §5) per pooling region, month and fund.
//!
//! Per hospital: fund value = the month's points × provisional point value − individual burden of
//! the points-paid cases + the fund parts of the money-paid cases (DOMAIN.md §5, Hainan: every
//! case with its final mode, by discharge month);
//! prepayable = fund value × prepayment ratio (never below zero: a negative fund value is carried
//! to the year end); in hospital-cap mode the part above the monthly quota is deferred (暂缓拨付,
//! DOMAIN.md §4); the quality deposit (质量保证金) is withheld from what remains. Each formula
//! rounds its money result once; the statement line shows every component, and
//! `payable = capped − deposit` and `capped + deferred = prepayable` hold exactly.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Decimal, FundType, Money, Points, RegionCode, YearMonth, round_points};
use serde::{Deserialize, Serialize};

use crate::budget_point_value::PublishedPointValue;
use crate::error::SettlementError;
use crate::readmission::{Halving, ReadmissionPolicy, halve_readmissions};
use crate::valued_case::{InputVersions, ValuedCase};

/// Whether hospitals have monthly quotas (DOMAIN.md §4 budget modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetMode {
    /// 区域点数法: no hospital caps.
    RegionalPoints,
    /// 医院总额控制: monthly quota = annual allocation / 12, excess deferred.
    HospitalCap,
}

/// Parameters of the monthly prepayment, with DOMAIN.md's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrepaymentPolicy {
    /// Share of the month's fund value prepaid (default 0.90; Zhejiang ≥ 0.85).
    pub prepayment_ratio: Decimal,
    /// Quality deposit withheld from the monthly payment (default 0.05; 0 under the Hainan DIP
    /// scheme, [`crate::policy::PolicyScheme::HainanDip`]).
    pub quality_deposit_rate: Decimal,
    pub budget_mode: BudgetMode,
}

impl Default for PrepaymentPolicy {
    fn default() -> Self {
        Self {
            prepayment_ratio: Decimal::new(90, 2),
            quality_deposit_rate: Decimal::new(5, 2),
            budget_mode: BudgetMode::RegionalPoints,
        }
    }
}

/// Where the provisional point value comes from (DOMAIN.md §5: last year's, or month budget /
/// month points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "source", content = "value")]
pub enum ProvisionalPointValue {
    /// A published value (e.g. last year's clearing point value), 4 places.
    Published(Decimal),
    /// The month's budget divided by the month's total points, rounded to 4 places.
    FromMonthBudget(Money),
    /// A version of the DIP budget point value settlement published for the region, year and
    /// fund (DOMAIN.md §5 Hainan); each line names it as its source.
    DipBudget(PublishedPointValue),
}

/// One hospital's month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalMonth {
    pub hospital_code: String,
    /// Points of the month's points-paid cases.
    pub points: Points,
    /// Individual burden of those cases.
    pub individual_burden: Money,
    /// Σ fund parts of the month's money-paid cases (per diem, day surgery, fixed rate: standard
    /// − burden, never below zero; excluded stays and paid at cost: the claimed fund amount).
    #[serde(default)]
    pub money_fund_part: Money,
    /// Monthly quota (月预分额度), required in hospital-cap mode.
    #[serde(default)]
    pub monthly_quota: Option<Money>,
    /// The medical alliance whose unit quota `monthly_quota` is, capping this hospital together
    /// with the alliance's other members ([`crate::alliance_quota`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<String>,
}

/// A prepayment run's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentInput {
    pub region: RegionCode,
    pub month: YearMonth,
    pub fund_type: FundType,
    pub point_value: ProvisionalPointValue,
    pub hospitals: Vec<HospitalMonth>,
}

/// A hospital's statement line, every component shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentLine {
    pub hospital_code: String,
    pub points: Points,
    pub point_value: Decimal,
    /// round2(points × point value) − individual burden + money fund part (may be negative).
    pub fund_value: Money,
    pub individual_burden: Money,
    #[serde(default)]
    pub money_fund_part: Money,
    /// Where the point value comes from when it is a published DIP budget point value (absent
    /// for a value given with the run or taken from the month's budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_value_source: Option<String>,
    pub prepayment_ratio: Decimal,
    /// max(0, fund value × ratio), rounded once.
    pub prepayable: Money,
    pub monthly_quota: Option<Money>,
    /// Part of the prepayable above the quota, deferred to the year end.
    pub deferred: Money,
    /// min(prepayable, quota).
    pub capped: Money,
    /// capped × deposit rate, rounded once.
    pub quality_deposit: Money,
    /// capped − deposit: what is transferred.
    pub payable: Money,
    /// The medical alliance whose unit quota is `monthly_quota`: the members' prepayables are
    /// capped together and `capped` is this hospital's part of the unit's capped amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance_code: Option<String>,
}

/// A prepayment run's statement: lines sorted by hospital code, and totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentStatement {
    pub region: RegionCode,
    pub month: YearMonth,
    pub fund_type: FundType,
    pub point_value: Decimal,
    pub policy: PrepaymentPolicy,
    pub lines: Vec<PrepaymentLine>,
    pub total_deferred: Money,
    pub total_quality_deposit: Money,
    pub total_payable: Money,
}

/// A month's cases by hospital, with the run's case count and input versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthCases {
    pub hospitals: Vec<HospitalMonth>,
    /// Stays of the month halved as readmitted (DRG), with the points they were prepaid at.
    pub halvings: Vec<Halving>,
    pub cases: u64,
    pub versions: InputVersions,
}

/// Adds up the month's cases per hospital, in hospital-code order, each as its mode pays it
/// ([`crate::valued_case::CasePayment`]), after halving the stays readmitted within the window
/// (by the month's cases and `later_stays`, DOMAIN.md §5). Each hospital's quota is looked up in
/// `quotas` (hospital-cap mode). Every case that cannot be paid as stored is reported.
pub fn month_cases(
    mut cases: Vec<ValuedCase>,
    later_stays: &[ValuedCase],
    readmission: &ReadmissionPolicy,
    quotas: Option<&BTreeMap<String, Money>>,
) -> Result<MonthCases, Vec<SettlementError>> {
    readmission.check().map_err(|error| vec![error])?;
    let halvings = halve_readmissions(&mut cases, later_stays, readmission);
    #[derive(Default)]
    struct Month {
        points: Points,
        burden: Money,
        money_fund_part: Money,
    }
    let mut by_hospital: BTreeMap<&str, Month> = BTreeMap::new();
    let mut versions = InputVersions::default();
    let mut errors = Vec::new();
    for case in &cases {
        let payment = match case.payment() {
            Ok(payment) => payment,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        versions.add(case);
        let month = by_hospital.entry(case.hospital_code.as_str()).or_default();
        if payment.is_points() {
            month.points += case.points;
            month.burden += case.individual_burden;
        } else {
            month.money_fund_part +=
                payment.money_fund_part(case.individual_burden, case.fund_amount);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(MonthCases {
        cases: cases.len() as u64,
        halvings,
        hospitals: by_hospital
            .iter()
            .map(|(code, month)| HospitalMonth {
                hospital_code: (*code).to_owned(),
                points: month.points,
                individual_burden: month.burden,
                money_fund_part: month.money_fund_part,
                monthly_quota: quotas.and_then(|quotas| quotas.get(*code).copied()),
                alliance: None,
            })
            .collect(),
        versions,
    })
}

fn check_rate(
    errors: &mut Vec<SettlementError>,
    field: &'static str,
    value: Decimal,
    allowed: &'static str,
    ok: bool,
) {
    if !ok {
        errors.push(SettlementError::ParameterOutOfRange {
            record: "policy".to_owned(),
            field,
            value: value.to_string(),
            allowed,
        });
    }
}

/// Runs the monthly prepayment; reports every bad hospital record at once.
pub fn run_prepayment(
    input: &PrepaymentInput,
    policy: &PrepaymentPolicy,
) -> Result<PrepaymentStatement, Vec<SettlementError>> {
    let mut errors = Vec::new();
    let ratio = policy.prepayment_ratio;
    check_rate(
        &mut errors,
        "prepayment_ratio",
        ratio,
        "(0, 1]",
        ratio > Decimal::ZERO && ratio <= Decimal::ONE,
    );
    let deposit_rate = policy.quality_deposit_rate;
    check_rate(
        &mut errors,
        "quality_deposit_rate",
        deposit_rate,
        "[0, 1)",
        deposit_rate >= Decimal::ZERO && deposit_rate < Decimal::ONE,
    );
    let mut seen = BTreeSet::new();
    for h in &input.hospitals {
        if !seen.insert(h.hospital_code.as_str()) {
            errors.push(SettlementError::DuplicateHospital {
                hospital_code: h.hospital_code.clone(),
            });
        }
        if h.points.is_negative() {
            errors.push(SettlementError::NegativePoints {
                record: h.hospital_code.clone(),
                field: "points",
                value: h.points,
            });
        }
        for (field, value) in [
            ("individual_burden", h.individual_burden),
            ("money_fund_part", h.money_fund_part),
        ] {
            if value.is_negative() {
                errors.push(SettlementError::NegativeAmount {
                    record: h.hospital_code.clone(),
                    field,
                    value,
                });
            }
        }
        match (policy.budget_mode, h.monthly_quota) {
            (BudgetMode::HospitalCap, None) => errors.push(SettlementError::MissingMonthlyQuota {
                hospital_code: h.hospital_code.clone(),
            }),
            (_, Some(quota)) if quota.is_negative() => {
                errors.push(SettlementError::NegativeAmount {
                    record: h.hospital_code.clone(),
                    field: "monthly_quota",
                    value: quota,
                })
            }
            _ => {}
        }
    }
    let point_value = match input.point_value {
        ProvisionalPointValue::Published(value)
        | ProvisionalPointValue::DipBudget(PublishedPointValue { value, .. }) => {
            if value.is_sign_negative() {
                errors.push(SettlementError::ParameterOutOfRange {
                    record: "point_value".to_owned(),
                    field: "published",
                    value: value.to_string(),
                    allowed: "[0, ∞)",
                });
            }
            value
        }
        ProvisionalPointValue::FromMonthBudget(budget) => {
            let total_points: Points = input.hospitals.iter().map(|h| h.points).sum();
            if total_points.value().is_zero() {
                errors.push(SettlementError::NoPoints);
                Decimal::ZERO
            } else {
                // DOMAIN.md §5: month budget / month points, published at 4 places.
                round_points(budget.value() / total_points.value())
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    let source = match input.point_value {
        ProvisionalPointValue::DipBudget(published) => Some(published.source()),
        _ => None,
    };
    let mut hospitals: Vec<&HospitalMonth> = input.hospitals.iter().collect();
    hospitals.sort_by(|a, b| a.hospital_code.cmp(&b.hospital_code));
    let mut lines: Vec<PrepaymentLine> = hospitals
        .into_iter()
        .map(|h| prepayment_line(h, point_value, source.as_deref(), policy))
        .collect();
    if policy.budget_mode == BudgetMode::HospitalCap {
        crate::alliance_quota::cap_units(&mut lines, policy.quality_deposit_rate)
            .map_err(|error| vec![error])?;
    }
    Ok(PrepaymentStatement {
        region: input.region,
        month: input.month,
        fund_type: input.fund_type,
        point_value,
        policy: policy.clone(),
        total_deferred: lines.iter().map(|l| l.deferred).sum(),
        total_quality_deposit: lines.iter().map(|l| l.quality_deposit).sum(),
        total_payable: lines.iter().map(|l| l.payable).sum(),
        lines,
    })
}

/// DOMAIN.md §4 quality deposit: a share of the monthly payment, withheld, rounded once; also
/// for an alliance member's part of its unit's capped amount.
pub(crate) fn quality_deposit(capped: Money, rate: Decimal) -> Money {
    Money::round(capped.value() * rate)
}

fn prepayment_line(
    h: &HospitalMonth,
    point_value: Decimal,
    point_value_source: Option<&str>,
    policy: &PrepaymentPolicy,
) -> PrepaymentLine {
    // DOMAIN.md §5 Hainan: round2(points × point value) − individual burden, plus what the money
    // modes pay. Burden and money parts are whole fen, so this is the one rounding; it differs
    // from rounding the whole sum only on a negative month at a half fen, which prepays nothing
    // either way.
    let fund_value =
        Money::round(h.points.value() * point_value) - h.individual_burden + h.money_fund_part;
    // × prepayment ratio; a negative month is not clawed back monthly but at the year end.
    let prepayable = Money::round(fund_value.value() * policy.prepayment_ratio).max(Money::ZERO);
    let (capped, deferred) = match (policy.budget_mode, h.monthly_quota) {
        (BudgetMode::HospitalCap, Some(quota)) if prepayable > quota => (quota, prepayable - quota),
        _ => (prepayable, Money::ZERO),
    };
    let quality_deposit = quality_deposit(capped, policy.quality_deposit_rate);
    PrepaymentLine {
        hospital_code: h.hospital_code.clone(),
        points: h.points,
        point_value,
        fund_value,
        individual_burden: h.individual_burden,
        money_fund_part: h.money_fund_part,
        point_value_source: point_value_source.map(str::to_owned),
        prepayment_ratio: policy.prepayment_ratio,
        prepayable,
        monthly_quota: h.monthly_quota,
        deferred,
        capped,
        quality_deposit,
        payable: capped - quality_deposit,
        alliance_code: h.alliance.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment_mode::PaymentMode;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn month(
        code: &str,
        points: Decimal,
        burden: Decimal,
        quota: Option<Decimal>,
    ) -> HospitalMonth {
        HospitalMonth {
            hospital_code: code.into(),
            points: Points::round(points),
            individual_burden: Money::round(burden),
            money_fund_part: Money::ZERO,
            monthly_quota: quota.map(Money::round),
            alliance: None,
        }
    }

    fn input(point_value: ProvisionalPointValue, hospitals: Vec<HospitalMonth>) -> PrepaymentInput {
        PrepaymentInput {
            region: "460000".parse().expect("region"),
            month: "2025-03".parse().expect("month"),
            fund_type: FundType::Employee,
            point_value,
            hospitals,
        }
    }

    #[test]
    fn every_component_of_a_line() {
        // 10,000 points × 102.5641 = 1,025,641.00; − 225,641 burden = 800,000.00;
        // × 0.90 = 720,000.00; deposit 5 % = 36,000.00; payable 684,000.00.
        let run = run_prepayment(
            &input(
                ProvisionalPointValue::Published(dec!(102.5641)),
                vec![month("H1", dec!(10000), dec!(225641), None)],
            ),
            &PrepaymentPolicy::default(),
        )
        .expect("valid");
        let line = &run.lines[0];
        assert_eq!(line.fund_value, Money::round(dec!(800000)));
        assert_eq!(line.prepayable, Money::round(dec!(720000)));
        assert_eq!(line.deferred, Money::ZERO);
        assert_eq!(line.quality_deposit, Money::round(dec!(36000)));
        assert_eq!(line.payable, Money::round(dec!(684000)));
        assert_eq!(run.total_payable, line.payable);
    }

    #[test]
    fn cap_mode_defers_the_excess_above_the_quota_and_not_below() {
        let policy = PrepaymentPolicy {
            budget_mode: BudgetMode::HospitalCap,
            ..PrepaymentPolicy::default()
        };
        let run = run_prepayment(
            &input(
                ProvisionalPointValue::Published(dec!(100)),
                vec![
                    // prepayable 0.9 × 1,000,000 = 900,000 > quota 850,000 → 50,000 deferred.
                    month("H1", dec!(10000), dec!(0), Some(dec!(850000))),
                    // prepayable exactly the quota → nothing deferred.
                    month("H2", dec!(10000), dec!(0), Some(dec!(900000))),
                ],
            ),
            &policy,
        )
        .expect("valid");
        assert_eq!(run.lines[0].capped, Money::round(dec!(850000)));
        assert_eq!(run.lines[0].deferred, Money::round(dec!(50000)));
        assert_eq!(run.lines[0].quality_deposit, Money::round(dec!(42500)));
        assert_eq!(run.lines[1].deferred, Money::ZERO);
        assert_eq!(run.lines[1].capped, Money::round(dec!(900000)));
        assert_eq!(run.total_deferred, Money::round(dec!(50000)));
    }

    #[test]
    fn provisional_value_from_month_budget_is_published_at_four_places() {
        let run = run_prepayment(
            &input(
                ProvisionalPointValue::FromMonthBudget(Money::round(dec!(1000000))),
                vec![
                    month("H2", dec!(3000), dec!(0), None),
                    month("H1", dec!(6000), dec!(0), None),
                ],
            ),
            &PrepaymentPolicy::default(),
        )
        .expect("valid");
        assert_eq!(run.point_value, dec!(111.1111));
        // Sorted by hospital code regardless of input order.
        assert_eq!(run.lines[0].hospital_code, "H1");
    }

    #[test]
    fn negative_month_prepays_nothing() {
        let run = run_prepayment(
            &input(
                ProvisionalPointValue::Published(dec!(10)),
                vec![month("H1", dec!(100), dec!(5000), None)],
            ),
            &PrepaymentPolicy::default(),
        )
        .expect("valid");
        assert_eq!(run.lines[0].fund_value, Money::round(dec!(-4000)));
        assert_eq!(run.lines[0].prepayable, Money::ZERO);
        assert_eq!(run.lines[0].payable, Money::ZERO);
    }

    #[test]
    fn every_bad_record_is_reported() {
        let policy = PrepaymentPolicy {
            prepayment_ratio: dec!(1.2),
            budget_mode: BudgetMode::HospitalCap,
            ..PrepaymentPolicy::default()
        };
        let errors = run_prepayment(
            &input(
                ProvisionalPointValue::Published(dec!(10)),
                vec![
                    month("H1", dec!(-1), dec!(0), Some(dec!(1))),
                    month("H1", dec!(1), dec!(-3), None),
                ],
            ),
            &policy,
        )
        .expect_err("invalid");
        let reasons: Vec<_> = errors.iter().map(SettlementError::reason).collect();
        assert_eq!(
            reasons,
            vec![
                "PARAMETER_OUT_OF_RANGE",
                "NEGATIVE_POINTS",
                "DUPLICATE_HOSPITAL",
                "NEGATIVE_AMOUNT",
                "MISSING_MONTHLY_QUOTA"
            ]
        );
    }

    #[test]
    fn ratio_boundaries() {
        for (ratio, ok) in [
            (dec!(0), false),
            (dec!(0.01), true),
            (dec!(1), true),
            (dec!(1.0001), false),
        ] {
            let policy = PrepaymentPolicy {
                prepayment_ratio: ratio,
                ..PrepaymentPolicy::default()
            };
            let result = run_prepayment(
                &input(ProvisionalPointValue::Published(dec!(1)), vec![]),
                &policy,
            );
            assert_eq!(result.is_ok(), ok, "ratio {ratio}");
        }
    }

    #[test]
    fn policy_reads_from_json_with_defaults() {
        let policy: PrepaymentPolicy =
            serde_json::from_str(r#"{"prepayment_ratio":"0.85"}"#).expect("json");
        assert_eq!(policy.prepayment_ratio, dec!(0.85));
        assert_eq!(policy.quality_deposit_rate, dec!(0.05));
    }

    proptest! {
        #[test]
        fn prepayment_is_never_negative_and_adds_up(
            points in 0i64..100_000_000_000,
            burden in 0i64..10_000_000_000,
            quota in 0i64..10_000_000_000,
            pv in 0i64..2_000_000,
            ratio in 1i64..=100,
            deposit in 0i64..100,
            money in 0i64..1_000_000_000,
        ) {
            let policy = PrepaymentPolicy {
                prepayment_ratio: Decimal::new(ratio, 2),
                quality_deposit_rate: Decimal::new(deposit, 2),
                budget_mode: BudgetMode::HospitalCap,
            };
            let h = HospitalMonth {
                hospital_code: "H".into(),
                points: Points::from_scaled(points),
                individual_burden: Money::from_fen(burden),
                money_fund_part: Money::from_fen(money),
                monthly_quota: Some(Money::from_fen(quota)),
                alliance: None,
            };
            let run = run_prepayment(
                &input(ProvisionalPointValue::Published(Decimal::new(pv, 4)), vec![h]),
                &policy,
            ).expect("valid");
            let line = &run.lines[0];
            prop_assert!(!line.payable.is_negative());
            prop_assert!(!line.quality_deposit.is_negative());
            prop_assert!(!line.deferred.is_negative());
            prop_assert!(line.capped <= Money::from_fen(quota));
            prop_assert_eq!(line.capped + line.deferred, line.prepayable);
            prop_assert_eq!(line.payable + line.quality_deposit, line.capped);
        }
    }

    fn valued(
        hospital: &str,
        mode: PaymentMode,
        points: Decimal,
        amount: Option<Decimal>,
    ) -> ValuedCase {
        ValuedCase {
            hospital_code: hospital.into(),
            list_id: format!("{mode}-{points}"),
            payment_mode: Some(mode),
            group_code: "G".into(),
            points: Points::round(points),
            total_cost: Money::round(dec!(12000)),
            individual_burden: Money::round(dec!(2000)),
            fund_amount: Money::round(dec!(10000)),
            amount: amount.map(Money::round),
            scheme_version: "s@1".into(),
            table_version: "t@1".into(),
            stay: None,
        }
    }

    /// DOMAIN.md §5 Hainan: prepaid = 0.90 × (round2(month DIP points × budget point value) −
    /// month burden of the DIP-paid cases + Σ month money fund parts), no deposit.
    #[test]
    fn every_mode_is_prepaid_with_its_final_mode() {
        let cases = [
            valued("A", PaymentMode::Dip, dec!(600), None),
            valued("A", PaymentMode::BasicLevelDisease, dec!(400), None),
            // 9,730 − 2,000.
            valued(
                "A",
                PaymentMode::PerDiemPsychiatric,
                dec!(0),
                Some(dec!(9730)),
            ),
            // Below its burden: nothing.
            valued("A", PaymentMode::DaySurgery, dec!(0), Some(dec!(1500))),
            // An excluded stay: its claim, 10,000.
            valued("A", PaymentMode::FeeForService, dec!(0), Some(dec!(12000))),
        ];
        let month =
            month_cases(cases.to_vec(), &[], &ReadmissionPolicy::default(), None).expect("paid");
        assert_eq!(month.cases, 5);
        let a = &month.hospitals[0];
        assert_eq!(a.points, Points::round(dec!(1000)));
        assert_eq!(a.individual_burden, Money::round(dec!(4000)));
        assert_eq!(a.money_fund_part, Money::round(dec!(17730)));
        let policy = PrepaymentPolicy {
            quality_deposit_rate: Decimal::ZERO,
            ..PrepaymentPolicy::default()
        };
        let run = run_prepayment(
            &input(
                ProvisionalPointValue::Published(dec!(10.1234)),
                month.hospitals,
            ),
            &policy,
        )
        .expect("valid");
        let line = &run.lines[0];
        // 10,123.40 − 4,000 + 17,730 = 23,853.40; × 0.90 = 21,468.06.
        assert_eq!(line.fund_value, Money::round(dec!(23853.40)));
        assert_eq!(line.payable, Money::round(dec!(21468.06)));
    }

    #[test]
    fn a_standard_paid_case_without_its_amount_is_reported() {
        let cases = [
            valued("A", PaymentMode::Dip, dec!(600), None),
            valued("A", PaymentMode::PerDiemHospice, dec!(0), None),
        ];
        let errors = month_cases(cases.to_vec(), &[], &ReadmissionPolicy::default(), None)
            .expect_err("missing amount");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].reason(), "MISSING_STANDARD_AMOUNT");
    }
}
