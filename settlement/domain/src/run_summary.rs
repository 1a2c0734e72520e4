//! What a stored run says of itself besides its statements: its totals and, for a clearing, the
//! identity check (DOMAIN.md §5: Σ entitlements + Σ FFS special cases + residue = budget).

use kernel::{Decimal, Money, Points};
use serde::{Deserialize, Serialize};

use crate::clearing::ClearingStatement;
use crate::prepayment::PrepaymentStatement;

/// Totals of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    pub hospitals: u32,
    pub cases: u64,
    pub points: Points,
    pub point_value: Decimal,
    pub payable: Money,
    /// Clearings: what the points-paid modes share (distributable budget − FFS special cases −
    /// money modes). Runs stored before it was recorded read `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_budget: Option<Money>,
    /// Clearings on the reimbursement-ratio basis: the ratio the point value divided by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reimbursement_ratio: Option<Decimal>,
}

impl RunTotals {
    /// Totals of a prepayment over `cases` point-valued cases.
    pub fn of_prepayment(statement: &PrepaymentStatement, cases: u64) -> Self {
        Self {
            hospitals: u32::try_from(statement.lines.len()).unwrap_or(u32::MAX),
            cases,
            points: statement.lines.iter().map(|l| l.points).sum(),
            point_value: statement.point_value,
            payable: statement.total_payable,
            points_budget: None,
            reimbursement_ratio: None,
        }
    }

    /// Totals of a clearing over `cases` cases.
    pub fn of_clearing(statement: &ClearingStatement, cases: u64) -> Self {
        Self {
            hospitals: u32::try_from(statement.hospitals.len()).unwrap_or(u32::MAX),
            cases,
            points: statement.total_points,
            point_value: statement.point_value,
            payable: statement.total_balance,
            points_budget: Some(statement.points_budget),
            reimbursement_ratio: statement.reimbursement_ratio,
        }
    }
}

/// The identity check of a clearing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCheck {
    pub distributable_budget: Money,
    pub total_entitlements: Money,
    pub ffs_special_total: Money,
    pub residue: Money,
    pub holds: bool,
}

/// A clearing whose figures do not add up to its budget: never stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "identity check failed: {} + {} + {} != {}",
    .0.total_entitlements,
    .0.ffs_special_total,
    .0.residue,
    .0.distributable_budget
)]
pub struct IdentityBroken(pub IdentityCheck);

impl IdentityCheck {
    /// The check of `statement`; refused when it does not hold.
    pub fn of(statement: &ClearingStatement) -> Result<Self, IdentityBroken> {
        let check = Self {
            distributable_budget: statement.distributable_budget,
            total_entitlements: statement.total_fund_entitlement,
            ffs_special_total: statement.ffs_special_total,
            residue: statement.residue,
            holds: statement.total_fund_entitlement
                + statement.ffs_special_total
                + statement.residue
                == statement.distributable_budget,
        };
        if check.holds {
            Ok(check)
        } else {
            Err(IdentityBroken(check))
        }
    }
}
