//! What screening reads: inpatient settlement lists with their fee lines, and the ambulatory
//! (outpatient, chronic-outpatient, pharmacy) settlements of the same people (DOMAIN.md §1, §6).
//!
//! These are supervision's own mirrors of the ledger's records; the service fills them through a
//! contract, so nothing here names another context's types.

use kernel::{Date, DateTime, Decimal, FundType, Money, RegionCode};
use serde::{Deserialize, Serialize};

/// A settlement named the way findings export it: the institution's code and its settlement or
/// list id (`fixmedins_code`, `setl_id`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SettlementKey {
    pub hospital: String,
    pub id: String,
}

impl SettlementKey {
    pub fn new(hospital: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            hospital: hospital.into(),
            id: id.into(),
        }
    }
}

/// Sex as the list records it (1 male, 2 female).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

/// 离院方式, the list's discharge type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DischargeType {
    /// 1 医嘱离院
    Ordered,
    /// 2 医嘱转院
    OrderedTransfer,
    /// 3 医嘱转社区卫生服务机构/乡镇卫生院
    TransferToCommunity,
    /// 4 非医嘱离院
    AgainstAdvice,
    /// 5 死亡
    Death,
    /// 9 其他
    Other,
}

impl DischargeType {
    pub fn code(self) -> u8 {
        match self {
            DischargeType::Ordered => 1,
            DischargeType::OrderedTransfer => 2,
            DischargeType::TransferToCommunity => 3,
            DischargeType::AgainstAdvice => 4,
            DischargeType::Death => 5,
            DischargeType::Other => 9,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => DischargeType::Ordered,
            2 => DischargeType::OrderedTransfer,
            3 => DischargeType::TransferToCommunity,
            4 => DischargeType::AgainstAdvice,
            5 => DischargeType::Death,
            9 => DischargeType::Other,
            _ => return None,
        })
    }
}

/// 收费类别 (`med_chrgitm_type`), the national two-digit charge category of a fee line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChargeCategory(pub u8);

impl ChargeCategory {
    pub const BED: Self = Self(1);
    pub const CONSULTATION: Self = Self(2);
    pub const EXAMINATION: Self = Self(3);
    pub const LABORATORY: Self = Self(4);
    pub const TREATMENT: Self = Self(5);
    /// Surgery; anaesthesia is billed inside it.
    pub const SURGERY: Self = Self(6);
    pub const NURSING: Self = Self(7);
    pub const CONSUMABLES: Self = Self(8);
    pub const WESTERN_DRUGS: Self = Self(9);
    pub const HERBAL_PIECES: Self = Self(10);
    pub const PATENT_CHINESE_DRUGS: Self = Self(11);
    pub const GENERAL_DIAGNOSIS: Self = Self(12);
    pub const REGISTRATION: Self = Self(13);
    pub const OTHER: Self = Self(14);

    /// Reads `"03"` or `"3"`.
    pub fn parse(text: &str) -> Option<Self> {
        let code: u8 = text.trim().parse().ok()?;
        (1..=14).contains(&code).then_some(Self(code))
    }

    /// Examinations and laboratory tests, the costs rules 4 and 7 weigh.
    pub fn is_exam_or_lab(self) -> bool {
        self == Self::EXAMINATION || self == Self::LABORATORY
    }
}

/// One fee detail line (费用明细). Its position in its settlement's lines, 1-based and in file
/// order, is how a finding names it (`feedetl_sn`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    /// `hilist_code`
    pub item_code: String,
    pub item_name: String,
    pub category: ChargeCategory,
    pub quantity: Decimal,
    /// Unit prices carry up to 4 places on the national platform, so not [`Money`].
    pub unit_price: Decimal,
    /// `det_item_fee_sumamt`
    pub amount: Money,
    /// `inscp_amt`, the in-policy part: what a violation amount is made of.
    pub in_policy_amount: Money,
    pub charged_at: DateTime,
}

impl FeeLine {
    pub fn date(&self) -> Date {
        self.charged_at.date()
    }

    /// The in-policy amount of one unit, unrounded (rule 12 prices only the excess units).
    pub fn in_policy_unit_amount(&self) -> Decimal {
        if self.quantity.is_zero() {
            Decimal::ZERO
        } else {
            self.in_policy_amount.value() / self.quantity
        }
    }
}

/// What the grouper counted a secondary diagnosis as: after the principal's exclusions (DRG), or
/// in the comorbidity index that set the subtype (DIP).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Complication {
    #[default]
    None,
    /// 一般并发症或合并症
    Cc,
    /// 严重并发症或合并症
    Mcc,
    /// DIP: a comorbidity of the Charlson index whose band set the case's auxiliary subtype (and
    /// so raised its score).
    Cci,
}

/// A DIP group (按病种分值) as grouping reported it for a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DipGroup {
    /// The group code, e.g. `K35.8:47.0100x001`.
    pub code: String,
    /// The group's treatment type.
    pub treatment: DipTreatment,
}

/// The treatment type of a DIP group (DOMAIN.md §2 DIP), lowest to highest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DipTreatment {
    /// 保守治疗: no typed procedure.
    Conservative,
    /// 诊断性操作
    Diagnostic,
    /// 治疗性操作
    Therapeutic,
    /// 介入治疗, which ranks with surgery (domain-formulas §3.1).
    Interventional,
    /// 手术
    Surgical,
}

impl DipTreatment {
    /// Reads grouping's word (`surgical`, `interventional`, …).
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "conservative" => Self::Conservative,
            "diagnostic" => Self::Diagnostic,
            "therapeutic" => Self::Therapeutic,
            "interventional" => Self::Interventional,
            "surgical" => Self::Surgical,
            _ => return None,
        })
    }

    /// Whether the group is paid as an operation (surgery or intervention), so its list must
    /// bill one: the DIP form of a surgical DRG.
    pub fn is_operative(self) -> bool {
        matches!(self, Self::Interventional | Self::Surgical)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// ICD-10 医保版 2.0, dagger/asterisk pairs written `A01.000x005+J17.0*`.
    pub code: String,
    pub name: String,
    /// 入院病情 1–4, when recorded.
    pub admission_condition: Option<u8>,
    pub complication: Complication,
}

impl Diagnosis {
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            name: String::new(),
            admission_condition: None,
            complication: Complication::None,
        }
    }

    /// The code's parts: a dagger/asterisk pair gives both, each without its mark.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.code
            .split('+')
            .map(|part| part.trim().trim_end_matches(['*', '†']))
            .filter(|part| !part.is_empty())
    }

    /// The first three characters (the category), e.g. `K35` of `K35.800`.
    pub fn category(&self) -> &str {
        category_of(&self.code)
    }
}

/// The first three characters of a diagnosis code.
pub fn category_of(code: &str) -> &str {
    code.get(..3).unwrap_or(code)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// ICD-9-CM-3 医保版 2.0.
    pub code: String,
    pub name: String,
}

/// 医疗类别 of per-diem stays (按床日), exempt from the long-stay rule.
pub const PER_DIEM_MED_TYPE: &str = "2105";

/// An inpatient settlement list (结算清单) with what screening reads of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InpatientList {
    pub key: SettlementKey,
    /// The fund the list is settled from; indicators are kept per fund.
    pub fund_type: FundType,
    /// The pooling region whose policy and tables apply.
    pub pooling_region: RegionCode,
    /// 医保结算等级 of the hospital, for the blank-group rule.
    pub hospital_level: String,
    /// `psn_no`, pseudonymous.
    pub person_id: String,
    pub sex: Sex,
    pub birth_date: Date,
    /// `med_type`, e.g. `2101` ordinary stay, `2105` per-diem.
    pub med_type: String,
    pub department: String,
    pub admitted_at: DateTime,
    pub discharged_at: DateTime,
    pub discharge_type: DischargeType,
    /// `rinp_plan_31d`: the stay was discharged with a planned readmission within 31 days.
    pub planned_readmission: bool,
    /// Principal first.
    pub diagnoses: Vec<Diagnosis>,
    /// Principal first.
    pub procedures: Vec<Procedure>,
    /// The DRG the list was paid by, `None` when ungrouped or paid otherwise.
    pub drg: Option<String>,
    /// The DIP group the list was paid by (a DIP-paid list has no DRG), `None` otherwise.
    #[serde(default)]
    pub dip_group: Option<DipGroup>,
    /// `medfee_sumamt`
    pub total_cost: Money,
    /// `inscp_amt` of the whole list.
    pub in_policy_amount: Money,
    /// Pooled fund paid (`hifp_pay`).
    pub fund_paid: Money,
    /// 个人负担 (co-pay + self-pay + deductible).
    pub individual_burden: Money,
    /// `fulamt_ownpay_amt`, wholly self-paid items.
    pub full_self_pay: Money,
    pub lines: Vec<FeeLine>,
    /// What the fee lines add up to per charge category, for a list read without them (`lines`
    /// empty, `in_policy_amount` their in-policy sum): the monitoring indicators need no more of
    /// the lines ([`InpatientList::billed_in`]). Empty when `lines` holds them.
    #[serde(default)]
    pub line_totals: Vec<CategoryTotal>,
    /// The data-quality warnings settlement's intake kept with the list.
    #[serde(default)]
    pub warnings: Vec<ListWarning>,
}

/// What a list's fee lines of one charge category add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTotal {
    pub category: ChargeCategory,
    pub amount: Money,
}

/// What the growth rates read of a list of the same months a year earlier: where it was treated
/// and what it cost. A reader of the earlier year needs no more of each list, so a source may
/// read only these fields of the stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierCosts {
    pub hospital: String,
    pub department: String,
    pub fund_type: FundType,
    /// `medfee_sumamt`
    pub total_cost: Money,
    /// `hifp_pay`
    pub fund_paid: Money,
}

impl From<&InpatientList> for EarlierCosts {
    fn from(list: &InpatientList) -> Self {
        Self {
            hospital: list.key.hospital.clone(),
            department: list.department.clone(),
            fund_type: list.fund_type,
            total_cost: list.total_cost,
            fund_paid: list.fund_paid,
        }
    }
}

/// A data-quality warning settlement's intake kept with a list (validation's warnings and the
/// codes the grouping scheme in force did not know).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListWarning {
    /// Whether it fails the list's quality control (settlement's level `error`).
    pub fails_qc: bool,
    /// Reason code in lower case, e.g. `unknown_diagnosis_code`.
    pub code: String,
}

/// The warning codes of a list coded wrongly: a code the scheme's dictionaries do not hold, or
/// a diagnosis that contradicts the patient's sex or age (DOMAIN.md §1 warnings).
pub const CODING_ERRORS: &[&str] = &[
    "unknown_diagnosis_code",
    "unknown_procedure_code",
    "diagnosis_sex_conflict",
    "diagnosis_age_conflict",
];

impl InpatientList {
    /// Whether the list passes quality control: no warning fails it.
    pub fn passes_qc(&self) -> bool {
        !self.warnings.iter().any(|w| w.fails_qc)
    }

    /// Whether the list carries a coding error ([`CODING_ERRORS`]).
    pub fn has_coding_error(&self) -> bool {
        self.warnings
            .iter()
            .any(|w| CODING_ERRORS.contains(&w.code.as_str()))
    }

    /// Length of stay: discharge date − admission date (DOMAIN.md conventions).
    pub fn length_of_stay(&self) -> i32 {
        self.discharged_at
            .date()
            .days_since(self.admitted_at.date())
    }

    pub fn principal(&self) -> Option<&Diagnosis> {
        self.diagnoses.first()
    }

    /// The ADRG: the DRG's first three characters.
    pub fn adrg(&self) -> Option<&str> {
        self.drg.as_deref().and_then(|drg| drg.get(..3))
    }

    /// What the list billed in `categories`: its fee lines of those categories, or for a list
    /// read without its lines, their totals.
    pub fn billed_in(&self, categories: &[ChargeCategory]) -> Decimal {
        let lines = self
            .lines
            .iter()
            .filter(|line| categories.contains(&line.category))
            .map(|line| line.amount.value());
        let totals = self
            .line_totals
            .iter()
            .filter(|total| categories.contains(&total.category))
            .map(|total| total.amount.value());
        lines.chain(totals).sum()
    }

    /// Lines with their 1-based positions.
    pub fn numbered_lines(&self) -> impl Iterator<Item = (u32, &FeeLine)> {
        numbered(&self.lines)
    }
}

/// The kind of an ambulatory settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AmbulatoryKind {
    /// 普通门诊
    Outpatient,
    /// 门诊慢特病
    ChronicOutpatient,
    /// 定点药店
    Pharmacy,
    Other,
}

/// An outpatient, chronic-outpatient or pharmacy settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmbulatorySettlement {
    pub key: SettlementKey,
    pub fund_type: FundType,
    pub person_id: String,
    pub kind: AmbulatoryKind,
    pub settled_at: DateTime,
    pub diagnoses: Vec<String>,
    pub lines: Vec<FeeLine>,
}

impl AmbulatorySettlement {
    pub fn numbered_lines(&self) -> impl Iterator<Item = (u32, &FeeLine)> {
        numbered(&self.lines)
    }
}

fn numbered(lines: &[FeeLine]) -> impl Iterator<Item = (u32, &FeeLine)> {
    (1u32..).zip(lines.iter())
}

/// Everything one screening run looks at: the region's lists and ambulatory settlements of a
/// period, with every stay of each person the run should see.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningInput {
    pub lists: Vec<InpatientList>,
    pub ambulatory: Vec<AmbulatorySettlement>,
    /// Each hospital's figures of the year before, for the CMI-rise rule.
    pub previous_year: Vec<HospitalYear>,
}

/// A hospital's case-mix index and case count of one year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalYear {
    pub hospital: String,
    pub cmi: Decimal,
    pub cases: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{line, list, with_lines};

    #[test]
    fn codes_read_back_and_refuse_the_unknown() {
        for code in [1, 2, 3, 4, 5, 9] {
            assert_eq!(
                DischargeType::from_code(code).map(DischargeType::code),
                Some(code)
            );
        }
        assert_eq!(DischargeType::from_code(6), None);
        assert_eq!(
            ChargeCategory::parse("03"),
            Some(ChargeCategory::EXAMINATION)
        );
        assert_eq!(ChargeCategory::parse("14"), Some(ChargeCategory::OTHER));
        assert_eq!(ChargeCategory::parse("15"), None);
        assert_eq!(ChargeCategory::parse("x"), None);
    }

    #[test]
    fn dagger_asterisk_codes_split_into_both_parts() {
        let pair = Diagnosis::new("A01.000x005+J17.0*");
        assert_eq!(pair.parts().collect::<Vec<_>>(), ["A01.000x005", "J17.0"]);
        assert_eq!(pair.category(), "A01");
        assert_eq!(category_of("K3"), "K3");
    }

    #[test]
    fn a_list_round_trips_through_json_and_counts_its_stay() {
        let stay = with_lines(
            list("L1", "P1", "2026-06-12 08:30", "2026-06-15 10:00"),
            vec![line("001101000010000", 1, "3", "50", "2026-06-12 09:00")],
        );
        assert_eq!(stay.length_of_stay(), 3);
        let json = serde_json::to_string(&stay).expect("serialize");
        assert!(json.contains("\"2026-06-12 08:30:00\""));
        let back: InpatientList = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, stay);
        assert_eq!(stay.lines[0].in_policy_unit_amount().to_string(), "50.00");
    }
}
