//! The `medpay.budget.v1` server: each method checks the caller's scope, reads its request
//! through [`crate::convert`], and answers through the one `From<Error> for Status`.

use budget_domain::{AnnualBudget, BudgetHistory, UnitKind, allocate_block, monthly_quotas};
use kernel::{FundType, Money, RegionCode};
use medpay_proto::budget::v1 as pb;
use medpay_proto::budget::v1::budget_service_server::BudgetService;
use platform::journal::{Call, Once};
use platform::paging::KeysetPage;
use platform::principal::authorize_request;
use platform::wire;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::api::BudgetApi;
use crate::convert::{
    Allocation, BudgetAdjustment, NewBudget, QuotaQuery, SharingPolicyWrite, SharingQuestion,
    mode_name, sharing_policy,
};
use crate::error::Error;
use crate::queries::{read_stored, unit_monthly_quotas};
use crate::store::{StoredAllocation, StoredBudget};
use crate::typed;

/// The stored form of a computed budget version: the whole computation (blocks and reserve
/// included) as the domain's JSON, and the total in fen.
fn to_stored(budget: &AnnualBudget, created_by: &str) -> Result<StoredBudget, Error> {
    let document_json = serde_json::to_string(budget).map_err(Error::storage)?;
    let version = i32::try_from(budget.version).map_err(|_| Error::TooManyVersions)?;
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

fn to_wire(budget: StoredBudget) -> pb::Budget {
    // Every stored version was computed from a document read by the same reader; one that no
    // longer reads is still shown as JSON.
    let computed = serde_json::from_str::<AnnualBudget>(&budget.document_json)
        .ok()
        .map(|computed| typed::computed_to_wire(&computed));
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
        computed,
    }
}

fn replayed<T: Message + Default>(bytes: &[u8]) -> Result<Response<T>, Error> {
    T::decode(bytes).map(Response::new).map_err(Error::storage)
}

/// The answer of a journaled write: `response` when it was carried out now, the stored one when
/// the same request was carried out before.
fn answered<T: Message + Default>(once: Once, response: T) -> Result<Response<T>, Error> {
    match once {
        Once::Done(_) => Ok(Response::new(response)),
        Once::Replayed(bytes) => replayed(&bytes),
    }
}

impl BudgetApi {
    /// The stored answer of `call` when the same request was already carried out.
    async fn replay<T: Message + Default>(
        &self,
        call: &Call,
    ) -> Result<Option<Response<T>>, Error> {
        self.store
            .replay(call)
            .await?
            .map(|bytes| replayed(&bytes))
            .transpose()
    }

    /// The latest version of a budget that must exist for the request to `purpose`.
    async fn latest(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        purpose: &str,
    ) -> Result<StoredBudget, Error> {
        self.store
            .get(region, year, fund, None)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no budget for region {region}, {year}, fund {fund} to {purpose}"
                ))
            })
    }

    /// Writes a version with its audit entry and `response`. A failed write whose version
    /// number a concurrent request took first is a conflict the caller resolves by reading and
    /// retrying, not a storage failure.
    async fn write_version<T: Message + Default>(
        &self,
        budget: &StoredBudget,
        call: &Call,
        detail: String,
        response: T,
    ) -> Result<Response<T>, Error> {
        let error = match self
            .store
            .insert_idempotent(budget, call, detail, response.encode_to_vec())
            .await
        {
            Ok(once) => return answered(once, response),
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
            .await?
            .is_some();
        Err(if !taken {
            error.into()
        } else if budget.version == 1 {
            Error::BudgetExists {
                region: budget.region,
                year: budget.year,
                fund: budget.fund,
            }
        } else {
            Error::ConcurrentAdjustment {
                version: budget.version,
            }
        })
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
        let NewBudget {
            year,
            fund,
            document,
            form,
        } = NewBudget::try_from((region, body))?;
        let call = Call::by(&principal, &body.request_id, "CreateBudget", body, region);
        if let Some(done) = self.replay(&call).await? {
            return Ok(done);
        }
        if self
            .store
            .get(region, year, fund, None)
            .await
            .map_err(Error::from)?
            .is_some()
        {
            return Err(Error::BudgetExists { region, year, fund }.into());
        }
        let history =
            BudgetHistory::create(document).map_err(Error::domain(form.document_field()))?;
        let stored = to_stored(history.current(), &principal.caller_id)?;
        let response = pb::CreateBudgetResponse {
            budget: Some(to_wire(stored.clone())),
        };
        let detail = format!("{region} {year} {fund} version 1 total {}", stored.total);
        Ok(self.write_version(&stored, &call, detail, response).await?)
    }

    async fn adjust_budget(
        &self,
        request: Request<pb::AdjustBudgetRequest>,
    ) -> Result<Response<pb::AdjustBudgetResponse>, Status> {
        let (principal, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let BudgetAdjustment {
            year,
            fund,
            document,
            form,
        } = BudgetAdjustment::try_from((region, body))?;
        let call = Call::by(&principal, &body.request_id, "AdjustBudget", body, region);
        if let Some(done) = self.replay(&call).await? {
            return Ok(done);
        }
        let latest = self.latest(region, year, fund, "adjust").await?;
        // Only the latest version matters to the next one: it fixes the key and the number.
        let mut history = BudgetHistory::from_versions(vec![read_stored(&latest)?])
            .map_err(Error::domain("document_json"))?;
        let next = history
            .adjust(document, &body.reason)
            .map_err(Error::domain(form.document_field()))?;
        let stored = to_stored(next, &principal.caller_id)?;
        let response = pb::AdjustBudgetResponse {
            budget: Some(to_wire(stored.clone())),
        };
        let detail = format!(
            "{region} {year} {fund} version {} total {}: {}",
            stored.version, stored.total, stored.reason
        );
        Ok(self.write_version(&stored, &call, detail, response).await?)
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
            .map_err(Error::from)?
            .ok_or_else(|| {
                Error::NotFound(format!(
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
            year => Some(wire::year("year", year).map_err(|v| Error::InvalidArgument(vec![v]))?),
        };
        let page = KeysetPage::<(i32, i32)>::for_request(
            "/medpay.budget.v1.BudgetService/ListBudgets",
            body,
            |r| (&mut r.page_size, &mut r.page_token),
        )?;
        let budgets = self
            .store
            .list_latest(region, year, page.after, page.fetch_limit())
            .await
            .map_err(Error::from)?;
        let (budgets, next_page_token) = page.finish(budgets, |budget| {
            (budget.year, platform::db::fund_to_db(budget.fund))
        });
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
        let Allocation {
            year,
            fund,
            inputs,
            form,
        } = Allocation::try_from(body)?;
        let call = Call::by(&principal, &body.request_id, "Allocate", body, region);
        if let Some(done) = self.replay(&call).await? {
            return Ok(done);
        }
        // A bad month profile is refused now rather than when quotas are read.
        monthly_quotas(Money::ZERO, &inputs.quota_profile)
            .map_err(Error::domain(form.quota_profile_field()))?;
        let latest = self.latest(region, year, fund, "allocate").await?;
        let budget = read_stored(&latest)?;
        let allocation = allocate_block(&budget, inputs.block, &inputs.policy, &inputs.units)
            .map_err(Error::domain(form.inputs_field()))?;
        let quota_profile_json =
            serde_json::to_string(&inputs.quota_profile).map_err(Error::storage)?;
        let block = inputs.block.name();
        let lines = allocation
            .lines
            .iter()
            .map(|line| {
                Ok(StoredAllocation {
                    unit_code: line.code.clone(),
                    block: block.to_owned(),
                    budget_version: latest.version,
                    members_json: serde_json::to_string(&line.members).map_err(Error::storage)?,
                    amount: line.amount,
                    quota_profile_json: quota_profile_json.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let response = pb::AllocateResponse {
            allocation_json: serde_json::to_string(&allocation).map_err(Error::storage)?,
            allocation: Some(typed::allocation_to_wire(&allocation)),
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
        let once = self
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
            .await
            .map_err(Error::from)?;
        Ok(answered(once, response)?)
    }

    async fn get_quotas(
        &self,
        request: Request<pb::GetQuotasRequest>,
    ) -> Result<Response<pb::GetQuotasResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let body = request.get_ref();
        let QuotaQuery { year, fund } = QuotaQuery::try_from(body)?;
        let allocations = self
            .store
            .allocations_of(region, year, fund, &body.hospital_code)
            .await
            .map_err(Error::from)?;
        if allocations.is_empty() {
            return Err(Error::NotFound(format!(
                "{} has no allocation in region {region}, {year}, fund {fund}",
                body.hospital_code
            ))
            .into());
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
        let SharingPolicyWrite { year } = SharingPolicyWrite::try_from(body)?;
        let call = Call::by(
            &principal,
            &body.request_id,
            "PutSharingPolicy",
            body,
            region,
        );
        if let Some(done) = self.replay(&call).await? {
            return Ok(done);
        }
        let policy = sharing_policy(body)?;
        let policy_json = serde_json::to_string(&policy).map_err(Error::storage)?;
        let detail = format!("{region} {year}: {policy_json}");
        let response = pb::PutSharingPolicyResponse {
            policy_json,
            policy: Some(typed::policy_to_wire(&policy)),
        };
        let once = self
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
            .await
            .map_err(Error::from)?;
        Ok(answered(once, response)?)
    }

    async fn compute_sharing(
        &self,
        request: Request<pb::ComputeSharingRequest>,
    ) -> Result<Response<pb::ComputeSharingResponse>, Status> {
        let (_, region) =
            authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        let SharingQuestion {
            year,
            fund,
            hospitals,
            form,
        } = SharingQuestion::try_from(request.get_ref())?;
        let outcome = self
            .sharing_outcome(region, year, fund, &hospitals, form.hospitals_field())
            .await?;
        let outcome_json = serde_json::to_string(&outcome).map_err(Error::storage)?;
        Ok(Response::new(pb::ComputeSharingResponse {
            outcome_json,
            outcome: Some(typed::outcome_to_wire(&outcome)),
        }))
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
