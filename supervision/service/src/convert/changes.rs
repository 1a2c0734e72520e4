//! Requests that change a region's rules, answer a finding or list deductions, read into what
//! the service works with (every violation at once), and their answers written.

use kernel::{FundType, RegionCode};
use medpay_proto::supervision::v1 as pb;
use platform::wire::{self, Violation};
use supervision_domain::lifecycle::LevelChange;
use supervision_domain::rule_parameters::read_rule_parameters;
use supervision_domain::{HospitalDeduction, Override, RuleId, RuleLevel};

use super::{finish, level_to_wire, required_request_id, rule_from_text};
use crate::error::Error;

/// The longest response a hospital may give, in characters.
pub const RESPONSE_MAX_CHARS: usize = 4000;

fn year(value: i32, violations: &mut Vec<Violation>) -> Option<i32> {
    wire::year("year", value)
        .map_err(|violation| violations.push(violation))
        .ok()
}

fn rule(text: &str, violations: &mut Vec<Violation>) -> Option<RuleId> {
    let rule = rule_from_text(text);
    if rule.is_none() {
        violations.push((
            "rule_id".into(),
            format!("{:?} is neither a rule id nor a number 1-23", text.trim()),
        ));
    }
    rule
}

fn required(field: &str, value: &str, why: &str, violations: &mut Vec<Violation>) {
    if value.trim().is_empty() {
        violations.push((field.into(), format!("is required: {why}")));
    }
}

/// A level change as the request asks for it.
pub struct LevelChangeRequest {
    pub year: i32,
    pub rule: RuleId,
    pub level: RuleLevel,
    pub reason: String,
}

impl TryFrom<&pb::ChangeRuleLevelRequest> for LevelChangeRequest {
    type Error = Error;

    fn try_from(request: &pb::ChangeRuleLevelRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        required_request_id(&request.request_id, &mut violations);
        let year = year(request.year, &mut violations);
        let rule = rule(&request.rule_id, &mut violations);
        let level = match pb::RuleLevel::try_from(request.level) {
            Ok(pb::RuleLevel::Weak) => Some(RuleLevel::Weak),
            Ok(pb::RuleLevel::General) => Some(RuleLevel::General),
            Ok(pb::RuleLevel::Strong) => Some(RuleLevel::Strong),
            _ => {
                violations.push((
                    "level".into(),
                    format!(
                        "is {}; one of weak (1), general (2), strong (3)",
                        request.level
                    ),
                ));
                None
            }
        };
        required(
            "reason",
            &request.reason,
            "a level change is recorded with why",
            &mut violations,
        );
        let change = match (year, rule, level) {
            (Some(year), Some(rule), Some(level)) => Some(LevelChangeRequest {
                year,
                rule,
                level,
                reason: request.reason.trim().to_owned(),
            }),
            _ => None,
        };
        finish(change, violations)
    }
}

/// A rule's parameters as the request sets them.
pub struct ParametersRequest {
    pub year: i32,
    pub rule: RuleId,
    pub overrides: Vec<Override>,
}

impl TryFrom<&pb::SetRuleParametersRequest> for ParametersRequest {
    type Error = Error;

    fn try_from(request: &pb::SetRuleParametersRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        required_request_id(&request.request_id, &mut violations);
        let year = year(request.year, &mut violations);
        let rule = rule(&request.rule_id, &mut violations);
        let overrides = rule.and_then(|rule| {
            read_rule_parameters(rule, &request.parameters_json)
                .map_err(|errors| {
                    violations.extend(errors.into_iter().map(|error| {
                        let field = match error.name.as_str() {
                            "" => "parameters_json".to_owned(),
                            name => format!("parameters_json.{name}"),
                        };
                        (field, error.reason)
                    }));
                })
                .ok()
        });
        let set = match (year, rule, overrides) {
            (Some(year), Some(rule), Some(overrides)) => Some(ParametersRequest {
                year,
                rule,
                overrides,
            }),
            _ => None,
        };
        finish(set, violations)
    }
}

/// A response to a finding as the request gives it.
pub struct FindingResponse {
    pub finding_id: String,
    pub text: String,
}

impl TryFrom<&pb::RespondToFindingRequest> for FindingResponse {
    type Error = Error;

    fn try_from(request: &pb::RespondToFindingRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        required_request_id(&request.request_id, &mut violations);
        required(
            "finding_id",
            &request.finding_id,
            "the finding answered",
            &mut violations,
        );
        required(
            "text",
            &request.text,
            "the hospital's response",
            &mut violations,
        );
        let length = request.text.trim().chars().count();
        if length > RESPONSE_MAX_CHARS {
            violations.push((
                "text".into(),
                format!("has {length} characters; at most {RESPONSE_MAX_CHARS}"),
            ));
        }
        let response = FindingResponse {
            finding_id: request.finding_id.trim().to_owned(),
            text: request.text.trim().to_owned(),
        };
        finish(Some(response), violations)
    }
}

/// What ListDeductions asks for.
pub struct DeductionsQuery {
    pub year: i32,
    pub fund: FundType,
    pub hospital: Option<String>,
}

impl TryFrom<&pb::ListDeductionsRequest> for DeductionsQuery {
    type Error = Error;

    fn try_from(request: &pb::ListDeductionsRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let year = year(request.year, &mut violations);
        let fund = wire::fund_type("fund_type", request.fund_type)
            .map_err(|violation| violations.push(violation))
            .ok();
        let hospital = Some(request.hospital_code.trim())
            .filter(|code| !code.is_empty())
            .map(str::to_owned);
        let query = match (year, fund) {
            (Some(year), Some(fund)) => Some(DeductionsQuery {
                year,
                fund,
                hospital,
            }),
            _ => None,
        };
        finish(query, violations)
    }
}

fn region_text(region: RegionCode) -> String {
    region.to_string()
}

pub fn level_change_to_wire(change: &LevelChange) -> pb::RuleLevelChange {
    pb::RuleLevelChange {
        region_code: region_text(change.region),
        year: change.year,
        rule_id: change.rule.slug().to_owned(),
        rule_number: u32::from(change.rule.number()),
        from_level: level_to_wire(change.from),
        to_level: level_to_wire(change.to),
        changed_by: change.changed_by.clone(),
        reason: change.reason.clone(),
        confirmed_findings: change.evidence.confirmed,
        dismissed_findings: change.evidence.dismissed,
    }
}

pub fn deduction_to_wire(deduction: HospitalDeduction) -> pb::HospitalDeduction {
    pb::HospitalDeduction {
        hospital_code: deduction.hospital_code,
        amount: deduction.amount.to_string(),
        findings: deduction
            .findings
            .into_iter()
            .map(|f| pb::DeductedFinding {
                finding_id: f.finding_id,
                rule_id: f.rule.slug().to_owned(),
                case_ids: f.case_ids,
                amount: f.amount.to_string(),
            })
            .collect(),
    }
}
