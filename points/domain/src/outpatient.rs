//! Outpatient payment (DOMAIN.md §3 per-capita and APG): the per-capita budget of a primary
//! institution, and APG (门诊病例分组) points of an ordinary outpatient visit.
//!
//! The APG table format is documented in `APG.md`; a small demo table ships in
//! `tables/apg-demo.tsv`.

use std::collections::BTreeMap;

use kernel::{Decimal, Money, Points};
use serde::{Deserialize, Serialize};

use crate::error::PolicyError;
use crate::policy::ValuationPolicy;

/// Why an APG table could not be read or a visit valued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApgError {
    #[error("apg table line {line}: {problem}")]
    BadTableLine { line: usize, problem: String },
    #[error("no APG medical group covers diagnosis {diagnosis:?}")]
    NoMedicalGroup { diagnosis: String },
    #[error("{field} is {value}, it must not be negative")]
    NegativeAmount { field: &'static str, value: Decimal },
    #[error("no per-capita rate for chronic disease {disease:?}")]
    NoChronicRate { disease: String },
}

impl ApgError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            ApgError::BadTableLine { .. } => "BAD_APG_TABLE_LINE",
            ApgError::NoMedicalGroup { .. } => "NO_APG_MEDICAL_GROUP",
            ApgError::NegativeAmount { .. } => "NEGATIVE_AMOUNT",
            ApgError::NoChronicRate { .. } => "NO_CHRONIC_RATE",
        }
    }
}

/// Budget of a primary institution: enrolled persons × rate per head per year, minus the cost of
/// referrals out (DOMAIN.md §3 per-capita). Rounded once to the fen.
pub fn per_capita_budget(
    enrolled: u64,
    rate_per_head: Money,
    referrals_out: Money,
) -> Result<Money, ApgError> {
    for (field, amount) in [
        ("rate_per_head", rate_per_head),
        ("referrals_out", referrals_out),
    ] {
        if amount.is_negative() {
            return Err(ApgError::NegativeAmount {
                field,
                value: amount.value(),
            });
        }
    }
    Ok(Money::round(
        Decimal::from(enrolled) * rate_per_head.value() - referrals_out.value(),
    ))
}

/// Budget for chronic and special outpatient diseases (门诊慢特病): for each disease, enrolled
/// patients × the table's rate per patient-year, summed and rounded once. A disease without a
/// rate is an error naming it.
pub fn chronic_per_capita_budget(
    rates: &crate::tables::PerCapitaRates,
    patients_by_disease: &BTreeMap<String, u64>,
) -> Result<Money, ApgError> {
    let mut total = Decimal::ZERO;
    for (disease, patients) in patients_by_disease {
        let rate = rates
            .chronic_diseases
            .get(disease)
            .ok_or_else(|| ApgError::NoChronicRate {
                disease: disease.clone(),
            })?;
        total += rate.value() * Decimal::from(*patients);
    }
    Ok(Money::round(total))
}

/// Kind of APG group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApgKind {
    /// Significant procedure group: members are procedure-code prefixes (ICD-9-CM-3).
    Procedure,
    /// Medical group: members are diagnosis-code prefixes (ICD-10), `*` for any.
    Medical,
}

/// One APG group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApgGroup {
    /// Group code (`P01`, `M07`).
    pub code: String,
    /// Procedure or medical group.
    pub kind: ApgKind,
    /// Base points of the group.
    pub base_points: Points,
    /// Readable name.
    pub name: String,
}

/// An APG table: groups and the code prefixes that map to them.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ApgTable {
    /// Groups by code.
    pub groups: BTreeMap<String, ApgGroup>,
    /// Procedure-code prefix → procedure group code.
    pub procedure_members: BTreeMap<String, String>,
    /// Diagnosis-code prefix (or `*`) → medical group code.
    pub diagnosis_members: BTreeMap<String, String>,
}

const DEMO_TABLE: &str = include_str!("../tables/apg-demo.tsv");

impl ApgTable {
    /// The demo table shipped with the crate (`tables/apg-demo.tsv`).
    pub fn demo() -> Result<Self, Vec<ApgError>> {
        Self::parse(DEMO_TABLE)
    }

    /// Reads a table in the `APG.md` format; reports every bad line.
    pub fn parse(text: &str) -> Result<Self, Vec<ApgError>> {
        let mut table = ApgTable::default();
        let mut errors = Vec::new();
        let mut header_seen = false;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.trim_end_matches('\r');
            if content.trim().is_empty() || content.starts_with('#') {
                continue;
            }
            let bad = |problem: String| ApgError::BadTableLine { line, problem };
            let fields: Vec<&str> = content.split('\t').collect();
            if !header_seen {
                header_seen = true;
                if fields != ["apg_code", "kind", "base_points", "members", "name"] {
                    errors.push(bad(
                        "header must be apg_code, kind, base_points, members, name".into(),
                    ));
                }
                continue;
            }
            let [code, kind, points, members, name] = fields[..] else {
                errors.push(bad(format!("{} columns, expected 5", fields.len())));
                continue;
            };
            let kind = match kind {
                "procedure" => ApgKind::Procedure,
                "medical" => ApgKind::Medical,
                other => {
                    errors.push(bad(format!("kind {other:?} must be procedure or medical")));
                    continue;
                }
            };
            let base_points = match points.parse::<Points>() {
                Ok(p) if !p.is_negative() => p,
                _ => {
                    errors.push(bad(format!(
                        "base_points {points:?} must be a non-negative number with at most 4 places"
                    )));
                    continue;
                }
            };
            if code.is_empty() || table.groups.contains_key(code) {
                errors.push(bad(format!("apg_code {code:?} is empty or repeated")));
                continue;
            }
            let member_map = match kind {
                ApgKind::Procedure => &mut table.procedure_members,
                ApgKind::Medical => &mut table.diagnosis_members,
            };
            for member in members.split(',').map(str::trim) {
                if member.is_empty() {
                    errors.push(bad("members must not be empty".into()));
                } else if let Some(previous) = member_map.insert(member.into(), code.into()) {
                    errors.push(bad(format!(
                        "member {member:?} already belongs to {previous}"
                    )));
                }
            }
            table.groups.insert(
                code.into(),
                ApgGroup {
                    code: code.into(),
                    kind,
                    base_points,
                    name: name.into(),
                },
            );
        }
        if !header_seen {
            errors.push(ApgError::BadTableLine {
                line: 0,
                problem: "table is empty".into(),
            });
        }
        if errors.is_empty() {
            Ok(table)
        } else {
            Err(errors)
        }
    }

    /// Checks a table given as JSON (inside the valuation tables): every group's points are not
    /// negative and its code is its key, every member names a group of its own kind.
    pub(crate) fn check(&self, check: &mut crate::error::Checker) {
        for (code, group) in &self.groups {
            check.non_negative(
                &format!("apg.groups.{code}.base_points"),
                group.base_points.value(),
            );
            if &group.code != code {
                check.errors.push(PolicyError::Mismatch {
                    field: format!("apg.groups.{code}.code"),
                    expected: code.clone(),
                    actual: group.code.clone(),
                });
            }
        }
        for (field, members, kind) in [
            (
                "procedure_members",
                &self.procedure_members,
                ApgKind::Procedure,
            ),
            (
                "diagnosis_members",
                &self.diagnosis_members,
                ApgKind::Medical,
            ),
        ] {
            for (prefix, group) in members {
                if self.groups.get(group).is_none_or(|g| g.kind != kind) {
                    check.errors.push(PolicyError::Unknown {
                        field: format!("apg.{field}.{prefix}"),
                        value: group.clone(),
                    });
                }
            }
        }
    }

    fn group_of<'t>(
        &'t self,
        members: &'t BTreeMap<String, String>,
        code: &str,
    ) -> Option<&'t ApgGroup> {
        members
            .iter()
            .filter(|(prefix, _)| code.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .or_else(|| members.get_key_value("*"))
            .and_then(|(_, group)| self.groups.get(group))
    }
}

/// An ordinary outpatient visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutpatientVisit {
    /// Principal diagnosis code (ICD-10), for the medical group.
    pub principal_diagnosis: String,
    /// Procedure codes of the visit, in any order.
    #[serde(default)]
    pub procedures: Vec<String>,
}

/// One significant procedure as valued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApgLine {
    /// Procedure code as given.
    pub procedure: String,
    /// APG group it falls in.
    pub apg_code: String,
    /// Base points of that group.
    pub base_points: Points,
    /// Share applied (first 100 %, others 50 % by default).
    pub share: Decimal,
}

/// APG points of a visit and their breakdown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApgValuation {
    /// Significant procedures, highest base points first.
    pub procedures: Vec<ApgLine>,
    /// Procedures no significant group covers (ancillary; not valued separately).
    pub unmatched_procedures: Vec<String>,
    /// Medical group of the principal diagnosis, when included.
    pub medical_group: Option<String>,
    /// Points of the medical group.
    pub medical_points: Points,
    /// Σ procedure points × share + medical group points, rounded once.
    pub points: Points,
}

/// Values a visit: its significant procedure groups with multiple-procedure discounting (the
/// highest-valued at the first share, every other at the other share) plus its medical group.
pub fn valuate_visit(
    policy: &ValuationPolicy,
    table: &ApgTable,
    visit: &OutpatientVisit,
) -> Result<ApgValuation, ApgError> {
    let rules = &policy.apg;
    let mut lines = Vec::new();
    let mut unmatched = Vec::new();
    for procedure in &visit.procedures {
        match table.group_of(&table.procedure_members, procedure) {
            Some(group) => lines.push(ApgLine {
                procedure: procedure.clone(),
                apg_code: group.code.clone(),
                base_points: group.base_points,
                share: rules.other_procedure_share,
            }),
            None => unmatched.push(procedure.clone()),
        }
    }
    // The highest-valued procedure is paid in full; ties keep the visit's order.
    lines.sort_by_key(|line| std::cmp::Reverse(line.base_points));
    if let Some(first) = lines.first_mut() {
        first.share = rules.first_procedure_share;
    }
    let (medical_group, medical_points) = if rules.include_medical_group {
        let group = table
            .group_of(&table.diagnosis_members, &visit.principal_diagnosis)
            .ok_or_else(|| ApgError::NoMedicalGroup {
                diagnosis: visit.principal_diagnosis.clone(),
            })?;
        (Some(group.code.clone()), group.base_points)
    } else {
        (None, Points::ZERO)
    };
    let raw: Decimal = lines
        .iter()
        .map(|line| line.base_points.value() * line.share)
        .sum::<Decimal>()
        + medical_points.value();
    Ok(ApgValuation {
        procedures: lines,
        unmatched_procedures: unmatched,
        medical_group,
        medical_points,
        points: Points::round(raw),
    })
}
