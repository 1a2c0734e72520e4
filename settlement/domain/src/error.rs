//! The settlement domain's errors, each with a stable machine-readable `reason()`.
//!
//! Settlement-list validation does not use these: it returns every violation of a list as data
//! ([`crate::validation::Violation`]). These are the errors of the calculations and workflows;
//! batch calculations return all of them at once (`Vec<SettlementError>`), one per bad record.

use kernel::{Money, Points};

/// What a port (grouping, points, budget over gRPC) reported when it could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{port} could not answer: {message}")]
pub struct PortError {
    /// Which port failed (e.g. `"case_valuer"`).
    pub port: &'static str,
    /// Stable reason from the other context (e.g. `"NO_VALUATION_TABLE"`), or `"UNAVAILABLE"`.
    pub reason: String,
    pub message: String,
}

/// A bad input or an illegal step in a settlement calculation or workflow.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettlementError {
    #[error("{record}: {field} is negative ({value})")]
    NegativeAmount {
        record: String,
        field: &'static str,
        value: Money,
    },
    #[error("{record}: {field} is negative ({value})")]
    NegativePoints {
        record: String,
        field: &'static str,
        value: Points,
    },
    #[error("{record}: {field} = {value} lies outside {allowed}")]
    ParameterOutOfRange {
        record: String,
        field: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("hospital {hospital_code} appears more than once")]
    DuplicateHospital { hospital_code: String },
    #[error("hospital {hospital_code} has no monthly quota, required in hospital-cap mode")]
    MissingMonthlyQuota { hospital_code: String },
    #[error(
        "case {hospital_code}/{list_id} names hospital {hospital_code} that has no clearing record"
    )]
    UnknownHospital {
        hospital_code: String,
        list_id: String,
    },
    #[error("the year has no points to divide the budget over")]
    NoPoints,
    #[error("{record}: a {mode} case has no standard amount stored; revalue it before paying it")]
    MissingStandardAmount { record: String, mode: &'static str },
    #[error(
        "the distributable budget {budget} is below what the money modes and special cases are owed first ({paid_first})"
    )]
    BudgetBelowMoneyModes { budget: Money, paid_first: Money },
    #[error(
        "the points-paid cases have no total cost, so the reimbursement ratio (fund paid / total cost) does not exist"
    )]
    NoReimbursementRatio,
    #[error(
        "{region} {year} fund {fund}: the history years {years} hold no DIP-paid case in a group \
         with a score, so no budget point value can be computed"
    )]
    NoHistoryScores {
        region: String,
        year: i32,
        fund: String,
        years: String,
    },
    #[error("{record}: a {mode} case has no {field} stored with its valuation; revalue it")]
    MissingCaseScore {
        record: String,
        mode: &'static str,
        field: &'static str,
    },
    #[error("{record}: {source}")]
    Port {
        record: String,
        #[source]
        source: PortError,
    },
    #[error("history of {code}: version effective {effective_from} is not after the previous one")]
    HistoryOutOfOrder {
        code: String,
        effective_from: String,
    },
    #[error("agreement {agreement_id}: ends {end} before it starts {start}")]
    AgreementPeriod {
        agreement_id: String,
        start: String,
        end: String,
    },
    #[error("special case {application_id}: cannot {action} while {state}")]
    IllegalTransition {
        application_id: String,
        action: &'static str,
        state: &'static str,
    },
    #[error(
        "special case {application_id}: {needed} eligible reviewers needed, {available} available"
    )]
    NotEnoughReviewers {
        application_id: String,
        needed: usize,
        available: usize,
    },
    #[error("special case {application_id}: {expert_id} is not an assigned reviewer")]
    ReviewerNotAssigned {
        application_id: String,
        expert_id: String,
    },
    #[error("special case {application_id}: the application names no material")]
    NoMaterial { application_id: String },
    #[error("special cases of {hospital_code}: {used} + 1 would exceed the quota of {limit}")]
    QuotaExceeded {
        hospital_code: String,
        used: u64,
        limit: String,
    },
    #[error("statement {statement_id}: an objection needs at least one reason")]
    ObjectionWithoutReason { statement_id: String },
    #[error("statement {statement_id}: cannot {action} while {state}")]
    DisputeTransition {
        statement_id: String,
        action: &'static str,
        state: &'static str,
    },
    #[error(
        "hospital {hospital_code}: violation deductions of {amount} are typed in, but this server \
         deducts supervision's confirmed findings; store the year inputs again without them"
    )]
    TypedViolationDeductions {
        hospital_code: String,
        amount: Money,
    },
    #[error(
        "hospital {hospital_code}: supervision deducts {amount} but its findings add up to {findings}"
    )]
    DeductionFindingsMismatch {
        hospital_code: String,
        amount: Money,
        findings: Money,
    },
}

impl SettlementError {
    /// Stable machine-readable reason, sent as `ErrorInfo.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            SettlementError::NegativeAmount { .. } => "NEGATIVE_AMOUNT",
            SettlementError::NegativePoints { .. } => "NEGATIVE_POINTS",
            SettlementError::ParameterOutOfRange { .. } => "PARAMETER_OUT_OF_RANGE",
            SettlementError::DuplicateHospital { .. } => "DUPLICATE_HOSPITAL",
            SettlementError::MissingMonthlyQuota { .. } => "MISSING_MONTHLY_QUOTA",
            SettlementError::UnknownHospital { .. } => "UNKNOWN_HOSPITAL",
            SettlementError::NoPoints => "NO_POINTS",
            SettlementError::MissingStandardAmount { .. } => "MISSING_STANDARD_AMOUNT",
            SettlementError::NoReimbursementRatio => "NO_REIMBURSEMENT_RATIO",
            SettlementError::NoHistoryScores { .. } => "NO_HISTORY_SCORES",
            SettlementError::MissingCaseScore { .. } => "MISSING_CASE_SCORE",
            SettlementError::BudgetBelowMoneyModes { .. } => "BUDGET_BELOW_MONEY_MODES",
            SettlementError::Port { .. } => "PORT_FAILED",
            SettlementError::HistoryOutOfOrder { .. } => "HISTORY_OUT_OF_ORDER",
            SettlementError::AgreementPeriod { .. } => "AGREEMENT_PERIOD_INVERTED",
            SettlementError::IllegalTransition { .. } => "ILLEGAL_TRANSITION",
            SettlementError::NotEnoughReviewers { .. } => "NOT_ENOUGH_REVIEWERS",
            SettlementError::ReviewerNotAssigned { .. } => "REVIEWER_NOT_ASSIGNED",
            SettlementError::NoMaterial { .. } => "NO_MATERIAL",
            SettlementError::QuotaExceeded { .. } => "SPECIAL_CASE_QUOTA_EXCEEDED",
            SettlementError::ObjectionWithoutReason { .. } => "OBJECTION_WITHOUT_REASON",
            SettlementError::DisputeTransition { .. } => "ILLEGAL_DISPUTE_TRANSITION",
            SettlementError::TypedViolationDeductions { .. } => "TYPED_VIOLATION_DEDUCTIONS",
            SettlementError::DeductionFindingsMismatch { .. } => "DEDUCTION_FINDINGS_MISMATCH",
        }
    }
}
