//! The budget context as settlement's peer: year-end sharing (DOMAIN.md §4) and monthly quotas
//! (hospital-cap mode) over `medpay.budget.internal.v1`.
//!
//! The reserve is shared out across the whole region, so a clearing asks for every hospital's
//! sharing in one call, with the Std and Act the domain prepared
//! ([`settlement_domain::clearing::PreparedClearing`]), before its transaction opens.

use std::collections::BTreeMap;

use kernel::{FundType, Money, Principal, RegionCode, YearMonth};
use medpay_proto::budget::internal::v1 as pb;
use medpay_proto::budget::internal::v1::budget_internal_service_client::BudgetInternalServiceClient;
use medpay_proto::common::v1 as common;
use platform::peer::{PEER_MESSAGE_LIMIT, PeerCredentials};
use platform::wire;
use settlement_domain::ports::{SharingOutcome, SharingRequest};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// How a call to the budget context failed; whatever it was, the run stored nothing and may be
/// retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetFailure {
    /// The budget context refused the request as it stands (no budget, bad figures).
    Refused,
    /// The budget context refused this caller or this service.
    Denied,
    /// The budget context could not be reached or failed.
    Unavailable,
}

/// What the budget context answered instead of an answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("budget context: {message}")]
pub struct BudgetError {
    pub failure: BudgetFailure,
    pub message: String,
}

impl BudgetError {
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            failure: BudgetFailure::Unavailable,
            message: message.into(),
        }
    }
}

impl From<Status> for BudgetError {
    fn from(status: Status) -> Self {
        let failure = match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound => {
                BudgetFailure::Refused
            }
            Code::PermissionDenied | Code::Unauthenticated => BudgetFailure::Denied,
            _ => BudgetFailure::Unavailable,
        };
        Self {
            failure,
            message: status.message().to_owned(),
        }
    }
}

/// What settlement asks of the budget context.
#[async_trait::async_trait]
pub trait BudgetPeer: Send + Sync {
    /// The sharing of every hospital of a clearing, by hospital code, asked on behalf of
    /// `principal`.
    async fn share(
        &self,
        principal: &Principal,
        clearing: &ClearingKey,
        requests: &[SharingRequest],
    ) -> Result<BTreeMap<String, SharingOutcome>, BudgetError>;

    /// The month's quota of every unit allocated in the region, by unit code.
    async fn monthly_quotas(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        fund: FundType,
    ) -> Result<BTreeMap<String, Money>, BudgetError>;
}

/// Which clearing a sharing is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClearingKey {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub run_id: String,
}

/// The budget port over the budget context's internal gRPC service.
#[derive(Clone)]
pub struct GrpcBudget {
    client: BudgetInternalServiceClient<Channel>,
    credentials: PeerCredentials,
}

impl GrpcBudget {
    /// A port over `channel`; `api_key`, when set, is sent as `authorization: Bearer`.
    pub fn new(channel: Channel, api_key: Option<&str>) -> Result<Self, String> {
        let credentials = PeerCredentials::from_api_key(api_key)?;
        Ok(Self {
            client: BudgetInternalServiceClient::new(channel)
                .max_decoding_message_size(PEER_MESSAGE_LIMIT)
                .max_encoding_message_size(PEER_MESSAGE_LIMIT),
            credentials,
        })
    }
}

fn answer_money(
    field: &str,
    code: &str,
    value: Option<&common::Money>,
) -> Result<Money, BudgetError> {
    wire::money(field, value).map_err(|(field, reason)| {
        BudgetError::unavailable(format!("budget answered {field} of {code}: {reason}"))
    })
}

#[async_trait::async_trait]
impl BudgetPeer for GrpcBudget {
    async fn share(
        &self,
        principal: &Principal,
        clearing: &ClearingKey,
        requests: &[SharingRequest],
    ) -> Result<BTreeMap<String, SharingOutcome>, BudgetError> {
        let body = pb::ShareForClearingRequest {
            region_code: clearing.region.to_string(),
            year: clearing.year,
            fund_type: wire::fund_type_to_wire(clearing.fund),
            clearing_run_id: clearing.run_id.clone(),
            hospitals: requests
                .iter()
                .map(|r| pb::HospitalStandard {
                    hospital_code: r.hospital_code.clone(),
                    standard: Some(wire::money_to_wire(r.standard)),
                    actual: Some(wire::money_to_wire(r.actual)),
                })
                .collect(),
        };
        let answer = self
            .client
            .clone()
            .share_for_clearing(self.credentials.request_for(principal, body)?)
            .await?
            .into_inner();
        let mut outcomes = BTreeMap::new();
        for share in answer.hospitals {
            let payable = answer_money("payable", &share.hospital_code, share.payable.as_ref())?;
            outcomes.insert(
                share.hospital_code,
                SharingOutcome {
                    payable,
                    tier: share.tier,
                },
            );
        }
        Ok(outcomes)
    }

    async fn monthly_quotas(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        fund: FundType,
    ) -> Result<BTreeMap<String, Money>, BudgetError> {
        let body = pb::GetMonthlyQuotasRequest {
            region_code: region.to_string(),
            year: month.year(),
            month: i32::try_from(month.month()).unwrap_or_default(),
            fund_type: wire::fund_type_to_wire(fund),
        };
        let answer = self
            .client
            .clone()
            .get_monthly_quotas(self.credentials.request_for(principal, body)?)
            .await?
            .into_inner();
        answer
            .quotas
            .into_iter()
            .map(|q| {
                Ok((
                    q.unit_code.clone(),
                    answer_money("quota", &q.unit_code, q.quota.as_ref())?,
                ))
            })
            .collect()
    }
}
