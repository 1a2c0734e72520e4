//! What the public and the internal server both compute from stored budgets: the year-end
//! sharing of a region and the monthly quotas of its units.

use budget_domain::{
    AnnualBudget, AppliedTier, HospitalYear, QuotaProfile, SharingOutcome, SharingPolicy,
    compute_sharing, monthly_quotas,
};
use kernel::{FundType, Money, RegionCode};

use crate::api::BudgetApi;
use crate::error::Error;
use crate::store::{StoredAllocation, StoredBudget};

/// The computation a stored version keeps.
pub(crate) fn read_stored(budget: &StoredBudget) -> Result<AnnualBudget, Error> {
    serde_json::from_str(&budget.document_json).map_err(Error::storage)
}

/// The tier as settlement records it on the statement.
pub fn tier_name(tier: AppliedTier) -> String {
    match tier {
        AppliedTier::SurplusRetained => "surplus_retained".to_owned(),
        AppliedTier::SurplusCapped => "surplus_capped".to_owned(),
        AppliedTier::Overspend { band } => format!("overspend_band_{}", band + 1),
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
        input: &'static str,
    ) -> Result<SharingOutcome, Error> {
        let budget = self
            .store
            .get(region, year, fund, None)
            .await?
            .ok_or_else(|| {
                Error::FailedPrecondition(format!(
                    "no budget for region {region}, {year}, fund {fund}: its adjustment reserve pays the sharing"
                ))
            })?;
        let budget = read_stored(&budget)?;
        let policy = match self.store.sharing_policy(region, year).await? {
            Some(json) => serde_json::from_str(&json).map_err(Error::storage)?,
            None => SharingPolicy::hainan(),
        };
        compute_sharing(&policy, budget.adjustment_reserve, hospitals).map_err(Error::domain(input))
    }
}

/// Twelve monthly quotas of a unit, January first: a unit capped in several blocks gets, each
/// month, the sum of its blocks' quotas.
pub(crate) fn unit_monthly_quotas(allocations: &[StoredAllocation]) -> Result<[Money; 12], Error> {
    let mut quotas = [Money::ZERO; 12];
    for allocation in allocations {
        let profile: QuotaProfile =
            serde_json::from_str(&allocation.quota_profile_json).map_err(Error::storage)?;
        let months =
            monthly_quotas(allocation.amount, &profile).map_err(Error::domain("quota_profile"))?;
        for (total, month) in quotas.iter_mut().zip(months) {
            *total += month;
        }
    }
    Ok(quotas)
}
