//! The `medpay.budget.internal.v1` server: what settlement asks of the budget context. The
//! sharing is the public `ComputeSharing`'s, over typed records and for a whole clearing at once
//! (the reserve is shared out across every hospital of the region, so one call must see them
//! all); the quotas are `GetQuotas`' for every unit of a region.

use medpay_proto::budget::internal::v1 as pb;
use medpay_proto::budget::internal::v1::budget_internal_service_server::{
    BudgetInternalService, BudgetInternalServiceServer,
};
use platform::principal::authorize_request;
use platform::wire;
use tonic::{Request, Response, Status};

use crate::api::BudgetApi;
use crate::convert::{ClearingSharing, MonthlyQuotaQuery};
use crate::error::Error;
use crate::queries::{tier_name, unit_monthly_quotas};

impl BudgetApi {
    /// The internal tonic service (service-to-service; not described by reflection).
    pub fn into_internal_server(self) -> BudgetInternalServiceServer<Self> {
        BudgetInternalServiceServer::new(self)
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
        let ClearingSharing {
            year,
            fund,
            hospitals,
        } = ClearingSharing::try_from(body)?;
        let outcome = self
            .sharing_outcome(region, year, fund, &hospitals, "hospitals")
            .await?;
        tracing::info!(
            run = %body.clearing_run_id,
            %region,
            year,
            hospitals = hospitals.len(),
            reserve_used = %outcome.reserve_used,
            "sharing for a clearing"
        );
        let outcome_json = serde_json::to_string(&outcome).map_err(Error::storage)?;
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
        let MonthlyQuotaQuery { year, fund, month } =
            MonthlyQuotaQuery::try_from(request.get_ref())?;
        let allocations = self
            .store
            .allocations_in(region, year, fund)
            .await
            .map_err(Error::from)?;
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
