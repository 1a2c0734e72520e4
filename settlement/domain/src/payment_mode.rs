//! How a case is paid (DOMAIN.md §3 payment-mode selection), spelled as the case ledger stores it.
//!
//! The points context names its modes in upper case on the wire (`DRG`, `FFS`, `BASIC_LEVEL`,
//! `PER_DIEM_HOSPICE`, …); the ledger keeps them in lower case, with `fee_for_service` and
//! `basic_level_disease` for the two short wire names. [`PaymentMode::as_str`] and its
//! [`FromStr`] are that stored spelling, and serde uses the same names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a case is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    /// DRG points.
    Drg,
    /// DIP scores.
    Dip,
    /// 按床日, programme not named.
    PerDiem,
    PerDiemPsychiatric,
    PerDiemRehabilitation,
    PerDiemHospice,
    /// 日间手术按病种.
    DaySurgery,
    /// 单病种 按病种定额.
    FixedRate,
    /// 基层病种: points of the main method with one coefficient at every level.
    BasicLevelDisease,
    /// Fee-for-service: approved special cases and excluded stays, paid outside points.
    FeeForService,
}

impl PaymentMode {
    pub const ALL: [PaymentMode; 10] = [
        PaymentMode::Drg,
        PaymentMode::Dip,
        PaymentMode::PerDiem,
        PaymentMode::PerDiemPsychiatric,
        PaymentMode::PerDiemRehabilitation,
        PaymentMode::PerDiemHospice,
        PaymentMode::DaySurgery,
        PaymentMode::FixedRate,
        PaymentMode::BasicLevelDisease,
        PaymentMode::FeeForService,
    ];

    /// The ledger's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMode::Drg => "drg",
            PaymentMode::Dip => "dip",
            PaymentMode::PerDiem => "per_diem",
            PaymentMode::PerDiemPsychiatric => "per_diem_psychiatric",
            PaymentMode::PerDiemRehabilitation => "per_diem_rehabilitation",
            PaymentMode::PerDiemHospice => "per_diem_hospice",
            PaymentMode::DaySurgery => "day_surgery",
            PaymentMode::FixedRate => "fixed_rate",
            PaymentMode::BasicLevelDisease => "basic_level_disease",
            PaymentMode::FeeForService => "fee_for_service",
        }
    }

    /// The mode of a stored spelling; `None` for an empty or unknown one (a case stored before
    /// it was valued, or by a points context with a mode this version does not name).
    pub fn from_stored(stored: &str) -> Option<Self> {
        stored.parse().ok()
    }
}

impl fmt::Display for PaymentMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A spelling that names no payment mode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a payment mode")]
pub struct UnknownPaymentMode(pub String);

impl FromStr for PaymentMode {
    type Err = UnknownPaymentMode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PaymentMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| UnknownPaymentMode(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back_and_match_serde() {
        for mode in PaymentMode::ALL {
            assert_eq!(mode.as_str().parse::<PaymentMode>(), Ok(mode));
            assert_eq!(
                serde_json::to_value(mode).expect("json"),
                serde_json::Value::String(mode.as_str().to_owned())
            );
        }
        assert_eq!(PaymentMode::from_stored(""), None);
        assert!("FFS".parse::<PaymentMode>().is_err());
    }
}
