//! The `medpay.grouping.v1` server: scope checks, conversions, status codes.

use std::pin::Pin;

use futures::Stream;
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_server::GroupingService;
use platform::principal::authorize_request;
use platform::status::{not_yet, storage_failure};
use platform::wire::Page;
use tonic::{Request, Response, Status, Streaming};

use crate::store::RegistryStore;

/// The grouping gRPC API over the scheme registry.
#[derive(Clone)]
pub struct GroupingApi {
    registry: RegistryStore,
}

impl GroupingApi {
    pub fn new(registry: RegistryStore) -> Self {
        Self { registry }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::grouping_service_server::GroupingServiceServer<Self> {
        pb::grouping_service_server::GroupingServiceServer::new(self)
    }
}

type GroupStream = Pin<Box<dyn Stream<Item = Result<pb::GroupCasesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl GroupingService for GroupingApi {
    async fn group_case(
        &self,
        _request: Request<pb::GroupCaseRequest>,
    ) -> Result<Response<pb::GroupCaseResponse>, Status> {
        Err(not_yet("GroupCase"))
    }

    type GroupCasesStream = GroupStream;

    async fn group_cases(
        &self,
        _request: Request<Streaming<pb::GroupCasesRequest>>,
    ) -> Result<Response<Self::GroupCasesStream>, Status> {
        Err(not_yet("GroupCases"))
    }

    async fn explain_case(
        &self,
        _request: Request<pb::ExplainCaseRequest>,
    ) -> Result<Response<pb::ExplainCaseResponse>, Status> {
        Err(not_yet("ExplainCase"))
    }

    async fn list_schemes(
        &self,
        request: Request<pb::ListSchemesRequest>,
    ) -> Result<Response<pb::ListSchemesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let page = Page::from_request(request.get_ref().page_size, &request.get_ref().page_token)?;
        let activations = self
            .registry
            .activations(region, page)
            .await
            .map_err(storage_failure)?;
        let next_page_token = page.next_token(activations.len());
        Ok(Response::new(pb::ListSchemesResponse {
            schemes: Vec::new(),
            activations: activations
                .into_iter()
                .map(|a| pb::Activation {
                    region_code: a.region.to_string(),
                    scheme_id: a.scheme_id,
                    version: a.version,
                    effective_from: Some(common::Date {
                        year: a.effective_from / 10_000,
                        month: a.effective_from / 100 % 100,
                        day: a.effective_from % 100,
                    }),
                    activated_by: a.activated_by,
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn get_scheme(
        &self,
        _request: Request<pb::GetSchemeRequest>,
    ) -> Result<Response<pb::GetSchemeResponse>, Status> {
        Err(not_yet("GetScheme"))
    }

    async fn load_scheme(
        &self,
        _request: Request<pb::LoadSchemeRequest>,
    ) -> Result<Response<pb::LoadSchemeResponse>, Status> {
        Err(not_yet("LoadScheme"))
    }

    async fn activate_scheme(
        &self,
        _request: Request<pb::ActivateSchemeRequest>,
    ) -> Result<Response<pb::ActivateSchemeResponse>, Status> {
        Err(not_yet("ActivateScheme"))
    }
}
