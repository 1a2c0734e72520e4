//! The case's comorbidity index and its auxiliary subtype (DOMAIN.md §2 DIP, domain-formulas
//! §3.3): the subtypes that apply, their coefficients for the group, and the one that wins.

use super::{
    AuxiliaryAssignment, AuxiliaryCandidate, CompiledDirectory, DipAssignment, DipCase,
    GroupingTrace,
};
use crate::directory::{AuxiliarySubtype, MarkerSource, TumourMarker};

impl CompiledDirectory {
    /// Charlson index: the sum of the weights of the distinct conditions among the secondary
    /// diagnoses, each diagnosis matched by its longest prefix in the CCI table.
    pub(super) fn cci(&self, case: &DipCase, mut conditions_out: Option<&mut Vec<String>>) -> u32 {
        self.walk_cci(case, |_, condition| {
            if let Some(out) = conditions_out.as_deref_mut() {
                out.push(self.cci_conditions[condition as usize].clone());
            }
        })
    }

    /// The index's walk: calls `counted` with the 0-based index among the secondary diagnoses
    /// and the condition of each diagnosis that counts a condition first; returns the index.
    fn walk_cci(&self, case: &DipCase, mut counted: impl FnMut(usize, u32)) -> u32 {
        // Conditions seen: a bit set for the first 128, a list beyond (never in practice).
        let mut seen_bits: u128 = 0;
        let mut seen_more: Vec<u32> = Vec::new();
        let mut total = 0;
        for (index, code) in case.secondary_diagnoses.iter().enumerate() {
            for &len in &self.cci_prefix_lengths {
                let Some(prefix) = code.get(..len) else {
                    continue;
                };
                if let Some(&(weight, condition)) = self.cci_by_prefix.get(prefix) {
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
            self.walk_cci(case, |index, _| counted.push(index));
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
        // DOMAIN.md §2 DIP auxiliary directory: death within 3 days vs later.
        if case.died() {
            push(if case.los_days < policy.early_death_los_days {
                AuxiliarySubtype::DeathWithin3Days
            } else {
                AuxiliarySubtype::DeathAfter3Days
            });
        }
        if !self.tumour_markers.is_empty() {
            for marker in [
                TumourMarker::Metastasis,
                TumourMarker::Radiotherapy,
                TumourMarker::Chemotherapy,
            ] {
                if self.has_marker(case, marker) {
                    push(marker.subtype());
                }
            }
        }
        // DOMAIN.md §2 DIP auxiliary directory: CCI bands 0 / 1–2 / 3–4 / ≥ 5.
        push(if cci == 0 {
            AuxiliarySubtype::Cci0
        } else if cci <= policy.cci_mild_max {
            AuxiliarySubtype::Cci1To2
        } else if cci <= policy.cci_severe_max {
            AuxiliarySubtype::Cci3To4
        } else {
            AuxiliarySubtype::Cci5Plus
        });
        // DOMAIN.md §2 DIP auxiliary directory: age bands 0–28 d, 29 d–1 y, 1–6, 7–17, ≥ 66.
        let years = case.age_years;
        let age = if years == 0 {
            match case.age_days {
                Some(days) if days <= policy.newborn_max_days => {
                    Some(AuxiliarySubtype::Age0To28Days)
                }
                _ => Some(AuxiliarySubtype::Age29DaysTo1Year),
            }
        } else if years <= policy.young_child_max_years {
            Some(AuxiliarySubtype::Age1To6Years)
        } else if years <= policy.minor_max_years {
            Some(AuxiliarySubtype::Age7To17Years)
        } else if years >= policy.elderly_min_years {
            Some(AuxiliarySubtype::Age66Plus)
        } else {
            None
        };
        if let Some(age) = age {
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

    fn has_marker(&self, case: &DipCase, marker: TumourMarker) -> bool {
        self.tumour_markers
            .iter()
            .filter(|rule| rule.marker == marker)
            .any(|rule| match rule.source {
                MarkerSource::Diagnosis => case
                    .secondary_diagnoses
                    .iter()
                    .chain(std::iter::once(&case.principal_diagnosis))
                    .any(|d| d.starts_with(rule.prefix.as_str())),
                MarkerSource::Procedure => case
                    .procedures
                    .iter()
                    .any(|p| p.starts_with(rule.prefix.as_str())),
            })
    }
}
