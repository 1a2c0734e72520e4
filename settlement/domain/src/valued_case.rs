//! A valued case as the runs read it from the ledger: its valuation, never the list itself.

use std::collections::BTreeSet;

use kernel::{Money, Points};
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use crate::payment_mode::PaymentMode;
pub use crate::readmission::StayFacts;

/// One current valued (or already cleared) case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuedCase {
    pub hospital_code: String,
    pub list_id: String,
    /// `None` when the stored mode names none this version knows: paid in points.
    pub payment_mode: Option<PaymentMode>,
    pub group_code: String,
    pub points: Points,
    /// The case's total cost (医疗总费用).
    pub total_cost: Money,
    pub individual_burden: Money,
    /// The fund amount as claimed fee-for-service.
    pub fund_amount: Money,
    /// What the mode pays in money (per diem, day surgery, fixed rate, fee-for-service, paid at
    /// cost); `None` for a case paid in points.
    pub amount: Option<Money>,
    pub scheme_version: String,
    pub table_version: String,
    /// What the rules across stays need (readmission halving); `None` when not read.
    pub stay: Option<StayFacts>,
}

impl ValuedCase {
    /// Paid fee-for-service, outside points: left out of shadow settlement.
    pub fn is_fee_for_service(&self) -> bool {
        self.payment_mode == Some(PaymentMode::FeeForService)
    }

    /// How prepayment and clearing pay the case.
    pub fn payment(&self) -> Result<CasePayment, SettlementError> {
        CasePayment::of(self.payment_mode, self.amount).ok_or_else(|| {
            SettlementError::MissingStandardAmount {
                record: format!("{}/{}", self.hospital_code, self.list_id),
                mode: self
                    .payment_mode
                    .map(PaymentMode::as_str)
                    .unwrap_or_default(),
            }
        })
    }
}

/// How the year-end clearing and the monthly prepayment pay a case (DOMAIN.md §5, "Hainan
/// clearing with every mode"): money modes are paid first, the point value divides what remains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "amount")]
pub enum CasePayment {
    /// By points of the main method: DRG, DIP, basic-level DIP (and a mode this version does not
    /// name, as before the modes were known).
    Points,
    /// A standard amount (per diem, day surgery, fixed-rate disease): the fund pays the standard
    /// less the individual burden, never below zero.
    Standard(Money),
    /// The fund amount claimed fee-for-service: excluded stays and cases paid at cost (a DIP group
    /// with score 0, or no group).
    Claimed,
}

impl CasePayment {
    /// The payment of a case of `mode` valued at `amount`; `None` when a standard-paid mode has
    /// no amount (a case valued before amounts were kept: it has to be revalued).
    pub fn of(mode: Option<PaymentMode>, amount: Option<Money>) -> Option<Self> {
        match mode {
            Some(PaymentMode::FeeForService) => Some(CasePayment::Claimed),
            Some(
                PaymentMode::PerDiem
                | PaymentMode::PerDiemPsychiatric
                | PaymentMode::PerDiemRehabilitation
                | PaymentMode::PerDiemHospice
                | PaymentMode::DaySurgery
                | PaymentMode::FixedRate,
            ) => amount.map(CasePayment::Standard),
            // A points mode that answered an amount is paid at cost.
            Some(PaymentMode::Drg | PaymentMode::Dip | PaymentMode::BasicLevelDisease) | None => {
                Some(match amount {
                    Some(_) => CasePayment::Claimed,
                    None => CasePayment::Points,
                })
            }
        }
    }

    /// Whether the case is paid by points.
    pub fn is_points(self) -> bool {
        self == CasePayment::Points
    }

    /// The fund's part of a money-paid case (基金支付部分); zero for a points-paid case, whose
    /// fund part follows from the point value.
    pub fn money_fund_part(self, individual_burden: Money, claimed_fund: Money) -> Money {
        match self {
            CasePayment::Points => Money::ZERO,
            CasePayment::Standard(standard) => (standard - individual_burden).max(Money::ZERO),
            CasePayment::Claimed => claimed_fund,
        }
    }
}

/// The grouping schemes and valuation tables of the cases a run read, recorded with the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputVersions {
    pub schemes: BTreeSet<String>,
    pub tables: BTreeSet<String>,
}

impl InputVersions {
    pub fn add(&mut self, case: &ValuedCase) {
        if !self.schemes.contains(&case.scheme_version) {
            self.schemes.insert(case.scheme_version.clone());
        }
        if !self.tables.contains(&case.table_version) {
            self.tables.insert(case.table_version.clone());
        }
    }
}
