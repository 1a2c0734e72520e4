//! Year-end surplus retention and overspend sharing (结余留用 / 合理超支分担 / 超支不补): the tier
//! table as a policy, the tier function per hospital and fund, and the run over all hospitals of a
//! fund that draws shared overspend from the adjustment reserve (调剂金). DOMAIN.md §4 "Year-end
//! sharing"; research/domain-formulas.md §1.5.

use std::collections::HashSet;

use kernel::{Decimal, FundType, Money, Points};
use serde::{Deserialize, Serialize};

use crate::apportion::apportion;
use crate::error::{BudgetError, check_not_negative, check_rate};

/// What happens to savings when R = Act / Std ≤ 1 (结余留用).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurplusRule {
    /// Savings retained in full up to this share of Std (e.g. 0.15); `None` retains all savings
    /// (pay Std). Default `None`.
    pub retained_cap: Option<Decimal>,
    /// Share of the savings beyond the cap still retained (0 = none, 0.5 = half). Default 0.
    pub beyond_cap_retained_share: Decimal,
}

impl Default for SurplusRule {
    fn default() -> Self {
        Self {
            retained_cap: None,
            beyond_cap_retained_share: Decimal::ZERO,
        }
    }
}

/// A band of overspend: the part of Act between `lower_ratio × Std` and `upper_ratio × Std` is
/// paid at `shared_rate`. Bands start at R = 1, follow each other without gaps, and the last is
/// unbounded (`upper_ratio: None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverspendBand {
    pub lower_ratio: Decimal,
    pub upper_ratio: Option<Decimal>,
    /// Share of the overspend in this band the fund pays, in 0..=1.
    pub shared_rate: Decimal,
}

/// What to do when the shared amounts exceed the adjustment reserve available.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReserveShortfallRule {
    /// Scale every hospital's shared amount down pro rata so the reserve is used exactly (fen-exact,
    /// largest-remainder rule of [`apportion`], ties by hospital code). The default.
    ScaleDown,
    /// Pay the shared amounts in full and let the reserve go negative (reported as overdrawn).
    AllowNegative,
}

/// The year-end sharing tier table of a region and year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharingPolicy {
    pub surplus: SurplusRule,
    pub overspend_bands: Vec<OverspendBand>,
    pub reserve_shortfall: ReserveShortfallRule,
}

impl Default for SharingPolicy {
    /// The DOMAIN.md §4 reasonable-overspend table ([`SharingPolicy::hainan`]).
    fn default() -> Self {
        Self::hainan()
    }
}

impl SharingPolicy {
    /// 合理超支分担 (Hainan, DOMAIN.md §4): R ≤ 1 → Std; 1 < R ≤ 1.1 → Std + 50 % of (Act − Std);
    /// R > 1.1 → Std + 50 % of 0.1 × Std; shared amounts paid from the adjustment reserve.
    pub fn hainan() -> Self {
        let band_top = Decimal::new(11, 1);
        Self {
            surplus: SurplusRule::default(),
            overspend_bands: vec![
                OverspendBand {
                    lower_ratio: Decimal::ONE,
                    upper_ratio: Some(band_top),
                    shared_rate: Decimal::new(5, 1),
                },
                OverspendBand {
                    lower_ratio: band_top,
                    upper_ratio: None,
                    shared_rate: Decimal::ZERO,
                },
            ],
            reserve_shortfall: ReserveShortfallRule::ScaleDown,
        }
    }

    /// 超支不补 (Xinxiang, DOMAIN.md §4): R ≤ 1 → Std (savings retained); R > 1 → Std.
    pub fn xinxiang() -> Self {
        Self {
            surplus: SurplusRule::default(),
            overspend_bands: vec![OverspendBand {
                lower_ratio: Decimal::ONE,
                upper_ratio: None,
                shared_rate: Decimal::ZERO,
            }],
            reserve_shortfall: ReserveShortfallRule::ScaleDown,
        }
    }

    /// Rejects a table whose bands are not sorted or contiguous or whose rates leave 0..=1,
    /// naming every bad field.
    pub fn validate(&self) -> Result<(), BudgetError> {
        let mut problems = Vec::new();
        if let Some(cap) = self.surplus.retained_cap {
            check_rate(&mut problems, "surplus.retained_cap", cap);
        }
        check_rate(
            &mut problems,
            "surplus.beyond_cap_retained_share",
            self.surplus.beyond_cap_retained_share,
        );
        if self.overspend_bands.is_empty() {
            problems.push(BudgetError::InvalidPolicy {
                field: "overspend_bands".into(),
                why: "needs at least one band starting at R = 1",
            });
        }
        let last = self.overspend_bands.len().saturating_sub(1);
        let mut expected_lower = Some(Decimal::ONE);
        for (index, band) in self.overspend_bands.iter().enumerate() {
            check_rate(
                &mut problems,
                format!("overspend_bands[{index}].shared_rate"),
                band.shared_rate,
            );
            match expected_lower {
                Some(expected) if band.lower_ratio != expected => {
                    problems.push(BudgetError::BandsNotContiguous {
                        field: "overspend_bands".into(),
                        index,
                        expected,
                        found: band.lower_ratio,
                    });
                }
                None => problems.push(BudgetError::InvalidPolicy {
                    field: format!("overspend_bands[{}].upper_ratio", index - 1),
                    why: "only the last band may be unbounded",
                }),
                Some(_) => {}
            }
            match band.upper_ratio {
                Some(upper) if upper <= band.lower_ratio => {
                    problems.push(BudgetError::BandsNotSorted {
                        field: "overspend_bands".into(),
                        index,
                    });
                }
                Some(_) if index == last => problems.push(BudgetError::InvalidPolicy {
                    field: format!("overspend_bands[{index}].upper_ratio"),
                    why: "the last band must be unbounded so every overspend has a band",
                }),
                _ => {}
            }
            expected_lower = band.upper_ratio;
        }
        BudgetError::collect(problems)
    }
}

/// Which row of the table applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AppliedTier {
    /// R ≤ 1, savings retained in full.
    SurplusRetained,
    /// R ≤ 1, savings beyond the retained cap partly or wholly not retained.
    SurplusCapped,
    /// R > 1, in overspend band `band` (0-based index into the policy's bands).
    Overspend { band: usize },
}

/// The tier function's result for one Std and Act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierOutcome {
    /// R = Act / Std, unrounded.
    pub ratio: Decimal,
    pub tier: AppliedTier,
    /// What the fund pays for the year, rounded once.
    pub payment: Money,
    /// payment − Std when positive: the shared overspend, paid from the adjustment reserve.
    pub shared: Money,
    /// payment − Act when positive: the savings the institution keeps.
    pub retained_savings: Money,
}

/// Applies the tier table to one institution's Std (> 0) and Act. The policy should be valid
/// ([`SharingPolicy::validate`]); `compute_sharing` and `per_capita_sharing` check it.
pub fn apply_tiers(policy: &SharingPolicy, standard: Money, actual: Money) -> TierOutcome {
    let std = standard.value();
    let act = actual.value();
    let ratio = if std.is_zero() {
        Decimal::ZERO
    } else {
        act / std
    };
    let (tier, raw_payment) = if act <= std {
        // DOMAIN.md §4 结余留用: R ≤ 1 → pay Std, optionally capping the savings retained.
        let savings = std - act;
        let beyond_cap = policy.surplus.retained_cap.map_or(Decimal::ZERO, |cap| {
            (savings - cap * std).max(Decimal::ZERO)
        });
        let not_retained = beyond_cap * (Decimal::ONE - policy.surplus.beyond_cap_retained_share);
        let tier = if not_retained > Decimal::ZERO {
            AppliedTier::SurplusCapped
        } else {
            AppliedTier::SurplusRetained
        };
        (tier, std - not_retained)
    } else {
        // DOMAIN.md §4 合理超支分担 / 超支不补: Std + Σ rate × (part of Act − Std in each band).
        let mut shared = Decimal::ZERO;
        let mut band_index = 0;
        for (index, band) in policy.overspend_bands.iter().enumerate() {
            let lower = band.lower_ratio * std;
            let upper = band.upper_ratio.map_or(act, |upper| (upper * std).min(act));
            if upper > lower {
                shared += band.shared_rate * (upper - lower);
            }
            let above_lower = ratio > band.lower_ratio;
            let within_upper = band.upper_ratio.is_none_or(|upper| ratio <= upper);
            if above_lower && within_upper {
                band_index = index;
            }
        }
        (AppliedTier::Overspend { band: band_index }, std + shared)
    };
    let payment = Money::round(raw_payment);
    TierOutcome {
        ratio,
        tier,
        payment,
        shared: (payment - standard).max(Money::ZERO),
        retained_savings: (payment - actual).max(Money::ZERO),
    }
}

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

pub(crate) fn validate_std_act(
    problems: &mut Vec<BudgetError>,
    record: &str,
    standard: Money,
    actual: Money,
) {
    if standard.value() <= Decimal::ZERO {
        problems.push(BudgetError::NotPositive {
            field: "standard".into(),
            record: record.to_owned(),
            value: standard.value(),
        });
    }
    check_not_negative(problems, "actual", record, actual);
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
    fn boundaries_at_r_1_and_1_1() {
        let policy = SharingPolicy::hainan();
        let std = yuan("1000000.00");
        for (actual, tier, payment) in [
            ("1000000.00", AppliedTier::SurplusRetained, "1000000.00"),
            (
                "1000000.01",
                AppliedTier::Overspend { band: 0 },
                "1000000.01",
            ),
            (
                "1100000.00",
                AppliedTier::Overspend { band: 0 },
                "1050000.00",
            ),
            (
                "1100000.01",
                AppliedTier::Overspend { band: 1 },
                "1050000.00",
            ),
            (
                "2000000.00",
                AppliedTier::Overspend { band: 1 },
                "1050000.00",
            ),
        ] {
            let outcome = apply_tiers(&policy, std, yuan(actual));
            assert_eq!(outcome.tier, tier, "actual {actual}");
            assert_eq!(outcome.payment, yuan(payment), "actual {actual}");
        }
        // 0.01 over is shared at 50 %: 0.005 rounds half away from zero to 0.01.
        let xinxiang = apply_tiers(&SharingPolicy::xinxiang(), std, yuan("1000000.01"));
        assert_eq!(xinxiang.payment, std);
    }

    #[test]
    fn retained_savings_cap() {
        let policy = SharingPolicy {
            surplus: SurplusRule {
                retained_cap: Some(dec!(0.15)),
                beyond_cap_retained_share: dec!(0.5),
            },
            ..SharingPolicy::hainan()
        };
        let std = yuan("1000");
        // Savings 100 ≤ cap 150: pay Std.
        let outcome = apply_tiers(&policy, std, yuan("900"));
        assert_eq!(outcome.tier, AppliedTier::SurplusRetained);
        assert_eq!(outcome.payment, std);
        // Savings 150 = cap: still all retained.
        assert_eq!(apply_tiers(&policy, std, yuan("850")).payment, std);
        // Savings 250: 150 retained + 50 % of 100 → pay 1000 − 50 = 950.
        let outcome = apply_tiers(&policy, std, yuan("750"));
        assert_eq!(outcome.tier, AppliedTier::SurplusCapped);
        assert_eq!(outcome.payment, yuan("950"));
        assert_eq!(outcome.retained_savings, yuan("200"));
        let strict = SharingPolicy {
            surplus: SurplusRule {
                retained_cap: Some(dec!(0.15)),
                beyond_cap_retained_share: Decimal::ZERO,
            },
            ..SharingPolicy::hainan()
        };
        assert_eq!(apply_tiers(&strict, std, yuan("750")).payment, yuan("900"));
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

    #[test]
    fn bad_tables_are_rejected_with_the_field_named() {
        let band = |lower: Decimal, upper: Option<Decimal>, rate: Decimal| OverspendBand {
            lower_ratio: lower,
            upper_ratio: upper,
            shared_rate: rate,
        };
        let cases: Vec<(Vec<OverspendBand>, &str, &str)> = vec![
            (vec![], "INVALID_POLICY", "overspend_bands"),
            (
                vec![
                    band(dec!(1), Some(dec!(1.1)), dec!(1.5)),
                    band(dec!(1.1), None, dec!(0)),
                ],
                "VALUE_OUT_OF_RANGE",
                "overspend_bands[0].shared_rate",
            ),
            (
                vec![
                    band(dec!(1), Some(dec!(1.1)), dec!(0.5)),
                    band(dec!(1.2), None, dec!(0)),
                ],
                "BANDS_NOT_CONTIGUOUS",
                "band 1 starts at 1.2, expected 1.1",
            ),
            (
                vec![band(dec!(1.05), None, dec!(0))],
                "BANDS_NOT_CONTIGUOUS",
                "band 0 starts at 1.05, expected 1",
            ),
            (
                vec![
                    band(dec!(1), Some(dec!(0.9)), dec!(0.5)),
                    band(dec!(0.9), None, dec!(0)),
                ],
                "BANDS_NOT_SORTED",
                "band 0",
            ),
            (
                vec![
                    band(dec!(1), None, dec!(0.5)),
                    band(dec!(1.1), None, dec!(0)),
                ],
                "INVALID_POLICY",
                "overspend_bands[0].upper_ratio",
            ),
            (
                vec![band(dec!(1), Some(dec!(1.1)), dec!(0.5))],
                "INVALID_POLICY",
                "overspend_bands[0].upper_ratio",
            ),
        ];
        for (bands, reason, text) in cases {
            let policy = SharingPolicy {
                overspend_bands: bands,
                ..SharingPolicy::hainan()
            };
            let err = policy.validate().expect_err("bad table");
            let first = err.problems()[0];
            assert_eq!(first.reason(), reason, "{err}");
            assert!(first.to_string().contains(text), "{first} lacks {text}");
        }
        let policy = SharingPolicy {
            surplus: SurplusRule {
                retained_cap: Some(dec!(-0.1)),
                beyond_cap_retained_share: dec!(2),
            },
            ..SharingPolicy::hainan()
        };
        let err = policy.validate().expect_err("bad surplus");
        let texts: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
        assert!(texts[0].starts_with("surplus.retained_cap"));
        assert!(texts[1].starts_with("surplus.beyond_cap_retained_share"));
    }

    #[test]
    fn presets_are_valid_and_round_trip_through_json() {
        for policy in [SharingPolicy::hainan(), SharingPolicy::xinxiang()] {
            assert_eq!(policy.validate(), Ok(()));
            let json = serde_json::to_string(&policy).expect("serialize");
            let back: SharingPolicy = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, policy);
        }
        let defaults: SharingPolicy = serde_json::from_str("{}").expect("defaults");
        assert_eq!(defaults, SharingPolicy::hainan());
        assert!(serde_json::from_str::<SharingPolicy>(r#"{"bands": []}"#).is_err());
    }

    proptest! {
        #[test]
        fn sharing_never_pays_more_than_std_plus_the_band(
            std_fen in 1_i64..10_000_000_000,
            act_fen in 0_i64..30_000_000_000,
        ) {
            let (std, act) = (Money::from_fen(std_fen), Money::from_fen(act_fen));
            let hainan = apply_tiers(&SharingPolicy::hainan(), std, act);
            // Band 1 < R ≤ 1.1 at 50 %: at most Std + 0.05 × Std.
            prop_assert!(hainan.payment <= std.mul_round(dec!(1.05)));
            prop_assert!(hainan.payment >= std.min(act));
            prop_assert!(hainan.payment <= std.max(act));
            let xinxiang = apply_tiers(&SharingPolicy::xinxiang(), std, act);
            prop_assert_eq!(xinxiang.payment, std);
        }

        #[test]
        fn any_valid_band_table_caps_the_payment(
            std_fen in 1_i64..10_000_000_000,
            act_fen in 0_i64..30_000_000_000,
            rate_percent in 0_i64..=100,
            top_percent in 101_i64..=200,
        ) {
            let (rate, top) = (Decimal::new(rate_percent, 2), Decimal::new(top_percent, 2));
            let policy = SharingPolicy {
                overspend_bands: vec![
                    OverspendBand { lower_ratio: Decimal::ONE, upper_ratio: Some(top), shared_rate: rate },
                    OverspendBand { lower_ratio: top, upper_ratio: None, shared_rate: Decimal::ZERO },
                ],
                ..SharingPolicy::hainan()
            };
            prop_assert_eq!(policy.validate(), Ok(()));
            let (std, act) = (Money::from_fen(std_fen), Money::from_fen(act_fen));
            let outcome = apply_tiers(&policy, std, act);
            let ceiling = std.mul_round(Decimal::ONE + rate * (top - Decimal::ONE));
            prop_assert!(outcome.payment <= ceiling);
            prop_assert!(outcome.payment >= std.min(act));
        }

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
