//! Proto ↔ domain conversion. Reading a request is a `TryFrom` that reports every violated field
//! at once, never only the first.

use std::collections::BTreeMap;

use grouping_dip::build::{BuildOptions, BuildReport, TrimPolicy};
use grouping_dip::{AuxiliaryPolicy, DipCase, GroupKind, TreatmentType};
use grouping_domain::{GroupResult, GroupStatus, RawCase};
use kernel::{Date, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as pb;
use platform::wire::{Violation, decimal_to_wire, money_to_wire, required_date, wire_date};

use crate::catalog::{SchemeKind, SchemeSummary};
use crate::store::StoredActivation;

fn status_to_wire(status: GroupStatus) -> pb::GroupStatus {
    match status {
        GroupStatus::Success => pb::GroupStatus::Success,
        GroupStatus::Fail => pb::GroupStatus::Fail,
        GroupStatus::CheckFailed => pb::GroupStatus::CheckFailed,
        GroupStatus::DxNotMapped => pb::GroupStatus::DxNotMapped,
        GroupStatus::ProcNotMapped => pb::GroupStatus::ProcNotMapped,
        GroupStatus::Ambiguous => pb::GroupStatus::Ambiguous,
    }
}

fn reason_of(status: GroupStatus) -> &'static str {
    match status {
        GroupStatus::Success => "",
        GroupStatus::Fail => "no MDC or ADRG of the scheme accepts the case (ungroupable, 0000)",
        GroupStatus::CheckFailed => {
            "the input checks failed: sex, age, newborn age in days or weight, or no diagnosis"
        }
        GroupStatus::DxNotMapped => "a diagnosis code has no entry in the scheme's diagnosis map",
        GroupStatus::ProcNotMapped => "a procedure code has no entry in the scheme's procedure map",
        GroupStatus::Ambiguous => "the surgical procedure does not belong to the case's MDC",
    }
}

fn kind_to_wire(kind: SchemeKind) -> pb::SchemeKind {
    match kind {
        SchemeKind::Drg => pb::SchemeKind::Drg,
        SchemeKind::Dip => pb::SchemeKind::Dip,
    }
}

/// The scheme kind a load request names (unspecified means DRG).
pub(crate) fn kind_from_wire(kind: i32) -> Result<SchemeKind, Violation> {
    match pb::SchemeKind::try_from(kind) {
        Ok(pb::SchemeKind::Drg) | Ok(pb::SchemeKind::Unspecified) => Ok(SchemeKind::Drg),
        Ok(pb::SchemeKind::Dip) => Ok(SchemeKind::Dip),
        Err(_) => Err(("kind".to_owned(), "is not a known scheme kind".to_owned())),
    }
}

pub(crate) fn scheme_ref(summary: &SchemeSummary) -> pb::SchemeRef {
    pb::SchemeRef {
        scheme_id: summary.key.id.clone(),
        version: summary.key.version.clone(),
        kind: kind_to_wire(summary.kind) as i32,
    }
}

pub(crate) fn result_to_wire(
    case_id: &str,
    result: &GroupResult,
    summary: &SchemeSummary,
) -> pb::GroupResult {
    pb::GroupResult {
        case_id: case_id.to_owned(),
        status: status_to_wire(result.status) as i32,
        mdc: result.mdc.as_str().to_owned(),
        adrg: result.adrg.as_str().to_owned(),
        drg: result.drg.as_str().to_owned(),
        scheme: Some(scheme_ref(summary)),
        dip_subtype: String::new(),
        dip_coefficient: None,
        reason: reason_of(result.status).to_owned(),
        trace_json: String::new(),
        complications: Vec::new(),
        dip_treatment: pb::DipTreatment::Unspecified as i32,
    }
}

/// The secondary diagnoses a DRG scheme counted as MCC or CC, on the wire.
pub(crate) fn complications_to_wire(
    counted: Vec<grouping_domain::CountedComplication>,
) -> Vec<pb::CountedComplication> {
    counted
        .into_iter()
        .map(|c| pb::CountedComplication {
            position: u32::try_from(c.position).unwrap_or(u32::MAX),
            code: c.code,
            kind: match c.kind {
                grouping_domain::ComplicationKind::Mcc => pb::ComplicationKind::Mcc,
                grouping_domain::ComplicationKind::Cc => pb::ComplicationKind::Cc,
            } as i32,
        })
        .collect()
}

pub(crate) fn summary_to_wire(summary: &SchemeSummary) -> pb::SchemeInfo {
    pb::SchemeInfo {
        scheme_id: summary.key.id.clone(),
        version: summary.key.version.clone(),
        kind: kind_to_wire(summary.kind) as i32,
        name: summary.name.clone(),
        mdc_count: summary.mdc_count,
        adrg_count: summary.adrg_count,
        drg_count: summary.drg_count,
        source: summary.source.clone(),
    }
}

pub(crate) fn activation_to_wire(activation: StoredActivation) -> pb::Activation {
    pb::Activation {
        region_code: activation.region.to_string(),
        scheme_id: activation.scheme_id,
        version: activation.version,
        effective_from: Some(wire_date(activation.effective_from)),
        activated_by: activation.activated_by,
    }
}

/// The raw text fields of a case, owned, for the DRG engine's borrowed view.
pub(crate) struct CaseText {
    diagnoses: String,
    procedures: String,
    length_of_stay: String,
}

impl CaseText {
    pub(crate) fn of(case: &pb::CaseInput) -> CaseText {
        CaseText {
            diagnoses: case.diagnoses.join("|"),
            procedures: case.procedures.join("|"),
            length_of_stay: case.length_of_stay_days.to_string(),
        }
    }

    pub(crate) fn raw<'a>(&'a self, case: &'a pb::CaseInput) -> RawCase<'a> {
        RawCase {
            gender: &case.gender,
            age: &case.age_years,
            age_days: &case.age_days,
            weight: &case.weight_grams,
            dept: &case.department,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
            length_of_stay: &self.length_of_stay,
            leaving_type: &case.discharge_type,
        }
    }
}

/// A case as DIP grouping reads it.
pub(crate) struct DipInput(pub(crate) DipCase);

impl TryFrom<&pb::CaseInput> for DipInput {
    type Error = Vec<Violation>;

    fn try_from(case: &pb::CaseInput) -> Result<Self, Self::Error> {
        let mut violations = Vec::new();
        let mut number = |field: &str, text: &str| -> Option<u32> {
            match text.trim().parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    violations.push((
                        format!("case.{field}"),
                        format!("{text:?} is not a whole number"),
                    ));
                    None
                }
            }
        };
        let age_years = number("age_years", &case.age_years);
        let age_days = if case.age_days.is_empty() {
            None
        } else {
            number("age_days", &case.age_days)
        };
        let discharge_type = if case.discharge_type.is_empty() {
            Some(1)
        } else {
            match case.discharge_type.parse::<u8>() {
                Ok(t) => Some(t),
                Err(_) => {
                    violations.push((
                        "case.discharge_type".into(),
                        format!("{:?} is not a discharge type", case.discharge_type),
                    ));
                    None
                }
            }
        };
        let los_days = u32::try_from(case.length_of_stay_days).map_err(|_| {
            violations.push((
                "case.length_of_stay_days".into(),
                "must not be negative".into(),
            ));
        });
        let total_cost = platform::wire::money("case.total_cost", case.total_cost.as_ref())
            .map_err(|v| violations.push(v));
        let Some(principal) = case.diagnoses.first() else {
            violations.push((
                "case.diagnoses".into(),
                "needs a principal diagnosis".into(),
            ));
            return Err(violations);
        };
        match (age_years, discharge_type, los_days, total_cost) {
            (Some(age_years), Some(discharge_type), Ok(los_days), Ok(total_cost))
                if violations.is_empty() =>
            {
                Ok(DipInput(DipCase {
                    principal_diagnosis: principal.clone(),
                    secondary_diagnoses: case.diagnoses[1..].to_vec(),
                    procedures: case.procedures.clone(),
                    age_years,
                    age_days,
                    discharge_type,
                    los_days,
                    total_cost: total_cost.value(),
                }))
            }
            _ => Err(violations),
        }
    }
}

/// The checked fields of an activation request.
pub(crate) struct ActivationInput {
    pub(crate) effective_from: Date,
}

impl TryFrom<&pb::ActivateSchemeRequest> for ActivationInput {
    type Error = Vec<Violation>;

    fn try_from(body: &pb::ActivateSchemeRequest) -> Result<Self, Self::Error> {
        let mut violations = Vec::new();
        if body.request_id.is_empty() {
            violations.push(("request_id".to_owned(), "is required".to_owned()));
        }
        let effective_from = required_date("effective_from", body.effective_from.as_ref())
            .map_err(|v| violations.push(v))
            .ok();
        match effective_from {
            Some(effective_from) if violations.is_empty() => Ok(Self { effective_from }),
            _ => Err(violations),
        }
    }
}

/// A build request read against the procedure-type table it names (looked up in the catalogue
/// beforehand; a failed lookup is the first violation).
pub(crate) struct BuildRequest<'a> {
    pub(crate) region: RegionCode,
    pub(crate) procedure_types: Result<BTreeMap<String, TreatmentType>, Violation>,
    pub(crate) body: &'a pb::BuildDipDirectoryRequest,
}

impl TryFrom<BuildRequest<'_>> for BuildOptions {
    type Error = Vec<Violation>;

    fn try_from(request: BuildRequest<'_>) -> Result<Self, Self::Error> {
        let body = request.body;
        let mut violations = Vec::new();
        let defaults = pb::DipBuildOptions::default();
        let extra = body.options.as_ref().unwrap_or(&defaults);
        let procedure_types = request.procedure_types.unwrap_or_else(|violation| {
            violations.push(violation);
            Default::default()
        });
        let mut options = BuildOptions::new(request.region, procedure_types);
        for (i, &year) in body.years.iter().enumerate() {
            if let Err(violation) = platform::wire::year(&format!("years[{i}]"), year) {
                violations.push(violation);
            }
        }
        options.years = body.years.clone();
        if body.min_cases > 0 {
            options.min_cases = u64::from(body.min_cases);
        }
        if let Some(scale) =
            decimal_field("score_scale", body.score_scale.as_ref(), &mut violations)
        {
            options.score_scale = scale;
        }
        if !extra.year_weights.is_empty() {
            options.year_weights = extra
                .year_weights
                .iter()
                .enumerate()
                .filter_map(|(i, w)| {
                    let field = format!("options.year_weights[{i}]");
                    let weight = decimal_field(&field, Some(w), &mut violations);
                    if weight.is_none() && w.value.is_empty() {
                        violations.push((field, "is required".to_owned()));
                    }
                    weight
                })
                .collect();
        }
        if let Some(trimming) = &extra.trimming {
            options.trim = if trimming.none {
                TrimPolicy::None
            } else {
                let one_and_a_half = rust_decimal::Decimal::new(15, 1);
                TrimPolicy::Iqr {
                    lower_multiple: decimal_field(
                        "options.trimming.lower_multiple",
                        trimming.lower_multiple.as_ref(),
                        &mut violations,
                    )
                    .unwrap_or(one_and_a_half),
                    upper_multiple: decimal_field(
                        "options.trimming.upper_multiple",
                        trimming.upper_multiple.as_ref(),
                        &mut violations,
                    )
                    .unwrap_or(one_and_a_half),
                }
            };
        }
        if !extra.directory_id.is_empty() {
            options.directory_id = extra.directory_id.clone();
        }
        if !extra.directory_name.is_empty() {
            options.directory_name = extra.directory_name.clone();
        }
        if !extra.directory_version.is_empty() {
            options.directory_version = extra.directory_version.clone();
        }
        if extra.directory_year != 0 {
            match platform::wire::year("options.directory_year", extra.directory_year) {
                Ok(year) => options.directory_year = Some(year),
                Err(violation) => violations.push(violation),
            }
        }
        options.report_combinations = extra.report_combinations;
        // The tables are read by the build, which names a bad line (see `dip_build`).
        if !extra.cci_weights_tsv.is_empty() {
            options.cci_weights_tsv = Some(extra.cci_weights_tsv.clone());
        }
        if !extra.tumour_markers_tsv.is_empty() {
            options.tumour_markers_tsv = Some(extra.tumour_markers_tsv.clone());
        }
        if let Some(policy) = &extra.auxiliary_policy {
            options.auxiliary_policy = policy_from_wire(policy);
        }
        if extra.auxiliary_min_cases > 0 {
            options.auxiliary_min_cases = Some(u64::from(extra.auxiliary_min_cases));
        }
        if body.history_csv.is_empty() {
            violations.push(("history_csv".to_owned(), "is required".to_owned()));
        }
        if violations.is_empty() {
            Ok(options)
        } else {
            Err(violations)
        }
    }
}

/// The wire's 0 is proto3's unset: that bound keeps its default.
fn policy_from_wire(policy: &pb::DipAuxiliaryPolicy) -> AuxiliaryPolicy {
    let defaults = AuxiliaryPolicy::default();
    let or = |value: u32, default: u32| if value == 0 { default } else { value };
    AuxiliaryPolicy {
        early_death_los_days: or(policy.early_death_los_days, defaults.early_death_los_days),
        newborn_max_days: or(policy.newborn_max_days, defaults.newborn_max_days),
        young_child_max_years: or(policy.young_child_max_years, defaults.young_child_max_years),
        minor_max_years: or(policy.minor_max_years, defaults.minor_max_years),
        elderly_min_years: or(policy.elderly_min_years, defaults.elderly_min_years),
        cci_mild_max: or(policy.cci_mild_max, defaults.cci_mild_max),
        cci_severe_max: or(policy.cci_severe_max, defaults.cci_severe_max),
    }
}

fn decimal_field(
    field: &str,
    value: Option<&common::Decimal>,
    violations: &mut Vec<Violation>,
) -> Option<rust_decimal::Decimal> {
    let text = value.map_or("", |d| d.value.as_str());
    if text.is_empty() {
        return None;
    }
    // kernel's reader refuses an overlong number before rust_decimal, whose parser recurses once
    // per leading zero: a caller's long enough string would overflow the worker's stack.
    match kernel::parse_decimal(text) {
        Ok(value) => Some(value),
        Err(too_long @ kernel::AmountError::TooLong { .. }) => {
            violations.push((field.to_owned(), too_long.to_string()));
            None
        }
        Err(_) => {
            violations.push((
                field.to_owned(),
                format!("{text:?} is not a decimal number"),
            ));
            None
        }
    }
}

pub(crate) fn treatment_to_wire(treatment: TreatmentType) -> i32 {
    use TreatmentType as T;
    (match treatment {
        T::Conservative => pb::DipTreatment::Conservative,
        T::Diagnostic => pb::DipTreatment::Diagnostic,
        T::Therapeutic => pb::DipTreatment::Therapeutic,
        T::Interventional => pb::DipTreatment::Interventional,
        T::Surgical => pb::DipTreatment::Surgical,
    }) as i32
}

fn group_kind_to_wire(kind: GroupKind) -> i32 {
    (match kind {
        GroupKind::Core => pb::DipGroupKind::Core,
        GroupKind::Basic => pb::DipGroupKind::Basic,
        GroupKind::Comprehensive => pb::DipGroupKind::Comprehensive,
    }) as i32
}

pub(crate) fn report_to_wire(report: &BuildReport) -> pb::DipBuildReport {
    pb::DipBuildReport {
        years: report
            .years
            .iter()
            .map(|y| pb::DipBuildYear {
                year: y.year,
                weight: Some(decimal_to_wire(y.weight.normalize())),
                cases: y.cases,
            })
            .collect(),
        cases_read: report.cases_read,
        cases_trimmed: report.cases_trimmed,
        ignored_procedure_codes: report.ignored_procedure_codes,
        reference_mean_cost: Some(decimal_to_wire(report.reference_mean_cost)),
        groups: report
            .groups
            .iter()
            .map(|g| pb::DipGroupReport {
                code: g.code.clone(),
                kind: group_kind_to_wire(g.kind),
                treatment: treatment_to_wire(g.treatment),
                diagnosis: g.diagnosis.clone(),
                procedures: g.procedures.clone(),
                cases: g.cases,
                trimmed_cases: g.trimmed_cases,
                mean_cost: Some(money_to_wire(g.weighted_mean_cost)),
                cv: g.cv.map(decimal_to_wire),
                score: Some(decimal_to_wire(g.score)),
            })
            .collect(),
        riv: report.riv.map(decimal_to_wire),
        combinations: report
            .combinations
            .iter()
            .map(|c| pb::DipCombinationReport {
                diagnosis_category: c.diagnosis_category.clone(),
                procedures: c.procedures.clone(),
                treatment: treatment_to_wire(c.treatment),
                cases: c.cases,
                trimmed_cases: c.trimmed_cases,
                group: c.group.clone(),
            })
            .collect(),
        auxiliary: report
            .auxiliary
            .iter()
            .map(|a| pb::DipAuxiliaryReport {
                group: a.group.clone(),
                dimension: a.dimension.as_str().to_owned(),
                subtype: a.subtype.as_str().to_owned(),
                cases: a.cases,
                coefficient: Some(decimal_to_wire(a.coefficient)),
            })
            .collect(),
    }
}
