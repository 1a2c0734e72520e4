//! Statements as tables: one fixed column order per run kind, the same rows for the CSV (whose
//! SHA-256 is a run's statements digest) and the XLSX export. Money always prints with 2 places
//! and points with 4, so a statement built in code and one read back print alike.

use std::collections::BTreeSet;

use kernel::{Money, Points};

use crate::clearing::{AllianceShare, BalanceDirection, HospitalStatement};
use crate::prepayment::PrepaymentLine;
use crate::violation_deductions::DeductionFinding;

/// A table: header and rows of text cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns holding money (2 places), right-aligned in XLSX.
    pub money_columns: Vec<usize>,
}

/// Money always with 2 places: a zero built in code and one read back print alike.
fn money(value: Money) -> String {
    format!("{:.2}", value.value())
}

/// Points always with 4 places.
fn points(value: Points) -> String {
    format!("{:.4}", value.value())
}

fn findings_cell(findings: &[DeductionFinding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f.finding_id,
                f.rule_id,
                f.case_ids.join("+"),
                money(f.amount)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The alliance columns of a clearing table.
pub const ALLIANCE_COLUMNS: [&str; 7] = [
    "alliance_code",
    "alliance_standard",
    "alliance_actual",
    "alliance_ratio",
    "alliance_tier",
    "alliance_payable",
    "alliance_share",
];

fn alliance_cells(alliance: Option<&AllianceShare>) -> [String; 7] {
    match alliance {
        None => Default::default(),
        Some(a) => [
            a.alliance_code.clone(),
            money(a.unit_standard),
            money(a.unit_actual),
            a.unit_ratio.map(|r| format!("{r:.4}")).unwrap_or_default(),
            a.unit_tier.clone(),
            money(a.unit_payable),
            format!("{:.6}", a.share),
        ],
    }
}

fn direction_name(direction: BalanceDirection) -> &'static str {
    match direction {
        BalanceDirection::TopUp => "top_up",
        BalanceDirection::Repayment => "repayment",
        BalanceDirection::Settled => "settled",
    }
}

/// The clearing statements, one row per hospital, in the order given; after the fixed columns,
/// four for each payment mode any hospital has cases in (cases, points, amount, fund part), in
/// mode order; when supervision gave the deductions and one has a finding,
/// `violation_findings`: each finding as `id rule cases amount`, separated by `; `; last, when a
/// hospital was shared within a medical alliance, [`ALLIANCE_COLUMNS`]: the unit's code, Std,
/// Act, R, tier and payable and the hospital's share of the unit's Std (its part is its
/// `sharing_payable`), blank for a hospital outside any alliance; then, when any hospital's
/// deposit followed an assessment score, `assessment_score` (as given, blank without one) and
/// `assessment_score_source` (`year_inputs` or `supervision`), and when supervision graded any
/// hospital's credit, `credit_grade` (A–D, blank when ungraded). A year without alliances,
/// scores or grades keeps the table, and so the digest, it always had.
pub fn clearing_table(statements: &[HospitalStatement]) -> Table {
    let with_findings = statements.iter().any(|s| !s.violation_findings.is_empty());
    let with_alliances = statements.iter().any(|s| s.alliance.is_some());
    let with_scores = statements.iter().any(|s| s.assessment_score.is_some());
    let with_grades = statements.iter().any(|s| s.credit_grade.is_some());
    let modes: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| s.modes.iter().map(|line| line.mode.as_str()))
        .collect();
    let header = vec![
        "hospital_code",
        "cases",
        "ffs_special_cases",
        "points",
        "point_value",
        "gross_entitlement",
        "individual_burden",
        "fund_entitlement",
        "assessment_coefficient",
        "assessed_entitlement",
        "violation_deductions",
        "sharing_standard",
        "sharing_actual",
        "sharing_tier",
        "sharing_payable",
        "sharing_adjustment",
        "ffs_special_amount",
        "deposit_withheld",
        "deposit_returned",
        "deposit_forfeited",
        "final_amount",
        "prepaid",
        "balance",
        "direction",
        "points_fund_part",
        "money_fund_part",
    ];
    let fixed = header.len();
    let mut money_columns = vec![
        5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25,
    ];
    let mut header: Vec<String> = header.into_iter().map(str::to_owned).collect();
    for (n, mode) in modes.iter().enumerate() {
        for column in ["cases", "points", "amount", "fund_part"] {
            header.push(format!("{mode}_{column}"));
        }
        money_columns.extend([fixed + 4 * n + 2, fixed + 4 * n + 3]);
    }
    if with_findings {
        header.push("violation_findings".to_owned());
    }
    if with_alliances {
        let first = header.len();
        header.extend(ALLIANCE_COLUMNS.iter().map(|c| (*c).to_owned()));
        money_columns.extend([first + 1, first + 2, first + 5]);
    }
    if with_scores {
        header.extend(["assessment_score", "assessment_score_source"].map(str::to_owned));
    }
    if with_grades {
        header.push("credit_grade".to_owned());
    }
    let rows = statements
        .iter()
        .map(|s| {
            let mut row = vec![
                s.hospital_code.clone(),
                s.cases.to_string(),
                s.ffs_special_cases.to_string(),
                points(s.points),
                s.point_value.to_string(),
                money(s.gross_entitlement),
                money(s.individual_burden),
                money(s.fund_entitlement),
                s.assessment_coefficient.to_string(),
                money(s.assessed_entitlement),
                money(s.violation_deductions),
                money(s.sharing_standard),
                money(s.sharing_actual),
                s.sharing_tier.clone(),
                money(s.sharing_payable),
                money(s.sharing_adjustment),
                money(s.ffs_special_amount),
                money(s.deposit_withheld),
                money(s.deposit_returned),
                money(s.deposit_forfeited),
                money(s.final_amount),
                money(s.prepaid),
                money(s.balance),
                direction_name(s.direction).to_owned(),
                money(s.points_fund_part),
                money(s.money_fund_part),
            ];
            for mode in &modes {
                match s.modes.iter().find(|line| line.mode == *mode) {
                    Some(line) => row.extend([
                        line.cases.to_string(),
                        points(line.points),
                        money(line.amount),
                        money(line.fund_part),
                    ]),
                    None => row.extend([
                        "0".to_owned(),
                        points(Points::ZERO),
                        money(Money::ZERO),
                        money(Money::ZERO),
                    ]),
                }
            }
            if with_findings {
                row.push(findings_cell(&s.violation_findings));
            }
            if with_alliances {
                row.extend(alliance_cells(s.alliance.as_ref()));
            }
            if with_scores {
                row.extend([
                    s.assessment_score
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    s.assessment_score_source
                        .map(|source| source.as_str().to_owned())
                        .unwrap_or_default(),
                ]);
            }
            if with_grades {
                row.push(s.credit_grade.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    Table {
        header,
        rows,
        money_columns,
    }
}

/// The prepayment lines, one row per hospital, in the order given. A run priced with a published
/// point value has a column naming it, and one capped by a medical alliance's unit quota a last
/// column `alliance_code` (the unit whose quota `monthly_quota` is); other runs keep the table
/// they always had.
pub fn prepayment_table(lines: &[PrepaymentLine]) -> Table {
    let sourced = lines.iter().any(|l| l.point_value_source.is_some());
    let pooled = lines.iter().any(|l| l.alliance_code.is_some());
    let mut header: Vec<String> = [
        "hospital_code",
        "points",
        "point_value",
        "fund_value",
        "individual_burden",
        "prepayment_ratio",
        "prepayable",
        "monthly_quota",
        "deferred",
        "capped",
        "quality_deposit",
        "payable",
        "money_fund_part",
    ]
    .map(str::to_owned)
    .to_vec();
    if sourced {
        header.push("point_value_source".to_owned());
    }
    if pooled {
        header.push("alliance_code".to_owned());
    }
    let rows = lines
        .iter()
        .map(|l| {
            let mut row = vec![
                l.hospital_code.clone(),
                points(l.points),
                l.point_value.to_string(),
                money(l.fund_value),
                money(l.individual_burden),
                l.prepayment_ratio.to_string(),
                money(l.prepayable),
                l.monthly_quota.map(money).unwrap_or_default(),
                money(l.deferred),
                money(l.capped),
                money(l.quality_deposit),
                money(l.payable),
                money(l.money_fund_part),
            ];
            if sourced {
                row.push(l.point_value_source.clone().unwrap_or_default());
            }
            if pooled {
                row.push(l.alliance_code.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    Table {
        header,
        rows,
        money_columns: vec![3, 4, 6, 7, 8, 9, 10, 11, 12],
    }
}
