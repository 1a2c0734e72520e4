//! Calendar dates of a stay (admission, discharge) and the day arithmetic DOMAIN.md uses:
//! length of stay = discharge date − admission date, readmission gaps in whole days.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text or triple is not a calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("date {input:?} must be written YYYY-MM-DD")]
    Format { input: String },
    #[error("date {year:04}-{month:02}-{day:02} does not exist")]
    NoSuchDay { year: i32, month: u32, day: u32 },
}

/// A proleptic Gregorian calendar date, stored as days since 1970-01-01 so that differences are
/// one subtraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    days: i32,
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

impl CivilDate {
    /// The date `year-month-day`, if it exists.
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, DateError> {
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay { year, month, day });
        }
        // Days from civil (H. Hinnant's algorithm), exact for the proleptic Gregorian calendar.
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

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i32) -> Self {
        Self { days }
    }

    /// The date `days` later (earlier when negative).
    pub fn plus_days(self, days: i32) -> Self {
        Self {
            days: self.days + days,
        }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i32 {
        self.days
    }

    /// Whole days from `earlier` to `self` (negative if `self` is earlier).
    pub fn days_since(self, earlier: CivilDate) -> i64 {
        i64::from(self.days) - i64::from(earlier.days)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
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
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for CivilDate {
    type Err = DateError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let format_error = || DateError::Format {
            input: input.to_owned(),
        };
        let mut parts = input.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format_error());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(format_error());
        }
        let year = y.parse().map_err(|_| format_error())?;
        let month = m.parse().map_err(|_| format_error())?;
        let day = d.parse().map_err(|_| format_error())?;
        Self::new(year, month, day)
    }
}

impl Serialize for CivilDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CivilDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn length_of_stay_example() {
        // DOMAIN.md conventions: 12 Jun → 15 Jun = 3.
        let a: CivilDate = "2024-06-12".parse().expect("date");
        let b: CivilDate = "2024-06-15".parse().expect("date");
        assert_eq!(b.days_since(a), 3);
        assert_eq!(
            CivilDate::new(1970, 1, 1).map(|d| d.days_since_epoch()),
            Ok(0)
        );
    }

    #[test]
    fn rejects_bad_dates() {
        assert!("2023-02-29".parse::<CivilDate>().is_err());
        assert!("2024-02-29".parse::<CivilDate>().is_ok());
        assert!("2024-6-1".parse::<CivilDate>().is_err());
        assert!("2024-13-01".parse::<CivilDate>().is_err());
    }

    proptest! {
        #[test]
        fn round_trips(days in -700_000i32..2_900_000) {
            let date = CivilDate { days };
            let (y, m, d) = date.ymd();
            prop_assert_eq!(CivilDate::new(y, m, d), Ok(date));
            prop_assert_eq!(date.to_string().parse::<CivilDate>(), Ok(date));
        }
    }
}
