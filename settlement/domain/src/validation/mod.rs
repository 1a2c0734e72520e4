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
//! The code dictionaries come through the [`crate::ports::CodeDictionary`] port; the sex and age conflict lists
//! and the code sets are fields of [`ValidationPolicy`].

use kernel::FundType;
use serde::{Deserialize, Serialize};

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

mod rules;
#[cfg(test)]
mod tests;

pub use rules::{validate_ambulatory, validate_batch, validate_list};
