//! Rules about what was coded against what was billed or who the patient is: 5 upcoding,
//! 6 under-coding, 14 diagnosis–sex, 15 diagnosis–age, 16 principal-diagnosis selection
//! (DOMAIN.md §6 "Screening: precise defaults"). Each finding takes the list's whole in-policy
//! amount.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalogue::RuleId;
use crate::finding::{Arm, Finding};
use crate::model::{ChargeCategory, Complication, DipTreatment, InpatientList, Sex};
use crate::parameters::CodeRange;
use crate::screening::Context;

fn in_any(ranges: &[CodeRange], code: &str) -> bool {
    ranges.iter().any(|range| range.contains(code))
}

/// Rule 5, on the facts grouping reported for the list at intake (it is grouping that decides
/// which secondary diagnoses count and what a group is paid for), for a list paid by a DRG or
/// by a DIP group (DOMAIN.md §6 rule 5 and its DIP form in README "Supervision"):
/// (a) the secondaries grouping counted, none evidenced by a fee line: of a DRG with MCC (…1)
/// its MCCs, of a DRG with CC (…3) its MCCs and CCs; of a DIP group the comorbidities whose
/// CCI band set the subtype (a DIP score is raised by them, not by MCC/CC tables);
/// (b) an operative group without any surgery line: a surgical ADRG (second letter A–J), or a
/// DIP group of treatment type surgical or interventional;
/// (c) the fee profile against the coded procedures: a procedure of a list paid by a DRG or by
/// a DIP group of a procedure (not conservative) whose items, as the items table names them
/// (`procedures`), none billed — a procedure coded and not performed raises a DIP group from
/// conservative to diagnostic, or from one procedure to a dearer one, where no charge category
/// of its own would show it. A procedure no item of the table names is not judged.
///
/// A list gives one finding however many arms fire (see [`one_finding`]).
pub fn upcoding(context: &Context<'_>) -> Vec<Finding> {
    let billing = ProcedureBilling::of(context);
    let mut findings = Vec::new();
    for list in &context.input.lists {
        // What arms (a), (b) and (c) judge the list's group by: the complications it counts,
        // whether it is operative, whether a procedure set it.
        let (counts, operative, by_procedure, group): (fn(Complication) -> bool, bool, bool, &str) =
            match (list.drg.as_deref(), &list.dip_group) {
                (Some(drg), _) => (
                    match drg.chars().last() {
                        Some('1') => |c| c == Complication::Mcc,
                        Some('3') => |c| matches!(c, Complication::Mcc | Complication::Cc),
                        _ => |_| false,
                    },
                    drg.chars().nth(1).is_some_and(|c| ('A'..='J').contains(&c)),
                    true,
                    drg,
                ),
                (None, Some(dip)) => (
                    |c| c == Complication::Cci,
                    dip.treatment.is_operative(),
                    dip.treatment != DipTreatment::Conservative,
                    &dip.code,
                ),
                (None, None) => continue,
            };
        let fired = [
            unsupported_complications(context, list, counts),
            (operative && !has_surgery_line(list)).then(|| surgery_missing(context, list, group)),
            by_procedure
                .then(|| billing.unbilled(context, list))
                .flatten(),
        ];
        if let Some(finding) = one_finding(fired) {
            findings.push(finding);
        }
    }
    findings
}

/// The arms that fired on one list as one finding: the list's amount is at stake once for the
/// rule, however many arms show it. The finding takes the first arm's name and every arm's
/// evidence in arm order.
fn one_finding(fired: [Option<Finding>; 3]) -> Option<Finding> {
    let mut arms = fired.into_iter().flatten();
    let mut finding = arms.next()?;
    for other in arms {
        finding.evidence.extend(other.evidence);
    }
    Some(finding)
}

/// The items table's procedure prefixes, each with the items that bill it (rule 5 c).
struct ProcedureBilling<'t> {
    items_of: Vec<(&'t str, Vec<&'t str>)>,
}

impl<'t> ProcedureBilling<'t> {
    fn of(context: &Context<'t>) -> Self {
        let mut items_of: BTreeMap<&'t str, Vec<&'t str>> = BTreeMap::new();
        for item in context.tables.items.values() {
            for prefix in &item.procedures {
                items_of
                    .entry(prefix.as_str())
                    .or_default()
                    .push(item.code.as_str());
            }
        }
        Self {
            items_of: items_of.into_iter().collect(),
        }
    }

    /// Arm (c): the list's coded procedures that the table knows the items of, none of them
    /// billed on the list.
    fn unbilled(&self, context: &Context<'_>, list: &InpatientList) -> Option<Finding> {
        if self.items_of.is_empty() || list.procedures.is_empty() {
            return None;
        }
        // A list has a few dozen lines and a procedure a few items: a scan beats building a set
        // for each of a million lists.
        let billed = |item: &str| list.lines.iter().any(|line| line.item_code == item);
        let unbilled: Vec<String> = list
            .procedures
            .iter()
            .filter(|procedure| {
                let mut known = false;
                for (prefix, items) in &self.items_of {
                    if procedure.code.starts_with(prefix) {
                        if items.iter().any(|item| billed(item)) {
                            return false;
                        }
                        known = true;
                    }
                }
                known
            })
            .map(|procedure| procedure.code.clone())
            .collect();
        (!unbilled.is_empty()).then(|| {
            let mut finding = context.list_finding(RuleId::Upcoding, list);
            finding.arm = Arm::C;
            finding.evidence = unbilled;
            finding
        })
    }
}

/// Arm (a) of rule 5: the secondaries `counts` keeps, none evidenced by a line.
fn unsupported_complications(
    context: &Context<'_>,
    list: &InpatientList,
    counts: fn(Complication) -> bool,
) -> Option<Finding> {
    let counted: Vec<&str> = list
        .diagnoses
        .iter()
        .skip(1)
        .filter(|d| counts(d.complication))
        .map(|d| d.code.as_str())
        .collect();
    let evidenced: BTreeSet<char> = list
        .lines
        .iter()
        .filter_map(|line| context.tables.items.get(&line.item_code))
        .flat_map(|item| item.supports.iter().copied())
        .collect();
    let supported = |code: &str| {
        code.chars()
            .next()
            .is_some_and(|letter| evidenced.contains(&letter.to_ascii_uppercase()))
    };
    (!counted.is_empty() && !counted.iter().any(|code| supported(code))).then(|| {
        let mut finding = context.list_finding(RuleId::Upcoding, list);
        finding.arm = Arm::A;
        finding.evidence = counted.iter().map(|c| (*c).to_owned()).collect();
        finding
    })
}

/// Arm (b) of rule 5: the operative group `group` and no surgery line.
fn surgery_missing(context: &Context<'_>, list: &InpatientList, group: &str) -> Finding {
    let mut finding = context.list_finding(RuleId::Upcoding, list);
    finding.arm = Arm::B;
    finding.evidence = vec![group.to_owned()];
    finding
}

fn has_surgery_line(list: &InpatientList) -> bool {
    list.lines
        .iter()
        .any(|line| line.category == ChargeCategory::SURGERY)
}

/// Rule 6: surgery billed but no procedure coded.
pub fn under_coding(context: &Context<'_>) -> Vec<Finding> {
    context
        .input
        .lists
        .iter()
        .filter(|list| has_surgery_line(list) && list.procedures.is_empty())
        .map(|list| context.list_finding(RuleId::UnderCoding, list))
        .collect()
}

/// Every diagnosis part (both halves of a dagger/asterisk pair) matching `conflicts`.
fn conflicting_parts(list: &InpatientList, conflicts: impl Fn(&str) -> bool) -> Vec<String> {
    list.diagnoses
        .iter()
        .flat_map(|d| d.parts())
        .filter(|part| conflicts(part))
        .map(str::to_owned)
        .collect()
}

fn conflict_findings(
    context: &Context<'_>,
    rule: RuleId,
    conflicts: impl Fn(&InpatientList, &str) -> bool,
) -> Vec<Finding> {
    context
        .input
        .lists
        .iter()
        .filter_map(|list| {
            let codes = conflicting_parts(list, |code| conflicts(list, code));
            (!codes.is_empty()).then(|| {
                let mut finding = context.list_finding(rule, list);
                finding.evidence = codes;
                finding
            })
        })
        .collect()
}

/// Rule 14: a diagnosis of the other sex.
pub fn diagnosis_sex_conflict(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    conflict_findings(
        context,
        RuleId::DiagnosisSexConflict,
        |list, code| match list.sex {
            Sex::Male => in_any(&parameters.female_only, code),
            Sex::Female => in_any(&parameters.male_only, code),
        },
    )
}

/// Completed years of age at the admission date.
fn age_in_years(list: &InpatientList) -> i32 {
    let (birth_year, birth_month, birth_day) = list.birth_date.ymd();
    let (year, month, day) = list.admitted_at.date().ymd();
    year - birth_year - i32::from((month, day) < (birth_month, birth_day))
}

/// Rule 15: a diagnosis outside its age band, the age taken at the admission date from the
/// birth date.
pub fn diagnosis_age_conflict(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    conflict_findings(context, RuleId::DiagnosisAgeConflict, |list, code| {
        let days = list.admitted_at.date().days_since(list.birth_date);
        let years = age_in_years(list);
        (in_any(&parameters.perinatal, code) && days > parameters.perinatal_max_age_days)
            || (in_any(&parameters.pregnancy, code)
                && (years < parameters.pregnancy_min_age_years
                    || years > parameters.pregnancy_max_age_years))
    })
}

/// Rule 16. (a) a symptom code as principal beside a definite diagnosis; (b) a principal
/// diagnosis with admission condition 4 (none on admission).
pub fn principal_selection(context: &Context<'_>) -> Vec<Finding> {
    let symptoms = &context.parameters().symptom_codes;
    let mut findings = Vec::new();
    for list in &context.input.lists {
        let Some(principal) = list.principal() else {
            continue;
        };
        let definite: Vec<String> = list
            .diagnoses
            .iter()
            .skip(1)
            .filter(|d| !in_any(symptoms, &d.code))
            .map(|d| d.code.clone())
            .collect();
        if in_any(symptoms, &principal.code) && !definite.is_empty() {
            let mut finding = context.list_finding(RuleId::PrincipalDiagnosisSelection, list);
            finding.arm = Arm::A;
            finding.evidence = std::iter::once(principal.code.clone())
                .chain(definite)
                .collect();
            findings.push(finding);
        }
        if principal.admission_condition == Some(4) {
            let mut finding = context.list_finding(RuleId::PrincipalDiagnosisSelection, list);
            finding.arm = Arm::B;
            finding.evidence = vec![principal.code.clone()];
            findings.push(finding);
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Diagnosis, DipGroup, FeeLine, Procedure};
    use crate::parameters::ScreeningPolicy;
    use crate::tables::Tables;
    use crate::testkit::*;

    fn secondary(code: &str, complication: Complication) -> Diagnosis {
        Diagnosis {
            complication,
            ..Diagnosis::new(code)
        }
    }

    /// An ES21 stay with an MCC E87.600 and a line of `item`.
    fn with_mcc(drg: &str, item: &str, complication: Complication) -> InpatientList {
        let mut stay = with_drg(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-09 08:00"),
            drg,
        );
        stay.diagnoses.push(secondary("E87.600", complication));
        with_lines(stay, vec![line(item, 9, "1", "10", "2026-03-02 08:00")])
    }

    #[test]
    fn upcoding_a_flags_an_mcc_no_line_evidences() {
        // XJ01DDA001 evidences A, J, N; not E.
        let unsupported = run(
            RuleId::Upcoding,
            vec![with_mcc("ES21", "XJ01DDA001", Complication::Mcc)],
            vec![],
        );
        assert_eq!(unsupported.len(), 1);
        assert_eq!(unsupported[0].arm, Arm::A);
        assert_eq!(unsupported[0].evidence, ["E87.600"]);
        // XB05BAA001 evidences E.
        let supported = run(
            RuleId::Upcoding,
            vec![with_mcc("ES21", "XB05BAA001", Complication::Mcc)],
            vec![],
        );
        assert!(supported.is_empty());
    }

    #[test]
    fn upcoding_a_counts_cc_only_in_groups_ending_3() {
        let cc_in_mcc_group = run(
            RuleId::Upcoding,
            vec![with_mcc("ES21", "XJ01DDA001", Complication::Cc)],
            vec![],
        );
        assert!(cc_in_mcc_group.is_empty());
        let cc_in_cc_group = run(
            RuleId::Upcoding,
            vec![with_mcc("ES23", "XJ01DDA001", Complication::Cc)],
            vec![],
        );
        assert_eq!(cc_in_cc_group.len(), 1);
        let no_complication_group = run(
            RuleId::Upcoding,
            vec![with_mcc("ES25", "XJ01DDA001", Complication::Mcc)],
            vec![],
        );
        assert!(no_complication_group.is_empty());
    }

    #[test]
    fn upcoding_b_is_a_surgical_group_without_surgery_lines() {
        let stay = with_drg(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-09 08:00"),
            "GB15",
        );
        let findings = run(RuleId::Upcoding, vec![stay.clone()], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::B);
        let operated = with_lines(
            stay.clone(),
            vec![line("331003001", 6, "1", "2000", "2026-03-02 10:00")],
        );
        assert!(run(RuleId::Upcoding, vec![operated], vec![]).is_empty());
        let medical = with_drg(stay, "GK15");
        assert!(run(RuleId::Upcoding, vec![medical], vec![]).is_empty());
    }

    fn dip_paid(treatment: DipTreatment) -> InpatientList {
        let mut stay = list("L1", "P1", "2026-03-01 08:00", "2026-03-09 08:00");
        stay.dip_group = Some(DipGroup {
            code: "K35.8:47.0100x001".into(),
            treatment,
        });
        stay
    }

    /// A DIP-paid stay coded with a colonoscopy (45.2300), which the demo items table bills
    /// with its own item.
    fn colonoscopy(treatment: DipTreatment, lines: Vec<FeeLine>) -> InpatientList {
        let mut stay = with_lines(dip_paid(treatment), lines);
        stay.procedures = vec![Procedure {
            code: "45.2300".into(),
            name: "结肠镜检查".into(),
        }];
        stay
    }

    const COLONOSCOPY_ITEM: &str = "003200000452300-320452300";

    #[test]
    fn upcoding_c_is_a_coded_procedure_whose_items_were_not_billed() {
        let unbilled = run(
            RuleId::Upcoding,
            vec![colonoscopy(DipTreatment::Diagnostic, vec![])],
            vec![],
        );
        assert_eq!(unbilled.len(), 1);
        assert_eq!(unbilled[0].arm, Arm::C);
        assert_eq!(unbilled[0].evidence, ["45.2300"]);
        assert_eq!(unbilled[0].amount, money("800.00"));
        let billed = colonoscopy(
            DipTreatment::Diagnostic,
            vec![line(COLONOSCOPY_ITEM, 3, "1", "600", "2026-03-02 09:00")],
        );
        assert!(run(RuleId::Upcoding, vec![billed], vec![]).is_empty());
        // Another procedure's item does not bill this one (a gastroscopy, 44.13).
        let other = colonoscopy(
            DipTreatment::Therapeutic,
            vec![line(
                "003200000441300-320441300",
                3,
                "1",
                "500",
                "2026-03-02 09:00",
            )],
        );
        let found = run(RuleId::Upcoding, vec![other], vec![]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].arm, Arm::C);
    }

    #[test]
    fn arms_firing_on_one_list_make_one_finding_with_every_arms_evidence() {
        let findings = run(
            RuleId::Upcoding,
            vec![colonoscopy(DipTreatment::Surgical, vec![])],
            vec![],
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].arm, Arm::B);
        assert_eq!(findings[0].evidence, ["K35.8:47.0100x001", "45.2300"]);
        assert_eq!(findings[0].amount, money("800.00"));
    }

    #[test]
    fn upcoding_c_judges_only_procedure_groups_and_procedures_the_table_names() {
        // A conservative group is not paid for a procedure.
        assert!(
            run(
                RuleId::Upcoding,
                vec![colonoscopy(DipTreatment::Conservative, vec![])],
                vec![]
            )
            .is_empty()
        );
        // An appendicectomy (47.01) is billed by the operation's category, not by an item of
        // its own: arm c cannot judge it (arm b does).
        let mut appendix = dip_paid(DipTreatment::Diagnostic);
        appendix.procedures = vec![Procedure {
            code: "47.0100".into(),
            name: "阑尾切除术".into(),
        }];
        assert!(run(RuleId::Upcoding, vec![appendix], vec![]).is_empty());
        // A DRG-paid list is judged on its procedures too.
        let mut drg_paid = colonoscopy(DipTreatment::Diagnostic, vec![]);
        drg_paid.dip_group = None;
        drg_paid.drg = Some("GK15".into());
        let findings = run(RuleId::Upcoding, vec![drg_paid.clone()], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::C);
        // A region whose items table names no procedure judges none.
        let mut tables = Tables::demo().expect("demo tables");
        for item in tables.items.values_mut() {
            item.procedures.clear();
        }
        assert!(
            run_with(
                RuleId::Upcoding,
                vec![drg_paid],
                vec![],
                &tables,
                ScreeningPolicy::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn upcoding_b_on_a_dip_list_is_an_operative_group_without_surgery_lines() {
        for treatment in [DipTreatment::Surgical, DipTreatment::Interventional] {
            let findings = run(RuleId::Upcoding, vec![dip_paid(treatment)], vec![]);
            assert_eq!(findings.len(), 1, "{treatment:?}");
            assert_eq!(findings[0].arm, Arm::B);
            assert_eq!(findings[0].evidence, ["K35.8:47.0100x001"]);
            assert_eq!(findings[0].amount, money("800.00"));
            let operated = with_lines(
                dip_paid(treatment),
                vec![line("331003001", 6, "1", "2000", "2026-03-02 10:00")],
            );
            assert!(run(RuleId::Upcoding, vec![operated], vec![]).is_empty());
        }
        // Groups paid for a procedure that is not an operation expect no surgery line.
        for treatment in [
            DipTreatment::Therapeutic,
            DipTreatment::Diagnostic,
            DipTreatment::Conservative,
        ] {
            assert!(
                run(RuleId::Upcoding, vec![dip_paid(treatment)], vec![]).is_empty(),
                "{treatment:?}"
            );
        }
    }

    #[test]
    fn upcoding_a_on_a_dip_list_reads_the_comorbidities_that_set_its_cci_band() {
        let stay = |complication, item| {
            let mut stay = dip_paid(DipTreatment::Conservative);
            stay.diagnoses.push(secondary("E87.600", complication));
            with_lines(stay, vec![line(item, 9, "1", "10", "2026-03-02 08:00")])
        };
        let findings = run(
            RuleId::Upcoding,
            vec![stay(Complication::Cci, "XJ01DDA001")],
            vec![],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::A);
        assert_eq!(findings[0].evidence, ["E87.600"]);
        // XB05BAA001 evidences E.
        let supported = stay(Complication::Cci, "XB05BAA001");
        assert!(run(RuleId::Upcoding, vec![supported], vec![]).is_empty());
        // Not counted in a winning band: it raised nothing.
        let uncounted = stay(Complication::None, "XJ01DDA001");
        assert!(run(RuleId::Upcoding, vec![uncounted], vec![]).is_empty());
        // A DRG list does not read CCI counts, nor a DIP list MCC ones.
        let drg = with_mcc("ES21", "XJ01DDA001", Complication::Cci);
        assert!(run(RuleId::Upcoding, vec![drg], vec![]).is_empty());
        let dip_mcc = stay(Complication::Mcc, "XJ01DDA001");
        assert!(run(RuleId::Upcoding, vec![dip_mcc], vec![]).is_empty());
    }

    #[test]
    fn under_coding_is_surgery_billed_without_procedure() {
        let billed = with_lines(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-09 08:00"),
            vec![line("331003001", 6, "1", "2000", "2026-03-02 10:00")],
        );
        assert_eq!(
            flagged(&run(RuleId::UnderCoding, vec![billed.clone()], vec![])),
            ["L1"]
        );
        let coded = with_procedure(billed, "47.0100x001");
        assert!(run(RuleId::UnderCoding, vec![coded], vec![]).is_empty());
        let no_surgery = list("L2", "P1", "2026-03-01 08:00", "2026-03-09 08:00");
        assert!(run(RuleId::UnderCoding, vec![no_surgery], vec![]).is_empty());
    }

    #[test]
    fn sex_conflicts_read_every_diagnosis_and_both_parts_of_a_pair() {
        let mut man = list("L1", "P1", "2026-03-01 08:00", "2026-03-09 08:00");
        man.diagnoses.push(Diagnosis::new("A18.100x001+N74.1*"));
        let findings = run(RuleId::DiagnosisSexConflict, vec![man.clone()], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].evidence, ["N74.1"]);
        assert_eq!(findings[0].amount, money("800.00"));

        let mut woman = man.clone();
        woman.sex = Sex::Female;
        assert!(run(RuleId::DiagnosisSexConflict, vec![woman.clone()], vec![]).is_empty());
        woman.diagnoses.push(Diagnosis::new("C61.x00"));
        assert_eq!(
            run(RuleId::DiagnosisSexConflict, vec![woman], vec![]).len(),
            1
        );
        // N99 lies just outside N70–N98.
        let mut just_outside = with_principal(man, "N99.000");
        just_outside.diagnoses.truncate(1);
        assert!(run(RuleId::DiagnosisSexConflict, vec![just_outside], vec![]).is_empty());
    }

    fn born(birth: &str, admitted: &str, principal: &str) -> InpatientList {
        let mut stay = with_principal(list("L1", "P1", admitted, "2027-12-30 08:00"), principal);
        stay.birth_date = day(birth);
        stay.sex = Sex::Female;
        stay
    }

    #[test]
    fn perinatal_codes_fit_up_to_365_days_of_age_at_admission() {
        let day_365 = born("2025-03-01", "2026-03-01 08:00", "P07.300");
        assert!(run(RuleId::DiagnosisAgeConflict, vec![day_365], vec![]).is_empty());
        let day_366 = born("2025-03-01", "2026-03-02 08:00", "P07.300");
        assert_eq!(
            run(RuleId::DiagnosisAgeConflict, vec![day_366], vec![]).len(),
            1
        );
    }

    #[test]
    fn pregnancy_codes_fit_ages_10_to_60_at_admission() {
        let ten = born("2016-03-01", "2026-03-01 08:00", "O80.000");
        assert!(run(RuleId::DiagnosisAgeConflict, vec![ten], vec![]).is_empty());
        let nine = born("2016-03-02", "2026-03-01 08:00", "O80.000");
        assert_eq!(
            run(RuleId::DiagnosisAgeConflict, vec![nine], vec![]).len(),
            1
        );
        let sixty = born("1965-03-02", "2026-03-01 08:00", "O80.000");
        assert!(run(RuleId::DiagnosisAgeConflict, vec![sixty], vec![]).is_empty());
        let sixty_one = born("1965-03-01", "2026-03-01 08:00", "O80.000");
        assert_eq!(
            run(RuleId::DiagnosisAgeConflict, vec![sixty_one], vec![]).len(),
            1
        );
    }

    #[test]
    fn principal_selection_a_symptom_beside_a_definite_diagnosis() {
        let mut stay = with_principal(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-05 08:00"),
            "R50.900",
        );
        stay.diagnoses.push(Diagnosis::new("R51.x00"));
        assert!(
            run(
                RuleId::PrincipalDiagnosisSelection,
                vec![stay.clone()],
                vec![]
            )
            .is_empty()
        );
        stay.diagnoses.push(Diagnosis::new("J18.900"));
        let findings = run(RuleId::PrincipalDiagnosisSelection, vec![stay], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::A);
        assert_eq!(findings[0].evidence, ["R50.900", "J18.900"]);
    }

    #[test]
    fn principal_selection_b_admission_condition_4() {
        let mut stay = list("L1", "P1", "2026-03-01 08:00", "2026-03-05 08:00");
        stay.diagnoses[0].admission_condition = Some(3);
        assert!(
            run(
                RuleId::PrincipalDiagnosisSelection,
                vec![stay.clone()],
                vec![]
            )
            .is_empty()
        );
        stay.diagnoses[0].admission_condition = Some(4);
        let findings = run(RuleId::PrincipalDiagnosisSelection, vec![stay], vec![]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].arm, Arm::B);
    }
}
