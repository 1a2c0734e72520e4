//! The case: the settlement list (医疗保障基金结算清单, DOMAIN.md §1) and the outpatient or
//! pharmacy settlement (门诊/药店结算).
//!
//! Field names on the wire are the national platform's where it has one (`setl_id`,
//! `fixmedins_code`, `psn_no`, `insutype`, `med_type`, `medfee_sumamt`, `hifp_pay`, `acct_pay`,
//! `psn_cash_pay`, `fulamt_ownpay_amt`; fee lines `hilist_code`, `list_type`, `med_chrgitm_type`,
//! `pric`, `cnt`, `det_item_fee_sumamt`, `inscp_amt`, `fee_ocur_time`). Coded fields that the
//! validation must be able to reject (sex, discharge type, admission condition, insurance type)
//! are kept as the raw codes received, so that a bad value is reported, not refused by the parser.

use kernel::{Decimal, Money, RegionCode};
use serde::{Deserialize, Serialize};

use kernel::date::{Date, DateTime};

/// The header of every settlement (inpatient, outpatient, pharmacy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListHeader {
    /// 清单流水号: unique only within a hospital.
    #[serde(rename = "setl_id")]
    pub list_id: String,
    /// 定点医疗机构代码.
    #[serde(rename = "fixmedins_code")]
    pub hospital_code: String,
    /// 医保结算等级, as coded by the agency.
    pub hospital_level: String,
    /// 险种 (`insutype`): 310 employee, 390 resident; checked by validation.
    #[serde(rename = "insutype")]
    pub insurance_type: u16,
    /// 医保编号 (pseudonymous person id).
    #[serde(rename = "psn_no")]
    pub person_id: String,
    /// 病案号.
    pub case_number: String,
    /// 申报时间.
    pub declared_at: DateTime,
    /// The pooling region that settles the case.
    pub pooling_region: RegionCode,
    /// 参保地, when it differs from the pooling region (out-of-region case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insured_region: Option<RegionCode>,
    /// The whole settlement is a refund (`refd_setl_flag`): its amounts are negative.
    #[serde(default, rename = "refd_setl_flag")]
    pub refund: bool,
}

/// The patient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// 性别: 1 male, 2 female (checked by validation).
    pub sex: u8,
    pub birth_date: Date,
    pub age_years: u32,
    /// 实足天龄, given when the patient is under one year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u32>,
    /// Newborn birth weight in grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newborn_birth_weight_g: Option<u32>,
    /// Newborn admission weight in grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newborn_admission_weight_g: Option<u32>,
}

/// The stay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stay {
    /// 医疗类别 (`med_type`): e.g. 21 inpatient, 28 day surgery, 2105 per-diem stay.
    pub med_type: String,
    /// 入院途径.
    pub admission_route: String,
    pub admitted_at: DateTime,
    pub admission_department: String,
    pub discharged_at: DateTime,
    pub discharge_department: String,
    /// 离院方式: 1, 2, 3, 4, 5 or 9 (checked by validation).
    pub discharge_type: u8,
    /// 拟接收机构, required for discharge types 2 and 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_institution: Option<String>,
    #[serde(
        default,
        deserialize_with = "kernel::deserialize_decimal",
        serialize_with = "kernel::serialize_decimal"
    )]
    pub ventilator_hours: Decimal,
    #[serde(
        default,
        deserialize_with = "kernel::deserialize_decimal",
        serialize_with = "kernel::serialize_decimal"
    )]
    pub icu_hours: Decimal,
    /// 31天内再住院计划.
    #[serde(default)]
    pub planned_readmission_31d: bool,
}

impl Stay {
    /// Length of stay = discharge date − admission date (DOMAIN.md conventions: 12 Jun → 15 Jun
    /// = 3); negative when the dates are inverted, which validation rejects.
    pub fn length_of_stay(&self) -> i32 {
        self.discharged_at
            .date()
            .days_since(self.admitted_at.date())
    }

    /// Per-diem billable days = max(LOS, 1).
    pub fn billable_days(&self) -> i32 {
        self.length_of_stay().max(1)
    }

    /// Hours from admission to discharge with a started hour counted whole, so that a limit in
    /// whole hours compares the exact time: the day-surgery limit (DOMAIN.md §5 Hainan, ≤ 48 h:
    /// 48:00:00 in, 48:00:01 out) is applied by the points context to this figure, which
    /// settlement's valuation request sends as `stay_hours`. Truncating would let a stay of
    /// 48 h 30 min pass as 48 h.
    pub fn started_hours(&self) -> i64 {
        let seconds = self.discharged_at.seconds_since(self.admitted_at);
        seconds.div_euclid(3600) + i64::from(seconds.rem_euclid(3600) > 0)
    }
}

/// A diagnosis: ICD-10 医保版 2.0 code (dagger-asterisk pairs written `A01.000x005+J17.0*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub code: String,
    pub name: String,
    /// 入院病情: 1 present, 2 clinically unclear, 3 unknown, 4 absent.
    pub admission_condition: u8,
}

/// A procedure: ICD-9-CM-3 医保版 2.0 code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub date: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anaesthesia: Option<String>,
}

/// Charge category of the settlement list's 医疗收费信息.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeCategory {
    /// 床位费.
    Bed,
    /// 诊察费.
    Consultation,
    /// 检查费.
    Examination,
    /// 化验费.
    Laboratory,
    /// 治疗费.
    Treatment,
    /// 手术费.
    Surgery,
    /// 护理费.
    Nursing,
    /// 卫生材料费.
    Consumables,
    /// 西药费.
    WesternDrugs,
    /// 中药饮片费.
    HerbalPieces,
    /// 中成药费.
    ChinesePatentDrugs,
    /// 一般诊疗费.
    GeneralDiagnosis,
    /// 挂号费.
    Registration,
    /// 其他费.
    Other,
}

/// One charge category with its amounts (金额, 甲类, 乙类, 自费, 其他).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCharge {
    pub category: ChargeCategory,
    pub amount: Money,
    #[serde(default)]
    pub class_a: Money,
    #[serde(default)]
    pub class_b: Money,
    #[serde(default)]
    pub self_pay: Money,
    #[serde(default)]
    pub other: Money,
}

/// The payment block. Identity (DOMAIN.md §1): total = Σ funds + personal account + cash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// 医疗总费用.
    #[serde(rename = "medfee_sumamt")]
    pub total: Money,
    /// 统筹基金支出.
    #[serde(rename = "hifp_pay")]
    pub pooled_fund: Money,
    /// 大病保险.
    #[serde(rename = "hifmi_pay", default)]
    pub serious_illness: Money,
    /// 医疗救助.
    #[serde(rename = "maf_pay", default)]
    pub medical_aid: Money,
    /// Other funds (公务员补助, 大额补充, 企业补充, …).
    #[serde(rename = "oth_fund_pay", default)]
    pub other_funds: Money,
    /// 个人账户.
    #[serde(rename = "acct_pay", default)]
    pub personal_account: Money,
    /// 个人现金.
    #[serde(rename = "psn_cash_pay", default)]
    pub personal_cash: Money,
    /// Of the personal part: 全自费 (self-pay).
    #[serde(rename = "fulamt_ownpay_amt", default)]
    pub self_pay: Money,
    /// Of the personal part: 自付 (co-pay).
    #[serde(rename = "copay_amt", default)]
    pub co_pay: Money,
}

impl Payment {
    /// Σ of the fund payments.
    pub fn fund_total(&self) -> Money {
        self.pooled_fund + self.serious_illness + self.medical_aid + self.other_funds
    }

    /// Individual burden (个人负担) = personal account + personal cash: the part of the total
    /// cost the fund does not pay, used by the total-cost point-value basis.
    pub fn individual_burden(&self) -> Money {
        self.personal_account + self.personal_cash
    }

    /// Amount by which the identity total = Σ funds + account + cash misses (zero when it holds).
    pub fn identity_gap(&self) -> Money {
        self.total - self.fund_total() - self.individual_burden()
    }
}

/// Kind of item on a fee line (`list_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ListType {
    /// 101 西药.
    #[serde(rename = "101")]
    WesternDrug,
    /// 102 中药饮片.
    #[serde(rename = "102")]
    HerbalPiece,
    /// 201 诊疗项目.
    #[serde(rename = "201")]
    Service,
    /// 301 医用耗材.
    #[serde(rename = "301")]
    Consumable,
}

/// A fee detail line (费用明细).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    /// 医保目录编码.
    pub hilist_code: String,
    pub list_type: ListType,
    /// 医疗收费项目类别.
    pub med_chrgitm_type: String,
    /// Unit price (may carry more than 2 places).
    #[serde(
        deserialize_with = "kernel::deserialize_decimal",
        serialize_with = "kernel::serialize_decimal"
    )]
    pub pric: Decimal,
    #[serde(
        deserialize_with = "kernel::deserialize_decimal",
        serialize_with = "kernel::serialize_decimal"
    )]
    pub cnt: Decimal,
    /// Line amount.
    pub det_item_fee_sumamt: Money,
    /// In-policy amount (政策范围内金额).
    #[serde(default)]
    pub inscp_amt: Money,
    pub fee_ocur_time: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Refund row (`refd_setl_flag`): amounts are negative and net out the original row.
    #[serde(default, rename = "refd_setl_flag")]
    pub refund: bool,
}

/// An inpatient settlement list, the unit of grouping, valuation and settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementList {
    pub header: ListHeader,
    pub patient: Patient,
    pub stay: Stay,
    /// Principal diagnosis first.
    pub diagnoses: Vec<Diagnosis>,
    /// Principal procedure first.
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    #[serde(default)]
    pub charges: Vec<CategoryCharge>,
    pub payment: Payment,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fee_lines: Vec<FeeLine>,
}

impl SettlementList {
    /// A copy of the list without its fee lines, for a reader of the rest: grouping and
    /// valuation read the stay, the diagnoses, the procedures and the totals, never a line.
    pub fn without_fee_lines(&self) -> Self {
        let Self {
            header,
            patient,
            stay,
            diagnoses,
            procedures,
            charges,
            payment,
            fee_lines: _,
        } = self;
        Self {
            header: header.clone(),
            patient: patient.clone(),
            stay: stay.clone(),
            diagnoses: diagnoses.clone(),
            procedures: procedures.clone(),
            charges: charges.clone(),
            payment: payment.clone(),
            fee_lines: Vec::new(),
        }
    }

    /// The principal diagnosis, if any.
    pub fn principal_diagnosis(&self) -> Option<&Diagnosis> {
        self.diagnoses.first()
    }

    /// Age in whole days at admission, from the birth date (DOMAIN.md: 实足天龄 below one year).
    pub fn age_days_at_admission(&self) -> i32 {
        self.stay
            .admitted_at
            .date()
            .days_since(self.patient.birth_date)
    }
}

/// Kind of an ambulatory settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmbulatoryKind {
    Outpatient,
    /// 门诊慢特病.
    ChronicOutpatient,
    Pharmacy,
}

/// An outpatient or pharmacy settlement (门诊/药店结算): supervision needs these to see costs
/// moved out of a stay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmbulatorySettlement {
    pub header: ListHeader,
    pub kind: AmbulatoryKind,
    /// 医疗类别 (`med_type`): 11 outpatient, 14 chronic outpatient, 41 pharmacy.
    pub med_type: String,
    pub settled_at: DateTime,
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    pub payment: Payment,
    #[serde(default)]
    pub fee_lines: Vec<FeeLine>,
    /// Procedure codes (ICD-9-CM-3) of an outpatient visit: what its APG points are valued from.
    /// Left out of the stored JSON when empty, so records stored before keep their content hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procedures: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(admitted_at: &str, discharged_at: &str) -> Stay {
        Stay {
            med_type: "21".into(),
            admission_route: "2".into(),
            admitted_at: admitted_at.parse().expect("admission time"),
            admission_department: "surgery".into(),
            discharged_at: discharged_at.parse().expect("discharge time"),
            discharge_department: "surgery".into(),
            discharge_type: 1,
            receiving_institution: None,
            ventilator_hours: Decimal::ZERO,
            icu_hours: Decimal::ZERO,
            planned_readmission_31d: false,
        }
    }

    #[test]
    fn a_started_hour_counts_whole_so_the_48_hour_limit_is_exact() {
        let hours = |from: &str, to: &str| stay(from, to).started_hours();
        assert_eq!(hours("2025-03-10 08:00:00", "2025-03-12 08:00:00"), 48);
        assert_eq!(hours("2025-03-10 08:00:00", "2025-03-12 08:00:01"), 49);
        assert_eq!(hours("2025-03-10 08:00", "2025-03-12 08:30"), 49);
        assert_eq!(hours("2025-03-10 08:30", "2025-03-11 17:00"), 33);
        assert_eq!(hours("2025-03-10 08:30", "2025-03-10 08:30"), 0);
        assert_eq!(hours("2025-03-10 08:30", "2025-03-10 08:31"), 1);
    }
}
