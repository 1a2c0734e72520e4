//! Screening parameters: the defaults of DOMAIN.md §6 "Screening: precise defaults", and the
//! per-region-and-year sets that override them.
//!
//! A region's policy is built from the defaults, then the sets of its province, prefecture and
//! itself in that order (the nearer region wins), each the latest set whose year is not after the
//! screened year.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Decimal, RegionCode};
use serde::{Deserialize, Serialize};

use crate::catalogue::{RuleId, RuleLevel};
use crate::model::{ChargeCategory, DischargeType, PER_DIEM_MED_TYPE, category_of};

/// An inclusive range of ICD-10 categories (first three characters), e.g. `O00`–`O99`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CodeRange {
    pub first: String,
    pub last: String,
}

impl CodeRange {
    pub fn new(first: &str, last: &str) -> Self {
        Self {
            first: first.to_owned(),
            last: last.to_owned(),
        }
    }

    /// Whether the code's category lies in the range (case-insensitive).
    pub fn contains(&self, code: &str) -> bool {
        let category = category_of(code).to_ascii_uppercase();
        category.len() == 3
            && self.first.as_str() <= category.as_str()
            && category.as_str() <= self.last.as_str()
    }
}

fn ranges(pairs: &[(&str, &str)]) -> Vec<CodeRange> {
    pairs.iter().map(|(a, b)| CodeRange::new(a, b)).collect()
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn percent(value: i64) -> Decimal {
    Decimal::new(value, 2)
}

macro_rules! parameters {
    ($($field:ident / $variant:ident : $ty:ty = $default:expr, $doc:literal;)+) => {
        /// Every screening parameter, with DOMAIN.md §6's defaults.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub struct Parameters {
            $(#[doc = $doc] pub $field: $ty,)+
        }

        impl Default for Parameters {
            fn default() -> Self {
                Self { $($field: $default,)+ }
            }
        }

        /// One parameter a region changes for a year.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Override {
            $(#[doc = $doc] $variant($ty),)+
        }

        impl Parameters {
            /// These parameters with one value replaced.
            pub fn apply(&mut self, change: &Override) {
                match change {
                    $(Override::$variant(value) => self.$field = value.clone(),)+
                }
            }

            /// Every parameter's name, as JSON and the wire spell it.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field),)+];
        }

        impl Override {
            /// The name of the parameter the override sets.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Override::$variant(_) => stringify!($field),)+
                }
            }

            /// The override of parameter `name` to `value`, read as the parameter's type; `None`
            /// when there is no such parameter.
            pub fn from_json(
                name: &str,
                value: serde_json::Value,
            ) -> Option<Result<Override, serde_json::Error>> {
                match name {
                    $(stringify!($field) => Some(serde_json::from_value::<$ty>(value).map(Override::$variant)),)+
                    _ => None,
                }
            }
        }
    };
}

parameters! {
    readmission_window_days / ReadmissionWindowDays: i32 = 15,
        "Rules 1–2: the largest gap (later admission date − earlier discharge date) that pairs two stays.";
    planned_cycle_adrgs / PlannedCycleAdrgs: Vec<String> = texts(&["RB1", "RB2", "RC1", "RE1", "RG1", "RU1", "RV1", "LL1"]),
        "Rule 1: ADRGs of the later stay that make it a planned cycle (chemo, radiotherapy, dialysis, staged care).";
    planned_cycle_principals / PlannedCyclePrincipals: Vec<String> = texts(&["Z49", "Z51.0", "Z51.1"]),
        "Rule 1: principal-diagnosis prefixes of the later stay that make it a planned cycle.";
    split_excluded_discharges / SplitExcludedDischarges: Vec<DischargeType> = vec![DischargeType::Death, DischargeType::OrderedTransfer, DischargeType::TransferToCommunity],
        "Rule 1: discharge types of the earlier stay that rule a split admission out.";
    low_standard_max_los / LowStandardMaxLos: i32 = 2,
        "Rule 4 (a): the longest stay that counts as short.";
    low_standard_exempt_discharges / LowStandardExemptDischarges: Vec<DischargeType> = vec![DischargeType::OrderedTransfer, DischargeType::AgainstAdvice, DischargeType::Death],
        "Rule 4 (a): discharge types that explain a short stay.";
    exam_lab_min_share / ExamLabMinShare: Decimal = percent(70),
        "Rule 4 (b): share of total cost in examinations and labs at or above which a cheap stay is suspect.";
    low_cost_ratio / LowCostRatio: Decimal = percent(40),
        "Rule 4 (b): a stay costing less than this multiple of its DRG's published mean is cheap.";
    outpatient_lookback_days / OutpatientLookbackDays: i32 = 7,
        "Rule 7: days before the admission date an outpatient settlement is looked at.";
    bed_blocking_days / BedBlockingDays: usize = 3,
        "Rule 13: consecutive stay days without care charges that make a finding.";
    care_categories / CareCategories: Vec<ChargeCategory> = vec![ChargeCategory::TREATMENT, ChargeCategory::NURSING, ChargeCategory::WESTERN_DRUGS, ChargeCategory::HERBAL_PIECES, ChargeCategory::PATENT_CHINESE_DRUGS],
        "Rule 13: charge categories that show a patient was cared for on a day.";
    female_only / FemaleOnly: Vec<CodeRange> = ranges(&[("O00", "O99"), ("N70", "N98"), ("C51", "C58")]),
        "Rule 14: diagnoses only a woman can have.";
    male_only / MaleOnly: Vec<CodeRange> = ranges(&[("N40", "N51"), ("C60", "C63")]),
        "Rule 14: diagnoses only a man can have.";
    perinatal / Perinatal: Vec<CodeRange> = ranges(&[("P00", "P96")]),
        "Rule 15: perinatal diagnoses, only for infants.";
    perinatal_max_age_days / PerinatalMaxAgeDays: i32 = 365,
        "Rule 15: the oldest age in days a perinatal diagnosis fits.";
    pregnancy / Pregnancy: Vec<CodeRange> = ranges(&[("O00", "O99")]),
        "Rule 15: pregnancy diagnoses, only for ages in the childbearing band.";
    pregnancy_min_age_years / PregnancyMinAgeYears: i32 = 10,
        "Rule 15: the youngest age in years a pregnancy diagnosis fits.";
    pregnancy_max_age_years / PregnancyMaxAgeYears: i32 = 60,
        "Rule 15: the oldest age in years a pregnancy diagnosis fits.";
    symptom_codes / SymptomCodes: Vec<CodeRange> = ranges(&[("R00", "R99")]),
        "Rule 16 (a): symptom codes that should not stand as principal beside a definite diagnosis.";
    very_long_stay_days / VeryLongStayDays: i32 = 60,
        "Rule 17: the length of stay from which a stay is very long.";
    per_diem_med_type / PerDiemMedType: String = PER_DIEM_MED_TYPE.to_owned(),
        "Rule 17: the medical type of per-diem stays, which may be long.";
    self_pay_max_share / SelfPayMaxShare: Decimal = percent(15),
        "Rule 18: the largest share of total cost wholly self-paid without a finding.";
    high_cost_multiple / HighCostMultiple: Decimal = Decimal::from(3),
        "Rule 19: a case costing at least this multiple of its DRG's mean is high-cost.";
    outlier_sd_multiple / OutlierSdMultiple: Decimal = Decimal::from(2),
        "Rules 19 and 22: standard deviations above the regional mean that make a hospital an outlier.";
    cmi_max_rise / CmiMaxRise: Decimal = percent(10),
        "Rule 20: the largest year-on-year CMI rise without a finding.";
    case_volume_max_change / CaseVolumeMaxChange: Decimal = percent(10),
        "Rule 20: a case-volume change beyond this share explains a CMI rise.";
    blank_group_usual_share / BlankGroupUsualShare: Decimal = percent(50),
        "Rule 21: a group is usual for a hospital level when at least this share of its hospitals treat it.";
    blank_group_min_hospitals / BlankGroupMinHospitals: usize = 3,
        "Rule 21: the fewest hospitals of a level before its usual groups are judged.";
    low_risk_z / LowRiskZ: Decimal = Decimal::from(-1),
        "Rule 23: a group whose z of the log death rate is below this is low-risk.";
    item_daily_limits / ItemDailyLimits: BTreeMap<String, Decimal> = BTreeMap::new(),
        "Rule 12 (daily): item code → the most units a day, in place of the items table's limit.";
    promotion_min_decided / PromotionMinDecided: u32 = 20,
        "Lifecycle: reviewed findings a rule needs before it may move up a level.";
    promotion_min_confirmed_share / PromotionMinConfirmedShare: Decimal = percent(80),
        "Lifecycle: the share of reviewed findings confirmed at or above which a rule moves up.";
}

/// One region's changes for one year: parameter values, rules switched off, rule levels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterSet {
    pub region: RegionCode,
    pub year: i32,
    pub overrides: Vec<Override>,
    pub disabled: BTreeSet<RuleId>,
    pub enabled: BTreeSet<RuleId>,
    pub levels: BTreeMap<RuleId, RuleLevel>,
}

impl ParameterSet {
    pub fn new(region: RegionCode, year: i32) -> Self {
        Self {
            region,
            year,
            overrides: Vec::new(),
            disabled: BTreeSet::new(),
            enabled: BTreeSet::new(),
            levels: BTreeMap::new(),
        }
    }
}

/// What a screening run applies: the parameters, the rules it runs and their levels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningPolicy {
    pub parameters: Parameters,
    pub enabled: BTreeSet<RuleId>,
    pub levels: BTreeMap<RuleId, RuleLevel>,
}

impl Default for ScreeningPolicy {
    /// Every rule on, at its default level.
    fn default() -> Self {
        Self {
            parameters: Parameters::default(),
            enabled: RuleId::ALL.iter().copied().collect(),
            levels: RuleId::ALL
                .iter()
                .map(|r| (*r, r.default_level()))
                .collect(),
        }
    }
}

impl ScreeningPolicy {
    pub fn level(&self, rule: RuleId) -> RuleLevel {
        self.levels
            .get(&rule)
            .copied()
            .unwrap_or_else(|| rule.default_level())
    }

    pub fn is_enabled(&self, rule: RuleId) -> bool {
        self.enabled.contains(&rule)
    }

    /// Only `rules` enabled, the rest as they are.
    pub fn only(mut self, rules: &[RuleId]) -> Self {
        self.enabled = rules.iter().copied().collect();
        self
    }

    fn apply(&mut self, set: &ParameterSet) {
        for change in &set.overrides {
            self.parameters.apply(change);
        }
        self.enabled.extend(set.enabled.iter().copied());
        for rule in &set.disabled {
            self.enabled.remove(rule);
        }
        self.levels.extend(set.levels.iter().map(|(r, l)| (*r, *l)));
    }
}

/// All parameter sets of a province and its regions, over the years.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterBook {
    pub sets: Vec<ParameterSet>,
}

impl ParameterBook {
    /// The policy for screening `region`'s cases of `year`.
    pub fn policy_for(&self, region: RegionCode, year: i32) -> ScreeningPolicy {
        let mut policy = ScreeningPolicy::default();
        let mut chain: Vec<RegionCode> = region.self_and_ancestors().collect();
        chain.reverse();
        for level in chain {
            let latest = self
                .sets
                .iter()
                .filter(|set| set.region == level && set.year <= year)
                .max_by_key(|set| set.year);
            if let Some(set) = latest {
                policy.apply(set);
            }
        }
        policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: u32) -> RegionCode {
        RegionCode::from_u32(code).expect("test region")
    }

    #[test]
    fn defaults_are_the_domain_defaults() {
        let p = Parameters::default();
        assert_eq!(p.readmission_window_days, 15);
        assert_eq!(p.low_standard_max_los, 2);
        assert_eq!(p.exam_lab_min_share.to_string(), "0.70");
        assert_eq!(p.low_cost_ratio.to_string(), "0.40");
        assert_eq!(p.outpatient_lookback_days, 7);
        assert_eq!(p.bed_blocking_days, 3);
        assert_eq!(p.very_long_stay_days, 60);
        assert_eq!(p.self_pay_max_share.to_string(), "0.15");
        assert_eq!(p.planned_cycle_adrgs.len(), 8);
    }

    #[test]
    fn code_ranges_compare_categories() {
        let range = CodeRange::new("N70", "N98");
        assert!(range.contains("N70.000"));
        assert!(range.contains("n98.1"));
        assert!(!range.contains("N99.0"));
        assert!(!range.contains("N69"));
        assert!(!range.contains("N7"));
    }

    #[test]
    fn nearer_region_and_latest_year_win() {
        let mut province = ParameterSet::new(region(460000), 2024);
        province.overrides.push(Override::ReadmissionWindowDays(14));
        province.overrides.push(Override::BedBlockingDays(4));
        province.disabled.insert(RuleId::VeryLongStay);
        let mut province_later = ParameterSet::new(region(460000), 2027);
        province_later
            .overrides
            .push(Override::ReadmissionWindowDays(30));
        let mut haikou = ParameterSet::new(region(460100), 2025);
        haikou.overrides.push(Override::ReadmissionWindowDays(7));
        haikou.levels.insert(RuleId::BedBlocking, RuleLevel::Strong);
        let book = ParameterBook {
            sets: vec![province, province_later, haikou],
        };

        let haikou_2026 = book.policy_for(region(460100), 2026);
        assert_eq!(haikou_2026.parameters.readmission_window_days, 7);
        assert_eq!(haikou_2026.parameters.bed_blocking_days, 4);
        assert!(!haikou_2026.is_enabled(RuleId::VeryLongStay));
        assert!(haikou_2026.is_enabled(RuleId::SplitAdmission));
        assert_eq!(haikou_2026.level(RuleId::BedBlocking), RuleLevel::Strong);

        let sanya_2026 = book.policy_for(region(460200), 2026);
        assert_eq!(sanya_2026.parameters.readmission_window_days, 14);
        assert_eq!(sanya_2026.level(RuleId::BedBlocking), RuleLevel::General);

        let haikou_2023 = book.policy_for(region(460100), 2023);
        assert_eq!(haikou_2023, ScreeningPolicy::default());
    }
}
