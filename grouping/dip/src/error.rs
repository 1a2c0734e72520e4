//! Errors of this crate: directory problems (with file and line), case input errors and their
//! stable `reason()` codes. History-build errors live in [`crate::build`].

use std::fmt;

/// One problem found while reading a directory: the file, the 1-based line (0 when the problem
/// concerns the whole file) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.kind)
        }
    }
}

/// What is wrong with one row or file of a directory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("directory.json is not valid: {message}")]
    Json { message: String },
    #[error("format {found:?} is not supported, expected \"dip-directory/1\"")]
    UnsupportedFormat { found: String },
    #[error("file is missing")]
    MissingFile,
    #[error("header must be exactly {expected}, found {found}")]
    BadHeader { expected: String, found: String },
    #[error("file starts with a byte-order mark")]
    ByteOrderMark,
    #[error("line ends with a carriage return (use LF line ends)")]
    CarriageReturn,
    #[error("expected {expected} tab-separated fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("field {field} is empty")]
    EmptyField { field: &'static str },
    #[error("field {field} has bad value {value:?}: {why}")]
    BadValue {
        field: &'static str,
        value: String,
        why: String,
    },
    #[error("field {field} is negative: {value}")]
    Negative { field: &'static str, value: String },
    #[error("{what} {value:?} already appears on line {first_line}")]
    Duplicate {
        what: &'static str,
        value: String,
        first_line: usize,
    },
    #[error("group code {code:?} is already used at {first}")]
    DuplicateGroup { code: String, first: String },
    #[error("procedure {code:?} is not in the procedure-type table")]
    UnknownProcedure { code: String },
    #[error("treatment {declared} does not match the procedures, whose highest type is {derived}")]
    TreatmentMismatch {
        declared: &'static str,
        derived: &'static str,
    },
    #[error("diagnosis scope {scope} overlaps the {treatment} group on line {other_line}")]
    OverlappingScope {
        scope: String,
        treatment: &'static str,
        other_line: usize,
    },
    #[error("group {code:?} is not defined in the group tables")]
    UnknownGroup { code: String },
    #[error("counts.{table} is {declared} but the table has {found} rows")]
    CountMismatch {
        table: &'static str,
        declared: usize,
        found: usize,
    },
}

impl ProblemKind {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            ProblemKind::Json { .. } => "BAD_JSON",
            ProblemKind::UnsupportedFormat { .. } => "UNSUPPORTED_FORMAT",
            ProblemKind::MissingFile => "MISSING_FILE",
            ProblemKind::BadHeader { .. } => "BAD_HEADER",
            ProblemKind::ByteOrderMark => "BYTE_ORDER_MARK",
            ProblemKind::CarriageReturn => "CARRIAGE_RETURN",
            ProblemKind::FieldCount { .. } => "WRONG_FIELD_COUNT",
            ProblemKind::EmptyField { .. } => "EMPTY_FIELD",
            ProblemKind::BadValue { .. } => "BAD_VALUE",
            ProblemKind::Negative { .. } => "NEGATIVE_VALUE",
            ProblemKind::Duplicate { .. } => "DUPLICATE",
            ProblemKind::DuplicateGroup { .. } => "DUPLICATE_GROUP",
            ProblemKind::UnknownProcedure { .. } => "UNKNOWN_PROCEDURE",
            ProblemKind::TreatmentMismatch { .. } => "TREATMENT_MISMATCH",
            ProblemKind::OverlappingScope { .. } => "OVERLAPPING_SCOPE",
            ProblemKind::UnknownGroup { .. } => "UNKNOWN_GROUP",
            ProblemKind::CountMismatch { .. } => "COUNT_MISMATCH",
        }
    }
}

/// A directory could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot access {path}: {message}")]
    Io { path: String, message: String },
    #[error("directory is invalid ({} problems):\n{}", problems.len(), list(problems))]
    Invalid { problems: Vec<Problem> },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl DirectoryError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            DirectoryError::Io { .. } => "DIRECTORY_UNREADABLE",
            DirectoryError::Invalid { .. } => "INVALID_DIRECTORY",
        }
    }

    /// Every problem found (empty for I/O errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            DirectoryError::Io { .. } => &[],
            DirectoryError::Invalid { problems } => problems,
        }
    }
}

/// A case that cannot be grouped because its input is invalid (DOMAIN.md §1: reject with a
/// reason, never guess).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("principal_diagnosis is empty")]
    MissingPrincipalDiagnosis,
    #[error("principal_diagnosis {code:?} is not an ICD-10 code (letter, two digits, ...)")]
    BadPrincipalDiagnosis { code: String },
    #[error("total_cost {cost} is negative")]
    NegativeCost { cost: String },
    #[error("discharge_type {value} is not one of 1, 2, 3, 4, 5, 9")]
    BadDischargeType { value: u8 },
    #[error("age_days is required when age_years is 0")]
    MissingAgeDays,
}

impl CaseError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            CaseError::MissingPrincipalDiagnosis => "MISSING_PRINCIPAL_DIAGNOSIS",
            CaseError::BadPrincipalDiagnosis { .. } => "BAD_PRINCIPAL_DIAGNOSIS",
            CaseError::NegativeCost { .. } => "NEGATIVE_COST",
            CaseError::BadDischargeType { .. } => "BAD_DISCHARGE_TYPE",
            CaseError::MissingAgeDays => "MISSING_AGE_DAYS",
        }
    }
}
