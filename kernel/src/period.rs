//! Fund types (分账核算) and calendar months.

use std::fmt;
use std::str::FromStr;

/// The two funds kept apart everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FundType {
    /// 职工医保, code 310.
    Employee,
    /// 城乡居民医保, code 390.
    Resident,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fund type {input:?} is unknown: use 310 (employee) or 390 (resident)")]
pub struct FundTypeError {
    pub input: String,
}

impl FundType {
    pub const ALL: [FundType; 2] = [FundType::Employee, FundType::Resident];

    /// The national insurance-type code (`insutype`).
    pub fn code(self) -> u16 {
        match self {
            FundType::Employee => 310,
            FundType::Resident => 390,
        }
    }

    pub fn from_code(code: u16) -> Result<Self, FundTypeError> {
        match code {
            310 => Ok(FundType::Employee),
            390 => Ok(FundType::Resident),
            other => Err(FundTypeError {
                input: other.to_string(),
            }),
        }
    }
}

impl FromStr for FundType {
    type Err = FundTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "310" => Ok(FundType::Employee),
            "390" => Ok(FundType::Resident),
            other => Err(FundTypeError {
                input: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for FundType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

crate::serde_as_text!(FundType);

/// A calendar month, the unit of prepayment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YearMonthError {
    #[error("month {input:?} must be written YYYY-MM or YYYYMM")]
    Format { input: String },
    #[error("month {month} in {input:?} is not between 1 and 12")]
    MonthOutOfRange { input: String, month: u32 },
    #[error("year {year} is outside 1900..=9999")]
    YearOutOfRange { year: i32 },
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Result<Self, YearMonthError> {
        if !(1900..=9999).contains(&year) {
            return Err(YearMonthError::YearOutOfRange { year });
        }
        if !(1..=12).contains(&month) {
            return Err(YearMonthError::MonthOutOfRange {
                input: format!("{year}-{month}"),
                month,
            });
        }
        Ok(Self {
            year,
            month: month as u8,
        })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    /// `yyyymm` as one integer, for storage and ordering.
    pub fn as_int(self) -> i32 {
        self.year * 100 + i32::from(self.month)
    }

    pub fn from_int(value: i32) -> Result<Self, YearMonthError> {
        Self::new(value / 100, (value % 100).unsigned_abs())
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
}

impl FromStr for YearMonth {
    type Err = YearMonthError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let format_error = || YearMonthError::Format {
            input: input.to_owned(),
        };
        let (year, month) = match input.len() {
            7 if input.as_bytes()[4] == b'-' => (&input[..4], &input[5..]),
            6 => (&input[..4], &input[4..]),
            _ => return Err(format_error()),
        };
        if !year
            .bytes()
            .chain(month.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return Err(format_error());
        }
        let year: i32 = year.parse().map_err(|_| format_error())?;
        let month: u32 = month.parse().map_err(|_| format_error())?;
        if !(1..=12).contains(&month) {
            return Err(YearMonthError::MonthOutOfRange {
                input: input.to_owned(),
                month,
            });
        }
        Self::new(year, month)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

crate::serde_as_text!(YearMonth);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fund_codes() {
        assert_eq!("310".parse(), Ok(FundType::Employee));
        assert_eq!("390".parse(), Ok(FundType::Resident));
        assert!("320".parse::<FundType>().is_err());
        assert_eq!(FundType::Resident.to_string(), "390");
    }

    #[test]
    fn months_parse_and_roll_over() {
        let dec: YearMonth = "2025-12".parse().expect("valid");
        assert_eq!(dec.next().to_string(), "2026-01");
        assert_eq!("202601".parse::<YearMonth>(), Ok(dec.next()));
        assert_eq!(dec.next().previous(), dec);
        assert!(matches!(
            "2025-13".parse::<YearMonth>(),
            Err(YearMonthError::MonthOutOfRange { month: 13, .. })
        ));
        assert!(matches!(
            "2025/01".parse::<YearMonth>(),
            Err(YearMonthError::Format { .. })
        ));
        assert!("25-01".parse::<YearMonth>().is_err());
    }

    proptest! {
        #[test]
        fn round_trips(year in 1900i32..9998, month in 1u32..=12) {
            let ym = YearMonth::new(year, month).expect("in range");
            prop_assert_eq!(ym.to_string().parse::<YearMonth>(), Ok(ym));
            prop_assert_eq!(YearMonth::from_int(ym.as_int()), Ok(ym));
            prop_assert!(ym.next() > ym);
            prop_assert_eq!(ym.next().previous(), ym);
        }
    }
}
