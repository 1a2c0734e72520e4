//! The one calendar of medpay: dates and second-precise date-times, with the day arithmetic
//! DOMAIN.md uses (length of stay = discharge date − admission date, readmission gaps and ages in
//! whole days), and the `yyyymmdd` integer form the stores keep and compare.
//!
//! Dates are written `YYYY-MM-DD`; date-times `YYYY-MM-DD HH:MM[:SS]` (a `T` separator is also
//! read), the national platform's format. Nothing here knows about time zones: every time on a
//! settlement list is the hospital's local time.

use std::fmt;
use std::str::FromStr;

/// Why a text or a triple is not a date or date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("date {input:?} must be written YYYY-MM-DD")]
    Format { input: String },
    #[error("date {year:04}-{month:02}-{day:02} does not exist")]
    NoSuchDay { year: i32, month: u32, day: u32 },
    #[error("time {input:?} must be written HH:MM or HH:MM:SS within one day")]
    Time { input: String },
}

impl DateError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            DateError::Format { .. } => "DATE_FORMAT",
            DateError::NoSuchDay { .. } => "NO_SUCH_DAY",
            DateError::Time { .. } => "TIME_FORMAT",
        }
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A proleptic Gregorian date, held as days since 1970-01-01 so that a difference is one
/// subtraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

impl Date {
    /// The date `year-month-day`, if it exists (years 1900..=9999).
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, DateError> {
        if !(1900..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay { year, month, day });
        }
        // Days from civil (H. Hinnant), exact for the proleptic Gregorian calendar.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Ok(Self {
            days: era * 146_097 + doe - 719_468,
        })
    }

    /// The date from days since 1970-01-01.
    pub fn from_days_since_epoch(days: i32) -> Self {
        Self { days }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i32 {
        self.days
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        // Civil from days (H. Hinnant).
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i32::from(month <= 2);
        (year, month, day)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// This date plus `days` (negative to go back).
    pub fn add_days(self, days: i32) -> Self {
        Self {
            days: self.days + days,
        }
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i32 {
        self.days - earlier.days
    }

    /// The date as the integer `yyyymmdd` (2025-06-12 is 20250612): the form stored in integer
    /// columns, which orders as the dates do.
    pub fn to_yyyymmdd(self) -> i32 {
        let (year, month, day) = self.ymd();
        year * 10_000 + month as i32 * 100 + day as i32
    }

    /// Reads the integer form of [`Date::to_yyyymmdd`].
    pub fn from_yyyymmdd(value: i32) -> Result<Self, DateError> {
        let month = u32::try_from(value / 100 % 100).unwrap_or(0);
        let day = u32::try_from(value % 100).unwrap_or(0);
        Date::new(value / 10_000, month, day)
    }

    /// The UTC calendar day of a time given as seconds since 1970-01-01T00:00Z (what a clock
    /// reads; the kernel itself never reads one).
    pub fn from_unix_seconds(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        Self {
            days: i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX }),
        }
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let format_error = || DateError::Format {
            input: input.to_owned(),
        };
        let bytes = input.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(format_error());
        }
        let digits = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &input[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format_error());
            }
            part.parse().map_err(|_| format_error())
        };
        let year = digits(0..4)? as i32;
        Date::new(year, digits(5..7)?, digits(8..10)?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0_u8; 10];
        write_date(*self, &mut text);
        f.write_str(crate::ascii(&text))
    }
}

crate::serde_as_text!(Date);

/// A date with a time of day to the second (the settlement list records admission and
/// discharge to the minute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    date: Date,
    seconds_of_day: u32,
}

impl DateTime {
    /// `date` at `hour:minute:second`.
    pub fn new(date: Date, hour: u32, minute: u32, second: u32) -> Result<Self, DateError> {
        if hour > 23 || minute > 59 || second > 59 {
            return Err(DateError::Time {
                input: format!("{hour:02}:{minute:02}:{second:02}"),
            });
        }
        Ok(Self {
            date,
            seconds_of_day: hour * 3600 + minute * 60 + second,
        })
    }

    pub fn date(self) -> Date {
        self.date
    }

    /// Seconds from `earlier` to `self`.
    pub fn seconds_since(self, earlier: DateTime) -> i64 {
        i64::from(self.date.days_since(earlier.date)) * 86_400 + i64::from(self.seconds_of_day)
            - i64::from(earlier.seconds_of_day)
    }
}

impl FromStr for DateTime {
    type Err = DateError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let time_error = || DateError::Time {
            input: input.to_owned(),
        };
        if input.len() < 10 || !input.is_char_boundary(10) {
            return Err(DateError::Format {
                input: input.to_owned(),
            });
        }
        let date: Date = input[..10].parse()?;
        let rest = &input[10..];
        if rest.is_empty() {
            return Ok(Self {
                date,
                seconds_of_day: 0,
            });
        }
        let time = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('T'))
            .ok_or_else(time_error)?;
        // `hh:mm` or `hh:mm:ss`, each part two digits.
        let bytes = time.as_bytes();
        if !(bytes.len() == 5 || bytes.len() == 8) {
            return Err(time_error());
        }
        let mut parts = [0_u32; 3];
        for (index, part) in bytes.chunks(3).enumerate() {
            let (digits, separator) = part.split_at(2);
            if !digits.iter().all(u8::is_ascii_digit) || !matches!(separator, [] | [b':']) {
                return Err(time_error());
            }
            parts[index] = u32::from(digits[0] - b'0') * 10 + u32::from(digits[1] - b'0');
        }
        DateTime::new(date, parts[0], parts[1], parts[2]).map_err(|_| time_error())
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds_of_day;
        let mut text = [0_u8; 19];
        let (date, time) = text.split_at_mut(10);
        write_date(self.date, date);
        time[0] = b' ';
        write_two_digits(s / 3600, &mut time[1..3]);
        time[3] = b':';
        write_two_digits(s / 60 % 60, &mut time[4..6]);
        time[6] = b':';
        write_two_digits(s % 60, &mut time[7..9]);
        f.write_str(crate::ascii(&text))
    }
}

/// `yyyy-mm-dd` into `out` (ten bytes). Dates and times are written digit by digit: a stored list
/// carries one per fee line, and the formatting machinery of `write!` was most of their cost.
fn write_date(date: Date, out: &mut [u8]) {
    let (year, month, day) = date.ymd();
    let year = u32::try_from(year).unwrap_or(0) % 10_000;
    write_two_digits(year / 100, &mut out[0..2]);
    write_two_digits(year % 100, &mut out[2..4]);
    out[4] = b'-';
    write_two_digits(month, &mut out[5..7]);
    out[7] = b'-';
    write_two_digits(day, &mut out[8..10]);
}

fn write_two_digits(value: u32, out: &mut [u8]) {
    // Each digit is below ten, so the narrowing keeps it.
    out[0] = b'0' + (value / 10 % 10) as u8;
    out[1] = b'0' + (value % 10) as u8;
}

crate::serde_as_text!(DateTime);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_rejects() {
        let d: Date = "2024-02-29".parse().expect("leap day");
        assert_eq!(d.to_string(), "2024-02-29");
        assert!(matches!(
            "2023-02-29".parse::<Date>(),
            Err(DateError::NoSuchDay { .. })
        ));
        assert!(matches!(
            "2023/02/01".parse::<Date>(),
            Err(DateError::Format { .. })
        ));
        assert_eq!(Date::new(1970, 1, 1).map(Date::days_since_epoch), Ok(0));
    }

    #[test]
    fn stay_of_12_to_15_june_is_three_days() {
        // DOMAIN.md conventions: 12 Jun → 15 Jun = 3.
        let a: Date = "2025-06-12".parse().expect("date");
        let b: Date = "2025-06-15".parse().expect("date");
        assert_eq!(b.days_since(a), 3);
        assert_eq!(a.add_days(3), b);
    }

    #[test]
    fn date_times_read_both_separators_and_compare() {
        let a: DateTime = "2025-06-12 08:30".parse().expect("dt");
        let b: DateTime = "2025-06-12T08:30:01".parse().expect("dt");
        assert!(b > a);
        assert_eq!(b.seconds_since(a), 1);
        assert_eq!(a.to_string(), "2025-06-12 08:30:00");
        assert!("2025-06-12 24:00".parse::<DateTime>().is_err());
        assert!("2025-06-12 8:00".parse::<DateTime>().is_err());
    }

    #[test]
    fn the_integer_form_orders_like_the_dates() {
        let leap: Date = "2024-02-29".parse().expect("date");
        assert_eq!(leap.to_yyyymmdd(), 20240229);
        assert_eq!(Date::from_yyyymmdd(20240229), Ok(leap));
        assert!(Date::from_yyyymmdd(20230229).is_err());
        assert!(Date::from_yyyymmdd(20231301).is_err());
        assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_seconds(-1).to_string(), "1969-12-31");
        assert_eq!(
            Date::from_unix_seconds(1_767_225_599).to_string(),
            "2025-12-31"
        );
    }

    proptest! {
        #[test]
        fn yyyymmdd_round_trips(days in -25_000i32..2_900_000) {
            let d = Date::from_days_since_epoch(days);
            if d.year() >= 1900 {
                prop_assert_eq!(Date::from_yyyymmdd(d.to_yyyymmdd()), Ok(d));
            }
            let later = d.add_days(1);
            prop_assert!(later.to_yyyymmdd() > d.to_yyyymmdd());
        }

        #[test]
        fn days_round_trip(days in -25_000i32..2_900_000) {
            let d = Date::from_days_since_epoch(days);
            let (y, m, dd) = d.ymd();
            prop_assert_eq!(Date::new(y, m, dd), Ok(d));
            prop_assert_eq!(d.to_string().parse::<Date>(), Ok(d));
        }

        #[test]
        fn date_times_are_written_as_the_formatter_would_and_read_back(
            days in 0i32..2_900_000,
            seconds in 0u32..86_400,
        ) {
            let date = Date::from_days_since_epoch(days);
            let (y, m, d) = date.ymd();
            let at = DateTime::new(date, seconds / 3600, seconds / 60 % 60, seconds % 60)
                .expect("a time of day");
            let expected = format!(
                "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            );
            prop_assert_eq!(at.to_string(), expected.clone());
            prop_assert_eq!(date.to_string(), expected[..10].to_owned());
            prop_assert_eq!(expected.parse::<DateTime>(), Ok(at));
            prop_assert_eq!(expected.replace(' ', "T").parse::<DateTime>(), Ok(at));
        }

        #[test]
        fn a_time_of_day_reads_as_the_split_reading_did(time in "[0-9:x ]{0,9}") {
            let input = format!("2025-03-01 {time}");
            prop_assert_eq!(input.parse::<DateTime>().ok(), split_reading(&input));
        }
    }

    /// The reading of a time of day by splitting on colons, which the byte reading replaced.
    fn split_reading(input: &str) -> Option<DateTime> {
        let date: Date = input[..10].parse().ok()?;
        let parts: Vec<&str> = input[11..].split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let number = |i: usize| -> u32 { parts.get(i).and_then(|p| p.parse().ok()).unwrap_or(0) };
        DateTime::new(date, number(0), number(1), number(2)).ok()
    }
}
