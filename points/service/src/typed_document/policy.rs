//! `PointsPolicy` ⇄ [`ValuationPolicy`].

use medpay_proto::points::v1 as pb;
use platform::wire;
use points_domain::ValuationPolicy;
use points_domain::policy::HighCostTier;

use super::{Reader, TableFields, decimal_to_wire, word_of};
use crate::store::TableKey;

/// Reads the policy section over the defaults the JSON reader gives.
pub(super) fn from_wire(
    read: &mut Reader,
    given: &pb::PointsPolicy,
    key: TableKey,
) -> ValuationPolicy {
    let (region, fund) = read.key("policy", &given.region, given.fund_type, key);
    let mut policy = ValuationPolicy::new(region, given.year, fund);
    if let Some(version) = given.version {
        policy.version = version;
    }
    read.word_into(
        "policy.main_method",
        &given.main_method,
        &mut policy.main_method,
    );
    read.word_into(
        "policy.cost_basis",
        &given.cost_basis,
        &mut policy.cost_basis,
    );
    if let Some(modes) = &given.modes {
        read_modes(read, modes, &mut policy);
    }
    if let Some(drg) = &given.drg {
        read_drg(read, drg, &mut policy);
    }
    if let Some(dip) = &given.dip {
        let target = &mut policy.dip;
        read.decimal_into(
            "policy.dip.low_band",
            dip.low_band.as_ref(),
            &mut target.low_band,
        );
        read.decimal_into(
            "policy.dip.high_band",
            dip.high_band.as_ref(),
            &mut target.high_band,
        );
        read.decimal_into(
            "policy.dip.extreme_band",
            dip.extreme_band.as_ref(),
            &mut target.extreme_band,
        );
        read.decimal_into(
            "policy.dip.score_scale",
            dip.score_scale.as_ref(),
            &mut target.score_scale,
        );
        set(&mut target.low_strict, dip.low_strict);
        set(&mut target.high_strict, dip.high_strict);
        set(&mut target.extreme_strict, dip.extreme_strict);
    }
    if let Some(per_diem) = &given.per_diem {
        let target = &mut policy.per_diem;
        set(
            &mut target.minimum_billable_days,
            per_diem.minimum_billable_days,
        );
        read.word_into(
            "policy.per_diem.below_standard",
            &per_diem.below_standard,
            &mut target.below_standard,
        );
        set(
            &mut target.accumulation_window_days,
            per_diem.accumulation_window_days,
        );
    }
    if let Some(readmission) = &given.readmission {
        let target = &mut policy.readmission;
        set(&mut target.window_days, readmission.window_days);
        if let Some(list) = &readmission.exempt_adrgs {
            target.exempt_adrgs = list.codes.clone();
        }
        read.decimal_into(
            "policy.readmission.kept_share",
            readmission.kept_share.as_ref(),
            &mut target.kept_share,
        );
    }
    if let Some(point_value) = &given.point_value {
        let target = &mut policy.point_value;
        set(
            &mut target.published_decimal_places,
            point_value.published_decimal_places,
        );
        read.word_into(
            "policy.point_value.basis",
            &point_value.basis,
            &mut target.basis,
        );
    }
    if let Some(quotas) = &given.special_cases {
        let target = &mut policy.special_cases;
        read.decimal_into(
            "policy.special_cases.drg_quota",
            quotas.drg_quota.as_ref(),
            &mut target.drg_quota,
        );
        read.decimal_into(
            "policy.special_cases.dip_quota",
            quotas.dip_quota.as_ref(),
            &mut target.dip_quota,
        );
    }
    if let Some(apg) = &given.apg {
        let target = &mut policy.apg;
        read.decimal_into(
            "policy.apg.first_procedure_share",
            apg.first_procedure_share.as_ref(),
            &mut target.first_procedure_share,
        );
        read.decimal_into(
            "policy.apg.other_procedure_share",
            apg.other_procedure_share.as_ref(),
            &mut target.other_procedure_share,
        );
        set(&mut target.include_medical_group, apg.include_medical_group);
    }
    policy
}

fn set<T>(target: &mut T, given: Option<T>) {
    if let Some(value) = given {
        *target = value;
    }
}

fn codes(target: &mut Vec<String>, given: Option<&pb::PointsCodeList>) {
    if let Some(list) = given {
        target.clone_from(&list.codes);
    }
}

fn read_modes(read: &mut Reader, given: &pb::PointsModeRules, policy: &mut ValuationPolicy) {
    let modes = &mut policy.modes;
    if let Some(order) = &given.order {
        let mut rules = Vec::new();
        for (index, rule) in order.codes.iter().enumerate() {
            if let Some(rule) = read.word(&format!("policy.modes.order.codes[{index}]"), rule) {
                rules.push(rule);
            }
        }
        modes.order = rules;
    }
    if let Some(rule) = &given.psychiatric {
        codes(
            &mut modes.psychiatric.diagnosis_prefixes,
            rule.diagnosis_prefixes.as_ref(),
        );
        set(
            &mut modes.psychiatric.acute_limit_days,
            rule.acute_limit_days,
        );
    }
    if let Some(rule) = &given.rehabilitation_hospice {
        let target = &mut modes.rehabilitation_hospice;
        codes(
            &mut target.rehabilitation_departments,
            rule.rehabilitation_departments.as_ref(),
        );
        codes(
            &mut target.rehabilitation_diagnosis_prefixes,
            rule.rehabilitation_diagnosis_prefixes.as_ref(),
        );
        codes(
            &mut target.hospice_departments,
            rule.hospice_departments.as_ref(),
        );
        codes(
            &mut target.hospice_diagnosis_prefixes,
            rule.hospice_diagnosis_prefixes.as_ref(),
        );
    }
    if let Some(rule) = &given.day_surgery {
        modes
            .day_surgery
            .procedure_codes
            .clone_from(&rule.procedure_codes);
        set(&mut modes.day_surgery.max_stay_hours, rule.max_stay_hours);
    }
    if let Some(rule) = &given.fixed_rate {
        modes
            .fixed_rate
            .diagnosis_prefixes
            .clone_from(&rule.diagnosis_prefixes);
    }
    if let Some(rule) = &given.basic_level {
        let target = &mut modes.basic_level;
        target.group_codes.clone_from(&rule.group_codes);
        if !rule.coefficient_level.is_empty()
            && let Some(level) = read.level(
                "policy.modes.basic_level.coefficient_level",
                &rule.coefficient_level,
            )
        {
            target.coefficient_level = level;
        }
        if let Ok(coefficient) = read.optional_decimal(
            "policy.modes.basic_level.coefficient",
            rule.coefficient.as_ref(),
        ) {
            target.coefficient = coefficient;
        }
    }
    if let Some(rule) = &given.excluded_stays {
        let target = &mut modes.excluded_stays;
        set(&mut target.long_stay_enabled, rule.long_stay_enabled);
        set(&mut target.long_stay_min_days, rule.long_stay_min_days);
        set(&mut target.short_stay_enabled, rule.short_stay_enabled);
        set(&mut target.short_stay_max_days, rule.short_stay_max_days);
    }
}

fn read_drg(read: &mut Reader, given: &pb::PointsDrgRules, policy: &mut ValuationPolicy) {
    let drg = &mut policy.drg;
    if let Some(list) = &given.high_cost_tiers {
        let mut tiers = Vec::new();
        for (index, tier) in list.tiers.iter().enumerate() {
            let at = |field: &str| format!("policy.drg.high_cost_tiers.tiers[{index}].{field}");
            let bound =
                read.optional_decimal(&at("base_points_up_to"), tier.base_points_up_to.as_ref());
            let multiple = read.decimal(&at("multiple"), tier.multiple.as_ref());
            if let (Ok(base_points_up_to), Some(multiple)) = (bound, multiple) {
                tiers.push(HighCostTier {
                    base_points_up_to,
                    multiple,
                });
            }
        }
        drg.high_cost_tiers = tiers;
    }
    set(&mut drg.high_cost_inclusive, given.high_cost_inclusive);
    read.decimal_into(
        "policy.drg.low_cost_multiple",
        given.low_cost_multiple.as_ref(),
        &mut drg.low_cost_multiple,
    );
    set(&mut drg.low_cost_inclusive, given.low_cost_inclusive);
    if let Some(list) = &given.incomplete_discharge_types {
        let mut types = Vec::new();
        for (index, &code) in list.codes.iter().enumerate() {
            match u8::try_from(code) {
                Ok(code) => types.push(code),
                Err(_) => read.push(
                    &format!("policy.drg.incomplete_discharge_types.codes[{index}]"),
                    format!("{code} is not a discharge type (1, 2, 3, 4, 5, 9)"),
                ),
            }
        }
        drg.incomplete_discharge_types = types;
    }
    read.decimal_into(
        "policy.drg.ungroupable_factor",
        given.ungroupable_factor.as_ref(),
        &mut drg.ungroupable_factor,
    );
    read.decimal_into(
        "policy.drg.base_points_scale",
        given.base_points_scale.as_ref(),
        &mut drg.base_points_scale,
    );
    read.decimal_into(
        "policy.drg.default_coefficient",
        given.default_coefficient.as_ref(),
        &mut drg.default_coefficient,
    );
    if let Some(unstable) = &given.unstable {
        set(&mut drg.unstable.min_cases, unstable.min_cases);
        read.decimal_into(
            "policy.drg.unstable.max_cv",
            unstable.max_cv.as_ref(),
            &mut drg.unstable.max_cv,
        );
    }
}

/// The typed policy, every field set.
pub(super) fn to_wire(policy: &ValuationPolicy) -> pb::PointsPolicy {
    let list = |codes: &[String]| {
        Some(pb::PointsCodeList {
            codes: codes.to_vec(),
        })
    };
    let modes = &policy.modes;
    let rehab = &modes.rehabilitation_hospice;
    let drg = &policy.drg;
    let dip = &policy.dip;
    pb::PointsPolicy {
        region: policy.region.to_string(),
        year: policy.year,
        fund_type: wire::fund_type_to_wire(policy.fund_type),
        version: Some(policy.version),
        main_method: word_of(&policy.main_method),
        cost_basis: word_of(&policy.cost_basis),
        modes: Some(pb::PointsModeRules {
            order: Some(pb::PointsCodeList {
                codes: modes.order.iter().map(word_of).collect(),
            }),
            psychiatric: Some(pb::PointsPsychiatricRule {
                diagnosis_prefixes: list(&modes.psychiatric.diagnosis_prefixes),
                acute_limit_days: Some(modes.psychiatric.acute_limit_days),
            }),
            rehabilitation_hospice: Some(pb::PointsRehabilitationHospiceRule {
                rehabilitation_departments: list(&rehab.rehabilitation_departments),
                rehabilitation_diagnosis_prefixes: list(&rehab.rehabilitation_diagnosis_prefixes),
                hospice_departments: list(&rehab.hospice_departments),
                hospice_diagnosis_prefixes: list(&rehab.hospice_diagnosis_prefixes),
            }),
            day_surgery: Some(pb::PointsDaySurgeryRule {
                procedure_codes: modes.day_surgery.procedure_codes.clone(),
                max_stay_hours: Some(modes.day_surgery.max_stay_hours),
            }),
            fixed_rate: Some(pb::PointsFixedRateRule {
                diagnosis_prefixes: modes.fixed_rate.diagnosis_prefixes.clone(),
            }),
            basic_level: Some(pb::PointsBasicLevelRule {
                group_codes: modes.basic_level.group_codes.clone(),
                coefficient_level: modes.basic_level.coefficient_level.code().to_owned(),
                coefficient: modes.basic_level.coefficient.and_then(decimal_to_wire),
            }),
            excluded_stays: Some(pb::PointsExcludedStayRule {
                long_stay_enabled: Some(modes.excluded_stays.long_stay_enabled),
                long_stay_min_days: Some(modes.excluded_stays.long_stay_min_days),
                short_stay_enabled: Some(modes.excluded_stays.short_stay_enabled),
                short_stay_max_days: Some(modes.excluded_stays.short_stay_max_days),
            }),
        }),
        drg: Some(pb::PointsDrgRules {
            high_cost_tiers: Some(pb::PointsHighCostTierList {
                tiers: drg
                    .high_cost_tiers
                    .iter()
                    .map(|tier| pb::PointsHighCostTier {
                        base_points_up_to: tier.base_points_up_to.and_then(decimal_to_wire),
                        multiple: decimal_to_wire(tier.multiple),
                    })
                    .collect(),
            }),
            high_cost_inclusive: Some(drg.high_cost_inclusive),
            low_cost_multiple: decimal_to_wire(drg.low_cost_multiple),
            low_cost_inclusive: Some(drg.low_cost_inclusive),
            incomplete_discharge_types: Some(pb::PointsDischargeTypeList {
                codes: drg
                    .incomplete_discharge_types
                    .iter()
                    .map(|&c| u32::from(c))
                    .collect(),
            }),
            ungroupable_factor: decimal_to_wire(drg.ungroupable_factor),
            base_points_scale: decimal_to_wire(drg.base_points_scale),
            default_coefficient: decimal_to_wire(drg.default_coefficient),
            unstable: Some(pb::PointsUnstableRule {
                min_cases: Some(drg.unstable.min_cases),
                max_cv: decimal_to_wire(drg.unstable.max_cv),
            }),
        }),
        dip: Some(pb::PointsDipRules {
            low_band: decimal_to_wire(dip.low_band),
            low_strict: Some(dip.low_strict),
            high_band: decimal_to_wire(dip.high_band),
            high_strict: Some(dip.high_strict),
            extreme_band: decimal_to_wire(dip.extreme_band),
            extreme_strict: Some(dip.extreme_strict),
            score_scale: decimal_to_wire(dip.score_scale),
        }),
        per_diem: Some(pb::PointsPerDiemRules {
            minimum_billable_days: Some(policy.per_diem.minimum_billable_days),
            below_standard: word_of(&policy.per_diem.below_standard),
            accumulation_window_days: Some(policy.per_diem.accumulation_window_days),
        }),
        readmission: Some(pb::PointsReadmissionRules {
            window_days: Some(policy.readmission.window_days),
            exempt_adrgs: list(&policy.readmission.exempt_adrgs),
            kept_share: decimal_to_wire(policy.readmission.kept_share),
        }),
        point_value: Some(pb::PointsPointValueRules {
            published_decimal_places: Some(policy.point_value.published_decimal_places),
            basis: word_of(&policy.point_value.basis),
        }),
        special_cases: Some(pb::PointsSpecialCaseRules {
            drg_quota: decimal_to_wire(policy.special_cases.drg_quota),
            dip_quota: decimal_to_wire(policy.special_cases.dip_quota),
        }),
        apg: Some(pb::PointsApgRules {
            first_procedure_share: decimal_to_wire(policy.apg.first_procedure_share),
            other_procedure_share: decimal_to_wire(policy.apg.other_procedure_share),
            include_medical_group: Some(policy.apg.include_medical_group),
        }),
    }
}
