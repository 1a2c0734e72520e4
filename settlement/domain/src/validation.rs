//! Validation of settlement lists (DOMAIN.md §1; domain-formulas.md §10.2): every rule is checked
//! and every violation reported with the list, the field path as the list is written on the wire
//! (e.g. `diagnoses[0].code`, `payment.medfee_sumamt`) and a stable reason code.
//!
//! Errors reject the record; warnings accept it and flag it for the data-quality indicators.
//!
//! Bounds: every text field has the length of the national settlement-list upload interface
//! (医疗保障基金结算清单, [`limits`]), counted in characters; every list has a maximum count; and
//! no date lies after `today`, which the caller passes in (the agency's date, from the service's
//! clock), so that validation stays pure and its tests deterministic.
//! The code dictionaries come through the [`CodeDictionary`] port; the sex and age conflict lists
//! and the code sets are fields of [`ValidationPolicy`].

use kernel::{Decimal, FundType, Money, round_money};
use serde::{Deserialize, Serialize};

use crate::case::{AmbulatorySettlement, Diagnosis, FeeLine, ListHeader, Payment, SettlementList};
use crate::ports::CodeDictionary;
use kernel::date::Date;

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
    FieldTooLong,
    TooManyEntries,
    DateInFuture,
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
            ViolationKind::FieldTooLong => "FIELD_TOO_LONG",
            ViolationKind::TooManyEntries => "TOO_MANY_ENTRIES",
            ViolationKind::DateInFuture => "DATE_IN_FUTURE",
            ViolationKind::PrincipalAbsentOnAdmission => "PRINCIPAL_ABSENT_ON_ADMISSION",
            ViolationKind::SymptomAsPrincipal => "SYMPTOM_AS_PRINCIPAL",
            ViolationKind::DiagnosisSexConflict => "DIAGNOSIS_SEX_CONFLICT",
            ViolationKind::DiagnosisAgeConflict => "DIAGNOSIS_AGE_CONFLICT",
            ViolationKind::FeeLineAmountMismatch => "FEE_LINE_AMOUNT_MISMATCH",
            ViolationKind::VentilatorHoursExceedStay => "VENTILATOR_HOURS_EXCEED_STAY",
        }
    }

    /// The kind with this reason code.
    pub fn from_reason(reason: &str) -> Option<ViolationKind> {
        ALL_KINDS.iter().copied().find(|k| k.reason() == reason)
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

/// Every kind, for look-ups by reason code.
pub const ALL_KINDS: [ViolationKind; 27] = [
    ViolationKind::ListIdMissing,
    ViolationKind::HospitalCodeMissing,
    ViolationKind::InsuranceTypeInvalid,
    ViolationKind::PrincipalDiagnosisMissing,
    ViolationKind::DiagnosisNameMissing,
    ViolationKind::ProcedureNameMissing,
    ViolationKind::UnknownDiagnosisCode,
    ViolationKind::UnknownProcedureCode,
    ViolationKind::AsteriskCodeAlone,
    ViolationKind::AdmissionConditionInvalid,
    ViolationKind::DischargeBeforeAdmission,
    ViolationKind::BirthAfterAdmission,
    ViolationKind::SexInvalid,
    ViolationKind::NegativeAmount,
    ViolationKind::PaymentIdentity,
    ViolationKind::ChargesTotalMismatch,
    ViolationKind::DischargeTypeInvalid,
    ViolationKind::ReceivingInstitutionMissing,
    ViolationKind::FieldTooLong,
    ViolationKind::TooManyEntries,
    ViolationKind::DateInFuture,
    ViolationKind::PrincipalAbsentOnAdmission,
    ViolationKind::SymptomAsPrincipal,
    ViolationKind::DiagnosisSexConflict,
    ViolationKind::DiagnosisAgeConflict,
    ViolationKind::FeeLineAmountMismatch,
    ViolationKind::VentilatorHoursExceedStay,
];

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
    /// The fund of the record's insurance type; `None` only when that is an error.
    #[serde(skip)]
    pub fund: Option<FundType>,
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

/// Field lengths (in characters) and counts a record may not exceed. Lengths are those of the
/// national settlement-list upload interface (医疗保障基金结算清单 4101A: `setl_id`,
/// `fixmedins_code`, `psn_no` 30; `medcasno` 40; code fields 30; names 200; the 医保目录编码
/// `hilist_code` 50); departments, which this project writes as names (`general_surgery`), take
/// 50. Counts have room for the longest real lists (a stay of several months has some thousands
/// of fee lines).
pub mod limits {
    /// `setl_id` (清单流水号).
    pub const LIST_ID: usize = 30;
    /// `fixmedins_code` (定点医疗机构代码).
    pub const HOSPITAL_CODE: usize = 30;
    /// `psn_no` (医保编号).
    pub const PERSON_ID: usize = 30;
    /// `medcasno` (病案号).
    pub const CASE_NUMBER: usize = 40;
    /// Short codes: settlement level, medical type, admission route, charge item type.
    pub const CODE: usize = 30;
    /// Diagnosis and procedure codes (dagger-asterisk pairs included).
    pub const CLINICAL_CODE: usize = 30;
    /// 医保目录编码 of a fee line.
    pub const ITEM_CODE: usize = 50;
    /// Departments and anaesthesia.
    pub const DEPARTMENT: usize = 50;
    /// Names and the receiving institution.
    pub const NAME: usize = 200;
    pub const DIAGNOSES: usize = 100;
    pub const PROCEDURES: usize = 100;
    /// Charge categories (14 kinds; a category may be split into rows).
    pub const CHARGES: usize = 50;
    pub const FEE_LINES: usize = 20_000;
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

    /// A text field of at most `max` characters.
    fn text(&mut self, field: impl Into<String>, value: &str, max: usize) {
        let length = value.chars().count();
        if length > max {
            self.push(
                field,
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
    fn not_future(&mut self, field: impl Into<String>, date: Date, today: Date) {
        if date > today {
            self.push(
                field,
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
        self.count("diagnoses", diagnoses.len(), limits::DIAGNOSES);
        for (i, diagnosis) in diagnoses.iter().enumerate() {
            self.text(
                format!("diagnoses[{i}].code"),
                &diagnosis.code,
                limits::CLINICAL_CODE,
            );
            self.text(
                format!("diagnoses[{i}].name"),
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
                format!("fee_lines[{i}].hilist_code"),
                &line.hilist_code,
                limits::ITEM_CODE,
            );
            self.text(
                format!("fee_lines[{i}].med_chrgitm_type"),
                &line.med_chrgitm_type,
                limits::CODE,
            );
            if let Some(department) = &line.department {
                self.text(
                    format!("fee_lines[{i}].department"),
                    department,
                    limits::DEPARTMENT,
                );
            }
            self.not_future(
                format!("fee_lines[{i}].fee_ocur_time"),
                line.fee_ocur_time.date(),
                today,
            );
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
            format!("procedures[{i}].code"),
            &procedure.code,
            limits::CLINICAL_CODE,
        );
        c.text(
            format!("procedures[{i}].name"),
            &procedure.name,
            limits::NAME,
        );
        if let Some(anaesthesia) = &procedure.anaesthesia {
            c.text(
                format!("procedures[{i}].anaesthesia"),
                anaesthesia,
                limits::DEPARTMENT,
            );
        }
        c.not_future(format!("procedures[{i}].date"), procedure.date, today);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{AmbulatoryKind, SettlementList};
    use crate::fixtures::{SetDictionary, valid_list};
    use crate::ports::MockCodeDictionary;
    use rust_decimal_macros::dec;

    fn check(list: &SettlementList) -> ValidationReport {
        validate_list(
            list,
            &SetDictionary::standard(),
            &ValidationPolicy::default(),
            today(),
        )
    }

    /// The agency's date in these tests: after every date of the fixture.
    fn today() -> Date {
        "2025-07-01".parse().expect("test date")
    }

    fn dt(s: &str) -> kernel::date::DateTime {
        s.parse().expect("test date-time")
    }

    type Mutation = fn(&mut SettlementList);

    /// (rule, mutation that breaks it, mutation that keeps it): each rule both ways.
    fn cases() -> Vec<(&'static str, &'static str, Mutation, Mutation)> {
        vec![
            (
                "LIST_ID_MISSING",
                "header.setl_id",
                |l| l.header.list_id = " ".into(),
                |l| l.header.list_id = "X".into(),
            ),
            (
                "HOSPITAL_CODE_MISSING",
                "header.fixmedins_code",
                |l| l.header.hospital_code.clear(),
                |l| l.header.hospital_code = "H2".into(),
            ),
            (
                "INSURANCE_TYPE_INVALID",
                "header.insutype",
                |l| l.header.insurance_type = 340,
                |l| l.header.insurance_type = 390,
            ),
            (
                "PRINCIPAL_DIAGNOSIS_MISSING",
                "diagnoses[0].code",
                |l| l.diagnoses.clear(),
                |l| l.diagnoses.truncate(1),
            ),
            (
                "PRINCIPAL_DIAGNOSIS_MISSING",
                "diagnoses[0].code",
                |l| l.diagnoses[0].code = "  ".into(),
                |_| {},
            ),
            (
                "DIAGNOSIS_NAME_MISSING",
                "diagnoses[1].name",
                |l| l.diagnoses[1].name.clear(),
                |l| l.diagnoses[1].name = "x".into(),
            ),
            (
                "PROCEDURE_NAME_MISSING",
                "procedures[0].name",
                |l| l.procedures[0].name.clear(),
                |_| {},
            ),
            (
                "UNKNOWN_DIAGNOSIS_CODE",
                "diagnoses[1].code",
                |l| l.diagnoses[1].code = "X99.999".into(),
                |l| l.diagnoses[1].code = "K35.800".into(),
            ),
            (
                "UNKNOWN_PROCEDURE_CODE",
                "procedures[0].code",
                |l| l.procedures[0].code = "99.9999".into(),
                |_| {},
            ),
            (
                "ASTERISK_CODE_ALONE",
                "diagnoses[1].code",
                |l| l.diagnoses[1].code = "J17.0*".into(),
                |l| l.diagnoses[1].code = "A01.000x005+J17.0*".into(),
            ),
            (
                "ADMISSION_CONDITION_INVALID",
                "diagnoses[1].admission_condition",
                |l| l.diagnoses[1].admission_condition = 5,
                |l| l.diagnoses[1].admission_condition = 4,
            ),
            (
                "ADMISSION_CONDITION_INVALID",
                "diagnoses[1].admission_condition",
                |l| l.diagnoses[1].admission_condition = 0,
                |l| l.diagnoses[1].admission_condition = 2,
            ),
            (
                "DISCHARGE_BEFORE_ADMISSION",
                "stay.discharged_at",
                |l| l.stay.discharged_at = dt("2025-06-12 08:29"),
                |l| l.stay.discharged_at = dt("2025-06-12 08:30"),
            ),
            (
                "BIRTH_AFTER_ADMISSION",
                "patient.birth_date",
                |l| l.patient.birth_date = "2025-06-13".parse().expect("d"),
                |l| {
                    l.patient.birth_date = "2025-06-12".parse().expect("d");
                    l.diagnoses.truncate(1);
                },
            ),
            (
                "SEX_INVALID",
                "patient.sex",
                |l| l.patient.sex = 0,
                |l| l.patient.sex = 1,
            ),
            ("SEX_INVALID", "patient.sex", |l| l.patient.sex = 3, |_| {}),
            (
                "NEGATIVE_AMOUNT",
                "charges[1].self_pay",
                |l| l.charges[1].self_pay = Money::round(dec!(-0.01)),
                |l| l.charges[1].self_pay = Money::ZERO,
            ),
            (
                "NEGATIVE_AMOUNT",
                "fee_lines[0].inscp_amt",
                |l| l.fee_lines[0].inscp_amt = Money::round(dec!(-1)),
                |l| {
                    l.fee_lines[0].inscp_amt = Money::round(dec!(-1));
                    l.fee_lines[0].refund = true;
                },
            ),
            (
                "PAYMENT_IDENTITY",
                "payment.medfee_sumamt",
                |l| l.payment.personal_cash = Money::round(dec!(2000.01)),
                |l| {
                    l.payment.personal_cash = Money::round(dec!(1999.99));
                    l.payment.medical_aid = Money::round(dec!(0.01));
                },
            ),
            (
                "CHARGES_TOTAL_MISMATCH",
                "charges",
                |l| l.charges[2].amount = Money::round(dec!(1999.99)),
                |l| l.charges.clear(),
            ),
            (
                "DISCHARGE_TYPE_INVALID",
                "stay.discharge_type",
                |l| l.stay.discharge_type = 6,
                |l| l.stay.discharge_type = 9,
            ),
            (
                "DISCHARGE_TYPE_INVALID",
                "stay.discharge_type",
                |l| l.stay.discharge_type = 0,
                |l| l.stay.discharge_type = 5,
            ),
            (
                "RECEIVING_INSTITUTION_MISSING",
                "stay.receiving_institution",
                |l| l.stay.discharge_type = 2,
                |l| {
                    l.stay.discharge_type = 2;
                    l.stay.receiving_institution = Some("H46010002".into());
                },
            ),
            (
                "RECEIVING_INSTITUTION_MISSING",
                "stay.receiving_institution",
                |l| {
                    l.stay.discharge_type = 3;
                    l.stay.receiving_institution = Some(" ".into());
                },
                |l| l.stay.discharge_type = 4,
            ),
            // warnings
            (
                "PRINCIPAL_ABSENT_ON_ADMISSION",
                "diagnoses[0].admission_condition",
                |l| l.diagnoses[0].admission_condition = 4,
                |l| l.diagnoses[0].admission_condition = 3,
            ),
            (
                "SYMPTOM_AS_PRINCIPAL",
                "diagnoses[0].code",
                |l| l.diagnoses[0].code = "R10.400".into(),
                |l| {
                    l.diagnoses[0].code = "R10.400".into();
                    l.diagnoses.truncate(1);
                },
            ),
            (
                "DIAGNOSIS_SEX_CONFLICT",
                "diagnoses[1].code",
                |l| {
                    l.diagnoses[1].code = "O80.000".into();
                    l.patient.sex = 1;
                },
                |l| l.diagnoses[1].code = "O80.000".into(),
            ),
            (
                "DIAGNOSIS_SEX_CONFLICT",
                "diagnoses[1].code",
                |l| l.diagnoses[1].code = "N40.x00".into(),
                |l| {
                    l.diagnoses[1].code = "N40.x00".into();
                    l.patient.sex = 1;
                },
            ),
            // P-codes: day 365 of life is inside the first year, day 366 is not.
            (
                "DIAGNOSIS_AGE_CONFLICT",
                "diagnoses[1].code",
                |l| {
                    l.diagnoses[1].code = "P59.900".into();
                    l.patient.birth_date = "2024-06-11".parse().expect("d");
                },
                |l| {
                    l.diagnoses[1].code = "P59.900".into();
                    l.patient.birth_date = "2024-06-12".parse().expect("d");
                },
            ),
            (
                "DIAGNOSIS_AGE_CONFLICT",
                "diagnoses[1].code",
                |l| {
                    l.diagnoses[1].code = "O80.000".into();
                    l.patient.birth_date = "2016-06-13".parse().expect("d");
                },
                |l| {
                    l.diagnoses[1].code = "O80.000".into();
                    l.patient.birth_date = "2015-06-12".parse().expect("d");
                },
            ),
            (
                "FEE_LINE_AMOUNT_MISMATCH",
                "fee_lines[0].det_item_fee_sumamt",
                |l| l.fee_lines[0].cnt = dec!(5),
                |l| {
                    l.fee_lines[0].pric = dec!(16.6667);
                    l.fee_lines[0].cnt = dec!(3);
                },
            ),
            (
                "VENTILATOR_HOURS_EXCEED_STAY",
                "stay.ventilator_hours",
                |l| l.stay.ventilator_hours = dec!(72.5),
                |l| l.stay.ventilator_hours = dec!(72),
            ),
            // Bounds: one over the limit refused, the limit itself accepted.
            (
                "FIELD_TOO_LONG",
                "header.setl_id",
                |l| l.header.list_id = "9".repeat(limits::LIST_ID + 1),
                |l| l.header.list_id = "9".repeat(limits::LIST_ID),
            ),
            (
                "FIELD_TOO_LONG",
                "header.fixmedins_code",
                |l| l.header.hospital_code = "H".repeat(limits::HOSPITAL_CODE + 1),
                |l| l.header.hospital_code = "H".repeat(limits::HOSPITAL_CODE),
            ),
            (
                "FIELD_TOO_LONG",
                "header.psn_no",
                |l| l.header.person_id = "P".repeat(limits::PERSON_ID + 1),
                |l| l.header.person_id = "P".repeat(limits::PERSON_ID),
            ),
            (
                "FIELD_TOO_LONG",
                "diagnoses[1].name",
                // Counted in characters, not bytes.
                |l| l.diagnoses[1].name = "高".repeat(limits::NAME + 1),
                |l| l.diagnoses[1].name = "高".repeat(limits::NAME),
            ),
            (
                "FIELD_TOO_LONG",
                "procedures[0].name",
                |l| l.procedures[0].name = "术".repeat(limits::NAME + 1),
                |l| l.procedures[0].name = "术".repeat(limits::NAME),
            ),
            (
                "FIELD_TOO_LONG",
                "stay.discharge_department",
                |l| l.stay.discharge_department = "d".repeat(limits::DEPARTMENT + 1),
                |l| l.stay.discharge_department = "d".repeat(limits::DEPARTMENT),
            ),
            (
                "FIELD_TOO_LONG",
                "fee_lines[0].hilist_code",
                |l| l.fee_lines[0].hilist_code = "X".repeat(limits::ITEM_CODE + 1),
                |l| l.fee_lines[0].hilist_code = "X".repeat(limits::ITEM_CODE),
            ),
            (
                "TOO_MANY_ENTRIES",
                "diagnoses",
                |l| {
                    let other = l.diagnoses[1].clone();
                    l.diagnoses.resize(limits::DIAGNOSES + 1, other);
                },
                |l| {
                    let other = l.diagnoses[1].clone();
                    l.diagnoses.resize(limits::DIAGNOSES, other);
                },
            ),
            (
                "TOO_MANY_ENTRIES",
                "procedures",
                |l| {
                    let first = l.procedures[0].clone();
                    l.procedures.resize(limits::PROCEDURES + 1, first);
                },
                |l| {
                    let first = l.procedures[0].clone();
                    l.procedures.resize(limits::PROCEDURES, first);
                },
            ),
            (
                "TOO_MANY_ENTRIES",
                "fee_lines",
                |l| {
                    let first = l.fee_lines[0].clone();
                    l.fee_lines.resize(limits::FEE_LINES + 1, first);
                },
                |l| {
                    let first = l.fee_lines[0].clone();
                    l.fee_lines.resize(limits::FEE_LINES, first);
                },
            ),
            // Dates: nothing after today (2025-07-01 in these tests).
            (
                "DATE_IN_FUTURE",
                "stay.discharged_at",
                |l| l.stay.discharged_at = dt("2025-07-02 09:00"),
                |l| l.stay.discharged_at = dt("2025-07-01 23:59"),
            ),
            (
                "DATE_IN_FUTURE",
                "header.declared_at",
                |l| l.header.declared_at = dt("2025-07-02 09:00"),
                |l| l.header.declared_at = dt("2025-07-01 09:00"),
            ),
            (
                "DATE_IN_FUTURE",
                "procedures[0].date",
                |l| l.procedures[0].date = "2025-07-02".parse().expect("date"),
                |l| l.procedures[0].date = "2025-06-13".parse().expect("date"),
            ),
            (
                "DATE_IN_FUTURE",
                "fee_lines[0].fee_ocur_time",
                |l| l.fee_lines[0].fee_ocur_time = dt("2025-07-02 09:00"),
                |l| l.fee_lines[0].fee_ocur_time = dt("2025-06-13 09:00"),
            ),
        ]
    }

    #[test]
    fn the_fixture_is_clean() {
        let report = check(&valid_list());
        assert_eq!(
            report,
            ValidationReport {
                fund: Some(FundType::Employee),
                ..ValidationReport::default()
            }
        );
        assert!(report.is_accepted());
    }

    #[test]
    fn every_rule_both_ways() {
        for (reason, field, breaks, keeps) in cases() {
            let mut broken = valid_list();
            breaks(&mut broken);
            let report = check(&broken);
            let all: Vec<&Violation> = report.errors.iter().chain(&report.warnings).collect();
            assert!(
                all.iter().any(|v| v.reason() == reason && v.field == field),
                "{reason} at {field} expected, got {all:?}"
            );
            let is_error = ViolationKind::from_reason(reason).map(ViolationKind::severity)
                == Some(Severity::Error);
            assert_eq!(report.is_accepted(), !is_error, "{reason}");
            assert!(all.iter().all(|v| v.list_id == broken.header.list_id));

            let mut kept = valid_list();
            keeps(&mut kept);
            let report = check(&kept);
            assert!(
                report
                    .errors
                    .iter()
                    .chain(&report.warnings)
                    .all(|v| v.reason() != reason),
                "{reason} not expected after the keeping change, got {report:?}"
            );
        }
    }

    #[test]
    fn every_violation_of_a_record_is_reported_at_once() {
        let mut list = valid_list();
        list.patient.sex = 7;
        list.stay.discharge_type = 2;
        list.diagnoses[0].code = "J17.0*".into();
        list.diagnoses[1].code = "Q99.999".into();
        list.payment.total = Money::round(dec!(12000.01));
        let report = check(&list);
        assert_eq!(
            report.error_reasons(),
            vec![
                "SEX_INVALID",
                "RECEIVING_INSTITUTION_MISSING",
                "ASTERISK_CODE_ALONE",
                "UNKNOWN_DIAGNOSIS_CODE",
                "CHARGES_TOTAL_MISMATCH",
                "PAYMENT_IDENTITY",
            ]
        );
        assert_eq!(report.errors[3].field, "diagnoses[1].code");
        assert_eq!(report.errors[5].field, "payment.medfee_sumamt");
    }

    #[test]
    fn refund_settlements_may_carry_negative_amounts() {
        let mut list = valid_list();
        list.header.refund = true;
        list.charges.clear();
        list.fee_lines.clear();
        list.payment.total = Money::round(dec!(-12000));
        list.payment.pooled_fund = Money::round(dec!(-8400));
        list.payment.serious_illness = Money::round(dec!(-600));
        list.payment.personal_account = Money::round(dec!(-1000));
        list.payment.personal_cash = Money::round(dec!(-2000));
        list.payment.self_pay = Money::ZERO;
        list.payment.co_pay = Money::ZERO;
        assert_eq!(check(&list).error_reasons(), Vec::<&str>::new());
        list.header.refund = false;
        assert_eq!(check(&list).error_reasons().len(), 5);
    }

    #[test]
    fn the_dictionary_port_is_asked_for_every_code() {
        let mut dictionary = MockCodeDictionary::new();
        dictionary
            .expect_has_diagnosis()
            .times(2)
            .returning(|code| code != "I10.x00");
        dictionary
            .expect_has_procedure()
            .withf(|code| code == "47.0100x001")
            .times(1)
            .return_const(true);
        let report = validate_list(
            &valid_list(),
            &dictionary,
            &ValidationPolicy::default(),
            today(),
        );
        assert_eq!(report.error_reasons(), vec!["UNKNOWN_DIAGNOSIS_CODE"]);
        assert_eq!(report.errors[0].field, "diagnoses[1].code");
    }

    #[test]
    fn los_and_billable_days() {
        let mut list = valid_list();
        assert_eq!(list.stay.length_of_stay(), 3);
        assert_eq!(list.stay.billable_days(), 3);
        list.stay.discharged_at = dt("2025-06-12 18:00");
        assert_eq!(list.stay.length_of_stay(), 0);
        assert_eq!(list.stay.billable_days(), 1);
    }

    #[test]
    fn ambulatory_settlements_are_checked_too() {
        let list = valid_list();
        let mut settlement = AmbulatorySettlement {
            header: list.header.clone(),
            kind: AmbulatoryKind::Pharmacy,
            med_type: "41".into(),
            settled_at: dt("2025-06-13 11:00"),
            diagnoses: vec![list.diagnoses[1].clone()],
            payment: list.payment.clone(),
            fee_lines: list.fee_lines.clone(),
        };
        let dictionary = SetDictionary::standard();
        let policy = ValidationPolicy::default();
        assert!(validate_ambulatory(&settlement, &dictionary, &policy, today()).is_accepted());
        settlement.header.insurance_type = 1;
        settlement.payment.pooled_fund = Money::round(dec!(-1));
        assert_eq!(
            validate_ambulatory(&settlement, &dictionary, &policy, today()).error_reasons(),
            vec![
                "INSURANCE_TYPE_INVALID",
                "NEGATIVE_AMOUNT",
                "PAYMENT_IDENTITY"
            ]
        );
    }

    #[test]
    fn a_far_future_discharge_is_refused_with_each_date_named() {
        let mut list = valid_list();
        // 200 days after today.
        list.stay.admitted_at = dt("2026-01-16 08:00");
        list.stay.discharged_at = dt("2026-01-17 08:00");
        let report = check(&list);
        let future: Vec<&str> = report
            .errors
            .iter()
            .filter(|v| v.kind == ViolationKind::DateInFuture)
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(future, ["stay.admitted_at", "stay.discharged_at"]);
        assert!(!report.is_accepted());
    }

    #[test]
    fn admission_after_discharge_and_birth_after_admission_are_refused() {
        let mut list = valid_list();
        list.stay.admitted_at = dt("2025-06-16 08:00");
        list.patient.birth_date = "2025-06-17".parse().expect("date");
        let report = check(&list);
        let found: Vec<(&str, &str)> = report
            .errors
            .iter()
            .map(|v| (v.reason(), v.field.as_str()))
            .collect();
        assert!(found.contains(&("DISCHARGE_BEFORE_ADMISSION", "stay.discharged_at")));
        assert!(found.contains(&("BIRTH_AFTER_ADMISSION", "patient.birth_date")));
        // A newborn admitted on the day of birth is a real case.
        let mut newborn = valid_list();
        newborn.patient.birth_date = newborn.stay.admitted_at.date();
        assert!(
            check(&newborn)
                .errors
                .iter()
                .all(|v| v.kind != ViolationKind::BirthAfterAdmission)
        );
    }

    #[test]
    fn ambulatory_bounds_and_dates_are_checked() {
        let list = valid_list();
        let mut settlement = AmbulatorySettlement {
            header: list.header.clone(),
            kind: AmbulatoryKind::Outpatient,
            med_type: "11".into(),
            settled_at: dt("2025-07-01 11:00"),
            diagnoses: vec![list.diagnoses[1].clone()],
            payment: list.payment.clone(),
            fee_lines: list.fee_lines.clone(),
        };
        let dictionary = SetDictionary::standard();
        let policy = ValidationPolicy::default();
        assert!(validate_ambulatory(&settlement, &dictionary, &policy, today()).is_accepted());
        settlement.settled_at = dt("2025-07-02 11:00");
        settlement.header.list_id = "9".repeat(limits::LIST_ID + 1);
        settlement.diagnoses[0].name = "x".repeat(limits::NAME + 1);
        let first = settlement.fee_lines[0].clone();
        settlement.fee_lines.resize(limits::FEE_LINES + 1, first);
        let report = validate_ambulatory(&settlement, &dictionary, &policy, today());
        let found: Vec<(&str, &str)> = report
            .errors
            .iter()
            .map(|v| (v.reason(), v.field.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("FIELD_TOO_LONG", "header.setl_id"),
                ("DATE_IN_FUTURE", "settled_at"),
                ("FIELD_TOO_LONG", "diagnoses[0].name"),
                ("TOO_MANY_ENTRIES", "fee_lines"),
            ]
        );
    }

    #[test]
    fn batches_report_every_record() {
        let mut bad = valid_list();
        bad.patient.sex = 9;
        let reports = validate_batch(
            &[valid_list(), bad, valid_list()],
            &SetDictionary::standard(),
            &ValidationPolicy::default(),
            today(),
        );
        let accepted: Vec<bool> = reports.iter().map(ValidationReport::is_accepted).collect();
        assert_eq!(accepted, vec![true, false, true]);
    }

    #[test]
    fn policy_lists_drive_the_conflicts() {
        let mut list = valid_list();
        list.diagnoses[1].code = "N40.x00".into();
        let mut policy = ValidationPolicy::default();
        assert_eq!(
            validate_list(&list, &SetDictionary::standard(), &policy, today()).warning_reasons(),
            vec!["DIAGNOSIS_SEX_CONFLICT"]
        );
        policy.sex_rules.clear();
        assert!(
            validate_list(&list, &SetDictionary::standard(), &policy, today())
                .warnings
                .is_empty()
        );
        let json = serde_json::to_string(&ValidationPolicy::default()).expect("json");
        let back: ValidationPolicy = serde_json::from_str(&json).expect("back");
        assert_eq!(back, ValidationPolicy::default());
    }
}
