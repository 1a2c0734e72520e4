//! Violation deductions (违规扣款) as the supervision context confirms them (DOMAIN.md §4, §6):
//! each hospital's deduction for the clearing's year and fund with the findings behind it.
//!
//! One source of truth: where supervision gives the deductions, a deduction typed into the year
//! inputs is refused rather than added or silently replaced, so no deduction counts twice and
//! none disappears unseen. Where it does not, the typed-in deductions apply as before.

use std::collections::{BTreeMap, BTreeSet};

use kernel::Money;
use serde::{Deserialize, Serialize};

use crate::clearing::HospitalClearingInput;
use crate::clearing_assembly::YearInput;
use crate::error::SettlementError;

/// A confirmed supervision finding behind a deduction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeductionFinding {
    pub finding_id: String,
    /// The rule's id, e.g. `readmission_15_days`.
    pub rule_id: String,
    /// The settlement lists the finding is on.
    pub case_ids: Vec<String>,
    pub amount: Money,
}

/// One hospital's deduction, as supervision gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisedDeduction {
    pub hospital_code: String,
    pub amount: Money,
    pub findings: Vec<DeductionFinding>,
}

/// Checks supervision's deductions and the year inputs against each other: no deduction typed
/// in beside them, each deduction non-negative, once per hospital, and equal to the sum of its
/// findings (what the statement lists must add up to what it deducts). Every error at once.
pub fn check(
    deductions: &[SupervisedDeduction],
    year_inputs: &[YearInput],
) -> Result<(), Vec<SettlementError>> {
    let mut errors: Vec<SettlementError> = year_inputs
        .iter()
        .filter(|input| !input.violation_deductions.value().is_zero())
        .map(|input| SettlementError::TypedViolationDeductions {
            hospital_code: input.hospital_code.clone(),
            amount: input.violation_deductions,
        })
        .collect();
    let mut seen = BTreeSet::new();
    for deduction in deductions {
        let code = &deduction.hospital_code;
        if !seen.insert(code.as_str()) {
            errors.push(SettlementError::DuplicateHospital {
                hospital_code: code.clone(),
            });
        }
        if deduction.amount.is_negative() {
            errors.push(SettlementError::NegativeAmount {
                record: format!("supervision's deduction of {code}"),
                field: "violation_deductions",
                value: deduction.amount,
            });
        }
        let findings: Money = deduction.findings.iter().map(|f| f.amount).sum();
        if findings != deduction.amount {
            errors.push(SettlementError::DeductionFindingsMismatch {
                hospital_code: code.clone(),
                amount: deduction.amount,
                findings,
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Puts each checked deduction and its findings on its hospital's clearing record (a hospital
/// without one gets a plain record: its deduction is still owed).
pub fn apply(
    deductions: Vec<SupervisedDeduction>,
    hospitals: &mut BTreeMap<String, HospitalClearingInput>,
) {
    for deduction in deductions {
        let h = hospitals
            .entry(deduction.hospital_code.clone())
            .or_insert_with(|| HospitalClearingInput::plain(deduction.hospital_code.clone()));
        h.violation_deductions = deduction.amount;
        h.violation_findings = deduction.findings;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Decimal;

    fn money(yuan: &str) -> Money {
        yuan.parse().expect("money")
    }

    fn finding(id: &str, amount: &str) -> DeductionFinding {
        DeductionFinding {
            finding_id: id.to_owned(),
            rule_id: "readmission_15_days".to_owned(),
            case_ids: vec![format!("L-{id}")],
            amount: money(amount),
        }
    }

    fn deduction(
        hospital: &str,
        amount: &str,
        findings: Vec<DeductionFinding>,
    ) -> SupervisedDeduction {
        SupervisedDeduction {
            hospital_code: hospital.to_owned(),
            amount: money(amount),
            findings,
        }
    }

    fn typed(hospital: &str, amount: &str) -> YearInput {
        YearInput {
            hospital_code: hospital.to_owned(),
            assessment_coefficient: Decimal::ONE,
            violation_deductions: money(amount),
            deposit_returned: Money::ZERO,
            assessment_score: None,
        }
    }

    #[test]
    fn deductions_that_add_up_are_put_on_their_hospitals() {
        let deductions = vec![
            deduction(
                "H1",
                "150.25",
                vec![finding("f1", "100.00"), finding("f2", "50.25")],
            ),
            deduction("H3", "9.99", vec![finding("f3", "9.99")]),
        ];
        // A coefficient typed in beside them stays: only the deductions come from supervision.
        let mut inputs = typed("H1", "0");
        inputs.assessment_coefficient = Decimal::new(95, 2);
        assert_eq!(check(&deductions, &[inputs]), Ok(()));
        let mut hospitals = BTreeMap::new();
        hospitals.insert("H1".to_owned(), HospitalClearingInput::plain("H1"));
        apply(deductions, &mut hospitals);
        assert_eq!(hospitals["H1"].violation_deductions, money("150.25"));
        assert_eq!(
            hospitals["H1"]
                .violation_findings
                .iter()
                .map(|f| f.finding_id.as_str())
                .collect::<Vec<_>>(),
            ["f1", "f2"]
        );
        assert_eq!(hospitals["H3"].violation_deductions, money("9.99"));
    }

    #[test]
    fn typed_in_deductions_beside_supervision_are_refused_with_every_other_error() {
        let deductions = vec![
            deduction("H1", "100.00", vec![finding("f1", "99.99")]),
            deduction("H1", "-1.00", vec![finding("f2", "-1.00")]),
        ];
        let errors = check(&deductions, &[typed("H2", "500.00")]).expect_err("refused");
        let reasons: Vec<&str> = errors.iter().map(SettlementError::reason).collect();
        assert_eq!(
            reasons,
            [
                "TYPED_VIOLATION_DEDUCTIONS",
                "DEDUCTION_FINDINGS_MISMATCH",
                "DUPLICATE_HOSPITAL",
                "NEGATIVE_AMOUNT",
            ]
        );
        assert!(errors[0].to_string().contains("H2"), "{}", errors[0]);
        assert!(errors[1].to_string().contains("99.99"), "{}", errors[1]);
    }
}
