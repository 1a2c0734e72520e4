//! The outpatient year end (DOMAIN.md §3 per-capita and APG, §4 sharing): what settlement pays
//! for the ambulatory settlements it holds.
//!
//! Owners of the rules: the points context values (a primary institution's per-capita budget =
//! enrolled persons × rate − referrals out; the chronic-disease budget = Σ patients × rate; the
//! APG points of each ordinary visit), the budget context shares (its tiers, through the sharing
//! port a clearing uses), and this module decides what is counted against what and pays:
//!
//! - an institution with a per-capita enrolment is paid its budget through the sharing tiers, with
//!   Act = the fund part of its ordinary outpatient settlements (plus its chronic ones when it has
//!   a chronic budget, which joins its Std);
//! - an ordinary visit at an institution without a per-capita enrolment is paid in APG points ×
//!   the APG point value, the point value being the APG block / Σ APG points of the region;
//! - what no budget covers and APG does not value is paid fee-for-service, its claimed fund part:
//!   every pharmacy settlement, and chronic settlements at an institution without a chronic
//!   budget; so each settlement is paid exactly one way;
//! - each statement's balance = payable − what the institution was prepaid during the year
//!   against its budgets (the stored monthly prepayments, `crate::outpatient_prepayment`, or
//!   an input of the run).

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Decimal, FundType, Money, Points};
use serde::{Deserialize, Serialize};

use crate::ports::{SharingOutcome, SharingRequest};
use crate::statement_table::Table;

/// A primary institution's per-capita enrolment for the year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryEnrolment {
    pub hospital_code: String,
    pub enrolled_persons: u64,
    pub rate_per_head: Money,
    pub referrals_out: Money,
}

/// Patients of one chronic or special outpatient disease at one institution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChronicEnrolment {
    pub hospital_code: String,
    pub disease_code: String,
    pub patients: u64,
    pub rate_per_patient: Money,
}

/// A region's outpatient enrolment for a year and fund, stored in versions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutpatientEnrolment {
    pub primary: Vec<PrimaryEnrolment>,
    pub chronic: Vec<ChronicEnrolment>,
}

impl OutpatientEnrolment {
    /// Every repeated entry, named by its field: an institution enrolled twice per capita, or a
    /// disease twice at one institution.
    pub fn repeated_entries(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, entry) in self.primary.iter().enumerate() {
            if !seen.insert(entry.hospital_code.as_str()) {
                problems.push((
                    format!("institutions[{i}].hospital_code"),
                    format!("{} is enrolled twice", entry.hospital_code),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for (i, entry) in self.chronic.iter().enumerate() {
            if !seen.insert((entry.hospital_code.as_str(), entry.disease_code.as_str())) {
                problems.push((
                    format!("chronic[{i}].disease_code"),
                    format!(
                        "{} is enrolled twice at {}",
                        entry.disease_code, entry.hospital_code
                    ),
                ));
            }
        }
        problems
    }

    /// Whether nothing is enrolled.
    pub fn is_empty(&self) -> bool {
        self.primary.is_empty() && self.chronic.is_empty()
    }
}

/// The budgets the points context valued for one institution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionBudget {
    pub per_capita_budget: Money,
    pub chronic_budget: Money,
}

/// Which kind of ambulatory settlement a claim is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Ordinary,
    Chronic,
    Pharmacy,
}

/// One stored ambulatory settlement as the run counts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmbulatoryClaim {
    pub hospital_code: String,
    pub list_id: String,
    pub kind: ClaimKind,
    /// The fund part claimed (统筹基金支出).
    pub fund_amount: Money,
}

/// The APG points the points context valued for one ordinary visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitPoints {
    pub hospital_code: String,
    pub list_id: String,
    pub points: Points,
    pub table_version: String,
}

/// One institution's outpatient statement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutpatientStatement {
    pub hospital_code: String,
    pub enrolled_persons: u64,
    pub per_capita_budget: Money,
    pub referrals_out: Money,
    pub chronic_budget: Money,
    /// Act: the fund part counted against the budgets.
    pub actual: Money,
    /// The sharing tier; empty without a budget.
    pub tier: String,
    pub shared_payable: Money,
    pub apg_visits: u64,
    pub apg_points: Points,
    pub apg_amount: Money,
    /// Settlements paid fee-for-service (pharmacy; chronic without a chronic budget).
    #[serde(default)]
    pub ffs_settlements: u64,
    /// Σ their claimed fund part.
    #[serde(default)]
    pub ffs_amount: Money,
    /// shared payable + APG amount + FFS amount.
    pub payable: Money,
    /// Prepaid during the year against the budgets.
    #[serde(default)]
    pub prepaid: Money,
    /// payable − prepaid: positive is owed to the institution, negative is refunded by it.
    #[serde(default)]
    pub balance: Money,
}

/// The whole outpatient year end of a region, year and fund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutpatientClearing {
    pub apg_block: Money,
    pub apg_point_value: Decimal,
    pub apg_points: Points,
    /// apg_block − Σ APG amounts: the rounding residue, kept in the block.
    pub apg_residue: Money,
    pub statements: Vec<OutpatientStatement>,
    /// The APG points of every visit paid in points, as recorded with the run.
    pub visits: Vec<VisitPoints>,
}

impl OutpatientClearing {
    /// Σ payable over the statements.
    pub fn total_payable(&self) -> Money {
        self.statements.iter().map(|s| s.payable).sum()
    }
}

/// Why an outpatient year end could not be assembled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutpatientError {
    #[error("the budget context answered no sharing for institution {0}")]
    NoSharing(String),
    #[error("the points context answered no budget for enrolled institution {0}")]
    NoBudget(String),
}

/// Every problem of the year's prepayments against the enrolment, by field
/// (`prepaid[1].hospital_code`): an institution without a per-capita or chronic budget, or listed
/// twice, or a negative amount.
pub fn prepaid_problems(
    enrolment: &OutpatientEnrolment,
    prepaid: &[(String, Money)],
) -> Vec<(String, String)> {
    let budgeted = budgeted_institutions(enrolment);
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for (i, (code, amount)) in prepaid.iter().enumerate() {
        if !budgeted.contains(code.as_str()) {
            problems.push((
                format!("prepaid[{i}].hospital_code"),
                format!("{code} has no per-capita or chronic budget in the enrolment"),
            ));
        } else if !seen.insert(code.as_str()) {
            problems.push((
                format!("prepaid[{i}].hospital_code"),
                format!("{code} is listed twice"),
            ));
        }
        if amount.is_negative() {
            problems.push((
                format!("prepaid[{i}].amount"),
                format!("{amount} must not be negative"),
            ));
        }
    }
    problems
}

/// Whether a settlement is paid fee-for-service: no budget covers it and it is not an APG visit
/// (pharmacy settlements, and chronic settlements at an institution without a chronic budget).
fn paid_ffs(chronic: &BTreeSet<&str>, claim: &AmbulatoryClaim) -> bool {
    match claim.kind {
        ClaimKind::Ordinary => false,
        ClaimKind::Chronic => !chronic.contains(claim.hospital_code.as_str()),
        ClaimKind::Pharmacy => true,
    }
}

/// Whether an ordinary visit at `hospital_code` is paid in APG points: the institution has no
/// per-capita enrolment (its visits are covered by its budget).
pub fn paid_in_apg(enrolment: &OutpatientEnrolment, hospital_code: &str) -> bool {
    !enrolment
        .primary
        .iter()
        .any(|p| p.hospital_code == hospital_code)
}

fn chronic_institutions(enrolment: &OutpatientEnrolment) -> BTreeSet<&str> {
    enrolment
        .chronic
        .iter()
        .map(|c| c.hospital_code.as_str())
        .collect()
}

/// Std and Act of every budgeted institution, in code order, for the sharing port: Std = the
/// per-capita budget + the chronic budget, Act = the fund part of the claims those budgets cover.
pub fn sharing_requests(
    enrolment: &OutpatientEnrolment,
    budgets: &BTreeMap<String, InstitutionBudget>,
    claims: &[AmbulatoryClaim],
    fund: FundType,
) -> Result<Vec<SharingRequest>, OutpatientError> {
    let actual = actual_claims(enrolment, claims);
    let mut requests = Vec::new();
    for code in budgeted_institutions(enrolment) {
        let budget = budgets
            .get(code)
            .ok_or_else(|| OutpatientError::NoBudget(code.to_owned()))?;
        requests.push(SharingRequest {
            hospital_code: code.to_owned(),
            fund_type: fund,
            standard: budget.per_capita_budget + budget.chronic_budget,
            actual: actual.get(code).copied().unwrap_or(Money::ZERO),
        });
    }
    Ok(requests)
}

/// Every institution with a per-capita or chronic budget in the enrolment, in code order.
pub fn budgeted_institutions(enrolment: &OutpatientEnrolment) -> BTreeSet<&str> {
    let mut codes = chronic_institutions(enrolment);
    codes.extend(enrolment.primary.iter().map(|p| p.hospital_code.as_str()));
    codes
}

/// Act per budgeted institution: ordinary claims where it is paid per capita, chronic claims
/// where it has a chronic budget.
fn actual_claims(
    enrolment: &OutpatientEnrolment,
    claims: &[AmbulatoryClaim],
) -> BTreeMap<String, Money> {
    let chronic = chronic_institutions(enrolment);
    let mut actual: BTreeMap<String, Money> = BTreeMap::new();
    for claim in claims {
        let counted = match claim.kind {
            ClaimKind::Ordinary => !paid_in_apg(enrolment, &claim.hospital_code),
            ClaimKind::Chronic => chronic.contains(claim.hospital_code.as_str()),
            ClaimKind::Pharmacy => false,
        };
        if counted {
            *actual.entry(claim.hospital_code.clone()).or_default() += claim.fund_amount;
        }
    }
    actual
}

/// The APG point value: the block over the region's APG points, rounded once to 4 places; 0
/// when no visit was valued.
pub fn apg_point_value(block: Money, points: Points) -> Decimal {
    if points.value().is_zero() {
        return Decimal::ZERO;
    }
    Points::round(block.value() / points.value()).value()
}

/// Assembles the statements from the valued budgets, the sharing answers, the visits' APG
/// points, the fee-for-service settlements and the year's prepayments (checked by
/// [`prepaid_problems`]).
pub fn assemble_outpatient(
    enrolment: &OutpatientEnrolment,
    budgets: &BTreeMap<String, InstitutionBudget>,
    claims: &[AmbulatoryClaim],
    shares: &BTreeMap<String, SharingOutcome>,
    visits: Vec<VisitPoints>,
    apg_block: Money,
    prepaid: &BTreeMap<String, Money>,
) -> Result<OutpatientClearing, OutpatientError> {
    let actual = actual_claims(enrolment, claims);
    let mut statements: BTreeMap<String, OutpatientStatement> = BTreeMap::new();
    for code in budgeted_institutions(enrolment) {
        let budget = budgets
            .get(code)
            .ok_or_else(|| OutpatientError::NoBudget(code.to_owned()))?;
        let share = shares
            .get(code)
            .ok_or_else(|| OutpatientError::NoSharing(code.to_owned()))?;
        let primary = enrolment.primary.iter().find(|p| p.hospital_code == code);
        statements.insert(
            code.to_owned(),
            OutpatientStatement {
                hospital_code: code.to_owned(),
                enrolled_persons: primary.map_or(0, |p| p.enrolled_persons),
                per_capita_budget: budget.per_capita_budget,
                referrals_out: primary.map_or(Money::ZERO, |p| p.referrals_out),
                chronic_budget: budget.chronic_budget,
                actual: actual.get(code).copied().unwrap_or(Money::ZERO),
                tier: share.tier.clone(),
                shared_payable: share.payable,
                ..OutpatientStatement::default()
            },
        );
    }
    let apg_points: Points = visits.iter().map(|v| v.points).sum();
    let point_value = apg_point_value(apg_block, apg_points);
    for visit in &visits {
        let statement = statements
            .entry(visit.hospital_code.clone())
            .or_insert_with(|| OutpatientStatement {
                hospital_code: visit.hospital_code.clone(),
                ..OutpatientStatement::default()
            });
        statement.apg_visits += 1;
        statement.apg_points += visit.points;
    }
    let chronic = chronic_institutions(enrolment);
    for claim in claims.iter().filter(|claim| paid_ffs(&chronic, claim)) {
        let statement = statements
            .entry(claim.hospital_code.clone())
            .or_insert_with(|| OutpatientStatement {
                hospital_code: claim.hospital_code.clone(),
                ..OutpatientStatement::default()
            });
        statement.ffs_settlements += 1;
        statement.ffs_amount += claim.fund_amount;
    }
    // An institution prepaid during the year whose budget the enrolment no longer holds still
    // gets a statement: what it was prepaid comes back.
    for code in prepaid.keys() {
        statements
            .entry(code.clone())
            .or_insert_with(|| OutpatientStatement {
                hospital_code: code.clone(),
                ..OutpatientStatement::default()
            });
    }
    let mut apg_paid = Money::ZERO;
    for statement in statements.values_mut() {
        statement.apg_amount = Money::round(statement.apg_points.value() * point_value);
        apg_paid += statement.apg_amount;
        statement.payable = statement.shared_payable + statement.apg_amount + statement.ffs_amount;
        statement.prepaid = prepaid
            .get(&statement.hospital_code)
            .copied()
            .unwrap_or(Money::ZERO);
        statement.balance = statement.payable - statement.prepaid;
    }
    Ok(OutpatientClearing {
        apg_block,
        apg_point_value: point_value,
        apg_points,
        apg_residue: apg_block - apg_paid,
        statements: statements.into_values().collect(),
        visits,
    })
}

fn money(value: Money) -> String {
    format!("{:.2}", value.value())
}

/// The statements as exported (CSV, XLSX); its CSV's SHA-256 is the run's digest.
pub fn outpatient_table(statements: &[OutpatientStatement]) -> Table {
    let header = [
        "hospital_code",
        "enrolled_persons",
        "per_capita_budget",
        "referrals_out",
        "chronic_budget",
        "actual",
        "tier",
        "shared_payable",
        "apg_visits",
        "apg_points",
        "apg_amount",
        "ffs_settlements",
        "ffs_amount",
        "payable",
        "prepaid",
        "balance",
    ];
    Table {
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        rows: statements
            .iter()
            .map(|s| {
                vec![
                    s.hospital_code.clone(),
                    s.enrolled_persons.to_string(),
                    money(s.per_capita_budget),
                    money(s.referrals_out),
                    money(s.chronic_budget),
                    money(s.actual),
                    s.tier.clone(),
                    money(s.shared_payable),
                    s.apg_visits.to_string(),
                    format!("{:.4}", s.apg_points.value()),
                    money(s.apg_amount),
                    s.ffs_settlements.to_string(),
                    money(s.ffs_amount),
                    money(s.payable),
                    money(s.prepaid),
                    money(s.balance),
                ]
            })
            .collect(),
        money_columns: vec![2, 3, 4, 5, 7, 10, 12, 13, 14, 15],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(value: i64) -> Money {
        Money::from_yuan(value)
    }

    fn enrolment() -> OutpatientEnrolment {
        OutpatientEnrolment {
            primary: vec![PrimaryEnrolment {
                hospital_code: "C1".into(),
                enrolled_persons: 10_000,
                rate_per_head: yuan(120),
                referrals_out: Money::ZERO,
            }],
            chronic: vec![],
        }
    }

    fn claim(hospital: &str, id: &str, kind: ClaimKind, fund: Money) -> AmbulatoryClaim {
        AmbulatoryClaim {
            hospital_code: hospital.into(),
            list_id: id.into(),
            kind,
            fund_amount: fund,
        }
    }

    #[test]
    fn act_counts_the_ordinary_claims_of_the_enrolled_institution_only() {
        let budgets = BTreeMap::from([(
            "C1".to_owned(),
            InstitutionBudget {
                per_capita_budget: yuan(1_200_000),
                chronic_budget: Money::ZERO,
            },
        )]);
        let claims = [
            claim("C1", "a", ClaimKind::Ordinary, yuan(1_000_000)),
            claim("C1", "b", ClaimKind::Ordinary, yuan(350_000)),
            // No chronic budget at C1: not counted; H9 is paid in APG points.
            claim("C1", "c", ClaimKind::Chronic, yuan(7)),
            claim("H9", "d", ClaimKind::Ordinary, yuan(5)),
        ];
        let requests = sharing_requests(&enrolment(), &budgets, &claims, FundType::Employee)
            .expect("test value");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].standard, yuan(1_200_000));
        assert_eq!(requests[0].actual, yuan(1_350_000));
    }

    #[test]
    fn apg_amounts_share_the_block_by_points_with_the_residue_stated() {
        let visit = |hospital: &str, id: &str, points: &str| VisitPoints {
            hospital_code: hospital.into(),
            list_id: id.into(),
            points: points.parse().expect("test value"),
            table_version: "t@1".into(),
        };
        // 92.5 + 92.5 + 115 = 300 points; block 1,000 → 3.3333 per point;
        // H1: 185 × 3.3333 = 616.6605 → 616.66; H2: 115 × 3.3333 = 383.3295 → 383.33;
        // residue 1,000 − 999.99 = 0.01.
        let clearing = assemble_outpatient(
            &OutpatientEnrolment::default(),
            &BTreeMap::new(),
            &[],
            &BTreeMap::new(),
            vec![
                visit("H1", "v1", "92.5"),
                visit("H1", "v2", "92.5"),
                visit("H2", "v3", "115"),
            ],
            yuan(1_000),
            &BTreeMap::new(),
        )
        .expect("test value");
        assert_eq!(
            clearing.apg_point_value,
            "3.3333".parse::<Decimal>().expect("test value")
        );
        assert_eq!(
            clearing.statements[0].apg_amount,
            "616.66".parse().expect("test value")
        );
        assert_eq!(
            clearing.statements[1].apg_amount,
            "383.33".parse().expect("test value")
        );
        assert_eq!(clearing.apg_residue, "0.01".parse().expect("test value"));
        assert_eq!(clearing.statements[0].apg_visits, 2);
    }

    #[test]
    fn what_no_budget_covers_is_paid_fee_for_service_and_prepayments_are_deducted() {
        let mut enrolment = enrolment();
        enrolment.chronic.push(ChronicEnrolment {
            hospital_code: "C2".into(),
            disease_code: "E11".into(),
            patients: 10,
            rate_per_patient: yuan(500),
        });
        let budgets = BTreeMap::from([
            (
                "C1".to_owned(),
                InstitutionBudget {
                    per_capita_budget: yuan(1_200_000),
                    chronic_budget: Money::ZERO,
                },
            ),
            (
                "C2".to_owned(),
                InstitutionBudget {
                    per_capita_budget: Money::ZERO,
                    chronic_budget: yuan(5_000),
                },
            ),
        ]);
        let fen = Money::from_fen;
        let claims = [
            claim("C1", "a", ClaimKind::Ordinary, yuan(1_000_000)),
            // C1 has no chronic budget: fee-for-service.
            claim("C1", "b", ClaimKind::Chronic, yuan(700)),
            claim("C2", "c", ClaimKind::Chronic, yuan(3_000)),
            // A pharmacy's sale and its refund: 250.50 − 50.50 = 200.00.
            claim("P9", "d", ClaimKind::Pharmacy, fen(25_050)),
            claim("P9", "e", ClaimKind::Pharmacy, fen(-5_050)),
            // No budget at all at H9: its chronic settlement is paid as claimed.
            claim("H9", "f", ClaimKind::Chronic, yuan(800)),
        ];
        let requests = sharing_requests(&enrolment, &budgets, &claims, FundType::Employee)
            .expect("test value");
        // Act counts only what the budgets cover: C1 1,000,000, C2 3,000.
        assert_eq!(
            requests
                .iter()
                .map(|r| (r.hospital_code.as_str(), r.actual))
                .collect::<Vec<_>>(),
            [("C1", yuan(1_000_000)), ("C2", yuan(3_000))]
        );
        let share = |payable| SharingOutcome {
            payable,
            tier: "surplus_retained".into(),
        };
        let shares = BTreeMap::from([
            ("C1".to_owned(), share(yuan(1_200_000))),
            ("C2".to_owned(), share(yuan(5_000))),
        ]);
        let prepaid = BTreeMap::from([
            ("C1".to_owned(), yuan(1_080_000)),
            ("C2".to_owned(), yuan(6_000)),
        ]);
        let clearing = assemble_outpatient(
            &enrolment,
            &budgets,
            &claims,
            &shares,
            Vec::new(),
            Money::ZERO,
            &prepaid,
        )
        .expect("test value");
        let line = |code: &str| {
            clearing
                .statements
                .iter()
                .find(|s| s.hospital_code == code)
                .expect("statement")
        };
        // C1: 1,200,000 + 700 = 1,200,700; prepaid 1,080,000 → 120,700 owed to it.
        assert_eq!(
            (line("C1").ffs_settlements, line("C1").ffs_amount),
            (1, yuan(700))
        );
        assert_eq!(line("C1").payable, yuan(1_200_700));
        assert_eq!(line("C1").balance, yuan(120_700));
        // C2: 5,000 against 6,000 prepaid → 1,000 refunded.
        assert_eq!(line("C2").ffs_amount, Money::ZERO);
        assert_eq!(line("C2").balance, yuan(-1_000));
        assert_eq!(
            (line("P9").ffs_settlements, line("P9").payable),
            (2, yuan(200))
        );
        assert_eq!(
            (line("H9").payable, line("H9").balance),
            (yuan(800), yuan(800))
        );
        assert_eq!(clearing.total_payable(), yuan(1_206_700));
    }

    #[test]
    fn prepayments_are_named_by_field_when_wrong() {
        let prepaid = [
            ("C1".to_owned(), yuan(10)),
            ("P9".to_owned(), yuan(10)),
            ("C1".to_owned(), yuan(-1)),
        ];
        let problems = prepaid_problems(&enrolment(), &prepaid);
        let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "prepaid[1].hospital_code",
                "prepaid[2].hospital_code",
                "prepaid[2].amount"
            ]
        );
        assert!(
            problems[0]
                .1
                .contains("P9 has no per-capita or chronic budget")
        );
    }

    #[test]
    fn a_repeated_enrolment_is_named_by_its_field() {
        let mut enrolment = enrolment();
        enrolment.primary.push(enrolment.primary[0].clone());
        assert_eq!(
            enrolment.repeated_entries()[0].0,
            "institutions[1].hospital_code"
        );
    }
}
