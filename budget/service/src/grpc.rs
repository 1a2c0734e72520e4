//! The `medpay.budget.v1` server: scope checks, proto ↔ domain conversion, status codes.

use budget_domain::{
    AllocationPolicy, AllocationUnit, AnnualBudget, BlockKind, BudgetDocument, BudgetHistory,
    BudgetMode, HospitalYear, QuotaProfile, SharingOutcome, SharingPolicy, UnitKind,
    allocate_block, compute_sharing, monthly_quotas,
};
use kernel::Money;
use kernel::{FundType, RegionCode};
use medpay_proto::budget::v1 as pb;
use medpay_proto::budget::v1::budget_service_server::BudgetService;
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure, with_reason};
use platform::wire;
use prost::Message;
use serde::Deserialize;
use tonic::{Code, Request, Response, Status};

use crate::status::DomainError;
use crate::store::{BudgetStore, StoredAllocation, StoredBudget};
use platform::journal::{Call, Once};

/// The budget gRPC API over a store.
#[derive(Clone)]
pub struct BudgetApi {
    pub(crate) store: BudgetStore,
}

impl BudgetApi {
    pub fn new(store: BudgetStore) -> Self {
        Self { store }
    }

    /// The tonic service to mount on a server.
    pub fn into_server(self) -> pb::budget_service_server::BudgetServiceServer<Self> {
        pb::budget_service_server::BudgetServiceServer::new(self)
    }
}

fn mode_name(mode: BudgetMode) -> &'static str {
    match mode {
        BudgetMode::RegionalPoints => "regional_points",
        BudgetMode::HospitalCaps => "hospital_caps",
    }
}

/// Reads a budget document and checks it is about the budget the request names.
fn read_document(
    json: &str,
    region: RegionCode,
    year: Option<i32>,
    fund: Option<FundType>,
    violations: &mut Vec<(String, String)>,
) -> Option<BudgetDocument> {
    if json.trim().is_empty() {
        violations.push(("document_json".into(), "is required".into()));
        return None;
    }
    let document: BudgetDocument = match serde_json::from_str(json) {
        Ok(document) => document,
        Err(err) => {
            violations.push((
                "document_json".into(),
                format!("is not a budget document: {err}"),
            ));
            return None;
        }
    };
    if document.region != region {
        violations.push((
            "document_json.region".into(),
            format!("is {}, the request is for region {region}", document.region),
        ));
    }
    if year.is_some_and(|year| year != document.year) {
        violations.push((
            "document_json.year".into(),
            format!("is {}, the request names another year", document.year),
        ));
    }
    if fund.is_some_and(|fund| fund != document.fund) {
        violations.push((
            "document_json.fund".into(),
            format!("is {}, the request names another fund", document.fund),
        ));
    }
    Some(document)
}

/// The stored form of a computed budget version: the whole computation (blocks and reserve
/// included) as the domain's JSON, and the total in fen.
fn to_stored(budget: &AnnualBudget, created_by: &str) -> Result<StoredBudget, Status> {
    let document_json = serde_json::to_string(budget).map_err(storage_failure)?;
    let version = i32::try_from(budget.version)
        .map_err(|_| with_reason(Code::OutOfRange, "TOO_MANY_VERSIONS", "too many versions"))?;
    Ok(StoredBudget {
        region: budget.document.region,
        year: budget.document.year,
        fund: budget.document.fund,
        version,
        mode: mode_name(budget.mode()).to_owned(),
        total: budget.total,
        document_json,
        reason: budget.reason.clone(),
        created_by: created_by.to_owned(),
    })
}

fn read_stored(budget: &StoredBudget) -> Result<AnnualBudget, Status> {
    serde_json::from_str(&budget.document_json).map_err(storage_failure)
}

fn replayed<T: Message + Default>(bytes: &[u8]) -> Result<Response<T>, Status> {
    T::decode(bytes).map(Response::new).map_err(storage_failure)
}

/// A sharing policy by preset name (`hainan`, `xinxiang`, bare or as a JSON string) or as a
/// whole policy document.
fn read_policy(json: &str) -> Result<SharingPolicy, Status> {
    let trimmed = json.trim();
    let name = trimmed.trim_matches('"');
    let policy = match name {
        "hainan" => SharingPolicy::hainan(),
        "xinxiang" => SharingPolicy::xinxiang(),
        _ if trimmed.is_empty() => {
            return Err(bad_request(vec![(
                "policy_json".into(),
                "is required: a policy document or a preset name (hainan, xinxiang)".into(),
            )]));
        }
        _ => serde_json::from_str(trimmed).map_err(|err| {
            bad_request(vec![(
                "policy_json".into(),
                format!("is not a sharing policy nor a preset name: {err}"),
            )])
        })?,
    };
    policy
        .validate()
        .map_err(|err| DomainError::new("policy_json", err))?;
    Ok(policy)
}

/// The inputs of `Allocate`: which block to allocate, the allocation policy, the hospitals and
/// alliances, and how each cap is spread over the months for `GetQuotas`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocateInputs {
    #[serde(default = "inpatient")]
    block: BlockKind,
    #[serde(default)]
    policy: AllocationPolicy,
    units: Vec<AllocationUnit>,
    #[serde(default = "even")]
    quota_profile: QuotaProfile,
}

fn inpatient() -> BlockKind {
    BlockKind::Inpatient
}

fn even() -> QuotaProfile {
    QuotaProfile::Even
}

impl BudgetApi {
    /// The result of writing a version. A failed write whose version number a concurrent
    /// request took first is a conflict the caller resolves by reading and retrying, not a
    /// storage failure.
    async fn version_written(
        &self,
        written: Result<Once, crate::store::StoreError>,
        budget: &StoredBudget,
    ) -> Result<Once, Status> {
        let error = match written {
            Ok(outcome) => return Ok(outcome),
            Err(error @ crate::store::StoreError::Reused(_)) => return Err(error.into()),
            Err(error) => error,
        };
        let taken = self
            .store
            .get(
                budget.region,
                budget.year,
                budget.fund,
                Some(budget.version),
            )
            .await
            .map_err(storage_failure)?
            .is_some();
        if !taken {
            return Err(storage_failure(error));
        }
        Err(if budget.version == 1 {
            with_reason(
                Code::AlreadyExists,
                "BUDGET_EXISTS",
                format!(
                    "region {} already has a {} budget for fund {}; adjust it",
                    budget.region, budget.year, budget.fund
                ),
            )
        } else {
            with_reason(
                Code::Aborted,
                "CONCURRENT_ADJUSTMENT",
                format!(
                    "version {} was written by another adjustment; read the latest and retry",
                    budget.version
                ),
            )
        })
    }
}

impl BudgetApi {
    /// The region's stored sharing policy for the year (Hainan when none is stored) applied to
    /// `hospitals`, the shared amounts paid from the latest budget's adjustment reserve.
    pub(crate) async fn sharing_outcome(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        hospitals: &[HospitalYear],
    ) -> Result<SharingOutcome, Status> {
        let budget = self
            .store
            .get(region, year, fund, None)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "no budget for region {region}, {year}, fund {fund}: its adjustment reserve pays the sharing"
                ))
            })?;
        let budget = read_stored(&budget)?;
        let policy = match self
            .store
            .sharing_policy(region, year)
            .await
            .map_err(storage_failure)?
        {
            Some(json) => serde_json::from_str(&json).map_err(storage_failure)?,
            None => SharingPolicy::hainan(),
        };
        compute_sharing(&policy, budget.adjustment_reserve, hospitals)
            .map_err(|err| DomainError::new("hospitals_json", err).into())
    }
}

/// Twelve monthly quotas of a unit, January first: a unit capped in several blocks gets, each
/// month, the sum of its blocks' quotas.
pub(crate) fn unit_monthly_quotas(allocations: &[StoredAllocation]) -> Result<[Money; 12], Status> {
    let mut quotas = [Money::ZERO; 12];
    for allocation in allocations {
        let profile: QuotaProfile =
            serde_json::from_str(&allocation.quota_profile_json).map_err(storage_failure)?;
        let months = monthly_quotas(allocation.amount, &profile)
            .map_err(|err| DomainError::new("quota_profile", err))?;
        for (total, month) in quotas.iter_mut().zip(months) {
            *total += month;
        }
    }
    Ok(quotas)
}

fn to_wire(budget: StoredBudget) -> pb::Budget {
    pb::Budget {
        region_code: budget.region.to_string(),
        year: budget.year,
        fund_type: wire::fund_type_to_wire(budget.fund),
        version: budget.version,
        mode: match budget.mode.as_str() {
            "regional_points" => pb::BudgetMode::RegionalPoints as i32,
            "hospital_caps" => pb::BudgetMode::HospitalCaps as i32,
            _ => pb::BudgetMode::Unspecified as i32,
        },
        total: Some(wire::money_to_wire(budget.total)),
        document_json: budget.document_json,
        reason: budget.reason,
        created_by: budget.created_by,
    }
}

#[tonic::async_trait]
impl BudgetService for BudgetApi {
    async fn create_budget(
        &self,
        request: Request<pb::CreateBudgetRequest>,
    ) -> Result<Response<pb::CreateBudgetResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        if body.request_id.trim().is_empty() {
            violations.push(("request_id".to_owned(), "is required".to_owned()));
        }
        let year = wire::year("year", body.year)
            .map_err(|v| violations.push(v))
            .ok();
        let fund = wire::fund_type("fund_type", body.fund_type)
            .map_err(|v| violations.push(v))
            .ok();
        let document = read_document(&body.document_json, region, year, fund, &mut violations);
        // The mode is optional on the request; when given it must agree with the document.
        let requested_mode = match pb::BudgetMode::try_from(body.mode) {
            Ok(pb::BudgetMode::Unspecified) => None,
            Ok(pb::BudgetMode::RegionalPoints) => Some(BudgetMode::RegionalPoints),
            Ok(pb::BudgetMode::HospitalCaps) => Some(BudgetMode::HospitalCaps),
            Err(_) => {
                violations.push(("mode".to_owned(), format!("{} is not a mode", body.mode)));
                None
            }
        };
        if let (Some(requested), Some(document)) = (requested_mode, document.as_ref())
            && requested != document.mode
        {
            violations.push((
                "mode".to_owned(),
                format!(
                    "is {}, the document is in mode {}",
                    mode_name(requested),
                    mode_name(document.mode)
                ),
            ));
        }
        let (Some(year), Some(fund), Some(document), true) =
            (year, fund, document, violations.is_empty())
        else {
            return Err(bad_request(violations));
        };
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "CreateBudget",
            body,
            Some(region),
        );
        if let Some(stored) = self.store.replay(&call).await? {
            return replayed(&stored);
        }
        if self
            .store
            .get(region, year, fund, None)
            .await
            .map_err(storage_failure)?
            .is_some()
        {
            return Err(with_reason(
                Code::AlreadyExists,
                "BUDGET_EXISTS",
                format!("region {region} already has a {year} budget for fund {fund}; adjust it"),
            ));
        }
        let history = BudgetHistory::create(document)
            .map_err(|err| DomainError::new("document_json", err))?;
        let stored = to_stored(history.current(), &principal.caller_id)?;
        let response = pb::CreateBudgetResponse {
            budget: Some(to_wire(stored.clone())),
        };
        let detail = format!("{region} {year} {fund} version 1 total {}", stored.total);
        let written = self
            .store
            .insert_idempotent(&stored, &call, detail, response.encode_to_vec())
            .await;
        match self.version_written(written, &stored).await? {
            Once::Done(_) => Ok(Response::new(response)),
            Once::Replayed(bytes) => replayed(&bytes),
        }
    }

    async fn adjust_budget(
        &self,
        request: Request<pb::AdjustBudgetRequest>,
    ) -> Result<Response<pb::AdjustBudgetResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        if body.request_id.trim().is_empty() {
            violations.push(("request_id".to_owned(), "is required".to_owned()));
        }
        if body.reason.trim().is_empty() {
            violations.push((
                "reason".to_owned(),
                "is required: every adjustment records why".to_owned(),
            ));
        }
        let year = wire::year("year", body.year)
            .map_err(|v| violations.push(v))
            .ok();
        let fund = wire::fund_type("fund_type", body.fund_type)
            .map_err(|v| violations.push(v))
            .ok();
        let document = read_document(&body.document_json, region, year, fund, &mut violations);
        let (Some(year), Some(fund), Some(document), true) =
            (year, fund, document, violations.is_empty())
        else {
            return Err(bad_request(violations));
        };
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "AdjustBudget",
            body,
            Some(region),
        );
        if let Some(stored) = self.store.replay(&call).await? {
            return replayed(&stored);
        }
        let latest = self
            .store
            .get(region, year, fund, None)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no budget for region {region}, {year}, fund {fund} to adjust"
                ))
            })?;
        // Only the latest version matters to the next one: it fixes the key and the number.
        let mut history = BudgetHistory::from_versions(vec![read_stored(&latest)?])
            .map_err(|err| DomainError::new("document_json", err))?;
        let next = history
            .adjust(document, &body.reason)
            .map_err(|err| DomainError::new("document_json", err))?;
        let stored = to_stored(next, &principal.caller_id)?;
        let response = pb::AdjustBudgetResponse {
            budget: Some(to_wire(stored.clone())),
        };
        let detail = format!(
            "{region} {year} {fund} version {} total {}: {}",
            stored.version, stored.total, stored.reason
        );
        let written = self
            .store
            .insert_idempotent(&stored, &call, detail, response.encode_to_vec())
            .await;
        match self.version_written(written, &stored).await? {
            Once::Done(_) => Ok(Response::new(response)),
            Once::Replayed(bytes) => replayed(&bytes),
        }
    }

    async fn get_budget(
        &self,
        request: Request<pb::GetBudgetRequest>,
    ) -> Result<Response<pb::GetBudgetResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let (year, fund) = wire::year_and_fund(body.year, body.fund_type)?;
        let version = (body.version > 0).then_some(body.version);
        let budget = self
            .store
            .get(region, year, fund, version)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no budget for region {region}, {year}, fund {fund}"
                ))
            })?;
        Ok(Response::new(pb::GetBudgetResponse {
            budget: Some(to_wire(budget)),
        }))
    }

    async fn list_budgets(
        &self,
        request: Request<pb::ListBudgetsRequest>,
    ) -> Result<Response<pb::ListBudgetsResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let year = match body.year {
            0 => None,
            year => Some(wire::year("year", year).map_err(|v| bad_request(vec![v]))?),
        };
        let page = wire::Page::from_request(body.page_size, &body.page_token)?;
        let budgets = self
            .store
            .list_latest(region, year, page.offset, page.size)
            .await
            .map_err(storage_failure)?;
        let next_page_token = page.next_token(budgets.len());
        Ok(Response::new(pb::ListBudgetsResponse {
            budgets: budgets.into_iter().map(to_wire).collect(),
            next_page_token,
        }))
    }

    async fn allocate(
        &self,
        request: Request<pb::AllocateRequest>,
    ) -> Result<Response<pb::AllocateResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        if body.request_id.trim().is_empty() {
            violations.push(("request_id".to_owned(), "is required".to_owned()));
        }
        let year = wire::year("year", body.year)
            .map_err(|v| violations.push(v))
            .ok();
        let fund = wire::fund_type("fund_type", body.fund_type)
            .map_err(|v| violations.push(v))
            .ok();
        let inputs: Option<AllocateInputs> = match serde_json::from_str(&body.inputs_json) {
            Ok(inputs) => Some(inputs),
            Err(err) => {
                violations.push((
                    "inputs_json".to_owned(),
                    format!("is not allocation inputs: {err}"),
                ));
                None
            }
        };
        let (Some(year), Some(fund), Some(inputs), true) =
            (year, fund, inputs, violations.is_empty())
        else {
            return Err(bad_request(violations));
        };
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "Allocate",
            body,
            Some(region),
        );
        if let Some(stored) = self.store.replay(&call).await? {
            return replayed(&stored);
        }
        // A bad month profile is refused now rather than when quotas are read.
        monthly_quotas(Money::ZERO, &inputs.quota_profile)
            .map_err(|err| DomainError::new("inputs_json.quota_profile", err))?;
        let latest = self
            .store
            .get(region, year, fund, None)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no budget for region {region}, {year}, fund {fund} to allocate"
                ))
            })?;
        let budget = read_stored(&latest)?;
        let allocation = allocate_block(&budget, inputs.block, &inputs.policy, &inputs.units)
            .map_err(|err| DomainError::new("inputs_json", err))?;
        let quota_profile_json =
            serde_json::to_string(&inputs.quota_profile).map_err(storage_failure)?;
        let block = inputs.block.name();
        let lines = allocation
            .lines
            .iter()
            .map(|line| {
                Ok(StoredAllocation {
                    unit_code: line.code.clone(),
                    block: block.to_owned(),
                    budget_version: latest.version,
                    members_json: serde_json::to_string(&line.members).map_err(storage_failure)?,
                    amount: line.amount,
                    quota_profile_json: quota_profile_json.clone(),
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let response = pb::AllocateResponse {
            allocation_json: serde_json::to_string(&allocation).map_err(storage_failure)?,
        };
        let alliances = inputs
            .units
            .iter()
            .filter(|unit| matches!(unit.kind, UnitKind::Alliance { .. }))
            .count();
        let detail = format!(
            "{region} {year} {fund} version {} block {block} {} to {} units ({alliances} alliances)",
            latest.version,
            allocation.block,
            lines.len()
        );
        match self
            .store
            .replace_allocation(
                region,
                year,
                fund,
                block,
                &lines,
                &call,
                detail,
                response.encode_to_vec(),
            )
            .await?
        {
            Once::Done(_) => Ok(Response::new(response)),
            Once::Replayed(bytes) => replayed(&bytes),
        }
    }

    async fn get_quotas(
        &self,
        request: Request<pb::GetQuotasRequest>,
    ) -> Result<Response<pb::GetQuotasResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let year = wire::year("year", body.year)
            .map_err(|v| violations.push(v))
            .ok();
        let fund = wire::fund_type("fund_type", body.fund_type)
            .map_err(|v| violations.push(v))
            .ok();
        if body.hospital_code.trim().is_empty() {
            violations.push(("hospital_code".to_owned(), "is required".to_owned()));
        }
        let (Some(year), Some(fund), true) = (year, fund, violations.is_empty()) else {
            return Err(bad_request(violations));
        };
        let allocations = self
            .store
            .allocations_of(region, year, fund, &body.hospital_code)
            .await
            .map_err(storage_failure)?;
        if allocations.is_empty() {
            return Err(Status::not_found(format!(
                "{} has no allocation in region {region}, {year}, fund {fund}",
                body.hospital_code
            )));
        }
        let quotas = unit_monthly_quotas(&allocations)?;
        Ok(Response::new(pb::GetQuotasResponse {
            monthly_quotas: quotas.into_iter().map(wire::money_to_wire).collect(),
        }))
    }

    async fn put_sharing_policy(
        &self,
        request: Request<pb::PutSharingPolicyRequest>,
    ) -> Result<Response<pb::PutSharingPolicyResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        if body.request_id.trim().is_empty() {
            violations.push(("request_id".to_owned(), "is required".to_owned()));
        }
        let year = wire::year("year", body.year)
            .map_err(|v| violations.push(v))
            .ok();
        let (Some(year), true) = (year, violations.is_empty()) else {
            return Err(bad_request(violations));
        };
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            "PutSharingPolicy",
            body,
            Some(region),
        );
        if let Some(stored) = self.store.replay(&call).await? {
            return replayed(&stored);
        }
        let policy = read_policy(&body.policy_json)?;
        let policy_json = serde_json::to_string(&policy).map_err(storage_failure)?;
        let detail = format!("{region} {year}: {policy_json}");
        let response = pb::PutSharingPolicyResponse { policy_json };
        match self
            .store
            .put_sharing_policy(
                region,
                year,
                &response.policy_json,
                &principal.caller_id,
                &call,
                detail,
                response.encode_to_vec(),
            )
            .await?
        {
            Once::Done(_) => Ok(Response::new(response)),
            Once::Replayed(bytes) => replayed(&bytes),
        }
    }

    async fn compute_sharing(
        &self,
        request: Request<pb::ComputeSharingRequest>,
    ) -> Result<Response<pb::ComputeSharingResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        let year = wire::year("year", body.year)
            .map_err(|v| violations.push(v))
            .ok();
        let fund = wire::fund_type("fund_type", body.fund_type)
            .map_err(|v| violations.push(v))
            .ok();
        let hospitals: Option<Vec<HospitalYear>> = match serde_json::from_str(&body.hospitals_json)
        {
            Ok(hospitals) => Some(hospitals),
            Err(err) => {
                violations.push((
                    "hospitals_json".to_owned(),
                    format!("is not a list of hospital years: {err}"),
                ));
                None
            }
        };
        let (Some(year), Some(fund), Some(hospitals), true) =
            (year, fund, hospitals, violations.is_empty())
        else {
            return Err(bad_request(violations));
        };
        let mismatched: Vec<(String, String)> = hospitals
            .iter()
            .enumerate()
            .filter(|(_, hospital)| hospital.fund != fund)
            .map(|(index, hospital)| {
                (
                    format!("hospitals_json[{index}].fund"),
                    format!("is {}, the request is for fund {fund}", hospital.fund),
                )
            })
            .collect();
        if !mismatched.is_empty() {
            return Err(bad_request(mismatched));
        }
        let outcome = self.sharing_outcome(region, year, fund, &hospitals).await?;
        let outcome_json = serde_json::to_string(&outcome).map_err(storage_failure)?;
        Ok(Response::new(pb::ComputeSharingResponse { outcome_json }))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        platform::list_audit_entries!(
            crate::store::JOURNAL,
            self.store.connection(),
            request,
            pb::ListAuditEntriesResponse
        )
    }
}
