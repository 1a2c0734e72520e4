//! The budget context's error type: every way an input or a policy can be refused, each with a
//! stable machine-readable reason. No transport codes here; the service crate maps them.

use kernel::{Decimal, Money};

/// Why a budget, allocation, quota, deposit or sharing calculation refused its input.
///
/// `field` names the offending field as a path (`overspend_bands[1].upper_ratio`), `record` names
/// the offending record (a hospital or alliance code, a month). Batch functions collect every bad
/// record and return them together in [`BudgetError::Several`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("{field} is {value}, outside {min}..={max}")]
    OutOfRange {
        field: String,
        value: Decimal,
        min: Decimal,
        max: Decimal,
    },
    #[error("{field}: {why}")]
    InvalidPolicy { field: String, why: &'static str },
    #[error("{field} bands are not sorted: band {index} does not lie above the band before it")]
    BandsNotSorted { field: String, index: usize },
    #[error(
        "{field} bands are not contiguous: band {index} starts at {found}, expected {expected}"
    )]
    BandsNotContiguous {
        field: String,
        index: usize,
        expected: Decimal,
        found: Decimal,
    },
    #[error("{field} of {record} is {value}, which is negative")]
    NegativeAmount {
        field: String,
        record: String,
        value: Decimal,
    },
    #[error("budget total {total} is negative")]
    NegativeBudget { total: Money },
    #[error("block shares add up to {total}, not exactly 1")]
    SharesDoNotAddUp { total: Decimal },
    #[error("block amounts add up to {sum}, not the budget total {total}")]
    AmountsDoNotAddUp { sum: Money, total: Money },
    #[error("block {block} appears more than once")]
    DuplicateBlock { block: &'static str },
    #[error("an adjustment needs a non-empty reason")]
    AdjustmentReasonRequired,
    #[error("an adjustment may not change {field} (budget {expected}, adjustment {found})")]
    AdjustmentChangesKey {
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error("a budget history has no version")]
    EmptyHistory,
    #[error("budget version {version} does not exist")]
    NoSuchVersion { version: u32 },
    #[error("the budget is in regional point mode: hospitals have no caps to allocate")]
    NoCapsInRegionalPointMode,
    #[error("{record} appears more than once")]
    DuplicateRecord { record: String },
    #[error("{record} has {found} history years, the policy weighs {expected}")]
    HistoryLengthMismatch {
        record: String,
        expected: usize,
        found: usize,
    },
    #[error("{field} of {record} is {value}, it must be greater than zero")]
    NotPositive {
        field: String,
        record: String,
        value: Decimal,
    },
    #[error("alliance {record} has no member hospitals")]
    EmptyAlliance { record: String },
    #[error("nothing to share out: {what}")]
    NothingToApportion { what: &'static str },
    #[error("{record}: unreasonable cost {unreasonable} exceeds the claim {claimed}")]
    DeductionExceedsClaim {
        record: String,
        claimed: Money,
        unreasonable: Money,
    },
    #[error("{record} is not a month of {year}")]
    MonthOutsideYear { record: String, year: i32 },
    #[error("assessment score {score} is outside 0..=100")]
    ScoreOutOfRange { score: Decimal },
    #[error("{record} is in fund {found}, the calculation is for fund {expected}")]
    MixedFunds {
        record: String,
        expected: String,
        found: String,
    },
    #[error("{what} is too large to compute exactly")]
    Overflow { what: &'static str },
    #[error("{} problems, first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Several(Vec<BudgetError>),
}

impl BudgetError {
    /// Stable machine-readable reason, sent as `ErrorInfo.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            BudgetError::OutOfRange { .. } => "VALUE_OUT_OF_RANGE",
            BudgetError::InvalidPolicy { .. } => "INVALID_POLICY",
            BudgetError::BandsNotSorted { .. } => "BANDS_NOT_SORTED",
            BudgetError::BandsNotContiguous { .. } => "BANDS_NOT_CONTIGUOUS",
            BudgetError::NegativeAmount { .. } => "NEGATIVE_AMOUNT",
            BudgetError::NegativeBudget { .. } => "NEGATIVE_BUDGET",
            BudgetError::SharesDoNotAddUp { .. } => "BLOCK_SHARES_DO_NOT_ADD_UP",
            BudgetError::AmountsDoNotAddUp { .. } => "BLOCK_AMOUNTS_DO_NOT_ADD_UP",
            BudgetError::DuplicateBlock { .. } => "DUPLICATE_BLOCK",
            BudgetError::AdjustmentReasonRequired => "ADJUSTMENT_REASON_REQUIRED",
            BudgetError::AdjustmentChangesKey { .. } => "ADJUSTMENT_CHANGES_KEY",
            BudgetError::EmptyHistory => "EMPTY_BUDGET_HISTORY",
            BudgetError::NoSuchVersion { .. } => "NO_SUCH_BUDGET_VERSION",
            BudgetError::NoCapsInRegionalPointMode => "NO_CAPS_IN_REGIONAL_POINT_MODE",
            BudgetError::DuplicateRecord { .. } => "DUPLICATE_RECORD",
            BudgetError::HistoryLengthMismatch { .. } => "HISTORY_LENGTH_MISMATCH",
            BudgetError::NotPositive { .. } => "NOT_POSITIVE",
            BudgetError::EmptyAlliance { .. } => "EMPTY_ALLIANCE",
            BudgetError::NothingToApportion { .. } => "NOTHING_TO_APPORTION",
            BudgetError::DeductionExceedsClaim { .. } => "DEDUCTION_EXCEEDS_CLAIM",
            BudgetError::MonthOutsideYear { .. } => "MONTH_OUTSIDE_YEAR",
            BudgetError::ScoreOutOfRange { .. } => "SCORE_OUT_OF_RANGE",
            BudgetError::MixedFunds { .. } => "MIXED_FUNDS",
            BudgetError::Overflow { .. } => "ARITHMETIC_OVERFLOW",
            BudgetError::Several(_) => "SEVERAL_PROBLEMS",
        }
    }

    /// Every individual problem: the error itself, or each one inside [`BudgetError::Several`].
    pub fn problems(&self) -> Vec<&BudgetError> {
        match self {
            BudgetError::Several(all) => all.iter().flat_map(BudgetError::problems).collect(),
            single => vec![single],
        }
    }

    /// One error for collected problems: the single problem itself, or `Several`.
    pub(crate) fn from_problems(mut problems: Vec<BudgetError>) -> BudgetError {
        if problems.len() == 1 {
            problems.remove(0)
        } else {
            BudgetError::Several(problems)
        }
    }

    /// Turns collected problems into a result: none is `Ok`, one is itself, more are `Several`.
    pub(crate) fn collect(mut problems: Vec<BudgetError>) -> Result<(), BudgetError> {
        match problems.len() {
            0 => Ok(()),
            1 => Err(problems.remove(0)),
            _ => Err(BudgetError::Several(problems)),
        }
    }
}

/// Checks `value` lies in `min..=max`, naming `field` otherwise.
pub(crate) fn check_range(
    problems: &mut Vec<BudgetError>,
    field: impl Into<String>,
    value: Decimal,
    min: Decimal,
    max: Decimal,
) {
    if value < min || value > max {
        problems.push(BudgetError::OutOfRange {
            field: field.into(),
            value,
            min,
            max,
        });
    }
}

/// Checks a rate lies in `0..=1`.
pub(crate) fn check_rate(
    problems: &mut Vec<BudgetError>,
    field: impl Into<String>,
    value: Decimal,
) {
    check_range(problems, field, value, Decimal::ZERO, Decimal::ONE);
}

/// Checks an amount of `record` is not negative.
pub(crate) fn check_not_negative(
    problems: &mut Vec<BudgetError>,
    field: &str,
    record: &str,
    value: Money,
) {
    if value.is_negative() {
        problems.push(BudgetError::NegativeAmount {
            field: field.to_owned(),
            record: record.to_owned(),
            value: value.value(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_flattens_and_keeps_every_reason() {
        let err = BudgetError::collect(vec![
            BudgetError::AdjustmentReasonRequired,
            BudgetError::Several(vec![BudgetError::ScoreOutOfRange {
                score: Decimal::from(101),
            }]),
        ])
        .expect_err("two problems");
        assert_eq!(err.reason(), "SEVERAL_PROBLEMS");
        let reasons: Vec<_> = err.problems().iter().map(|p| p.reason()).collect();
        assert_eq!(
            reasons,
            vec!["ADJUSTMENT_REASON_REQUIRED", "SCORE_OUT_OF_RANGE"]
        );
        assert!(err.to_string().starts_with("2 problems"));
    }

    #[test]
    fn one_problem_is_returned_as_itself() {
        let err = BudgetError::collect(vec![BudgetError::NoCapsInRegionalPointMode])
            .expect_err("one problem");
        assert_eq!(err, BudgetError::NoCapsInRegionalPointMode);
        assert_eq!(BudgetError::collect(Vec::new()), Ok(()));
    }
}
