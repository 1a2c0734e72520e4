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
