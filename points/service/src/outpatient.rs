//! Outpatient valuation for settlement's outpatient year end (`ValueOutpatient`): the points
//! context owns the outpatient valuation rules (DOMAIN.md §3 per-capita and APG) and answers the
//! per-capita and chronic-disease budgets of each institution and the APG points of each visit;
//! settlement pays them and the budget context shares them.

use std::collections::BTreeMap;

use kernel::{Date, FundType, Money, RegionCode};
use medpay_proto::points::internal::v1 as internal;
use platform::wire::{self, Violation};
use points_domain::outpatient::{ApgError, OutpatientVisit};
use points_domain::tables::PerCapitaRates;
use points_domain::{chronic_per_capita_budget, per_capita_budget, valuate_visit};

use crate::error::{CaseError, Error};
use crate::grpc::PointsApi;

/// One institution's enrolment as read from the request.
#[derive(Default)]
struct Enrolment {
    per_capita: Option<(u64, Money, Money)>,
    chronic_rates: PerCapitaRates,
    chronic_patients: BTreeMap<String, u64>,
}

fn non_negative_money(
    field: String,
    value: Option<&medpay_proto::common::v1::Money>,
    required: bool,
    violations: &mut Vec<Violation>,
) -> Money {
    if value.is_none() && !required {
        return Money::ZERO;
    }
    match wire::money(&field, value) {
        Ok(money) if money.is_negative() => {
            violations.push((field, format!("{money} must not be negative")));
            Money::ZERO
        }
        Ok(money) => money,
        Err(violation) => {
            violations.push(violation);
            Money::ZERO
        }
    }
}

fn count(field: String, value: i64, violations: &mut Vec<Violation>) -> u64 {
    u64::try_from(value).unwrap_or_else(|_| {
        violations.push((field, format!("{value} must not be negative")));
        0
    })
}

/// Reads the enrolment lists, every bad field named.
fn enrolments(
    request: &internal::ValueOutpatientRequest,
) -> Result<BTreeMap<String, Enrolment>, Error> {
    let mut violations = Vec::new();
    let mut by_institution: BTreeMap<String, Enrolment> = BTreeMap::new();
    for (i, entry) in request.per_capita.iter().enumerate() {
        let field = |name: &str| format!("per_capita[{i}].{name}");
        if entry.hospital_code.trim().is_empty() {
            violations.push((field("hospital_code"), "is required".to_owned()));
        }
        let persons = count(
            field("enrolled_persons"),
            entry.enrolled_persons,
            &mut violations,
        );
        let rate = non_negative_money(
            field("rate_per_head"),
            entry.rate_per_head.as_ref(),
            true,
            &mut violations,
        );
        let referrals = non_negative_money(
            field("referrals_out"),
            entry.referrals_out.as_ref(),
            false,
            &mut violations,
        );
        let slot = by_institution
            .entry(entry.hospital_code.clone())
            .or_default();
        if slot.per_capita.is_some() {
            violations.push((
                field("hospital_code"),
                format!("{} is enrolled twice", entry.hospital_code),
            ));
        }
        slot.per_capita = Some((persons, rate, referrals));
    }
    for (i, entry) in request.chronic.iter().enumerate() {
        let field = |name: &str| format!("chronic[{i}].{name}");
        if entry.hospital_code.trim().is_empty() {
            violations.push((field("hospital_code"), "is required".to_owned()));
        }
        if entry.disease_code.trim().is_empty() {
            violations.push((field("disease_code"), "is required".to_owned()));
        }
        let patients = count(field("patients"), entry.patients, &mut violations);
        let rate = non_negative_money(
            field("rate_per_patient"),
            entry.rate_per_patient.as_ref(),
            true,
            &mut violations,
        );
        let slot = by_institution
            .entry(entry.hospital_code.clone())
            .or_default();
        if slot
            .chronic_patients
            .insert(entry.disease_code.clone(), patients)
            .is_some()
        {
            violations.push((
                field("disease_code"),
                format!(
                    "{} is enrolled twice at {}",
                    entry.disease_code, entry.hospital_code
                ),
            ));
        }
        slot.chronic_rates
            .chronic_diseases
            .insert(entry.disease_code.clone(), rate);
    }
    if violations.is_empty() {
        Ok(by_institution)
    } else {
        Err(Error::InvalidArgument(violations))
    }
}

fn apg_violation(field: &str, error: &ApgError) -> Error {
    Error::InvalidArgument(vec![(field.to_owned(), error.to_string())])
}

fn visit_error(visit_id: String, error: String) -> internal::VisitApgPoints {
    internal::VisitApgPoints {
        visit_id,
        error,
        ..Default::default()
    }
}

impl PointsApi {
    /// The answer of `ValueOutpatient` for a request whose region the caller may reach.
    pub async fn value_outpatient_year(
        &self,
        region: RegionCode,
        request: internal::ValueOutpatientRequest,
    ) -> Result<internal::ValueOutpatientResponse, Error> {
        let (year, fund) = read_year_and_fund(&request)?;
        let mut budgets = Vec::new();
        for (code, enrolment) in enrolments(&request)? {
            let per_capita = match enrolment.per_capita {
                Some((persons, rate, referrals)) => per_capita_budget(persons, rate, referrals)
                    .map_err(|e| apg_violation("per_capita", &e))?,
                None => Money::ZERO,
            };
            let chronic =
                chronic_per_capita_budget(&enrolment.chronic_rates, &enrolment.chronic_patients)
                    .map_err(|e| apg_violation("chronic", &e))?;
            budgets.push(internal::InstitutionOutpatientBudget {
                hospital_code: code,
                per_capita_budget: Some(wire::money_to_wire(per_capita)),
                chronic_budget: Some(wire::money_to_wire(chronic)),
            });
        }
        let mut chooser = self.tables.chooser(region, year);
        let mut visits = Vec::with_capacity(request.visits.len());
        for (i, visit) in request.visits.into_iter().enumerate() {
            let date = match visit.visit_date.as_ref() {
                Some(date) => wire::date(&format!("visits[{i}].visit_date"), date),
                None => Err((format!("visits[{i}].visit_date"), "is required".to_owned())),
            };
            let date: Date = match date {
                Ok(date) => date,
                Err((field, why)) => {
                    visits.push(visit_error(visit.visit_id, format!("{field} {why}")));
                    continue;
                }
            };
            if !chooser.knows(fund) {
                let timeline = chooser.load(fund).await?;
                chooser.learn(fund, timeline);
            }
            let table = match chooser.choose(fund, date) {
                Ok(table) => table,
                Err(CaseError::Case(error)) => {
                    visits.push(visit_error(visit.visit_id, error.to_string()));
                    continue;
                }
                Err(CaseError::Service(error)) => return Err(error),
            };
            let version = format!(
                "{}-{year}-{}@{}",
                table.key.region,
                fund.code(),
                table.version
            );
            let Some(apg) = table.document.tables.apg.as_ref() else {
                visits.push(visit_error(
                    visit.visit_id,
                    format!("valuation table {version} has no APG table"),
                ));
                continue;
            };
            let outpatient = OutpatientVisit {
                principal_diagnosis: visit.principal_diagnosis,
                procedures: visit.procedure_codes,
            };
            match valuate_visit(&table.document.policy, apg, &outpatient) {
                Ok(valuation) => visits.push(internal::VisitApgPoints {
                    visit_id: visit.visit_id,
                    points: Some(wire::decimal_to_wire(valuation.points)),
                    valuation_json: serde_json::to_string(&valuation).map_err(Error::storage)?,
                    error: String::new(),
                    table_version: version,
                }),
                Err(error) => visits.push(visit_error(visit.visit_id, error.to_string())),
            }
        }
        Ok(internal::ValueOutpatientResponse { budgets, visits })
    }
}

fn read_year_and_fund(
    request: &internal::ValueOutpatientRequest,
) -> Result<(i32, FundType), Error> {
    let year = wire::year("year", request.year);
    let fund = wire::fund_type("fund_type", request.fund_type);
    match (year, fund) {
        (Ok(year), Ok(fund)) => Ok((year, fund)),
        (year, fund) => Err(Error::InvalidArgument(
            [year.err(), fund.err()].into_iter().flatten().collect(),
        )),
    }
}
