//! Grouping one wire case with a loaded scheme (DRG or DIP), shared by the public and the
//! internal server.

use grouping_dip::{CompiledDirectory, DipOutcome};
use grouping_domain::{GroupStatus, Scratch};
use medpay_proto::grouping::v1 as pb;
use platform::wire::Violation;

use super::convert::{
    CaseText, DipInput, complications_to_wire, result_to_wire, scheme_ref, treatment_to_wire,
};
use crate::catalog::{Engine, LoadedScheme, SchemeSummary};
use crate::error::Error;

/// Why a scheme could not group one case.
#[derive(Debug)]
pub(crate) enum CaseRefusal {
    /// Fields a DIP directory needs are missing or malformed: every violation.
    Invalid(Vec<Violation>),
    /// The DIP grouper refused the case (DOMAIN.md §1: reject with a reason, never guess).
    Refused(grouping_dip::CaseError),
    /// The trace could not be serialized.
    Internal(String),
}

impl CaseRefusal {
    /// Stable machine-readable reason.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            CaseRefusal::Invalid(_) => "INVALID_CASE",
            CaseRefusal::Refused(error) => error.reason(),
            CaseRefusal::Internal(_) => "INTERNAL",
        }
    }

    /// What is wrong, for a person.
    pub(crate) fn message(&self) -> String {
        match self {
            CaseRefusal::Invalid(violations) => violations
                .iter()
                .map(|(field, description)| format!("{field}: {description}"))
                .collect::<Vec<_>>()
                .join("; "),
            CaseRefusal::Refused(error) => error.to_string(),
            CaseRefusal::Internal(message) => message.clone(),
        }
    }
}

impl From<CaseRefusal> for Error {
    fn from(refusal: CaseRefusal) -> Error {
        match refusal {
            CaseRefusal::Invalid(violations) => Error::Invalid(violations),
            CaseRefusal::Refused(error) => Error::Refused(error.reason(), error.to_string()),
            CaseRefusal::Internal(message) => Error::Internal(message),
        }
    }
}

pub(crate) fn group_one(
    scheme: &LoadedScheme,
    case: &pb::CaseInput,
    map_codes: bool,
    trace: bool,
    scratch: &mut Scratch,
) -> Result<pb::GroupResult, CaseRefusal> {
    match &scheme.engine {
        Engine::Drg(drg) => {
            let text = CaseText::of(case);
            let raw = text.raw(case);
            let (mut result, grouped) = if trace {
                let traced = drg.group_traced(&raw, map_codes);
                let mut result = result_to_wire(&case.case_id, &traced.result, &scheme.summary);
                result.trace_json = serde_json::to_string(&traced)
                    .map_err(|e| CaseRefusal::Internal(format!("trace does not serialize: {e}")))?;
                (result, traced.result.status == GroupStatus::Success)
            } else {
                let grouped = drg.group(&raw, map_codes, scratch);
                (
                    result_to_wire(&case.case_id, &grouped, &scheme.summary),
                    grouped.status == GroupStatus::Success,
                )
            };
            if grouped {
                result.complications =
                    complications_to_wire(drg.counted_complications(&raw, map_codes));
            }
            Ok(result)
        }
        Engine::Dip(dip) => group_dip(dip, &scheme.summary, case, trace),
    }
}

fn group_dip(
    directory: &CompiledDirectory,
    summary: &SchemeSummary,
    case: &pb::CaseInput,
    trace: bool,
) -> Result<pb::GroupResult, CaseRefusal> {
    let DipInput(input) = DipInput::try_from(case).map_err(CaseRefusal::Invalid)?;
    let (outcome, trace_json) = if trace {
        let (outcome, traced) = directory
            .group_traced(&input)
            .map_err(CaseRefusal::Refused)?;
        let json = serde_json::to_string(&traced)
            .map_err(|e| CaseRefusal::Internal(format!("trace does not serialize: {e}")))?;
        (outcome, json)
    } else {
        let outcome = directory.group(&input).map_err(CaseRefusal::Refused)?;
        (outcome, String::new())
    };
    let mut result = pb::GroupResult {
        case_id: case.case_id.clone(),
        scheme: Some(scheme_ref(summary)),
        trace_json,
        ..Default::default()
    };
    match outcome {
        DipOutcome::Grouped(assignment) => {
            // DOMAIN.md §6 rule 5, DIP form: the secondaries whose CCI band raised the score.
            result.complications = directory
                .counted_comorbidities(&input, &assignment)
                .into_iter()
                .filter_map(|index| {
                    let code = input.secondary_diagnoses.get(index)?.clone();
                    Some(pb::CountedComplication {
                        position: u32::try_from(index + 2).unwrap_or(u32::MAX),
                        code,
                        kind: pb::ComplicationKind::Cci as i32,
                    })
                })
                .collect();
            result.status = pb::GroupStatus::Success as i32;
            result.adrg = assignment.kind.as_str().to_owned();
            result.drg = assignment.group_code;
            result.dip_subtype = assignment
                .auxiliary
                .as_ref()
                .map(|a| a.subtype.as_str().to_owned())
                .unwrap_or_default();
            result.dip_coefficient = Some(platform::wire::decimal_to_wire(
                assignment.auxiliary_coefficient,
            ));
            result.dip_treatment = treatment_to_wire(assignment.treatment);
        }
        DipOutcome::Ungrouped { reason, .. } => {
            result.status = pb::GroupStatus::Fail as i32;
            result.reason = reason.reason().to_owned();
        }
    }
    Ok(result)
}
