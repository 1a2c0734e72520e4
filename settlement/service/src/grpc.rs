//! The `medpay.settlement.v1` server: scope checks, conversions, status codes.

use std::sync::Arc;

use kernel::{Principal, RegionCode};
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_server::SettlementService;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure, with_reason};
use platform::wire::{self, Page};
use prost::Message;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::institutions::{
    self, AGREEMENT_STATUSES, AgreementRow, InstitutionRow, LEVELS, RegistryError, TYPES,
};
use crate::intake::{Intake, IntakeError, Record};
use crate::journal::{self, Call, Once};
use crate::ledger::{CaseFilter, CaseStore, LedgerCase, region_span};
use crate::valuation::{BatchValuation, Unavailable, Valuer};

/// The largest message the settlement service reads: a `SubmitCaseBatch` of a thousand lists
/// (one intake chunk) with their fee lines fits many times over. tonic refuses a larger message
/// before any handler runs, with OUT_OF_RANGE ("decoded message length too large").
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// The largest message of a `SubmitCases` stream, which carries one record: a list at every
/// bound of validation (20,000 fee lines, names of 200 characters) stays below it.
pub const MAX_STREAM_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// A message of an upload stream over [`MAX_STREAM_MESSAGE_BYTES`].
fn stream_message_too_large(length: usize, position: u64) -> Status {
    with_reason(
        Code::ResourceExhausted,
        "MESSAGE_TOO_LARGE",
        format!(
            "message {position} of the stream is {length} bytes, at most \
             {MAX_STREAM_MESSAGE_BYTES} are read; records before it were stored, retry with the \
             same request_id after fixing it"
        ),
    )
}

/// The status of a stream that failed while being read: tonic's refusal of a message over the
/// decoding limit becomes RESOURCE_EXHAUSTED, which is what it is.
fn stream_failure(status: Status) -> Status {
    if status.code() == Code::OutOfRange && status.message().contains("message length too large") {
        with_reason(
            Code::ResourceExhausted,
            "MESSAGE_TOO_LARGE",
            format!(
                "{}; a message of the stream carries one record",
                status.message()
            ),
        )
    } else {
        status
    }
}

/// The settlement gRPC API over the case ledger.
#[derive(Clone)]
pub struct SettlementApi {
    cases: CaseStore,
    intake: Intake,
}

/// The valuer of a server started without peers: every case is stored unvalued, with the reason.
struct NoPeers;

#[async_trait::async_trait]
impl Valuer for NoPeers {
    async fn value_batch(
        &self,
        _region: RegionCode,
        cases: &[settlement_domain::case::SettlementList],
    ) -> Result<BatchValuation, Unavailable> {
        Ok(vec![
            Err(
                "no grouping and points peers are configured".to_owned()
            );
            cases.len()
        ])
    }
}

impl SettlementApi {
    /// An API whose intake stores cases unvalued; see [`SettlementApi::with_valuer`].
    pub fn new(cases: CaseStore) -> Self {
        let intake = Intake::new(cases.connection().clone(), Arc::new(NoPeers));
        Self { cases, intake }
    }

    /// Values accepted cases at intake through `valuer`.
    pub fn with_valuer(mut self, valuer: Arc<dyn Valuer>) -> Self {
        self.intake = Intake::new(self.cases.connection().clone(), valuer);
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

fn intake_failure(error: IntakeError) -> Status {
    match error {
        IntakeError::Unavailable(unavailable) => with_reason(
            Code::Unavailable,
            "PEER_UNAVAILABLE",
            format!(
                "{unavailable}; nothing of the failing chunk was stored, retry with the same request_id"
            ),
        ),
        IntakeError::Contended(position) => with_reason(
            Code::Aborted,
            "CONCURRENT_UPLOAD",
            format!(
                "cases from record {position} on kept colliding with a concurrent upload; retry with the same request_id"
            ),
        ),
        IntakeError::Input(status) => status,
        IntakeError::RequestIdReused { .. } => with_reason(
            Code::AlreadyExists,
            "REQUEST_ID_REUSED",
            format!("{error}; nothing of this upload was stored, send it under a new request_id"),
        ),
        other => storage_failure(other),
    }
}

fn registry_failure(error: RegistryError) -> Status {
    match error {
        RegistryError::Store(error) => storage_failure(error),
        RegistryError::UnknownInstitution { .. } => {
            with_reason(Code::NotFound, "UNKNOWN_INSTITUTION", error.to_string())
        }
        RegistryError::CodeTaken { .. } => with_reason(
            Code::AlreadyExists,
            "INSTITUTION_CODE_TAKEN",
            error.to_string(),
        ),
        RegistryError::ReasonRequired { .. } => {
            bad_request(vec![("reason".into(), error.to_string())])
        }
        RegistryError::HistoryOutOfOrder { .. } => with_reason(
            Code::FailedPrecondition,
            "HISTORY_OUT_OF_ORDER",
            error.to_string(),
        ),
        RegistryError::Reused(reused) => reused.into(),
    }
}

/// A wire date as `yyyymmdd`, checked to exist.
fn read_date(
    field: &str,
    value: Option<&medpay_proto::common::v1::Date>,
    violations: &mut Vec<(String, String)>,
) -> i32 {
    let Some(date) = value else {
        violations.push((field.to_owned(), "is required".to_owned()));
        return 0;
    };
    let yyyymmdd = date.year * 10_000 + date.month * 100 + date.day;
    if institutions::date_of(yyyymmdd).is_none() {
        violations.push((
            field.to_owned(),
            format!("{}-{}-{} is not a date", date.year, date.month, date.day),
        ));
    }
    yyyymmdd
}

fn institution_to_wire(row: &InstitutionRow) -> pb::Institution {
    pb::Institution {
        code: row.code.clone(),
        name: row.name.clone(),
        region_code: row.region.to_string(),
        level: row.level.clone(),
        institution_type: row.institution_type.clone(),
        alliance_code: row.alliance_code.clone(),
    }
}

fn agreement_to_wire(row: &AgreementRow) -> pb::Agreement {
    pb::Agreement {
        agreement_id: row.agreement_id.clone(),
        valid_from: Some(wire::date_to_wire(row.valid_from)),
        valid_to: Some(wire::date_to_wire(row.valid_to)),
        status: row.status.clone(),
    }
}

fn call<M: Message>(
    principal: &Principal,
    method: &str,
    request: &M,
    request_id: &str,
    region: RegionCode,
) -> Call {
    Call::new(
        &principal.caller_id,
        request_id,
        method,
        request,
        Some(region),
    )
}

fn decode<M: Message + Default>(once: &Once) -> Result<M, Status> {
    M::decode(once.response()).map_err(storage_failure)
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
        request: Request<Streaming<pb::SubmitCasesRequest>>,
    ) -> Result<Response<pb::SubmitCasesResponse>, Status> {
        let principal = platform::principal::principal_of(&request)?;
        let mut stream = request.into_inner();
        let Some(first) = stream.message().await.map_err(stream_failure)? else {
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
            return Err(stream_message_too_large(first.encoded_len(), 0));
        }
        let request_id = first.request_id.clone();
        // Chunks are stored while the rest of the upload is still arriving; the reader stays
        // at most two chunks ahead of intake.
        let chunk_size = self.intake.chunk_size();
        let (sender, chunks) = tokio::sync::mpsc::channel(2);
        tokio::spawn(async move {
            let mut chunk = Vec::with_capacity(chunk_size);
            chunk.push(Record::from_wire(first.record, first.case_json));
            let mut position = 0u64;
            loop {
                match stream.message().await {
                    Ok(Some(message)) => {
                        position += 1;
                        if message.encoded_len() > MAX_STREAM_MESSAGE_BYTES {
                            let too_large =
                                stream_message_too_large(message.encoded_len(), position);
                            let _ = sender.send(Err(IntakeError::Input(too_large))).await;
                            return;
                        }
                        chunk.push(Record::from_wire(message.record, message.case_json));
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
                        let failed = IntakeError::Input(stream_failure(status));
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
            .map_err(intake_failure)?;
        Ok(Response::new(pb::SubmitCasesResponse {
            outcome: Some(outcome),
        }))
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
            fund: match body.fund_type {
                0 => None,
                value => Some(
                    wire::fund_type("fund_type", value)
                        .map_err(|violation| bad_request(vec![violation]))?,
                ),
            },
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
        request: Request<pb::SubmitCaseBatchRequest>,
    ) -> Result<Response<pb::SubmitCaseBatchResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        require_request_id(&body.request_id)?;
        let records = body
            .records
            .into_iter()
            .map(|record| Record::from_wire(Some(record), String::new()))
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
            .map_err(intake_failure)?;
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
        Ok(Response::new(pb::GetCaseResponse {
            versions: versions
                .into_iter()
                .map(|case| pb::CaseVersion {
                    case_json: case.case_json.clone(),
                    valuation_json: case.valuation_json.clone(),
                    stored_at_unix: case.stored_at,
                    request_id: case.request_id.clone(),
                    summary: Some(to_wire(case)),
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
        let write = call(
            &principal,
            "PutInstitution",
            &body,
            &body.request_id,
            region,
        );
        let institution = body.institution.unwrap_or_default();
        let mut violations = Vec::new();
        if institution.code.trim().is_empty() {
            violations.push(("institution.code".into(), "is required".into()));
        }
        if institution.name.trim().is_empty() {
            violations.push(("institution.name".into(), "is required".into()));
        }
        if !LEVELS.contains(&institution.level.as_str()) {
            violations.push((
                "institution.level".into(),
                format!("{:?} is not one of {LEVELS:?}", institution.level),
            ));
        }
        if !TYPES.contains(&institution.institution_type.as_str()) {
            violations.push((
                "institution.institution_type".into(),
                format!("{:?} is not one of {TYPES:?}", institution.institution_type),
            ));
        }
        let effective_from = read_date(
            "effective_from",
            body.effective_from.as_ref(),
            &mut violations,
        );
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        let row = InstitutionRow {
            code: institution.code.trim().to_owned(),
            name: institution.name.trim().to_owned(),
            region,
            level: institution.level,
            institution_type: institution.institution_type,
            alliance_code: institution.alliance_code.trim().to_owned(),
            effective_from,
            reason: body.reason.clone(),
        };
        let request_id = body.request_id.clone();
        let scope = principal.clone();
        let once =
            journal::run_once::<RegistryError, _>(self.cases.connection(), &write, move |txn| {
                Box::pin(async move {
                    let versions =
                        institutions::put_institution_within(txn, &row, &request_id, |region| {
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
            .map_err(registry_failure)?;
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
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let page = Page::from_request(body.page_size, &body.page_token)?;
        let rows = institutions::list(self.cases.connection(), region, page)
            .await
            .map_err(storage_failure)?;
        let next_page_token = page.next_token(rows.len());
        Ok(Response::new(pb::ListInstitutionsResponse {
            institutions: rows.iter().map(institution_to_wire).collect(),
            next_page_token,
        }))
    }

    async fn put_agreement(
        &self,
        request: Request<pb::PutAgreementRequest>,
    ) -> Result<Response<pb::PutAgreementResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        require_request_id(&body.request_id)?;
        let write = call(&principal, "PutAgreement", &body, &body.request_id, region);
        let agreement = body.agreement.unwrap_or_default();
        let mut violations = Vec::new();
        if body.institution_code.trim().is_empty() {
            violations.push(("institution_code".into(), "is required".into()));
        }
        if agreement.agreement_id.trim().is_empty() {
            violations.push(("agreement.agreement_id".into(), "is required".into()));
        }
        if !AGREEMENT_STATUSES.contains(&agreement.status.as_str()) {
            violations.push((
                "agreement.status".into(),
                format!(
                    "{:?} is not one of {AGREEMENT_STATUSES:?}",
                    agreement.status
                ),
            ));
        }
        let valid_from = read_date(
            "agreement.valid_from",
            agreement.valid_from.as_ref(),
            &mut violations,
        );
        let valid_to = read_date(
            "agreement.valid_to",
            agreement.valid_to.as_ref(),
            &mut violations,
        );
        if violations.is_empty() && valid_to < valid_from {
            violations.push((
                "agreement.valid_to".into(),
                format!("{valid_to} is before valid_from {valid_from}"),
            ));
        }
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        let row = AgreementRow {
            agreement_id: agreement.agreement_id.trim().to_owned(),
            valid_from,
            valid_to,
            status: agreement.status,
        };
        let institution_code = body.institution_code.trim().to_owned();
        let reason = body.reason.clone();
        let request_id = body.request_id.clone();
        let once =
            journal::run_once::<RegistryError, _>(self.cases.connection(), &write, move |txn| {
                Box::pin(async move {
                    let all = institutions::put_agreement(
                        txn,
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
            .map_err(registry_failure)?;
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
