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
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_as_text;

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
};
pub use period::{FundType, FundTypeError, YearMonth, YearMonthError};
pub use principal::{Principal, Role, RoleError, ScopeError};
pub use region::{RegionCode, RegionCodeError, RegionLevel};
pub use timeline::RegionalTimeline;

pub use rust_decimal::Decimal;
