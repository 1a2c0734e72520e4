//! Which parameters belong to which rule, and a rule's parameters as a region sets them: read
//! from a JSON object, each value checked as its parameter's type and range, every bad one named.
//!
//! A parameter two rules read (the readmission window of rules 1 and 2, the outlier multiple of
//! rules 19 and 22) is one value: setting it under either rule sets it for both.

use kernel::Decimal;
use serde_json::{Map, Value};

use crate::catalogue::RuleId;
use crate::parameters::{CodeRange, Override, Parameters};

/// The parameters `rule` reads, by name (the lifecycle's promotion thresholds belong to none).
pub fn parameters_of(rule: RuleId) -> &'static [&'static str] {
    use RuleId::*;
    match rule {
        SplitAdmission => &[
            "readmission_window_days",
            "planned_cycle_adrgs",
            "planned_cycle_principals",
            "split_excluded_discharges",
        ],
        Readmission15Days => &["readmission_window_days"],
        LowStandardAdmission => &[
            "low_standard_max_los",
            "low_standard_exempt_discharges",
            "exam_lab_min_share",
            "low_cost_ratio",
        ],
        CostsMovedToOutpatient => &["outpatient_lookback_days"],
        OverFrequency => &["item_daily_limits"],
        BedBlocking => &["bed_blocking_days", "care_categories"],
        DiagnosisSexConflict => &["female_only", "male_only"],
        DiagnosisAgeConflict => &[
            "perinatal",
            "perinatal_max_age_days",
            "pregnancy",
            "pregnancy_min_age_years",
            "pregnancy_max_age_years",
        ],
        PrincipalDiagnosisSelection => &["symptom_codes"],
        VeryLongStay => &["very_long_stay_days", "per_diem_med_type"],
        SelfPayShift => &["self_pay_max_share"],
        HighCostShare => &["high_cost_multiple", "outlier_sd_multiple"],
        CmiRise => &["cmi_max_rise", "case_volume_max_change"],
        BlankGroups => &["blank_group_usual_share", "blank_group_min_hospitals"],
        AdmissionsPerPatient => &["outlier_sd_multiple"],
        LowRiskDeaths => &["low_risk_z"],
        SameDayReadmission | Upcoding | UnderCoding | AmbulatoryDuringStay | Substitution
        | DuplicateCharging | UnbundledCharging => &[],
    }
}

/// A parameter the request got wrong: its name (or empty for the object as a whole) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterError {
    pub name: String,
    pub reason: String,
}

impl ParameterError {
    fn new(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The overrides a JSON object of `rule`'s parameters gives, in name order; every bad
/// parameter is reported, and nothing is returned unless all are good.
pub fn read_rule_parameters(
    rule: RuleId,
    json: &str,
) -> Result<Vec<Override>, Vec<ParameterError>> {
    if let Err(too_long) = kernel::check_decimal_strings_in_json(json) {
        return Err(vec![ParameterError::new("", too_long.to_string())]);
    }
    let object: Map<String, Value> = match serde_json::from_str(json) {
        Ok(Value::Object(object)) => object,
        Ok(_) => {
            return Err(vec![ParameterError::new(
                "",
                "is a JSON object of parameters",
            )]);
        }
        Err(e) => return Err(vec![ParameterError::new("", format!("is not JSON: {e}"))]),
    };
    if object.is_empty() {
        return Err(vec![ParameterError::new(
            "",
            format!("names no parameter; rule {rule} has {}", names(rule)),
        )]);
    }
    let mut overrides = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in object {
        if !parameters_of(rule).contains(&name.as_str()) {
            errors.push(ParameterError::new(
                &name,
                format!("is not a parameter of rule {rule}; it has {}", names(rule)),
            ));
            continue;
        }
        match Override::from_json(&name, value) {
            Some(Ok(change)) => match check(&change) {
                Ok(()) => overrides.push(change),
                Err(reason) => errors.push(ParameterError::new(&name, reason)),
            },
            Some(Err(e)) => errors.push(ParameterError::new(
                &name,
                format!("has the wrong type: {e}"),
            )),
            None => errors.push(ParameterError::new(&name, "is not a screening parameter")),
        }
    }
    if errors.is_empty() {
        Ok(overrides)
    } else {
        Err(errors)
    }
}

/// `rule`'s parameters in `parameters` as a JSON object, name → value.
pub fn rule_parameters_json(rule: RuleId, parameters: &Parameters) -> Value {
    let Ok(Value::Object(all)) = serde_json::to_value(parameters) else {
        return Value::Object(Map::new());
    };
    Value::Object(
        all.into_iter()
            .filter(|(name, _)| parameters_of(rule).contains(&name.as_str()))
            .collect(),
    )
}

fn names(rule: RuleId) -> String {
    match parameters_of(rule) {
        [] => "no parameters".to_owned(),
        names => names.join(", "),
    }
}

fn days(value: i32, least: i32) -> Result<(), String> {
    if (least..=3_660).contains(&value) {
        Ok(())
    } else {
        Err(format!("is {value}; a number of days from {least} to 3660"))
    }
}

fn share(value: Decimal) -> Result<(), String> {
    if (Decimal::ZERO..=Decimal::ONE).contains(&value) {
        Ok(())
    } else {
        Err(format!("is {value}; a share from 0 to 1 (0.15 is 15 %)"))
    }
}

fn positive(value: Decimal) -> Result<(), String> {
    if value > Decimal::ZERO {
        Ok(())
    } else {
        Err(format!("is {value}; it must be above 0"))
    }
}

fn code_ranges(ranges: &[CodeRange]) -> Result<(), String> {
    for range in ranges {
        let well_formed = |code: &str| code.len() == 3 && code.is_ascii();
        if !well_formed(&range.first) || !well_formed(&range.last) || range.first > range.last {
            return Err(format!(
                "has the range {:?}–{:?}; ranges run between 3-character ICD-10 categories, first \
                 not after last",
                range.first, range.last
            ));
        }
    }
    Ok(())
}

/// The range each parameter's value must lie in.
fn check(change: &Override) -> Result<(), String> {
    match change {
        Override::ReadmissionWindowDays(v)
        | Override::LowStandardMaxLos(v)
        | Override::OutpatientLookbackDays(v)
        | Override::PerinatalMaxAgeDays(v) => days(*v, 0),
        Override::VeryLongStayDays(v) => days(*v, 1),
        Override::BedBlockingDays(v) => days(i32::try_from(*v).unwrap_or(i32::MAX), 1),
        Override::PregnancyMinAgeYears(v) | Override::PregnancyMaxAgeYears(v) => {
            if (0..=150).contains(v) {
                Ok(())
            } else {
                Err(format!("is {v}; an age in years from 0 to 150"))
            }
        }
        Override::ExamLabMinShare(v)
        | Override::SelfPayMaxShare(v)
        | Override::BlankGroupUsualShare(v)
        | Override::CmiMaxRise(v)
        | Override::CaseVolumeMaxChange(v) => share(*v),
        Override::LowCostRatio(v)
        | Override::HighCostMultiple(v)
        | Override::OutlierSdMultiple(v) => positive(*v),
        Override::BlankGroupMinHospitals(v) => {
            if *v >= 1 {
                Ok(())
            } else {
                Err("is 0; at least 1 hospital".to_owned())
            }
        }
        Override::FemaleOnly(r)
        | Override::MaleOnly(r)
        | Override::Perinatal(r)
        | Override::Pregnancy(r)
        | Override::SymptomCodes(r) => code_ranges(r),
        Override::ItemDailyLimits(limits) => {
            for (item, limit) in limits {
                if item.trim().is_empty() {
                    return Err("names an empty item code".to_owned());
                }
                positive(*limit).map_err(|reason| format!("for item {item} {reason}"))?;
            }
            Ok(())
        }
        Override::PerDiemMedType(text) if text.trim().is_empty() => {
            Err("is empty; a medical type code".to_owned())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_parameter_exists_and_the_rules_cover_them_all_but_the_lifecycles() {
        let mut covered: Vec<&str> = RuleId::ALL
            .iter()
            .flat_map(|rule| parameters_of(*rule).iter().copied())
            .collect();
        covered.sort_unstable();
        covered.dedup();
        for name in &covered {
            assert!(Parameters::NAMES.contains(name), "{name}");
        }
        let uncovered: Vec<&str> = Parameters::NAMES
            .iter()
            .copied()
            .filter(|name| !covered.contains(name))
            .collect();
        assert_eq!(
            uncovered,
            ["promotion_min_decided", "promotion_min_confirmed_share"]
        );
    }

    #[test]
    fn a_rules_parameters_are_read_typed() {
        let read = read_rule_parameters(
            RuleId::OverFrequency,
            r#"{"item_daily_limits": {"250101001": "2"}}"#,
        )
        .expect("good");
        let mut parameters = Parameters::default();
        for change in &read {
            parameters.apply(change);
        }
        assert_eq!(
            parameters.item_daily_limits.get("250101001"),
            Some(&Decimal::from(2))
        );
        let shown = rule_parameters_json(RuleId::OverFrequency, &parameters);
        assert_eq!(shown["item_daily_limits"]["250101001"], "2");
        assert_eq!(shown.as_object().map(Map::len), Some(1));
    }

    #[test]
    fn each_bad_parameter_is_named_with_why() {
        let errors = read_rule_parameters(
            RuleId::BedBlocking,
            r#"{"bed_blocking_days": 0, "care_categories": 5, "self_pay_max_share": "0.2"}"#,
        )
        .expect_err("bad");
        let named: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            named,
            ["bed_blocking_days", "care_categories", "self_pay_max_share"]
        );
        assert!(errors[0].reason.contains("from 1"), "{}", errors[0].reason);
        assert!(
            errors[1].reason.contains("wrong type"),
            "{}",
            errors[1].reason
        );
        assert!(
            errors[2].reason.contains("not a parameter of rule 13"),
            "{}",
            errors[2].reason
        );

        let share = read_rule_parameters(RuleId::SelfPayShift, r#"{"self_pay_max_share": 1.5}"#)
            .expect_err("share");
        assert_eq!(share[0].name, "self_pay_max_share");
        let limit = read_rule_parameters(
            RuleId::OverFrequency,
            r#"{"item_daily_limits": {"X": "0"}}"#,
        )
        .expect_err("zero limit");
        assert!(limit[0].reason.contains("item X"), "{}", limit[0].reason);
        for bad in ["[]", "{}", "not json"] {
            let errors = read_rule_parameters(RuleId::BedBlocking, bad).expect_err(bad);
            assert_eq!(errors[0].name, "", "{bad}");
        }
    }
}
