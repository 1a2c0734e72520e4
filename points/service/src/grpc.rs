//! The `medpay.points.v1` server: scope checks, proto ↔ domain conversion, status codes.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};
use kernel::{Decimal, FundType, Money, Principal, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::points::internal::v1 as internal;
use medpay_proto::points::v1 as pb;
use medpay_proto::points::v1::points_service_server::PointsService;
use platform::principal::{authorize_region, authorize_request, principal_of};
use platform::status::{bad_request, field_violation};
use platform::wire::{self, Violation};
use points_domain::calibration::{CalibrationOptions, HistoricalCase, TrimRule};
use points_domain::policy::UnstableRule;
use points_domain::{
    CaseForValuation, CivilDate, GroupStatus, GroupedCase, HospitalLevel, SchemeKind,
    SpecialCaseDecision, ValuationPolicy,
};
use prost::Message;
use serde::Deserialize;
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_types::StatusExt;

use crate::breakdown::WireWriter;
pub use crate::choice::{CaseError, Chooser, LoadedTable, TableDocument, Tables, Timeline};
use crate::status::{DomainError, policy_violations, store_status};
use crate::store::{StoredTable, TableKey, TableStatus, TableStore};
use platform::journal::Call;

/// The points gRPC API over a store.
#[derive(Clone)]
pub struct PointsApi {
    tables: Tables,
}

impl PointsApi {
    pub fn new(tables: TableStore) -> Self {
        Self {
            tables: Tables::new(tables),
        }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::points_service_server::PointsServiceServer<Self> {
        pb::points_service_server::PointsServiceServer::new(self)
    }

    /// The internal service other contexts value cases through (never exposed at the edge).
    pub fn into_internal_server(
        self,
    ) -> internal::points_internal_service_server::PointsInternalServiceServer<Self> {
        internal::points_internal_service_server::PointsInternalServiceServer::new(self)
            .max_decoding_message_size(crate::internal::MAX_BATCH_BYTES)
            .max_encoding_message_size(crate::internal::MAX_BATCH_BYTES)
    }

    /// A valuer of cases of `region` under `year`'s tables.
    pub fn valuer(&self, region: RegionCode, year: i32) -> CaseValuer {
        CaseValuer::new(self.tables.chooser(region, year))
    }
}

/// Values the wire cases of one region and year, each with the table version in force on its
/// discharge date.
pub struct CaseValuer {
    chooser: Chooser,
    writer: WireWriter,
}

/// How far [`CaseValuer::start`] got with a case.
#[expect(
    clippy::large_enum_variant,
    reason = "a step is moved once, right after it is made; boxing the valuation would allocate for every case"
)]
pub enum Step {
    /// Valued, or refused.
    Done(Result<pb::CaseValuation, CaseError>),
    /// The table versions of the case's fund must be read first ([`Chooser::load`]); then
    /// [`CaseValuer::finish`] values it.
    Load(FundType, Box<CaseForValuation>),
}

impl CaseValuer {
    pub fn new(chooser: Chooser) -> Self {
        Self {
            chooser,
            writer: WireWriter::new(),
        }
    }

    pub fn chooser(&mut self) -> &mut Chooser {
        &mut self.chooser
    }

    /// Values a case at once when its fund's table versions are known, which is every case but
    /// the first of each fund.
    pub fn start(&mut self, case: Option<pb::CaseForValuation>) -> Step {
        let case = match case {
            Some(case) => case,
            None => {
                return Step::Done(Err(CaseError::Case(field_violation("case", "is required"))));
            }
        };
        match case_from_wire(case) {
            Err(violations) => Step::Done(Err(CaseError::Case(bad_request(violations)))),
            Ok(domain) if self.chooser.knows(domain.fund_type) => Step::Done(self.finish(domain)),
            Ok(domain) => Step::Load(domain.fund_type, Box::new(domain)),
        }
    }

    /// Values a converted case whose fund's table versions are known.
    pub fn finish(&mut self, mut case: CaseForValuation) -> Result<pb::CaseValuation, CaseError> {
        let table = self.chooser.choose(case.fund_type, case.discharge_date)?;
        let document = &table.document;
        // The wire case carries no scheme: a region values its cases by its main method.
        case.grouping.scheme = document.policy.main_method;
        let valuation = points_domain::valuate(&document.policy, &document.tables, &case)
            .map_err(|e| CaseError::Case(Status::from(DomainError::from(e))))?;
        Ok(self
            .writer
            .valuation(std::mem::take(&mut case.list_id), &valuation, &table))
    }

    /// Values one case, reading its fund's table versions first when needed.
    pub async fn value(
        &mut self,
        case: Option<pb::CaseForValuation>,
    ) -> Result<pb::CaseValuation, CaseError> {
        match self.start(case) {
            Step::Done(result) => result,
            Step::Load(fund, case) => {
                let timeline = self.chooser.load(fund).await.map_err(CaseError::Service)?;
                self.chooser.learn(fund, timeline);
                self.finish(*case)
            }
        }
    }
}

fn status_to_wire(status: TableStatus) -> i32 {
    match status {
        TableStatus::Draft => pb::TableStatus::Draft as i32,
        TableStatus::Active => pb::TableStatus::Active as i32,
        TableStatus::Superseded => pb::TableStatus::Superseded as i32,
    }
}

fn to_wire(table: &StoredTable) -> pb::ValuationTable {
    pb::ValuationTable {
        region_code: table.region.to_string(),
        year: table.year,
        fund_type: wire::fund_type_to_wire(table.fund),
        version: table.version,
        status: status_to_wire(table.status),
        document_json: table.document_json.clone(),
        effective_from: table.effective_from.map(wire::date_to_wire),
    }
}

fn date(field: &str, value: Option<&common::Date>) -> Result<CivilDate, Violation> {
    let value = value.ok_or_else(|| (field.to_owned(), "is required".to_owned()))?;
    let month = u32::try_from(value.month).unwrap_or(0);
    let day = u32::try_from(value.day).unwrap_or(0);
    CivilDate::new(value.year, month, day).map_err(|e| (field.to_owned(), e.to_string()))
}

fn decimal(field: &str, value: Option<&common::Decimal>) -> Result<Option<Decimal>, Violation> {
    match value
        .map(|d| d.value.as_str())
        .filter(|text| !text.is_empty())
    {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|e: rust_decimal::Error| (field.to_owned(), e.to_string())),
    }
}

/// Collects a field's value, or its violation.
fn take<T>(result: Result<T, Violation>, violations: &mut Vec<Violation>) -> Option<T> {
    result.map_err(|v| violations.push(v)).ok()
}

fn group_status(value: &str) -> Option<GroupStatus> {
    match value {
        "SUCCESS" | "GROUP_STATUS_SUCCESS" | "GROUPED" => Some(GroupStatus::Grouped),
        "AMBIGUOUS" | "GROUP_STATUS_AMBIGUOUS" => Some(GroupStatus::Ambiguous),
        // Every way grouping can fail to place a case is 无法入组 here.
        "FAIL"
        | "GROUP_STATUS_FAIL"
        | "CHECK_FAILED"
        | "GROUP_STATUS_CHECK_FAILED"
        | "DX_NOT_MAPPED"
        | "GROUP_STATUS_DX_NOT_MAPPED"
        | "PROC_NOT_MAPPED"
        | "GROUP_STATUS_PROC_NOT_MAPPED"
        | "UNGROUPABLE" => Some(GroupStatus::Ungroupable),
        _ => None,
    }
}

/// The domain case of a wire case, with every violation reported at once under `case.`.
pub fn case_from_wire(case: pb::CaseForValuation) -> Result<CaseForValuation, Vec<Violation>> {
    let mut v = Vec::new();
    if case.hospital_code.trim().is_empty() {
        v.push(("case.hospital_code".into(), "is required".into()));
    }
    let level = HospitalLevel::from_code(&case.hospital_level);
    if level.is_none() {
        v.push((
            "case.hospital_level".into(),
            format!(
                "{:?} is not a level: use 3A, 3B, 2A, 2B, 1 or community",
                case.hospital_level
            ),
        ));
    }
    let fund = take(wire::fund_type("case.fund_type", case.fund_type), &mut v);
    let status = group_status(&case.group_status);
    if status.is_none() {
        v.push((
            "case.group_status".into(),
            format!(
                "{:?} is not a grouping status: use SUCCESS, AMBIGUOUS, FAIL, CHECK_FAILED, \
                 DX_NOT_MAPPED or PROC_NOT_MAPPED",
                case.group_status
            ),
        ));
    }
    // A case grouping could not place has no group; a placed one must name it.
    if status != Some(GroupStatus::Ungroupable) && case.group_code.trim().is_empty() {
        v.push(("case.group_code".into(), "is required".into()));
    }
    let total_cost = take(
        wire::money("case.total_cost", case.total_cost.as_ref()),
        &mut v,
    );
    let burden = match case.individual_burden.as_ref() {
        Some(m) if !m.yuan.is_empty() => {
            take(wire::money("case.individual_burden", Some(m)), &mut v)
        }
        _ => Some(Money::ZERO),
    };
    let admission = take(
        date("case.admission_date", case.admission_date.as_ref()),
        &mut v,
    );
    let discharge = take(
        date("case.discharge_date", case.discharge_date.as_ref()),
        &mut v,
    );
    let discharge_type = case.discharge_type.trim().parse::<u8>().ok();
    if discharge_type.is_none() {
        v.push((
            "case.discharge_type".into(),
            format!("{:?} is not a discharge type code", case.discharge_type),
        ));
    }
    let extra = match case.special_case_points.as_ref() {
        Some(d) if !d.value.is_empty() => {
            take(wire::points("case.special_case_points", Some(d)), &mut v)
        }
        _ => None,
    };
    let aux = take(
        decimal(
            "case.dip_aux_coefficient",
            case.dip_aux_coefficient.as_ref(),
        ),
        &mut v,
    )
    .flatten();
    let special_case = match (case.special_case_ffs, extra) {
        (true, Some(_)) => {
            v.push((
                "case.special_case_points".into(),
                "must be empty when special_case_ffs is set".into(),
            ));
            None
        }
        (true, None) => Some(SpecialCaseDecision::FeeForService),
        (false, Some(points)) => Some(SpecialCaseDecision::ExtraPoints(points)),
        (false, None) => None,
    };
    let stay_hours = match u32::try_from(case.stay_hours) {
        Ok(0) => None,
        Ok(hours) => Some(hours),
        Err(_) => {
            v.push(("case.stay_hours".into(), "must not be negative".into()));
            None
        }
    };
    match (
        level,
        fund,
        status,
        total_cost,
        burden,
        admission,
        discharge,
        discharge_type,
    ) {
        (
            Some(level),
            Some(fund),
            Some(status),
            Some(total_cost),
            Some(burden),
            Some(admission),
            Some(discharge),
            Some(discharge_type),
        ) if v.is_empty() => Ok(CaseForValuation {
            hospital_code: case.hospital_code,
            list_id: case.case_id,
            hospital_level: level,
            fund_type: fund,
            grouping: GroupedCase {
                scheme: SchemeKind::Drg,
                group_code: case.group_code,
                adrg: case.adrg,
                mdc: String::new(),
                status,
                dip_score: None,
                dip_aux_coefficient: aux,
            },
            principal_diagnosis: case.principal_diagnosis,
            principal_procedure: (!case.principal_procedure.is_empty())
                .then_some(case.principal_procedure),
            department: case.department,
            admission_date: admission,
            discharge_date: discharge,
            stay_hours,
            discharge_type,
            total_cost,
            in_policy_cost: None,
            individual_burden: burden,
            planned_readmission: false,
            prior_episode_days: 0,
            special_case,
        }),
        _ => Err(v),
    }
}

/// The answer for a case that could not be valued, with the status's message and reason.
pub fn case_failure(sequence: u64, status: &Status) -> pb::ValueCasesResponse {
    let error_reason = if status.code() == Code::InvalidArgument {
        "INVALID_CASE".to_owned()
    } else {
        status
            .get_error_details()
            .error_info()
            .map(|info| info.reason.clone())
            .unwrap_or_else(|| "VALUATION_REFUSED".to_owned())
    };
    pb::ValueCasesResponse {
        sequence,
        valuation: None,
        error: status.message().to_owned(),
        error_reason,
    }
}

fn request_id(value: &str, violations: &mut Vec<Violation>) {
    if value.trim().is_empty() {
        violations.push(("request_id".into(), "is required".into()));
    }
}

/// Reads `year` and `fund_type`, adding their violations to `violations`.
fn year_fund(year: i32, fund: i32, violations: &mut Vec<Violation>) -> Option<(i32, FundType)> {
    let year = take(wire::year("year", year), violations);
    let fund = take(wire::fund_type("fund_type", fund), violations);
    year.zip(fund)
}

/// Parses and validates a table document for `key`; every problem is a violation under
/// `document_json`.
fn check_document(text: &str, key: TableKey) -> Result<TableDocument, Vec<Violation>> {
    let document: TableDocument = serde_json::from_str(text)
        .map_err(|e| vec![("document_json".to_owned(), e.to_string())])?;
    let mut v = Vec::new();
    for (prefix, region, year, fund) in [
        (
            "document_json.policy",
            document.policy.region,
            document.policy.year,
            document.policy.fund_type,
        ),
        (
            "document_json.tables",
            document.tables.region,
            document.tables.year,
            document.tables.fund_type,
        ),
    ] {
        if region != key.region {
            v.push((
                format!("{prefix}.region"),
                format!("is {region}, the request is for {}", key.region),
            ));
        }
        if year != key.year {
            v.push((
                format!("{prefix}.year"),
                format!("is {year}, the request is for {}", key.year),
            ));
        }
        if fund != key.fund {
            v.push((
                format!("{prefix}.fund_type"),
                format!("is {fund}, the request is for {}", key.fund),
            ));
        }
    }
    if let Err(errors) = document.policy.validate() {
        v.extend(policy_violations("document_json.policy.", &errors));
    }
    if let Err(errors) = document.tables.validate(&document.policy) {
        v.extend(policy_violations("document_json.tables.", &errors));
    }
    if v.is_empty() { Ok(document) } else { Err(v) }
}

/// A write of `method` with `request`, by `principal` for the region of `key`.
fn call<M: Message>(
    principal: &Principal,
    request_id: &str,
    method: &str,
    request: &M,
    key: TableKey,
) -> Call {
    Call::new(
        &principal.caller_id,
        request_id,
        method,
        request,
        Some(key.region),
    )
}

fn replayed<T: Message + Default>(bytes: &[u8]) -> Result<T, Status> {
    T::decode(bytes).map_err(platform::status::storage_failure)
}

/// Calibration options as the request's JSON gives them; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalibrateOptionsJson {
    scheme: Option<SchemeKind>,
    year_weights: Option<BTreeMap<i32, Decimal>>,
    trim: Option<TrimRule>,
    scale: Option<Decimal>,
    unstable: Option<UnstableRule>,
    coefficient_effective_from: Option<CivilDate>,
}

/// One row of `cases_csv`.
struct CsvCase {
    year: i32,
    hospital_code: String,
    hospital_level: Option<HospitalLevel>,
    group_code: String,
    total_cost: Money,
}

/// The columns of `cases_csv`, in order, as its header line names them.
pub const CALIBRATION_COLUMNS: [&str; 5] = [
    "year",
    "hospital_code",
    "hospital_level",
    "group_code",
    "total_cost",
];

/// The most row violations reported for one CSV; more would drown the first ones.
const MAX_CSV_VIOLATIONS: usize = 50;

/// Parses historical cases: a header line `year,hospital_code,hospital_level,group_code,total_cost`
/// then one case a line (hospital level may be empty; total cost in yuan). Every bad cell is a
/// violation `cases_csv.line N.column`.
fn parse_cases_csv(text: &str) -> Result<Vec<CsvCase>, Vec<Violation>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if header != CALIBRATION_COLUMNS {
        return Err(vec![(
            "cases_csv".into(),
            format!(
                "the first line must be the header {}",
                CALIBRATION_COLUMNS.join(",")
            ),
        )]);
    }
    let mut cases = Vec::new();
    let mut v = Vec::new();
    for (index, line) in lines {
        let at = |column: &str| format!("cases_csv.line {}.{column}", index + 1);
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != CALIBRATION_COLUMNS.len() {
            v.push((
                format!("cases_csv.line {}", index + 1),
                format!("has {} columns, expected 5", cells.len()),
            ));
            continue;
        }
        let year = cells[0].parse::<i32>().ok();
        if year.is_none() {
            v.push((at("year"), format!("{:?} is not a year", cells[0])));
        }
        let level = if cells[2].is_empty() {
            Some(None)
        } else {
            HospitalLevel::from_code(cells[2]).map(Some)
        };
        if level.is_none() {
            v.push((
                at("hospital_level"),
                format!("{:?} is not a level", cells[2]),
            ));
        }
        if cells[3].is_empty() {
            v.push((at("group_code"), "is required".into()));
        }
        let cost = cells[4]
            .parse::<Money>()
            .map_err(|e| v.push((at("total_cost"), e.to_string())))
            .ok();
        if let (Some(year), Some(level), Some(cost)) = (year, level, cost) {
            cases.push(CsvCase {
                year,
                hospital_code: cells[1].to_owned(),
                hospital_level: level,
                group_code: cells[3].to_owned(),
                total_cost: cost,
            });
        }
        if v.len() >= MAX_CSV_VIOLATIONS {
            break;
        }
    }
    if v.is_empty() { Ok(cases) } else { Err(v) }
}

type ValueStream = Pin<Box<dyn Stream<Item = Result<pb::ValueCasesResponse, Status>> + Send>>;

type Loading = Pin<Box<dyn Future<Output = Result<Timeline, Status>> + Send>>;

/// A case of a stream waiting for its fund's table versions.
struct Waiting {
    sequence: u64,
    fund: FundType,
    case: Box<CaseForValuation>,
    loading: Loading,
}

/// One ValueCases stream: reads the next message when the response body asks for the next
/// result, and values it in place. Only the first case of each fund waits (for its table
/// versions); every other case is valued without creating a future, in the task that writes the
/// response, so no per-case hand-over between tasks, and while the client's messages are already
/// buffered the encoder fills whole frames before writing.
struct Valuing {
    region_text: String,
    valuer: CaseValuer,
    input: Streaming<pb::ValueCasesRequest>,
    first: Option<pb::ValueCasesRequest>,
    sequence: u64,
    waiting: Option<Waiting>,
    /// Set once the stream failed; it then ends.
    failed: bool,
}

fn answer(
    sequence: u64,
    result: Result<pb::CaseValuation, CaseError>,
) -> Result<pb::ValueCasesResponse, Status> {
    match result {
        Ok(valuation) => Ok(pb::ValueCasesResponse {
            sequence,
            valuation: Some(valuation),
            ..Default::default()
        }),
        Err(CaseError::Case(status)) => Ok(case_failure(sequence, &status)),
        Err(CaseError::Service(status)) => Err(status),
    }
}

impl Stream for Valuing {
    type Item = Result<pb::ValueCasesResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        if let Some(waiting) = this.waiting.as_mut() {
            let loaded = ready!(waiting.loading.as_mut().poll(cx));
            let Some(Waiting {
                sequence,
                fund,
                case,
                ..
            }) = this.waiting.take()
            else {
                return Poll::Ready(None);
            };
            let item = match loaded {
                Ok(timeline) => {
                    this.valuer.chooser().learn(fund, timeline);
                    answer(sequence, this.valuer.finish(*case))
                }
                Err(status) => Err(status),
            };
            this.failed = item.is_err();
            return Poll::Ready(Some(item));
        }
        let message = match this.first.take() {
            Some(first) => first,
            None => match ready!(Pin::new(&mut this.input).poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Ok(message)) => message,
                Some(Err(status)) => {
                    this.failed = true;
                    return Poll::Ready(Some(Err(status)));
                }
            },
        };
        let sequence = this.sequence;
        this.sequence += 1;
        let step = if !message.region_code.is_empty() && message.region_code != this.region_text {
            Step::Done(Err(CaseError::Case(field_violation(
                "region_code",
                "the stream's region is set by its first message",
            ))))
        } else {
            this.valuer.start(message.case)
        };
        match step {
            Step::Done(result) => {
                let item = answer(sequence, result);
                this.failed = item.is_err();
                Poll::Ready(Some(item))
            }
            Step::Load(fund, case) => {
                this.waiting = Some(Waiting {
                    sequence,
                    fund,
                    case,
                    loading: Box::pin(this.valuer.chooser().load(fund)),
                });
                // Poll the read at once: it registers the waker, or is already done.
                self.poll_next(cx)
            }
        }
    }
}

#[tonic::async_trait]
impl PointsService for PointsApi {
    async fn get_table(
        &self,
        request: Request<pb::GetTableRequest>,
    ) -> Result<Response<pb::GetTableResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let version = (body.version > 0).then_some(body.version);
        let table = self
            .tables
            .store()
            .get(region, year, fund, version)
            .await
            .map_err(store_status)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no valuation table for region {region}, {year}, fund {fund}"
                ))
            })?;
        Ok(Response::new(pb::GetTableResponse {
            table: Some(to_wire(&table)),
        }))
    }

    async fn put_table(
        &self,
        request: Request<pb::PutTableRequest>,
    ) -> Result<Response<pb::PutTableResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut v = Vec::new();
        request_id(&body.request_id, &mut v);
        let Some((year, fund)) = year_fund(body.year, body.fund_type, &mut v) else {
            return Err(bad_request(v));
        };
        let key = TableKey { region, year, fund };
        let document = match check_document(&body.document_json, key) {
            Ok(document) => Some(document),
            Err(more) => {
                v.extend(more);
                None
            }
        };
        let (Some(document), true) = (document, v.is_empty()) else {
            return Err(bad_request(v));
        };
        let canonical =
            serde_json::to_string(&document).map_err(platform::status::storage_failure)?;
        let encode = |table: &StoredTable| {
            pb::PutTableResponse {
                table: Some(to_wire(table)),
            }
            .encode_to_vec()
        };
        let outcome = self
            .tables
            .store()
            .put_draft(
                key,
                &canonical,
                &call(&principal, &body.request_id, "PutTable", body, key),
                encode,
            )
            .await
            .map_err(store_status)?;
        Ok(Response::new(replayed(outcome.response())?))
    }

    async fn activate_table(
        &self,
        request: Request<pb::ActivateTableRequest>,
    ) -> Result<Response<pb::ActivateTableResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut v = Vec::new();
        request_id(&body.request_id, &mut v);
        let year_fund = year_fund(body.year, body.fund_type, &mut v);
        if body.version <= 0 {
            v.push((
                "version".into(),
                "must name a stored version (1 or more)".into(),
            ));
        }
        let from = take(date("effective_from", body.effective_from.as_ref()), &mut v);
        let (Some((year, fund)), Some(from), true) = (year_fund, from, v.is_empty()) else {
            return Err(bad_request(v));
        };
        let (y, m, d) = from.ymd();
        let yyyymmdd = y * 10_000 + i32::try_from(m * 100 + d).unwrap_or(0);
        let key = TableKey { region, year, fund };
        let encode = |table: &StoredTable| {
            pb::ActivateTableResponse {
                table: Some(to_wire(table)),
            }
            .encode_to_vec()
        };
        let outcome = self
            .tables
            .store()
            .activate(
                key,
                body.version,
                yyyymmdd,
                &call(&principal, &body.request_id, "ActivateTable", body, key),
                encode,
            )
            .await
            .map_err(store_status)?;
        Ok(Response::new(replayed(outcome.response())?))
    }

    async fn value_case(
        &self,
        request: Request<pb::ValueCaseRequest>,
    ) -> Result<Response<pb::ValueCaseResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let year = wire::year("year", body.year).map_err(|v| bad_request(vec![v]))?;
        let case = request.into_inner().case;
        let valuation = self
            .valuer(region, year)
            .value(case)
            .await
            .map_err(CaseError::into_status)?;
        Ok(Response::new(pb::ValueCaseResponse {
            valuation: Some(valuation),
        }))
    }

    type ValueCasesStream = ValueStream;

    async fn value_cases(
        &self,
        request: Request<Streaming<pb::ValueCasesRequest>>,
    ) -> Result<Response<Self::ValueCasesStream>, Status> {
        let principal = principal_of(&request)?;
        let mut input = request.into_inner();
        let Some(first) = input.next().await.transpose()? else {
            return Ok(Response::new(Box::pin(futures::stream::empty())));
        };
        let region = authorize_region(&principal, "region_code", &first.region_code)?;
        let year = wire::year("year", first.year).map_err(|v| bad_request(vec![v]))?;
        Ok(Response::new(Box::pin(Valuing {
            region_text: region.to_string(),
            valuer: self.valuer(region, year),
            input,
            first: Some(first),
            sequence: 0,
            waiting: None,
            failed: false,
        })))
    }

    async fn calibrate(
        &self,
        request: Request<pb::CalibrateRequest>,
    ) -> Result<Response<pb::CalibrateResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut v = Vec::new();
        request_id(&body.request_id, &mut v);
        let year_fund = year_fund(body.year, body.fund_type, &mut v);
        let options: Option<CalibrateOptionsJson> = if body.options_json.trim().is_empty() {
            Some(CalibrateOptionsJson::default())
        } else {
            take(
                serde_json::from_str(&body.options_json)
                    .map_err(|e| ("options_json".to_owned(), e.to_string())),
                &mut v,
            )
        };
        let cases = match parse_cases_csv(&body.cases_csv) {
            Ok(cases) => Some(cases),
            Err(more) => {
                v.extend(more);
                None
            }
        };
        let (Some((year, fund)), Some(options), Some(cases), true) =
            (year_fund, options, cases, v.is_empty())
        else {
            return Err(bad_request(v));
        };
        let key = TableKey { region, year, fund };
        let scheme = options.scheme.unwrap_or(SchemeKind::Drg);
        let january_first =
            CivilDate::new(year, 1, 1).map_err(|e| field_violation("year", e.to_string()))?;
        let mut domain_options = CalibrationOptions::new(
            scheme,
            region,
            year,
            fund,
            options.coefficient_effective_from.unwrap_or(january_first),
        );
        if let Some(weights) = options.year_weights {
            domain_options.year_weights = weights;
        }
        if let Some(trim) = options.trim {
            domain_options.trim = trim;
        }
        if let Some(scale) = options.scale {
            domain_options.scale = scale;
        }
        if let Some(unstable) = options.unstable {
            domain_options.unstable = unstable;
        }
        let report = points_domain::calibrate(
            cases.iter().map(|case| HistoricalCase {
                year: case.year,
                group_code: &case.group_code,
                hospital_code: &case.hospital_code,
                hospital_level: case.hospital_level,
                total_cost: case.total_cost,
            }),
            &domain_options,
        )
        .map_err(|e| Status::from(DomainError::from(e)))?;
        // The draft keeps the region's policy in force (defaults when none) under the scheme
        // calibrated.
        let mut policy = match self.tables.latest_active(key).await? {
            Some(table) => table.document.policy.clone(),
            None => ValuationPolicy::new(region, year, fund),
        };
        policy.main_method = scheme;
        let document = TableDocument {
            policy,
            tables: report.tables.clone(),
        };
        let mut report_json =
            serde_json::to_value(&report).map_err(platform::status::storage_failure)?;
        if let Some(object) = report_json.as_object_mut() {
            // The tables are the draft's document; the report keeps the statistics.
            object.remove("tables");
        }
        let report_json = report_json.to_string();
        let canonical =
            serde_json::to_string(&document).map_err(platform::status::storage_failure)?;
        let encode = move |table: &StoredTable| {
            pb::CalibrateResponse {
                table: Some(to_wire(table)),
                report_json,
            }
            .encode_to_vec()
        };
        let outcome = self
            .tables
            .store()
            .put_draft(
                key,
                &canonical,
                &call(&principal, &body.request_id, "Calibrate", body, key),
                encode,
            )
            .await
            .map_err(store_status)?;
        Ok(Response::new(replayed(outcome.response())?))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        platform::list_audit_entries!(
            crate::store::JOURNAL,
            self.tables.store().connection(),
            request,
            pb::ListAuditEntriesResponse
        )
    }

    async fn preview_point_value(
        &self,
        request: Request<pb::PreviewPointValueRequest>,
    ) -> Result<Response<pb::PreviewPointValueResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut v = Vec::new();
        let year_fund = year_fund(body.year, body.fund_type, &mut v);
        let budget = take(
            wire::money("fund_budget", body.fund_budget.as_ref()),
            &mut v,
        );
        let burden = match body.individual_burden.as_ref() {
            Some(m) if !m.yuan.is_empty() => {
                take(wire::money("individual_burden", Some(m)), &mut v)
            }
            _ => Some(Money::ZERO),
        };
        let total = take(
            wire::points("total_points", body.total_points.as_ref()),
            &mut v,
        );
        let (Some((year, fund)), Some(budget), Some(burden), Some(total), true) =
            (year_fund, budget, burden, total, v.is_empty())
        else {
            return Err(bad_request(v));
        };
        let key = TableKey { region, year, fund };
        let active = self.tables.latest_active(key).await?;
        let default_policy;
        let policy = match &active {
            Some(table) => &table.document.policy,
            None => {
                default_policy = ValuationPolicy::new(region, year, fund);
                &default_policy
            }
        };
        let value = points_domain::drg_point_value(policy, budget, burden, total)
            .map_err(|e| Status::from(DomainError::from(e)))?;
        Ok(Response::new(pb::PreviewPointValueResponse {
            point_value: Some(wire::decimal_to_wire(value.published)),
            exact_point_value: Some(wire::decimal_to_wire(value.exact)),
        }))
    }
}
