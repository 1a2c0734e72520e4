//! Dates as `yyyymmdd` integers, the form the registry stores and compares.

use medpay_proto::common::v1 as common;
use platform::wire::Violation;

fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Reads a wire date, rejecting impossible ones with the field named.
pub fn date_from_wire(field: &str, date: &common::Date) -> Result<i32, Violation> {
    let valid = (1900..=9999).contains(&date.year)
        && (1..=12).contains(&date.month)
        && (1..=days_in_month(date.year, date.month)).contains(&date.day);
    if valid {
        Ok(date.year * 10_000 + date.month * 100 + date.day)
    } else {
        Err((
            field.to_owned(),
            format!(
                "{}-{}-{} is not a calendar date",
                date.year, date.month, date.day
            ),
        ))
    }
}

/// Today (UTC) as `yyyymmdd`.
pub fn today() -> i32 {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs() / 86_400).unwrap_or(0))
        .unwrap_or(0);
    civil_from_days(days)
}

/// Days since 1970-01-01 to `yyyymmdd` (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> i32 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    i32::try_from(year * 10_000 + month * 100 + day).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), 19700101);
        assert_eq!(civil_from_days(11_016), 20000229);
        assert_eq!(civil_from_days(19_782), 20240229);
        assert_eq!(civil_from_days(20_454), 20260101);
    }

    #[test]
    fn impossible_dates_are_rejected() {
        let date = |year, month, day| common::Date { year, month, day };
        assert_eq!(date_from_wire("d", &date(2024, 2, 29)), Ok(20240229));
        assert!(date_from_wire("d", &date(2025, 2, 29)).is_err());
        assert!(date_from_wire("d", &date(2025, 13, 1)).is_err());
        assert!(date_from_wire("d", &date(2025, 4, 31)).is_err());
        assert!(date_from_wire("d", &date(0, 1, 1)).is_err());
    }
}
