//! Reading common wire values (decimal strings, fund types, months, dates) with errors that name
//! the field.

use kernel::{Date, FundType, Money, Points, YearMonth};
use medpay_proto::common::v1 as pb;

/// A field violation: (field path, description).
pub type Violation = (String, String);

/// Reads a money field; an absent message is an error.
pub fn money(field: &str, value: Option<&pb::Money>) -> Result<Money, Violation> {
    let text = value.map(|m| m.yuan.as_str()).unwrap_or("");
    if text.is_empty() {
        return Err((field.to_owned(), "is required".to_owned()));
    }
    text.parse()
        .map_err(|e: kernel::AmountError| (field.to_owned(), e.to_string()))
}

/// Reads a points field; an absent message is an error.
pub fn points(field: &str, value: Option<&pb::Decimal>) -> Result<Points, Violation> {
    let text = value.map(|m| m.value.as_str()).unwrap_or("");
    if text.is_empty() {
        return Err((field.to_owned(), "is required".to_owned()));
    }
    text.parse()
        .map_err(|e: kernel::AmountError| (field.to_owned(), e.to_string()))
}

/// Reads a fund type enum value.
pub fn fund_type(field: &str, value: i32) -> Result<FundType, Violation> {
    u16::try_from(value)
        .ok()
        .and_then(|code| FundType::from_code(code).ok())
        .ok_or_else(|| {
            (
                field.to_owned(),
                format!("fund type {value} is unknown: use 310 (employee) or 390 (resident)"),
            )
        })
}

/// The wire enum value of a fund type.
pub fn fund_type_to_wire(fund: FundType) -> i32 {
    i32::from(fund.code())
}

/// Reads a month.
pub fn year_month(field: &str, value: Option<&pb::YearMonth>) -> Result<YearMonth, Violation> {
    let value = value.ok_or_else(|| (field.to_owned(), "is required".to_owned()))?;
    let month = u32::try_from(value.month).unwrap_or(0);
    YearMonth::new(value.year, month).map_err(|e| (field.to_owned(), e.to_string()))
}

/// Reads a year.
pub fn year(field: &str, value: i32) -> Result<i32, Violation> {
    if (1900..=9999).contains(&value) {
        Ok(value)
    } else {
        Err((
            field.to_owned(),
            format!("year {value} is outside 1900..=9999"),
        ))
    }
}

/// Reads the `year` and `fund_type` fields that key most requests, reporting both when both are bad.
pub fn year_and_fund(year_value: i32, fund_value: i32) -> Result<(i32, FundType), tonic::Status> {
    match (year("year", year_value), fund_type("fund_type", fund_value)) {
        (Ok(year), Ok(fund)) => Ok((year, fund)),
        (year, fund) => Err(crate::status::bad_request(
            [year.err(), fund.err()].into_iter().flatten().collect(),
        )),
    }
}

/// Default and largest page sizes of every list method ([`crate::paging`]).
pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// A stored `yyyymmdd` date as a wire message.
pub fn date_to_wire(yyyymmdd: i32) -> pb::Date {
    pb::Date {
        year: yyyymmdd / 10_000,
        month: yyyymmdd / 100 % 100,
        day: yyyymmdd % 100,
    }
}

/// A date as a wire message.
pub fn wire_date(date: Date) -> pb::Date {
    let (year, month, day) = date.ymd();
    pb::Date {
        year,
        month: month as i32,
        day: day as i32,
    }
}

/// Reads a wire date, rejecting impossible ones (and years outside 1900..=9999) with the field
/// named.
pub fn date(field: &str, value: &pb::Date) -> Result<Date, Violation> {
    let part = |n: i32| u32::try_from(n).unwrap_or(0);
    Date::new(value.year, part(value.month), part(value.day)).map_err(|_| {
        (
            field.to_owned(),
            format!(
                "{}-{}-{} is not a calendar date",
                value.year, value.month, value.day
            ),
        )
    })
}

/// Reads a required wire date.
pub fn required_date(field: &str, value: Option<&pb::Date>) -> Result<Date, Violation> {
    value
        .ok_or_else(|| (field.to_owned(), "is required".to_owned()))
        .and_then(|value| date(field, value))
}

/// Today's UTC calendar day from the system clock.
pub fn today() -> Date {
    Date::from_unix_seconds(unix_seconds())
}

/// Seconds since the Unix epoch, for audit rows.
pub fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Money as a wire message.
pub fn money_to_wire(value: Money) -> pb::Money {
    pb::Money {
        yuan: value.to_string(),
    }
}

/// A decimal as a wire message.
pub fn decimal_to_wire(value: impl std::fmt::Display) -> pb::Decimal {
    pb::Decimal {
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_errors_name_the_field() {
        let err = money(
            "case.total_cost",
            Some(&pb::Money {
                yuan: "1.234".into(),
            }),
        )
        .expect_err("too precise");
        assert_eq!(err.0, "case.total_cost");
        assert!(money("x", None).is_err());
        assert_eq!(
            money(
                "x",
                Some(&pb::Money {
                    yuan: "12.5".into()
                })
            )
            .map(|m| m.to_fen()),
            Ok(Ok(1250))
        );
    }

    #[test]
    fn fund_types() {
        assert_eq!(fund_type("f", 310), Ok(FundType::Employee));
        assert!(fund_type("f", 0).is_err());
        assert!(fund_type("f", -1).is_err());
    }
}
