//! Exact-decimal statistics the indicators and the population rules need: mean, population
//! standard deviation (square root by Newton's method) and the natural logarithm, so nothing here
//! passes through binary floating point.

use kernel::Decimal;

/// ln 2 to 28 places.
const LN_2: Decimal = Decimal::from_parts(2_860_148_159, 2_180_329_217, 375_755_839, false, 28);

pub fn mean(values: &[Decimal]) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<Decimal>() / Decimal::from(values.len()))
}

/// Σ (value − mean)².
pub fn sum_of_squares(values: &[Decimal]) -> Decimal {
    let Some(mean) = mean(values) else {
        return Decimal::ZERO;
    };
    values.iter().map(|v| (*v - mean) * (*v - mean)).sum()
}

/// The population standard deviation (divides by n, not n − 1).
pub fn population_sd(values: &[Decimal]) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    sqrt(sum_of_squares(values) / Decimal::from(values.len()))
}

/// The square root of a non-negative value.
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
    for _ in 0..100 {
        let next = (guess + value / guess) / two;
        if next == guess {
            break;
        }
        guess = next;
    }
    Some(guess)
}

/// The natural logarithm of a positive value.
pub fn ln(value: Decimal) -> Option<Decimal> {
    if value <= Decimal::ZERO {
        return None;
    }
    // Bring the value into [1, 2): ln(x) = k·ln 2 + ln(m).
    let mut mantissa = value;
    let mut exponent = 0i32;
    while mantissa >= Decimal::TWO {
        mantissa /= Decimal::TWO;
        exponent += 1;
    }
    while mantissa < Decimal::ONE {
        mantissa *= Decimal::TWO;
        exponent -= 1;
    }
    // ln m = 2·atanh(y), y = (m − 1)/(m + 1) ≤ 1/3: the series converges by a factor 9 a term.
    let y = (mantissa - Decimal::ONE) / (mantissa + Decimal::ONE);
    let y_squared = y * y;
    let mut power = y;
    let mut sum = Decimal::ZERO;
    for n in 0..80u32 {
        let term = power / Decimal::from(2 * n + 1);
        if term.is_zero() {
            break;
        }
        sum += term;
        power *= y_squared;
    }
    Some(Decimal::from(exponent) * LN_2 + Decimal::TWO * sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn close(a: Decimal, b: Decimal) -> bool {
        (a - b).abs() < dec!(0.000000000001)
    }

    #[test]
    fn ln_two_is_the_constant() {
        assert_eq!(LN_2.to_string(), "0.6931471805599453094172321215");
    }

    #[test]
    fn square_roots_and_logarithms_are_exact_enough() {
        assert_eq!(sqrt(dec!(16)), Some(dec!(4)));
        assert!(close(
            sqrt(dec!(2)).expect("root"),
            dec!(1.41421356237309504880)
        ));
        assert!(close(sqrt(dec!(0.0004)).expect("root"), dec!(0.02)));
        assert_eq!(sqrt(dec!(-1)), None);
        assert_eq!(ln(Decimal::ONE), Some(Decimal::ZERO));
        assert!(close(ln(dec!(10)).expect("ln"), dec!(2.302585092994045684)));
        assert!(close(
            ln(dec!(0.05)).expect("ln"),
            dec!(-2.995732273553990993)
        ));
        assert_eq!(ln(Decimal::ZERO), None);
    }

    #[test]
    fn population_sd_divides_by_n() {
        let values = [dec!(8000), dec!(10000), dec!(12000)];
        assert_eq!(mean(&values), Some(dec!(10000)));
        assert!(close(
            population_sd(&values).expect("sd"),
            dec!(1632.993161855452065464)
        ));
        assert_eq!(population_sd(&[]), None);
    }
}
