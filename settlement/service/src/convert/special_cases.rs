//! Requests of `SpecialCaseService`.

use medpay_proto::settlement::v1 as pb;
use platform::wire;
use settlement_domain::special_case::{DecisionKind, ReviewDecision, SpecialCaseGround};
use tonic::Status;

use super::Violations;

/// Every write names its request id.
fn request_id(violations: &mut Violations, request_id: &str) {
    if request_id.trim().is_empty() {
        violations.push("request_id", "is required");
    }
}

/// What every request that moves an application on names.
fn step(violations: &mut Violations, request_id_value: &str, application_id: &str) {
    request_id(violations, request_id_value);
    if application_id.is_empty() {
        violations.push("application_id", "is required");
    }
}

/// A request that moves an application on and names nothing else.
pub fn check_step(request_id_value: &str, application_id: &str) -> Result<(), Status> {
    let mut violations = Violations::default();
    step(&mut violations, request_id_value, application_id);
    violations.finish(|| Some(()))
}

/// An expert to put into the registry.
#[derive(Clone, Debug)]
pub struct ExpertRequest {
    pub expert: pb::Expert,
    pub active: bool,
}

impl TryFrom<pb::PutExpertRequest> for ExpertRequest {
    type Error = Status;

    fn try_from(body: pb::PutExpertRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        request_id(&mut violations, &body.request_id);
        let expert = body.expert.unwrap_or_default();
        violations.require("expert.expert_id", &expert.expert_id);
        violations.require("expert.name", &expert.name);
        if let Some(i) = expert
            .institution_codes
            .iter()
            .position(|code| code.trim().is_empty())
        {
            violations.push(format!("expert.institution_codes[{i}]"), "is empty");
        }
        violations.finish(|| {
            Some(Self {
                expert,
                active: body.active,
            })
        })
    }
}

/// The grounds of an application, read by name; unknown ones are named.
pub fn grounds(grounds: &[String], violations: &mut Violations) -> Vec<SpecialCaseGround> {
    if grounds.is_empty() {
        violations.push("grounds", "at least one ground is required");
    }
    let mut parsed = Vec::new();
    for (i, ground) in grounds.iter().enumerate() {
        match serde_json::from_value(serde_json::Value::String(ground.clone())) {
            Ok(ground) => parsed.push(ground),
            Err(_) => violations.push(
                format!("grounds[{i}]"),
                format!(
                    "{ground:?} is not a ground (very_long_stay, very_high_cost, intensive_care, \
                     new_drug_or_technology, ungroupable, other)"
                ),
            ),
        }
    }
    parsed
}

/// An application for a special case.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub grounds: Vec<SpecialCaseGround>,
}

impl TryFrom<&pb::ApplySpecialCaseRequest> for ApplyRequest {
    type Error = Status;

    fn try_from(body: &pb::ApplySpecialCaseRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        request_id(&mut violations, &body.request_id);
        violations.require("hospital_code", &body.hospital_code);
        violations.require("list_id", &body.list_id);
        let grounds = grounds(&body.grounds, &mut violations);
        violations.finish(|| Some(Self { grounds }))
    }
}

/// The reviewers' decision, by name, with the extra points it needs.
pub fn decision(body: &pb::DecideSpecialCaseRequest) -> Result<ReviewDecision, Status> {
    let mut violations = Violations::default();
    step(&mut violations, &body.request_id, &body.application_id);
    let decision = match body.decision.parse::<DecisionKind>() {
        Ok(kind) => violations.check(ReviewDecision::of_kind(kind, || {
            wire::points("extra_points", body.extra_points.as_ref())
        })),
        Err(unknown) => {
            violations.push("decision", unknown.to_string());
            None
        }
    };
    if body.signed_by.is_empty() {
        violations.push("signed_by", "every assigned reviewer signs");
    }
    violations.finish(|| decision)
}

/// An appeal needs at least one reason.
pub fn check_appeal(body: &pb::AppealSpecialCaseRequest) -> Result<(), Status> {
    let mut violations = Violations::default();
    step(&mut violations, &body.request_id, &body.application_id);
    if body.reasons.iter().all(|r| r.trim().is_empty()) {
        violations.push("reasons", "an appeal needs at least one reason");
    }
    violations.finish(|| Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grounds_are_read_by_name_and_unknown_ones_named() {
        let mut violations = Violations::default();
        let read = grounds(
            &["very_high_cost".to_owned(), "expensive".to_owned()],
            &mut violations,
        );
        assert_eq!(read, vec![SpecialCaseGround::VeryHighCost]);
        assert_eq!(violations.0.len(), 1);
        assert_eq!(violations.0[0].0, "grounds[1]");
        grounds(&[], &mut violations);
        assert_eq!(violations.0.len(), 2);
    }
}
