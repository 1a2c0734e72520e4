//! Payment-mode selection (DOMAIN.md §3, 多元复合式, Hainan): the policy's rules are tried in
//! the policy's order and the first that matches decides; otherwise the region's main method.

use serde::{Deserialize, Serialize};

use crate::case::{CaseForValuation, SpecialCaseDecision};
use crate::policy::ValuationPolicy;
pub use crate::vocabulary::{ModeRule, PaymentMode};
use crate::vocabulary::{PerDiemProgramme, SchemeKind};

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

/// Whether the stay is a hospice or a rehabilitation stay by the policy's department and
/// diagnosis lists (hospice first).
fn rehabilitation_or_hospice(
    policy: &ValuationPolicy,
    case: &CaseForValuation,
) -> Option<PerDiemProgramme> {
    let rehab = &policy.modes.rehabilitation_hospice;
    if rehab.hospice_departments.contains(&case.department)
        || has_prefix(&case.principal_diagnosis, &rehab.hospice_diagnosis_prefixes)
    {
        Some(PerDiemProgramme::Hospice)
    } else if rehab.rehabilitation_departments.contains(&case.department)
        || has_prefix(
            &case.principal_diagnosis,
            &rehab.rehabilitation_diagnosis_prefixes,
        )
    {
        Some(PerDiemProgramme::Rehabilitation)
    } else {
        None
    }
}

/// The per-diem programme a stay belongs to by the mode rules' diagnosis and department tests,
/// in the policy's order, whatever the stay is paid by: an acute psychiatric stay paid by its
/// DIP group, or a special case paid fee-for-service, still belongs to its programme. Per-diem
/// days accumulate across readmissions within one programme (DOMAIN.md §5 Hainan, per diem); the
/// caller that holds the person's stays chains them and sends
/// [`CaseForValuation::prior_episode_days`].
pub fn episode_programme(
    policy: &ValuationPolicy,
    case: &CaseForValuation,
) -> Option<PerDiemProgramme> {
    policy.modes.order.iter().find_map(|rule| match rule {
        ModeRule::Psychiatric => has_prefix(
            &case.principal_diagnosis,
            &policy.modes.psychiatric.diagnosis_prefixes,
        )
        .then_some(PerDiemProgramme::Psychiatric),
        ModeRule::RehabilitationHospice => rehabilitation_or_hospice(policy, case),
        _ => None,
    })
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
                // Episode days = prior + billable days (max(LOS, 1)), as the per-diem phases count.
                let billable = stay_days.max(i64::from(policy.per_diem.minimum_billable_days));
                let episode_days = billable + i64::from(case.prior_episode_days);
                if episode_days > i64::from(rules.psychiatric.acute_limit_days) {
                    PaymentMode::PerDiem(PerDiemProgramme::Psychiatric)
                } else {
                    main_mode(policy)
                }
            }),
            ModeRule::RehabilitationHospice => {
                rehabilitation_or_hospice(policy, case).map(PaymentMode::PerDiem)
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
