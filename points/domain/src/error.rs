//! Errors of the points domain. Each has a stable machine-readable `reason()`; messages are
//! concise, lowercase and name the field or record at fault.

use kernel::Decimal;

use crate::level::HospitalLevel;

/// One defect of a policy or a table, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{field} is {value}, it must not be negative")]
    Negative { field: String, value: Decimal },
    #[error("{field} is {value}, it must be greater than zero")]
    NotPositive { field: String, value: Decimal },
    #[error("{field} is {value}, it must lie in {range}")]
    OutOfRange {
        field: String,
        value: Decimal,
        range: &'static str,
    },
    #[error("{low_field} ({low}) must be below {high_field} ({high})")]
    LowNotBelowHigh {
        low_field: String,
        low: Decimal,
        high_field: String,
        high: Decimal,
    },
    #[error("{field} must be strictly increasing, and only its last entry may be open-ended")]
    NotIncreasing { field: String },
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} lists {value:?} twice")]
    Duplicate { field: String, value: String },
    #[error("{field} has unknown value {value:?}")]
    Unknown { field: String, value: String },
    #[error("{field} must be {expected}, it is {actual}")]
    Mismatch {
        field: String,
        expected: String,
        actual: String,
    },
}

impl PolicyError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            PolicyError::Negative { .. } => "NEGATIVE_PARAMETER",
            PolicyError::NotPositive { .. } => "NON_POSITIVE_PARAMETER",
            PolicyError::OutOfRange { .. } => "PARAMETER_OUT_OF_RANGE",
            PolicyError::LowNotBelowHigh { .. } => "LOW_NOT_BELOW_HIGH",
            PolicyError::NotIncreasing { .. } => "TIERS_NOT_INCREASING",
            PolicyError::Empty { .. } => "EMPTY_LIST",
            PolicyError::Duplicate { .. } => "DUPLICATE_ENTRY",
            PolicyError::Unknown { .. } => "UNKNOWN_VALUE",
            PolicyError::Mismatch { .. } => "KEY_MISMATCH",
        }
    }

    /// The field at fault (the first one for a comparison).
    pub fn field(&self) -> &str {
        match self {
            PolicyError::Negative { field, .. }
            | PolicyError::NotPositive { field, .. }
            | PolicyError::OutOfRange { field, .. }
            | PolicyError::NotIncreasing { field }
            | PolicyError::Empty { field }
            | PolicyError::Duplicate { field, .. }
            | PolicyError::Unknown { field, .. }
            | PolicyError::Mismatch { field, .. } => field,
            PolicyError::LowNotBelowHigh { low_field, .. } => low_field,
        }
    }
}

/// Every defect found in one policy or table (validation never stops at the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s): {}", .0.len(), summary(.0))]
pub struct PolicyErrors(pub Vec<PolicyError>);

fn summary(errors: &[PolicyError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl PolicyErrors {
    /// Stable machine-readable reason of the whole rejection.
    pub fn reason(&self) -> &'static str {
        "INVALID_POLICY"
    }

    /// Whether some defect names `field`.
    pub fn names(&self, field: &str) -> bool {
        self.0.iter().any(|error| error.field() == field)
    }
}

/// Collects defects while a policy or table is checked.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) errors: Vec<PolicyError>,
}

impl Checker {
    pub(crate) fn non_negative(&mut self, field: &str, value: Decimal) {
        if value.is_sign_negative() && !value.is_zero() {
            self.errors.push(PolicyError::Negative {
                field: field.to_owned(),
                value,
            });
        }
    }

    pub(crate) fn positive(&mut self, field: &str, value: Decimal) {
        if value <= Decimal::ZERO {
            self.errors.push(PolicyError::NotPositive {
                field: field.to_owned(),
                value,
            });
        }
    }

    pub(crate) fn below(&mut self, low_field: &str, low: Decimal, high_field: &str, high: Decimal) {
        if low >= high {
            self.errors.push(PolicyError::LowNotBelowHigh {
                low_field: low_field.to_owned(),
                low,
                high_field: high_field.to_owned(),
                high,
            });
        }
    }

    pub(crate) fn non_empty<T>(&mut self, field: &str, items: &[T]) {
        if items.is_empty() {
            self.errors.push(PolicyError::Empty {
                field: field.to_owned(),
            });
        }
    }

    pub(crate) fn no_duplicates<T: ToString + PartialEq>(&mut self, field: &str, items: &[T]) {
        for (index, item) in items.iter().enumerate() {
            if items[..index].contains(item) {
                self.errors.push(PolicyError::Duplicate {
                    field: field.to_owned(),
                    value: item.to_string(),
                });
            }
        }
    }

    pub(crate) fn finish(self) -> Result<(), PolicyErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(PolicyErrors(self.errors))
        }
    }
}

/// Why one case could not be valued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValuationError {
    #[error("{field} is {value}, it must not be negative")]
    NegativeAmount { field: &'static str, value: Decimal },
    #[error("discharge date {discharge} is before admission date {admission}")]
    DischargeBeforeAdmission {
        admission: String,
        discharge: String,
    },
    #[error("discharge type {code} is not one of 1, 2, 3, 4, 5, 9")]
    UnknownDischargeType { code: u8 },
    #[error("case fund type {case} does not match the policy's fund type {policy}")]
    FundTypeMismatch { case: String, policy: String },
    #[error("tables are for {tables}, the policy is for {policy}")]
    TablesDoNotMatchPolicy { tables: String, policy: String },
    #[error("case was grouped under {case}, the region pays by {policy}")]
    SchemeMismatch {
        case: &'static str,
        policy: &'static str,
    },
    #[error("the policy values cases on in-policy cost, the case has none")]
    MissingInPolicyCost,
    #[error("no {programme} per-diem standard for level {level} in phase {phase:?}")]
    NoPerDiemStandard {
        programme: &'static str,
        phase: String,
        level: HospitalLevel,
    },
    #[error("no day-surgery price for procedure {code:?}")]
    NoDaySurgeryPrice { code: String },
    #[error("no fixed rate for disease {code:?} at level {level}")]
    NoFixedRate { code: String, level: HospitalLevel },
    #[error("DIP group {group:?} has no score in the table and none came with the case")]
    MissingDipScore { group: String },
    #[error("DIP group {group:?} has no same-level reference cost for level {level}")]
    NoReferenceCost { group: String, level: HospitalLevel },
    #[error(
        "DIP group {group:?} is paid as a basic-level disease but the table gives it no \
         basic_level_reference (last year's mean over 2A and 2B hospitals)"
    )]
    NoBasicLevelReference { group: String },
    #[error("no DIP level coefficient for level {level}")]
    NoLevelCoefficient { level: HospitalLevel },
    #[error("DIP auxiliary coefficient is {value}, it must be greater than zero")]
    InvalidAuxCoefficient { value: Decimal },
    #[error(
        "the policy's modes.basic_level.coefficient {stated} differs from the table's {level} \
         coefficient {table}: basic-level groups take the table's; remove the policy's"
    )]
    BasicLevelCoefficientDiffers {
        stated: Decimal,
        table: Decimal,
        level: HospitalLevel,
    },
    #[error("{what} is zero, cases cannot be compared with it")]
    ZeroMean { what: String },
    #[error("case is listed twice in the batch, first at record {first_index}")]
    DuplicateCase { first_index: usize },
}

impl ValuationError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            ValuationError::NegativeAmount { .. } => "NEGATIVE_AMOUNT",
            ValuationError::DischargeBeforeAdmission { .. } => "DISCHARGE_BEFORE_ADMISSION",
            ValuationError::UnknownDischargeType { .. } => "UNKNOWN_DISCHARGE_TYPE",
            ValuationError::FundTypeMismatch { .. } => "FUND_TYPE_MISMATCH",
            ValuationError::TablesDoNotMatchPolicy { .. } => "TABLES_DO_NOT_MATCH_POLICY",
            ValuationError::SchemeMismatch { .. } => "SCHEME_MISMATCH",
            ValuationError::MissingInPolicyCost => "MISSING_IN_POLICY_COST",
            ValuationError::NoPerDiemStandard { .. } => "NO_PER_DIEM_STANDARD",
            ValuationError::NoDaySurgeryPrice { .. } => "NO_DAY_SURGERY_PRICE",
            ValuationError::NoFixedRate { .. } => "NO_FIXED_RATE",
            ValuationError::MissingDipScore { .. } => "MISSING_DIP_SCORE",
            ValuationError::NoReferenceCost { .. } => "NO_REFERENCE_COST",
            ValuationError::NoBasicLevelReference { .. } => "NO_BASIC_LEVEL_REFERENCE",
            ValuationError::NoLevelCoefficient { .. } => "NO_LEVEL_COEFFICIENT",
            ValuationError::InvalidAuxCoefficient { .. } => "INVALID_AUX_COEFFICIENT",
            ValuationError::BasicLevelCoefficientDiffers { .. } => {
                "BASIC_LEVEL_COEFFICIENT_DIFFERS"
            }
            ValuationError::ZeroMean { .. } => "ZERO_MEAN_COST",
            ValuationError::DuplicateCase { .. } => "DUPLICATE_CASE",
        }
    }
}
