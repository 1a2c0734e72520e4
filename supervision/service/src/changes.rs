//! The `medpay.supervision.v1` methods that change a region's rules (levels, parameters), answer
//! a finding, and list deductions publicly; the level and parameters in force that every read
//! and screening run uses ([`SupervisionApi::policy`]).

use kernel::{Principal, RegionCode, Role};
use medpay_proto::supervision::v1 as pb;
use platform::journal::Call;
use platform::principal::authorize_request;
use platform::status::{permission_denied, storage_failure};
use prost::Message;
use supervision_domain::lifecycle::{PolicyChanges, RuleParameters};
use supervision_domain::{RuleId, ScreeningPolicy};
use tonic::{Request, Response, Status};

use crate::changes_store::{LevelRequest, ResponseRequest};
use crate::convert::{
    DeductionsQuery, FindingResponse, LevelChangeRequest, ParametersRequest, deduction_to_wire,
    finding_to_wire, level_change_to_wire, rule_to_wire,
};
use crate::deductions::hospital_deductions;
use crate::error::Error;
use crate::grpc::SupervisionApi;

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<Response<M>, Status> {
    M::decode(bytes).map(Response::new).map_err(storage_failure)
}

/// The rule as `policy` runs it, with its level changes for `region` when `history` is asked.
pub(crate) fn rule_with_history(
    rule: RuleId,
    policy: &ScreeningPolicy,
    changes: &PolicyChanges,
    region: RegionCode,
) -> Result<pb::Rule, Status> {
    let parameters = serde_json::to_string(&policy.parameters).map_err(storage_failure)?;
    let mut wire = rule_to_wire(rule, policy, &parameters);
    wire.level_changes = changes
        .history(region, rule)
        .into_iter()
        .map(level_change_to_wire)
        .collect();
    Ok(wire)
}

/// The hospital a caller with the hospital role is held to, refused when it asks for another.
fn own_hospital(principal: &Principal, asked: Option<String>) -> Result<Option<String>, Status> {
    if !principal.holds(Role::Hospital) {
        return Ok(asked);
    }
    let own = principal.institution.clone().unwrap_or_default();
    match asked {
        Some(code) if code != own => Err(permission_denied(
            "NOT_YOUR_HOSPITAL",
            format!(
                "hospital {} may not read hospital {code}",
                principal.caller_id
            ),
        )),
        _ => Ok(Some(own)),
    }
}

impl SupervisionApi {
    /// The policy in force for `region` and `year`: the configured one under the changes the
    /// region and those above it recorded.
    pub(crate) async fn policy(
        &self,
        region: RegionCode,
        year: i32,
    ) -> Result<(ScreeningPolicy, PolicyChanges), Status> {
        let changes = self
            .store
            .policy_changes(region)
            .await
            .map_err(Error::from)?;
        let policy = changes.apply(self.book.policy_for(region, year), region, year);
        Ok((policy, changes))
    }

    pub(crate) async fn change_rule_level_impl(
        &self,
        request: Request<pb::ChangeRuleLevelRequest>,
    ) -> Result<Response<pb::ChangeRuleLevelResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let asked = LevelChangeRequest::try_from(&body)?;
        let call = Call::by(
            &principal,
            &body.request_id,
            "ChangeRuleLevel",
            &body,
            region,
        );
        let configured = self.book.policy_for(region, asked.year);
        let (rule, year) = (asked.rule, asked.year);
        let once = self
            .store
            .change_level(
                &call,
                configured.clone(),
                LevelRequest {
                    region,
                    year,
                    rule,
                    to: asked.level,
                    changed_by: principal.caller_id.clone(),
                    reason: asked.reason,
                },
                move |change, changes| {
                    let policy = changes.apply(configured, region, year);
                    pb::ChangeRuleLevelResponse {
                        change: Some(level_change_to_wire(change)),
                        rule: rule_with_history(rule, &policy, changes, region).ok(),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        decode(once.response())
    }

    pub(crate) async fn set_rule_parameters_impl(
        &self,
        request: Request<pb::SetRuleParametersRequest>,
    ) -> Result<Response<pb::SetRuleParametersResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let asked = ParametersRequest::try_from(&body)?;
        let call = Call::by(
            &principal,
            &body.request_id,
            "SetRuleParameters",
            &body,
            region,
        );
        let configured = self.book.policy_for(region, asked.year);
        let (rule, year) = (asked.rule, asked.year);
        let once = self
            .store
            .set_parameters(
                &call,
                RuleParameters {
                    region,
                    year,
                    rule,
                    overrides: asked.overrides,
                },
                principal.caller_id.clone(),
                move |changes| {
                    let policy = changes.apply(configured, region, year);
                    pb::SetRuleParametersResponse {
                        rule: rule_with_history(rule, &policy, changes, region).ok(),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        decode(once.response())
    }

    pub(crate) async fn respond_to_finding_impl(
        &self,
        request: Request<pb::RespondToFindingRequest>,
    ) -> Result<Response<pb::RespondToFindingResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let asked = FindingResponse::try_from(&body)?;
        let call = Call::by(
            &principal,
            &body.request_id,
            "RespondToFinding",
            &body,
            region,
        );
        let once = self
            .store
            .respond_to_finding(
                &call,
                ResponseRequest {
                    region,
                    finding_id: asked.finding_id,
                    text: asked.text,
                    principal,
                },
                |finding| {
                    pb::RespondToFindingResponse {
                        finding: Some(finding_to_wire(finding)),
                    }
                    .encode_to_vec()
                },
            )
            .await
            .map_err(Error::from)?;
        decode(once.response())
    }

    pub(crate) async fn list_deductions_impl(
        &self,
        request: Request<pb::ListDeductionsRequest>,
    ) -> Result<Response<pb::ListDeductionsResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let query = DeductionsQuery::try_from(request.get_ref())?;
        let hospital = own_hospital(&principal, query.hospital)?;
        let found = hospital_deductions(
            &self.store,
            (region, query.year, query.fund),
            hospital.as_deref(),
        )
        .await?;
        Ok(Response::new(pb::ListDeductionsResponse {
            deductions: found.into_iter().map(deduction_to_wire).collect(),
        }))
    }

    /// The hospital filter of ListFindings for `principal`: a hospital sees its own findings.
    pub(crate) fn findings_hospital(
        principal: &Principal,
        asked: Option<String>,
    ) -> Result<Option<String>, Status> {
        own_hospital(principal, asked)
    }
}
