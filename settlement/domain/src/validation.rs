//! Validation of settlement lists (DOMAIN.md §1; domain-formulas.md §10.2): every rule is checked
//! and every violation reported with the list, the field path as the list is written on the wire
//! (e.g. `diagnoses[0].code`, `payment.medfee_sumamt`) and a stable reason code.
//!
//! Errors reject the record; warnings accept it and flag it for the data-quality indicators.
//! The code dictionaries come through the [`CodeDictionary`] port; the sex and age conflict lists
//! and the code sets are fields of [`ValidationPolicy`].

use kernel::{Decimal, FundType, Money, round_money};
use serde::{Deserialize, Serialize};

use crate::case::{AmbulatorySettlement, Diagnosis, FeeLine, ListHeader, Payment, SettlementList};
use crate::date::Date;
use crate::ports::CodeDictionary;

/// Whether a violation rejects the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// What is wrong, with a stable reason code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ViolationKind {
    // errors
    ListIdMissing,
    HospitalCodeMissing,
    InsuranceTypeInvalid,
    PrincipalDiagnosisMissing,
    DiagnosisNameMissing,
    ProcedureNameMissing,
    UnknownDiagnosisCode,
    UnknownProcedureCode,
    AsteriskCodeAlone,
    AdmissionConditionInvalid,
    DischargeBeforeAdmission,
    BirthAfterAdmission,
    SexInvalid,
    NegativeAmount,
    PaymentIdentity,
    ChargesTotalMismatch,
    DischargeTypeInvalid,
    ReceivingInstitutionMissing,
    // warnings
    PrincipalAbsentOnAdmission,
    SymptomAsPrincipal,
    DiagnosisSexConflict,
    DiagnosisAgeConflict,
    FeeLineAmountMismatch,
    VentilatorHoursExceedStay,
}

impl ViolationKind {
    /// Stable machine-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            ViolationKind::ListIdMissing => "LIST_ID_MISSING",
            ViolationKind::HospitalCodeMissing => "HOSPITAL_CODE_MISSING",
            ViolationKind::InsuranceTypeInvalid => "INSURANCE_TYPE_INVALID",
            ViolationKind::PrincipalDiagnosisMissing => "PRINCIPAL_DIAGNOSIS_MISSING",
            ViolationKind::DiagnosisNameMissing => "DIAGNOSIS_NAME_MISSING",
            ViolationKind::ProcedureNameMissing => "PROCEDURE_NAME_MISSING",
            ViolationKind::UnknownDiagnosisCode => "UNKNOWN_DIAGNOSIS_CODE",
            ViolationKind::UnknownProcedureCode => "UNKNOWN_PROCEDURE_CODE",
            ViolationKind::AsteriskCodeAlone => "ASTERISK_CODE_ALONE",
            ViolationKind::AdmissionConditionInvalid => "ADMISSION_CONDITION_INVALID",
            ViolationKind::DischargeBeforeAdmission => "DISCHARGE_BEFORE_ADMISSION",
            ViolationKind::BirthAfterAdmission => "BIRTH_AFTER_ADMISSION",
            ViolationKind::SexInvalid => "SEX_INVALID",
            ViolationKind::NegativeAmount => "NEGATIVE_AMOUNT",
            ViolationKind::PaymentIdentity => "PAYMENT_IDENTITY",
            ViolationKind::ChargesTotalMismatch => "CHARGES_TOTAL_MISMATCH",
            ViolationKind::DischargeTypeInvalid => "DISCHARGE_TYPE_INVALID",
            ViolationKind::ReceivingInstitutionMissing => "RECEIVING_INSTITUTION_MISSING",
            ViolationKind::PrincipalAbsentOnAdmission => "PRINCIPAL_ABSENT_ON_ADMISSION",
            ViolationKind::SymptomAsPrincipal => "SYMPTOM_AS_PRINCIPAL",
            ViolationKind::DiagnosisSexConflict => "DIAGNOSIS_SEX_CONFLICT",
            ViolationKind::DiagnosisAgeConflict => "DIAGNOSIS_AGE_CONFLICT",
            ViolationKind::FeeLineAmountMismatch => "FEE_LINE_AMOUNT_MISMATCH",
            ViolationKind::VentilatorHoursExceedStay => "VENTILATOR_HOURS_EXCEED_STAY",
        }
    }

    /// Errors reject the record; warnings flag it.
    pub fn severity(self) -> Severity {
        match self {
            ViolationKind::PrincipalAbsentOnAdmission
            | ViolationKind::SymptomAsPrincipal
            | ViolationKind::DiagnosisSexConflict
            | ViolationKind::DiagnosisAgeConflict
            | ViolationKind::FeeLineAmountMismatch
            | ViolationKind::VentilatorHoursExceedStay => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One violation of one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub hospital_code: String,
    pub list_id: String,
    /// Field path as written on the wire, e.g. `diagnoses[0].code`.
    pub field: String,
    pub kind: ViolationKind,
    /// Human-readable detail (the offending value).
    pub detail: String,
}

impl Violation {
    pub fn reason(&self) -> &'static str {
        self.kind.reason()
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

/// Everything found in one record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub errors: Vec<Violation>,
    pub warnings: Vec<Violation>,
}

impl ValidationReport {
    /// Whether the record is accepted (warnings do not reject).
    pub fn is_accepted(&self) -> bool {
        self.errors.is_empty()
    }

    /// Reason codes of the errors, in the order found.
    pub fn error_reasons(&self) -> Vec<&'static str> {
        self.errors.iter().map(Violation::reason).collect()
    }

    /// Reason codes of the warnings, in the order found.
    pub fn warning_reasons(&self) -> Vec<&'static str> {
        self.warnings.iter().map(Violation::reason).collect()
    }
}

/// Sex as coded on the settlement list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// 1 male, 2 female.
    pub fn from_code(code: u8) -> Option<Sex> {
        match code {
            1 => Some(Sex::Male),
            2 => Some(Sex::Female),
            _ => None,
        }
    }
}

/// A range of 3-character ICD-10 categories, inclusive (`O00`–`O99`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRange {
    pub from: String,
    pub to: String,
}

impl CategoryRange {
    pub fn new(from: &str, to: &str) -> Self {
        Self {
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }

    /// Whether the code's category (its first 3 characters) lies in the range.
    pub fn contains(&self, code: &str) -> bool {
        let category: String = code.chars().take(3).collect::<String>().to_uppercase();
        category.len() == 3 && self.from.as_str() <= category.as_str() && category <= self.to
    }
}

/// Diagnoses that belong to one sex only (NHSA 两库: 诊断与性别不符).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SexRule {
    pub range: CategoryRange,
    pub sex: Sex,
}

/// Diagnoses that belong to an age band only (诊断与年龄不符); ages at admission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRule {
    pub range: CategoryRange,
    #[serde(default)]
    pub min_age_years: Option<u32>,
    #[serde(default)]
    pub max_age_years: Option<u32>,
    #[serde(default)]
    pub max_age_days: Option<u32>,
}

/// Parameters of validation, with DOMAIN.md's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValidationPolicy {
    /// 离院方式 codes accepted (DOMAIN.md §1: 1, 2, 3, 4, 5, 9).
    pub discharge_types: Vec<u8>,
    /// Discharge types that must name a receiving institution (2 ordered transfer, 3 transfer
    /// to community).
    pub transfer_discharge_types: Vec<u8>,
    /// 入院病情 codes accepted (1–4).
    pub admission_conditions: Vec<u8>,
    /// The admission condition that warns when on the principal diagnosis (4 absent).
    pub absent_admission_condition: u8,
    /// Symptom codes that should not be principal while a definite diagnosis is listed.
    pub symptom_range: CategoryRange,
    pub sex_rules: Vec<SexRule>,
    pub age_rules: Vec<AgeRule>,
    /// Whether Σ charge-category amounts must equal the total (domain-formulas.md §10.2 #14).
    pub charges_must_sum_to_total: bool,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        Self {
            discharge_types: vec![1, 2, 3, 4, 5, 9],
            transfer_discharge_types: vec![2, 3],
            admission_conditions: vec![1, 2, 3, 4],
            absent_admission_condition: 4,
            symptom_range: CategoryRange::new("R00", "R99"),
            sex_rules: vec![
                // Pregnancy and childbirth; female genital organs; their neoplasms.
                SexRule {
                    range: CategoryRange::new("O00", "O99"),
                    sex: Sex::Female,
                },
                SexRule {
                    range: CategoryRange::new("N70", "N98"),
                    sex: Sex::Female,
                },
                SexRule {
                    range: CategoryRange::new("C51", "C58"),
                    sex: Sex::Female,
                },
                // Male genital organs and their neoplasms.
                SexRule {
                    range: CategoryRange::new("N40", "N51"),
                    sex: Sex::Male,
                },
                SexRule {
                    range: CategoryRange::new("C60", "C63"),
                    sex: Sex::Male,
                },
            ],
            age_rules: vec![
                // Perinatal conditions are coded in the first year of life.
                AgeRule {
                    range: CategoryRange::new("P00", "P96"),
                    min_age_years: None,
                    max_age_years: None,
                    max_age_days: Some(365),
                },
                // Pregnancy outside reproductive ages.
                AgeRule {
                    range: CategoryRange::new("O00", "O99"),
                    min_age_years: Some(10),
                    max_age_years: Some(60),
                    max_age_days: None,
                },
            ],
            charges_must_sum_to_total: true,
        }
    }
}

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

    fn header(&mut self) {
        let header = self.header;
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
        if FundType::from_code(header.insurance_type).is_err() {
            self.push(
                "header.insutype",
                ViolationKind::InsuranceTypeInvalid,
                format!("{} is neither 310 nor 390", header.insurance_type),
            );
        }
    }

    fn amount(&mut self, field: String, value: Money, refund: bool) {
        // DOMAIN.md §1: amounts non-negative except refund rows.
        if value.is_negative() && !refund {
            self.push(field, ViolationKind::NegativeAmount, value.to_string());
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
            self.amount(format!("payment.{name}"), value, refund);
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
        for (i, diagnosis) in diagnoses.iter().enumerate() {
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
            if check_condition && !policy.admission_conditions.contains(&diagnosis.admission_condition)
            {
                self.push(
                    format!("diagnoses[{i}].admission_condition"),
                    ViolationKind::AdmissionConditionInvalid,
                    diagnosis.admission_condition.to_string(),
                );
            }
        }
    }

    fn fee_lines(&mut self, lines: &[FeeLine], refund_list: bool) {
        for (i, line) in lines.iter().enumerate() {
            let refund = refund_list || line.refund;
            self.amount(
                format!("fee_lines[{i}].det_item_fee_sumamt"),
                line.det_item_fee_sumamt,
                refund,
            );
            self.amount(format!("fee_lines[{i}].inscp_amt"), line.inscp_amt, refund);
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

/// Validates an inpatient settlement list: every rule, every violation.
pub fn validate_list(
    list: &SettlementList,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
) -> ValidationReport {
    let mut c = Collector {
        header: &list.header,
        report: ValidationReport::default(),
    };
    c.header();
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
    if list.patient.birth_date > admission_date {
        c.push(
            "patient.birth_date",
            ViolationKind::BirthAfterAdmission,
            format!("born {} after admission {admission_date}", list.patient.birth_date),
        );
    }

    // Stay.
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
                format!("{} is a symptom while a definite diagnosis is listed", principal.code),
            );
        }
    }
    let age_days = list.age_days_at_admission();
    let years = age_years(list.patient.birth_date, admission_date);
    for (i, diagnosis) in list.diagnoses.iter().enumerate() {
        for part in code_parts(diagnosis.code.trim()) {
            if let Some(sex) = sex {
                if let Some(rule) = policy
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
    for (i, procedure) in list.procedures.iter().enumerate() {
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
    for (i, charge) in list.charges.iter().enumerate() {
        let amounts = [
            ("amount", charge.amount),
            ("class_a", charge.class_a),
            ("class_b", charge.class_b),
            ("self_pay", charge.self_pay),
            ("other", charge.other),
        ];
        for (name, value) in amounts {
            c.amount(format!("charges[{i}].{name}"), value, refund);
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
    c.fee_lines(&list.fee_lines, refund);
    c.report
}

/// Validates an outpatient or pharmacy settlement: header, diagnoses, amounts, payment identity.
pub fn validate_ambulatory(
    settlement: &AmbulatorySettlement,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
) -> ValidationReport {
    let mut c = Collector {
        header: &settlement.header,
        report: ValidationReport::default(),
    };
    c.header();
    c.diagnoses(&settlement.diagnoses, dictionary, policy, false);
    c.payment(&settlement.payment, settlement.header.refund);
    c.fee_lines(&settlement.fee_lines, settlement.header.refund);
    c.report
}

/// Validates a batch; one report per list, in input order, so every bad record is reported.
pub fn validate_batch(
    lists: &[SettlementList],
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
) -> Vec<ValidationReport> {
    lists
        .iter()
        .map(|list| validate_list(list, dictionary, policy))
        .collect()
}
