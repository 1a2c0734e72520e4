//! The rule library: every screening rule of DOMAIN.md §6 with its stable id, names, default
//! level and the tables it reads. Parameters are in [`crate::parameters`]; the checks themselves
//! in [`crate::rules`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// How far a rule is trusted (DOMAIN.md §6): strong rules run in routine intelligent audit,
/// general ones send findings to on-site inspection, weak ones are watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RuleLevel {
    Weak,
    General,
    Strong,
}

impl RuleLevel {
    /// The next level once findings are confirmed (weak → general → strong).
    pub fn promoted(self) -> Self {
        match self {
            RuleLevel::Weak => RuleLevel::General,
            RuleLevel::General | RuleLevel::Strong => RuleLevel::Strong,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleLevel::Weak => "weak",
            RuleLevel::General => "general",
            RuleLevel::Strong => "strong",
        }
    }
}

/// A table a rule reads, per region and year (DOMAIN.md §6 "Tables screening reads").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TableKind {
    Items,
    ExclusivePairs,
    Packages,
    Substitutions,
    GroupMeans,
}

macro_rules! rules {
    ($($variant:ident = $number:literal, $slug:literal, $zh:literal, $en:literal, $level:ident, [$($table:ident),*];)+) => {
        /// A screening rule, numbered as DOMAIN.md §6 and the findings export number it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum RuleId {
            $($variant,)+
        }

        impl RuleId {
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)+];

            /// The rule's number 1–23, its export id.
            pub fn number(self) -> u8 {
                match self { $(RuleId::$variant => $number,)+ }
            }

            pub fn from_number(number: u8) -> Option<Self> {
                match number { $($number => Some(RuleId::$variant),)+ _ => None }
            }

            /// Stable text id, e.g. `split_admission`.
            pub fn slug(self) -> &'static str {
                match self { $(RuleId::$variant => $slug,)+ }
            }

            pub fn name_zh(self) -> &'static str {
                match self { $(RuleId::$variant => $zh,)+ }
            }

            pub fn name_en(self) -> &'static str {
                match self { $(RuleId::$variant => $en,)+ }
            }

            /// The level a fresh install ships the rule at.
            pub fn default_level(self) -> RuleLevel {
                match self { $(RuleId::$variant => RuleLevel::$level,)+ }
            }

            /// The tables the rule reads.
            pub fn tables(self) -> &'static [TableKind] {
                match self { $(RuleId::$variant => &[$(TableKind::$table),*],)+ }
            }
        }
    };
}

rules! {
    SplitAdmission = 1, "split_admission", "分解住院", "Split admission", Strong, [];
    Readmission15Days = 2, "readmission_15_days", "15日内再入院", "Readmission within 15 days", Weak, [];
    SameDayReadmission = 3, "same_day_readmission", "当日出院再入院", "Same-day discharge and readmission", General, [];
    LowStandardAdmission = 4, "low_standard_admission", "低标准入院", "Admission below the standard", General, [GroupMeans];
    Upcoding = 5, "upcoding", "高套点数", "Upcoding", General, [Items];
    UnderCoding = 6, "under_coding", "低编入组", "Under-coding", General, [];
    CostsMovedToOutpatient = 7, "costs_moved_to_outpatient", "住院费用分解至门诊", "Costs moved to outpatient before admission", General, [];
    AmbulatoryDuringStay = 8, "ambulatory_during_stay", "住院期间门诊或药店结算", "Outpatient or pharmacy settlement during a stay", General, [];
    Substitution = 9, "substitution", "串换收费", "Substitution", General, [Substitutions];
    DuplicateCharging = 10, "duplicate_charging", "重复收费", "Duplicate charging", Strong, [ExclusivePairs];
    UnbundledCharging = 11, "unbundled_charging", "分解收费", "Unbundled charging", Strong, [Packages];
    OverFrequency = 12, "over_frequency", "超频次收费", "Over-frequency charging", Strong, [Items];
    BedBlocking = 13, "bed_blocking", "挂床住院", "Bed-blocking", General, [];
    DiagnosisSexConflict = 14, "diagnosis_sex_conflict", "诊断与性别不符", "Diagnosis–sex conflict", Strong, [];
    DiagnosisAgeConflict = 15, "diagnosis_age_conflict", "诊断与年龄不符", "Diagnosis–age conflict", Strong, [];
    PrincipalDiagnosisSelection = 16, "principal_diagnosis_selection", "主要诊断选择错误", "Principal diagnosis selection error", General, [];
    VeryLongStay = 17, "very_long_stay", "超长住院", "Very long stay outside per-diem", Weak, [];
    SelfPayShift = 18, "self_pay_shift", "费用转嫁自费", "Cost shifted to self-pay", General, [];
    HighCostShare = 19, "high_cost_share", "高倍率病例占比异常", "High-cost case share above the region", Weak, [GroupMeans];
    CmiRise = 20, "cmi_rise", "CMI异常增长", "CMI rise without a case-mix change", Weak, [];
    BlankGroups = 21, "blank_groups", "空白病组", "Blank groups", Weak, [];
    AdmissionsPerPatient = 22, "admissions_per_patient", "人次人头比异常", "Admissions per patient above the region", Weak, [];
    LowRiskDeaths = 23, "low_risk_deaths", "低风险组死亡", "Death in a low-risk group", General, [];
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number(), self.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_library_numbers_every_rule_of_the_domain_once() {
        let numbers: Vec<u8> = RuleId::ALL.iter().map(|r| r.number()).collect();
        assert_eq!(numbers, (1..=23).collect::<Vec<u8>>());
        for rule in RuleId::ALL {
            assert_eq!(RuleId::from_number(rule.number()), Some(*rule));
        }
        assert_eq!(RuleId::from_number(24), None);
        let slugs: BTreeSet<&str> = RuleId::ALL.iter().map(|r| r.slug()).collect();
        assert_eq!(slugs.len(), 23);
        assert!(RuleId::ALL.iter().all(|r| !r.name_zh().is_empty()));
    }

    #[test]
    fn levels_climb_weak_general_strong_and_stop() {
        assert_eq!(RuleLevel::Weak.promoted(), RuleLevel::General);
        assert_eq!(RuleLevel::General.promoted(), RuleLevel::Strong);
        assert_eq!(RuleLevel::Strong.promoted(), RuleLevel::Strong);
    }

    #[test]
    fn table_rules_name_their_tables() {
        assert_eq!(RuleId::OverFrequency.tables(), &[TableKind::Items]);
        assert_eq!(
            RuleId::DuplicateCharging.tables(),
            &[TableKind::ExclusivePairs]
        );
        assert!(RuleId::SplitAdmission.tables().is_empty());
    }
}
