//! What the case ledger records of a stored case besides its content: the kind of record and
//! the status it has reached. Storage keeps both as the lower-case words of [`RecordKind::as_str`]
//! and [`LedgerStatus::as_str`]; those words are part of the stored data and of the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::case::AmbulatoryKind;

/// The kind of settlement a stored case is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// An inpatient settlement list: grouped and valued in points.
    Inpatient,
    Outpatient,
    /// 门诊慢特病.
    ChronicOutpatient,
    Pharmacy,
}

impl RecordKind {
    /// The stored word.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::Inpatient => "inpatient",
            RecordKind::Outpatient => "outpatient",
            RecordKind::ChronicOutpatient => "chronic_outpatient",
            RecordKind::Pharmacy => "pharmacy",
        }
    }
}

impl From<AmbulatoryKind> for RecordKind {
    fn from(kind: AmbulatoryKind) -> Self {
        match kind {
            AmbulatoryKind::Outpatient => RecordKind::Outpatient,
            AmbulatoryKind::ChronicOutpatient => RecordKind::ChronicOutpatient,
            AmbulatoryKind::Pharmacy => RecordKind::Pharmacy,
        }
    }
}

/// The statuses a stored case goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerStatus {
    /// Grouped and valued at intake.
    Valued,
    /// Stored, but grouping or valuation failed (the reason is kept); revalued later.
    Unvalued,
    /// Included in a year-end clearing run.
    Cleared,
    /// An outpatient or pharmacy settlement: kept for supervision, not valued in points.
    Recorded,
}

impl LedgerStatus {
    /// The stored word.
    pub const fn as_str(self) -> &'static str {
        match self {
            LedgerStatus::Valued => "valued",
            LedgerStatus::Unvalued => "unvalued",
            LedgerStatus::Cleared => "cleared",
            LedgerStatus::Recorded => "recorded",
        }
    }
}

/// A stored word that names no kind or status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a known ledger word")]
pub struct UnknownWord(pub String);

impl FromStr for RecordKind {
    type Err = UnknownWord;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        [
            RecordKind::Inpatient,
            RecordKind::Outpatient,
            RecordKind::ChronicOutpatient,
            RecordKind::Pharmacy,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == word)
        .ok_or_else(|| UnknownWord(word.to_owned()))
    }
}

impl FromStr for LedgerStatus {
    type Err = UnknownWord;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        [
            LedgerStatus::Valued,
            LedgerStatus::Unvalued,
            LedgerStatus::Cleared,
            LedgerStatus::Recorded,
        ]
        .into_iter()
        .find(|status| status.as_str() == word)
        .ok_or_else(|| UnknownWord(word.to_owned()))
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for LedgerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_read_back() {
        for kind in ["inpatient", "outpatient", "chronic_outpatient", "pharmacy"] {
            assert_eq!(kind.parse::<RecordKind>().map(RecordKind::as_str), Ok(kind));
        }
        for status in ["valued", "unvalued", "cleared", "recorded"] {
            assert_eq!(
                status.parse::<LedgerStatus>().map(LedgerStatus::as_str),
                Ok(status)
            );
        }
        assert!("VALUED".parse::<LedgerStatus>().is_err());
    }
}
