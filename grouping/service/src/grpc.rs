//! The `medpay.grouping.v1` server: scope checks, proto ↔ domain conversion, status codes.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use grouping_domain::{GroupResult, GroupStatus, RawCase, Scratch};
use kernel::RegionCode;
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_server::GroupingService;
use platform::principal::{authorize_region, authorize_request, principal_of};
use platform::status::{bad_request, field_violation, storage_failure, with_reason};
use platform::wire::{Page, date_to_wire, decimal_to_wire, money_to_wire};
use prost::Message;
use tokio_stream::StreamExt;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::calendar::{date_from_wire, today};
use crate::catalog::{
    DEMO_DIP_SOURCE, Engine, LoadedScheme, SchemeCatalog, SchemeKey, SchemeKind, SchemeSummary,
};
use crate::store::{RegistryStore, StoredActivation, StoredScheme};
use grouping_dip::build::{BuildError, BuildOptions, BuildReport, TrimPolicy, build_from_csv};
use grouping_dip::{CompiledDirectory, DipCase, DipOutcome};
use platform::journal::{Call, Once};

/// The grouping gRPC API: the scheme registry and the compiled schemes.
#[derive(Clone)]
pub struct GroupingApi {
    pub(crate) registry: RegistryStore,
    catalog: Arc<SchemeCatalog>,
}

impl GroupingApi {
    pub fn new(registry: RegistryStore, catalog: Arc<SchemeCatalog>) -> Self {
        Self { registry, catalog }
    }

    /// A catalogue with the demo scheme and every scheme the registry remembers. A remembered
    /// scheme that no longer loads is logged and left out; it does not stop the service.
    pub async fn start(registry: RegistryStore) -> Result<Self, StartError> {
        let catalog = SchemeCatalog::with_demo().map_err(StartError::Demo)?;
        for stored in registry
            .schemes()
            .await
            .map_err(|e| StartError::Store(e.to_string()))?
        {
            match reload(&stored) {
                Ok(scheme) => {
                    catalog.insert(scheme);
                }
                Err(error) => tracing::error!(
                    scheme = %stored.scheme_id, version = %stored.version, %error,
                    "remembered scheme no longer loads"
                ),
            }
        }
        Ok(Self::new(registry, Arc::new(catalog)))
    }

    /// Activates the shipped demo scheme for `region` from `effective_from` (`yyyymmdd`) when the
    /// region has no activation yet, so that `medpay up` groups out of the box. Audited like any
    /// activation; a region that already has one is left alone.
    pub async fn activate_demo_if_unset(
        &self,
        region: RegionCode,
        effective_from: i32,
    ) -> Result<bool, crate::store::StoreError> {
        if self
            .registry
            .latest_activation_date(region)
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let Some(demo) = self
            .catalog
            .summaries()
            .into_iter()
            .find(|s| s.source == "builtin:demo")
        else {
            return Ok(false);
        };
        let activation = StoredActivation {
            region,
            effective_from,
            scheme_id: demo.key.id.clone(),
            version: demo.key.version.clone(),
            activated_by: "medpay up".into(),
        };
        let response = pb::ActivateSchemeResponse {
            activation: Some(activation_to_wire(activation.clone())),
        };
        // Journaled as the request an administrator would send for the same activation.
        let request = pb::ActivateSchemeRequest {
            request_id: format!("demo-default-{region}"),
            region_code: region.to_string(),
            scheme_id: activation.scheme_id.clone(),
            version: activation.version.clone(),
            effective_from: response.activation.as_ref().and_then(|a| a.effective_from),
        };
        let call = Call::new(
            "medpay up",
            &request.request_id,
            ACTIVATE_SCHEME,
            &request,
            Some(region),
        );
        let detail = format!(
            "region {region}: {} {} from {effective_from} (demo default)",
            demo.key.id, demo.key.version
        );
        self.registry
            .activate(&activation, &call, detail, response.encode_to_vec())
            .await?;
        Ok(true)
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::grouping_service_server::GroupingServiceServer<Self> {
        pb::grouping_service_server::GroupingServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// The scheme named by the request, or the one active for the region on the date.
    async fn resolve(
        &self,
        region: RegionCode,
        scheme_id: &str,
        version: &str,
        as_of: Option<&common::Date>,
    ) -> Result<Arc<LoadedScheme>, Status> {
        if !scheme_id.is_empty() {
            let key = SchemeKey {
                id: scheme_id.to_owned(),
                version: version.to_owned(),
            };
            return self.catalog.get(&key).ok_or_else(|| {
                with_reason(
                    Code::NotFound,
                    "SCHEME_NOT_FOUND",
                    format!("scheme {scheme_id} version {version:?} is not loaded"),
                )
            });
        }
        let date = match as_of {
            Some(date) => date_from_wire("as_of", date).map_err(|v| bad_request(vec![v]))?,
            None => today(),
        };
        self.active_scheme(region, date)
            .await
            .map_err(storage_failure)?
            .map_err(|(reason, message)| with_reason(Code::FailedPrecondition, reason, message))
    }

    /// The scheme active for `region` (or the prefecture or province above it) on `date`
    /// (`yyyymmdd`), or why there is none: (stable reason, message).
    pub(crate) async fn active_scheme(
        &self,
        region: RegionCode,
        date: i32,
    ) -> Result<Result<Arc<LoadedScheme>, (&'static str, String)>, crate::store::StoreError> {
        let timeline = self.registry.timeline(region).await?;
        Ok(self.scheme_in_force(&timeline, region, date))
    }

    /// The scheme `timeline` has in force on `date`, or why there is none.
    pub(crate) fn scheme_in_force(
        &self,
        timeline: &crate::store::ActivationTimeline,
        region: RegionCode,
        date: i32,
    ) -> Result<Arc<LoadedScheme>, (&'static str, String)> {
        let Some(activation) = timeline.in_force(date).cloned() else {
            return Err((
                "NO_ACTIVE_SCHEME",
                format!("no grouping scheme is active for region {region} on {date}"),
            ));
        };
        let key = SchemeKey {
            id: activation.scheme_id,
            version: activation.version,
        };
        self.catalog.get(&key).ok_or_else(|| {
            (
                "ACTIVE_SCHEME_NOT_LOADED",
                format!("active scheme {} {} is not loaded", key.id, key.version),
            )
        })
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the demo scheme does not load: {0}")]
    Demo(String),
    #[error("the scheme registry cannot be read: {0}")]
    Store(String),
}

fn reload(stored: &StoredScheme) -> Result<LoadedScheme, String> {
    match SchemeKind::parse(&stored.kind) {
        Some(SchemeKind::Drg) => match &stored.files_json {
            Some(json) => {
                let texts: HashMap<String, String> =
                    serde_json::from_str(json).map_err(|e| e.to_string())?;
                let files = texts
                    .into_iter()
                    .map(|(k, v)| (k, v.into_bytes()))
                    .collect();
                LoadedScheme::drg_from_files(&files).map_err(|e| e.to_string())
            }
            None => LoadedScheme::drg_from_dir(std::path::Path::new(&stored.source))
                .map_err(|e| e.to_string()),
        },
        Some(SchemeKind::Dip) => match &stored.files_json {
            Some(json) => {
                let texts: HashMap<String, String> =
                    serde_json::from_str(json).map_err(|e| e.to_string())?;
                LoadedScheme::dip_from_files(&texts).map_err(|e| e.to_string())
            }
            None => LoadedScheme::dip_from_dir(std::path::Path::new(&stored.source))
                .map_err(|e| e.to_string()),
        },
        None => Err(format!("scheme kind {:?} cannot be served", stored.kind)),
    }
}

/// Every problem of a DRG scheme as (file:line, message).
fn drg_problems(error: grouping_domain::SchemeError) -> Vec<(String, String)> {
    error
        .problems
        .into_iter()
        .map(|p| {
            let place = match p.line {
                Some(line) => format!("{}:{line}", p.file),
                None => p.file,
            };
            (place, p.message)
        })
        .collect()
}

/// Every problem of a DIP directory as (file:line, message).
fn dip_problems(error: grouping_dip::DirectoryError) -> Vec<(String, String)> {
    match error {
        grouping_dip::DirectoryError::Io { path, message } => vec![(path, message)],
        grouping_dip::DirectoryError::Invalid { problems } => problems
            .into_iter()
            .map(|p| {
                let place = if p.line == 0 {
                    p.file.clone()
                } else {
                    format!("{}:{}", p.file, p.line)
                };
                (place, p.to_string())
            })
            .collect(),
    }
}

fn status_to_wire(status: GroupStatus) -> pb::GroupStatus {
    match status {
        GroupStatus::Success => pb::GroupStatus::Success,
        GroupStatus::Fail => pb::GroupStatus::Fail,
        GroupStatus::CheckFailed => pb::GroupStatus::CheckFailed,
        GroupStatus::DxNotMapped => pb::GroupStatus::DxNotMapped,
        GroupStatus::ProcNotMapped => pb::GroupStatus::ProcNotMapped,
        GroupStatus::Ambiguous => pb::GroupStatus::Ambiguous,
    }
}

fn reason_of(status: GroupStatus) -> &'static str {
    match status {
        GroupStatus::Success => "",
        GroupStatus::Fail => "no MDC or ADRG of the scheme accepts the case (ungroupable, 0000)",
        GroupStatus::CheckFailed => {
            "the input checks failed: sex, age, newborn age in days or weight, or no diagnosis"
        }
        GroupStatus::DxNotMapped => "a diagnosis code has no entry in the scheme's diagnosis map",
        GroupStatus::ProcNotMapped => "a procedure code has no entry in the scheme's procedure map",
        GroupStatus::Ambiguous => "the surgical procedure does not belong to the case's MDC",
    }
}

pub(crate) fn scheme_ref(summary: &SchemeSummary) -> pb::SchemeRef {
    pb::SchemeRef {
        scheme_id: summary.key.id.clone(),
        version: summary.key.version.clone(),
        kind: kind_to_wire(summary.kind) as i32,
    }
}

fn kind_to_wire(kind: SchemeKind) -> pb::SchemeKind {
    match kind {
        SchemeKind::Drg => pb::SchemeKind::Drg,
        SchemeKind::Dip => pb::SchemeKind::Dip,
    }
}

fn result_to_wire(case_id: &str, result: &GroupResult, summary: &SchemeSummary) -> pb::GroupResult {
    pb::GroupResult {
        case_id: case_id.to_owned(),
        status: status_to_wire(result.status) as i32,
        mdc: result.mdc.as_str().to_owned(),
        adrg: result.adrg.as_str().to_owned(),
        drg: result.drg.as_str().to_owned(),
        scheme: Some(scheme_ref(summary)),
        dip_subtype: String::new(),
        dip_coefficient: None,
        reason: reason_of(result.status).to_owned(),
        trace_json: String::new(),
    }
}

fn summary_to_wire(summary: &SchemeSummary) -> pb::SchemeInfo {
    pb::SchemeInfo {
        scheme_id: summary.key.id.clone(),
        version: summary.key.version.clone(),
        kind: kind_to_wire(summary.kind) as i32,
        name: summary.name.clone(),
        mdc_count: summary.mdc_count,
        adrg_count: summary.adrg_count,
        drg_count: summary.drg_count,
        source: summary.source.clone(),
    }
}

/// The raw text fields of a case, owned, for the engine's borrowed view.
struct CaseText {
    diagnoses: String,
    procedures: String,
    length_of_stay: String,
}

impl CaseText {
    fn of(case: &pb::CaseInput) -> CaseText {
        CaseText {
            diagnoses: case.diagnoses.join("|"),
            procedures: case.procedures.join("|"),
            length_of_stay: case.length_of_stay_days.to_string(),
        }
    }

    fn raw<'a>(&'a self, case: &'a pb::CaseInput) -> RawCase<'a> {
        RawCase {
            gender: &case.gender,
            age: &case.age_years,
            age_days: &case.age_days,
            weight: &case.weight_grams,
            dept: &case.department,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
            length_of_stay: &self.length_of_stay,
            leaving_type: &case.discharge_type,
        }
    }
}

/// Why a scheme could not group one case.
#[derive(Debug)]
pub(crate) enum CaseRefusal {
    /// Fields a DIP directory needs are missing or malformed: every violation.
    Invalid(Vec<(String, String)>),
    /// The DIP grouper refused the case (DOMAIN.md §1: reject with a reason, never guess).
    Refused(grouping_dip::CaseError),
    /// The trace could not be serialized.
    Internal(String),
}

impl CaseRefusal {
    /// Stable machine-readable reason.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            CaseRefusal::Invalid(_) => "INVALID_CASE",
            CaseRefusal::Refused(error) => error.reason(),
            CaseRefusal::Internal(_) => "INTERNAL",
        }
    }

    /// What is wrong, for a person.
    pub(crate) fn message(&self) -> String {
        match self {
            CaseRefusal::Invalid(violations) => violations
                .iter()
                .map(|(field, description)| format!("{field}: {description}"))
                .collect::<Vec<_>>()
                .join("; "),
            CaseRefusal::Refused(error) => error.to_string(),
            CaseRefusal::Internal(message) => message.clone(),
        }
    }
}

impl From<CaseRefusal> for Status {
    fn from(refusal: CaseRefusal) -> Status {
        match refusal {
            CaseRefusal::Invalid(violations) => bad_request(violations),
            CaseRefusal::Refused(error) => {
                with_reason(Code::InvalidArgument, error.reason(), error.to_string())
            }
            CaseRefusal::Internal(message) => Status::internal(message),
        }
    }
}

pub(crate) fn group_one(
    scheme: &LoadedScheme,
    case: &pb::CaseInput,
    map_codes: bool,
    trace: bool,
    scratch: &mut Scratch,
) -> Result<pb::GroupResult, CaseRefusal> {
    match &scheme.engine {
        Engine::Drg(drg) => {
            let text = CaseText::of(case);
            let raw = text.raw(case);
            if trace {
                let traced = drg.group_traced(&raw, map_codes);
                let mut result = result_to_wire(&case.case_id, &traced.result, &scheme.summary);
                result.trace_json = serde_json::to_string(&traced)
                    .map_err(|e| CaseRefusal::Internal(format!("trace does not serialize: {e}")))?;
                Ok(result)
            } else {
                let result = drg.group(&raw, map_codes, scratch);
                Ok(result_to_wire(&case.case_id, &result, &scheme.summary))
            }
        }
        Engine::Dip(dip) => group_dip(dip, &scheme.summary, case, trace),
    }
}

/// Reads the fields DIP grouping needs, reporting every bad one.
fn dip_case(case: &pb::CaseInput) -> Result<DipCase, CaseRefusal> {
    let mut violations = Vec::new();
    let mut number = |field: &str, text: &str| -> Option<u32> {
        match text.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                violations.push((
                    format!("case.{field}"),
                    format!("{text:?} is not a whole number"),
                ));
                None
            }
        }
    };
    let age_years = number("age_years", &case.age_years);
    let age_days = if case.age_days.is_empty() {
        None
    } else {
        number("age_days", &case.age_days)
    };
    let discharge_type = if case.discharge_type.is_empty() {
        Some(1)
    } else {
        match case.discharge_type.parse::<u8>() {
            Ok(t) => Some(t),
            Err(_) => {
                violations.push((
                    "case.discharge_type".into(),
                    format!("{:?} is not a discharge type", case.discharge_type),
                ));
                None
            }
        }
    };
    let los_days = u32::try_from(case.length_of_stay_days).map_err(|_| {
        violations.push((
            "case.length_of_stay_days".into(),
            "must not be negative".into(),
        ));
    });
    let total_cost = platform::wire::money("case.total_cost", case.total_cost.as_ref())
        .map_err(|v| violations.push(v));
    let Some(principal) = case.diagnoses.first() else {
        violations.push((
            "case.diagnoses".into(),
            "needs a principal diagnosis".into(),
        ));
        return Err(CaseRefusal::Invalid(violations));
    };
    match (age_years, discharge_type, los_days, total_cost) {
        (Some(age_years), Some(discharge_type), Ok(los_days), Ok(total_cost))
            if violations.is_empty() =>
        {
            Ok(DipCase {
                principal_diagnosis: principal.clone(),
                secondary_diagnoses: case.diagnoses[1..].to_vec(),
                procedures: case.procedures.clone(),
                age_years,
                age_days,
                discharge_type,
                los_days,
                total_cost: total_cost.value(),
            })
        }
        _ => Err(CaseRefusal::Invalid(violations)),
    }
}

fn group_dip(
    directory: &CompiledDirectory,
    summary: &SchemeSummary,
    case: &pb::CaseInput,
    trace: bool,
) -> Result<pb::GroupResult, CaseRefusal> {
    let input = dip_case(case)?;
    let (outcome, trace_json) = if trace {
        let (outcome, traced) = directory
            .group_traced(&input)
            .map_err(CaseRefusal::Refused)?;
        let json = serde_json::to_string(&traced)
            .map_err(|e| CaseRefusal::Internal(format!("trace does not serialize: {e}")))?;
        (outcome, json)
    } else {
        let outcome = directory.group(&input).map_err(CaseRefusal::Refused)?;
        (outcome, String::new())
    };
    let mut result = pb::GroupResult {
        case_id: case.case_id.clone(),
        scheme: Some(scheme_ref(summary)),
        trace_json,
        ..Default::default()
    };
    match outcome {
        DipOutcome::Grouped(assignment) => {
            result.status = pb::GroupStatus::Success as i32;
            result.adrg = assignment.kind.as_str().to_owned();
            result.drg = assignment.group_code;
            result.dip_subtype = assignment
                .auxiliary
                .as_ref()
                .map(|a| a.subtype.as_str().to_owned())
                .unwrap_or_default();
            result.dip_coefficient = Some(platform::wire::decimal_to_wire(
                assignment.auxiliary_coefficient,
            ));
        }
        DipOutcome::Ungrouped { reason, .. } => {
            result.status = pb::GroupStatus::Fail as i32;
            result.reason = reason.reason().to_owned();
        }
    }
    Ok(result)
}

fn activation_to_wire(activation: StoredActivation) -> pb::Activation {
    pb::Activation {
        region_code: activation.region.to_string(),
        scheme_id: activation.scheme_id,
        version: activation.version,
        effective_from: Some(date_to_wire(activation.effective_from)),
        activated_by: activation.activated_by,
    }
}

type GroupStream = Pin<Box<dyn Stream<Item = Result<pb::GroupCasesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl GroupingService for GroupingApi {
    async fn group_case(
        &self,
        request: Request<pb::GroupCaseRequest>,
    ) -> Result<Response<pb::GroupCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let case = body
            .case
            .ok_or_else(|| field_violation("case", "is required"))?;
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
        )?;
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
        let case = body
            .case
            .ok_or_else(|| field_violation("case", "is required"))?;
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
            )?;
            return Ok(Response::new(pb::ExplainCaseResponse {
                trace_json: result.trace_json.clone(),
                result: Some(result),
                diagnoses: case
                    .diagnoses
                    .iter()
                    .map(|code| pb::NamedCode {
                        code: code.clone(),
                        name: String::new(),
                    })
                    .collect(),
                procedures: case
                    .procedures
                    .iter()
                    .map(|code| pb::NamedCode {
                        code: code.clone(),
                        name: String::new(),
                    })
                    .collect(),
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
            .map_err(|e| Status::internal(format!("trace does not serialize: {e}")))?;
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
        let page = Page::from_request(request.get_ref().page_size, &request.get_ref().page_token)?;
        let activations = self
            .registry
            .activations(region, page)
            .await
            .map_err(storage_failure)?;
        let next_page_token = page.next_token(activations.len());
        let schemes = if page.offset == 0 {
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
        let key = SchemeKey {
            id: body.scheme_id,
            version: body.version,
        };
        let scheme = self.catalog.get(&key).ok_or_else(|| {
            with_reason(
                Code::NotFound,
                "SCHEME_NOT_FOUND",
                format!("scheme {} version {:?} is not loaded", key.id, key.version),
            )
        })?;
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
        let body = request.into_inner();
        let kind = match pb::SchemeKind::try_from(body.kind) {
            Ok(pb::SchemeKind::Drg) | Ok(pb::SchemeKind::Unspecified) => SchemeKind::Drg,
            Ok(pb::SchemeKind::Dip) => SchemeKind::Dip,
            Err(_) => return Err(field_violation("kind", "is not a known scheme kind")),
        };
        let (loaded, files_json) = match (body.path.is_empty(), body.files.is_empty()) {
            (false, true) => {
                let path = std::path::Path::new(&body.path);
                let loaded = match kind {
                    SchemeKind::Drg => LoadedScheme::drg_from_dir(path).map_err(drg_problems),
                    SchemeKind::Dip => LoadedScheme::dip_from_dir(path).map_err(dip_problems),
                };
                (loaded, None)
            }
            (true, false) => {
                let mut texts = HashMap::new();
                for (name, bytes) in &body.files {
                    let text = String::from_utf8(bytes.clone()).map_err(|_| {
                        field_violation(&format!("files[{name}]"), "is not UTF-8 text")
                    })?;
                    texts.insert(name.clone(), text);
                }
                let json = serde_json::to_string(&texts)
                    .map_err(|e| Status::internal(format!("files do not serialize: {e}")))?;
                let loaded = match kind {
                    SchemeKind::Drg => {
                        LoadedScheme::drg_from_files(&body.files).map_err(drg_problems)
                    }
                    SchemeKind::Dip => LoadedScheme::dip_from_files(&texts).map_err(dip_problems),
                };
                (loaded, Some(json))
            }
            _ => {
                return Err(field_violation(
                    "path",
                    "give either a server path or the uploaded files, not both or neither",
                ));
            }
        };
        let loaded = loaded.map_err(bad_request)?;
        let summary = loaded.summary.clone();
        self.registry
            .save_scheme(&StoredScheme {
                scheme_id: summary.key.id.clone(),
                version: summary.key.version.clone(),
                kind: summary.kind.as_str().to_owned(),
                name: summary.name.clone(),
                source: summary.source.clone(),
                files_json,
            })
            .await
            .map_err(storage_failure)?;
        self.catalog.insert(loaded);
        tracing::info!(scheme = %summary.key.id, version = %summary.key.version, caller = %principal.caller_id, "scheme loaded");
        Ok(Response::new(pb::LoadSchemeResponse {
            scheme: Some(summary_to_wire(&summary)),
        }))
    }

    async fn activate_scheme(
        &self,
        request: Request<pb::ActivateSchemeRequest>,
    ) -> Result<Response<pb::ActivateSchemeResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        let mut violations = Vec::new();
        if body.request_id.is_empty() {
            violations.push(("request_id".to_owned(), "is required".to_owned()));
        }
        let effective_from = match body.effective_from.as_ref() {
            Some(date) => date_from_wire("effective_from", date)
                .map_err(|v| violations.push(v))
                .ok(),
            None => {
                violations.push(("effective_from".to_owned(), "is required".to_owned()));
                None
            }
        };
        let Some(effective_from) = effective_from.filter(|_| violations.is_empty()) else {
            return Err(bad_request(violations));
        };
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            ACTIVATE_SCHEME,
            &body,
            Some(region),
        );
        if let Some(stored) = self.registry.replay(&call).await? {
            return decode_replay(&stored);
        }
        let key = SchemeKey {
            id: body.scheme_id.clone(),
            version: body.version.clone(),
        };
        if self.catalog.get(&key).is_none() {
            return Err(with_reason(
                Code::FailedPrecondition,
                "SCHEME_NOT_FOUND",
                format!("scheme {} version {:?} is not loaded", key.id, key.version),
            ));
        }
        // Cases keep the scheme version they were grouped with; an activation may only look
        // forward from the region's latest one, so no earlier grouping is silently re-decided.
        if let Some(latest) = self
            .registry
            .latest_activation_date(region)
            .await
            .map_err(storage_failure)?
            && effective_from <= latest
        {
            return Err(with_reason(
                Code::FailedPrecondition,
                "ACTIVATION_NOT_AFTER_LATEST",
                format!(
                    "region {region} already has an activation from {latest}; a new one must start later"
                ),
            ));
        }
        let activation = StoredActivation {
            region,
            effective_from,
            scheme_id: key.id.clone(),
            version: key.version.clone(),
            activated_by: principal.caller_id.clone(),
        };
        let response = pb::ActivateSchemeResponse {
            activation: Some(activation_to_wire(activation.clone())),
        };
        let detail = format!(
            "region {region}: {} {} from {effective_from}",
            key.id, key.version
        );
        match self
            .registry
            .activate(&activation, &call, detail, response.encode_to_vec())
            .await?
        {
            Once::Done(_) => Ok(Response::new(response)),
            Once::Replayed(stored) => decode_replay(&stored),
        }
    }

    async fn build_dip_directory(
        &self,
        request: Request<pb::BuildDipDirectoryRequest>,
    ) -> Result<Response<pb::BuildDipDirectoryResponse>, Status> {
        self.build_dip(request).await
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

fn decode_replay(stored: &[u8]) -> Result<Response<pb::ActivateSchemeResponse>, Status> {
    pb::ActivateSchemeResponse::decode(stored)
        .map(Response::new)
        .map_err(|e| Status::internal(format!("stored response does not decode: {e}")))
}

/// Largest request or response the grouping servers accept: a history of about three million
/// cases as CSV, or a batch of settlement cases.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The method names stored with their request ids.
const BUILD_DIP_DIRECTORY: &str = "BuildDipDirectory";
const ACTIVATE_SCHEME: &str = "ActivateScheme";

/// Bad history records listed in one BadRequest; the message says how many more there are.
const MAX_RECORD_VIOLATIONS: usize = 100;

fn decode_stored<T: Message + Default>(stored: &[u8]) -> Result<Response<T>, Status> {
    T::decode(stored)
        .map(Response::new)
        .map_err(|e| Status::internal(format!("stored response does not decode: {e}")))
}

fn decimal_field(
    field: &str,
    value: Option<&common::Decimal>,
    violations: &mut Vec<(String, String)>,
) -> Option<rust_decimal::Decimal> {
    let text = value.map_or("", |d| d.value.as_str());
    if text.is_empty() {
        return None;
    }
    match text.parse::<rust_decimal::Decimal>() {
        Ok(value) => Some(value),
        Err(_) => {
            violations.push((
                field.to_owned(),
                format!("{text:?} is not a decimal number"),
            ));
            None
        }
    }
}

fn treatment_to_wire(treatment: grouping_dip::TreatmentType) -> i32 {
    use grouping_dip::TreatmentType as T;
    (match treatment {
        T::Conservative => pb::DipTreatment::Conservative,
        T::Diagnostic => pb::DipTreatment::Diagnostic,
        T::Therapeutic => pb::DipTreatment::Therapeutic,
        T::Interventional => pb::DipTreatment::Interventional,
        T::Surgical => pb::DipTreatment::Surgical,
    }) as i32
}

fn group_kind_to_wire(kind: grouping_dip::GroupKind) -> i32 {
    use grouping_dip::GroupKind as K;
    (match kind {
        K::Core => pb::DipGroupKind::Core,
        K::Basic => pb::DipGroupKind::Basic,
        K::Comprehensive => pb::DipGroupKind::Comprehensive,
    }) as i32
}

fn report_to_wire(report: &BuildReport) -> pb::DipBuildReport {
    pb::DipBuildReport {
        years: report
            .years
            .iter()
            .map(|y| pb::DipBuildYear {
                year: y.year,
                weight: Some(decimal_to_wire(y.weight.normalize())),
                cases: y.cases,
            })
            .collect(),
        cases_read: report.cases_read,
        cases_trimmed: report.cases_trimmed,
        ignored_procedure_codes: report.ignored_procedure_codes,
        reference_mean_cost: Some(decimal_to_wire(report.reference_mean_cost)),
        groups: report
            .groups
            .iter()
            .map(|g| pb::DipGroupReport {
                code: g.code.clone(),
                kind: group_kind_to_wire(g.kind),
                treatment: treatment_to_wire(g.treatment),
                diagnosis: g.diagnosis.clone(),
                procedures: g.procedures.clone(),
                cases: g.cases,
                trimmed_cases: g.trimmed_cases,
                mean_cost: Some(money_to_wire(g.weighted_mean_cost)),
                cv: g.cv.map(decimal_to_wire),
                score: Some(decimal_to_wire(g.score)),
            })
            .collect(),
        riv: report.riv.map(decimal_to_wire),
        combinations: report
            .combinations
            .iter()
            .map(|c| pb::DipCombinationReport {
                diagnosis_category: c.diagnosis_category.clone(),
                procedures: c.procedures.clone(),
                treatment: treatment_to_wire(c.treatment),
                cases: c.cases,
                trimmed_cases: c.trimmed_cases,
                group: c.group.clone(),
            })
            .collect(),
    }
}

/// The request field a build option comes from.
fn option_field(field: &str) -> &'static str {
    match field {
        "years" => "years",
        "min_cases" => "min_cases",
        "score_scale" => "score_scale",
        "year_weights" => "options.year_weights",
        "trim" => "options.trimming",
        "procedure_types" => "options.procedure_types_scheme_id",
        _ => "options",
    }
}

fn build_error_status(error: BuildError) -> Status {
    match error {
        BuildError::BadHeader { why } => {
            field_violation("history_csv", format!("header (line 1): {why}"))
        }
        BuildError::InvalidRecords { problems } => {
            let total = problems.len();
            let mut violations: Vec<(String, String)> = problems
                .iter()
                .take(MAX_RECORD_VIOLATIONS)
                .map(|p| {
                    (
                        "history_csv".to_owned(),
                        format!("line {}: {}: {}", p.line, p.kind.reason(), p.kind),
                    )
                })
                .collect();
            if total > MAX_RECORD_VIOLATIONS {
                violations.push((
                    "history_csv".to_owned(),
                    format!("… and {} more bad records", total - MAX_RECORD_VIOLATIONS),
                ));
            }
            bad_request(violations)
        }
        BuildError::BadOptions { field, why } => field_violation(option_field(field), why),
        BuildError::NoCases => field_violation(
            "history_csv",
            "has no case in a year with a positive weight",
        ),
        BuildError::Overflow => with_reason(
            Code::InvalidArgument,
            "OVERFLOW",
            "the history's cost sums overflow the decimal range",
        ),
        BuildError::Io { message } => {
            Status::internal(format!("the history could not be read: {message}"))
        }
        BuildError::Directory(error) => {
            Status::internal(format!("the built directory is invalid: {error}"))
        }
    }
}

impl GroupingApi {
    /// The build options of a request; every bad field is reported at once.
    fn build_options(
        &self,
        region: RegionCode,
        body: &pb::BuildDipDirectoryRequest,
    ) -> Result<BuildOptions, Status> {
        let mut violations = Vec::new();
        let defaults = pb::DipBuildOptions::default();
        let extra = body.options.as_ref().unwrap_or(&defaults);
        let procedure_types = self.procedure_types(extra).unwrap_or_else(|violation| {
            violations.push(violation);
            Default::default()
        });
        let mut options = BuildOptions::new(region, procedure_types);
        for (i, &year) in body.years.iter().enumerate() {
            if let Err(violation) = platform::wire::year(&format!("years[{i}]"), year) {
                violations.push(violation);
            }
        }
        options.years = body.years.clone();
        if body.min_cases > 0 {
            options.min_cases = u64::from(body.min_cases);
        }
        if let Some(scale) =
            decimal_field("score_scale", body.score_scale.as_ref(), &mut violations)
        {
            options.score_scale = scale;
        }
        if !extra.year_weights.is_empty() {
            options.year_weights = extra
                .year_weights
                .iter()
                .enumerate()
                .filter_map(|(i, w)| {
                    let field = format!("options.year_weights[{i}]");
                    let weight = decimal_field(&field, Some(w), &mut violations);
                    if weight.is_none() && w.value.is_empty() {
                        violations.push((field, "is required".to_owned()));
                    }
                    weight
                })
                .collect();
        }
        if let Some(trimming) = &extra.trimming {
            options.trim = if trimming.none {
                TrimPolicy::None
            } else {
                let one_and_a_half = rust_decimal::Decimal::new(15, 1);
                TrimPolicy::Iqr {
                    lower_multiple: decimal_field(
                        "options.trimming.lower_multiple",
                        trimming.lower_multiple.as_ref(),
                        &mut violations,
                    )
                    .unwrap_or(one_and_a_half),
                    upper_multiple: decimal_field(
                        "options.trimming.upper_multiple",
                        trimming.upper_multiple.as_ref(),
                        &mut violations,
                    )
                    .unwrap_or(one_and_a_half),
                }
            };
        }
        if !extra.directory_id.is_empty() {
            options.directory_id = extra.directory_id.clone();
        }
        if !extra.directory_name.is_empty() {
            options.directory_name = extra.directory_name.clone();
        }
        if !extra.directory_version.is_empty() {
            options.directory_version = extra.directory_version.clone();
        }
        if extra.directory_year != 0 {
            match platform::wire::year("options.directory_year", extra.directory_year) {
                Ok(year) => options.directory_year = Some(year),
                Err(violation) => violations.push(violation),
            }
        }
        options.report_combinations = extra.report_combinations;
        if body.history_csv.is_empty() {
            violations.push(("history_csv".to_owned(), "is required".to_owned()));
        }
        if violations.is_empty() {
            Ok(options)
        } else {
            Err(bad_request(violations))
        }
    }

    /// The procedure-type table the build classifies procedures with: a loaded DIP directory's,
    /// or the demo directory's.
    fn procedure_types(
        &self,
        options: &pb::DipBuildOptions,
    ) -> Result<BTreeMap<String, grouping_dip::TreatmentType>, (String, String)> {
        let field = "options.procedure_types_scheme_id";
        let scheme = if options.procedure_types_scheme_id.is_empty() {
            self.catalog
                .summaries()
                .into_iter()
                .find(|s| s.source == DEMO_DIP_SOURCE)
                .and_then(|s| self.catalog.get(&s.key))
                .ok_or_else(|| {
                    (
                        field.to_owned(),
                        "the demo DIP directory is not loaded".to_owned(),
                    )
                })?
        } else {
            let key = SchemeKey {
                id: options.procedure_types_scheme_id.clone(),
                version: options.procedure_types_version.clone(),
            };
            self.catalog.get(&key).ok_or_else(|| {
                (
                    field.to_owned(),
                    format!("scheme {} version {:?} is not loaded", key.id, key.version),
                )
            })?
        };
        match &scheme.engine {
            Engine::Dip(directory) => Ok(directory
                .procedure_types()
                .map(|(code, treatment)| (code.to_owned(), treatment))
                .collect()),
            Engine::Drg(_) => Err((
                field.to_owned(),
                format!(
                    "{} is a DRG scheme, not a DIP directory",
                    scheme.summary.key.id
                ),
            )),
        }
    }

    async fn build_dip(
        &self,
        request: Request<pb::BuildDipDirectoryRequest>,
    ) -> Result<Response<pb::BuildDipDirectoryResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.into_inner();
        // Only a build that loads is a write; fingerprinting copies the history, so only then.
        let call = if body.load {
            if body.request_id.is_empty() {
                return Err(field_violation(
                    "request_id",
                    "is required when load is set",
                ));
            }
            let call = Call::new(
                &principal.caller_id,
                &body.request_id,
                BUILD_DIP_DIRECTORY,
                &body,
                Some(region),
            );
            if let Some(stored) = self.registry.replay(&call).await? {
                return decode_stored(&stored);
            }
            Some(call)
        } else {
            None
        };
        let options = self.build_options(region, &body)?;
        let history = body.history_csv;
        // Building is CPU-bound (seconds for millions of cases): off the async workers.
        let built =
            tokio::task::spawn_blocking(move || build_from_csv(history.as_bytes(), &options))
                .await
                .map_err(|e| Status::internal(format!("the build did not finish: {e}")))?
                .map_err(build_error_status)?;
        let files = built.directory.files().map_err(|e| {
            Status::internal(format!("the built directory does not serialize: {e}"))
        })?;
        let mut response = pb::BuildDipDirectoryResponse {
            files: files.into_iter().collect(),
            report: Some(report_to_wire(&built.report)),
            scheme: None,
        };
        let Some(call) = call else {
            return Ok(Response::new(response));
        };
        // Loaded exactly as LoadScheme loads an upload of the returned files.
        let loaded = LoadedScheme::dip_from_files(&response.files)
            .map_err(|e| Status::internal(format!("the built directory does not load: {e}")))?;
        let summary = loaded.summary.clone();
        let exists = || {
            with_reason(
                Code::AlreadyExists,
                "SCHEME_VERSION_EXISTS",
                format!(
                    "scheme {} version {} is already loaded; build with another \
                     options.directory_version or options.directory_id",
                    summary.key.id, summary.key.version
                ),
            )
        };
        if self.catalog.get(&summary.key).is_some()
            || self
                .registry
                .has_scheme(&summary.key.id, &summary.key.version)
                .await
                .map_err(storage_failure)?
        {
            return Err(exists());
        }
        response.scheme = Some(summary_to_wire(&summary));
        let files_json = serde_json::to_string(&response.files)
            .map_err(|e| Status::internal(format!("files do not serialize: {e}")))?;
        let stored = StoredScheme {
            scheme_id: summary.key.id.clone(),
            version: summary.key.version.clone(),
            kind: summary.kind.as_str().to_owned(),
            name: summary.name.clone(),
            source: summary.source.clone(),
            files_json: Some(files_json),
        };
        let detail = format!(
            "region {region}: built and loaded {} {} ({} groups from {} cases)",
            summary.key.id,
            summary.key.version,
            built.report.groups.len(),
            built.report.cases_read
        );
        match self
            .registry
            .save_scheme_once(&stored, &call, detail, response.encode_to_vec())
            .await
        {
            Ok(Once::Done(_)) => {
                self.catalog.insert(loaded);
                tracing::info!(scheme = %summary.key.id, version = %summary.key.version, caller = %principal.caller_id, "DIP directory built and loaded");
                Ok(Response::new(response))
            }
            Ok(Once::Replayed(stored)) => decode_stored(&stored),
            Err(error @ crate::store::StoreError::Reused(_)) => Err(error.into()),
            // Another request loaded the same version meanwhile.
            Err(_)
                if self
                    .registry
                    .has_scheme(&summary.key.id, &summary.key.version)
                    .await
                    .unwrap_or(false) =>
            {
                Err(exists())
            }
            Err(error) => Err(storage_failure(error)),
        }
    }
}
