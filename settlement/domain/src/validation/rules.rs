//! The rules: a collector walks the record and pushes every violation it finds.

use std::fmt;

use kernel::date::Date;
use kernel::{Decimal, FundType, Money, round_money};

use super::{Severity, Sex, ValidationPolicy, ValidationReport, Violation, ViolationKind, limits};
use crate::case::{AmbulatorySettlement, Diagnosis, FeeLine, ListHeader, Payment, SettlementList};
use crate::ports::CodeDictionary;

/// The individual codes of a diagnosis code: `A01.000x005+J17.0*` → `A01.000x005`, `J17.0`.
fn code_parts(code: &str) -> impl Iterator<Item = &str> {
    code.split('+')
        .map(|p| p.trim().trim_end_matches('*'))
        .filter(|p| !p.is_empty())
}

/// Whether an asterisk (manifestation) code stands without its dagger (WHO ICD-10 Vol. 2
/// §3.1.3): it is marked `*` and no dagger part precedes it in the same code.
fn asterisk_alone(code: &str) -> bool {
    let mut parts = code.split('+').map(str::trim);
    match parts.next() {
        Some(first) => first.ends_with('*') || first.is_empty() && code.contains('*'),
        None => false,
    }
}

/// Completed years between `birth` and `on`.
fn age_years(birth: Date, on: Date) -> i32 {
    let (by, bm, bd) = birth.ymd();
    let (oy, om, od) = on.ymd();
    let mut years = oy - by;
    if (om, od) < (bm, bd) {
        years -= 1;
    }
    years
}

struct Collector<'a> {
    header: &'a ListHeader,
    report: ValidationReport,
}

impl Collector<'_> {
    fn push(&mut self, field: impl Into<String>, kind: ViolationKind, detail: impl Into<String>) {
        let violation = Violation {
            hospital_code: self.header.hospital_code.clone(),
            list_id: self.header.list_id.clone(),
            field: field.into(),
            kind,
            detail: detail.into(),
        };
        match kind.severity() {
            Severity::Error => self.report.errors.push(violation),
            Severity::Warning => self.report.warnings.push(violation),
        }
    }

    /// A text field of at most `max` characters. `field` is written out only for a violation:
    /// a list has some fifty lines, each with several fields checked.
    fn text(&mut self, field: impl fmt::Display, value: &str, max: usize) {
        // No more bytes than `max` is no more characters.
        if value.len() <= max {
            return;
        }
        let length = value.chars().count();
        if length > max {
            self.push(
                field.to_string(),
                ViolationKind::FieldTooLong,
                format!("{length} characters, at most {max}"),
            );
        }
    }

    /// A list of at most `max` entries.
    fn count(&mut self, field: &str, length: usize, max: usize) {
        if length > max {
            self.push(
                field,
                ViolationKind::TooManyEntries,
                format!("{length} entries, at most {max}"),
            );
        }
    }

    /// A date on or before `today`.
    fn not_future(&mut self, field: impl fmt::Display, date: Date, today: Date) {
        if date > today {
            self.push(
                field.to_string(),
                ViolationKind::DateInFuture,
                format!("{date} is after today {today}"),
            );
        }
    }

    fn header(&mut self, today: Date) {
        let header = self.header;
        self.text("header.setl_id", &header.list_id, limits::LIST_ID);
        self.text(
            "header.fixmedins_code",
            &header.hospital_code,
            limits::HOSPITAL_CODE,
        );
        self.text(
            "header.hospital_level",
            &header.hospital_level,
            limits::CODE,
        );
        self.text("header.psn_no", &header.person_id, limits::PERSON_ID);
        self.text(
            "header.case_number",
            &header.case_number,
            limits::CASE_NUMBER,
        );
        self.not_future("header.declared_at", header.declared_at.date(), today);
        if header.list_id.trim().is_empty() {
            self.push("header.setl_id", ViolationKind::ListIdMissing, "empty");
        }
        if header.hospital_code.trim().is_empty() {
            self.push(
                "header.fixmedins_code",
                ViolationKind::HospitalCodeMissing,
                "empty",
            );
        }
        self.report.fund = FundType::from_code(header.insurance_type).ok();
        if self.report.fund.is_none() {
            self.push(
                "header.insutype",
                ViolationKind::InsuranceTypeInvalid,
                format!("{} is neither 310 nor 390", header.insurance_type),
            );
        }
    }

    fn amount(&mut self, field: impl fmt::Display, value: Money, refund: bool) {
        // DOMAIN.md §1: amounts non-negative except refund rows.
        if value.is_negative() && !refund {
            self.push(
                field.to_string(),
                ViolationKind::NegativeAmount,
                value.to_string(),
            );
        }
    }

    fn payment(&mut self, payment: &Payment, refund: bool) {
        let fields = [
            ("medfee_sumamt", payment.total),
            ("hifp_pay", payment.pooled_fund),
            ("hifmi_pay", payment.serious_illness),
            ("maf_pay", payment.medical_aid),
            ("oth_fund_pay", payment.other_funds),
            ("acct_pay", payment.personal_account),
            ("psn_cash_pay", payment.personal_cash),
            ("fulamt_ownpay_amt", payment.self_pay),
            ("copay_amt", payment.co_pay),
        ];
        for (name, value) in fields {
            self.amount(format_args!("payment.{name}"), value, refund);
        }
        let gap = payment.identity_gap();
        if !gap.value().is_zero() {
            self.push(
                "payment.medfee_sumamt",
                ViolationKind::PaymentIdentity,
                format!(
                    "total {} differs from funds {} + account {} + cash {} by {gap}",
                    payment.total,
                    payment.fund_total(),
                    payment.personal_account,
                    payment.personal_cash
                ),
            );
        }
    }

    fn diagnoses(
        &mut self,
        diagnoses: &[Diagnosis],
        dictionary: &dyn CodeDictionary,
        policy: &ValidationPolicy,
        check_condition: bool,
    ) {
        self.count("diagnoses", diagnoses.len(), limits::DIAGNOSES);
        for (i, diagnosis) in diagnoses.iter().enumerate() {
            self.text(
                format_args!("diagnoses[{i}].code"),
                &diagnosis.code,
                limits::CLINICAL_CODE,
            );
            self.text(
                format_args!("diagnoses[{i}].name"),
                &diagnosis.name,
                limits::NAME,
            );
            let code = diagnosis.code.trim();
            if code.is_empty() {
                continue;
            }
            if diagnosis.name.trim().is_empty() {
                self.push(
                    format!("diagnoses[{i}].name"),
                    ViolationKind::DiagnosisNameMissing,
                    format!("code {code} has no name"),
                );
            }
            if asterisk_alone(code) {
                self.push(
                    format!("diagnoses[{i}].code"),
                    ViolationKind::AsteriskCodeAlone,
                    format!("{code} is a manifestation code without its dagger code"),
                );
            }
            if !dictionary.has_diagnosis(code) {
                self.push(
                    format!("diagnoses[{i}].code"),
                    ViolationKind::UnknownDiagnosisCode,
                    code.to_owned(),
                );
            }
            if check_condition
                && !policy
                    .admission_conditions
                    .contains(&diagnosis.admission_condition)
            {
                self.push(
                    format!("diagnoses[{i}].admission_condition"),
                    ViolationKind::AdmissionConditionInvalid,
                    diagnosis.admission_condition.to_string(),
                );
            }
        }
    }

    fn fee_lines(&mut self, lines: &[FeeLine], refund_list: bool, today: Date) {
        self.count("fee_lines", lines.len(), limits::FEE_LINES);
        for (i, line) in lines.iter().enumerate() {
            self.text(
                format_args!("fee_lines[{i}].hilist_code"),
                &line.hilist_code,
                limits::ITEM_CODE,
            );
            self.text(
                format_args!("fee_lines[{i}].med_chrgitm_type"),
                &line.med_chrgitm_type,
                limits::CODE,
            );
            if let Some(department) = &line.department {
                self.text(
                    format_args!("fee_lines[{i}].department"),
                    department,
                    limits::DEPARTMENT,
                );
            }
            self.not_future(
                format_args!("fee_lines[{i}].fee_ocur_time"),
                line.fee_ocur_time.date(),
                today,
            );
            let refund = refund_list || line.refund;
            self.amount(
                format_args!("fee_lines[{i}].det_item_fee_sumamt"),
                line.det_item_fee_sumamt,
                refund,
            );
            self.amount(
                format_args!("fee_lines[{i}].inscp_amt"),
                line.inscp_amt,
                refund,
            );
            let expected = round_money(line.pric * line.cnt);
            if expected != line.det_item_fee_sumamt.value() {
                self.push(
                    format!("fee_lines[{i}].det_item_fee_sumamt"),
                    ViolationKind::FeeLineAmountMismatch,
                    format!(
                        "{} × {} = {expected}, line says {}",
                        line.pric, line.cnt, line.det_item_fee_sumamt
                    ),
                );
            }
        }
    }
}

/// Validates an inpatient settlement list: every rule, every violation. `today` is the
/// agency's date: no date of the list may lie after it.
pub fn validate_list(
    list: &SettlementList,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
    today: Date,
) -> ValidationReport {
    let mut c = Collector {
        header: &list.header,
        report: ValidationReport::default(),
    };
    c.header(today);
    let refund = list.header.refund;

    // Patient.
    let sex = Sex::from_code(list.patient.sex);
    if sex.is_none() {
        c.push(
            "patient.sex",
            ViolationKind::SexInvalid,
            format!("{} is neither 1 nor 2", list.patient.sex),
        );
    }
    let admission_date = list.stay.admitted_at.date();
    c.not_future("patient.birth_date", list.patient.birth_date, today);
    c.not_future("stay.admitted_at", admission_date, today);
    c.not_future("stay.discharged_at", list.stay.discharged_at.date(), today);
    // A newborn may be admitted on the day of birth (实足天龄 0), so birth on the admission day
    // is accepted; a birth after admission is not.
    if list.patient.birth_date > admission_date {
        c.push(
            "patient.birth_date",
            ViolationKind::BirthAfterAdmission,
            format!(
                "born {} after admission {admission_date}",
                list.patient.birth_date
            ),
        );
    }

    // Stay.
    let stay = &list.stay;
    c.text("stay.med_type", &stay.med_type, limits::CODE);
    c.text("stay.admission_route", &stay.admission_route, limits::CODE);
    c.text(
        "stay.admission_department",
        &stay.admission_department,
        limits::DEPARTMENT,
    );
    c.text(
        "stay.discharge_department",
        &stay.discharge_department,
        limits::DEPARTMENT,
    );
    if let Some(receiver) = &stay.receiving_institution {
        c.text("stay.receiving_institution", receiver, limits::NAME);
    }
    if list.stay.discharged_at < list.stay.admitted_at {
        c.push(
            "stay.discharged_at",
            ViolationKind::DischargeBeforeAdmission,
            format!(
                "discharged {} before admitted {}",
                list.stay.discharged_at, list.stay.admitted_at
            ),
        );
    }
    let discharge_type = list.stay.discharge_type;
    if !policy.discharge_types.contains(&discharge_type) {
        c.push(
            "stay.discharge_type",
            ViolationKind::DischargeTypeInvalid,
            discharge_type.to_string(),
        );
    }
    let names_receiver = list
        .stay
        .receiving_institution
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty());
    if policy.transfer_discharge_types.contains(&discharge_type) && !names_receiver {
        c.push(
            "stay.receiving_institution",
            ViolationKind::ReceivingInstitutionMissing,
            format!("discharge type {discharge_type} is a transfer"),
        );
    }
    let stay_hours = Decimal::from(list.stay.billable_days()) * Decimal::from(24);
    if list.stay.ventilator_hours > stay_hours {
        c.push(
            "stay.ventilator_hours",
            ViolationKind::VentilatorHoursExceedStay,
            format!(
                "{} hours in a stay of {stay_hours} hours",
                list.stay.ventilator_hours
            ),
        );
    }

    // Diagnoses.
    let principal = list
        .principal_diagnosis()
        .filter(|d| !d.code.trim().is_empty());
    if principal.is_none() {
        c.push(
            "diagnoses[0].code",
            ViolationKind::PrincipalDiagnosisMissing,
            "no principal diagnosis",
        );
    }
    c.diagnoses(&list.diagnoses, dictionary, policy, true);
    if let Some(principal) = principal {
        if principal.admission_condition == policy.absent_admission_condition {
            c.push(
                "diagnoses[0].admission_condition",
                ViolationKind::PrincipalAbsentOnAdmission,
                format!("{} was absent on admission", principal.code),
            );
        }
        // domain-formulas.md §10.2 #5: R00–R99 not principal when a definite diagnosis exists.
        let is_symptom = |d: &Diagnosis| policy.symptom_range.contains(d.code.trim());
        if is_symptom(principal)
            && list
                .diagnoses
                .iter()
                .skip(1)
                .any(|d| !d.code.trim().is_empty() && !is_symptom(d))
        {
            c.push(
                "diagnoses[0].code",
                ViolationKind::SymptomAsPrincipal,
                format!(
                    "{} is a symptom while a definite diagnosis is listed",
                    principal.code
                ),
            );
        }
    }
    let age_days = list.age_days_at_admission();
    let years = age_years(list.patient.birth_date, admission_date);
    for (i, diagnosis) in list.diagnoses.iter().enumerate() {
        for part in code_parts(diagnosis.code.trim()) {
            if let Some(sex) = sex
                && let Some(rule) = policy
                    .sex_rules
                    .iter()
                    .find(|r| r.range.contains(part) && r.sex != sex)
            {
                c.push(
                    format!("diagnoses[{i}].code"),
                    ViolationKind::DiagnosisSexConflict,
                    format!("{part} is for {:?} patients only", rule.sex),
                );
            }
            let age_conflict = policy.age_rules.iter().any(|r| {
                r.range.contains(part)
                    && (r.min_age_years.is_some_and(|min| years < min as i32)
                        || r.max_age_years.is_some_and(|max| years > max as i32)
                        || r.max_age_days.is_some_and(|max| age_days > max as i32))
            });
            if age_conflict {
                c.push(
                    format!("diagnoses[{i}].code"),
                    ViolationKind::DiagnosisAgeConflict,
                    format!("{part} at age {years} years ({age_days} days)"),
                );
            }
        }
    }

    // Procedures.
    c.count("procedures", list.procedures.len(), limits::PROCEDURES);
    for (i, procedure) in list.procedures.iter().enumerate() {
        c.text(
            format_args!("procedures[{i}].code"),
            &procedure.code,
            limits::CLINICAL_CODE,
        );
        c.text(
            format_args!("procedures[{i}].name"),
            &procedure.name,
            limits::NAME,
        );
        if let Some(anaesthesia) = &procedure.anaesthesia {
            c.text(
                format_args!("procedures[{i}].anaesthesia"),
                anaesthesia,
                limits::DEPARTMENT,
            );
        }
        c.not_future(format_args!("procedures[{i}].date"), procedure.date, today);
        if procedure.name.trim().is_empty() {
            c.push(
                format!("procedures[{i}].name"),
                ViolationKind::ProcedureNameMissing,
                format!("code {} has no name", procedure.code),
            );
        }
        if !dictionary.has_procedure(procedure.code.trim()) {
            c.push(
                format!("procedures[{i}].code"),
                ViolationKind::UnknownProcedureCode,
                procedure.code.clone(),
            );
        }
    }

    // Charges and payment.
    c.count("charges", list.charges.len(), limits::CHARGES);
    for (i, charge) in list.charges.iter().enumerate() {
        let amounts = [
            ("amount", charge.amount),
            ("class_a", charge.class_a),
            ("class_b", charge.class_b),
            ("self_pay", charge.self_pay),
            ("other", charge.other),
        ];
        for (name, value) in amounts {
            c.amount(format_args!("charges[{i}].{name}"), value, refund);
        }
    }
    if policy.charges_must_sum_to_total && !list.charges.is_empty() {
        let sum: Money = list.charges.iter().map(|ch| ch.amount).sum();
        if sum != list.payment.total {
            c.push(
                "charges",
                ViolationKind::ChargesTotalMismatch,
                format!("categories sum to {sum}, total is {}", list.payment.total),
            );
        }
    }
    c.payment(&list.payment, refund);
    c.fee_lines(&list.fee_lines, refund, today);
    c.report
}

/// Validates an outpatient or pharmacy settlement: header, diagnoses, amounts, payment
/// identity, bounds and dates (none after `today`).
pub fn validate_ambulatory(
    settlement: &AmbulatorySettlement,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
    today: Date,
) -> ValidationReport {
    let mut c = Collector {
        header: &settlement.header,
        report: ValidationReport::default(),
    };
    c.header(today);
    c.text("med_type", &settlement.med_type, limits::CODE);
    c.not_future("settled_at", settlement.settled_at.date(), today);
    c.diagnoses(&settlement.diagnoses, dictionary, policy, false);
    c.payment(&settlement.payment, settlement.header.refund);
    c.fee_lines(&settlement.fee_lines, settlement.header.refund, today);
    c.report
}

/// Validates a batch; one report per list, in input order, so every bad record is reported.
pub fn validate_batch(
    lists: &[SettlementList],
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
    today: Date,
) -> Vec<ValidationReport> {
    lists
        .iter()
        .map(|list| validate_list(list, dictionary, policy, today))
        .collect()
}
