//! Case input and grouping output: [`RawCase`] (the raw text fields as they arrive in a CSV or
//! a request), [`OwnedCase`] for callers that hold parsed values, and [`GroupResult`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scheme::MAX_GROUP_CODE_LEN;

/// One case as raw text, borrowed from the caller (no copy on the grouping path).
///
/// Numbers are integers written as text; an empty field is "absent". Code fields are split at
/// every `,` and `|` (README step 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawCase<'a> {
    /// `1` male, `2` female.
    pub gender: &'a str,
    /// Age in whole years.
    pub age: &'a str,
    /// Age in days (`ageDay`).
    pub age_days: &'a str,
    /// Birth weight in grams.
    pub weight: &'a str,
    /// Department text (only `dept_in` reads it).
    pub dept: &'a str,
    /// Diagnoses, principal first (`ICD10_DRGS`).
    pub diagnoses: &'a str,
    /// Procedures, principal first (`ICD9_DRGS`).
    pub procedures: &'a str,
    /// Length of stay in days (`inHospitalTime`; only `los_days_*` read it).
    pub length_of_stay: &'a str,
    /// Discharge type (`leavingType`; only `leaving_type_in` reads it).
    pub leaving_type: &'a str,
}

/// Gender of a typed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gender {
    /// Code `1`.
    Male,
    /// Code `2`.
    Female,
}

/// A case built from already parsed values; [`OwnedCase::as_raw`] gives the [`RawCase`] the
/// engine reads, so typed and raw callers are grouped by the same rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedCase {
    gender: String,
    age: String,
    age_days: String,
    weight: String,
    dept: String,
    diagnoses: String,
    procedures: String,
    length_of_stay: String,
    leaving_type: String,
}

impl OwnedCase {
    /// Builds a case from typed values. Codes must not contain `,` or `|` (the separators);
    /// `None` means absent.
    pub fn new(
        gender: Option<Gender>,
        age_years: Option<i64>,
        age_days: Option<i64>,
        weight_grams: Option<i64>,
        dept: &str,
        diagnoses: &[&str],
        procedures: &[&str],
    ) -> Self {
        let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
        Self {
            gender: match gender {
                Some(Gender::Male) => "1".to_owned(),
                Some(Gender::Female) => "2".to_owned(),
                None => String::new(),
            },
            age: number(age_years),
            age_days: number(age_days),
            weight: number(weight_grams),
            dept: dept.to_owned(),
            diagnoses: diagnoses.join("|"),
            procedures: procedures.join("|"),
            length_of_stay: String::new(),
            leaving_type: String::new(),
        }
    }

    /// The same case with a length of stay (`None`: absent) and a discharge type (`leavingType`,
    /// empty: absent).
    pub fn with_stay(mut self, length_of_stay_days: Option<i64>, leaving_type: &str) -> Self {
        self.length_of_stay = length_of_stay_days
            .map(|days| days.to_string())
            .unwrap_or_default();
        leaving_type.clone_into(&mut self.leaving_type);
        self
    }

    /// The raw view grouped by the engine.
    pub fn as_raw(&self) -> RawCase<'_> {
        RawCase {
            gender: &self.gender,
            age: &self.age,
            age_days: &self.age_days,
            weight: &self.weight,
            dept: &self.dept,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
            length_of_stay: &self.length_of_stay,
            leaving_type: &self.leaving_type,
        }
    }
}

/// How a grouping ended (README "Output").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupStatus {
    /// Grouped into a DRG.
    Success,
    /// Passed the checks, no MDC/ADRG accepted the case.
    Fail,
    /// A mandatory field is missing or invalid (step 3).
    CheckFailed,
    /// Code mapping on: a diagnosis is not in the diagnosis map.
    DxNotMapped,
    /// Code mapping on: a procedure is not in the procedure map.
    ProcNotMapped,
    /// An enabled ambiguity rule applied (step 5).
    Ambiguous,
}

impl GroupStatus {
    /// The status code as written in results (`SUCCESS`, `CHECK_FAILED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Fail => "FAIL",
            Self::CheckFailed => "CHECK_FAILED",
            Self::DxNotMapped => "DX_NOT_MAPPED",
            Self::ProcNotMapped => "PROC_NOT_MAPPED",
            Self::Ambiguous => "AMBIGUOUS",
        }
    }

    /// Parses a status code.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Success,
            Self::Fail,
            Self::CheckFailed,
            Self::DxNotMapped,
            Self::ProcNotMapped,
            Self::Ambiguous,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for GroupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An MDC, ADRG or DRG code kept inline (at most [`MAX_GROUP_CODE_LEN`] bytes), so results are
/// `Copy` and independent of the scheme they came from.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ShortCode {
    len: u8,
    bytes: [u8; MAX_GROUP_CODE_LEN],
}

impl ShortCode {
    /// The empty code (used for failed groupings).
    pub const EMPTY: Self = Self {
        len: 0,
        bytes: [0; MAX_GROUP_CODE_LEN],
    };

    /// `None` when `code` is longer than [`MAX_GROUP_CODE_LEN`] bytes.
    pub fn new(code: &str) -> Option<Self> {
        let source = code.as_bytes();
        if source.len() > MAX_GROUP_CODE_LEN {
            return None;
        }
        let mut bytes = [0; MAX_GROUP_CODE_LEN];
        bytes[..source.len()].copy_from_slice(source);
        Some(Self {
            len: u8::try_from(source.len()).ok()?,
            bytes,
        })
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        // Built from a whole `&str`, so always valid UTF-8.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// True for the empty code.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ShortCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ShortCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("code longer than {MAX_GROUP_CODE_LEN} bytes"))
        })
    }
}

/// Result of grouping one case. For `FAIL`, `CHECK_FAILED`, `DX_NOT_MAPPED` and
/// `PROC_NOT_MAPPED` the three codes are empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupResult {
    /// How grouping ended.
    pub status: GroupStatus,
    /// MDC code, e.g. `MDCG`.
    pub mdc: ShortCode,
    /// ADRG code, e.g. `GB2` (`QY` for an ambiguity result).
    pub adrg: ShortCode,
    /// DRG code: `GB21`, a five-character sub-group such as `BV11B`, or the three-character
    /// ADRG code (an ADRG without a matching split, an ambiguity result such as `PQY`).
    pub drg: ShortCode,
}

impl GroupResult {
    /// A result without codes.
    pub fn failed(status: GroupStatus) -> Self {
        Self {
            status,
            mdc: ShortCode::EMPTY,
            adrg: ShortCode::EMPTY,
            drg: ShortCode::EMPTY,
        }
    }
}
