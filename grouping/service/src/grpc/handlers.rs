//! The `medpay.grouping.v1` methods: each checks the caller's region, then groups or delegates to
//! the registry or the DIP build.

use std::pin::Pin;

use futures::Stream;
use grouping_domain::Scratch;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_server::GroupingService;
use platform::paging::KeysetPage;
use platform::principal::{authorize_region, authorize_request, principal_of};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::GroupingApi;
use super::convert::{CaseText, activation_to_wire, result_to_wire, summary_to_wire};
use super::group::group_one;
use crate::catalog::Engine;
use crate::error::Error;

type GroupStream = Pin<Box<dyn Stream<Item = Result<pb::GroupCasesResponse, Status>> + Send>>;

fn required_case(case: Option<pb::CaseInput>) -> Result<pb::CaseInput, Error> {
    case.ok_or_else(|| Error::field("case", "is required"))
}

fn named_codes(codes: &[String]) -> Vec<pb::NamedCode> {
    codes
        .iter()
        .map(|code| pb::NamedCode {
            code: code.clone(),
            name: String::new(),
        })
        .collect()
}

#[tonic::async_trait]
impl GroupingService for GroupingApi {
    async fn group_case(
        &self,
        request: Request<pb::GroupCaseRequest>,
    ) -> Result<Response<pb::GroupCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let case = required_case(body.case)?;
        let scheme = self
            .resolve(
                region,
                &body.scheme_id,
                &body.scheme_version,
                body.as_of.as_ref(),
            )
            .await?;
        let result = group_one(
            &scheme,
            &case,
            body.map_codes,
            body.trace,
            &mut Scratch::default(),
        )
        .map_err(Error::from)?;
        Ok(Response::new(pb::GroupCaseResponse {
            result: Some(result),
        }))
    }

    type GroupCasesStream = GroupStream;

    async fn group_cases(
        &self,
        request: Request<Streaming<pb::GroupCasesRequest>>,
    ) -> Result<Response<Self::GroupCasesStream>, Status> {
        let principal = principal_of(&request)?;
        let mut incoming = request.into_inner();
        let first = match incoming.next().await {
            Some(message) => message?,
            None => return Ok(Response::new(Box::pin(tokio_stream::empty()))),
        };
        let region = authorize_region(&principal, "region_code", &first.region_code)?;
        let scheme = self
            .resolve(region, &first.scheme_id, &first.scheme_version, None)
            .await?;
        let (sender, receiver) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            let mut scratch = Scratch::default();
            let mut sequence = 0u64;
            let mut next = Some(Ok(first));
            while let Some(message) = next {
                let response = match message {
                    Ok(message) => match message.case {
                        Some(case) => {
                            match group_one(&scheme, &case, message.map_codes, false, &mut scratch)
                            {
                                Ok(result) => pb::GroupCasesResponse {
                                    result: Some(result),
                                    sequence,
                                    error: String::new(),
                                },
                                Err(refusal) => pb::GroupCasesResponse {
                                    result: None,
                                    sequence,
                                    error: refusal.message(),
                                },
                            }
                        }
                        None => pb::GroupCasesResponse {
                            result: None,
                            sequence,
                            error: "message carries no case".into(),
                        },
                    },
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                if sender.send(Ok(response)).await.is_err() {
                    return;
                }
                sequence += 1;
                next = incoming.next().await;
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }

    async fn explain_case(
        &self,
        request: Request<pb::ExplainCaseRequest>,
    ) -> Result<Response<pb::ExplainCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let case = required_case(body.case)?;
        let scheme = self
            .resolve(region, &body.scheme_id, &body.scheme_version, None)
            .await?;
        let Engine::Drg(drg) = &scheme.engine else {
            let result = group_one(
                &scheme,
                &case,
                body.map_codes,
                true,
                &mut Scratch::default(),
            )
            .map_err(Error::from)?;
            return Ok(Response::new(pb::ExplainCaseResponse {
                trace_json: result.trace_json.clone(),
                result: Some(result),
                diagnoses: named_codes(&case.diagnoses),
                procedures: named_codes(&case.procedures),
            }));
        };
        let text = CaseText::of(&case);
        let traced = drg.group_traced(&text.raw(&case), body.map_codes);
        let named = |codes: &[grouping_domain::trace::TracedCode]| {
            codes
                .iter()
                .map(|c| pb::NamedCode {
                    code: c.input.clone(),
                    name: c.name.clone().unwrap_or_default(),
                })
                .collect::<Vec<_>>()
        };
        let trace_json = serde_json::to_string(&traced)
            .map_err(|e| Error::Internal(format!("trace does not serialize: {e}")))?;
        Ok(Response::new(pb::ExplainCaseResponse {
            result: Some(result_to_wire(
                &case.case_id,
                &traced.result,
                &scheme.summary,
            )),
            diagnoses: named(&traced.diagnoses),
            procedures: named(&traced.procedures),
            trace_json,
        }))
    }

    async fn list_schemes(
        &self,
        request: Request<pb::ListSchemesRequest>,
    ) -> Result<Response<pb::ListSchemesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let page = KeysetPage::<i32>::for_request(
            "/medpay.grouping.v1.GroupingService/ListSchemes",
            request.get_ref(),
            |r| (&mut r.page_size, &mut r.page_token),
        )?;
        let activations = self
            .registry
            .activations(region, page.after, page.fetch_limit())
            .await
            .map_err(Error::from)?;
        let (activations, next_page_token) = page.finish(activations, |activation| {
            activation.effective_from.to_yyyymmdd()
        });
        // The loaded schemes come with the first page.
        let schemes = if page.after.is_none() {
            self.catalog
                .summaries()
                .iter()
                .map(summary_to_wire)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Response::new(pb::ListSchemesResponse {
            schemes,
            activations: activations.into_iter().map(activation_to_wire).collect(),
            next_page_token,
        }))
    }

    async fn get_scheme(
        &self,
        request: Request<pb::GetSchemeRequest>,
    ) -> Result<Response<pb::GetSchemeResponse>, Status> {
        authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let scheme = self.loaded(&body.scheme_id, &body.version)?;
        Ok(Response::new(pb::GetSchemeResponse {
            scheme: Some(summary_to_wire(&scheme.summary)),
        }))
    }

    async fn load_scheme(
        &self,
        request: Request<pb::LoadSchemeRequest>,
    ) -> Result<Response<pb::LoadSchemeResponse>, Status> {
        let (principal, _) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        Ok(Response::new(
            self.load(&principal, request.into_inner()).await?,
        ))
    }

    async fn activate_scheme(
        &self,
        request: Request<pb::ActivateSchemeRequest>,
    ) -> Result<Response<pb::ActivateSchemeResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        Ok(Response::new(
            self.activate(&principal, region, request.into_inner())
                .await?,
        ))
    }

    async fn build_dip_directory(
        &self,
        request: Request<pb::BuildDipDirectoryRequest>,
    ) -> Result<Response<pb::BuildDipDirectoryResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        Ok(Response::new(
            self.build_dip(&principal, region, request.into_inner())
                .await?,
        ))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        platform::list_audit_entries!(
            crate::store::JOURNAL,
            self.registry.connection(),
            request,
            pb::ListAuditEntriesResponse
        )
    }
}
