//! Year-end sharing pay as a function of Act (DOMAIN.md §4): it never decreases as Act grows, it
//! has no jump anywhere (one fen more spent moves pay by at most one fen, a rounding fen
//! included), in particular at R = 1 and at every band edge such as Hainan's R = 1.1, and R = 1
//! pays exactly Std. Policies are Hainan's, Xinxiang's and generated valid tables.
//! `PROPTEST_CASES` sets the cases (256 by default).

use budget_domain::{OverspendBand, ReserveShortfallRule, SharingPolicy, SurplusRule, apply_tiers};
use kernel::{Decimal, Money};
use proptest::prelude::*;

const FEN: i64 = 1;

/// A rate in 0..=1 with two decimals.
fn rate() -> impl Strategy<Value = Decimal> {
    (0i64..=100).prop_map(|hundredths| Decimal::new(hundredths, 2))
}

/// Valid tables: an optional savings cap, and one to four contiguous bands from R = 1, the last
/// unbounded.
fn generated_policy() -> impl Strategy<Value = SharingPolicy> {
    (
        proptest::option::of(rate()),
        rate(),
        proptest::collection::vec((1i64..=50, rate()), 0..4),
        rate(),
    )
        .prop_map(
            |(retained_cap, beyond_cap_retained_share, bounded, last_rate)| {
                let mut lower = Decimal::ONE;
                let mut overspend_bands = Vec::new();
                for (width_hundredths, shared_rate) in bounded {
                    let upper = lower + Decimal::new(width_hundredths, 2);
                    overspend_bands.push(OverspendBand {
                        lower_ratio: lower,
                        upper_ratio: Some(upper),
                        shared_rate,
                    });
                    lower = upper;
                }
                overspend_bands.push(OverspendBand {
                    lower_ratio: lower,
                    upper_ratio: None,
                    shared_rate: last_rate,
                });
                SharingPolicy {
                    surplus: SurplusRule {
                        retained_cap,
                        beyond_cap_retained_share,
                    },
                    overspend_bands,
                    reserve_shortfall: ReserveShortfallRule::ScaleDown,
                }
            },
        )
}

fn policy() -> impl Strategy<Value = SharingPolicy> {
    prop_oneof![
        Just(SharingPolicy::hainan()),
        Just(SharingPolicy::xinxiang()),
        generated_policy(),
    ]
}

/// Std from one fen to ten billion yuan.
fn standard_fen() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..=1_000, 1i64..=100_000_000, 1i64..=1_000_000_000_000]
}

fn pay(policy: &SharingPolicy, standard_fen: i64, actual_fen: i64) -> i64 {
    apply_tiers(
        policy,
        Money::from_fen(standard_fen),
        Money::from_fen(actual_fen),
    )
    .payment
    .to_fen()
    .expect("pay fits in fen")
}

/// Act, in fen, at ratio `ratio` of Std, rounded down to the fen.
fn act_at(ratio: Decimal, standard_fen: i64) -> i64 {
    let act = (ratio * Decimal::from(standard_fen)).floor();
    i64::try_from(act.mantissa() / 10i128.pow(act.scale())).expect("act fits in fen")
}

proptest! {
    #[test]
    fn pay_never_decreases_as_act_grows(
        policy in policy(),
        standard in standard_fen(),
        a in 0u32..=3_000,
        b in 0u32..=3_000,
    ) {
        prop_assert!(policy.validate().is_ok());
        let (low, high) = (a.min(b), a.max(b));
        let act_low = act_at(Decimal::new(i64::from(low), 3), standard);
        let act_high = act_at(Decimal::new(i64::from(high), 3), standard);
        let (pay_low, pay_high) = (pay(&policy, standard, act_low), pay(&policy, standard, act_high));
        prop_assert!(pay_low <= pay_high, "Act {act_low} pays {pay_low}, Act {act_high} pays {pay_high}");
        // No rate exceeds one: pay grows by at most what Act grew, plus one rounding fen.
        prop_assert!(pay_high - pay_low <= act_high - act_low + FEN);
    }

    #[test]
    fn pay_has_no_jump_at_r_one_or_any_band_edge(
        policy in policy(),
        standard in standard_fen(),
    ) {
        prop_assert_eq!(pay(&policy, standard, standard), standard, "R = 1 pays Std");
        let mut edges: Vec<Decimal> = vec![Decimal::ONE];
        edges.extend(policy.overspend_bands.iter().filter_map(|band| band.upper_ratio));
        for edge in edges {
            let at = act_at(edge, standard);
            for act in [at - FEN, at, at + FEN].into_iter().filter(|act| *act >= 0) {
                let (before, after) = (pay(&policy, standard, act), pay(&policy, standard, act + FEN));
                prop_assert!(
                    (0..=FEN).contains(&(after - before)),
                    "edge R = {edge}: Act {act} pays {before}, one fen more pays {after}"
                );
            }
        }
    }

    #[test]
    fn hainan_pays_half_the_first_tenth_of_overspend_and_no_more(
        tens_of_fen in 1i64..=100_000_000_000,
        beyond in 0i64..=1_000_000,
    ) {
        let standard = tens_of_fen * 10;
        let hainan = SharingPolicy::hainan();
        // R = 1.1 exactly (Std is a multiple of ten fen): Std + 50 % of 0.1 × Std, whose half
        // fen rounds away from zero.
        let cap = standard + (standard + 10) / 20;
        prop_assert_eq!(pay(&hainan, standard, standard + standard / 10), cap);
        prop_assert_eq!(pay(&hainan, standard, standard + standard / 10 + beyond), cap);
    }
}
