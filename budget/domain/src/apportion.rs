//! Fen-exact splitting of an amount by weights: the one rule every allocation, monthly quota,
//! block split and reserve scale-down in this crate uses, so that parts always add up to the
//! whole to the fen.

use kernel::{Decimal, Money};

use crate::error::BudgetError;

/// Splits `total` over `weights` so that the parts add up to `total` exactly to the fen.
///
/// Largest-remainder method: floor every share (`total × weight / Σ weights`) to the fen, then
/// hand the remaining fen one each to the largest fractional remainders, ties by key (hospital
/// code, month number, block order: whatever `K` orders by). Shares are never rounded before the
/// floor, so no part is more than one fen away from its exact share.
///
/// The result has one amount per weight, in the order given. A zero total gives zeros; a positive
/// total needs at least one positive weight.
pub fn apportion<K: Ord>(
    total: Money,
    weights: &[(K, Decimal)],
) -> Result<Vec<Money>, BudgetError> {
    let mut problems = Vec::new();
    if total.is_negative() {
        problems.push(BudgetError::NegativeAmount {
            field: "total".into(),
            record: "apportionment".into(),
            value: total.value(),
        });
    }
    for (index, (_, weight)) in weights.iter().enumerate() {
        if weight.is_sign_negative() && !weight.is_zero() {
            problems.push(BudgetError::NegativeAmount {
                field: format!("weights[{index}]"),
                record: "apportionment".into(),
                value: *weight,
            });
        }
    }
    BudgetError::collect(problems)?;

    let overflow = || BudgetError::Overflow {
        what: "apportionment",
    };
    let weight_sum = weights
        .iter()
        .try_fold(Decimal::ZERO, |sum, (_, weight)| sum.checked_add(*weight))
        .ok_or_else(overflow)?;
    if total.value().is_zero() {
        return Ok(weights.iter().map(|_| Money::ZERO).collect());
    }
    if weight_sum.is_zero() {
        return Err(BudgetError::NothingToApportion {
            what: "every weight is zero",
        });
    }

    let hundred = Decimal::ONE_HUNDRED;
    let total_fen = total.value() * hundred;
    let mut floors = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (_, weight) in weights {
        // The share is a ratio ≤ 1, so the product never exceeds the total: no overflow.
        let share = weight.checked_div(weight_sum).ok_or_else(overflow)?;
        let exact = total_fen.checked_mul(share).ok_or_else(overflow)?;
        let floor = exact.floor();
        floors.push(floor);
        remainders.push(exact - floor);
    }

    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        remainders[b]
            .cmp(&remainders[a])
            .then_with(|| weights[a].0.cmp(&weights[b].0))
    });

    let floored: Decimal = floors.iter().copied().sum();
    let mut leftover = total_fen - floored;
    // Normally 0 ≤ leftover < number of parts; the loops also settle the rare case where the
    // 28-digit division left the floors one fen off in either direction.
    let mut position = 0;
    while leftover > Decimal::ZERO {
        floors[order[position % order.len()]] += Decimal::ONE;
        leftover -= Decimal::ONE;
        position += 1;
    }
    position = 0;
    let mut stalled = 0;
    while leftover < Decimal::ZERO && stalled <= order.len() {
        let index = order[order.len() - 1 - position % order.len()];
        if floors[index] >= Decimal::ONE {
            floors[index] -= Decimal::ONE;
            leftover += Decimal::ONE;
            stalled = 0;
        } else {
            stalled += 1;
        }
        position += 1;
    }

    Ok(floors
        .into_iter()
        .map(|fen| Money::round(fen / hundred))
        .collect())
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
    fn equal_thirds_give_the_odd_fen_to_the_first_key() {
        let parts = apportion(
            yuan("100.00"),
            &[("C", dec!(1)), ("A", dec!(1)), ("B", dec!(1))],
        )
        .expect("valid");
        assert_eq!(parts, vec![yuan("33.33"), yuan("33.34"), yuan("33.33")]);
    }

    #[test]
    fn largest_remainders_win_before_keys() {
        // Exact shares 0.0333…, 0.0666…: floors 0.03 and 0.06 leave 1 fen for the larger remainder.
        let parts = apportion(yuan("0.10"), &[("A", dec!(1)), ("B", dec!(2))]).expect("valid");
        assert_eq!(parts, vec![yuan("0.03"), yuan("0.07")]);
    }

    #[test]
    fn zero_total_and_bad_weights() {
        assert_eq!(
            apportion(Money::ZERO, &[("A", dec!(0))]),
            Ok(vec![Money::ZERO])
        );
        let err = apportion(yuan("1.00"), &[("A", dec!(0)), ("B", dec!(0))]).expect_err("zero");
        assert_eq!(err.reason(), "NOTHING_TO_APPORTION");
        let err = apportion(yuan("-1.00"), &[("A", dec!(-1))]).expect_err("negative");
        assert_eq!(err.problems().len(), 2);
        assert!(
            err.problems()
                .iter()
                .all(|p| p.reason() == "NEGATIVE_AMOUNT")
        );
    }

    proptest! {
        #[test]
        fn parts_add_up_to_the_fen_and_stay_within_a_fen(
            total_fen in 0_i64..1_000_000_000_000,
            weights in proptest::collection::vec(0_i64..1_000_000_000, 1..40),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let keyed: Vec<(usize, Decimal)> = weights
                .iter()
                .enumerate()
                .map(|(i, w)| (i, Decimal::new(*w, 3)))
                .collect();
            let total = Money::from_fen(total_fen);
            let parts = apportion(total, &keyed).expect("valid input");
            prop_assert_eq!(parts.iter().copied().sum::<Money>(), total);
            let weight_sum: Decimal = keyed.iter().map(|(_, w)| *w).sum();
            for ((_, weight), part) in keyed.iter().zip(&parts) {
                let exact = total.value() * *weight / weight_sum;
                prop_assert!((part.value() - exact).abs() < dec!(0.01));
            }
        }
    }
}
