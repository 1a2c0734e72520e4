//! Ports: what settlement needs from other contexts (grouping and points to value a case, budget
//! to share over- and underspend, the scheme's code dictionaries).
//!
//! The service layer implements these over the other contexts' internal gRPC contracts; the
//! domain only calls the traits, so it never depends on another context's crate. Each port is
//! mockable in tests.

use kernel::{FundType, Money, Points, RegionCode};
use serde::{Deserialize, Serialize};

use crate::case::SettlementList;
use crate::error::PortError;

/// The scheme's code dictionaries (after the scheme's code map), used by validation.
#[cfg_attr(test, mockall::automock)]
pub trait CodeDictionary {
    /// Whether `code` is an ICD-10 医保版 2.0 diagnosis (combined dagger-asterisk codes included).
    fn has_diagnosis(&self, code: &str) -> bool;
    /// Whether `code` is an ICD-9-CM-3 医保版 2.0 procedure.
    fn has_procedure(&self, code: &str) -> bool;
}

pub use crate::payment_mode::PaymentMode;

/// A case as grouped (grouping context) and valued in points (points context) at intake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValuedCase {
    /// The ledger's word for the payment mode: `drg`, `dip`, `per_diem`, `day_surgery`,
    /// `basic_level_disease`, `fee_for_service`, …
    pub payment_mode: String,
    pub group_code: String,
    pub points: Points,
    /// What the mode pays in money (per diem, day surgery, fixed rate, fee-for-service, paid at
    /// cost); `None` for a case paid in points.
    pub amount: Option<Money>,
    /// Grouping scheme `id@version`.
    pub scheme_version: String,
    /// Points table used.
    pub table_version: String,
    /// The breakdown (mode rule, case type, ratio, base, coefficient) as canonical JSON.
    pub valuation_json: String,
    /// The per-diem programme the points context named by its mode rules' tests (empty for
    /// none): the stay's days accumulate with the person's other stays in it.
    pub episode_programme: String,
    /// The prior episode days the case was valued with.
    pub prior_episode_days: u32,
}

/// A peer context could not be reached: nothing of the batch may be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{peer} is unavailable: {message}")]
pub struct PeerUnavailable {
    pub peer: &'static str,
    pub message: String,
}

/// One answer per case, in input order: the valuation, or why the peers refused the case (it is
/// then stored unvalued with that reason).
pub type BatchValuation = Vec<Result<ValuedCase, String>>;

/// Which list of a settlement list a code is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeKind {
    Diagnosis,
    Procedure,
}

/// A code of a list that the scheme in force for it does not know, as grouping reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCode {
    pub kind: CodeKind,
    /// Zero-based position in the list's diagnoses or procedures (0 is the principal).
    pub position: usize,
    pub code: String,
}

/// A batch's valuations with, per case and in the same order, the codes the scheme did not
/// know (empty when the valuer cannot tell).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedValuation {
    pub valuations: BatchValuation,
    pub unknown_codes: Vec<Vec<UnknownCode>>,
}

/// Groups and values the inpatient cases of one pooling region, a batch at a time (grouping and
/// points contexts): the valuation port intake uses. The service implements it over the peers'
/// internal contracts; the domain only declares it. `prior_days[i]` are the per-diem episode
/// days before case `i` ([`crate::episode`]); a shorter slice means 0 for the rest.
#[async_trait::async_trait]
pub trait CaseValuer: Send + Sync {
    async fn value_batch(
        &self,
        region: RegionCode,
        cases: &[SettlementList],
        prior_days: &[u32],
    ) -> Result<BatchValuation, PeerUnavailable>;

    /// [`CaseValuer::value_batch`] with the codes grouping found unknown, from the same call;
    /// a valuer that cannot tell reports none.
    async fn value_and_check(
        &self,
        region: RegionCode,
        cases: &[SettlementList],
        prior_days: &[u32],
    ) -> Result<CheckedValuation, PeerUnavailable> {
        let valuations = self.value_batch(region, cases, prior_days).await?;
        Ok(CheckedValuation {
            unknown_codes: vec![Vec::new(); valuations.len()],
            valuations,
        })
    }
}

/// The valuer of a service started without peers: every case is stored unvalued, with the
/// reason.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPeers;

#[async_trait::async_trait]
impl CaseValuer for NoPeers {
    async fn value_batch(
        &self,
        _region: RegionCode,
        cases: &[SettlementList],
        _prior_days: &[u32],
    ) -> Result<BatchValuation, PeerUnavailable> {
        Ok(vec![
            Err(
                "no grouping and points peers are configured".to_owned()
            );
            cases.len()
        ])
    }
}

/// Accepts every non-empty code: the scheme's dictionaries live in the grouping context, which
/// names the codes it does not know when it groups the case; intake keeps them as warnings
/// ([`crate::intake_warnings`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupingChecksCodes;

impl CodeDictionary for GroupingChecksCodes {
    fn has_diagnosis(&self, code: &str) -> bool {
        !code.trim().is_empty()
    }
    fn has_procedure(&self, code: &str) -> bool {
        !code.trim().is_empty()
    }
}

/// What the sharing rule needs for one hospital (DOMAIN.md §4 year-end sharing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingRequest {
    pub hospital_code: String,
    pub fund_type: FundType,
    /// Std: the fund entitlement after the assessment coefficient and violation deductions,
    /// FFS special cases excluded.
    pub standard: Money,
    /// Act: the fund amount actually claimed fee-for-service, FFS special cases excluded.
    pub actual: Money,
}

/// The sharing rule's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingOutcome {
    /// What the hospital is paid for its point-valued cases.
    pub payable: Money,
    /// The tier that applied (e.g. `"surplus_retained"`, `"overspend_shared"`).
    pub tier: String,
}

/// Applies the region's year-end sharing tiers (budget context).
#[cfg_attr(test, mockall::automock)]
pub trait SharingCalculator {
    fn share(&self, request: &SharingRequest) -> Result<SharingOutcome, PortError>;
}

/// Regional point mode without per-hospital sharing: the hospital is paid its standard.
#[derive(Clone, Copy, Debug, Default)]
pub struct PayStandard;

impl SharingCalculator for PayStandard {
    fn share(&self, request: &SharingRequest) -> Result<SharingOutcome, PortError> {
        Ok(SharingOutcome {
            payable: request.standard,
            tier: "standard".to_owned(),
        })
    }
}
