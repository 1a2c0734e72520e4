//! Region codes (GB/T 2260): six digits, province ⊃ prefecture ⊃ county.
//!
//! `460000` is a province, `460100` a prefecture, `460105` a county. County-level units directly
//! under a province (`4690xx`, `4290xx`, …) belong to their province only: no prefecture contains
//! them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("region code {input:?} must be exactly six digits, it has {length} characters")]
    WrongLength { input: String, length: usize },
    #[error("region code {input:?} must contain digits only")]
    NotDigits { input: String },
    #[error("region code {input:?} names no province: the first two digits must be 11 to 82")]
    UnknownProvince { input: String },
}

/// The administrative level a code stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    Prefecture,
    County,
}

/// A six-digit GB/T 2260 region code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(u32);

impl RegionCode {
    /// The code as a number (for storage).
    pub fn as_u32(self) -> u32 {
        self.0
    }

    /// Reads a stored code.
    pub fn from_u32(code: u32) -> Result<Self, RegionCodeError> {
        format!("{code:06}").parse()
    }

    pub fn level(self) -> RegionLevel {
        if self.0.is_multiple_of(10_000) {
            RegionLevel::Province
        } else if self.0.is_multiple_of(100) {
            RegionLevel::Prefecture
        } else {
            RegionLevel::County
        }
    }

    /// The province this code belongs to.
    pub fn province(self) -> RegionCode {
        RegionCode(self.0 - self.0 % 10_000)
    }

    /// The regions that contain this one, nearest first: a county's prefecture (the `xxxx00`
    /// code above it) and province, a prefecture's province, nothing for a province. This is the
    /// order in which a rule published for a wider region reaches a narrower one.
    pub fn ancestors(self) -> impl Iterator<Item = RegionCode> {
        let prefecture = RegionCode(self.0 - self.0 % 100);
        let province = self.province();
        let prefecture = (prefecture != self && prefecture != province).then_some(prefecture);
        let province = (province != self).then_some(province);
        prefecture.into_iter().chain(province)
    }

    /// This region followed by its [`ancestors`](RegionCode::ancestors).
    pub fn self_and_ancestors(self) -> impl Iterator<Item = RegionCode> {
        std::iter::once(self).chain(self.ancestors())
    }

    /// Whether `other` is this region or lies inside it.
    pub fn contains(self, other: RegionCode) -> bool {
        match self.level() {
            RegionLevel::Province => self.0 / 10_000 == other.0 / 10_000,
            RegionLevel::Prefecture => self.0 / 100 == other.0 / 100,
            RegionLevel::County => self == other,
        }
    }
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.len() != 6 {
            return Err(RegionCodeError::WrongLength {
                input: input.to_owned(),
                length: input.chars().count(),
            });
        }
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::NotDigits {
                input: input.to_owned(),
            });
        }
        let code: u32 = input.parse().map_err(|_| RegionCodeError::NotDigits {
            input: input.to_owned(),
        })?;
        if !(11..=82).contains(&(code / 10_000)) {
            return Err(RegionCodeError::UnknownProvince {
                input: input.to_owned(),
            });
        }
        Ok(RegionCode(code))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({:06})", self.0)
    }
}

crate::serde_as_text!(RegionCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> RegionCode {
        s.parse().expect("test code")
    }

    #[test]
    fn ancestors_go_from_the_nearest_region_up() {
        let chain = |s: &str| {
            code(s)
                .self_and_ancestors()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(chain("460105"), ["460105", "460100", "460000"]);
        assert_eq!(chain("460100"), ["460100", "460000"]);
        assert_eq!(chain("460000"), ["460000"]);
        assert_eq!(code("460000").ancestors().count(), 0);
    }

    #[test]
    fn levels() {
        assert_eq!(code("460000").level(), RegionLevel::Province);
        assert_eq!(code("460100").level(), RegionLevel::Prefecture);
        assert_eq!(code("460105").level(), RegionLevel::County);
        assert_eq!(code("469001").level(), RegionLevel::County);
    }

    #[test]
    fn containment_follows_the_hierarchy() {
        let hainan = code("460000");
        let haikou = code("460100");
        let meilan = code("460108");
        let sanya = code("460200");
        let wuzhishan = code("469001");
        assert!(hainan.contains(haikou));
        assert!(hainan.contains(meilan));
        assert!(hainan.contains(wuzhishan));
        assert!(haikou.contains(meilan));
        assert!(haikou.contains(haikou));
        assert!(!haikou.contains(hainan));
        assert!(!haikou.contains(sanya));
        assert!(!haikou.contains(wuzhishan));
        assert!(!meilan.contains(haikou));
        assert!(!hainan.contains(code("440300")));
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        assert_eq!(
            "46010".parse::<RegionCode>(),
            Err(RegionCodeError::WrongLength {
                input: "46010".into(),
                length: 5
            })
        );
        assert!(matches!(
            "46o100".parse::<RegionCode>(),
            Err(RegionCodeError::NotDigits { .. })
        ));
        assert!(matches!(
            "990000".parse::<RegionCode>(),
            Err(RegionCodeError::UnknownProvince { .. })
        ));
        assert!(matches!(
            "000000".parse::<RegionCode>(),
            Err(RegionCodeError::UnknownProvince { .. })
        ));
        assert!(matches!(
            " 46010".parse::<RegionCode>(),
            Err(RegionCodeError::NotDigits { .. })
        ));
    }

    proptest! {
        #[test]
        fn round_trips(n in 110_000u32..830_000) {
            if let Ok(c) = RegionCode::from_u32(n) {
                prop_assert_eq!(c.to_string().parse::<RegionCode>(), Ok(c));
                prop_assert_eq!(RegionCode::from_u32(c.as_u32()), Ok(c));
                prop_assert!(c.province().contains(c));
                prop_assert!(c.contains(c));
            }
        }
    }
}
