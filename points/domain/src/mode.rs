//! Payment-mode selection (DOMAIN.md §3, 多元复合式, Hainan): the policy's rules are tried in
//! the policy's order and the first that matches decides; otherwise the region's main method.

use serde::{Deserialize, Serialize};

use crate::case::{CaseForValuation, SchemeKind, SpecialCaseDecision};
use crate::policy::ValuationPolicy;
use crate::tables::PerDiemProgramme;

/// A payment-mode rule, as named in a policy's evaluation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeRule {
    /// 1. special case approved for fee-for-service.
    SpecialCaseFfs,
    /// 2. psychiatric stay: acute phase by group, stable phase per diem.
    Psychiatric,
    /// 3. rehabilitation or hospice stay, per diem.
    RehabilitationHospice,
    /// 4. day surgery from the list, within the hour limit.
    DaySurgery,
    /// Fixed rate by disease (单病种), when the region keeps such a list.
    FixedRateDisease,
    /// 5. basic-level disease, one coefficient at every level.
    BasicLevel,
    /// 6. excluded stays (long, optionally short), fee-for-service.
    ExcludedStay,
    /// 7. none of the above: the region's main method.
    MainMethod,
}

impl ModeRule {
    /// DOMAIN.md §3 order (the fixed-rate list, empty by default, sits after day surgery).
    pub const HAINAN_ORDER: [ModeRule; 7] = [
        ModeRule::SpecialCaseFfs,
        ModeRule::Psychiatric,
        ModeRule::RehabilitationHospice,
        ModeRule::DaySurgery,
        ModeRule::FixedRateDisease,
        ModeRule::BasicLevel,
        ModeRule::ExcludedStay,
    ];

    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ModeRule::SpecialCaseFfs => "special_case_ffs",
            ModeRule::Psychiatric => "psychiatric",
            ModeRule::RehabilitationHospice => "rehabilitation_hospice",
            ModeRule::DaySurgery => "day_surgery",
            ModeRule::FixedRateDisease => "fixed_rate_disease",
            ModeRule::BasicLevel => "basic_level",
            ModeRule::ExcludedStay => "excluded_stay",
            ModeRule::MainMethod => "main_method",
        }
    }
}

impl std::fmt::Display for ModeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a case is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    /// 按项目: paid item by item.
    FeeForService,
    /// 按床日.
    PerDiem(PerDiemProgramme),
    /// 日间手术按病种.
    DaySurgery,
    /// 单病种 按病种定额.
    FixedRate,
    /// 基层病种: points of the main method with one coefficient at every level.
    BasicLevel,
    /// DRG points.
    Drg,
    /// DIP scores.
    Dip,
}

impl PaymentMode {
    /// Whether the mode pays points (valued with a point value later) rather than money.
    pub fn pays_points(self) -> bool {
        matches!(
            self,
            PaymentMode::BasicLevel | PaymentMode::Drg | PaymentMode::Dip
        )
    }

    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMode::FeeForService => "fee_for_service",
            PaymentMode::PerDiem(PerDiemProgramme::Psychiatric) => "per_diem_psychiatric",
            PaymentMode::PerDiem(PerDiemProgramme::Rehabilitation) => "per_diem_rehabilitation",
            PaymentMode::PerDiem(PerDiemProgramme::Hospice) => "per_diem_hospice",
            PaymentMode::DaySurgery => "day_surgery",
            PaymentMode::FixedRate => "fixed_rate",
            PaymentMode::BasicLevel => "basic_level",
            PaymentMode::Drg => "drg",
            PaymentMode::Dip => "dip",
        }
    }
}

/// The mode chosen and the rule that chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeDecision {
    /// How the case is paid.
    pub mode: PaymentMode,
    /// The rule that chose the mode.
    pub rule: ModeRule,
}

fn has_prefix(code: &str, prefixes: &[String]) -> bool {
    prefixes
        .iter()
        .any(|prefix| code.starts_with(prefix.as_str()))
}

fn main_mode(policy: &ValuationPolicy) -> PaymentMode {
    match policy.main_method {
        SchemeKind::Drg => PaymentMode::Drg,
        SchemeKind::Dip => PaymentMode::Dip,
    }
}

/// Chooses the payment mode of `case` under `policy`: the first rule of `policy.modes.order`
/// that matches, else the main method (DOMAIN.md §3 payment-mode selection).
pub fn select_payment_mode(policy: &ValuationPolicy, case: &CaseForValuation) -> ModeDecision {
    let rules = &policy.modes;
    let stay_days = case.length_of_stay();
    for &rule in &rules.order {
        let mode = match rule {
            ModeRule::SpecialCaseFfs => (case.special_case
                == Some(SpecialCaseDecision::FeeForService))
            .then_some(PaymentMode::FeeForService),
            ModeRule::Psychiatric => has_prefix(
                &case.principal_diagnosis,
                &rules.psychiatric.diagnosis_prefixes,
            )
            .then(|| {
                // Days accumulate across a readmission within the window (DOMAIN.md §3 per-diem).
                let episode_days = stay_days + i64::from(case.prior_episode_days);
                if episode_days > i64::from(rules.psychiatric.acute_limit_days) {
                    PaymentMode::PerDiem(PerDiemProgramme::Psychiatric)
                } else {
                    main_mode(policy)
                }
            }),
            ModeRule::RehabilitationHospice => {
                let rehab = &rules.rehabilitation_hospice;
                if rehab.hospice_departments.contains(&case.department)
                    || has_prefix(&case.principal_diagnosis, &rehab.hospice_diagnosis_prefixes)
                {
                    Some(PaymentMode::PerDiem(PerDiemProgramme::Hospice))
                } else if rehab.rehabilitation_departments.contains(&case.department)
                    || has_prefix(
                        &case.principal_diagnosis,
                        &rehab.rehabilitation_diagnosis_prefixes,
                    )
                {
                    Some(PaymentMode::PerDiem(PerDiemProgramme::Rehabilitation))
                } else {
                    None
                }
            }
            ModeRule::DaySurgery => case
                .principal_procedure
                .as_deref()
                .filter(|code| has_prefix(code, &rules.day_surgery.procedure_codes))
                .filter(|_| case.hours() <= i64::from(rules.day_surgery.max_stay_hours))
                .map(|_| PaymentMode::DaySurgery),
            ModeRule::FixedRateDisease => has_prefix(
                &case.principal_diagnosis,
                &rules.fixed_rate.diagnosis_prefixes,
            )
            .then_some(PaymentMode::FixedRate),
            ModeRule::BasicLevel => rules
                .basic_level
                .group_codes
                .contains(&case.grouping.group_code)
                .then_some(PaymentMode::BasicLevel),
            ModeRule::ExcludedStay => {
                let excluded = &rules.excluded_stays;
                let long = excluded.long_stay_enabled
                    && stay_days >= i64::from(excluded.long_stay_min_days);
                let short = excluded.short_stay_enabled
                    && stay_days <= i64::from(excluded.short_stay_max_days);
                (long || short).then_some(PaymentMode::FeeForService)
            }
            ModeRule::MainMethod => Some(main_mode(policy)),
        };
        if let Some(mode) = mode {
            return ModeDecision { mode, rule };
        }
    }
    ModeDecision {
        mode: main_mode(policy),
        rule: ModeRule::MainMethod,
    }
}
