//! The `medpay.supervision.v1` server: scope checks, conversions, status codes.

use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_service_server::SupervisionService;
use platform::principal::authorize_request;
use platform::status::{not_yet, storage_failure};
use platform::wire::Page;
use tonic::{Request, Response, Status};

use crate::store::RuleStore;

/// The supervision gRPC API over a store.
#[derive(Clone)]
pub struct SupervisionApi {
    rules: RuleStore,
}

impl SupervisionApi {
    pub fn new(rules: RuleStore) -> Self {
        Self { rules }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::supervision_service_server::SupervisionServiceServer<Self> {
        pb::supervision_service_server::SupervisionServiceServer::new(self)
    }
}

fn level_to_wire(level: &str) -> i32 {
    match level {
        "weak" => pb::RuleLevel::Weak as i32,
        "general" => pb::RuleLevel::General as i32,
        "strong" => pb::RuleLevel::Strong as i32,
        _ => pb::RuleLevel::Unspecified as i32,
    }
}

#[tonic::async_trait]
impl SupervisionService for SupervisionApi {
    async fn list_rules(
        &self,
        request: Request<pb::ListRulesRequest>,
    ) -> Result<Response<pb::ListRulesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let page = Page::from_request(request.get_ref().page_size, &request.get_ref().page_token)?;
        let rules = self
            .rules
            .list(region, page)
            .await
            .map_err(storage_failure)?;
        let next_page_token = page.next_token(rules.len());
        Ok(Response::new(pb::ListRulesResponse {
            rules: rules
                .into_iter()
                .map(|rule| pb::Rule {
                    level: level_to_wire(&rule.level),
                    rule_id: rule.rule_id,
                    name: rule.name,
                    parameters_json: rule.parameters_json,
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn screen_cases(
        &self,
        request: Request<pb::ScreenCasesRequest>,
    ) -> Result<Response<pb::ScreenCasesResponse>, Status> {
        // The region is checked first, so that what is not served yet leaks nothing either.
        authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        Err(not_yet("ScreenCases"))
    }

    async fn list_findings(
        &self,
        request: Request<pb::ListFindingsRequest>,
    ) -> Result<Response<pb::ListFindingsResponse>, Status> {
        authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        Err(not_yet("ListFindings"))
    }
}
