//! The case's comorbidity index and its auxiliary subtype (DOMAIN.md §2 DIP, domain-formulas
//! §3.3): the subtypes that apply, their coefficients for the group, and the one that wins.
//!
//! The classification of a case into subtypes ([`CciIndex`], [`tumour_subtypes`] and the
//! [`AuxiliaryPolicy`] bands) is shared with the directory build, which derives the coefficients
//! from history: a case is counted in the subtype the grouper will later put it in.

use grouping_domain::hash::FastMap;

use super::{
    AuxiliaryAssignment, AuxiliaryCandidate, CompiledDirectory, DipAssignment, DipCase,
    GroupingTrace,
};
use crate::directory::{
    AuxiliaryPolicy, AuxiliarySubtype, CciWeight, MarkerSource, TumourMarker, TumourMarkerRule,
};

/// The CCI weight table compiled for lookups by prefix.
#[derive(Clone, Debug, Default)]
pub struct CciIndex {
    /// Prefix → (weight, condition id).
    by_prefix: FastMap<Box<str>, (u32, u32)>,
    conditions: Vec<String>,
    /// Distinct prefix lengths, longest first: the longest prefix a code starts with wins.
    prefix_lengths: Vec<usize>,
}

impl CciIndex {
    pub fn new(weights: &[CciWeight]) -> Self {
        let mut index = Self::default();
        for c in weights {
            let condition = match index.conditions.iter().position(|x| *x == c.condition) {
                Some(i) => i,
                None => {
                    index.conditions.push(c.condition.clone());
                    index.conditions.len() - 1
                }
            } as u32;
            index
                .by_prefix
                .insert(c.prefix.clone().into_boxed_str(), (c.weight, condition));
            if !index.prefix_lengths.contains(&c.prefix.len()) {
                index.prefix_lengths.push(c.prefix.len());
            }
        }
        index.prefix_lengths.sort_unstable_by(|a, b| b.cmp(a));
        index
    }

    /// Charlson index of the secondary diagnoses, as the grouper counts it (see [`Self::walk`]).
    pub fn index<'a>(&self, secondary_diagnoses: impl IntoIterator<Item = &'a str>) -> u32 {
        self.walk(secondary_diagnoses, |_, _| {})
    }

    /// Charlson index of the secondary diagnoses: the sum of the weights of the distinct
    /// conditions, each diagnosis matched by its longest prefix in the table. Calls `counted`
    /// with the 0-based index among the secondary diagnoses and the condition of each diagnosis
    /// that counts a condition first.
    pub(crate) fn walk<'a>(
        &self,
        secondary_diagnoses: impl IntoIterator<Item = &'a str>,
        mut counted: impl FnMut(usize, u32),
    ) -> u32 {
        // Conditions seen: a bit set for the first 128, a list beyond (never in practice).
        let mut seen_bits: u128 = 0;
        let mut seen_more: Vec<u32> = Vec::new();
        let mut total = 0;
        for (index, code) in secondary_diagnoses.into_iter().enumerate() {
            for &len in &self.prefix_lengths {
                let Some(prefix) = code.get(..len) else {
                    continue;
                };
                if let Some(&(weight, condition)) = self.by_prefix.get(prefix) {
                    let new = if condition < 128 {
                        let bit = 1u128 << condition;
                        let new = seen_bits & bit == 0;
                        seen_bits |= bit;
                        new
                    } else if seen_more.contains(&condition) {
                        false
                    } else {
                        seen_more.push(condition);
                        true
                    };
                    if new {
                        total += weight;
                        counted(index, condition);
                    }
                    break;
                }
            }
        }
        total
    }

    fn condition(&self, condition: u32) -> &str {
        self.conditions
            .get(condition as usize)
            .map_or("", String::as_str)
    }
}

impl AuxiliaryPolicy {
    /// DOMAIN.md §2 DIP auxiliary directory: death within 3 days vs later; `None` when the
    /// patient did not die.
    pub(crate) fn death_subtype(
        &self,
        discharge_type: u8,
        los_days: u32,
    ) -> Option<AuxiliarySubtype> {
        if discharge_type != super::DISCHARGE_DEATH {
            return None;
        }
        Some(if los_days < self.early_death_los_days {
            AuxiliarySubtype::DeathWithin3Days
        } else {
            AuxiliarySubtype::DeathAfter3Days
        })
    }

    /// DOMAIN.md §2 DIP auxiliary directory: CCI bands 0 / 1–2 / 3–4 / ≥ 5.
    pub(crate) fn cci_subtype(&self, cci: u32) -> AuxiliarySubtype {
        if cci == 0 {
            AuxiliarySubtype::Cci0
        } else if cci <= self.cci_mild_max {
            AuxiliarySubtype::Cci1To2
        } else if cci <= self.cci_severe_max {
            AuxiliarySubtype::Cci3To4
        } else {
            AuxiliarySubtype::Cci5Plus
        }
    }

    /// DOMAIN.md §2 DIP auxiliary directory: age bands 0–28 d, 29 d–1 y, 1–6, 7–17, ≥ 66; `None`
    /// for the adults in between.
    pub(crate) fn age_subtype(&self, years: u32, days: Option<u32>) -> Option<AuxiliarySubtype> {
        if years == 0 {
            match days {
                Some(days) if days <= self.newborn_max_days => Some(AuxiliarySubtype::Age0To28Days),
                _ => Some(AuxiliarySubtype::Age29DaysTo1Year),
            }
        } else if years <= self.young_child_max_years {
            Some(AuxiliarySubtype::Age1To6Years)
        } else if years <= self.minor_max_years {
            Some(AuxiliarySubtype::Age7To17Years)
        } else if years >= self.elderly_min_years {
            Some(AuxiliarySubtype::Age66Plus)
        } else {
            None
        }
    }
}

/// Calls `found` with each tumour subtype whose marker the case carries, in tie-break order: a
/// diagnosis marker is looked for in every diagnosis (principal included), a procedure marker in
/// every procedure (typed or not).
pub(crate) fn tumour_subtypes<'a, D, P>(
    rules: &[TumourMarkerRule],
    principal_diagnosis: &'a str,
    secondary_diagnoses: D,
    procedures: P,
    mut found: impl FnMut(AuxiliarySubtype),
) where
    D: Iterator<Item = &'a str> + Clone,
    P: Iterator<Item = &'a str> + Clone,
{
    if rules.is_empty() {
        return;
    }
    for marker in [
        TumourMarker::Metastasis,
        TumourMarker::Radiotherapy,
        TumourMarker::Chemotherapy,
    ] {
        let carried = rules
            .iter()
            .filter(|rule| rule.marker == marker)
            .any(|rule| match rule.source {
                MarkerSource::Diagnosis => secondary_diagnoses
                    .clone()
                    .chain(std::iter::once(principal_diagnosis))
                    .any(|d| d.starts_with(rule.prefix.as_str())),
                MarkerSource::Procedure => procedures
                    .clone()
                    .any(|p| p.starts_with(rule.prefix.as_str())),
            });
        if carried {
            found(marker.subtype());
        }
    }
}

impl CompiledDirectory {
    /// Charlson index: the sum of the weights of the distinct conditions among the secondary
    /// diagnoses, each diagnosis matched by its longest prefix in the CCI table.
    pub(super) fn cci(&self, case: &DipCase, mut conditions_out: Option<&mut Vec<String>>) -> u32 {
        self.cci.walk(
            case.secondary_diagnoses.iter().map(String::as_str),
            |_, condition| {
                if let Some(out) = conditions_out.as_deref_mut() {
                    out.push(self.cci.condition(condition).to_owned());
                }
            },
        )
    }

    /// The secondary diagnoses that raised the case's score through its comorbidity index (the
    /// DIP counterpart of a DRG's counted CC/MCC): when the auxiliary subtype `assignment` won
    /// is a CCI band above 0, each secondary diagnosis that counted a condition of the index
    /// first, by its 0-based index among the secondary diagnoses. Empty when another subtype
    /// (or none) won: the secondaries then did not change the score.
    pub fn counted_comorbidities(&self, case: &DipCase, assignment: &DipAssignment) -> Vec<usize> {
        let raised = assignment.auxiliary.as_ref().is_some_and(|a| {
            matches!(
                a.subtype,
                AuxiliarySubtype::Cci1To2 | AuxiliarySubtype::Cci3To4 | AuxiliarySubtype::Cci5Plus
            )
        });
        let mut counted = Vec::new();
        if raised {
            self.cci.walk(
                case.secondary_diagnoses.iter().map(String::as_str),
                |index, _| counted.push(index),
            );
        }
        counted
    }

    pub(super) fn auxiliary(
        &self,
        case: &DipCase,
        group: u32,
        trace: Option<&mut GroupingTrace>,
    ) -> (u32, Option<AuxiliaryAssignment>) {
        let mut trace = trace;
        let cci = self.cci(case, trace.as_deref_mut().map(|t| &mut t.cci_conditions));
        // At most one subtype per dimension, three tumour markers: 6 slots.
        let mut applicable = [None; 6];
        let mut count = 0;
        let mut push = |subtype: AuxiliarySubtype| {
            applicable[count] = Some(subtype);
            count += 1;
        };
        let policy = &self.auxiliary_policy;
        if let Some(death) = policy.death_subtype(case.discharge_type, case.los_days) {
            push(death);
        }
        tumour_subtypes(
            &self.tumour_markers,
            &case.principal_diagnosis,
            case.secondary_diagnoses.iter().map(String::as_str),
            case.procedures.iter().map(String::as_str),
            &mut push,
        );
        push(policy.cci_subtype(cci));
        if let Some(age) = policy.age_subtype(case.age_years, case.age_days) {
            push(age);
        }
        let applicable = &applicable[..count];
        let table = self
            .auxiliary_by_group
            .get(&group)
            .unwrap_or(&self.auxiliary_default);
        let mut best: Option<AuxiliaryAssignment> = None;
        for subtype in applicable.iter().flatten().copied() {
            if let Some(coefficient) = table[subtype.index()] {
                let better = match &best {
                    None => true,
                    Some(b) => {
                        coefficient > b.coefficient
                            || (coefficient == b.coefficient && subtype < b.subtype)
                    }
                };
                if better {
                    best = Some(AuxiliaryAssignment {
                        subtype,
                        coefficient,
                    });
                }
            }
        }
        if let Some(t) = trace {
            t.auxiliary = applicable
                .iter()
                .flatten()
                .map(|&subtype| AuxiliaryCandidate {
                    subtype,
                    coefficient: table[subtype.index()],
                    chosen: best.as_ref().is_some_and(|b| b.subtype == subtype),
                })
                .collect();
        }
        (cci, best)
    }
}
