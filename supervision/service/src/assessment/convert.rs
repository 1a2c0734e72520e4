//! The assessment service's requests read into the domain's terms and its answers written back.

use kernel::{Date, Decimal};
use medpay_proto::supervision::v1 as pb;
use platform::wire::{self, Violation};
use supervision_domain::assessment::{
    DEMO_SCORECARD, HospitalAssessment, Scorecard, ScoringRule, read_scorecard,
};
use supervision_domain::credit::{CreditPolicy, score_problem};
use supervision_domain::leads::{Lead, LeadChannel};

use crate::assessment_store::{
    StoredAssessment, StoredAssessmentRun, StoredCreditChange, StoredGroup, StoredItem,
    StoredScorecard,
};
use crate::credit_policy_store::StoredCreditPolicy;
use crate::error::Error;

/// Longest summary of a lead, in characters.
pub const SUMMARY_LIMIT: usize = 2_000;
/// Longest hospital code (the national fixmedins_code has 12 characters; room for local ones).
const HOSPITAL_CODE_LIMIT: usize = 30;

fn finish<T>(violations: Vec<Violation>, value: impl FnOnce() -> T) -> Result<T, Error> {
    if violations.is_empty() {
        Ok(value())
    } else {
        Err(Error::InvalidArgument(violations))
    }
}

/// The year of a request, or its violation.
pub fn year(value: i32) -> Result<i32, Error> {
    wire::year("year", value).map_err(|v| Error::InvalidArgument(vec![v]))
}

/// The scorecard a PutScorecard asks for: the document, or the demo one.
pub fn scorecard_of(body: &pb::PutScorecardRequest) -> Result<(i32, Scorecard), Error> {
    let mut violations = Vec::new();
    let year = wire::year("year", body.year)
        .map_err(|v| violations.push(v))
        .ok();
    let document = if body.use_demo {
        if !body.scorecard_json.trim().is_empty() {
            violations.push((
                "scorecard_json".to_owned(),
                "must be empty when use_demo is set".to_owned(),
            ));
        }
        DEMO_SCORECARD
    } else {
        body.scorecard_json.as_str()
    };
    let scorecard = match read_scorecard(document) {
        Ok(scorecard) => Some(scorecard),
        Err(problems) => {
            for problem in problems {
                let field = if problem.field == "scorecard" {
                    "scorecard_json".to_owned()
                } else {
                    format!("scorecard_json.{}", problem.field)
                };
                violations.push((field, problem.reason));
            }
            None
        }
    };
    match (year, scorecard) {
        (Some(year), Some(scorecard)) if violations.is_empty() => Ok((year, scorecard)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

pub fn scorecard_to_wire(stored: &StoredScorecard) -> pb::Scorecard {
    let items = read_scorecard(&stored.scorecard_json)
        .map(|card| card.items)
        .unwrap_or_default();
    pb::Scorecard {
        region_code: stored.region.to_string(),
        year: stored.year,
        version: stored.version,
        items: items
            .into_iter()
            .map(|item| {
                let (target, zero_at, per_unit) = match item.rule {
                    ScoringRule::Linear { target, zero_at } => {
                        (target.to_string(), zero_at.to_string(), String::new())
                    }
                    ScoringRule::Deduct { per_unit } => {
                        (String::new(), String::new(), per_unit.to_string())
                    }
                };
                pb::ScorecardItem {
                    id: item.id,
                    name: item.name,
                    group: item.group.as_str().to_owned(),
                    measure: item.measure.code().to_owned(),
                    weight: item.weight.to_string(),
                    rule: item.rule.kind().to_owned(),
                    target,
                    zero_at,
                    per_unit,
                }
            })
            .collect(),
        put_by: stored.put_by.clone(),
        scorecard_json: stored.scorecard_json.clone(),
    }
}

/// A domain assessment as stored, with the findings it counted and the grade they give.
pub fn assessment_to_store(
    assessment: HospitalAssessment,
    confirmed_findings: u32,
    confirmed_amount: kernel::Money,
    credit_grade: supervision_domain::credit::CreditGrade,
) -> StoredAssessment {
    StoredAssessment {
        hospital_code: assessment.hospital_code,
        score: assessment.score,
        confirmed_findings,
        confirmed_amount,
        credit_grade,
        groups: assessment
            .groups
            .iter()
            .map(|g| StoredGroup {
                group: g.group.as_str().to_owned(),
                score: g.score.to_string(),
                weight: g.weight.to_string(),
            })
            .collect(),
        items: assessment
            .items
            .iter()
            .map(|i| StoredItem {
                item_id: i.item_id.clone(),
                group: i.group.as_str().to_owned(),
                measure: i.measure.code().to_owned(),
                value: i.value.map(|v| v.to_string()).unwrap_or_default(),
                weight: i.weight.to_string(),
                score: i.score.to_string(),
            })
            .collect(),
    }
}

/// A score on the wire: always 2 places.
pub fn score_text(score: Decimal) -> String {
    let mut score = score;
    score.rescale(2);
    score.to_string()
}

pub fn run_to_wire(run: &StoredAssessmentRun) -> pb::AssessmentRun {
    pb::AssessmentRun {
        region_code: run.region.to_string(),
        year: run.year,
        version: run.version,
        scorecard_version: run.scorecard_version,
        hospitals: run.hospitals,
        run_by: run.run_by.clone(),
        credit_policy_version: run.credit_policy_version,
    }
}

pub fn assessment_to_wire(a: &StoredAssessment) -> pb::HospitalAssessment {
    pb::HospitalAssessment {
        hospital_code: a.hospital_code.clone(),
        score: score_text(a.score),
        groups: a
            .groups
            .iter()
            .map(|g| pb::GroupScore {
                group: g.group.clone(),
                score: g.score.clone(),
                weight: g.weight.clone(),
            })
            .collect(),
        items: a
            .items
            .iter()
            .map(|i| pb::ItemScore {
                item_id: i.item_id.clone(),
                group: i.group.clone(),
                measure: i.measure.clone(),
                value: i.value.clone(),
                weight: i.weight.clone(),
                score: i.score.clone(),
            })
            .collect(),
        confirmed_findings: a.confirmed_findings,
        confirmed_amount: a.confirmed_amount.to_string(),
        credit_grade: a.credit_grade.as_str().to_owned(),
    }
}

pub fn credit_change_to_wire(c: &StoredCreditChange) -> pb::CreditChange {
    pb::CreditChange {
        hospital_code: c.change.hospital_code.clone(),
        from_grade: c.change.from.map_or("", |g| g.as_str()).to_owned(),
        to_grade: c.change.to.as_str().to_owned(),
        reason: c.change.reason.clone(),
        year: c.year,
        assessment_version: c.assessment_version,
        changed_by: c.changed_by.clone(),
    }
}

pub fn lead_to_wire(lead: &Lead) -> pb::Lead {
    pb::Lead {
        lead_id: lead.lead_id.clone(),
        region_code: lead.region.to_string(),
        channel: lead.channel.as_str().to_owned(),
        received_on: Some(wire::wire_date(lead.received_on)),
        hospital_code: lead.hospital_code.clone(),
        summary: lead.summary.clone(),
        recorded_by: lead.recorded_by.clone(),
        finding_ids: lead.finding_ids.clone(),
    }
}

/// A lead as RecordLead asks for it: (channel, received on, hospital, summary).
pub fn lead_request(
    body: &pb::RecordLeadRequest,
    today: Date,
) -> Result<(LeadChannel, Date, String, String), Error> {
    let mut violations = Vec::new();
    let channel = LeadChannel::parse(body.channel.trim());
    if channel.is_none() {
        let known: Vec<&str> = LeadChannel::ALL.iter().map(|c| c.as_str()).collect();
        violations.push((
            "channel".to_owned(),
            format!("{:?} is not one of {}", body.channel, known.join(", ")),
        ));
    }
    let received_on = match wire::required_date("received_on", body.received_on.as_ref()) {
        Ok(date) if date > today => {
            violations.push((
                "received_on".to_owned(),
                format!("{date} lies after today ({today})"),
            ));
            None
        }
        Ok(date) => Some(date),
        Err(violation) => {
            violations.push(violation);
            None
        }
    };
    let hospital = body.hospital_code.trim().to_owned();
    if hospital.chars().count() > HOSPITAL_CODE_LIMIT {
        violations.push((
            "hospital_code".to_owned(),
            format!("longer than {HOSPITAL_CODE_LIMIT} characters"),
        ));
    }
    let summary = body.summary.trim().to_owned();
    if summary.is_empty() {
        violations.push(("summary".to_owned(), "is required".to_owned()));
    } else if summary.chars().count() > SUMMARY_LIMIT {
        violations.push((
            "summary".to_owned(),
            format!("longer than {SUMMARY_LIMIT} characters"),
        ));
    }
    finish(violations, || ()).map(|()| {
        (
            channel.unwrap_or(LeadChannel::Other),
            received_on.unwrap_or(today),
            hospital,
            summary,
        )
    })
}

/// A required non-empty identifier, trimmed.
pub fn required(field: &str, value: &str) -> Result<String, Violation> {
    let value = value.trim();
    if value.is_empty() {
        Err((field.to_owned(), "is required".to_owned()))
    } else {
        Ok(value.to_owned())
    }
}

/// A threshold score of a PutCreditPolicy: a decimal string, `None` (and its violation) when
/// it cannot be read.
fn threshold(field: &str, text: &str, violations: &mut Vec<Violation>) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() {
        violations.push((field.to_owned(), "is required".to_owned()));
        return None;
    }
    if let Err(too_long) = kernel::check_decimal_text(text) {
        violations.push((field.to_owned(), too_long.to_string()));
        return None;
    }
    let score = text.parse().ok();
    if score.is_none() {
        violations.push((
            field.to_owned(),
            format!("{text:?} is not a decimal number"),
        ));
    }
    score
}

/// The year and checked policy a PutCreditPolicy asks for, or every violation.
pub fn credit_policy_of(body: &pb::PutCreditPolicyRequest) -> Result<(i32, CreditPolicy), Error> {
    let mut violations = Vec::new();
    let year = wire::year("year", body.year)
        .map_err(|v| violations.push(v))
        .unwrap_or_default();
    let fields = ["a_min_score", "b_min_score", "c_min_score"];
    let texts = [&body.a_min_score, &body.b_min_score, &body.c_min_score];
    let read = [0, 1, 2].map(|i| threshold(fields[i], texts[i], &mut violations));
    let policy = CreditPolicy {
        a_min_score: read[0].unwrap_or_default(),
        a_max_findings: body.a_max_findings,
        b_min_score: read[1].unwrap_or_default(),
        b_max_findings: body.b_max_findings,
        c_min_score: read[2].unwrap_or_default(),
    };
    if read.iter().all(Option::is_some) {
        if let Err(problems) = policy.checked() {
            violations.extend(problems.into_iter().map(|p| (p.field.to_owned(), p.reason)));
        }
    } else {
        // The order is judged only when every score could be read: an unread one would be
        // compared as 0 and blame its neighbour.
        for (field, score) in fields.iter().zip(read) {
            if let Some(reason) = score.and_then(score_problem) {
                violations.push(((*field).to_owned(), reason));
            }
        }
    }
    finish(violations, || (year, policy))
}

/// A policy on the wire; `stored` is `None` for the default one.
pub fn credit_policy_to_wire(
    (region, year): (kernel::RegionCode, i32),
    stored: Option<&StoredCreditPolicy>,
) -> pb::CreditPolicy {
    let policy = stored.map_or_else(CreditPolicy::default, |s| s.policy);
    pb::CreditPolicy {
        region_code: region.to_string(),
        year,
        version: stored.map_or(0, |s| s.version),
        a_min_score: policy.a_min_score.normalize().to_string(),
        a_max_findings: policy.a_max_findings,
        b_min_score: policy.b_min_score.normalize().to_string(),
        b_max_findings: policy.b_max_findings,
        c_min_score: policy.c_min_score.normalize().to_string(),
        put_by: stored.map(|s| s.put_by.clone()).unwrap_or_default(),
    }
}
