//! Hospital levels (医保结算等级): the key of DIP level coefficients, same-level reference costs,
//! per-diem standards and fixed rates.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A hospital's settlement level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HospitalLevel {
    /// 三级甲等.
    #[serde(rename = "3A")]
    Tertiary3A,
    /// 三级乙等.
    #[serde(rename = "3B")]
    Tertiary3B,
    /// 二级甲等.
    #[serde(rename = "2A")]
    Secondary2A,
    /// 二级乙等.
    #[serde(rename = "2B")]
    Secondary2B,
    /// 一级.
    #[serde(rename = "1")]
    Primary1,
    /// 社区卫生服务中心 / 乡镇卫生院.
    #[serde(rename = "community")]
    Community,
}

impl HospitalLevel {
    /// Every level, highest first.
    pub const ALL: [HospitalLevel; 6] = [
        HospitalLevel::Tertiary3A,
        HospitalLevel::Tertiary3B,
        HospitalLevel::Secondary2A,
        HospitalLevel::Secondary2B,
        HospitalLevel::Primary1,
        HospitalLevel::Community,
    ];

    /// The code used in policies and tables ("3A", "2B", "1", "community").
    pub fn code(self) -> &'static str {
        match self {
            HospitalLevel::Tertiary3A => "3A",
            HospitalLevel::Tertiary3B => "3B",
            HospitalLevel::Secondary2A => "2A",
            HospitalLevel::Secondary2B => "2B",
            HospitalLevel::Primary1 => "1",
            HospitalLevel::Community => "community",
        }
    }

    /// Reads a level code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.code() == code)
    }
}

impl fmt::Display for HospitalLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
