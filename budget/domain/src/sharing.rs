//! Year-end sharing of one fund: the tier table ([`crate::tiers`]) applied to every hospital, the
//! shared overspend drawn from the adjustment reserve (调剂金), and each hospital's balance
//! against its prepayments. DOMAIN.md §4 "Year-end sharing"; research/domain-formulas.md §1.5.

use std::collections::HashSet;

use kernel::{Decimal, FundType, Money, Points};
use serde::{Deserialize, Serialize};

use crate::apportion::apportion;
use crate::error::{BudgetError, check_not_negative};
use crate::tiers::{
    AppliedTier, ReserveShortfallRule, SharingPolicy, TierOutcome, apply_tiers, validate_std_act,
};

/// One hospital's year in one fund, after violation deductions and the assessment coefficient.
/// Fee-for-service special cases (特例单议) are carried apart: they are in neither `standard` nor
/// `actual`, and are paid in full outside the sharing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalYear {
    pub hospital_code: String,
    pub fund: FundType,
    /// Std: the fund part of the clearing entitlement (points × point value − individual burden).
    pub standard: Money,
    /// Act: the fund amount claimed fee-for-service.
    pub actual: Money,
    /// Prepaid over the year (monthly prepayments, including for special cases).
    pub prepaid: Money,
    /// Fee-for-service special cases, paid in full and excluded from Std and Act.
    pub ffs_special_cases: Money,
}

/// One hospital's year-end sharing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalSharing {
    pub hospital_code: String,
    pub fund: FundType,
    pub standard: Money,
    pub actual: Money,
    /// R = Act / Std, unrounded.
    pub ratio: Decimal,
    /// R rounded to 4 places, for display.
    pub ratio_shown: Decimal,
    pub tier: AppliedTier,
    /// The tier function's payment before any scale-down of the reserve.
    pub tier_payment: Money,
    /// Paid from the budget block: min(tier payment, Std).
    pub from_budget: Money,
    /// Paid from the adjustment reserve (调剂金): the shared overspend, after any scale-down.
    pub from_reserve: Money,
    /// from_budget + from_reserve.
    pub payment: Money,
    pub retained_savings: Money,
    pub ffs_special_cases: Money,
    pub prepaid: Money,
    /// payment + special cases − prepaid: positive is a top-up to the hospital, negative a refund.
    pub balance: Money,
}

/// How a reserve shortfall was handled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveShortfall {
    pub requested: Money,
    pub available: Money,
    pub rule: ReserveShortfallRule,
    /// available / requested, unrounded: the factor shared amounts were scaled by (scale-down).
    pub scale: Decimal,
    /// How far the reserve went below zero (allow-negative); zero under scale-down.
    pub overdrawn: Money,
}

/// The year-end sharing of one fund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingOutcome {
    /// The fund of every record (`None` when there were no records).
    pub fund: Option<FundType>,
    pub hospitals: Vec<HospitalSharing>,
    pub reserve_available: Money,
    /// Σ shared amounts the tier table asks for.
    pub reserve_requested: Money,
    /// Σ shared amounts paid.
    pub reserve_used: Money,
    /// available − used; negative only under [`ReserveShortfallRule::AllowNegative`].
    pub reserve_remaining: Money,
    /// Set when the reserve could not pay every shared amount.
    pub shortfall: Option<ReserveShortfall>,
}

/// Computes year-end sharing for every hospital of one fund: the tier table per hospital, the
/// shared overspend drawn from `reserve_available` (scaled down pro rata or overdrawn per the
/// policy, and reported either way), and each hospital's balance against its prepayments. Every
/// bad record is reported; all records must be of one fund, since the reserve is per fund.
pub fn compute_sharing(
    policy: &SharingPolicy,
    reserve_available: Money,
    hospitals: &[HospitalYear],
) -> Result<SharingOutcome, BudgetError> {
    let mut problems = Vec::new();
    if let Err(err) = policy.validate() {
        problems.extend(err.problems().into_iter().cloned());
    }
    check_not_negative(
        &mut problems,
        "reserve_available",
        "reserve",
        reserve_available,
    );
    let fund = hospitals.first().map(|h| h.fund);
    let mut seen = HashSet::new();
    for hospital in hospitals {
        let record = hospital.hospital_code.as_str();
        if !seen.insert(record) {
            problems.push(BudgetError::DuplicateRecord {
                record: record.to_owned(),
            });
        }
        if let Some(expected) = fund
            && hospital.fund != expected
        {
            problems.push(BudgetError::MixedFunds {
                record: record.to_owned(),
                expected: expected.to_string(),
                found: hospital.fund.to_string(),
            });
        }
        validate_std_act(&mut problems, record, hospital.standard, hospital.actual);
        check_not_negative(&mut problems, "prepaid", record, hospital.prepaid);
        check_not_negative(
            &mut problems,
            "ffs_special_cases",
            record,
            hospital.ffs_special_cases,
        );
    }
    BudgetError::collect(problems)?;

    let tiers: Vec<TierOutcome> = hospitals
        .iter()
        .map(|h| apply_tiers(policy, h.standard, h.actual))
        .collect();
    let requested: Money = tiers.iter().map(|t| t.shared).sum();
    let (granted, shortfall) = if requested <= reserve_available {
        (tiers.iter().map(|t| t.shared).collect::<Vec<_>>(), None)
    } else {
        let scale = reserve_available.value() / requested.value();
        match policy.reserve_shortfall {
            ReserveShortfallRule::ScaleDown => {
                let weights: Vec<(&str, Decimal)> = hospitals
                    .iter()
                    .zip(&tiers)
                    .map(|(h, t)| (h.hospital_code.as_str(), t.shared.value()))
                    .collect();
                let granted = apportion(reserve_available, &weights)?;
                let shortfall = ReserveShortfall {
                    requested,
                    available: reserve_available,
                    rule: ReserveShortfallRule::ScaleDown,
                    scale,
                    overdrawn: Money::ZERO,
                };
                (granted, Some(shortfall))
            }
            ReserveShortfallRule::AllowNegative => {
                let shortfall = ReserveShortfall {
                    requested,
                    available: reserve_available,
                    rule: ReserveShortfallRule::AllowNegative,
                    scale,
                    overdrawn: requested - reserve_available,
                };
                (tiers.iter().map(|t| t.shared).collect(), Some(shortfall))
            }
        }
    };

    let lines: Vec<HospitalSharing> = hospitals
        .iter()
        .zip(tiers)
        .zip(granted)
        .map(|((hospital, tier), from_reserve)| {
            let from_budget = tier.payment.min(hospital.standard);
            let payment = from_budget + from_reserve;
            HospitalSharing {
                hospital_code: hospital.hospital_code.clone(),
                fund: hospital.fund,
                standard: hospital.standard,
                actual: hospital.actual,
                ratio: tier.ratio,
                ratio_shown: Points::round(tier.ratio).value(),
                tier: tier.tier,
                tier_payment: tier.payment,
                from_budget,
                from_reserve,
                payment,
                retained_savings: (payment - hospital.actual).max(Money::ZERO),
                ffs_special_cases: hospital.ffs_special_cases,
                prepaid: hospital.prepaid,
                balance: payment + hospital.ffs_special_cases - hospital.prepaid,
            }
        })
        .collect();
    let reserve_used: Money = lines.iter().map(|l| l.from_reserve).sum();
    Ok(SharingOutcome {
        fund,
        hospitals: lines,
        reserve_available,
        reserve_requested: requested,
        reserve_used,
        reserve_remaining: reserve_available - reserve_used,
        shortfall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    fn year(code: &str, standard: &str, actual: &str, prepaid: &str) -> HospitalYear {
        HospitalYear {
            hospital_code: code.into(),
            fund: FundType::Employee,
            standard: yuan(standard),
            actual: yuan(actual),
            prepaid: yuan(prepaid),
            ffs_special_cases: Money::ZERO,
        }
    }

    #[test]
    fn domain_examples_reasonable_overspend() {
        // DOMAIN.md §4: Std 50,000,000, prepaid 45,900,000, Act 54,000,000 (R 1.08)
        // → pay 52,000,000 → top-up 6,100,000.
        let outcome = compute_sharing(
            &SharingPolicy::hainan(),
            yuan("30000000"),
            &[year("H", "50000000", "54000000", "45900000")],
        )
        .expect("valid");
        let h = &outcome.hospitals[0];
        assert_eq!(h.ratio, dec!(1.08));
        assert_eq!(h.ratio_shown.to_string(), "1.0800");
        assert_eq!(h.tier, AppliedTier::Overspend { band: 0 });
        assert_eq!(h.payment, yuan("52000000"));
        assert_eq!(h.from_budget, yuan("50000000"));
        assert_eq!(h.from_reserve, yuan("2000000"));
        assert_eq!(h.balance, yuan("6100000"));
        assert_eq!(outcome.reserve_used, yuan("2000000"));
        assert_eq!(outcome.reserve_remaining, yuan("28000000"));
        assert_eq!(outcome.shortfall, None);
    }

    #[test]
    fn domain_examples_overspend_not_compensated_and_surplus() {
        // 超支不补 → 50,000,000 → top-up 4,100,000.
        let outcome = compute_sharing(
            &SharingPolicy::xinxiang(),
            yuan("30000000"),
            &[year("H", "50000000", "54000000", "45900000")],
        )
        .expect("valid");
        assert_eq!(outcome.hospitals[0].payment, yuan("50000000"));
        assert_eq!(outcome.hospitals[0].balance, yuan("4100000"));
        assert_eq!(outcome.reserve_used, Money::ZERO);

        // Act 46,000,000 → pay 50,000,000, the hospital keeps 4,000,000.
        for policy in [SharingPolicy::hainan(), SharingPolicy::xinxiang()] {
            let outcome = compute_sharing(
                &policy,
                Money::ZERO,
                &[year("H", "50000000", "46000000", "45900000")],
            )
            .expect("valid");
            let h = &outcome.hospitals[0];
            assert_eq!(h.tier, AppliedTier::SurplusRetained);
            assert_eq!(h.payment, yuan("50000000"));
            assert_eq!(h.retained_savings, yuan("4000000"));
            assert_eq!(h.balance, yuan("4100000"));
        }
    }

    #[test]
    fn special_cases_are_outside_sharing_but_in_the_balance() {
        let mut h = year("H", "50000000", "54000000", "47000000");
        h.ffs_special_cases = yuan("1000000");
        let outcome =
            compute_sharing(&SharingPolicy::hainan(), yuan("30000000"), &[h]).expect("valid");
        assert_eq!(outcome.hospitals[0].payment, yuan("52000000"));
        assert_eq!(outcome.hospitals[0].balance, yuan("6000000"));
    }

    #[test]
    fn insufficient_reserve_scales_down_or_overdraws() {
        let hospitals = [
            year("B", "1000", "1100", "0"), // asks 50
            year("A", "1000", "1100", "0"), // asks 50
            year("C", "1000", "1050", "0"), // asks 25
        ];
        let outcome =
            compute_sharing(&SharingPolicy::hainan(), yuan("10.00"), &hospitals).expect("valid");
        let granted: Vec<_> = outcome.hospitals.iter().map(|h| h.from_reserve).collect();
        assert_eq!(granted, vec![yuan("4.00"), yuan("4.00"), yuan("2.00")]);
        assert_eq!(outcome.reserve_used, yuan("10.00"));
        assert_eq!(outcome.reserve_remaining, Money::ZERO);
        let shortfall = outcome.shortfall.expect("reported");
        assert_eq!(shortfall.requested, yuan("125"));
        assert_eq!(shortfall.scale, dec!(0.08));
        assert_eq!(shortfall.overdrawn, Money::ZERO);

        let overdraw = SharingPolicy {
            reserve_shortfall: ReserveShortfallRule::AllowNegative,
            ..SharingPolicy::hainan()
        };
        let outcome = compute_sharing(&overdraw, yuan("10.00"), &hospitals).expect("valid");
        assert_eq!(outcome.reserve_used, yuan("125"));
        assert_eq!(outcome.reserve_remaining, yuan("-115"));
        let shortfall = outcome.shortfall.expect("reported");
        assert_eq!(shortfall.overdrawn, yuan("115"));
        assert_eq!(shortfall.rule, ReserveShortfallRule::AllowNegative);
    }

    #[test]
    fn odd_fen_of_a_scale_down_go_by_hospital_code() {
        let hospitals = [
            year("B", "1000", "1100", "0"),
            year("A", "1000", "1100", "0"),
            year("C", "1000", "1100", "0"),
        ];
        let outcome =
            compute_sharing(&SharingPolicy::hainan(), yuan("0.02"), &hospitals).expect("valid");
        let granted: Vec<_> = outcome.hospitals.iter().map(|h| h.from_reserve).collect();
        assert_eq!(granted, vec![yuan("0.01"), yuan("0.01"), Money::ZERO]);
    }

    #[test]
    fn every_bad_record_is_reported() {
        let mut resident = year("C", "10", "10", "0");
        resident.fund = FundType::Resident;
        let err = compute_sharing(
            &SharingPolicy::hainan(),
            yuan("-1"),
            &[
                year("A", "0", "-5", "0"),
                year("A", "10", "10", "-1"),
                resident,
            ],
        )
        .expect_err("bad");
        let reasons: Vec<_> = err.problems().iter().map(|p| p.reason()).collect();
        assert_eq!(
            reasons,
            vec![
                "NEGATIVE_AMOUNT",
                "NOT_POSITIVE",
                "NEGATIVE_AMOUNT",
                "DUPLICATE_RECORD",
                "NEGATIVE_AMOUNT",
                "MIXED_FUNDS"
            ]
        );
    }

    proptest! {
        #[test]
        fn reserve_never_negative_unless_allowed_and_reported(
            records in proptest::collection::vec((1_i64..1_000_000_000, 0_i64..2_000_000_000), 1..30),
            reserve_fen in 0_i64..100_000_000,
            allow_negative in any::<bool>(),
        ) {
            let hospitals: Vec<HospitalYear> = records
                .iter()
                .enumerate()
                .map(|(i, (std, act))| HospitalYear {
                    hospital_code: format!("H{i:03}"),
                    fund: FundType::Resident,
                    standard: Money::from_fen(*std),
                    actual: Money::from_fen(*act),
                    prepaid: Money::ZERO,
                    ffs_special_cases: Money::ZERO,
                })
                .collect();
            let policy = SharingPolicy {
                reserve_shortfall: if allow_negative {
                    ReserveShortfallRule::AllowNegative
                } else {
                    ReserveShortfallRule::ScaleDown
                },
                ..SharingPolicy::hainan()
            };
            let reserve = Money::from_fen(reserve_fen);
            let outcome = compute_sharing(&policy, reserve, &hospitals).expect("valid");
            let used: Money = outcome.hospitals.iter().map(|h| h.from_reserve).sum();
            prop_assert_eq!(used, outcome.reserve_used);
            prop_assert_eq!(outcome.reserve_remaining, reserve - used);
            if outcome.reserve_remaining.is_negative() {
                prop_assert!(allow_negative);
                let shortfall = outcome.shortfall.clone().expect("reported");
                prop_assert_eq!(shortfall.overdrawn, -outcome.reserve_remaining);
            }
            if outcome.reserve_requested > reserve {
                prop_assert!(outcome.shortfall.is_some());
                if !allow_negative {
                    prop_assert_eq!(outcome.reserve_used, reserve);
                }
            } else {
                prop_assert!(outcome.shortfall.is_none());
                prop_assert_eq!(outcome.reserve_used, outcome.reserve_requested);
            }
            for h in &outcome.hospitals {
                prop_assert!(h.from_reserve <= h.tier_payment - h.from_budget);
            }
        }
    }
}
