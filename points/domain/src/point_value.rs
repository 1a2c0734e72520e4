//! Point values (点值) and what hospitals are entitled to under them.
//!
//! DRG (DOMAIN.md §3): year-end point value on a total-cost basis = (fund budget + individual
//! burden) / total points, or fund budget / total points; published rounded to the policy's
//! decimal places, and every amount is computed from the published value. DIP: the settlement point
//! value (the budget point value is computed and published by settlement, which holds the ledger
//! of its history years). The residue between a budget and the sum paid stays in the fund and
//! is reported.

use std::collections::BTreeMap;

use kernel::{Decimal, Money, Points};
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};

use crate::policy::{PointValueBasis, ValuationPolicy};
use crate::valuation::{CaseType, Valuation};

/// Why a point value could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointValueError {
    #[error("total points are {total}, a point value needs a positive total")]
    NoPoints { total: Decimal },
    #[error("{field} is {value}, it must not be negative")]
    NegativeAmount { field: &'static str, value: Decimal },
    #[error("reimbursement ratio is {value}, it must lie in (0, 1]")]
    InvalidRatio { value: Decimal },
}

impl PointValueError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            PointValueError::NoPoints { .. } => "NO_POINTS",
            PointValueError::NegativeAmount { .. } => "NEGATIVE_AMOUNT",
            PointValueError::InvalidRatio { .. } => "INVALID_REIMBURSEMENT_RATIO",
        }
    }
}

/// A point value as computed and as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointValue {
    /// The unrounded quotient.
    pub exact: Decimal,
    /// The published value, rounded to `decimal_places`; every amount uses it.
    pub published: Decimal,
    /// Decimal places of `published`.
    pub decimal_places: u32,
}

/// Rounds a point value for publication, half away from zero: the one place point values are
/// rounded.
pub fn publish_point_value(exact: Decimal, decimal_places: u32) -> Decimal {
    let mut published =
        exact.round_dp_with_strategy(decimal_places, RoundingStrategy::MidpointAwayFromZero);
    published.rescale(decimal_places);
    published
}

fn non_negative(field: &'static str, amount: Money) -> Result<(), PointValueError> {
    if amount.is_negative() {
        return Err(PointValueError::NegativeAmount {
            field,
            value: amount.value(),
        });
    }
    Ok(())
}

fn point_value(
    policy: &ValuationPolicy,
    numerator: Decimal,
    total_points: Points,
) -> Result<PointValue, PointValueError> {
    if total_points.value() <= Decimal::ZERO {
        return Err(PointValueError::NoPoints {
            total: total_points.value(),
        });
    }
    let exact = numerator / total_points.value();
    let decimal_places = policy.point_value.published_decimal_places;
    Ok(PointValue {
        exact,
        published: publish_point_value(exact, decimal_places),
        decimal_places,
    })
}

/// DRG year-end point value under the policy's basis: (fund budget + individual burden of DRG
/// cases) / total points (total-cost basis), or fund budget / total points (fund basis).
pub fn drg_point_value(
    policy: &ValuationPolicy,
    fund_budget: Money,
    individual_burden: Money,
    total_points: Points,
) -> Result<PointValue, PointValueError> {
    non_negative("fund_budget", fund_budget)?;
    non_negative("individual_burden", individual_burden)?;
    let numerator = match policy.point_value.basis {
        PointValueBasis::TotalCost => fund_budget.value() + individual_burden.value(),
        PointValueBasis::Fund => fund_budget.value(),
    };
    point_value(policy, numerator, total_points)
}

/// Money for `points` at the published point value, rounded once to the fen.
pub fn points_amount(points: Points, value: &PointValue) -> Money {
    Money::round(points.value() * value.published)
}

/// One hospital's year-end position under a point value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalClearing {
    /// The hospital's points.
    pub points: Points,
    /// Points × published point value.
    pub entitlement: Money,
    /// Individual burden of its cases.
    pub individual_burden: Money,
    /// Entitlement − individual burden (on a total-cost basis).
    pub fund_amount: Money,
    /// Already prepaid during the year.
    pub prepaid: Money,
    /// Fund amount − prepaid: positive is a top-up, negative a recovery.
    pub balance: Money,
}

/// A hospital's entitlement, fund amount and balance: points × published point value −
/// individual burden − prepaid (DOMAIN.md §3 DRG point value). On a fund basis the individual
/// burden is not subtracted, because the point value already excludes it.
pub fn clear_hospital(
    policy: &ValuationPolicy,
    value: &PointValue,
    points: Points,
    individual_burden: Money,
    prepaid: Money,
) -> HospitalClearing {
    let entitlement = points_amount(points, value);
    let fund_amount = match policy.point_value.basis {
        PointValueBasis::TotalCost => entitlement - individual_burden,
        PointValueBasis::Fund => entitlement,
    };
    HospitalClearing {
        points,
        entitlement,
        individual_burden,
        fund_amount,
        prepaid,
        balance: fund_amount - prepaid,
    }
}

/// A hospital's year totals, input to a clearing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalTotals {
    /// Hospital code.
    pub hospital_code: String,
    /// The hospital's points of the year.
    pub points: Points,
    /// Individual burden of its point-paid cases.
    pub individual_burden: Money,
    /// Prepaid during the year.
    pub prepaid: Money,
}

/// Every hospital cleared under one point value, and the residue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrgClearing {
    /// The point value every hospital is cleared with.
    pub point_value: PointValue,
    /// Each hospital's clearing, in input order.
    pub hospitals: Vec<(String, HospitalClearing)>,
    /// Σ hospital fund amounts.
    pub fund_paid: Money,
    /// Fund budget − Σ fund amounts: stays in the fund, reported on the statement.
    pub residue: Money,
}

/// Clears every hospital of a pooling region against the fund budget.
pub fn clear_drg(
    policy: &ValuationPolicy,
    fund_budget: Money,
    hospitals: &[HospitalTotals],
) -> Result<DrgClearing, PointValueError> {
    let total_points: Points = hospitals.iter().map(|h| h.points).sum();
    let burden: Money = hospitals.iter().map(|h| h.individual_burden).sum();
    let value = drg_point_value(policy, fund_budget, burden, total_points)?;
    let cleared: Vec<(String, HospitalClearing)> = hospitals
        .iter()
        .map(|h| {
            (
                h.hospital_code.clone(),
                clear_hospital(policy, &value, h.points, h.individual_burden, h.prepaid),
            )
        })
        .collect();
    let fund_paid: Money = cleared.iter().map(|(_, c)| c.fund_amount).sum();
    Ok(DrgClearing {
        point_value: value,
        hospitals: cleared,
        fund_paid,
        residue: fund_budget - fund_paid,
    })
}

/// The DIP settlement point value and how it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DipPointValues {
    /// Fund paid / total cost of DIP cases, unrounded.
    pub reimbursement_ratio: Decimal,
    /// Fund amount / reimbursement ratio, unrounded.
    pub total_cost_basis: Decimal,
    /// The settlement point value.
    pub point_value: PointValue,
}

/// The reimbursement ratio of DIP cases: fund paid / total cost (unrounded).
pub fn reimbursement_ratio(
    fund_paid: Money,
    total_cost: Money,
) -> Result<Decimal, PointValueError> {
    if total_cost.value() <= Decimal::ZERO {
        return Err(PointValueError::InvalidRatio {
            value: Decimal::ZERO,
        });
    }
    Ok(fund_paid.value() / total_cost.value())
}

/// DIP settlement point value (结算点值) = (fund amount for DIP / reimbursement ratio) / Σ scores.
pub fn dip_settlement_point_value(
    policy: &ValuationPolicy,
    fund_amount: Money,
    reimbursement_ratio: Decimal,
    total_scores: Points,
) -> Result<DipPointValues, PointValueError> {
    non_negative("fund_amount", fund_amount)?;
    if reimbursement_ratio <= Decimal::ZERO || reimbursement_ratio > Decimal::ONE {
        return Err(PointValueError::InvalidRatio {
            value: reimbursement_ratio,
        });
    }
    let total_cost_basis = fund_amount.value() / reimbursement_ratio;
    Ok(DipPointValues {
        reimbursement_ratio,
        total_cost_basis,
        point_value: point_value(policy, total_cost_basis, total_scores)?,
    })
}

/// The budget a preview divides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewBudget {
    /// DRG clearing budget of the fund (the policy's basis decides whether burdens are added).
    Drg { fund_budget: Money },
    /// DIP fund amount and reimbursement ratio (settlement point value).
    Dip {
        fund_amount: Money,
        reimbursement_ratio: Decimal,
    },
}

/// What a set of valued cases implies for the point value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointValuePreview {
    /// Cases previewed.
    pub cases: u64,
    /// Cases paid in points (DRG, DIP, basic-level).
    pub point_cases: u64,
    /// Σ points of the point cases.
    pub total_points: Points,
    /// Individual burden of the point cases.
    pub individual_burden: Money,
    /// Cases paid in money (per diem, day surgery, fixed rate, FFS, paid at cost) and their sum.
    pub money_cases: u64,
    /// Σ money of the money cases.
    pub money_total: Money,
    /// Cases awaiting expert review (their points are provisional).
    pub expert_review_cases: u64,
    /// Case count by case type.
    pub by_case_type: BTreeMap<String, u64>,
    /// The point value the budget gives these points.
    pub point_value: PointValue,
}

/// Summarises valued cases and the point value `budget` would give them.
pub fn preview_point_value(
    policy: &ValuationPolicy,
    budget: PreviewBudget,
    cases: &[Valuation],
) -> Result<PointValuePreview, PointValueError> {
    let mut total_points = Points::ZERO;
    let mut burden = Money::ZERO;
    let mut point_cases = 0;
    let mut money_total = Money::ZERO;
    let mut money_cases = 0;
    let mut expert_review_cases = 0;
    let mut counts: BTreeMap<CaseType, u64> = BTreeMap::new();
    for valuation in cases {
        *counts.entry(valuation.case_type).or_default() += 1;
        expert_review_cases += u64::from(valuation.requires_expert_review);
        match valuation.amount {
            Some(amount) => {
                money_cases += 1;
                money_total += amount;
            }
            None => {
                point_cases += 1;
                total_points += valuation.points;
                burden += valuation.individual_burden;
            }
        }
    }
    let point_value = match budget {
        PreviewBudget::Drg { fund_budget } => {
            drg_point_value(policy, fund_budget, burden, total_points)?
        }
        PreviewBudget::Dip {
            fund_amount,
            reimbursement_ratio,
        } => {
            dip_settlement_point_value(policy, fund_amount, reimbursement_ratio, total_points)?
                .point_value
        }
    };
    Ok(PointValuePreview {
        cases: cases.len() as u64,
        point_cases,
        total_points,
        individual_burden: burden,
        money_cases,
        money_total,
        expert_review_cases,
        by_case_type: counts
            .into_iter()
            .map(|(case_type, count)| (case_type.as_str().to_owned(), count))
            .collect(),
        point_value,
    })
}
