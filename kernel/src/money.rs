//! Money (yuan, 2 decimal places) and points (4 decimal places).
//!
//! Both round half away from zero (DOMAIN.md, conventions). Arithmetic between two amounts is exact
//! because both sides already carry the scale; products and ratios are returned as raw [`Decimal`]
//! so that a formula rounds once, at its end, through [`round_money`] or [`round_points`].

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Rounds a money amount to the fen, half away from zero: the one place money is rounded.
pub fn round_money(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(Money::SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds points, scores, coefficients and point values to 4 places, half away from zero.
pub fn round_points(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(Points::SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// Why an amount could not be read or stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{input:?} is not a decimal number")]
    NotANumber { input: String },
    #[error("{input:?} has more than {max_places} decimal places")]
    TooPrecise { input: String, max_places: u32 },
    #[error("{value} does not fit the storage integer")]
    OutOfRange { value: Decimal },
    #[error("a decimal number of {length} characters is refused (at most {max})")]
    TooLong { length: usize, max: usize },
}

/// The longest text read as a decimal number. `rust_decimal`'s reader recurses once for each
/// leading zero or `_` separator, so a long enough run of either (about 100,000 in a release
/// build, 10,000 in a debug one) overflows the thread's stack and aborts the whole process. No
/// amount, rate, price or coefficient needs more than 29 digits, a sign, a point and an exponent.
pub const MAX_DECIMAL_TEXT: usize = 64;

/// Refuses text too long to be read as a decimal number before `rust_decimal` sees it: every
/// reader of a decimal from outside (lists, documents, typed messages, files) goes through this.
pub fn check_decimal_text(text: &str) -> Result<(), AmountError> {
    if text.len() > MAX_DECIMAL_TEXT {
        return Err(AmountError::TooLong {
            length: text.len(),
            max: MAX_DECIMAL_TEXT,
        });
    }
    Ok(())
}

/// Reads a decimal number in plain notation (`Decimal::from_str`), refusing text longer than
/// [`MAX_DECIMAL_TEXT`].
pub fn parse_decimal(text: &str) -> Result<Decimal, AmountError> {
    check_decimal_text(text)?;
    Decimal::from_str(text).map_err(|_| AmountError::NotANumber {
        input: text.to_owned(),
    })
}

/// Refuses a JSON document with a string that reads as a decimal number (only digits, `_`, `.`,
/// signs and exponents) and is longer than [`MAX_DECIMAL_TEXT`]: serde hands such a string to
/// `rust_decimal` wherever a document has a plain `Decimal` field, so a document reader calls this
/// before deserializing. Free text (names, reasons, codes with letters) is never that long and
/// that narrow. Text that is not JSON passes, for the reader's own error.
pub fn check_decimal_strings_in_json(json: &str) -> Result<(), AmountError> {
    let bytes = json.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'"' {
            at += 1;
            continue;
        }
        // A string literal: its content runs to the next quote not escaped.
        let start = at + 1;
        let mut end = start;
        let mut numeric = true;
        while end < bytes.len() && bytes[end] != b'"' {
            if bytes[end] == b'\\' {
                numeric = false;
                end += 1;
            } else if !matches!(
                bytes[end],
                b'0'..=b'9' | b'_' | b'.' | b'+' | b'-' | b'e' | b'E'
            ) {
                numeric = false;
            }
            end += 1;
        }
        let length = end.min(bytes.len()) - start;
        if numeric && length > MAX_DECIMAL_TEXT {
            return Err(AmountError::TooLong {
                length,
                max: MAX_DECIMAL_TEXT,
            });
        }
        at = end + 1;
    }
    Ok(())
}

/// Serde for a `Decimal` field read from outside (`#[serde(deserialize_with = ...)]`): reads what
/// `rust_decimal` reads (a string in plain or scientific notation, or a number) and refuses a
/// string longer than [`MAX_DECIMAL_TEXT`] first.
pub fn deserialize_decimal<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Decimal, D::Error> {
    use serde::de::{Error, IntoDeserializer, Visitor};

    struct Guarded;

    impl<'de> Visitor<'de> for Guarded {
        type Value = Decimal;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a decimal number")
        }

        fn visit_str<E: Error>(self, text: &str) -> Result<Decimal, E> {
            check_decimal_text(text).map_err(E::custom)?;
            <Decimal as Deserialize>::deserialize(text.into_deserializer())
        }

        fn visit_i64<E: Error>(self, value: i64) -> Result<Decimal, E> {
            <Decimal as Deserialize>::deserialize(value.into_deserializer())
        }

        fn visit_u64<E: Error>(self, value: u64) -> Result<Decimal, E> {
            <Decimal as Deserialize>::deserialize(value.into_deserializer())
        }

        fn visit_f64<E: Error>(self, value: f64) -> Result<Decimal, E> {
            <Decimal as Deserialize>::deserialize(value.into_deserializer())
        }
    }

    deserializer.deserialize_any(Guarded)
}

/// Serde for a `Decimal` field written out (`#[serde(serialize_with = ...)]`): the string
/// `Decimal`'s own serialization writes, with a plain non-negative value (every price and count
/// of a fee line) written without the general formatting.
pub fn serialize_decimal<S: serde::Serializer>(
    value: &Decimal,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match write_plain(*value) {
        Some((text, len)) => serializer.serialize_str(crate::ascii(&text[..len])),
        None => serde::Serialize::serialize(value, serializer),
    }
}

fn parse_exact(input: &str, max_places: u32) -> Result<Decimal, AmountError> {
    let trimmed = input.trim();
    check_decimal_text(trimmed)?;
    let value = Decimal::from_str(trimmed).map_err(|_| AmountError::NotANumber {
        input: input.to_owned(),
    })?;
    if value.normalize().scale() > max_places {
        return Err(AmountError::TooPrecise {
            input: input.to_owned(),
            max_places,
        });
    }
    Ok(value)
}

/// Most digits [`read_plain`] reads, counting the places of the scale: any such number fits an
/// `i64`.
const PLAIN_DIGITS: usize = 18;

/// The scaled integer of a plain unsigned amount, `digits` or `digits.fraction` with at most
/// `scale` fraction digits, read directly; `None` for anything else, which `parse_exact` reads
/// (signs, spaces, exponents, more places, errors). Settlement lists carry hundreds of amounts and
/// nearly all are plain, so this is the path taken, and it gives exactly what `parse_exact` and
/// rounding to the scale give.
fn read_plain(text: &str, scale: u32) -> Option<i64> {
    let (whole, fraction) = match text.split_once('.') {
        // `12.` is left to `Decimal`.
        Some((_, "")) => return None,
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let places = fraction.len();
    if whole.is_empty()
        || places > scale as usize
        || whole.len() + scale as usize > PLAIN_DIGITS
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut scaled: i64 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        scaled = scaled * 10 + i64::from(digit - b'0');
    }
    for _ in places..scale as usize {
        scaled *= 10;
    }
    Some(scaled)
}

/// A non-negative decimal written in plain notation with its own scale, as `Decimal`'s
/// `Display` writes it, without the formatting machinery; `None` for a negative value or one
/// too large for the buffer, which `Display` itself writes.
fn write_plain(value: Decimal) -> Option<([u8; 48], usize)> {
    let mantissa = u128::try_from(value.mantissa()).ok()?;
    if value.is_sign_negative() {
        return None;
    }
    let scale = value.scale() as usize;
    let mut digits = [0_u8; 40];
    let mut count = 0;
    let mut rest = mantissa;
    while rest > 0 || count <= scale {
        // A remainder of ten is one digit.
        digits[count] = b'0' + (rest % 10) as u8;
        rest /= 10;
        count += 1;
        if count == digits.len() {
            return None;
        }
    }
    let mut text = [0_u8; 48];
    let mut len = 0;
    for index in (0..count).rev() {
        if index + 1 == scale {
            text[len] = b'.';
            len += 1;
        }
        text[len] = digits[index];
        len += 1;
    }
    Some((text, len))
}

fn to_scaled_i64(value: Decimal, scale: u32) -> Result<i64, AmountError> {
    let factor = Decimal::from(10_i64.pow(scale));
    let scaled = value
        .checked_mul(factor)
        .ok_or(AmountError::OutOfRange { value })?;
    i64::try_from(scaled.trunc()).map_err(|_| AmountError::OutOfRange { value })
}

macro_rules! scaled_amount {
    ($name:ident, $scale:expr, $round:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Decimal);

        impl $name {
            /// Decimal places this amount always carries.
            pub const SCALE: u32 = $scale;
            pub const ZERO: Self = Self(Decimal::ZERO);

            /// Rounds `value` to this amount's scale, half away from zero.
            pub fn round(value: Decimal) -> Self {
                let mut rounded = $round(value);
                rounded.rescale(Self::SCALE);
                Self(rounded)
            }

            /// Reads a value that must already be exact at this scale.
            pub fn exact(value: Decimal) -> Result<Self, AmountError> {
                if value.normalize().scale() > Self::SCALE {
                    return Err(AmountError::TooPrecise {
                        input: value.to_string(),
                        max_places: Self::SCALE,
                    });
                }
                Ok(Self::round(value))
            }

            /// The value as the storage integer (scaled by 10^SCALE).
            pub fn to_scaled(self) -> Result<i64, AmountError> {
                to_scaled_i64(self.0, Self::SCALE)
            }

            /// The value back from its storage integer.
            pub fn from_scaled(scaled: i64) -> Self {
                Self(Decimal::new(scaled, Self::SCALE))
            }

            pub fn value(self) -> Decimal {
                self.0
            }

            pub fn is_negative(self) -> bool {
                self.0.is_sign_negative() && !self.0.is_zero()
            }

            pub fn abs(self) -> Self {
                Self(self.0.abs())
            }

            /// Multiplies by a factor and rounds the product once.
            pub fn mul_round(self, factor: Decimal) -> Self {
                Self::round(self.0 * factor)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let plain = f.width().is_none()
                    && f.precision().is_none()
                    && !f.sign_plus()
                    && !f.alternate();
                match plain.then(|| write_plain(self.0)).flatten() {
                    Some((text, len)) => f.write_str(crate::ascii(&text[..len])),
                    None => fmt::Display::fmt(&self.0, f),
                }
            }
        }

        impl FromStr for $name {
            type Err = AmountError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match read_plain(s, Self::SCALE) {
                    Some(scaled) => Ok(Self::from_scaled(scaled)),
                    None => parse_exact(s, Self::SCALE).map(Self::round),
                }
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: Self) {
                self.0 += rhs.0;
            }
        }

        impl Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, rhs: Self) {
                self.0 -= rhs.0;
            }
        }

        impl Neg for $name {
            type Output = Self;
            fn neg(self) -> Self {
                Self(-self.0)
            }
        }

        impl Sum for $name {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self::ZERO, Add::add)
            }
        }

        impl<'a> Sum<&'a $name> for $name {
            fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.copied().sum()
            }
        }

        impl From<$name> for Decimal {
            fn from(value: $name) -> Decimal {
                value.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_decimal(&self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::deserialize_from_text(deserializer)
            }
        }
    };
}

scaled_amount!(
    Money,
    2,
    round_money,
    "An amount of money in yuan, always at 2 decimal places (fen). Stored as BIGINT fen."
);
scaled_amount!(
    Points,
    4,
    round_points,
    "Points or scores, always at 4 decimal places. Stored as BIGINT scaled by 10^4."
);

impl Money {
    /// An amount from whole fen.
    pub fn from_fen(fen: i64) -> Self {
        Self::from_scaled(fen)
    }

    /// The amount in whole fen.
    pub fn to_fen(self) -> Result<i64, AmountError> {
        self.to_scaled()
    }

    /// An amount from whole yuan.
    pub fn from_yuan(yuan: i64) -> Self {
        Self::round(Decimal::from(yuan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test literal")
    }

    /// Runs `read` on a thread with the 2 MiB stack of a tokio worker or a test, where a text
    /// that makes `rust_decimal` recurse per character would abort the process.
    fn on_a_small_stack<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(read)
            .expect("thread")
            .join()
            .expect("answered")
    }

    #[test]
    fn a_decimal_text_too_long_to_read_safely_is_refused_by_every_reader() {
        let zeros = format!("{}.00", "0".repeat(1_000_000));
        let separators = format!("1{}", "_".repeat(1_000_000));
        for text in [zeros, separators] {
            let (money, points, decimal, json) = on_a_small_stack(move || {
                let json = format!("{{\"value\":\"{text}\"}}");
                (
                    text.parse::<Money>(),
                    text.parse::<Points>(),
                    parse_decimal(&text),
                    serde_json::from_str::<Guarded>(&json).map_err(|e| e.to_string()),
                )
            });
            let too_long = |error: AmountError| {
                matches!(
                    error,
                    AmountError::TooLong {
                        max: MAX_DECIMAL_TEXT,
                        ..
                    }
                )
            };
            assert!(too_long(money.expect_err("money")));
            assert!(too_long(points.expect_err("points")));
            assert!(too_long(decimal.expect_err("decimal")));
            let json = json.expect_err("a document's decimal");
            assert!(json.contains("(at most 64)"), "{json}");
        }
    }

    #[test]
    fn a_json_document_with_an_overlong_decimal_string_is_refused_before_serde() {
        let zeros = "0".repeat(100_000);
        let refused = [
            format!(r#"{{"rate":"{zeros}.85"}}"#),
            format!(r#"{{"bands":[{{"upper":"1{}"}}]}}"#, "_".repeat(65)),
            format!(r#"["{}"]"#, "9".repeat(65)),
        ];
        for json in &refused {
            assert!(
                matches!(
                    check_decimal_strings_in_json(json),
                    Err(AmountError::TooLong {
                        max: MAX_DECIMAL_TEXT,
                        ..
                    })
                ),
                "{}",
                &json[..40]
            );
        }
        let passed = [
            format!(r#"{{"rate":"0.85","name":"{}"}}"#, "医".repeat(100)),
            format!(r#"{{"id":"{}"}}"#, "9".repeat(64)),
            format!(r#"{{"reason":"{}x"}}"#, "1".repeat(100)),
            format!(r#"{{"quoted":""{}""}}"#, "1".repeat(100)),
            r#"{"unterminated":"12"#.to_owned(),
            "not json at all".to_owned(),
        ];
        for json in &passed {
            assert_eq!(check_decimal_strings_in_json(json), Ok(()), "{json}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Guarded {
        #[serde(deserialize_with = "deserialize_decimal")]
        #[allow(dead_code)]
        value: Decimal,
    }

    #[test]
    fn a_guarded_decimal_field_reads_what_rust_decimal_reads() {
        for json in [
            r#"{"value":"12.50"}"#,
            r#"{"value":"1.25e1"}"#,
            r#"{"value":"1_000"}"#,
            r#"{"value":12.5}"#,
            r#"{"value":12}"#,
            r#"{"value":-3}"#,
            r#"{"value":"-0.0000000000000000000000000001"}"#,
        ] {
            #[derive(serde::Deserialize)]
            struct Plain {
                value: Decimal,
            }
            let plain: Plain = serde_json::from_str(json).expect(json);
            let guarded: Guarded = serde_json::from_str(json).expect(json);
            assert_eq!(guarded.value, plain.value, "{json}");
        }
        for json in [
            r#"{"value":"twelve"}"#,
            r#"{"value":true}"#,
            r#"{"value":""}"#,
        ] {
            assert!(serde_json::from_str::<Guarded>(json).is_err(), "{json}");
        }
        // The longest text accepted is still read.
        let longest = format!("{}1", "0".repeat(MAX_DECIMAL_TEXT - 1));
        assert_eq!(parse_decimal(&longest), Ok(Decimal::ONE));
        assert!(parse_decimal(&format!("0{longest}")).is_err());
    }

    #[test]
    fn money_rounds_half_away_from_zero() {
        assert_eq!(Money::round(dec("0.005")).to_string(), "0.01");
        assert_eq!(Money::round(dec("-0.005")).to_string(), "-0.01");
        assert_eq!(Money::round(dec("0.0049")).to_string(), "0.00");
        assert_eq!(Money::round(dec("2.675")).to_string(), "2.68");
    }

    #[test]
    fn points_round_to_four_places() {
        assert_eq!(Points::round(dec("102.56410256")).to_string(), "102.5641");
        assert_eq!(Points::round(dec("0.00005")).to_string(), "0.0001");
        assert_eq!(Points::round(dec("157.5")).to_string(), "157.5000");
    }

    #[test]
    fn parsing_rejects_garbage_and_excess_precision() {
        assert!(matches!(
            "12a".parse::<Money>(),
            Err(AmountError::NotANumber { .. })
        ));
        assert!(matches!(
            "1.234".parse::<Money>(),
            Err(AmountError::TooPrecise { max_places: 2, .. })
        ));
        assert_eq!(
            "1.2300".parse::<Money>().map(|m| m.to_string()),
            Ok("1.23".into())
        );
        assert!("1.23456".parse::<Points>().is_err());
    }

    #[test]
    fn storage_overflow_is_an_error() {
        let huge = Money::round(Decimal::MAX / Decimal::from(1000));
        assert!(matches!(huge.to_fen(), Err(AmountError::OutOfRange { .. })));
    }

    #[test]
    fn serde_uses_decimal_strings() {
        let json = serde_json::to_string(&Money::from_fen(123456)).expect("serialize");
        assert_eq!(json, "\"1234.56\"");
        let back: Money = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, Money::from_fen(123456));
    }

    proptest! {
        #[test]
        fn fen_round_trip(fen in -1_000_000_000_000_i64..1_000_000_000_000) {
            let m = Money::from_fen(fen);
            prop_assert_eq!(m.to_fen(), Ok(fen));
            prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }

        #[test]
        fn points_storage_round_trip(scaled in -1_000_000_000_000_i64..1_000_000_000_000) {
            let p = Points::from_scaled(scaled);
            prop_assert_eq!(p.to_scaled(), Ok(scaled));
            prop_assert_eq!(p.to_string().parse::<Points>(), Ok(p));
        }

        #[test]
        fn addition_is_exact_and_commutative(a in -1_000_000_000_i64..1_000_000_000, b in -1_000_000_000_i64..1_000_000_000) {
            let (ma, mb) = (Money::from_fen(a), Money::from_fen(b));
            prop_assert_eq!(ma + mb, mb + ma);
            prop_assert_eq!((ma + mb).to_fen(), Ok(a + b));
            prop_assert_eq!(ma + mb - mb, ma);
        }

        #[test]
        fn rounding_moves_at_most_half_a_fen(units in -10_000_000_000_i64..10_000_000_000, scale in 0u32..8) {
            let raw = Decimal::new(units, scale);
            let rounded = Money::round(raw).value();
            prop_assert!((rounded - raw).abs() <= dec("0.005"));
            prop_assert_eq!(Money::round(rounded).value(), rounded);
        }

        #[test]
        fn plain_amounts_read_as_the_decimal_reading_does(text in "[0-9 +.-]{0,22}") {
            let direct = (Money::from_str(&text), Points::from_str(&text));
            let general = (
                parse_exact(&text, Money::SCALE).map(Money::round),
                parse_exact(&text, Points::SCALE).map(Points::round),
            );
            prop_assert_eq!(&direct, &general);
            if let (Ok(direct), Ok(general)) = direct {
                prop_assert_eq!(direct.value().scale(), 2);
                prop_assert_eq!(general.value().scale(), 4);
            }
        }

        #[test]
        fn amounts_are_written_as_decimal_writes_them(
            mantissa in any::<i64>(),
            scale in 0u32..12,
        ) {
            let value = Decimal::new(mantissa, scale);
            let written = format!("{}", Money(value));
            prop_assert_eq!(written, value.to_string());
            prop_assert_eq!(format!("{:>30}", Money(value)), format!("{value:>30}"));
            // Serialized as the text `Decimal` displays, which is what was stored before.
            prop_assert_eq!(
                serde_json::to_string(&Money(value)).expect("money"),
                serde_json::to_string(&value.to_string()).expect("text")
            );
        }

        #[test]
        fn decimals_are_serialized_as_decimal_serializes_them(
            mantissa in -(1_i128 << 96) + 1..(1_i128 << 96),
            small in any::<i32>(),
            use_small in any::<bool>(),
            scale in 0u32..29,
            negative_zero in any::<bool>(),
        ) {
            #[derive(serde::Serialize)]
            struct Direct(#[serde(serialize_with = "serialize_decimal")] Decimal);
            let mantissa = if use_small { i128::from(small) } else { mantissa };
            let mut value = Decimal::from_i128_with_scale(mantissa, scale);
            if negative_zero {
                value = Decimal::new(0, scale);
                value.set_sign_negative(true);
            }
            prop_assert_eq!(
                serde_json::to_string(&Direct(value)).expect("direct"),
                serde_json::to_string(&value).expect("decimal")
            );
        }
    }

    #[test]
    fn plain_amounts_read_directly_keep_the_scale_of_the_type() {
        for (text, money, points) in [
            ("0", "0.00", "0.0000"),
            ("12.3", "12.30", "12.3000"),
            ("007.05", "7.05", "7.0500"),
            (
                "999999999999999999",
                "999999999999999999.00",
                "999999999999999999.0000",
            ),
        ] {
            assert_eq!(Money::from_str(text).expect(text).to_string(), money);
            assert_eq!(Points::from_str(text).expect(text).to_string(), points);
        }
        assert!(Money::from_str("1.234").is_err());
        assert_eq!(
            Points::from_str("1.234").expect("four places").to_string(),
            "1.2340"
        );
        assert_eq!(
            Money::from_str("-0.50").expect("negative").to_string(),
            "-0.50"
        );
    }
}
