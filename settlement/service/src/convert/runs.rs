//! Requests of `SettlementRunService`.

use kernel::{Decimal, FundType, Money, YearMonth};
use medpay_proto::settlement::v1 as pb;
use platform::wire::{self, Violation};
use settlement_domain::budget_point_value::HistoryWeight;
use settlement_domain::clearing_assembly::YearInput;
use settlement_domain::policy::{PolicyScheme, SettlementPolicy};
use settlement_domain::prepayment::ProvisionalPointValue;

use crate::runs::PointValueChoice;
use tonic::Status;

use super::policy::policy_from_wire_or;
use super::{Violations, optional_decimal, optional_money};

/// The year and fund a request is keyed by.
fn year_and_fund(violations: &mut Violations, year: i32, fund: i32) -> Option<(i32, FundType)> {
    let year = violations.check(wire::year("year", year));
    let fund = violations.check(wire::fund_type("fund_type", fund));
    year.zip(fund)
}

/// A settlement policy to store: its key. The document itself is read in the write, over the
/// defaults of the region's main method ([`requested_policy`]); reading it here with the generic
/// defaults refuses a bad document before anything is written.
#[derive(Clone, Debug)]
pub struct PolicyRequest {
    pub year: i32,
    pub fund: FundType,
}

impl TryFrom<&pb::PutSettlementPolicyRequest> for PolicyRequest {
    type Error = Status;

    fn try_from(body: &pb::PutSettlementPolicyRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let key = year_and_fund(&mut violations, body.year, body.fund_type);
        let policy = match requested_policy(body, PolicyScheme::Generic) {
            Ok(policy) => Some(policy),
            Err(found) => {
                for (field, description) in found {
                    violations.push(field, description);
                }
                None
            }
        };
        violations.finish(|| {
            let ((year, fund), _) = key.zip(policy)?;
            Some(Self { year, fund })
        })
    }
}

/// The policy a put request gives, a document naming no scheme taking `default`'s defaults:
/// exactly one of the typed `policy` and `policy_json`, since two documents could disagree and
/// neither says nothing.
pub fn requested_policy(
    body: &pb::PutSettlementPolicyRequest,
    default: PolicyScheme,
) -> Result<SettlementPolicy, Vec<Violation>> {
    let one_form = "give exactly one of policy and policy_json";
    match (&body.policy, body.policy_json.trim().is_empty()) {
        (Some(_), false) => Err(["policy", "policy_json"]
            .map(|field| (field.to_owned(), one_form.to_owned()))
            .to_vec()),
        (Some(typed), true) => policy_from_wire_or("policy", typed, default),
        (None, true) => Err(vec![("policy".to_owned(), one_form.to_owned())]),
        (None, false) => SettlementPolicy::from_document_or(&body.policy_json, default)
            .map_err(|description| vec![("policy_json".to_owned(), description)]),
    }
}

/// Hospital year inputs to store, read field by field; registration is checked against the
/// registry by the caller, which adds its violations to these.
#[derive(Debug)]
pub struct YearInputsRequest {
    pub key: Option<(i32, FundType)>,
    /// In request order, every hospital with its readable values.
    pub inputs: Vec<YearInput>,
    pub violations: Violations,
}

impl From<&pb::PutHospitalYearInputsRequest> for YearInputsRequest {
    fn from(body: &pb::PutHospitalYearInputsRequest) -> Self {
        let mut violations = Violations::default();
        let key = year_and_fund(&mut violations, body.year, body.fund_type);
        let mut inputs: Vec<YearInput> = Vec::new();
        for (index, h) in body.hospitals.iter().enumerate() {
            let at = |field: &str| format!("hospitals[{index}].{field}");
            if h.hospital_code.trim().is_empty() {
                violations.push(at("hospital_code"), "is required");
            }
            if inputs.iter().any(|i| i.hospital_code == h.hospital_code) {
                violations.push(
                    at("hospital_code"),
                    format!("{} is listed twice", h.hospital_code),
                );
            }
            let field = at("assessment_coefficient");
            let coefficient = match optional_decimal(&field, h.assessment_coefficient.as_ref()) {
                Ok(Some(value)) if value.is_sign_negative() => {
                    violations.push(field, "must not be negative");
                    Decimal::ONE
                }
                Ok(value) => value.unwrap_or(Decimal::ONE),
                Err((_, description)) => {
                    violations.push(field, description);
                    Decimal::ONE
                }
            };
            let mut amount = |name: &str, value| -> Money {
                let field = at(name);
                match optional_money(&field, value) {
                    Ok(Some(money)) if money.is_negative() => {
                        violations.push(field, "must not be negative");
                        Money::ZERO
                    }
                    Ok(money) => money.unwrap_or(Money::ZERO),
                    Err((_, description)) => {
                        violations.push(field, description);
                        Money::ZERO
                    }
                }
            };
            let violation_deductions =
                amount("violation_deductions", h.violation_deductions.as_ref());
            let deposit_returned = amount("deposit_returned", h.deposit_returned.as_ref());
            let field = at("assessment_score");
            let assessment_score = match optional_decimal(&field, h.assessment_score.as_ref()) {
                Ok(Some(score)) if score.is_sign_negative() || score > Decimal::ONE_HUNDRED => {
                    violations.push(field, format!("{score} is outside 0 to 100"));
                    None
                }
                Ok(Some(score)) if h.deposit_returned.is_some() => {
                    violations.push(
                        field,
                        "and deposit_returned are both given: the score returns the deposit",
                    );
                    Some(score)
                }
                Ok(score) => score,
                Err((_, description)) => {
                    violations.push(field, description);
                    None
                }
            };
            inputs.push(YearInput {
                hospital_code: h.hospital_code.clone(),
                assessment_coefficient: coefficient,
                violation_deductions,
                deposit_returned,
                assessment_score,
            });
        }
        Self {
            key,
            inputs,
            violations,
        }
    }
}

/// A monthly prepayment to run.
#[derive(Clone, Debug)]
pub struct PrepaymentRequest {
    pub month: YearMonth,
    pub fund: FundType,
    pub point_value: PointValueChoice,
    pub skip_unvalued: bool,
}

impl TryFrom<&pb::RunPrepaymentRequest> for PrepaymentRequest {
    type Error = Status;

    fn try_from(body: &pb::RunPrepaymentRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let month = violations.check(wire::year_month("period", body.period.as_ref()));
        let fund = violations.check(wire::fund_type("fund_type", body.fund_type));
        let published = violations.check(optional_decimal(
            "provisional_point_value",
            body.provisional_point_value.as_ref(),
        ));
        let month_budget =
            violations.check(optional_money("month_budget", body.month_budget.as_ref()));
        let point_value = match (published.flatten(), month_budget.flatten()) {
            _ if body.use_published_point_value => {
                for (field, given) in [
                    (
                        "provisional_point_value",
                        body.provisional_point_value.is_some(),
                    ),
                    ("month_budget", body.month_budget.is_some()),
                ] {
                    if given {
                        violations.push(
                            field,
                            "must be absent when use_published_point_value is true",
                        );
                    }
                }
                Some(PointValueChoice::PublishedDipBudget)
            }
            (Some(value), _) => Some(ProvisionalPointValue::Published(value).into()),
            (None, Some(budget)) => Some(ProvisionalPointValue::FromMonthBudget(budget).into()),
            (None, None) => {
                if published.is_some() && month_budget.is_some() {
                    violations.push(
                        "provisional_point_value",
                        "is required when month_budget is absent and \
                         use_published_point_value is false",
                    );
                }
                None
            }
        };
        violations.finish(|| {
            Some(Self {
                month: month?,
                fund: fund?,
                point_value: point_value?,
                skip_unvalued: body.skip_unvalued,
            })
        })
    }
}

/// A DIP budget point value to publish.
#[derive(Clone, Debug)]
pub struct PublishPointValueRequest {
    pub year: i32,
    pub fund: FundType,
    /// `None`: the settlement policy's history.
    pub history: Option<Vec<HistoryWeight>>,
}

impl TryFrom<&pb::PublishDipBudgetPointValueRequest> for PublishPointValueRequest {
    type Error = Status;

    fn try_from(body: &pb::PublishDipBudgetPointValueRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let key = year_and_fund(&mut violations, body.year, body.fund_type);
        let mut history = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (index, entry) in body.history.iter().enumerate() {
            let at = |field: &str| format!("history[{index}].{field}");
            let weight = match optional_decimal(&at("weight"), entry.weight.as_ref()) {
                Ok(Some(weight)) if weight > Decimal::ZERO => Some(weight),
                Ok(Some(weight)) => {
                    violations.push(at("weight"), format!("{weight} must be greater than 0"));
                    None
                }
                Ok(None) => {
                    violations.push(at("weight"), "is required");
                    None
                }
                Err((field, description)) => {
                    violations.push(field, description);
                    None
                }
            };
            if let Some((year, _)) = key
                && entry.year >= year
            {
                violations.push(
                    at("year"),
                    format!("{} is not before the value's year {year}", entry.year),
                );
            }
            if !seen.insert(entry.year) {
                violations.push(at("year"), format!("{} is listed twice", entry.year));
            }
            if let Some(weight) = weight {
                history.push(HistoryWeight {
                    year: entry.year,
                    weight,
                });
            }
        }
        violations.finish(|| {
            let (year, fund) = key?;
            Some(Self {
                year,
                fund,
                history: (!body.history.is_empty()).then_some(history),
            })
        })
    }
}

/// A published DIP budget point value to read.
#[derive(Clone, Copy, Debug)]
pub struct PointValueQuery {
    pub year: i32,
    pub fund: FundType,
    /// `None`: the latest.
    pub version: Option<i32>,
}

impl TryFrom<&pb::GetDipBudgetPointValueRequest> for PointValueQuery {
    type Error = Status;

    fn try_from(body: &pb::GetDipBudgetPointValueRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let key = year_and_fund(&mut violations, body.year, body.fund_type);
        if body.version < 0 {
            violations.push("version", format!("{} is negative", body.version));
        }
        violations.finish(|| {
            let (year, fund) = key?;
            Some(Self {
                year,
                fund,
                version: (body.version > 0).then_some(body.version),
            })
        })
    }
}

/// A month to close.
#[derive(Clone, Copy, Debug)]
pub struct MonthRequest {
    pub month: YearMonth,
    pub fund: FundType,
}

impl TryFrom<&pb::CloseMonthRequest> for MonthRequest {
    type Error = Status;

    fn try_from(body: &pb::CloseMonthRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let month = violations.check(wire::year_month("period", body.period.as_ref()));
        let fund = violations.check(wire::fund_type("fund_type", body.fund_type));
        violations.finish(|| {
            Some(Self {
                month: month?,
                fund: fund?,
            })
        })
    }
}

/// A year-end clearing to run.
#[derive(Clone, Debug)]
pub struct ClearingRequest {
    pub year: i32,
    pub fund: FundType,
    pub distributable_budget: Money,
    pub skip_unvalued: bool,
}

impl TryFrom<&pb::RunClearingRequest> for ClearingRequest {
    type Error = Status;

    fn try_from(body: &pb::RunClearingRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let key = year_and_fund(&mut violations, body.year, body.fund_type);
        let budget = violations.check(wire::money(
            "distributable_budget",
            body.distributable_budget.as_ref(),
        ));
        violations.finish(|| {
            let (year, fund) = key?;
            Some(Self {
                year,
                fund,
                distributable_budget: budget?,
                skip_unvalued: body.skip_unvalued,
            })
        })
    }
}

/// A shadow settlement to run over whole months.
#[derive(Clone, Copy, Debug)]
pub struct ShadowRequest {
    pub fund: FundType,
    pub from: YearMonth,
    pub to: YearMonth,
    pub point_value: Decimal,
}

impl ShadowRequest {
    /// The inclusive `yyyymmdd` range of the months.
    pub fn discharges(&self) -> (i32, i32) {
        (self.from.as_int() * 100 + 1, self.to.as_int() * 100 + 31)
    }
}

impl TryFrom<&pb::RunShadowSettlementRequest> for ShadowRequest {
    type Error = Status;

    fn try_from(body: &pb::RunShadowSettlementRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let fund = violations.check(wire::fund_type("fund_type", body.fund_type));
        let from = violations.check(wire::year_month("from", body.from.as_ref()));
        let to = violations.check(wire::year_month("to", body.to.as_ref()));
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            violations.push(
                "to",
                format!("{} is before from {}", to.as_int(), from.as_int()),
            );
        }
        let point_value = violations
            .check(optional_decimal("point_value", body.point_value.as_ref()))
            .and_then(|value| {
                if value.is_none() {
                    violations.push("point_value", "is required");
                }
                value
            });
        violations.finish(|| {
            Some(Self {
                fund: fund?,
                from: from?,
                to: to?,
                point_value: point_value?,
            })
        })
    }
}

/// The kind filter of `ListRuns`: empty lists every kind.
pub fn run_kind(kind: &str) -> Result<Option<&'static str>, Status> {
    use crate::runs::store::kind;
    match kind {
        "" => Ok(None),
        kind::PREPAYMENT => Ok(Some(kind::PREPAYMENT)),
        kind::CLEARING => Ok(Some(kind::CLEARING)),
        kind::OUTPATIENT => Ok(Some(kind::OUTPATIENT)),
        kind::OUTPATIENT_PREPAYMENT => Ok(Some(kind::OUTPATIENT_PREPAYMENT)),
        other => {
            let mut violations = Violations::default();
            violations.push(
                "kind",
                format!(
                    "{other} is not a run kind: use prepayment, clearing, outpatient, \
                     outpatient_prepayment or empty"
                ),
            );
            violations.finish(|| None)
        }
    }
}
