//! The indicators a monitoring table carries, by stable code, and the items of the monitoring
//! catalogues (attachment 2: the indicator system; attachment 3: the monthly list) that the
//! streamed inpatient lists cannot support, each with the data it lacks.

/// How an indicator's value is written: a count, a ratio or index to 4 places, or money to 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Count,
    Ratio,
    Money,
}

macro_rules! indicator_codes {
    ($($variant:ident = $code:literal, $zh:literal, $kind:ident, $doc:literal;)+) => {
        /// One monitoring indicator.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum IndicatorCode {
            $(#[doc = $doc] $variant,)+
        }

        impl IndicatorCode {
            /// Every indicator, in table order.
            pub const ALL: &'static [IndicatorCode] = &[$(IndicatorCode::$variant,)+];

            /// The stable code on the wire and in exports.
            pub fn code(self) -> &'static str {
                match self { $(IndicatorCode::$variant => $code,)+ }
            }

            /// The indicator's name in the monitoring catalogues.
            pub fn name_zh(self) -> &'static str {
                match self { $(IndicatorCode::$variant => $zh,)+ }
            }

            pub fn kind(self) -> Kind {
                match self { $(IndicatorCode::$variant => Kind::$kind,)+ }
            }
        }
    };
}

indicator_codes! {
    Cases = "cases", "病例数", Count, "Inpatient lists discharged in the period.";
    GroupedCases = "grouped_cases", "DRG入组病例数", Count, "Lists paid by DRG with a group.";
    GroupingRate = "grouping_rate", "入组率", Ratio, "Grouped lists / all lists (also 人次占比).";
    GroupDrgCostShare = "drg_cost_share", "费用占比", Ratio, "Total cost of grouped lists / total cost.";
    DrgMeanCost = "drg_mean_cost", "按DRG结算者次均费用", Money, "Total cost of grouped lists / grouped lists.";
    DrgFundPayment = "drg_fund_payment", "按DRG付费基金支付金额", Money, "Fund payment (hifp_pay) of grouped lists.";
    GroupsCovered = "groups_covered", "覆盖DRG组数", Count, "Distinct DRGs with at least one case.";
    BlankGroupShare = "blank_group_share", "空白病组占比", Ratio, "Groups of the region's group table without a case / groups in the table.";
    Cmi = "cmi", "病例组合指数(CMI)", Ratio, "Σ(RW_g × n_g) / Σ n_g over grouped lists whose group has a weight in the group table.";
    CmiAdjustedMeanCost = "cmi_adjusted_mean_cost", "CMI标化的住院次均费用", Money, "Mean cost / CMI.";
    CostConsumptionIndex = "cost_consumption_index", "费用消耗指数", Ratio, "Σ_g (mean cost_g / regional mean cost_g × n_g) / Σ n_g.";
    TimeConsumptionIndex = "time_consumption_index", "时间消耗指数", Ratio, "As the cost index, with mean lengths of stay.";
    DrugConsumptionIndex = "drug_consumption_index", "药品消耗指数", Ratio, "As the cost index, with mean drug charges.";
    ConsumableConsumptionIndex = "consumable_consumption_index", "耗材消耗指数(手术、操作组)", Ratio, "As the cost index, with mean consumable charges, over surgical and procedure groups (ADRG letter A–Q).";
    MeanCost = "mean_cost", "次均费用", Money, "Total cost / lists.";
    AverageLengthOfStay = "average_length_of_stay", "平均住院日", Ratio, "Stay days (discharge date − admission date) / lists.";
    ReadmissionRate = "readmission_rate", "15日再入院率", Ratio, "Discharges followed by an unplanned stay of the same person at the same hospital within the readmission window / lists.";
    Patients = "patients", "住院服务人头数", Count, "Distinct insured persons.";
    AdmissionsPerPatient = "admissions_per_patient", "人次人头比", Ratio, "Lists / distinct persons.";
    SelfPayRatio = "self_pay_ratio", "自费率", Ratio, "Wholly self-paid cost / total cost.";
    PersonalBurdenRatio = "personal_burden_ratio", "个人自负比例", Ratio, "(Personal account + cash) / total cost.";
    OutOfPolicyShare = "out_of_policy_share", "政策范围外费用比例", Ratio, "(Total cost − in-policy cost) / total cost.";
    DrugShare = "drug_share", "药占比", Ratio, "Drug charges / total cost.";
    ConsumableShare = "consumable_share", "耗占比", Ratio, "Consumable charges / total cost.";
    HighCostShare = "high_cost_share", "高倍率病例占比", Ratio, "Lists costing at least the high-cost multiple of their group's published mean / lists with a published mean.";
    LowCostShare = "low_cost_share", "低倍率病例占比", Ratio, "Lists costing less than the low-cost ratio of their group's published mean / lists with a published mean.";
    LowRiskMortality = "low_risk_mortality", "低风险组死亡率", Ratio, "Deaths in the region's low-risk groups / lists in those groups.";
    Riv = "riv", "总体方差减少系数(RIV)", Ratio, "(SST − SSW) / SST of total cost over the grouped lists.";
    TotalCost = "total_cost", "住院医疗总费用", Money, "Σ total cost.";
    FundPayment = "fund_payment", "医保基金支付", Money, "Σ fund payment (hifp_pay).";
    TotalCostGrowth = "total_cost_growth", "住院医疗总费用增速(同比)", Ratio, "(Total cost − total cost of the same months a year earlier) / the latter.";
    FundPaymentGrowth = "fund_payment_growth", "医保支付住院费用增长率(同比)", Ratio, "(Fund payment − that of the same months a year earlier) / the latter.";
    QcPassRate = "qc_pass_rate", "结算清单质控通过率", Ratio, "Lists without an error-level intake warning (an unknown principal diagnosis code) / lists.";
    CodingErrorRate = "coding_error_rate", "诊断或手术操作编码错误率", Ratio, "Lists with a diagnosis or procedure code the grouping scheme does not know, or a diagnosis contradicting the patient's sex or age / lists.";
}

/// An item of a monitoring catalogue the streamed lists cannot support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// Its number in the catalogue.
    pub number: u32,
    pub name_zh: &'static str,
    /// Which data it needs that the inpatient lists do not carry.
    pub missing: &'static str,
}

const fn item(number: u32, name_zh: &'static str, missing: &'static str) -> Unsupported {
    Unsupported {
        number,
        name_zh,
        missing,
    }
}

const FINDING: &str = "a pattern of the screening rule library, reported as findings (ScreenCases, ListFindings), not a rate over the lists";
const QC: &str = "audits of the principal diagnosis and procedure chosen against the medical record, which no context records (the lists carry their codes' dictionary checks only: qc_pass_rate, coding_error_rate)";

/// Attachment 2 (the DRG monitoring indicator system) items without data.
pub const UNSUPPORTED_SYSTEM: &[Unsupported] = &[
    item(
        1,
        "全统筹区定点医疗机构类型及数量",
        "the institution registry's types of every designated institution, including those without inpatient lists",
    ),
    item(
        2,
        "DRG已付费和近期准备付费覆盖的定点医疗机构类型及数量",
        "each institution's payment agreement and its planned start of DRG payment",
    ),
    item(
        12,
        "基层医疗卫生机构就诊人数占比",
        "outpatient visits at primary-care institutions (the lists are inpatient stays)",
    ),
    item(13, "主要诊断选择错误率", QC),
    item(14, "主要手术操作选择错误率", QC),
    item(
        23,
        "门诊检查检验费用比例",
        "outpatient settlements and their fee lines",
    ),
    item(
        27,
        "三四级手术占比",
        "a catalogue grading each procedure code as level 1–4 surgery",
    ),
    item(
        29,
        "参保人自费结算或中心报销比例",
        "stays settled wholly out of pocket or reimbursed by the agency's counter, which never reach the ledger",
    ),
    item(
        31,
        "自费项目整体纳入医保结算",
        "the catalogue of self-pay items agreed to be settled through the insurance",
    ),
    item(32, "分解住院", FINDING),
    item(
        34,
        "床日与DRG交替拨付比例",
        "each stay's payment mode beside DRG (per-diem cases are not told apart in the lists read)",
    ),
    item(35, "低标入院", FINDING),
    item(36, "高套点数", FINDING),
    item(37, "住院费用分解至药店", "pharmacy retail settlements"),
    item(38, "住院费用分解至门诊", FINDING),
    item(39, "串换收费", FINDING),
    item(40, "重复收费", FINDING),
    item(41, "分解收费", FINDING),
    item(42, "超频次收费", FINDING),
];

/// Attachment 3 (the monthly, quarterly and annual list) monthly items without data.
pub const UNSUPPORTED_MONTHLY: &[Unsupported] = &[
    item(
        2,
        "医疗机构月拨付差额",
        "the month's prepayment statements (settlement runs)",
    ),
    item(9, "主要诊断选择错误率", QC),
    item(10, "主要手术操作选择错误率", QC),
    item(
        11,
        "医疗机构结算清单上传率",
        "the number of lists each institution should have uploaded (discharges on its own records)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_catalogue_numbers_unique() {
        let codes: std::collections::BTreeSet<&str> =
            IndicatorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), IndicatorCode::ALL.len());
        let numbers: std::collections::BTreeSet<u32> =
            UNSUPPORTED_SYSTEM.iter().map(|u| u.number).collect();
        assert_eq!(numbers.len(), UNSUPPORTED_SYSTEM.len());
        assert!(numbers.iter().all(|n| (1..=42).contains(n)));
    }
}
