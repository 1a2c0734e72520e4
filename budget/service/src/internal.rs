//! The `medpay.budget.internal.v1` server: what settlement asks of the budget context. The
//! sharing is the public `ComputeSharing`'s, over typed records and for a whole clearing at once
//! (the reserve is shared out across every hospital of the region, so one call must see them
//! all); the quotas are `GetQuotas`' for every unit of a region.

use std::collections::HashSet;

use budget_domain::{AppliedTier, HospitalYear};
use kernel::Money;
use medpay_proto::budget::internal::v1 as pb;
use medpay_proto::budget::internal::v1::budget_internal_service_server::{
    BudgetInternalService, BudgetInternalServiceServer,
};
use platform::principal::authorize_request;
use platform::status::{bad_request, storage_failure};
use platform::wire;
use tonic::{Request, Response, Status};

use crate::BudgetApi;
use crate::grpc::unit_monthly_quotas;

impl BudgetApi {
    /// The internal tonic service (service-to-service; not described by reflection).
    pub fn into_internal_server(self) -> BudgetInternalServiceServer<Self> {
        BudgetInternalServiceServer::new(self)
    }
}

/// The tier as settlement records it on the statement.
pub fn tier_name(tier: AppliedTier) -> String {
    match tier {
        AppliedTier::SurplusRetained => "surplus_retained".to_owned(),
        AppliedTier::SurplusCapped => "surplus_capped".to_owned(),
        AppliedTier::Overspend { band } => format!("overspend_band_{}", band + 1),
    }
}

#[tonic::async_trait]
impl BudgetInternalService for BudgetApi {
    async fn share_for_clearing(
        &self,
        request: Request<pb::ShareForClearingRequest>,
    ) -> Result<Response<pb::ShareForClearingResponse>, Status> {
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
        let mut seen = HashSet::new();
        let mut records = Vec::with_capacity(body.hospitals.len());
        for (index, hospital) in body.hospitals.iter().enumerate() {
            let field = |name: &str| format!("hospitals[{index}].{name}");
            if hospital.hospital_code.trim().is_empty() {
                violations.push((field("hospital_code"), "is required".to_owned()));
            } else if !seen.insert(hospital.hospital_code.as_str()) {
                violations.push((
                    field("hospital_code"),
                    format!("{} is listed twice", hospital.hospital_code),
                ));
            }
            let standard = wire::money(&field("standard"), hospital.standard.as_ref())
                .map_err(|v| violations.push(v))
                .ok();
            let actual = wire::money(&field("actual"), hospital.actual.as_ref())
                .map_err(|v| violations.push(v))
                .ok();
            if let (Some(standard), Some(actual), Some(fund)) = (standard, actual, fund) {
                records.push(HospitalYear {
                    hospital_code: hospital.hospital_code.clone(),
                    fund,
                    standard,
                    actual,
                    prepaid: Money::ZERO,
                    ffs_special_cases: Money::ZERO,
                });
            }
        }
        let (Some(year), Some(fund), true) = (year, fund, violations.is_empty()) else {
            return Err(bad_request(violations));
        };
        let outcome = self.sharing_outcome(region, year, fund, &records).await?;
        tracing::info!(
            run = %body.clearing_run_id,
            %region,
            year,
            hospitals = records.len(),
            reserve_used = %outcome.reserve_used,
            "sharing for a clearing"
        );
        let outcome_json = serde_json::to_string(&outcome).map_err(storage_failure)?;
        let mut hospitals: Vec<pb::HospitalShare> = outcome
            .hospitals
            .iter()
            .map(|h| pb::HospitalShare {
                hospital_code: h.hospital_code.clone(),
                payable: Some(wire::money_to_wire(h.payment)),
                tier: tier_name(h.tier),
                from_reserve: Some(wire::money_to_wire(h.from_reserve)),
            })
            .collect();
        hospitals.sort_by(|a, b| a.hospital_code.cmp(&b.hospital_code));
        Ok(Response::new(pb::ShareForClearingResponse {
            hospitals,
            outcome_json,
        }))
    }

    async fn get_monthly_quotas(
        &self,
        request: Request<pb::GetMonthlyQuotasRequest>,
    ) -> Result<Response<pb::GetMonthlyQuotasResponse>, Status> {
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
        let month = usize::try_from(body.month)
            .ok()
            .filter(|m| (1..=12).contains(m));
        if month.is_none() {
            violations.push((
                "month".to_owned(),
                format!("is {}, expected 1 to 12", body.month),
            ));
        }
        let (Some(year), Some(fund), Some(month), true) =
            (year, fund, month, violations.is_empty())
        else {
            return Err(bad_request(violations));
        };
        let allocations = self
            .store
            .allocations_in(region, year, fund)
            .await
            .map_err(storage_failure)?;
        let mut quotas = Vec::new();
        for unit in allocations.chunk_by(|a, b| a.unit_code == b.unit_code) {
            let months = unit_monthly_quotas(unit)?;
            quotas.push(pb::UnitQuota {
                unit_code: unit[0].unit_code.clone(),
                quota: Some(wire::money_to_wire(months[month - 1])),
            });
        }
        Ok(Response::new(pb::GetMonthlyQuotasResponse { quotas }))
    }
}
