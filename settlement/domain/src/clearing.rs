//! Year-end clearing (年终清算, DOMAIN.md §3 point value and §5 year end) per pooling region,
//! year and fund.
//!
//! Steps, in order:
//! 1. FFS special cases are paid their fund amount from the distributable budget; the rest of the
//!    budget (the points budget) is divided over the year's points.
//! 2. Point value: total-cost basis (points budget + individual burden) / total points, or fund
//!    basis points budget / total points; published rounded to 4 places (a parameter), and every
//!    amount is computed from the published value.
//! 3. Per hospital: gross entitlement = points × point value (rounded once); fund entitlement =
//!    gross − individual burden on the total-cost basis, = gross on the fund basis.
//! 4. Residue rule: residue = distributable budget − Σ fund entitlements − Σ FFS special-case
//!    amounts. It stays in the fund and is reported on the statement (negative when publishing
//!    the point value rounded it up; the fund then pays the few fen from its balance). So
//!    Σ entitlements + Σ FFS + residue = distributable budget to the fen, by construction, and
//!    |residue| is bounded by the point-value rounding (½ × 10⁻⁴ per point) plus ½ fen per
//!    hospital.
//! 5. Assessment coefficient (考核系数) on the fund entitlement (rounded once), then violation
//!    deductions (违规扣款); the result is Std for the sharing port (budget context), with Act =
//!    the fund amount claimed fee-for-service, FFS special cases excluded from both (DOMAIN.md §4).
//!    What the sharing pays above Std comes from the adjustment reserve, not from this budget.
//! 6. Quality deposits: the forfeited part (withheld − returned) is kept; prepayments are
//!    subtracted; the balance is due either way.
//!
//! Output is sorted by hospital code and built from ordered maps: the same inputs give the same
//! statement, byte for byte.

use std::collections::BTreeMap;

use kernel::{Decimal, FundType, Money, Points, RegionCode, round_points};
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use crate::ports::{SharingCalculator, SharingRequest};

/// Which point-value formula (DOMAIN.md §3 point value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointValueBasis {
    /// (fund budget + individual burden) / total points.
    TotalCost,
    /// fund budget / total points.
    FundOnly,
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
        }
    }
}

/// One valued case of the year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingCase {
    pub hospital_code: String,
    pub list_id: String,
    /// Points of a point-valued case (ignored for FFS special cases).
    pub points: Points,
    /// Individual burden of the case (personal account + cash).
    pub individual_burden: Money,
    /// An approved special case paid fee-for-service, outside points.
    pub ffs_special: bool,
    /// The fund amount of the case as claimed fee-for-service.
    pub fund_amount_ffs: Money,
}

/// A hospital's year-end inputs besides its cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalClearingInput {
    pub hospital_code: String,
    /// 考核系数 (1 = full entitlement).
    pub assessment_coefficient: Decimal,
    /// 违规扣款 for the year.
    pub violation_deductions: Money,
    /// Quality deposit withheld during the year.
    pub deposit_withheld: Money,
    /// Part of it returned after assessment (DOMAIN.md §4: by score).
    pub deposit_returned: Money,
    /// Σ monthly prepayments transferred.
    pub prepaid: Money,
}

impl HospitalClearingInput {
    /// A hospital with coefficient 1 and nothing deducted, withheld or prepaid.
    pub fn plain(hospital_code: impl Into<String>) -> Self {
        Self {
            hospital_code: hospital_code.into(),
            assessment_coefficient: Decimal::ONE,
            violation_deductions: Money::ZERO,
            deposit_withheld: Money::ZERO,
            deposit_returned: Money::ZERO,
            prepaid: Money::ZERO,
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
    pub points: Points,
    pub point_value: Decimal,
    /// points × point value.
    pub gross_entitlement: Money,
    pub individual_burden: Money,
    /// gross − individual burden (total-cost basis) or gross (fund basis): this hospital's share
    /// of the distributable budget.
    pub fund_entitlement: Money,
    pub assessment_coefficient: Decimal,
    /// fund entitlement × assessment coefficient.
    pub assessed_entitlement: Money,
    pub violation_deductions: Money,
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
    pub deposit_returned: Money,
    /// withheld − returned: kept by the fund.
    pub deposit_forfeited: Money,
    /// sharing payable + FFS special − deposit forfeited.
    pub final_amount: Money,
    pub prepaid: Money,
    /// final amount − prepaid: positive is due to the hospital, negative to the fund.
    pub balance: Money,
    pub direction: BalanceDirection,
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
    /// distributable budget − FFS special cases.
    pub points_budget: Money,
    pub total_points: Points,
    pub total_individual_burden: Money,
    /// Unrounded point value, for the record.
    pub point_value_exact: Decimal,
    /// Published point value: the one every amount uses.
    pub point_value: Decimal,
    pub total_fund_entitlement: Money,
    /// distributable budget − Σ fund entitlements − FFS special total: stays in the fund.
    pub residue: Money,
    pub total_sharing_adjustment: Money,
    pub total_balance: Money,
    pub hospitals: Vec<HospitalStatement>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct HospitalTotals {
    cases: u64,
    ffs_cases: u64,
    points: Points,
    burden: Money,
    ffs_special: Money,
    actual: Money,
}

fn validate(input: &ClearingInput, policy: &ClearingPolicy) -> Vec<SettlementError> {
    let mut errors = Vec::new();
    if policy.point_value_places > 10 {
        errors.push(SettlementError::ParameterOutOfRange {
            record: "policy".into(),
            field: "point_value_places",
            value: policy.point_value_places.to_string(),
            allowed: "0..=10",
        });
    }
    if input.distributable_budget.is_negative() {
        errors.push(SettlementError::NegativeAmount {
            record: "budget".into(),
            field: "distributable_budget",
            value: input.distributable_budget,
        });
    }
    let mut known = BTreeMap::new();
    for h in &input.hospitals {
        if known.insert(h.hospital_code.as_str(), ()).is_some() {
            errors.push(SettlementError::DuplicateHospital {
                hospital_code: h.hospital_code.clone(),
            });
        }
        if h.assessment_coefficient.is_sign_negative() {
            errors.push(SettlementError::ParameterOutOfRange {
                record: h.hospital_code.clone(),
                field: "assessment_coefficient",
                value: h.assessment_coefficient.to_string(),
                allowed: "[0, ∞)",
            });
        }
        for (field, value) in [
            ("violation_deductions", h.violation_deductions),
            ("deposit_withheld", h.deposit_withheld),
            ("deposit_returned", h.deposit_returned),
            ("prepaid", h.prepaid),
        ] {
            if value.is_negative() {
                errors.push(SettlementError::NegativeAmount {
                    record: h.hospital_code.clone(),
                    field,
                    value,
                });
            }
        }
        if h.deposit_returned > h.deposit_withheld {
            errors.push(SettlementError::ParameterOutOfRange {
                record: h.hospital_code.clone(),
                field: "deposit_returned",
                value: h.deposit_returned.to_string(),
                allowed: "[0, deposit_withheld]",
            });
        }
    }
    for case in &input.cases {
        let record = format!("{}/{}", case.hospital_code, case.list_id);
        if !known.contains_key(case.hospital_code.as_str()) {
            errors.push(SettlementError::UnknownHospital {
                hospital_code: case.hospital_code.clone(),
                list_id: case.list_id.clone(),
            });
        }
        if case.points.is_negative() {
            errors.push(SettlementError::NegativePoints {
                record: record.clone(),
                field: "points",
                value: case.points,
            });
        }
        for (field, value) in [
            ("individual_burden", case.individual_burden),
            ("fund_amount_ffs", case.fund_amount_ffs),
        ] {
            if value.is_negative() {
                errors.push(SettlementError::NegativeAmount {
                    record: record.clone(),
                    field,
                    value,
                });
            }
        }
    }
    errors
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
    points_budget: Money,
    total_points: Points,
    total_individual_burden: Money,
    point_value_exact: Decimal,
    point_value: Decimal,
    /// In hospital-code order.
    hospitals: Vec<PreparedHospital>,
}

/// Validates the input and computes the point value and every hospital's Std and Act; reports
/// every bad record at once.
pub fn prepare_clearing(
    input: &ClearingInput,
    policy: &ClearingPolicy,
) -> Result<PreparedClearing, Vec<SettlementError>> {
    let errors = validate(input, policy);
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut totals: BTreeMap<&str, HospitalTotals> = input
        .hospitals
        .iter()
        .map(|h| (h.hospital_code.as_str(), HospitalTotals::default()))
        .collect();
    for case in &input.cases {
        let Some(t) = totals.get_mut(case.hospital_code.as_str()) else {
            continue;
        };
        t.cases += 1;
        if case.ffs_special {
            // DOMAIN.md §4: FFS special cases are excluded from both sides of the sharing.
            t.ffs_cases += 1;
            t.ffs_special += case.fund_amount_ffs;
        } else {
            t.points += case.points;
            t.burden += case.individual_burden;
            t.actual += case.fund_amount_ffs;
        }
    }

    let ffs_special_total: Money = totals.values().map(|t| t.ffs_special).sum();
    let points_budget = input.distributable_budget - ffs_special_total;
    let total_points: Points = totals.values().map(|t| t.points).sum();
    let total_individual_burden: Money = totals.values().map(|t| t.burden).sum();
    if total_points.value().is_zero() && !points_budget.value().is_zero() {
        return Err(vec![SettlementError::NoPoints]);
    }
    // DOMAIN.md §3 point value, year end.
    let numerator = match policy.point_value_basis {
        PointValueBasis::TotalCost => points_budget.value() + total_individual_burden.value(),
        PointValueBasis::FundOnly => points_budget.value(),
    };
    let point_value_exact = if total_points.value().is_zero() {
        Decimal::ZERO
    } else {
        numerator / total_points.value()
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
        let gross_entitlement = Money::round(t.points.value() * point_value);
        // On the fund basis the point value already prices the fund's part alone.
        let fund_entitlement = match policy.point_value_basis {
            PointValueBasis::TotalCost => gross_entitlement - t.burden,
            PointValueBasis::FundOnly => gross_entitlement,
        };
        // DOMAIN.md §4: sharing applies after the assessment coefficient and the deductions.
        let assessed_entitlement =
            Money::round(fund_entitlement.value() * h.assessment_coefficient);
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
        points_budget,
        total_points,
        total_individual_burden,
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

    /// Every hospital's Std and Act, in hospital-code order: what the sharing rule is asked.
    pub fn sharing_requests(&self) -> impl Iterator<Item = &SharingRequest> {
        self.hospitals.iter().map(|h| &h.request)
    }

    /// Finishes the clearing with `sharing`'s answers (steps 5 and 6, the residue rule); every
    /// hospital the sharing could not answer for is reported.
    pub fn settle(
        self,
        sharing: &dyn SharingCalculator,
    ) -> Result<ClearingStatement, Vec<SettlementError>> {
        let point_value = self.point_value;
        let mut hospitals = Vec::with_capacity(self.hospitals.len());
        let mut errors = Vec::new();
        for prepared in self.hospitals {
            let PreparedHospital {
                input: h,
                totals: t,
                gross_entitlement,
                fund_entitlement,
                assessed_entitlement,
                request,
            } = prepared;
            let outcome = match sharing.share(&request) {
                Ok(outcome) => outcome,
                Err(source) => {
                    errors.push(SettlementError::Port {
                        record: request.hospital_code,
                        source,
                    });
                    continue;
                }
            };
            let sharing_standard = request.standard;
            let deposit_forfeited = h.deposit_withheld - h.deposit_returned;
            let final_amount = outcome.payable + t.ffs_special - deposit_forfeited;
            let balance = final_amount - h.prepaid;
            let direction = if balance.is_negative() {
                BalanceDirection::Repayment
            } else if balance.value().is_zero() {
                BalanceDirection::Settled
            } else {
                BalanceDirection::TopUp
            };
            hospitals.push(HospitalStatement {
                hospital_code: request.hospital_code,
                cases: t.cases,
                ffs_special_cases: t.ffs_cases,
                points: t.points,
                point_value,
                gross_entitlement,
                individual_burden: t.burden,
                fund_entitlement,
                assessment_coefficient: h.assessment_coefficient,
                assessed_entitlement,
                violation_deductions: h.violation_deductions,
                sharing_standard,
                sharing_actual: t.actual,
                sharing_tier: outcome.tier,
                sharing_payable: outcome.payable,
                sharing_adjustment: outcome.payable - sharing_standard,
                ffs_special_amount: t.ffs_special,
                deposit_withheld: h.deposit_withheld,
                deposit_returned: h.deposit_returned,
                deposit_forfeited,
                final_amount,
                prepaid: h.prepaid,
                balance,
                direction,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let total_fund_entitlement: Money = hospitals.iter().map(|h| h.fund_entitlement).sum();
        // Residue rule (module doc): what the rounding leaves stays in the fund and is reported.
        let residue = self.distributable_budget - total_fund_entitlement - self.ffs_special_total;
        Ok(ClearingStatement {
            region: self.region,
            year: self.year,
            fund_type: self.fund_type,
            policy: self.policy,
            distributable_budget: self.distributable_budget,
            ffs_special_total: self.ffs_special_total,
            points_budget: self.points_budget,
            total_points: self.total_points,
            total_individual_burden: self.total_individual_burden,
            point_value_exact: self.point_value_exact,
            point_value,
            total_fund_entitlement,
            residue,
            total_sharing_adjustment: hospitals.iter().map(|h| h.sharing_adjustment).sum(),
            total_balance: hospitals.iter().map(|h| h.balance).sum(),
            hospitals,
        })
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
mod tests {
    use super::*;
    use crate::error::PortError;
    use crate::ports::{MockSharingCalculator, PayStandard, SharingOutcome};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn money(value: Decimal) -> Money {
        Money::round(value)
    }

    fn case(hospital: &str, id: &str, points: Decimal, burden: Decimal) -> ClearingCase {
        ClearingCase {
            hospital_code: hospital.into(),
            list_id: id.into(),
            points: Points::round(points),
            individual_burden: money(burden),
            ffs_special: false,
            fund_amount_ffs: Money::ZERO,
        }
    }

    /// DOMAIN.md §3 worked example: fund 600,000,000 + individual 200,000,000 over 7,800,000
    /// points; hospital H with 100,000 points and burden 2,800,000, prepaid 7,000,000.
    fn worked_example() -> ClearingInput {
        let mut h = HospitalClearingInput::plain("H");
        h.prepaid = money(dec!(7000000));
        ClearingInput {
            region: "460000".parse().expect("region"),
            year: 2025,
            fund_type: FundType::Employee,
            distributable_budget: money(dec!(600000000)),
            cases: vec![
                case("H", "1", dec!(100000), dec!(2800000)),
                case("OTHERS", "2", dec!(7700000), dec!(197200000)),
            ],
            hospitals: vec![HospitalClearingInput::plain("OTHERS"), h],
        }
    }

    #[test]
    fn domain_worked_example_exactly() {
        let statement = run_clearing(&worked_example(), &ClearingPolicy::default(), &PayStandard)
            .expect("valid");
        assert_eq!(statement.point_value, dec!(102.5641));
        let h = statement
            .hospitals
            .iter()
            .find(|s| s.hospital_code == "H")
            .expect("H");
        assert_eq!(h.gross_entitlement.to_string(), "10256410.00");
        assert_eq!(h.fund_entitlement.to_string(), "7456410.00");
        assert_eq!(h.balance.to_string(), "456410.00");
        assert_eq!(h.direction, BalanceDirection::TopUp);
        // Sorted by hospital code.
        assert_eq!(statement.hospitals[0].hospital_code, "H");
        // Identity to the fen: 7,800,000 × 102.5641 − 200,000,000 = 599,999,980.00, residue 20.00.
        assert_eq!(statement.total_fund_entitlement.to_string(), "599999980.00");
        assert_eq!(statement.residue.to_string(), "20.00");
        assert_eq!(
            statement.total_fund_entitlement + statement.residue,
            statement.distributable_budget
        );
    }

    #[test]
    fn a_policy_stored_before_the_sharing_switch_pays_the_standard() {
        let stored: ClearingPolicy =
            serde_json::from_str(r#"{"point_value_basis": "fund_only", "point_value_places": 2}"#)
                .expect("old policy loads");
        assert_eq!(stored.sharing, SharingSource::PayStandard);
        let budget: ClearingPolicy =
            serde_json::from_str(r#"{"sharing": "budget"}"#).expect("switch");
        assert_eq!(budget.sharing, SharingSource::Budget);
        assert_eq!(budget.point_value_places, 4);
    }

    #[test]
    fn fund_basis_divides_the_fund_budget_only() {
        let policy = ClearingPolicy {
            point_value_basis: PointValueBasis::FundOnly,
            ..ClearingPolicy::default()
        };
        let statement = run_clearing(&worked_example(), &policy, &PayStandard).expect("valid");
        // 600,000,000 / 7,800,000 = 76.923076… → 76.9231.
        assert_eq!(statement.point_value, dec!(76.9231));
    }

    fn sharing_example() -> ClearingInput {
        let mut paid_case = case("H", "1", dec!(500000), dec!(0));
        paid_case.fund_amount_ffs = money(dec!(54000000));
        ClearingInput {
            region: "460000".parse().expect("region"),
            year: 2025,
            fund_type: FundType::Resident,
            // 51,000,000 for points + 200,000 for the FFS special case.
            distributable_budget: money(dec!(51200000)),
            cases: vec![
                paid_case,
                ClearingCase {
                    ffs_special: true,
                    fund_amount_ffs: money(dec!(200000)),
                    ..case("H", "2", dec!(999), dec!(0))
                },
            ],
            hospitals: vec![HospitalClearingInput {
                violation_deductions: money(dec!(1000000)),
                deposit_withheld: money(dec!(100000)),
                deposit_returned: money(dec!(80000)),
                prepaid: money(dec!(45900000)),
                ..HospitalClearingInput::plain("H")
            }],
        }
    }

    #[test]
    fn sharing_deductions_deposit_and_ffs_special_cases() {
        // DOMAIN.md §4 example through the port: Std 50,000,000, Act 54,000,000 → pay 52,000,000.
        let mut sharing = MockSharingCalculator::new();
        sharing
            .expect_share()
            .withf(|r| {
                r.standard == Money::round(dec!(50000000))
                    && r.actual == Money::round(dec!(54000000))
                    && r.fund_type == FundType::Resident
            })
            .times(1)
            .returning(|_| {
                Ok(SharingOutcome {
                    payable: Money::round(dec!(52000000)),
                    tier: "overspend_shared".into(),
                })
            });
        let statement =
            run_clearing(&sharing_example(), &ClearingPolicy::default(), &sharing).expect("valid");
        // Points budget 51,000,000 over 500,000 points with no burden → 102.0000; the FFS
        // special case's points are not counted.
        assert_eq!(statement.point_value, dec!(102));
        assert_eq!(statement.total_points, Points::round(dec!(500000)));
        assert_eq!(statement.residue, Money::ZERO);
        let h = &statement.hospitals[0];
        assert_eq!((h.cases, h.ffs_special_cases), (2, 1));
        assert_eq!(h.fund_entitlement, money(dec!(51000000)));
        assert_eq!(h.sharing_standard, money(dec!(50000000)));
        assert_eq!(h.sharing_adjustment, money(dec!(2000000)));
        assert_eq!(h.ffs_special_amount, money(dec!(200000)));
        assert_eq!(h.deposit_forfeited, money(dec!(20000)));
        // 52,000,000 + 200,000 − 20,000 − 45,900,000.
        assert_eq!(h.final_amount, money(dec!(52180000)));
        assert_eq!(h.balance, money(dec!(6280000)));
    }

    #[test]
    fn assessment_coefficient_applies_before_deductions_and_repayment_is_signed() {
        let mut input = sharing_example();
        input.hospitals[0].assessment_coefficient = dec!(0.9833);
        input.hospitals[0].prepaid = money(dec!(60000000));
        let statement =
            run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect("valid");
        let h = &statement.hospitals[0];
        // 51,000,000 × 0.9833 = 50,148,300.00; − 1,000,000 deductions.
        assert_eq!(h.assessed_entitlement, money(dec!(50148300)));
        assert_eq!(h.sharing_payable, money(dec!(49148300)));
        // 49,148,300 + 200,000 − 20,000 − 60,000,000.
        assert_eq!(h.balance, money(dec!(-10671700)));
        assert_eq!(h.direction, BalanceDirection::Repayment);
    }

    #[test]
    fn port_failures_are_reported_per_hospital() {
        let mut input = worked_example();
        input.hospitals.push(HospitalClearingInput::plain("Z"));
        let mut sharing = MockSharingCalculator::new();
        sharing.expect_share().returning(|r| {
            if r.hospital_code == "OTHERS" {
                Ok(SharingOutcome {
                    payable: r.standard,
                    tier: "standard".into(),
                })
            } else {
                Err(PortError {
                    port: "sharing_calculator",
                    reason: "UNAVAILABLE".into(),
                    message: "budget service down".into(),
                })
            }
        });
        let errors =
            run_clearing(&input, &ClearingPolicy::default(), &sharing).expect_err("port failed");
        let records: Vec<String> = errors
            .iter()
            .map(|e| match e {
                SettlementError::Port { record, .. } => record.clone(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(records, vec!["H", "Z"]);
        assert!(errors.iter().all(|e| e.reason() == "PORT_FAILED"));
    }

    #[test]
    fn every_bad_record_is_reported() {
        let mut input = worked_example();
        input.cases.push(case("NOBODY", "9", dec!(1), dec!(0)));
        input.cases.push(case("H", "10", dec!(-1), dec!(-1)));
        input.hospitals.push(HospitalClearingInput {
            deposit_returned: money(dec!(1)),
            ..HospitalClearingInput::plain("H")
        });
        let errors =
            run_clearing(&input, &ClearingPolicy::default(), &PayStandard).expect_err("invalid");
        let reasons: Vec<_> = errors.iter().map(SettlementError::reason).collect();
        assert_eq!(
            reasons,
            vec![
                "DUPLICATE_HOSPITAL",
                "PARAMETER_OUT_OF_RANGE",
                "UNKNOWN_HOSPITAL",
                "NEGATIVE_POINTS",
                "NEGATIVE_AMOUNT"
            ]
        );
    }

    #[test]
    fn same_inputs_in_any_order_give_identical_output() {
        let a = worked_example();
        let mut b = worked_example();
        b.cases.reverse();
        b.hospitals.reverse();
        let sa = run_clearing(&a, &ClearingPolicy::default(), &PayStandard).expect("a");
        let sb = run_clearing(&b, &ClearingPolicy::default(), &PayStandard).expect("b");
        assert_eq!(
            serde_json::to_string(&sa).expect("json"),
            serde_json::to_string(&sb).expect("json")
        );
    }

    proptest! {
        #[test]
        fn entitlements_plus_residue_equal_the_budget_to_the_fen(
            budget_fen in 0i64..100_000_000_000_000,
            cases in proptest::collection::vec((0usize..7, 1i64..50_000_000_000, 0i64..1_000_000_000, any::<bool>(), 0i64..100_000_000), 1..60),
            fund_basis in any::<bool>(),
        ) {
            let hospitals: Vec<HospitalClearingInput> =
                (0..7).map(|i| HospitalClearingInput::plain(format!("H{i}"))).collect();
            let cases: Vec<ClearingCase> = cases
                .into_iter()
                .enumerate()
                .map(|(n, (h, points, burden, ffs, ffs_fen))| ClearingCase {
                    hospital_code: format!("H{h}"),
                    list_id: n.to_string(),
                    points: Points::from_scaled(points),
                    individual_burden: Money::from_fen(burden),
                    ffs_special: ffs && n % 3 == 0,
                    fund_amount_ffs: Money::from_fen(ffs_fen),
                })
                .collect();
            let ffs_total: i64 = cases.iter().filter(|c| c.ffs_special).map(|c| c.fund_amount_ffs.to_fen().unwrap_or(0)).sum();
            let input = ClearingInput {
                region: "460000".parse().expect("region"),
                year: 2025,
                fund_type: FundType::Employee,
                distributable_budget: Money::from_fen(budget_fen + ffs_total),
                cases,
                hospitals,
            };
            let policy = ClearingPolicy {
                point_value_basis: if fund_basis { PointValueBasis::FundOnly } else { PointValueBasis::TotalCost },
                ..ClearingPolicy::default()
            };
            let statement = match run_clearing(&input, &policy, &PayStandard) {
                Ok(s) => s,
                Err(errors) => {
                    // Only an all-FFS year with money left to divide has no points.
                    prop_assert_eq!(errors, vec![SettlementError::NoPoints]);
                    return Ok(());
                }
            };
            let entitlements: Money = statement.hospitals.iter().map(|h| h.fund_entitlement).sum();
            let ffs: Money = statement.hospitals.iter().map(|h| h.ffs_special_amount).sum();
            prop_assert_eq!(entitlements + ffs + statement.residue, input.distributable_budget);
            // The residue is only rounding: ½ × 10⁻⁴ per point plus ½ fen per hospital.
            let bound = statement.total_points.value() * dec!(0.00005)
                + Decimal::from(statement.hospitals.len() as i64) * dec!(0.005);
            prop_assert!(statement.residue.value().abs() <= bound,
                "residue {} above bound {}", statement.residue, bound);
        }
    }
}
