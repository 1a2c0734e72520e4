//! Year-end clearing (年终清算, DOMAIN.md §3 point value and §5 year end) per pooling region,
//! year and fund.
//!
//! Every payment mode is paid (DOMAIN.md §5, "Hainan clearing with every mode"). Steps, in order:
//! 1. Money modes are paid first from the distributable budget: FFS special cases their claimed
//!    fund amount; per-diem, day-surgery and fixed-rate cases their standard less the individual
//!    burden (never below zero); excluded stays and cases paid at cost their claimed fund amount
//!    ([`CasePayment`]). The rest of the budget (the points budget) is divided over the points of
//!    the points-paid cases.
//! 2. Point value, by [`PointValueBasis`]: total cost (points budget + individual burden of the
//!    points-paid cases) / points; fund only, points budget / points; or the DIP reimbursement
//!    ratio (结算点值), points budget / ρ / points with ρ = Σ fund paid / Σ total cost of the
//!    points-paid cases, unrounded. Published rounded to 4 places (a parameter), and every amount
//!    is computed from the published value.
//! 3. Per hospital: gross entitlement = points × point value (rounded once); its fund part =
//!    gross − individual burden (total cost), gross (fund only) or gross × ρ rounded once (ratio);
//!    fund entitlement = that fund part + the hospital's money fund parts.
//! 4. Residue rule: residue = distributable budget − Σ fund entitlements − Σ FFS special-case
//!    amounts. It stays in the fund and is reported on the statement (negative when publishing
//!    the point value rounded it up; the fund then pays the few fen from its balance). So
//!    Σ entitlements + Σ FFS + residue = distributable budget to the fen, by construction, and
//!    |residue| is bounded by the point-value rounding (½ × 10⁻⁴ per point, × ρ on the ratio
//!    basis) plus ½ fen per hospital.
//! 5. Assessment coefficient (考核系数) on the fund entitlement (rounded once), then violation
//!    deductions (违规扣款); the result is Std for the sharing port (budget context), with Act =
//!    the fund amount claimed fee-for-service of every other case, FFS special cases excluded from
//!    both (DOMAIN.md §4). What the sharing pays above Std comes from the adjustment reserve, not
//!    from this budget.
//! 6. Quality deposits: the forfeited part (withheld − returned) is kept; prepayments are
//!    subtracted; the balance is due either way.
//!
//! Output is sorted by hospital code and built from ordered maps: the same inputs give the same
//! statement, byte for byte.

use std::collections::BTreeMap;

use kernel::{Decimal, FundType, Money, Points, RegionCode, round_points};
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use crate::payment_mode::PaymentMode;
use crate::ports::{SharingCalculator, SharingRequest};
pub use crate::readmission::Halving;
pub use crate::valued_case::CasePayment;

pub mod alliance;
mod deposit;
mod settle;
mod validate;

pub use alliance::{AllianceDistribution, AllianceShare, AllianceSummary};
pub use deposit::DepositReturn;

/// Which point-value formula (DOMAIN.md §3 point value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointValueBasis {
    /// (fund budget + individual burden) / total points.
    TotalCost,
    /// fund budget / total points.
    FundOnly,
    /// DIP settlement point value (结算点值, Hainan): fund budget / reimbursement ratio / total
    /// points, the ratio being Σ fund paid / Σ total cost of the points-paid cases; a hospital's
    /// fund part is its points amount × the ratio.
    ReimbursementRatio,
}

/// Parameters of the clearing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClearingPolicy {
    pub point_value_basis: PointValueBasis,
    /// Decimal places the point value is published with (default 4).
    pub point_value_places: u32,
    /// Who applies the year-end sharing tiers to Std and Act.
    pub sharing: SharingSource,
    /// How much of the quality deposit an assessment score returns.
    pub deposit_return: DepositReturn,
    /// How a medical alliance's sharing reaches its members ([`alliance`]).
    pub alliance_distribution: AllianceDistribution,
}

/// Where the year-end sharing (DOMAIN.md §4) comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingSource {
    /// Regional point mode: no per-hospital sharing, each hospital is paid its Std.
    #[default]
    PayStandard,
    /// The budget context's tiers for the region and its adjustment reserve.
    Budget,
}

impl Default for ClearingPolicy {
    fn default() -> Self {
        Self {
            point_value_basis: PointValueBasis::TotalCost,
            point_value_places: 4,
            sharing: SharingSource::PayStandard,
            deposit_return: DepositReturn::default(),
            alliance_distribution: AllianceDistribution::default(),
        }
    }
}

/// One valued case of the year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingCase {
    pub hospital_code: String,
    pub list_id: String,
    /// The mode the case was valued in, for the statement's lines by mode.
    pub mode: Option<PaymentMode>,
    /// How the case is paid (ignored for FFS special cases).
    pub payment: CasePayment,
    /// Points of a points-paid case.
    pub points: Points,
    /// Total cost of the case: the reimbursement ratio's denominator.
    pub total_cost: Money,
    /// Individual burden of the case (personal account + cash).
    pub individual_burden: Money,
    /// An approved special case paid fee-for-service, outside points.
    pub ffs_special: bool,
    /// The fund amount of the case as claimed fee-for-service.
    pub fund_amount_ffs: Money,
}

impl ClearingCase {
    /// The statement line a case is counted on.
    fn line_name(&self) -> &'static str {
        match (self.ffs_special, self.payment, self.mode) {
            (true, _, _) => SPECIAL_CASE_LINE,
            // A points mode paid its claim: a DIP group with score 0, or no group.
            (false, CasePayment::Claimed, Some(mode)) if mode != PaymentMode::FeeForService => {
                PAID_AT_COST_LINE
            }
            (false, _, mode) => mode.map_or(UNNAMED_MODE_LINE, PaymentMode::as_str),
        }
    }
}

/// The line of approved special cases paid fee-for-service.
pub const SPECIAL_CASE_LINE: &str = "special_case_fee_for_service";
/// The line of points-mode cases paid at cost (a DIP group with score 0, or no group).
pub const PAID_AT_COST_LINE: &str = "paid_at_cost";
/// The line of cases whose stored mode this version does not name (paid in points).
pub const UNNAMED_MODE_LINE: &str = "unnamed_mode";

/// One payment mode's cases on a statement (a hospital's or the region's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeLine {
    /// The ledger's word for the mode, or [`SPECIAL_CASE_LINE`], [`PAID_AT_COST_LINE`],
    /// [`UNNAMED_MODE_LINE`].
    pub mode: String,
    pub cases: u64,
    /// Points of points-paid cases.
    pub points: Points,
    /// Standards (per diem, day surgery, fixed rate) and claimed fund amounts (excluded stays,
    /// paid at cost, special cases) of money-paid cases.
    pub amount: Money,
    /// The fund's part of the money-paid cases; the points-paid cases' fund part follows from
    /// the point value and is the hospital's `points_fund_part`.
    pub fund_part: Money,
    pub individual_burden: Money,
    pub total_cost: Money,
}

impl ModeLine {
    fn add(&mut self, case: &ClearingCase, fund_part: Money) {
        self.cases += 1;
        self.individual_burden += case.individual_burden;
        self.total_cost += case.total_cost;
        if case.ffs_special {
            self.amount += case.fund_amount_ffs;
            self.fund_part += fund_part;
            return;
        }
        match case.payment {
            CasePayment::Points => self.points += case.points,
            CasePayment::Standard(standard) => self.amount += standard,
            CasePayment::Claimed => self.amount += case.fund_amount_ffs,
        }
        self.fund_part += fund_part;
    }

    fn merge(&mut self, other: &ModeLine) {
        self.cases += other.cases;
        self.points += other.points;
        self.amount += other.amount;
        self.fund_part += other.fund_part;
        self.individual_burden += other.individual_burden;
        self.total_cost += other.total_cost;
    }
}

/// A hospital's year-end inputs besides its cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalClearingInput {
    pub hospital_code: String,
    /// 考核系数 (1 = full entitlement).
    pub assessment_coefficient: Decimal,
    /// 违规扣款 for the year.
    pub violation_deductions: Money,
    /// The supervision findings behind them, when supervision gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violation_findings: Vec<crate::violation_deductions::DeductionFinding>,
    /// Quality deposit withheld during the year.
    pub deposit_withheld: Money,
    /// Part of it returned after assessment, as typed in when no score is given.
    pub deposit_returned: Money,
    /// The assessment score (考核评价, 0–100): when given, the deposit returned follows the
    /// policy's [`DepositReturn`] tiers instead of `deposit_returned`.
    pub assessment_score: Option<Decimal>,
    /// Where the score came from, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_score_source: Option<crate::assessment_scores::ScoreSource>,
    /// The credit grade supervision's assessment gave the hospital, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grade: Option<String>,
    /// Σ monthly prepayments transferred.
    pub prepaid: Money,
    /// The hospital's stays halved as readmitted (their cases carry the halved points).
    pub readmissions_halved: Vec<Halving>,
    /// The medical alliance it belongs to by the registry at the year's end, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<String>,
}

impl HospitalClearingInput {
    /// A hospital with coefficient 1 and nothing deducted, withheld or prepaid.
    pub fn plain(hospital_code: impl Into<String>) -> Self {
        Self {
            hospital_code: hospital_code.into(),
            assessment_coefficient: Decimal::ONE,
            violation_deductions: Money::ZERO,
            violation_findings: Vec::new(),
            deposit_withheld: Money::ZERO,
            deposit_returned: Money::ZERO,
            assessment_score: None,
            assessment_score_source: None,
            credit_grade: None,
            prepaid: Money::ZERO,
            readmissions_halved: Vec::new(),
            alliance: None,
        }
    }
}

/// A clearing run's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingInput {
    pub region: RegionCode,
    pub year: i32,
    pub fund_type: FundType,
    /// The fund's distributable budget for the block (after the adjustment reserve).
    pub distributable_budget: Money,
    pub cases: Vec<ClearingCase>,
    pub hospitals: Vec<HospitalClearingInput>,
}

/// Which way the balance goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalanceDirection {
    /// The fund pays the hospital.
    TopUp,
    /// The hospital repays the fund.
    Repayment,
    Settled,
}

/// A hospital's clearing statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalStatement {
    pub hospital_code: String,
    pub cases: u64,
    pub ffs_special_cases: u64,
    /// Points of the points-paid cases.
    pub points: Points,
    pub point_value: Decimal,
    /// points × point value.
    pub gross_entitlement: Money,
    /// Individual burden of the points-paid cases.
    pub individual_burden: Money,
    /// The fund's part of the points: gross − individual burden (total cost), gross (fund only),
    /// gross × reimbursement ratio (ratio).
    #[serde(default)]
    pub points_fund_part: Money,
    /// Σ fund parts of the money-paid cases other than FFS special cases.
    #[serde(default)]
    pub money_fund_part: Money,
    /// points fund part + money fund part: this hospital's share of the distributable budget.
    pub fund_entitlement: Money,
    pub assessment_coefficient: Decimal,
    /// fund entitlement × assessment coefficient.
    pub assessed_entitlement: Money,
    pub violation_deductions: Money,
    /// The confirmed findings behind the deductions (supervision's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violation_findings: Vec<crate::violation_deductions::DeductionFinding>,
    /// Std for sharing = assessed − deductions.
    pub sharing_standard: Money,
    /// Act for sharing: FFS fund claims of point-valued cases.
    pub sharing_actual: Money,
    pub sharing_tier: String,
    /// What the sharing rule pays for point-valued cases.
    pub sharing_payable: Money,
    /// sharing payable − Std (from the adjustment reserve when positive).
    pub sharing_adjustment: Money,
    /// FFS special cases, paid their fund amount.
    pub ffs_special_amount: Money,
    pub deposit_withheld: Money,
    /// The assessment score the deposit was returned by, when one was given.
    #[serde(default)]
    pub assessment_score: Option<Decimal>,
    /// Where that score came from: the year inputs or supervision's assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_score_source: Option<crate::assessment_scores::ScoreSource>,
    /// The credit grade (A–D) of supervision's assessment the score came with, when supervision
    /// graded the hospital; informative, it moves no money.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grade: Option<String>,
    pub deposit_returned: Money,
    /// withheld − returned: kept by the fund.
    pub deposit_forfeited: Money,
    /// sharing payable + FFS special − deposit forfeited.
    pub final_amount: Money,
    pub prepaid: Money,
    /// final amount − prepaid: positive is due to the hospital, negative to the fund.
    pub balance: Money,
    pub direction: BalanceDirection,
    /// The cases by payment mode, in mode order.
    #[serde(default)]
    pub modes: Vec<ModeLine>,
    /// Stays whose points were halved as readmitted within the window (DRG).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readmissions_halved: Vec<Halving>,
    /// The alliance it was shared with as one unit: the unit's R, tier and payable and this
    /// hospital's share; its `sharing_tier` is the unit's and `sharing_payable` its part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alliance: Option<AllianceShare>,
}

/// A clearing run's statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingStatement {
    pub region: RegionCode,
    pub year: i32,
    pub fund_type: FundType,
    pub policy: ClearingPolicy,
    pub distributable_budget: Money,
    pub ffs_special_total: Money,
    /// Σ fund parts of the other money-paid cases, paid before the points.
    #[serde(default)]
    pub money_fund_total: Money,
    /// distributable budget − FFS special cases − money fund total.
    pub points_budget: Money,
    pub total_points: Points,
    /// Individual burden of the points-paid cases.
    pub total_individual_burden: Money,
    /// Σ fund paid / Σ total cost of the points-paid cases, on the reimbursement-ratio basis.
    #[serde(default)]
    pub reimbursement_ratio: Option<Decimal>,
    /// Unrounded point value, for the record.
    pub point_value_exact: Decimal,
    /// Published point value: the one every amount uses.
    pub point_value: Decimal,
    pub total_fund_entitlement: Money,
    /// distributable budget − Σ fund entitlements − FFS special total: stays in the fund.
    pub residue: Money,
    pub total_sharing_adjustment: Money,
    pub total_balance: Money,
    /// The region's cases by payment mode.
    #[serde(default)]
    pub modes: Vec<ModeLine>,
    /// Each alliance shared as one unit, in alliance-code order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alliances: Vec<AllianceSummary>,
    pub hospitals: Vec<HospitalStatement>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct HospitalTotals {
    cases: u64,
    ffs_cases: u64,
    /// Of the points-paid cases.
    points: Points,
    burden: Money,
    fund_paid: Money,
    total_cost: Money,
    money_fund_part: Money,
    ffs_special: Money,
    actual: Money,
    modes: BTreeMap<&'static str, ModeLine>,
}

impl HospitalTotals {
    fn add(&mut self, case: &ClearingCase) {
        self.cases += 1;
        let fund_part = if case.ffs_special {
            // DOMAIN.md §4: FFS special cases are excluded from both sides of the sharing.
            self.ffs_cases += 1;
            self.ffs_special += case.fund_amount_ffs;
            case.fund_amount_ffs
        } else {
            self.actual += case.fund_amount_ffs;
            if case.payment.is_points() {
                self.points += case.points;
                self.burden += case.individual_burden;
                self.fund_paid += case.fund_amount_ffs;
                self.total_cost += case.total_cost;
                Money::ZERO
            } else {
                let part = case
                    .payment
                    .money_fund_part(case.individual_burden, case.fund_amount_ffs);
                self.money_fund_part += part;
                part
            }
        };
        let name = case.line_name();
        self.modes
            .entry(name)
            .or_insert_with(|| ModeLine {
                mode: name.to_owned(),
                ..ModeLine::default()
            })
            .add(case, fund_part);
    }
}

/// Runs the year-end clearing; reports every bad record (and every port failure) at once.
pub fn run_clearing(
    input: &ClearingInput,
    policy: &ClearingPolicy,
    sharing: &dyn SharingCalculator,
) -> Result<ClearingStatement, Vec<SettlementError>> {
    prepare_clearing(input, policy)?.settle(sharing)
}

/// One hospital's year up to its Std and Act: everything the sharing rule is asked on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PreparedHospital {
    input: HospitalClearingInput,
    totals: HospitalTotals,
    gross_entitlement: Money,
    points_fund_part: Money,
    fund_entitlement: Money,
    assessed_entitlement: Money,
    request: SharingRequest,
}

/// A clearing up to the sharing (steps 1 to 5 before the sharing port): the point value and
/// every hospital's Std and Act. Sharing across a region needs every hospital's Std and Act at
/// once, so they are known here, before [`PreparedClearing::settle`] asks the sharing rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedClearing {
    region: RegionCode,
    year: i32,
    fund_type: FundType,
    policy: ClearingPolicy,
    distributable_budget: Money,
    ffs_special_total: Money,
    money_fund_total: Money,
    points_budget: Money,
    total_points: Points,
    total_individual_burden: Money,
    reimbursement_ratio: Option<Decimal>,
    point_value_exact: Decimal,
    point_value: Decimal,
    /// In hospital-code order.
    hospitals: Vec<PreparedHospital>,
}

/// The point value as one fraction, numerator / (divisor × total points), and the ratio where
/// the basis has one (DOMAIN.md §3 point value; §5 Hainan: the ratio point value). The ratio
/// basis divides once, points budget × Σ total cost / (Σ fund paid × points), so that the
/// published value is rounded once and never from an already rounded ratio.
fn point_value_inputs(
    basis: PointValueBasis,
    points_budget: Money,
    burden: Money,
    fund_paid: Money,
    total_cost: Money,
) -> Result<(Decimal, Decimal, Option<Decimal>), SettlementError> {
    match basis {
        PointValueBasis::TotalCost => {
            Ok((points_budget.value() + burden.value(), Decimal::ONE, None))
        }
        PointValueBasis::FundOnly => Ok((points_budget.value(), Decimal::ONE, None)),
        PointValueBasis::ReimbursementRatio => {
            if total_cost.value() <= Decimal::ZERO {
                return Err(SettlementError::NoReimbursementRatio);
            }
            let ratio = fund_paid.value() / total_cost.value();
            if ratio <= Decimal::ZERO {
                return Err(SettlementError::NoReimbursementRatio);
            }
            let numerator = points_budget
                .value()
                .checked_mul(total_cost.value())
                .ok_or_else(|| beyond_decimal("point_value", ratio))?;
            Ok((numerator, fund_paid.value(), Some(ratio)))
        }
    }
}

/// A year whose amounts are so far apart that a step of the clearing leaves the 28 significant
/// digits of a decimal (a reimbursement ratio of 10⁻¹⁹, a point value of 10³⁰): refused rather
/// than paid wrong.
fn beyond_decimal(field: &'static str, value: Decimal) -> SettlementError {
    SettlementError::ParameterOutOfRange {
        record: "clearing".into(),
        field,
        value: value.to_string(),
        allowed: "amounts whose point value and entitlements fit 28 significant digits",
    }
}

/// Validates the input and computes the point value and every hospital's Std and Act; reports
/// every bad record at once.
pub fn prepare_clearing(
    input: &ClearingInput,
    policy: &ClearingPolicy,
) -> Result<PreparedClearing, Vec<SettlementError>> {
    let errors = validate::validate(input, policy);
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut totals: BTreeMap<&str, HospitalTotals> = input
        .hospitals
        .iter()
        .map(|h| (h.hospital_code.as_str(), HospitalTotals::default()))
        .collect();
    for case in &input.cases {
        if let Some(t) = totals.get_mut(case.hospital_code.as_str()) {
            t.add(case);
        }
    }

    let ffs_special_total: Money = totals.values().map(|t| t.ffs_special).sum();
    let money_fund_total: Money = totals.values().map(|t| t.money_fund_part).sum();
    // Step 1: the money modes are paid first; the points divide what remains.
    let points_budget = input.distributable_budget - ffs_special_total - money_fund_total;
    if points_budget.is_negative() {
        return Err(vec![SettlementError::BudgetBelowMoneyModes {
            budget: input.distributable_budget,
            paid_first: ffs_special_total + money_fund_total,
        }]);
    }
    let total_points: Points = totals.values().map(|t| t.points).sum();
    let total_individual_burden: Money = totals.values().map(|t| t.burden).sum();
    if total_points.value().is_zero() && !points_budget.value().is_zero() {
        return Err(vec![SettlementError::NoPoints]);
    }
    let fund_paid: Money = totals.values().map(|t| t.fund_paid).sum();
    let total_cost: Money = totals.values().map(|t| t.total_cost).sum();
    let (numerator, divisor, reimbursement_ratio) = point_value_inputs(
        policy.point_value_basis,
        points_budget,
        total_individual_burden,
        fund_paid,
        total_cost,
    )
    .map_err(|error| vec![error])?;
    let point_value_exact = if total_points.value().is_zero() {
        Decimal::ZERO
    } else {
        divisor
            .checked_mul(total_points.value())
            .and_then(|denominator| numerator.checked_div(denominator))
            .ok_or_else(|| vec![beyond_decimal("point_value", numerator)])?
    };
    let point_value = publish_point_value(point_value_exact, policy.point_value_places);

    let by_code: BTreeMap<&str, &HospitalClearingInput> = input
        .hospitals
        .iter()
        .map(|h| (h.hospital_code.as_str(), h))
        .collect();
    let mut hospitals = Vec::with_capacity(totals.len());
    for (code, t) in totals {
        let Some(h) = by_code.get(code) else {
            continue;
        };
        // DOMAIN.md §3: hospital's fund amount = its points × point value − individual burden.
        let product = |amount: Decimal, factor: Decimal, field: &'static str| {
            amount
                .checked_mul(factor)
                .map(Money::round)
                .ok_or_else(|| vec![beyond_decimal(field, amount)])
        };
        let gross_entitlement = product(t.points.value(), point_value, "gross_entitlement")?;
        let points_fund_part = match (policy.point_value_basis, reimbursement_ratio) {
            (PointValueBasis::TotalCost, _) => gross_entitlement - t.burden,
            // On the fund basis the point value already prices the fund's part alone.
            (PointValueBasis::FundOnly, _) => gross_entitlement,
            // DOMAIN.md §5 Hainan: amount × ρ, since amount − burden would not conserve B.
            // × Σ fund paid / Σ total cost, dividing last, so that ρ is never rounded first.
            (PointValueBasis::ReimbursementRatio, _) => gross_entitlement
                .value()
                .checked_mul(fund_paid.value())
                .and_then(|paid| paid.checked_div(total_cost.value()))
                .map(Money::round)
                .ok_or_else(|| {
                    vec![beyond_decimal(
                        "points_fund_part",
                        gross_entitlement.value(),
                    )]
                })?,
        };
        let fund_entitlement = points_fund_part + t.money_fund_part;
        // DOMAIN.md §4: sharing applies after the assessment coefficient and the deductions.
        let assessed_entitlement = product(
            fund_entitlement.value(),
            h.assessment_coefficient,
            "assessed_entitlement",
        )?;
        let request = SharingRequest {
            hospital_code: code.to_owned(),
            fund_type: input.fund_type,
            standard: assessed_entitlement - h.violation_deductions,
            actual: t.actual,
        };
        hospitals.push(PreparedHospital {
            input: (*h).clone(),
            totals: t,
            gross_entitlement,
            points_fund_part,
            fund_entitlement,
            assessed_entitlement,
            request,
        });
    }
    Ok(PreparedClearing {
        region: input.region,
        year: input.year,
        fund_type: input.fund_type,
        policy: policy.clone(),
        distributable_budget: input.distributable_budget,
        ffs_special_total,
        money_fund_total,
        points_budget,
        total_points,
        total_individual_burden,
        reimbursement_ratio,
        point_value_exact,
        point_value,
        hospitals,
    })
}

impl PreparedClearing {
    /// Where the sharing comes from, by the policy.
    pub fn sharing_source(&self) -> SharingSource {
        self.policy.sharing
    }
}

/// The published point value: rounded half away from zero to `places` (4 by default, where it
/// is the kernel's points rounding).
fn publish_point_value(exact: Decimal, places: u32) -> Decimal {
    if places == 4 {
        round_points(exact)
    } else {
        exact.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }
}

#[cfg(test)]
mod alliance_tests;
#[cfg(test)]
mod every_mode_tests;
#[cfg(test)]
mod tests;
