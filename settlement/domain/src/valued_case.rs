//! A valued case as the runs read it from the ledger: its valuation, never the list itself.

use std::collections::BTreeSet;

use kernel::{Money, Points};
use serde::{Deserialize, Serialize};

use crate::payment_mode::PaymentMode;

/// One current valued (or already cleared) case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuedCase {
    pub hospital_code: String,
    pub list_id: String,
    /// `None` when the stored mode names none this version knows: paid in points.
    pub payment_mode: Option<PaymentMode>,
    pub group_code: String,
    pub points: Points,
    pub individual_burden: Money,
    /// The fund amount as claimed fee-for-service.
    pub fund_amount: Money,
    pub scheme_version: String,
    pub table_version: String,
}

impl ValuedCase {
    /// Paid fee-for-service, outside points: left out of prepayment and shadow settlement.
    pub fn is_fee_for_service(&self) -> bool {
        self.payment_mode == Some(PaymentMode::FeeForService)
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
