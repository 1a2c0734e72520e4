//! The `medpay.settlement.v1` server: scope checks, conversions, status codes.

use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_server::SettlementService;
use platform::principal::authorize_request;
use platform::status::{bad_request, not_yet, storage_failure};
use platform::wire::{self, Page};
use tonic::{Request, Response, Status, Streaming};

use crate::ledger::{CaseFilter, CaseStore, LedgerCase};

/// The settlement gRPC API over the case ledger.
#[derive(Clone)]
pub struct SettlementApi {
    cases: CaseStore,
}

impl SettlementApi {
    pub fn new(cases: CaseStore) -> Self {
        Self { cases }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::settlement_service_server::SettlementServiceServer<Self> {
        pb::settlement_service_server::SettlementServiceServer::new(self)
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn to_wire(case: LedgerCase) -> pb::CaseSummary {
    pb::CaseSummary {
        hospital_code: case.hospital_code,
        list_id: case.list_id,
        version: case.version,
        fund_type: wire::fund_type_to_wire(case.fund),
        discharge_date: Some(wire::date_to_wire(case.discharge_date)),
        group_code: case.group_code,
        points: Some(wire::decimal_to_wire(case.points)),
        total_cost: Some(wire::money_to_wire(case.total_cost)),
        status: case.status,
        payment_mode: case.payment_mode,
        individual_burden: Some(wire::money_to_wire(case.individual_burden)),
        fund_amount: Some(wire::money_to_wire(case.fund_amount)),
        scheme_version: case.scheme_version,
        table_version: case.table_version,
        valuation_error: case.valuation_error,
        content_hash: case.content_hash,
    }
}

#[tonic::async_trait]
impl SettlementService for SettlementApi {
    async fn submit_cases(
        &self,
        _request: Request<Streaming<pb::SubmitCasesRequest>>,
    ) -> Result<Response<pb::SubmitCasesResponse>, Status> {
        Err(not_yet("SubmitCases"))
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = Page::from_request(body.page_size, &body.page_token)?;
        let discharge_between = match &body.period {
            None => None,
            Some(period) => {
                let month = wire::year_month("period", Some(period))
                    .map_err(|violation| bad_request(vec![violation]))?;
                let first = month.as_int() * 100 + 1;
                Some((first, first + 30))
            }
        };
        let filter = CaseFilter {
            hospital_code: non_empty(&body.hospital_code),
            discharge_between,
            group_code: non_empty(&body.group_code),
            status: non_empty(&body.status),
            fund: None,
        };
        let cases = self
            .cases
            .list(region, &filter, page)
            .await
            .map_err(storage_failure)?;
        let next_page_token = page.next_token(cases.len());
        Ok(Response::new(pb::ListCasesResponse {
            cases: cases.into_iter().map(to_wire).collect(),
            next_page_token,
        }))
    }

    async fn submit_case_batch(
        &self,
        _request: Request<pb::SubmitCaseBatchRequest>,
    ) -> Result<Response<pb::SubmitCaseBatchResponse>, Status> {
        Err(not_yet("SubmitCaseBatch"))
    }

    async fn get_case(
        &self,
        _request: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::GetCaseResponse>, Status> {
        Err(not_yet("GetCase"))
    }

    async fn put_institution(
        &self,
        _request: Request<pb::PutInstitutionRequest>,
    ) -> Result<Response<pb::PutInstitutionResponse>, Status> {
        Err(not_yet("PutInstitution"))
    }

    async fn get_institution(
        &self,
        _request: Request<pb::GetInstitutionRequest>,
    ) -> Result<Response<pb::GetInstitutionResponse>, Status> {
        Err(not_yet("GetInstitution"))
    }

    async fn list_institutions(
        &self,
        _request: Request<pb::ListInstitutionsRequest>,
    ) -> Result<Response<pb::ListInstitutionsResponse>, Status> {
        Err(not_yet("ListInstitutions"))
    }

    async fn put_agreement(
        &self,
        _request: Request<pb::PutAgreementRequest>,
    ) -> Result<Response<pb::PutAgreementResponse>, Status> {
        Err(not_yet("PutAgreement"))
    }
}
