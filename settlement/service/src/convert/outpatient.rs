//! Requests of the outpatient service read into the domain's enrolment and the run's figures.

use kernel::{FundType, Money};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use platform::wire;
use settlement_domain::outpatient_clearing::{
    ChronicEnrolment, OutpatientEnrolment, PrimaryEnrolment,
};
use tonic::Status;

use super::{Violations, optional_money};

fn key(violations: &mut Violations, year: i32, fund: i32) -> Option<(i32, FundType)> {
    let year = violations.check(wire::year("year", year));
    let fund = violations.check(wire::fund_type("fund_type", fund));
    year.zip(fund)
}

/// A count that must not be negative.
fn count(violations: &mut Violations, field: String, value: i64) -> Option<u64> {
    match u64::try_from(value) {
        Ok(count) => Some(count),
        Err(_) => {
            violations.push(field, format!("{value} must not be negative"));
            None
        }
    }
}

/// An amount that must not be negative; `required` when absence is a violation (else 0).
fn amount(
    violations: &mut Violations,
    field: String,
    value: Option<&common::Money>,
    required: bool,
) -> Option<Money> {
    let read = if required {
        violations.check(wire::money(&field, value))
    } else {
        violations
            .check(optional_money(&field, value))
            .map(Option::unwrap_or_default)
    }?;
    if read.is_negative() {
        violations.push(field, format!("{read} must not be negative"));
        return None;
    }
    Some(read)
}

/// An enrolment to store.
#[derive(Clone, Debug)]
pub struct EnrolmentRequest {
    pub year: i32,
    pub fund: FundType,
    pub enrolment: OutpatientEnrolment,
}

impl TryFrom<&pb::PutOutpatientEnrolmentRequest> for EnrolmentRequest {
    type Error = Status;

    fn try_from(body: &pb::PutOutpatientEnrolmentRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let key = key(&mut violations, body.year, body.fund_type);
        let mut primary = Vec::new();
        for (i, entry) in body.institutions.iter().enumerate() {
            let field = |name: &str| format!("institutions[{i}].{name}");
            violations.require(&field("hospital_code"), &entry.hospital_code);
            let persons = count(
                &mut violations,
                field("enrolled_persons"),
                entry.enrolled_persons,
            );
            let rate = amount(
                &mut violations,
                field("rate_per_head"),
                entry.rate_per_head.as_ref(),
                true,
            );
            let referrals = amount(
                &mut violations,
                field("referrals_out"),
                entry.referrals_out.as_ref(),
                false,
            );
            if let (Some(enrolled_persons), Some(rate_per_head), Some(referrals_out)) =
                (persons, rate, referrals)
            {
                primary.push(PrimaryEnrolment {
                    hospital_code: entry.hospital_code.trim().to_owned(),
                    enrolled_persons,
                    rate_per_head,
                    referrals_out,
                });
            }
        }
        let mut chronic = Vec::new();
        for (i, entry) in body.chronic.iter().enumerate() {
            let field = |name: &str| format!("chronic[{i}].{name}");
            violations.require(&field("hospital_code"), &entry.hospital_code);
            violations.require(&field("disease_code"), &entry.disease_code);
            let patients = count(&mut violations, field("patients"), entry.patients);
            let rate = amount(
                &mut violations,
                field("rate_per_patient"),
                entry.rate_per_patient.as_ref(),
                true,
            );
            if let (Some(patients), Some(rate_per_patient)) = (patients, rate) {
                chronic.push(ChronicEnrolment {
                    hospital_code: entry.hospital_code.trim().to_owned(),
                    disease_code: entry.disease_code.trim().to_owned(),
                    patients,
                    rate_per_patient,
                });
            }
        }
        let enrolment = OutpatientEnrolment { primary, chronic };
        if violations.is_empty() {
            if enrolment.is_empty() {
                violations.push(
                    "institutions",
                    "nothing is enrolled: give institutions or chronic",
                );
            }
            for (field, why) in enrolment.repeated_entries() {
                violations.push(field, why);
            }
        }
        violations.finish(|| {
            let (year, fund) = key?;
            Some(Self {
                year,
                fund,
                enrolment,
            })
        })
    }
}

/// An outpatient year end to run.
#[derive(Clone, Debug)]
pub struct OutpatientRunRequest {
    pub year: i32,
    pub fund: FundType,
    pub apg_block: Money,
    /// Σ prepaid per institution, in request order (checked against the enrolment by the run).
    pub prepaid: Vec<(String, Money)>,
}

impl TryFrom<&pb::RunOutpatientClearingRequest> for OutpatientRunRequest {
    type Error = Status;

    fn try_from(body: &pb::RunOutpatientClearingRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let key = key(&mut violations, body.year, body.fund_type);
        let block = amount(
            &mut violations,
            "apg_block".to_owned(),
            body.apg_block.as_ref(),
            false,
        );
        let mut prepaid = Vec::with_capacity(body.prepaid.len());
        for (i, entry) in body.prepaid.iter().enumerate() {
            if entry.hospital_code.trim().is_empty() {
                violations.push(format!("prepaid[{i}].hospital_code"), "is required");
            }
            let paid = amount(
                &mut violations,
                format!("prepaid[{i}].amount"),
                entry.amount.as_ref(),
                true,
            );
            if let Some(paid) = paid {
                prepaid.push((entry.hospital_code.clone(), paid));
            }
        }
        violations.finish(|| {
            let (year, fund) = key?;
            Some(Self {
                year,
                fund,
                apg_block: block?,
                prepaid,
            })
        })
    }
}
