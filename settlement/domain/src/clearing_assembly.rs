//! The year-end clearing's input from the facts the ledger holds (DOMAIN.md §5 year end): the
//! year's valued cases with the special-case decisions bound into them, each hospital's stored
//! year inputs (with the violation deductions supervision confirmed, where it gives them) and
//! the final monthly prepayments it was paid; and the budget context's sharing answers as the
//! clearing's sharing rule.

use std::collections::BTreeMap;

use kernel::{Decimal, FundType, Money, RegionCode};
use serde::{Deserialize, Serialize};

use crate::assessment_scores::{self, SupervisedScores};
use crate::clearing::{ClearingCase, ClearingInput, HospitalClearingInput};
use crate::error::{PortError, SettlementError};
use crate::ports::{SharingCalculator, SharingOutcome, SharingRequest};
use crate::prepayment::PrepaymentLine;
use crate::readmission::{ReadmissionPolicy, halve_readmissions};
use crate::special_case::ReviewDecision;
use crate::valued_case::{InputVersions, ValuedCase};
use crate::violation_deductions::{self, SupervisedDeduction};

/// One hospital's year-end inputs, as the agency stores them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearInput {
    pub hospital_code: String,
    pub assessment_coefficient: Decimal,
    pub violation_deductions: Money,
    pub deposit_returned: Money,
    /// The assessment score that returns the deposit by the policy's tiers (DOMAIN.md §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_score: Option<Decimal>,
}

/// A bound special-case decision, by (hospital code, list id).
pub type BoundDecisions = BTreeMap<(String, String), ReviewDecision>;

/// What the ledger holds for one clearing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClearingFacts {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub distributable_budget: Money,
    pub year_inputs: Vec<YearInput>,
    /// The violation deductions the supervision context confirmed, when it gives them; then no
    /// deduction may be typed into `year_inputs`.
    pub supervised_deductions: Option<Vec<SupervisedDeduction>>,
    /// The scores of supervision's latest assessment of the region and year, when it gives
    /// them: each returns the deposit of a hospital whose year inputs type no score or return.
    pub supervised_scores: Option<SupervisedScores>,
    /// The lines of the year's final prepayment runs.
    pub prepayments: Vec<PrepaymentLine>,
    pub decisions: BoundDecisions,
    /// The year's current valued cases, in (hospital, list id) order.
    pub cases: Vec<ValuedCase>,
    /// Stays after the year that may readmit one of its cases (admitted within the window).
    pub later_stays: Vec<ValuedCase>,
    pub readmission: ReadmissionPolicy,
    /// Each hospital's medical alliance by the registry at the year's end
    /// ([`crate::clearing::alliance::alliances_as_of`]); a hospital absent is in none.
    pub alliances: BTreeMap<String, String>,
}

/// A clearing's input and what it was built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembledClearing {
    pub input: ClearingInput,
    pub versions: InputVersions,
    pub special_cases_bound: usize,
}

/// Builds the clearing input: every hospital with year inputs, a prepayment or a case has a
/// clearing record (plain unless its year inputs say otherwise); prepayments add up to what it
/// was prepaid and the deposit withheld; a case bound to be paid fee-for-service is an FFS
/// special case (an excluded stay valued fee-for-service is not: it is paid its claim inside
/// the sharing), and bound extra points are added to its points. Every case that cannot be paid
/// as stored (a standard-paid mode without its amount) is reported.
pub fn assemble_clearing(
    mut facts: ClearingFacts,
) -> Result<AssembledClearing, Vec<SettlementError>> {
    facts.readmission.check().map_err(|error| vec![error])?;
    // DOMAIN.md §5: the rules across stays run over the stored cases at every run.
    let halvings = halve_readmissions(&mut facts.cases, &facts.later_stays, &facts.readmission);
    let mut hospitals: BTreeMap<String, HospitalClearingInput> = BTreeMap::new();
    for input in &facts.year_inputs {
        let mut h = HospitalClearingInput::plain(input.hospital_code.clone());
        h.assessment_coefficient = input.assessment_coefficient;
        h.violation_deductions = input.violation_deductions;
        h.deposit_returned = input.deposit_returned;
        h.assessment_score = input.assessment_score;
        hospitals.insert(input.hospital_code.clone(), h);
    }
    if let Some(deductions) = facts.supervised_deductions.take() {
        violation_deductions::check(&deductions, &facts.year_inputs)?;
        violation_deductions::apply(deductions, &mut hospitals);
    }
    for line in &facts.prepayments {
        let h = hospitals
            .entry(line.hospital_code.clone())
            .or_insert_with(|| HospitalClearingInput::plain(line.hospital_code.clone()));
        h.prepaid += line.payable;
        h.deposit_withheld += line.quality_deposit;
    }

    for halving in halvings {
        hospitals
            .entry(halving.hospital_code.clone())
            .or_insert_with(|| HospitalClearingInput::plain(halving.hospital_code.clone()))
            .readmissions_halved
            .push(halving);
    }

    let decisions = &facts.decisions;
    let mut versions = InputVersions::default();
    let mut cases = Vec::with_capacity(facts.cases.len());
    let mut errors = Vec::new();
    for case in facts.cases {
        versions.add(&case);
        let mut points = case.points;
        let mut ffs_special = false;
        let payment = match case.payment() {
            Ok(payment) => payment,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        if !decisions.is_empty() {
            match decisions.get(&(case.hospital_code.clone(), case.list_id.clone())) {
                Some(ReviewDecision::FeeForService) => ffs_special = true,
                Some(ReviewDecision::ExtraPoints(extra)) => points += *extra,
                Some(ReviewDecision::Rejected) | None => {}
            }
        }
        if !hospitals.contains_key(&case.hospital_code) {
            hospitals.insert(
                case.hospital_code.clone(),
                HospitalClearingInput::plain(case.hospital_code.clone()),
            );
        }
        cases.push(ClearingCase {
            hospital_code: case.hospital_code,
            list_id: case.list_id,
            mode: case.payment_mode,
            payment,
            points,
            total_cost: case.total_cost,
            individual_burden: case.individual_burden,
            ffs_special,
            fund_amount_ffs: case.fund_amount,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    assessment_scores::apply(facts.supervised_scores.as_ref(), &mut hospitals);
    for (code, h) in &mut hospitals {
        h.alliance = facts.alliances.get(code).cloned();
    }
    Ok(AssembledClearing {
        input: ClearingInput {
            region: facts.region,
            year: facts.year,
            fund_type: facts.fund,
            distributable_budget: facts.distributable_budget,
            cases,
            hospitals: hospitals.into_values().collect(),
        },
        versions,
        special_cases_bound: decisions.len(),
    })
}

/// Tier of a hospital without a positive Std: the sharing ratio Act / Std does not exist, so it
/// is paid its Std (nothing, or what its deductions claw back) and not sent to the budget.
pub const NO_STANDARD: &str = "no_standard";

/// Whether the budget context can share this hospital's year (R = Act / Std needs Std > 0).
pub fn shareable(request: &SharingRequest) -> bool {
    request.standard.value() > Decimal::ZERO
}

/// The budget context's sharing answers, by hospital: the sharing rule of a clearing shared
/// through the budget. A hospital without a positive Std is paid its Std.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnsweredSharing {
    answers: BTreeMap<String, SharingOutcome>,
}

impl AnsweredSharing {
    pub fn new(answers: BTreeMap<String, SharingOutcome>) -> Self {
        Self { answers }
    }
}

impl SharingCalculator for AnsweredSharing {
    fn share(&self, request: &SharingRequest) -> Result<SharingOutcome, PortError> {
        if !shareable(request) {
            return Ok(SharingOutcome {
                payable: request.standard,
                tier: NO_STANDARD.to_owned(),
            });
        }
        self.answers
            .get(&request.hospital_code)
            .cloned()
            .ok_or_else(|| PortError {
                port: "sharing",
                reason: "NO_SHARING_ANSWER".to_owned(),
                message: format!(
                    "the budget context did not answer for hospital {}",
                    request.hospital_code
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment_mode::PaymentMode;
    use crate::valued_case::CasePayment;
    use kernel::Points;
    use rust_decimal_macros::dec;

    fn case(hospital: &str, id: &str, mode: &str) -> ValuedCase {
        ValuedCase {
            hospital_code: hospital.into(),
            list_id: id.into(),
            payment_mode: PaymentMode::from_stored(mode),
            group_code: "GB11".into(),
            points: Points::round(dec!(10)),
            total_cost: Money::from_fen(1000),
            individual_burden: Money::from_fen(100),
            fund_amount: Money::from_fen(900),
            amount: None,
            scheme_version: "demo@1".into(),
            table_version: "t@1".into(),
            stay: None,
        }
    }

    #[test]
    fn facts_become_one_clearing_input() {
        let mut decisions = BoundDecisions::new();
        decisions.insert(("A".into(), "2".into()), ReviewDecision::FeeForService);
        decisions.insert(
            ("B".into(), "1".into()),
            ReviewDecision::ExtraPoints(Points::round(dec!(2.5))),
        );
        let facts = ClearingFacts {
            region: "460100".parse().expect("region"),
            year: 2025,
            fund: FundType::Employee,
            distributable_budget: Money::from_fen(1_000_000),
            year_inputs: vec![YearInput {
                hospital_code: "C".into(),
                assessment_coefficient: dec!(0.9),
                violation_deductions: Money::from_fen(5),
                deposit_returned: Money::ZERO,
                assessment_score: None,
            }],
            supervised_deductions: None,
            supervised_scores: None,
            prepayments: Vec::new(),
            decisions,
            later_stays: Vec::new(),
            readmission: ReadmissionPolicy::default(),
            alliances: BTreeMap::new(),
            cases: vec![
                case("A", "1", "drg"),
                case("A", "2", "drg"),
                case("A", "3", "fee_for_service"),
                case("B", "1", "something_new"),
            ],
        };
        let assembled = assemble_clearing(facts).expect("assembled");
        let codes: Vec<_> = assembled
            .input
            .hospitals
            .iter()
            .map(|h| h.hospital_code.as_str())
            .collect();
        assert_eq!(codes, ["A", "B", "C"]);
        assert_eq!(
            assembled.input.hospitals[2].assessment_coefficient,
            dec!(0.9)
        );
        let ffs: Vec<_> = assembled
            .input
            .cases
            .iter()
            .map(|c| c.ffs_special)
            .collect();
        // Only the bound decision makes a special case; the excluded stay A/3 is paid its claim.
        assert_eq!(ffs, [false, true, false, false]);
        assert_eq!(assembled.input.cases[2].payment, CasePayment::Claimed);
        assert_eq!(assembled.input.cases[3].points, Points::round(dec!(12.5)));
        assert_eq!(assembled.special_cases_bound, 2);
        assert_eq!(assembled.versions.tables.len(), 1);
    }

    fn supervised(hospital: &str, fen: i64, finding: &str) -> SupervisedDeduction {
        SupervisedDeduction {
            hospital_code: hospital.into(),
            amount: Money::from_fen(fen),
            findings: vec![crate::violation_deductions::DeductionFinding {
                finding_id: finding.into(),
                rule_id: "readmission_15_days".into(),
                case_ids: vec!["2".into()],
                amount: Money::from_fen(fen),
            }],
        }
    }

    fn facts_of_a_and_b(supervised: Option<Vec<SupervisedDeduction>>) -> ClearingFacts {
        ClearingFacts {
            region: "460100".parse().expect("region"),
            year: 2025,
            fund: FundType::Employee,
            distributable_budget: Money::from_fen(1_000_000),
            year_inputs: Vec::new(),
            supervised_deductions: supervised,
            supervised_scores: None,
            prepayments: Vec::new(),
            decisions: BoundDecisions::new(),
            later_stays: Vec::new(),
            readmission: ReadmissionPolicy::default(),
            alliances: BTreeMap::new(),
            cases: vec![
                case("A", "1", "drg"),
                case("A", "2", "drg"),
                case("B", "1", "drg"),
            ],
        }
    }

    #[test]
    fn supervised_deductions_lower_the_standard_and_list_their_findings() {
        let statement = |facts| {
            let assembled = assemble_clearing(facts).expect("assembled");
            let policy = crate::clearing::ClearingPolicy::default();
            crate::clearing::prepare_clearing(&assembled.input, &policy)
                .expect("prepared")
                .settle(&crate::ports::PayStandard)
                .expect("settled")
        };
        let plain = statement(facts_of_a_and_b(Some(Vec::new())));
        let deducted = statement(facts_of_a_and_b(Some(vec![supervised("A", 12_345, "f1")])));
        let (a, b) = (&deducted.hospitals[0], &deducted.hospitals[1]);
        assert_eq!(a.violation_deductions, Money::from_fen(12_345));
        assert_eq!(a.violation_findings[0].finding_id, "f1");
        assert_eq!(
            a.sharing_standard,
            plain.hospitals[0].sharing_standard - Money::from_fen(12_345)
        );
        assert_eq!(
            a.final_amount,
            plain.hospitals[0].final_amount - Money::from_fen(12_345)
        );
        assert_eq!(b, &plain.hospitals[1]);
        assert!(b.violation_findings.is_empty());
        // The deduction leaves each hospital's share of the budget as it was (DOMAIN.md §4).
        assert_eq!(a.fund_entitlement, plain.hospitals[0].fund_entitlement);

        let mut typed = facts_of_a_and_b(Some(vec![supervised("A", 100, "f1")]));
        typed.year_inputs.push(YearInput {
            hospital_code: "B".into(),
            assessment_coefficient: dec!(1),
            violation_deductions: Money::from_fen(1),
            deposit_returned: Money::ZERO,
            assessment_score: None,
        });
        let refused = assemble_clearing(typed).expect_err("typed beside supervised");
        assert_eq!(refused[0].reason(), "TYPED_VIOLATION_DEDUCTIONS");
    }

    #[test]
    fn a_hospital_without_a_positive_standard_is_paid_it() {
        let request = SharingRequest {
            hospital_code: "A".into(),
            fund_type: FundType::Employee,
            standard: Money::from_fen(-100),
            actual: Money::ZERO,
        };
        let answered = AnsweredSharing::default();
        assert_eq!(answered.share(&request).expect("paid").tier, NO_STANDARD);
        let positive = SharingRequest {
            standard: Money::from_fen(100),
            ..request
        };
        assert_eq!(
            answered.share(&positive).expect_err("unanswered").reason,
            "NO_SHARING_ANSWER"
        );
    }
}
