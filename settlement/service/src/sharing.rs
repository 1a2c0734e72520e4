//! The budget port: year-end sharing (DOMAIN.md §4) and monthly quotas (hospital-cap mode) from
//! the budget context over `medpay.budget.internal.v1`.
//!
//! The domain's [`SharingCalculator`] is synchronous and asked per hospital, while the reserve is
//! shared out across the whole region, so the clearing runs in two passes: a first pass records
//! every hospital's Std and Act ([`RecordingSharing`]), one batch call asks the budget context
//! for all of them, and the second pass reads the answers from an [`AnsweredSharing`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use kernel::{FundType, Money, Principal, RegionCode, YearMonth};
use medpay_proto::budget::internal::v1 as pb;
use medpay_proto::budget::internal::v1::budget_internal_service_client::BudgetInternalServiceClient;
use medpay_proto::common::v1 as common;
use platform::wire;
use settlement_domain::error::PortError;
use settlement_domain::ports::{SharingCalculator, SharingOutcome, SharingRequest};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use tonic::{Request, Status};

/// Tier of a hospital without a positive Std: the sharing ratio Act / Std does not exist, so it
/// is paid its Std (nothing, or what its deductions claw back) and not sent to the budget.
pub const NO_STANDARD: &str = "no_standard";

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
    ) -> Result<BTreeMap<String, SharingOutcome>, Status>;

    /// The month's quota of every unit allocated in the region, by unit code.
    async fn monthly_quotas(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        fund: FundType,
    ) -> Result<BTreeMap<String, Money>, Status>;
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
    authorization: Option<MetadataValue<Ascii>>,
}

impl GrpcBudget {
    /// A port over `channel`; `api_key`, when set, is sent as `authorization: Bearer`.
    pub fn new(channel: Channel, api_key: Option<&str>) -> Result<Self, String> {
        let authorization = match api_key {
            None | Some("") => None,
            Some(key) => Some(
                format!("Bearer {key}")
                    .parse()
                    .map_err(|_| "the peer api key is not valid header text".to_owned())?,
            ),
        };
        Ok(Self {
            client: BudgetInternalServiceClient::new(channel)
                .max_decoding_message_size(64 * 1024 * 1024)
                .max_encoding_message_size(64 * 1024 * 1024),
            authorization,
        })
    }

    /// The caller's principal travels with the call (a gateway in between replaces it with the
    /// api key's).
    fn request<T>(&self, principal: &Principal, body: T) -> Result<Request<T>, Status> {
        let mut request = Request::new(body);
        platform::set_principal(request.metadata_mut(), principal)?;
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

fn answer_money(field: &str, code: &str, value: Option<&common::Money>) -> Result<Money, Status> {
    wire::money(field, value).map_err(|(field, reason)| {
        Status::internal(format!("budget answered {field} of {code}: {reason}"))
    })
}

#[async_trait::async_trait]
impl BudgetPeer for GrpcBudget {
    async fn share(
        &self,
        principal: &Principal,
        clearing: &ClearingKey,
        requests: &[SharingRequest],
    ) -> Result<BTreeMap<String, SharingOutcome>, Status> {
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
            .share_for_clearing(self.request(principal, body)?)
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
    ) -> Result<BTreeMap<String, Money>, Status> {
        let body = pb::GetMonthlyQuotasRequest {
            region_code: region.to_string(),
            year: month.year(),
            month: i32::try_from(month.month()).unwrap_or_default(),
            fund_type: wire::fund_type_to_wire(fund),
        };
        let answer = self
            .client
            .clone()
            .get_monthly_quotas(self.request(principal, body)?)
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

/// First pass: pays each hospital its Std and remembers what was asked.
/// Clones share one record, so a clone handed to the clearing can be read afterwards.
#[derive(Clone, Debug, Default)]
pub struct RecordingSharing {
    asked: Arc<Mutex<Vec<SharingRequest>>>,
}

impl RecordingSharing {
    /// The requests the clearing made, in its (hospital-code) order, taken out of the record.
    pub fn take_requests(&self) -> Vec<SharingRequest> {
        std::mem::take(&mut *self.asked.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl SharingCalculator for RecordingSharing {
    fn share(&self, request: &SharingRequest) -> Result<SharingOutcome, PortError> {
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        Ok(SharingOutcome {
            payable: request.standard,
            tier: NO_STANDARD.to_owned(),
        })
    }
}

/// Second pass: the budget context's answers, looked up by hospital; a hospital without a
/// positive Std is paid its Std.
#[derive(Debug, Default)]
pub struct AnsweredSharing {
    answers: BTreeMap<String, SharingOutcome>,
}

impl AnsweredSharing {
    pub fn new(answers: BTreeMap<String, SharingOutcome>) -> Self {
        Self { answers }
    }
}

/// Whether the budget context can share this hospital's year (R = Act / Std needs Std > 0).
pub fn shareable(request: &SharingRequest) -> bool {
    request.standard.value() > kernel::Decimal::ZERO
}

impl SharingCalculator for AnsweredSharing {
    fn share(&self, request: &SharingRequest) -> Result<SharingOutcome, PortError> {
        if !shareable(request) {
            return Ok(SharingOutcome {
                payable: request.standard,
                tier: NO_STANDARD.to_owned(),
            });
        }
        self.answers
            .get(&request.hospital_code)
            .cloned()
            .ok_or_else(|| PortError {
                port: "sharing",
                reason: "NO_SHARING_ANSWER".to_owned(),
                message: format!(
                    "the budget context did not answer for hospital {}",
                    request.hospital_code
                ),
            })
    }
}
