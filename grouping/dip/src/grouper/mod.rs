//! Grouping one case into a DIP group (DOMAIN.md §2 DIP): the compiled, immutable form of a
//! directory, the case input, the outcome with its auxiliary subtype, and the trace of every
//! candidate considered.
//!
//! Rules, in the order they are applied:
//! 1. Procedures are looked up in the procedure-type table; codes not in it are ignored (they are
//!    not DIP procedures) and listed in the trace. The case's treatment type is the highest type
//!    among the rest, conservative when none is left.
//! 2. Core and basic-level groups of the principal diagnosis category (first 5 characters) are
//!    candidates. A combination matches when every `+` term has one of its `/` codes among the
//!    case's procedures; a conservative group matches only a case without typed procedures.
//! 3. Precedence (DOMAIN.md §2): core + surgery > basic + surgery > core + therapeutic >
//!    basic + therapeutic > core + diagnostic > basic + diagnostic > core conservative > basic
//!    conservative. Interventional groups rank with surgery (介入 counts as 手术, domain-formulas
//!    §3.1). Ties: most matched procedures, then the mean cost closest to the case's cost, then
//!    the smaller group code (byte order) so the result never depends on table order.
//! 4. No core candidate: the comprehensive group of the case's treatment type for the
//!    3-character category, else for the chapter range that contains it; none: ungrouped.
//! 5. Auxiliary subtype: among the subtypes that apply to the case and have a coefficient for the
//!    group (its own row, else the `*` row), the highest coefficient wins (domain-formulas §3.3);
//!    equal coefficients: the earlier subtype in [`AuxiliarySubtype::ALL`].

mod auxiliary;
mod case;

pub use auxiliary::CciIndex;
pub(crate) use auxiliary::tumour_subtypes;

use kernel::{Decimal, Money, Points};

use crate::directory::{
    AuxiliaryPolicy, AuxiliaryScope, AuxiliarySubtype, DiagnosisScope, Directory, GroupKind,
    TreatmentType, TumourMarkerRule, is_category3,
};
use crate::error::CaseError;
use grouping_domain::hash::FastMap;

pub use case::{
    AuxiliaryAssignment, AuxiliaryCandidate, CandidateTrace, ComprehensiveTrace, DISCHARGE_DEATH,
    DISCHARGE_TYPES, DipAssignment, DipCase, DipOutcome, GroupingTrace, TypedProcedure,
    UngroupedReason, Verdict, diagnosis_category,
};

/// Published data of one group in the compiled directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    pub code: String,
    pub name: String,
    pub kind: GroupKind,
    pub treatment: TreatmentType,
    pub score: Points,
    pub mean_cost: Money,
}

struct CoreEntry {
    group: u32,
    precedence: u8,
    /// `None`: conservative. Otherwise `+` terms of interned `/` alternatives; a code unknown to
    /// the procedure table is interned as `u32::MAX` and never matches.
    terms: Option<Box<[Box<[u32]>]>>,
    written: Box<str>,
}

struct RangeEntry {
    first: [u8; 3],
    last: [u8; 3],
    treatment: TreatmentType,
    group: u32,
}

const NO_PROCEDURE: u32 = u32::MAX;
const SUBTYPES: usize = AuxiliarySubtype::ALL.len();

/// A directory compiled for grouping: immutable, shareable across threads, core groups indexed
/// by diagnosis category and procedure codes interned.
pub struct CompiledDirectory {
    id: String,
    version: String,
    groups: Vec<GroupInfo>,
    group_index: FastMap<String, u32>,
    procedure_ids: FastMap<Box<str>, u32>,
    procedure_codes: Vec<Box<str>>,
    procedure_types: Vec<TreatmentType>,
    core_by_category: FastMap<Box<str>, Box<[CoreEntry]>>,
    comprehensive_by_category: FastMap<Box<str>, [Option<u32>; 5]>,
    comprehensive_ranges: Vec<RangeEntry>,
    auxiliary_default: [Option<Decimal>; SUBTYPES],
    auxiliary_by_group: FastMap<u32, [Option<Decimal>; SUBTYPES]>,
    cci: CciIndex,
    tumour_markers: Vec<TumourMarkerRule>,
    auxiliary_policy: AuxiliaryPolicy,
}

/// Precedence of a core or basic-level group (DOMAIN.md §2 DIP precedence); lower wins.
pub fn precedence(kind: GroupKind, treatment: TreatmentType) -> u8 {
    let tier = match treatment {
        TreatmentType::Surgical | TreatmentType::Interventional => 0,
        TreatmentType::Therapeutic => 1,
        TreatmentType::Diagnostic => 2,
        TreatmentType::Conservative => 3,
    };
    match kind {
        GroupKind::Core => tier * 2,
        GroupKind::Basic => tier * 2 + 1,
        GroupKind::Comprehensive => 8,
    }
}

fn category3_bytes(text: &str) -> [u8; 3] {
    let b = text.as_bytes();
    [b[0], b[1], b[2]]
}

impl CompiledDirectory {
    /// Compiles a directory. Never fails: a directory from [`Directory::load`] is consistent,
    /// and a hand-built one with a combination naming an untyped procedure simply never matches
    /// that term.
    pub fn new(directory: &Directory) -> Self {
        let mut procedure_ids = FastMap::default();
        let mut procedure_types = Vec::new();
        let mut procedure_codes = Vec::new();
        for p in &directory.procedure_types {
            let next = procedure_types.len() as u32;
            let code: Box<str> = p.code.clone().into_boxed_str();
            if !procedure_ids.contains_key(&code) {
                procedure_ids.insert(code.clone(), next);
                procedure_codes.push(code);
                procedure_types.push(p.treatment);
            }
        }
        let mut groups = Vec::new();
        let mut group_index = FastMap::default();
        let mut core: FastMap<Box<str>, Vec<CoreEntry>> = FastMap::default();
        for g in &directory.core_groups {
            let id = groups.len() as u32;
            group_index.insert(g.code.clone(), id);
            groups.push(GroupInfo {
                code: g.code.clone(),
                name: g.name.clone(),
                kind: g.kind,
                treatment: g.treatment,
                score: g.score,
                mean_cost: g.mean_cost,
            });
            let terms = g.procedures.as_ref().map(|c| {
                c.all_of
                    .iter()
                    .map(|term| {
                        term.iter()
                            .map(|code| {
                                procedure_ids
                                    .get(code.as_str())
                                    .copied()
                                    .unwrap_or(NO_PROCEDURE)
                            })
                            .collect::<Box<[u32]>>()
                    })
                    .collect::<Box<[Box<[u32]>]>>()
            });
            core.entry(g.diagnosis_category.clone().into_boxed_str())
                .or_default()
                .push(CoreEntry {
                    group: id,
                    precedence: precedence(g.kind, g.treatment),
                    terms,
                    written: g
                        .procedures
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                        .into_boxed_str(),
                });
        }
        let mut comprehensive_by_category: FastMap<Box<str>, [Option<u32>; 5]> = FastMap::default();
        let mut comprehensive_ranges = Vec::new();
        for g in &directory.comprehensive_groups {
            let id = groups.len() as u32;
            group_index.insert(g.code.clone(), id);
            groups.push(GroupInfo {
                code: g.code.clone(),
                name: g.name.clone(),
                kind: GroupKind::Comprehensive,
                treatment: g.treatment,
                score: g.score,
                mean_cost: g.mean_cost,
            });
            match &g.diagnosis {
                DiagnosisScope::Category(c) => {
                    comprehensive_by_category
                        .entry(c.clone().into_boxed_str())
                        .or_default()[g.treatment.index()] = Some(id);
                }
                DiagnosisScope::Range { first, last }
                    if is_category3(first) && is_category3(last) =>
                {
                    comprehensive_ranges.push(RangeEntry {
                        first: category3_bytes(first),
                        last: category3_bytes(last),
                        treatment: g.treatment,
                        group: id,
                    });
                }
                DiagnosisScope::Range { .. } => {}
            }
        }
        let mut auxiliary_default = [None; SUBTYPES];
        for a in &directory.auxiliary {
            if a.scope == AuxiliaryScope::AllGroups {
                auxiliary_default[a.subtype.index()] = Some(a.coefficient);
            }
        }
        let mut auxiliary_by_group: FastMap<u32, [Option<Decimal>; SUBTYPES]> = FastMap::default();
        for a in &directory.auxiliary {
            if let AuxiliaryScope::Group(code) = &a.scope
                && let Some(&id) = group_index.get(code)
            {
                auxiliary_by_group.entry(id).or_insert(auxiliary_default)[a.subtype.index()] =
                    Some(a.coefficient);
            }
        }
        Self {
            id: directory.meta.id.clone(),
            version: directory.meta.version.clone(),
            groups,
            group_index,
            procedure_ids,
            procedure_codes,
            procedure_types,
            core_by_category: core
                .into_iter()
                .map(|(k, v)| (k, v.into_boxed_slice()))
                .collect(),
            comprehensive_by_category,
            comprehensive_ranges,
            auxiliary_default,
            auxiliary_by_group,
            cci: CciIndex::new(&directory.cci_weights),
            tumour_markers: directory.tumour_markers.clone(),
            auxiliary_policy: directory.meta.auxiliary_policy.clone(),
        }
    }

    /// Directory id and version this was compiled from.
    pub fn id(&self) -> (&str, &str) {
        (&self.id, &self.version)
    }

    /// Published data of a group by code.
    pub fn group_info(&self, code: &str) -> Option<&GroupInfo> {
        self.group_index
            .get(code)
            .map(|&i| &self.groups[i as usize])
    }

    /// The procedure-type table: every procedure code the directory knows and its type.
    pub fn procedure_types(&self) -> impl Iterator<Item = (&str, TreatmentType)> {
        self.procedure_codes
            .iter()
            .zip(&self.procedure_types)
            .map(|(code, treatment)| (&**code, *treatment))
    }

    /// Whether the directory covers a principal diagnosis: a core or basic-level group of its
    /// category, or a comprehensive group of its 3-character category or of a range containing
    /// it, for any treatment type. A code it does not cover can group nowhere in it.
    pub fn knows_diagnosis(&self, code: &str) -> bool {
        if !code.is_ascii() || code.len() < 3 || !is_category3(&code[..3]) {
            return false;
        }
        let category3 = &code[..3];
        if self.core_by_category.contains_key(diagnosis_category(code))
            || self.comprehensive_by_category.contains_key(category3)
        {
            return true;
        }
        let key = category3_bytes(category3);
        self.comprehensive_ranges
            .iter()
            .any(|r| r.first <= key && key <= r.last)
    }

    /// Number of groups (core, basic and comprehensive).
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Groups one case.
    pub fn group(&self, case: &DipCase) -> Result<DipOutcome, CaseError> {
        self.run(case, None)
    }

    /// Groups one case and records every candidate considered.
    pub fn group_traced(&self, case: &DipCase) -> Result<(DipOutcome, GroupingTrace), CaseError> {
        let mut trace = GroupingTrace::default();
        let outcome = self.run(case, Some(&mut trace))?;
        Ok((outcome, trace))
    }

    fn validate(case: &DipCase) -> Result<(), CaseError> {
        let code = case.principal_diagnosis.as_str();
        if code.is_empty() {
            return Err(CaseError::MissingPrincipalDiagnosis);
        }
        if !code.is_ascii() || code.len() < 3 || !is_category3(&code[..3]) {
            return Err(CaseError::BadPrincipalDiagnosis {
                code: code.to_owned(),
            });
        }
        if case.total_cost.is_sign_negative() && !case.total_cost.is_zero() {
            return Err(CaseError::NegativeCost {
                cost: case.total_cost.to_string(),
            });
        }
        if !DISCHARGE_TYPES.contains(&case.discharge_type) {
            return Err(CaseError::BadDischargeType {
                value: case.discharge_type,
            });
        }
        if case.age_years == 0 && case.age_days.is_none() {
            return Err(CaseError::MissingAgeDays);
        }
        Ok(())
    }

    /// Interned id of a typed procedure code.
    pub(crate) fn procedure_id(&self, code: &str) -> Option<u32> {
        self.procedure_ids.get(code).copied()
    }

    /// Typed procedure ids of a case (sorted, without duplicates) and its treatment type.
    pub(crate) fn typed_procedures<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a str>,
        mut ignored: Option<&mut Vec<String>>,
    ) -> (Vec<u32>, TreatmentType) {
        let mut ids = Vec::new();
        let mut treatment = TreatmentType::Conservative;
        for code in codes {
            match self.procedure_ids.get(code) {
                Some(&id) => {
                    ids.push(id);
                    treatment = treatment.max(self.procedure_types[id as usize]);
                }
                None => {
                    if let Some(ignored) = ignored.as_deref_mut() {
                        ignored.push(code.to_owned());
                    }
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        (ids, treatment)
    }

    /// The best core or basic-level group of a category for a set of typed procedures and a
    /// cost, by the precedence and tie rules of the module doc.
    pub(crate) fn best_core(
        &self,
        category: &str,
        ids: &[u32],
        cost: Decimal,
        mut trace: Option<&mut Vec<CandidateTrace>>,
    ) -> Option<(u32, u32)> {
        let entries = self.core_by_category.get(category)?;
        // (precedence, matched, distance, group)
        let mut best: Option<(u8, u32, Decimal, u32)> = None;
        for entry in entries.iter() {
            let info = &self.groups[entry.group as usize];
            let matched = match &entry.terms {
                None => {
                    if ids.is_empty() {
                        Ok(0)
                    } else {
                        Err(Verdict::CaseHasProcedures)
                    }
                }
                Some(terms) => match_terms(terms, ids).map_err(|missing| Verdict::NotMatched {
                    missing_term: entry
                        .written
                        .split('+')
                        .nth(missing)
                        .unwrap_or_default()
                        .to_owned(),
                }),
            };
            let distance = matched
                .as_ref()
                .ok()
                .map(|_| (info.mean_cost.value() - cost).abs());
            if let (Ok(matched), Some(distance)) = (&matched, distance) {
                let key = (entry.precedence, *matched, distance, entry.group);
                let better = match &best {
                    None => true,
                    Some(b) => self.beats(&key, b),
                };
                if better {
                    best = Some(key);
                }
            }
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(CandidateTrace {
                    group: info.code.clone(),
                    kind: info.kind,
                    treatment: info.treatment,
                    procedures: entry.written.to_string(),
                    precedence: entry.precedence,
                    matched_procedures: *matched.as_ref().unwrap_or(&0),
                    cost_distance: distance,
                    verdict: matched.err().unwrap_or(Verdict::Won),
                });
            }
        }
        let (best_precedence, best_matched, best_distance, best_group) = best?;
        if let Some(trace) = trace {
            let winner = &self.groups[best_group as usize].code;
            for candidate in trace.iter_mut() {
                if candidate.verdict != Verdict::Won || candidate.group == *winner {
                    continue;
                }
                let w = winner.clone();
                candidate.verdict = if candidate.precedence != best_precedence {
                    Verdict::LostOnPrecedence { winner: w }
                } else if candidate.matched_procedures != best_matched {
                    Verdict::LostOnMatchedProcedures { winner: w }
                } else if candidate.cost_distance != Some(best_distance) {
                    Verdict::LostOnCostDistance { winner: w }
                } else {
                    Verdict::LostOnGroupCode { winner: w }
                };
            }
        }
        Some((best_group, best_matched))
    }

    /// Whether candidate `a` beats `b`: precedence, then more matched procedures, then smaller
    /// cost distance, then smaller group code.
    fn beats(&self, a: &(u8, u32, Decimal, u32), b: &(u8, u32, Decimal, u32)) -> bool {
        if a.0 != b.0 {
            return a.0 < b.0;
        }
        if a.1 != b.1 {
            return a.1 > b.1;
        }
        if a.2 != b.2 {
            return a.2 < b.2;
        }
        self.groups[a.3 as usize].code < self.groups[b.3 as usize].code
    }

    /// The comprehensive group of a 3-character category and treatment: the category's own row,
    /// else the chapter range containing it.
    pub(crate) fn comprehensive(
        &self,
        category3: &str,
        treatment: TreatmentType,
        trace: Option<&mut Option<ComprehensiveTrace>>,
    ) -> Option<u32> {
        let by_category = self
            .comprehensive_by_category
            .get(category3)
            .and_then(|slots| slots[treatment.index()]);
        let by_range = if by_category.is_none() && is_category3(category3) {
            let key = category3_bytes(category3);
            self.comprehensive_ranges
                .iter()
                .find(|r| r.treatment == treatment && r.first <= key && key <= r.last)
                .map(|r| r.group)
        } else {
            None
        };
        if let Some(trace) = trace {
            *trace = Some(ComprehensiveTrace {
                diagnosis_category3: category3.to_owned(),
                treatment,
                by_category: by_category.map(|g| self.groups[g as usize].code.clone()),
                by_range: by_range.map(|g| self.groups[g as usize].code.clone()),
            });
        }
        by_category.or(by_range)
    }

    fn run(
        &self,
        case: &DipCase,
        mut trace: Option<&mut GroupingTrace>,
    ) -> Result<DipOutcome, CaseError> {
        Self::validate(case)?;
        let category = diagnosis_category(&case.principal_diagnosis);
        let category3 = &case.principal_diagnosis[..3];
        let (ids, case_treatment) = self.typed_procedures(
            case.procedures.iter().map(String::as_str),
            trace.as_deref_mut().map(|t| &mut t.ignored_procedures),
        );
        if let Some(t) = trace.as_deref_mut() {
            t.diagnosis_category = category.to_owned();
            t.case_treatment = Some(case_treatment);
            t.typed_procedures = ids
                .iter()
                .map(|&id| TypedProcedure {
                    code: self.procedure_code(id).to_owned(),
                    treatment: self.procedure_types[id as usize],
                })
                .collect();
        }
        let core = self.best_core(
            category,
            &ids,
            case.total_cost,
            trace.as_deref_mut().map(|t| &mut t.candidates),
        );
        let (group, matched) = match core {
            Some(found) => found,
            None => match self.comprehensive(
                category3,
                case_treatment,
                trace.as_deref_mut().map(|t| &mut t.comprehensive),
            ) {
                Some(group) => (group, 0),
                None => {
                    return Ok(DipOutcome::Ungrouped {
                        diagnosis_category3: category3.to_owned(),
                        treatment: case_treatment,
                        reason: UngroupedReason::NoComprehensiveGroup,
                    });
                }
            },
        };
        let info = &self.groups[group as usize];
        let (cci, auxiliary) = self.auxiliary(case, group, trace);
        Ok(DipOutcome::Grouped(DipAssignment {
            group_code: info.code.clone(),
            kind: info.kind,
            treatment: info.treatment,
            score: info.score,
            mean_cost: info.mean_cost,
            matched_procedures: matched,
            cci,
            auxiliary_coefficient: auxiliary.as_ref().map_or(Decimal::ONE, |a| a.coefficient),
            auxiliary,
        }))
    }

    fn procedure_code(&self, id: u32) -> &str {
        self.procedure_codes
            .get(id as usize)
            .map(|c| &**c)
            .unwrap_or_default()
    }
}

/// Whether every term has one of its codes among `ids` (sorted); returns the number of case
/// procedures the combination uses, or the index of the first unmatched term.
fn match_terms(terms: &[Box<[u32]>], ids: &[u32]) -> Result<u32, usize> {
    for (index, term) in terms.iter().enumerate() {
        if !term.iter().any(|code| ids.binary_search(code).is_ok()) {
            return Err(index);
        }
    }
    let used = ids
        .iter()
        .filter(|id| terms.iter().any(|term| term.contains(id)))
        .count();
    Ok(used as u32)
}
