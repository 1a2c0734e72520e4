//! The `medpay.settlement.v1` server: scope checks, then intake, the ledger and the registry.
//! Messages are converted in [`crate::convert`]; failures become statuses in `status.rs`.

use std::sync::Arc;

use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_server::SettlementService;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure, with_reason};
use platform::wire;
use prost::Message;
use tonic::{Code, Request, Response, Status, Streaming};

use settlement_domain::ports::{CaseValuer, NoPeers};

use crate::case_reads;
use crate::convert::intake::{
    AgreementChange, InstitutionChange, RevaluationRequest, agreement_to_wire, institution_to_wire,
};
use crate::convert::lists::stored_record_to_wire;
use crate::intake::{BrokenStream, Incoming, Intake, IntakeError, RevaluationOrder};
use crate::store::Database;
use crate::store::institutions::{self, RegistryError};
use crate::store::journal::{self, Once};
use crate::store::ledger::{CaseFilter, CaseStore, LedgerCase, ListedCase, region_span};

/// The largest message the settlement service reads: a `SubmitCaseBatch` of a thousand lists
/// (one intake chunk) with their fee lines fits many times over. tonic refuses a larger message
/// before any handler runs, with OUT_OF_RANGE ("decoded message length too large").
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// The largest message of a `SubmitCases` stream, which carries one record: a list at every
/// bound of validation (20,000 fee lines, names of 200 characters) stays below it.
pub const MAX_STREAM_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// The settlement gRPC API over the case ledger.
#[derive(Clone)]
pub struct SettlementApi {
    cases: CaseStore,
    db: Database,
    intake: Intake,
}

impl SettlementApi {
    /// An API whose intake stores cases unvalued; see [`SettlementApi::with_valuer`].
    pub fn new(cases: CaseStore) -> Self {
        let db = Database::from(cases.connection().clone());
        let intake = Intake::new(db.clone(), Arc::new(NoPeers));
        Self { cases, db, intake }
    }

    /// Values accepted cases at intake through `valuer`.
    pub fn with_valuer(mut self, valuer: Arc<dyn CaseValuer>) -> Self {
        self.intake = Intake::new(self.db.clone(), valuer);
        self
    }

    /// Uses `intake` (its valuer, chunk size and dictionary) for uploads.
    pub fn with_intake(mut self, intake: Intake) -> Self {
        self.intake = intake;
        self
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::settlement_service_server::SettlementServiceServer<Self> {
        pb::settlement_service_server::SettlementServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
    }
}

pub(crate) fn require_request_id(request_id: &str) -> Result<(), Status> {
    if request_id.trim().is_empty() {
        Err(bad_request(vec![(
            "request_id".into(),
            "is required: it makes a retry safe".into(),
        )]))
    } else {
        Ok(())
    }
}

fn decode<M: Message + Default>(once: &Once) -> Result<M, Status> {
    M::decode(once.response()).map_err(storage_failure)
}

/// The filters of a case query (ListCases, and StreamCases on the internal contract).
pub(crate) fn case_filter(body: &pb::ListCasesRequest) -> Result<CaseFilter, Status> {
    let discharge_between = match &body.period {
        None => None,
        Some(period) => {
            let month = wire::year_month("period", Some(period))
                .map_err(|violation| bad_request(vec![violation]))?;
            let first = month.as_int() * 100 + 1;
            Some((first, first + 30))
        }
    };
    Ok(CaseFilter {
        hospital_code: non_empty(&body.hospital_code),
        discharge_between,
        group_code: non_empty(&body.group_code),
        status: non_empty(&body.status),
        fund: match body.fund_type {
            0 => None,
            value => Some(
                wire::fund_type("fund_type", value)
                    .map_err(|violation| bad_request(vec![violation]))?,
            ),
        },
        record_kinds: Vec::new(),
    })
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[tonic::async_trait]
impl SettlementService for SettlementApi {
    async fn submit_cases(
        &self,
        request: Request<Streaming<pb::SubmitCasesRequest>>,
    ) -> Result<Response<pb::SubmitCasesResponse>, Status> {
        let principal = platform::principal::principal_of(&request)?;
        let mut stream = request.into_inner();
        let Some(first) = stream
            .message()
            .await
            .map_err(|status| Status::from(BrokenStream::from(status)))?
        else {
            return Err(bad_request(vec![(
                "request_id".into(),
                "the stream is empty: the first message must name request_id and region_code"
                    .into(),
            )]));
        };
        require_request_id(&first.request_id)?;
        let region =
            platform::principal::authorize_region(&principal, "region_code", &first.region_code)?;
        if first.encoded_len() > MAX_STREAM_MESSAGE_BYTES {
            return Err(BrokenStream::TooLarge {
                length: first.encoded_len(),
                position: 0,
            }
            .into());
        }
        let request_id = first.request_id.clone();
        // Chunks are stored while the rest of the upload is still arriving; the reader stays
        // at most two chunks ahead of intake. It only moves the decoded messages: reading them
        // is left to intake's workers (`Incoming`).
        let chunk_size = self.intake.chunk_size();
        let (sender, chunks) = tokio::sync::mpsc::channel(2);
        tokio::spawn(async move {
            let mut chunk = Vec::with_capacity(chunk_size);
            chunk.push(Incoming::wire(first.record, first.case_json));
            let mut position = 0u64;
            loop {
                match stream.message().await {
                    Ok(Some(message)) => {
                        position += 1;
                        let length = message.encoded_len();
                        if length > MAX_STREAM_MESSAGE_BYTES {
                            let too_large = BrokenStream::TooLarge { length, position };
                            let _ = sender.send(Err(IntakeError::Input(too_large))).await;
                            return;
                        }
                        chunk.push(Incoming::wire(message.record, message.case_json));
                        if chunk.len() >= chunk_size {
                            let full =
                                std::mem::replace(&mut chunk, Vec::with_capacity(chunk_size));
                            if sender.send(Ok(full)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Ok(None) => {
                        if !chunk.is_empty() {
                            let _ = sender.send(Ok(chunk)).await;
                        }
                        return;
                    }
                    Err(status) => {
                        let failed = IntakeError::Input(status.into());
                        let _ = sender.send(Err(failed)).await;
                        return;
                    }
                }
            }
        });
        let outcome = self
            .intake
            .submit_chunks(
                &principal.caller_id,
                &request_id,
                "SubmitCases",
                region,
                chunks,
            )
            .await
            .map_err(Status::from)?;
        Ok(Response::new(pb::SubmitCasesResponse {
            outcome: Some(outcome),
        }))
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        case_reads::list_cases(&self.cases, request).await
    }

    type ExportCasesStream = case_reads::ExportStream;

    async fn export_cases(
        &self,
        request: Request<pb::ExportCasesRequest>,
    ) -> Result<Response<Self::ExportCasesStream>, Status> {
        case_reads::export_cases(&self.cases, &request)
    }

    async fn submit_case_batch(
        &self,
        request: Request<pb::SubmitCaseBatchRequest>,
    ) -> Result<Response<pb::SubmitCaseBatchResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        require_request_id(&body.request_id)?;
        let records: Vec<Incoming> = body
            .records
            .into_iter()
            .map(|record| Incoming::wire(Some(record), String::new()))
            .collect();
        let outcome = self
            .intake
            .submit(
                &principal.caller_id,
                &body.request_id,
                "SubmitCaseBatch",
                region,
                records,
            )
            .await
            .map_err(Status::from)?;
        Ok(Response::new(pb::SubmitCaseBatchResponse {
            outcome: Some(outcome),
        }))
    }

    async fn get_case(
        &self,
        request: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::GetCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let versions = self
            .cases
            .versions(&body.hospital_code, &body.list_id)
            .await
            .map_err(storage_failure)?;
        let (from, to) = region_span(region);
        let in_scope = |case: &LedgerCase| {
            let code = platform::db::region_to_db(case.region);
            (from..=to).contains(&code)
        };
        if versions.is_empty() || !versions.iter().all(in_scope) {
            return Err(with_reason(
                Code::NotFound,
                "CASE_NOT_FOUND",
                format!(
                    "no case {}/{} in region {region}",
                    body.hospital_code, body.list_id
                ),
            ));
        }
        let summaries = crate::case_reads::with_warnings(
            &self.cases,
            versions.iter().cloned().map(ListedCase::from).collect(),
        )
        .await
        .map_err(storage_failure)?;
        Ok(Response::new(pb::GetCaseResponse {
            versions: versions
                .into_iter()
                .zip(summaries)
                .map(|(case, summary)| {
                    let (settlement_list, ambulatory) =
                        stored_record_to_wire(case.record_kind, &case.case_json);
                    pb::CaseVersion {
                        valuation: crate::convert::valuation::valuation_to_wire(
                            &case.valuation_json,
                        ),
                        case_json: case.case_json,
                        valuation_json: case.valuation_json,
                        stored_at_unix: case.stored_at,
                        request_id: case.request_id,
                        settlement_list,
                        ambulatory,
                        summary: Some(summary),
                    }
                })
                .collect(),
        }))
    }

    async fn put_institution(
        &self,
        request: Request<pb::PutInstitutionRequest>,
    ) -> Result<Response<pb::PutInstitutionResponse>, Status> {
        let body = request.get_ref();
        let region_code = body
            .institution
            .as_ref()
            .map(|i| i.region_code.clone())
            .unwrap_or_default();
        let (principal, region) =
            authorize_request(&request, "institution.region_code", &region_code)?;
        let body = request.into_inner();
        require_request_id(&body.request_id)?;
        let write = journal::call_by(
            &principal,
            "PutInstitution",
            &body,
            &body.request_id,
            region,
        );
        let row = InstitutionChange::try_from(&body)?.in_region(region);
        let request_id = body.request_id.clone();
        let scope = principal.clone();
        let once = self
            .db
            .run_once::<RegistryError, _>(&write, move |work| {
                Box::pin(async move {
                    let versions =
                        institutions::put_institution_within(&work, &row, &request_id, |region| {
                            scope.may_act_for(region)
                        })
                        .await?;
                    let response = pb::PutInstitutionResponse {
                        versions: i32::try_from(versions).unwrap_or(i32::MAX),
                    };
                    let detail = format!(
                        "institution {} in {} from {}: version {versions}",
                        row.code, row.region, row.effective_from
                    );
                    Ok((response.encode_to_vec(), detail))
                })
            })
            .await
            .map_err(Status::from)?;
        Ok(Response::new(decode(&once)?))
    }

    async fn get_institution(
        &self,
        request: Request<pb::GetInstitutionRequest>,
    ) -> Result<Response<pb::GetInstitutionResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let code = &request.get_ref().code;
        let db = self.cases.connection();
        let history = institutions::history(db, code)
            .await
            .map_err(storage_failure)?;
        let in_region = history
            .last()
            .is_some_and(|row| region.contains(row.region));
        if !in_region {
            return Err(with_reason(
                Code::NotFound,
                "UNKNOWN_INSTITUTION",
                format!("no institution {code} in region {region}"),
            ));
        }
        let agreements = institutions::agreements(db, code)
            .await
            .map_err(storage_failure)?;
        Ok(Response::new(pb::GetInstitutionResponse {
            history: history
                .iter()
                .map(|row| pb::InstitutionChange {
                    institution: Some(institution_to_wire(row)),
                    effective_from: Some(wire::date_to_wire(row.effective_from)),
                    reason: row.reason.clone(),
                })
                .collect(),
            agreements: agreements.iter().map(agreement_to_wire).collect(),
        }))
    }

    async fn list_institutions(
        &self,
        request: Request<pb::ListInstitutionsRequest>,
    ) -> Result<Response<pb::ListInstitutionsResponse>, Status> {
        case_reads::list_institutions(&self.cases, request).await
    }

    async fn put_agreement(
        &self,
        request: Request<pb::PutAgreementRequest>,
    ) -> Result<Response<pb::PutAgreementResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        require_request_id(&body.request_id)?;
        let write = journal::call_by(&principal, "PutAgreement", &body, &body.request_id, region);
        let AgreementChange {
            institution_code,
            agreement: row,
            reason,
        } = AgreementChange::try_from(&body)?;
        let request_id = body.request_id.clone();
        let once = self
            .db
            .run_once::<RegistryError, _>(&write, move |work| {
                Box::pin(async move {
                    let all = institutions::put_agreement(
                        &work,
                        region,
                        &institution_code,
                        &row,
                        &reason,
                        &request_id,
                    )
                    .await?;
                    let detail = format!(
                        "agreement {} of {institution_code}: {} {}..{}",
                        row.agreement_id, row.status, row.valid_from, row.valid_to
                    );
                    let response = pb::PutAgreementResponse {
                        agreements: all.iter().map(agreement_to_wire).collect(),
                    };
                    Ok((response.encode_to_vec(), detail))
                })
            })
            .await
            .map_err(Status::from)?;
        Ok(Response::new(decode(&once)?))
    }

    async fn revalue_cases(
        &self,
        request: Request<pb::RevalueCasesRequest>,
    ) -> Result<Response<pb::RevalueCasesResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        require_request_id(&body.request_id)?;
        let RevaluationRequest {
            fund,
            discharged,
            include_valued,
        } = RevaluationRequest::try_from(&body)?;
        let order = RevaluationOrder {
            region,
            fund,
            discharged,
            include_valued,
            request_id: body.request_id.clone(),
            stored_at: wire::unix_seconds(),
        };
        let write = journal::call_by(&principal, "RevalueCases", &body, &body.request_id, region);
        if let Some(stored) = self.db.replay::<IntakeError>(&write).await? {
            return pb::RevalueCasesResponse::decode(stored.as_slice())
                .map(Response::new)
                .map_err(storage_failure);
        }
        // The peers are asked before the unit of work opens.
        let revaluation = self.intake.revalue(&order).await?;
        let response = pb::RevalueCasesResponse {
            cases_read: revaluation.read,
            revalued: revaluation.versions.len() as u64,
            unchanged: revaluation.unchanged,
            still_unvalued: revaluation.still_unvalued,
            unvalued: revaluation
                .unvalued
                .into_iter()
                .map(|(hospital_code, list_id, reason)| pb::UnvaluedCase {
                    hospital_code,
                    list_id,
                    reason,
                })
                .collect(),
        };
        let versions = revaluation.versions;
        let rechecks = revaluation.rechecks;
        let detail = format!(
            "revalued {} of {} cases of {region} discharged {}..{}",
            versions.len(),
            response.cases_read,
            order.discharged.0,
            order.discharged.1
        );
        let once = self
            .db
            .run_once::<IntakeError, _>(&write, move |work| {
                Box::pin(async move {
                    for case in &versions {
                        CaseStore::insert_current(&work, case).await?;
                    }
                    crate::store::rechecked_warnings::insert(&work, &rechecks).await?;
                    Ok((response.encode_to_vec(), detail))
                })
            })
            .await?;
        Ok(Response::new(decode(&once)?))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        platform::list_audit_entries!(
            journal::JOURNAL,
            self.cases.connection(),
            request,
            pb::ListAuditEntriesResponse
        )
    }
}
