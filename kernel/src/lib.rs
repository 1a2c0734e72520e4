//! Shared value types of medpay: money, points, region codes and their effective-dated
//! timelines, fund types, dates and periods, and the principal's region scope.
//!
//! This crate is pure: no I/O, no async, no wire or storage types. Every context uses these types
//! in its domain layer, so a rule about rounding or region containment lives here once.

/// Serde through the type's text form (`Display` and `FromStr`): a value reads back only if it
/// parses, so a bad stored or sent value is refused with the type's own error.
macro_rules! serde_as_text {
    ($name:ty) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::deserialize_from_text(deserializer)
            }
        }
    };
}
pub(crate) use serde_as_text;

/// Reads a value through its `FromStr`, borrowing the text where the input lends it (a JSON
/// string without escapes) rather than copying it into a `String` first: a settlement list
/// carries hundreds of amounts, dates and codes, and each read of a list reads them all. Refuses
/// what a `String` would refuse, with the same "expected a string".
pub fn deserialize_from_text<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    struct Text<T>(std::marker::PhantomData<T>);

    impl<T> serde::de::Visitor<'_> for Text<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        type Value = T;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            text.parse().map_err(E::custom)
        }

        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<T, E> {
            match std::str::from_utf8(bytes) {
                Ok(text) => self.visit_str(text),
                Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self)),
            }
        }
    }

    deserializer.deserialize_str(Text(std::marker::PhantomData))
}

/// The text of bytes a writer of dates or amounts filled with ASCII digits and separators only.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

pub mod date;
mod money;
#[cfg(feature = "testing")]
pub mod mutation;
mod period;
mod principal;
mod region;
mod timeline;

pub use date::{Date, DateError, DateTime};
pub use money::{
    AmountError, MAX_DECIMAL_TEXT, Money, Points, check_decimal_strings_in_json,
    check_decimal_text, deserialize_decimal, parse_decimal, round_money, round_points,
    serialize_decimal,
};
pub use period::{FundType, FundTypeError, YearMonth, YearMonthError};
pub use principal::{Principal, Role, RoleError, ScopeError};
pub use region::{RegionCode, RegionCodeError, RegionLevel};
pub use timeline::RegionalTimeline;

pub use rust_decimal::Decimal;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_read_borrowed_or_escaped_and_refuse_what_a_string_would() {
        let plain: Money = serde_json::from_str("\"12.30\"").expect("a borrowed amount");
        assert_eq!(plain, Money::from_fen(1230));
        // An escape makes serde_json hand over its own copy instead of the input's bytes.
        let escaped: Date = serde_json::from_str("\"2025-0\\u0033-01\"").expect("an escaped date");
        assert_eq!(escaped, Date::new(2025, 3, 1).expect("a date"));

        let number = serde_json::from_str::<Money>("12.3").expect_err("a number is no text");
        assert!(number.to_string().contains("expected a string"), "{number}");
        let bad = serde_json::from_str::<Date>("\"2025-02-30\"").expect_err("no such day");
        let parsed = "2025-02-30".parse::<Date>().expect_err("no such day");
        assert!(bad.to_string().starts_with(&parsed.to_string()), "{bad}");
        let from_bytes: Result<RegionCode, serde::de::value::Error> =
            deserialize_from_text(serde::de::value::BytesDeserializer::new(b"460100"));
        assert_eq!(from_bytes.expect("utf-8 bytes").to_string(), "460100");
    }
}
