//! Requests read into what the service works with (every violation at once), and answers written.

use kernel::{FundType, RegionCode, YearMonth};
use medpay_proto::common::v1 as common;
use medpay_proto::supervision::v1 as pb;
use platform::wire::{self, Violation};
use supervision_domain::rule_parameters::rule_parameters_json;
use supervision_domain::{
    Decision, Finding, FindingStatus, RuleId, RuleLevel, ScreeningPolicy, Subject, TableKind,
};

use crate::error::Error;
use crate::store::{FindingFilter, StoredFinding};

mod changes;
pub use changes::*;

fn finish<T>(value: Option<T>, violations: Vec<Violation>) -> Result<T, Error> {
    match value {
        Some(value) if violations.is_empty() => Ok(value),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

fn required_request_id(request_id: &str, violations: &mut Vec<Violation>) {
    if request_id.trim().is_empty() {
        violations.push((
            "request_id".into(),
            "is required: it makes a retry safe".into(),
        ));
    }
}

/// A rule named by its id (`split_admission`) or its number (`1`).
pub fn rule_from_text(text: &str) -> Option<RuleId> {
    let text = text.trim();
    match text.parse::<u8>() {
        Ok(number) => RuleId::from_number(number),
        Err(_) => RuleId::ALL.iter().copied().find(|rule| rule.slug() == text),
    }
}

/// The year whose policy applies: the request's, or the latest when it gives none.
pub fn policy_year(year: i32) -> Result<i32, Error> {
    if year == 0 {
        Ok(i32::MAX)
    } else {
        wire::year("year", year).map_err(|violation| Error::InvalidArgument(vec![violation]))
    }
}

/// The period a screening run covers.
pub fn screened_month(request: &pb::ScreenCasesRequest) -> Result<YearMonth, Error> {
    let mut violations = Vec::new();
    required_request_id(&request.request_id, &mut violations);
    let month = wire::year_month(
        "month",
        Some(&common::YearMonth {
            year: request.year,
            month: request.month,
        }),
    )
    .map_err(|violation| violations.push(violation))
    .ok();
    finish(month, violations)
}

/// What ListFindings asks for: the period, the run version (0 for the latest), the filter.
pub struct FindingsQuery {
    pub period: YearMonth,
    pub run_version: i32,
    pub filter: FindingFilter,
}

impl TryFrom<&pb::ListFindingsRequest> for FindingsQuery {
    type Error = Error;

    fn try_from(request: &pb::ListFindingsRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let period = wire::year_month("period", request.period.as_ref())
            .map_err(|violation| violations.push(violation))
            .ok();
        if request.run_version < 0 {
            violations.push(("run_version".into(), "is negative".into()));
        }
        let rule = match request.rule_id.trim() {
            "" => None,
            text => {
                let rule = rule_from_text(text);
                if rule.is_none() {
                    violations.push((
                        "rule_id".into(),
                        format!("{text:?} is neither a rule id nor a number 1-23"),
                    ));
                }
                rule
            }
        };
        let status = match request.status.trim() {
            "" => None,
            text => {
                let status = FindingStatus::parse(text);
                if status.is_none() {
                    violations.push((
                        "status".into(),
                        "is one of open, confirmed, dismissed".into(),
                    ));
                }
                status
            }
        };
        let hospital_code = match request.hospital_code.trim() {
            "" => None,
            code => Some(code.to_owned()),
        };
        let query = period.map(|period| FindingsQuery {
            period,
            run_version: request.run_version,
            filter: FindingFilter {
                rule,
                hospital_code,
                status,
            },
        });
        finish(query, violations)
    }
}

/// A reviewer's decision as the request gives it.
pub struct ReviewRequest {
    pub finding_id: String,
    pub decision: Decision,
    pub reason: String,
}

impl TryFrom<&pb::ReviewFindingRequest> for ReviewRequest {
    type Error = Error;

    fn try_from(request: &pb::ReviewFindingRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        required_request_id(&request.request_id, &mut violations);
        if request.finding_id.trim().is_empty() {
            violations.push(("finding_id".into(), "is required".into()));
        }
        let decision = Decision::parse(request.decision.trim());
        if decision.is_none() {
            violations.push(("decision".into(), "is confirmed or dismissed".into()));
        }
        if request.reason.trim().is_empty() {
            violations.push((
                "reason".into(),
                "is required: a decision is recorded with why".into(),
            ));
        }
        let review = decision.map(|decision| ReviewRequest {
            finding_id: request.finding_id.trim().to_owned(),
            decision,
            reason: request.reason.trim().to_owned(),
        });
        finish(review, violations)
    }
}

pub fn level_to_wire(level: RuleLevel) -> i32 {
    match level {
        RuleLevel::Weak => pb::RuleLevel::Weak as i32,
        RuleLevel::General => pb::RuleLevel::General as i32,
        RuleLevel::Strong => pb::RuleLevel::Strong as i32,
    }
}

fn table_name(table: TableKind) -> &'static str {
    match table {
        TableKind::Items => "items",
        TableKind::ExclusivePairs => "exclusive_pairs",
        TableKind::Packages => "packages",
        TableKind::Substitutions => "substitutions",
        TableKind::GroupMeans => "group_means",
    }
}

/// A rule of the library as `policy` runs it; `parameters_json` is the policy's parameters.
pub fn rule_to_wire(rule: RuleId, policy: &ScreeningPolicy, parameters_json: &str) -> pb::Rule {
    pb::Rule {
        rule_id: rule.slug().to_owned(),
        name: rule.name_en().to_owned(),
        level: level_to_wire(policy.level(rule)),
        parameters_json: parameters_json.to_owned(),
        number: u32::from(rule.number()),
        name_zh: rule.name_zh().to_owned(),
        enabled: policy.is_enabled(rule),
        tables: rule
            .tables()
            .iter()
            .map(|t| table_name(*t).to_owned())
            .collect(),
        rule_parameters_json: rule_parameters_json(rule, &policy.parameters).to_string(),
        level_changes: Vec::new(),
    }
}

/// A finding of a run about to be stored; the store gives it its id and version. `case` is the
/// fund and pooling region of the list it is on (`None` for a finding on a hospital, which is
/// kept under the run's region and no fund).
pub fn finding_to_store(
    finding: Finding,
    (region, period): (RegionCode, YearMonth),
    case: Option<(FundType, RegionCode)>,
    seq: i32,
) -> StoredFinding {
    let list_id = match &finding.subject {
        Subject::Settlement(key) => key.id.clone(),
        Subject::Hospital(_) => String::new(),
    };
    let (other_hospital_code, other_list_id) = finding
        .other
        .map(|key| (key.hospital, key.id))
        .unwrap_or_default();
    StoredFinding {
        finding_id: String::new(),
        region,
        period,
        run_version: 0,
        seq,
        rule: finding.rule,
        level: finding.level,
        hospital_code: finding.subject.hospital().to_owned(),
        list_id,
        arm: finding.arm.as_str().to_owned(),
        item_code: finding.item.unwrap_or_default(),
        date: finding.date,
        other_hospital_code,
        other_list_id,
        fee_lines: finding.lines,
        evidence: finding.evidence,
        amount: finding.amount,
        status: FindingStatus::Open,
        reviewer: String::new(),
        review_reason: String::new(),
        fund: case.map(|(fund, _)| fund),
        case_region: case.map_or(region, |(_, case_region)| case_region),
        response: String::new(),
        responder: String::new(),
        responded_before_review: false,
    }
}

pub fn finding_to_wire(finding: &StoredFinding) -> pb::Finding {
    pb::Finding {
        finding_id: finding.finding_id.clone(),
        rule_id: finding.rule.slug().to_owned(),
        hospital_code: finding.hospital_code.clone(),
        list_id: finding.list_id.clone(),
        amount: finding.amount.to_string(),
        status: finding.status.as_str().to_owned(),
        rule_number: u32::from(finding.rule.number()),
        level: level_to_wire(finding.level),
        arm: finding.arm.clone(),
        item_code: finding.item_code.clone(),
        date: finding.date.map(wire::wire_date),
        other_hospital_code: finding.other_hospital_code.clone(),
        other_list_id: finding.other_list_id.clone(),
        fee_lines: finding.fee_lines.clone(),
        evidence: finding.evidence.clone(),
        period: Some(common::YearMonth {
            year: finding.period.year(),
            month: i32::try_from(finding.period.month()).unwrap_or_default(),
        }),
        run_version: finding.run_version,
        reviewer: finding.reviewer.clone(),
        review_reason: finding.review_reason.clone(),
        fund_type: finding.fund.map_or(0, wire::fund_type_to_wire),
        response: finding.response.clone(),
        responder: finding.responder.clone(),
        responded_before_review: finding.responded_before_review,
    }
}
