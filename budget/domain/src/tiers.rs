//! The year-end tier table (结余留用 / 合理超支分担 / 超支不补) as a policy, and the tier function
//! that applies it to one institution's standard and actual spending. DOMAIN.md §4 "Year-end
//! sharing"; research/domain-formulas.md §1.5.

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
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

    }
}
