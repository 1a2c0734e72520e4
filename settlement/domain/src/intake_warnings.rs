//! The data-quality warnings intake keeps with an accepted record (DOMAIN.md §1 "Warnings
//! (accepted, flagged for data-quality indicators)"; §6 settlement-list QC pass rate and coding
//! error rate).
//!
//! Two sources: validation's warnings ([`crate::validation`]), and the codes the grouping scheme
//! in force for the list does not know, which grouping reports when intake groups the case
//! ([`crate::ports::UnknownCode`]): the dictionaries live with the scheme, so the check costs no
//! extra call.
//!
//! An unknown code does not reject the list. DOMAIN.md §1 asks that codes exist in the scheme's
//! dictionaries, but the scheme is the grouping context's and is not known while the record is
//! validated, and rejecting a list that intake takes today would leave the hospital's stay
//! unpaid and out of every indicator. The list is stored and the code kept as a warning, with a
//! level: an unknown **principal diagnosis** is level [`WarningLevel::Error`] (the list fails
//! quality control: its group rests on that code), every other warning is
//! [`WarningLevel::Warning`] (flagged, the list still passes). Supervision counts a list without
//! an error-level warning as passing QC, and a list with an unknown code, or a code that
//! contradicts the patient's sex or age, as a coding error.

use crate::ports::{CodeKind, UnknownCode};
use crate::validation::{Violation, ViolationKind};

/// Whether a warning fails the list's quality control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WarningLevel {
    /// The list fails quality control.
    Error,
    /// Flagged only.
    Warning,
}

impl WarningLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            WarningLevel::Error => "error",
            WarningLevel::Warning => "warning",
        }
    }

    /// The level of a stored word.
    pub fn parse(word: &str) -> Option<WarningLevel> {
        match word {
            "error" => Some(WarningLevel::Error),
            "warning" => Some(WarningLevel::Warning),
            _ => None,
        }
    }
}

/// One warning kept with a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntakeWarning {
    pub level: WarningLevel,
    /// Machine-readable reason in lower case, e.g. `unknown_diagnosis_code`.
    pub code: String,
    /// Field path as the list is written on the wire, e.g. `diagnoses[0].code`.
    pub field: String,
    /// The offending value, in words.
    pub detail: String,
}

/// A validation warning as kept.
pub fn of_violation(violation: &Violation) -> IntakeWarning {
    IntakeWarning {
        level: WarningLevel::Warning,
        code: violation.reason().to_ascii_lowercase(),
        field: violation.field.clone(),
        detail: violation.detail.clone(),
    }
}

/// An unknown code as kept: an unknown principal diagnosis fails quality control.
pub fn of_unknown_code(unknown: &UnknownCode) -> IntakeWarning {
    let (kind, list, what) = match unknown.kind {
        CodeKind::Diagnosis => (
            ViolationKind::UnknownDiagnosisCode,
            "diagnoses",
            "diagnosis",
        ),
        CodeKind::Procedure => (
            ViolationKind::UnknownProcedureCode,
            "procedures",
            "procedure",
        ),
    };
    let principal = unknown.position == 0 && unknown.kind == CodeKind::Diagnosis;
    IntakeWarning {
        level: if principal {
            WarningLevel::Error
        } else {
            WarningLevel::Warning
        },
        code: kind.reason().to_ascii_lowercase(),
        field: format!("{list}[{}].code", unknown.position),
        detail: format!("{what} code {:?} {SCHEME_CHECK}", unknown.code),
    }
}

/// How a warning from the grouping scheme's dictionaries ends its detail: what tells it from a
/// validation warning of the same code (a validation dictionary, when one is configured).
const SCHEME_CHECK: &str = "is not in the dictionaries of the grouping scheme in force";

/// Whether `warning` came from the scheme's dictionaries ([`of_unknown_code`]).
fn from_scheme(warning: &IntakeWarning) -> bool {
    [
        ViolationKind::UnknownDiagnosisCode,
        ViolationKind::UnknownProcedureCode,
    ]
    .iter()
    .any(|kind| warning.code == kind.reason().to_ascii_lowercase())
        && warning.detail.ends_with(SCHEME_CHECK)
}

/// A record's warnings after it was grouped again (revaluation, DOMAIN.md §5): what the scheme
/// then in force did not know replaces what the scheme before did not, and every other warning
/// (validation's, which the content alone decides) stays, in the order found.
pub fn rechecked(previous: &[IntakeWarning], unknown: &[UnknownCode]) -> Vec<IntakeWarning> {
    previous
        .iter()
        .filter(|w| !from_scheme(w))
        .cloned()
        .chain(unknown.iter().map(of_unknown_code))
        .collect()
}

/// Every warning of a record, in the order found: validation's, then the unknown codes.
pub fn warnings_of(validation: &[Violation], unknown: &[UnknownCode]) -> Vec<IntakeWarning> {
    validation
        .iter()
        .map(of_violation)
        .chain(unknown.iter().map(of_unknown_code))
        .collect()
}

/// Whether a list with these warnings passes quality control (no error-level warning).
pub fn passes_qc<'a>(levels: impl IntoIterator<Item = &'a WarningLevel>) -> bool {
    levels
        .into_iter()
        .all(|level| *level != WarningLevel::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(kind: CodeKind, position: usize, code: &str) -> UnknownCode {
        UnknownCode {
            kind,
            position,
            code: code.into(),
        }
    }

    #[test]
    fn only_an_unknown_principal_diagnosis_fails_quality_control() {
        let principal = of_unknown_code(&unknown(CodeKind::Diagnosis, 0, "X99.999"));
        assert_eq!(
            (
                principal.level,
                principal.code.as_str(),
                principal.field.as_str()
            ),
            (
                WarningLevel::Error,
                "unknown_diagnosis_code",
                "diagnoses[0].code"
            )
        );
        let secondary = of_unknown_code(&unknown(CodeKind::Diagnosis, 2, "X99.999"));
        assert_eq!(secondary.level, WarningLevel::Warning);
        assert_eq!(secondary.field, "diagnoses[2].code");
        let procedure = of_unknown_code(&unknown(CodeKind::Procedure, 0, "99.9999"));
        assert_eq!(
            (procedure.level, procedure.code.as_str()),
            (WarningLevel::Warning, "unknown_procedure_code")
        );
        assert!(passes_qc([&secondary.level, &procedure.level]));
        assert!(!passes_qc([&secondary.level, &principal.level]));
    }

    #[test]
    fn validation_warnings_come_first_in_lower_case() {
        let violation = Violation {
            hospital_code: "H1".into(),
            list_id: "L1".into(),
            field: "diagnoses[1].code".into(),
            kind: ViolationKind::DiagnosisSexConflict,
            detail: "O80.000 on a male patient".into(),
        };
        let kept = warnings_of(
            std::slice::from_ref(&violation),
            &[unknown(CodeKind::Procedure, 1, "00.0000")],
        );
        let codes: Vec<&str> = kept.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, ["diagnosis_sex_conflict", "unknown_procedure_code"]);
        assert_eq!(kept[0].level, WarningLevel::Warning);
        assert_eq!(kept[1].field, "procedures[1].code");
    }

    #[test]
    fn a_recheck_replaces_the_scheme_s_unknown_codes_and_keeps_validation_s() {
        let validation = |code: &str, detail: &str| IntakeWarning {
            level: WarningLevel::Warning,
            code: code.into(),
            field: "diagnoses[1].code".into(),
            detail: detail.into(),
        };
        let previous = vec![
            validation("diagnosis_sex_conflict", "O80.000 on a male patient"),
            // A validation dictionary's finding names only the code: it stays.
            validation("unknown_diagnosis_code", "X00.000"),
            of_unknown_code(&unknown(CodeKind::Diagnosis, 0, "A00.900")),
            of_unknown_code(&unknown(CodeKind::Procedure, 1, "00.0000")),
        ];
        let known_now = rechecked(&previous, &[]);
        assert_eq!(known_now, previous[..2]);
        assert!(passes_qc(known_now.iter().map(|w| &w.level)));
        let still = rechecked(&previous, &[unknown(CodeKind::Procedure, 1, "00.0000")]);
        assert_eq!(still, [&previous[..2], &previous[3..]].concat());
    }

    #[test]
    fn levels_read_back_from_their_words() {
        for level in [WarningLevel::Error, WarningLevel::Warning] {
            assert_eq!(WarningLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(WarningLevel::parse("fatal"), None);
    }
}
