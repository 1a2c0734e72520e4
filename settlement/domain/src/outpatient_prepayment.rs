//! The monthly outpatient prepayment (DOMAIN.md §3 per-capita, §5 monthly prepayment): each
//! institution with a per-capita or chronic-disease budget is prepaid a twelfth of its annual
//! budget every month, and the outpatient year end deducts what was prepaid.
//!
//! The budgets are the points context's (as for the year end); this module only splits them:
//! months 1–11 pay round2(annual / 12) and December pays what is left, so the twelve months sum
//! to the annual budget to the fen ([`monthly_share`], the one place the split rounds).

use std::collections::BTreeMap;

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

use crate::outpatient_clearing::{
    InstitutionBudget, OutpatientEnrolment, OutpatientError, budgeted_institutions,
};
use crate::statement_table::Table;

/// What one institution is prepaid in one month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutpatientPrepaymentLine {
    pub hospital_code: String,
    /// The month, 1–12.
    pub month: u32,
    /// The points context's per-capita budget for the year (persons × rate − referrals out).
    pub per_capita_budget: Money,
    /// The chronic and special disease budget for the year.
    pub chronic_budget: Money,
    /// per_capita_budget + chronic_budget.
    pub annual_budget: Money,
    /// This month's prepayment: [`monthly_share`] of the annual budget.
    pub amount: Money,
}

/// The share of `annual` prepaid in `month` (1–12): round2(annual / 12) in months 1–11,
/// annual − 11 × round2(annual / 12) in December, so the twelve sum to `annual` exactly. A budget
/// below zero (referrals out above the per-capita amount) is prepaid nothing; the year end settles
/// it.
pub fn monthly_share(annual: Money, month: u32) -> Money {
    if annual.is_negative() {
        return Money::ZERO;
    }
    let twelfth = Money::round(annual.value() / Decimal::from(12));
    if month == 12 {
        annual - twelfth.mul_round(Decimal::from(11))
    } else {
        twelfth
    }
}

/// The month's lines: every institution with a per-capita or chronic budget in the enrolment, in
/// code order, with the budgets the points context valued.
pub fn prepayment_lines(
    enrolment: &OutpatientEnrolment,
    budgets: &BTreeMap<String, InstitutionBudget>,
    month: u32,
) -> Result<Vec<OutpatientPrepaymentLine>, OutpatientError> {
    budgeted_institutions(enrolment)
        .into_iter()
        .map(|code| {
            let budget = budgets
                .get(code)
                .ok_or_else(|| OutpatientError::NoBudget(code.to_owned()))?;
            let annual_budget = budget.per_capita_budget + budget.chronic_budget;
            Ok(OutpatientPrepaymentLine {
                hospital_code: code.to_owned(),
                month,
                per_capita_budget: budget.per_capita_budget,
                chronic_budget: budget.chronic_budget,
                annual_budget,
                amount: monthly_share(annual_budget, month),
            })
        })
        .collect()
}

/// Σ prepaid per institution over the stored lines of the year's months.
pub fn prepaid_by_institution<'a>(
    lines: impl IntoIterator<Item = &'a OutpatientPrepaymentLine>,
) -> BTreeMap<String, Money> {
    let mut prepaid: BTreeMap<String, Money> = BTreeMap::new();
    for line in lines {
        *prepaid.entry(line.hospital_code.clone()).or_default() += line.amount;
    }
    prepaid
}

fn money(value: Money) -> String {
    format!("{:.2}", value.value())
}

/// The month's lines as exported (CSV, XLSX); its CSV's SHA-256 is the run's digest.
pub fn outpatient_prepayment_table(lines: &[OutpatientPrepaymentLine]) -> Table {
    let header = [
        "hospital_code",
        "month",
        "per_capita_budget",
        "chronic_budget",
        "annual_budget",
        "amount",
    ];
    Table {
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        rows: lines
            .iter()
            .map(|line| {
                vec![
                    line.hospital_code.clone(),
                    line.month.to_string(),
                    money(line.per_capita_budget),
                    money(line.chronic_budget),
                    money(line.annual_budget),
                    money(line.amount),
                ]
            })
            .collect(),
        money_columns: vec![2, 3, 4, 5],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outpatient_clearing::{ChronicEnrolment, PrimaryEnrolment};

    fn yuan(text: &str) -> Money {
        text.parse().expect("money")
    }

    #[test]
    fn december_takes_the_fen_residue_so_twelve_months_sum_to_the_budget() {
        // 485,000.05 / 12 = 40,416.670833… → 40,416.67 in months 1–11 (444,583.37);
        // December 485,000.05 − 444,583.37 = 40,416.68.
        let annual = yuan("485000.05");
        assert_eq!(monthly_share(annual, 1), yuan("40416.67"));
        assert_eq!(monthly_share(annual, 11), yuan("40416.67"));
        assert_eq!(monthly_share(annual, 12), yuan("40416.68"));
        let year: Money = (1..=12).map(|month| monthly_share(annual, month)).sum();
        assert_eq!(year, annual);
        // 100.00 / 12 = 8.333… → 8.33 × 11 = 91.63; December 8.37.
        assert_eq!(monthly_share(yuan("100"), 12), yuan("8.37"));
        // Half a fen rounds away from zero: 0.06 / 12 = 0.005 → 0.01. Below 0.66 yuan eleven
        // rounded-up twelfths can pass the budget; December then returns the excess:
        // 0.06 − 0.11 = −0.05.
        assert_eq!(monthly_share(yuan("0.06"), 3), yuan("0.01"));
        assert_eq!(monthly_share(yuan("0.06"), 12), yuan("-0.05"));
        assert_eq!(monthly_share(yuan("-10"), 5), Money::ZERO);
    }

    #[test]
    fn every_budgeted_institution_is_prepaid_in_code_order() {
        let enrolment = OutpatientEnrolment {
            primary: vec![PrimaryEnrolment {
                hospital_code: "C3".into(),
                enrolled_persons: 5_000,
                rate_per_head: yuan("100"),
                referrals_out: yuan("30000"),
            }],
            chronic: vec![ChronicEnrolment {
                hospital_code: "C1".into(),
                disease_code: "E11".into(),
                patients: 10,
                rate_per_patient: yuan("1500"),
            }],
        };
        let budget = |per_capita: &str, chronic: &str| InstitutionBudget {
            per_capita_budget: yuan(per_capita),
            chronic_budget: yuan(chronic),
        };
        let budgets = BTreeMap::from([
            ("C1".to_owned(), budget("0", "15000")),
            ("C3".to_owned(), budget("470000", "0")),
        ]);
        let lines = prepayment_lines(&enrolment, &budgets, 4).expect("lines");
        let codes: Vec<&str> = lines.iter().map(|l| l.hospital_code.as_str()).collect();
        assert_eq!(codes, ["C1", "C3"]);
        // 15,000 / 12 = 1,250; 470,000 / 12 = 39,166.666… → 39,166.67.
        assert_eq!(lines[0].amount, yuan("1250"));
        assert_eq!(lines[1].annual_budget, yuan("470000"));
        assert_eq!(lines[1].amount, yuan("39166.67"));
        let twice = prepaid_by_institution(lines.iter().chain(&lines));
        assert_eq!(twice["C3"], yuan("78333.34"));
        assert_eq!(
            prepayment_lines(&enrolment, &BTreeMap::new(), 4),
            Err(OutpatientError::NoBudget("C1".into()))
        );
        let table = outpatient_prepayment_table(&lines);
        assert_eq!(
            table.rows[1],
            ["C3", "4", "470000.00", "0.00", "470000.00", "39166.67"]
        );
    }
}
