//! Group statistics of DOMAIN.md §6 used to judge a directory: within-group coefficient of
//! variation (CV, population σ) and the reduction in variance (RIV = (SST − SSW) / SST). All in
//! exact decimals: no floating point.

use kernel::{Decimal, round_points};
use serde::{Deserialize, Serialize};

/// Count, sum and sum of squares of the case costs of one group (yuan).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moments {
    pub count: u64,
    pub sum: Decimal,
    pub sum_of_squares: Decimal,
}

impl Moments {
    /// Moments of a list of costs.
    pub fn of(costs: &[Decimal]) -> Self {
        let mut m = Moments::default();
        for &c in costs {
            m.add(c);
        }
        m
    }

    /// Adds one case cost.
    pub fn add(&mut self, cost: Decimal) {
        self.count += 1;
        self.sum += cost;
        self.sum_of_squares += cost * cost;
    }

    /// Sum of squared deviations from the group's own mean: Σ(y − ȳ)² = Σy² − (Σy)²/n.
    pub fn squared_deviations(&self) -> Option<Decimal> {
        if self.count == 0 {
            return None;
        }
        let n = Decimal::from(self.count);
        let ss = self
            .sum_of_squares
            .checked_sub(self.sum.checked_mul(self.sum)?.checked_div(n)?)?;
        Some(ss.max(Decimal::ZERO))
    }

    /// Unrounded mean.
    pub fn mean(&self) -> Option<Decimal> {
        if self.count == 0 {
            return None;
        }
        self.sum.checked_div(Decimal::from(self.count))
    }

    /// CV = σ / μ with the population σ (DOMAIN.md §6), rounded once to 4 places; `None` for an
    /// empty group or a zero mean.
    pub fn cv(&self) -> Option<Decimal> {
        let mean = self.mean()?;
        if mean.is_zero() {
            return None;
        }
        let variance = self
            .squared_deviations()?
            .checked_div(Decimal::from(self.count))?;
        Some(round_points(sqrt(variance)?.checked_div(mean)?))
    }

    fn merge(&mut self, other: &Moments) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_of_squares += other.sum_of_squares;
    }
}

/// RIV = (SST − SSW) / SST over the groups' cases (DOMAIN.md §6), rounded once to 4 places;
/// `None` when SST is 0 (all costs equal) or there are no cases.
pub fn riv(groups: &[Moments]) -> Option<Decimal> {
    let mut all = Moments::default();
    let mut ssw = Decimal::ZERO;
    for g in groups.iter().filter(|g| g.count > 0) {
        all.merge(g);
        ssw = ssw.checked_add(g.squared_deviations()?)?;
    }
    let sst = all.squared_deviations()?;
    if sst.is_zero() {
        return None;
    }
    Some(round_points(sst.checked_sub(ssw)?.checked_div(sst)?))
}

/// Square root by Newton's method on decimals (no floating point); `None` for a negative input.
pub fn sqrt(value: Decimal) -> Option<Decimal> {
    if value.is_sign_negative() && !value.is_zero() {
        return None;
    }
    if value.is_zero() {
        return Some(Decimal::ZERO);
    }
    let two = Decimal::TWO;
    let mut guess = if value > Decimal::ONE {
        value / two
    } else {
        Decimal::ONE
    };
    for _ in 0..200 {
        let next = (guess + value.checked_div(guess)?) / two;
        if next == guess {
            break;
        }
        guess = next;
    }
    Some(guess)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn group(costs: &[i64]) -> Moments {
        Moments::of(&costs.iter().map(|&c| Decimal::from(c)).collect::<Vec<_>>())
    }

    #[test]
    fn riv_worked_example_of_domain_section_6() {
        // Groups {8k,10k,12k}, {18k,20k,22k}, {4k,5k,6k,5k}: SST = 4.08e8, SSW = 1.8e7.
        let groups = [
            group(&[8_000, 10_000, 12_000]),
            group(&[18_000, 20_000, 22_000]),
            group(&[4_000, 5_000, 6_000, 5_000]),
        ];
        let mut all = Moments::default();
        for g in &groups {
            all.merge(g);
        }
        assert_eq!(all.mean(), Some(dec!(11000)));
        assert_eq!(all.squared_deviations(), Some(dec!(408000000)));
        let ssw: Decimal = groups.iter().filter_map(Moments::squared_deviations).sum();
        assert_eq!(ssw, dec!(18000000));
        let riv = riv(&groups).expect("riv");
        assert_eq!(riv, dec!(0.9559));
        assert_eq!(riv.round_dp(3), dec!(0.956));
    }

    #[test]
    fn cv_uses_the_population_sigma() {
        // {8k,10k,12k}: σ = sqrt(8e6 / 3) = 1632.99 → CV 0.1633 (0.2000 with the sample σ).
        assert_eq!(group(&[8_000, 10_000, 12_000]).cv(), Some(dec!(0.1633)));
        assert_eq!(group(&[5_000, 5_000]).cv(), Some(dec!(0)));
        assert_eq!(group(&[]).cv(), None);
        assert_eq!(group(&[0, 0]).cv(), None);
    }

    #[test]
    fn riv_is_undefined_without_variance() {
        assert_eq!(riv(&[group(&[7, 7]), group(&[7])]), None);
        assert_eq!(riv(&[]), None);
    }

    #[test]
    fn sqrt_is_exact_on_squares() {
        assert_eq!(sqrt(dec!(144)), Some(dec!(12)));
        assert_eq!(sqrt(dec!(0.25)), Some(dec!(0.5)));
        assert_eq!(sqrt(dec!(-1)), None);
        assert_eq!(round_points(sqrt(dec!(2)).expect("sqrt")), dec!(1.4142));
    }
}
