//! Shared value types of medpay: money, points, region codes and their effective-dated
//! timelines, fund types, dates and periods, and the principal's region scope.
//!
//! This crate is pure: no I/O, no async, no wire or storage types. Every context uses these types
//! in its domain layer, so a rule about rounding or region containment lives here once.

pub mod date;
mod money;
mod period;
mod principal;
mod region;
mod timeline;

pub use date::{Date, DateError, DateTime};
pub use money::{AmountError, Money, Points, round_money, round_points};
pub use period::{FundType, FundTypeError, YearMonth, YearMonthError};
pub use principal::{Principal, Role, RoleError, ScopeError};
pub use region::{RegionCode, RegionCodeError, RegionLevel};
pub use timeline::RegionalTimeline;

pub use rust_decimal::Decimal;
