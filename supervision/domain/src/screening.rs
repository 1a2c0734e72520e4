//! The screening run: every enabled rule over one set of cases, findings in one deterministic
//! order. Pure: the caller gathers the cases, tables and policy; nothing here reads a clock or a
//! store.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::catalogue::RuleId;
use crate::finding::{Finding, Subject, amount_at_stake};
use crate::model::{InpatientList, ScreeningInput};
use crate::parameters::{Parameters, ScreeningPolicy};
use crate::rules;
use crate::tables::Tables;

/// What every rule sees: the cases, the tables, the policy, and each person's stays in order.
pub struct Context<'a> {
    pub input: &'a ScreeningInput,
    pub tables: &'a Tables,
    pub policy: &'a ScreeningPolicy,
    /// Each (person, hospital)'s stays in the order of DOMAIN.md §6 pairs: admission time,
    /// discharge time, list id.
    stays: BTreeMap<(&'a str, &'a str), Vec<&'a InpatientList>>,
}

impl<'a> Context<'a> {
    pub fn new(input: &'a ScreeningInput, tables: &'a Tables, policy: &'a ScreeningPolicy) -> Self {
        let mut stays: BTreeMap<(&str, &str), Vec<&InpatientList>> = BTreeMap::new();
        for list in &input.lists {
            stays
                .entry((list.person_id.as_str(), list.key.hospital.as_str()))
                .or_default()
                .push(list);
        }
        for person_stays in stays.values_mut() {
            person_stays.sort_by(|a, b| {
                (a.admitted_at, a.discharged_at, &a.key.id).cmp(&(
                    b.admitted_at,
                    b.discharged_at,
                    &b.key.id,
                ))
            });
        }
        Self {
            input,
            tables,
            policy,
            stays,
        }
    }

    pub fn parameters(&self) -> &'a Parameters {
        &self.policy.parameters
    }

    /// An empty finding of `rule` at the level the policy gives it.
    pub fn finding(&self, rule: RuleId, subject: Subject) -> Finding {
        Finding::new(rule, self.policy.level(rule), subject)
    }

    /// A finding on a whole list: the amount at stake is the list's in-policy amount (rules
    /// without offending lines).
    pub fn list_finding(&self, rule: RuleId, list: &InpatientList) -> Finding {
        let mut finding = self.finding(rule, Subject::Settlement(list.key.clone()));
        finding.amount = amount_at_stake(list.in_policy_amount.value());
        finding
    }

    /// Every stay paired with the immediately preceding stay of the same person at the same
    /// hospital, as (earlier, later).
    pub fn consecutive_stays(
        &self,
    ) -> impl Iterator<Item = (&'a InpatientList, &'a InpatientList)> + '_ {
        self.stays
            .values()
            .flat_map(|stays| stays.windows(2).map(|pair| (pair[0], pair[1])))
    }
}

/// Runs the policy's enabled rules over `input` and returns the findings sorted by rule,
/// subject, arm, item, date and the rest, without duplicates.
pub fn screen(input: &ScreeningInput, tables: &Tables, policy: &ScreeningPolicy) -> Vec<Finding> {
    let context = Context::new(input, tables, policy);
    let rules: Vec<RuleId> = RuleId::ALL
        .iter()
        .copied()
        .filter(|rule| policy.is_enabled(*rule))
        .collect();
    // Findings sort by rule first, so each rule's findings, sorted on the thread that found
    // them, are the run's order once laid end to end in rule order.
    run_rules(&rules, &context).into_iter().flatten().collect()
}

/// Each rule's findings, sorted and without duplicates, in the order of `rules`. The rules read the cases and write nothing
/// shared, so they are dealt out one at a time to a thread per core; the result does not depend
/// on which thread ran which rule.
fn run_rules(rules: &[RuleId], context: &Context<'_>) -> Vec<Vec<Finding>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(rules.len());
    if threads <= 1 {
        return rules.iter().map(|rule| run_rule(*rule, context)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut found: Vec<Vec<Finding>> = rules.iter().map(|_| Vec::new()).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rule) = rules.get(at) else {
                            break done;
                        };
                        done.push((at, run_rule(*rule, context)));
                    }
                })
            })
            .collect();
        for worker in workers {
            // A rule that panicked panics the run, as it would on one thread.
            let done = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (at, findings) in done {
                found[at] = findings;
            }
        }
    });
    found
}

fn run_rule(rule: RuleId, context: &Context<'_>) -> Vec<Finding> {
    let mut findings = find(rule, context);
    findings.sort();
    findings.dedup();
    findings
}

fn find(rule: RuleId, context: &Context<'_>) -> Vec<Finding> {
    match rule {
        RuleId::SplitAdmission => rules::pairs::split_admission(context),
        RuleId::Readmission15Days => rules::pairs::readmission(context),
        RuleId::SameDayReadmission => rules::pairs::same_day_readmission(context),
        RuleId::LowStandardAdmission => rules::stay::low_standard_admission(context),
        RuleId::Upcoding => rules::coding::upcoding(context),
        RuleId::UnderCoding => rules::coding::under_coding(context),
        RuleId::CostsMovedToOutpatient => rules::ambulatory::costs_moved_to_outpatient(context),
        RuleId::AmbulatoryDuringStay => rules::ambulatory::ambulatory_during_stay(context),
        RuleId::Substitution => rules::charges::substitution(context),
        RuleId::DuplicateCharging => rules::charges::duplicate_charging(context),
        RuleId::UnbundledCharging => rules::charges::unbundled_charging(context),
        RuleId::OverFrequency => rules::frequency::over_frequency(context),
        RuleId::BedBlocking => rules::stay::bed_blocking(context),
        RuleId::DiagnosisSexConflict => rules::coding::diagnosis_sex_conflict(context),
        RuleId::DiagnosisAgeConflict => rules::coding::diagnosis_age_conflict(context),
        RuleId::PrincipalDiagnosisSelection => rules::coding::principal_selection(context),
        RuleId::VeryLongStay => rules::stay::very_long_stay(context),
        RuleId::SelfPayShift => rules::stay::self_pay_shift(context),
        RuleId::HighCostShare => rules::hospital::high_cost_share(context),
        RuleId::CmiRise => rules::hospital::cmi_rise(context),
        RuleId::BlankGroups => rules::hospital::blank_groups(context),
        RuleId::AdmissionsPerPatient => rules::hospital::admissions_per_patient(context),
        RuleId::LowRiskDeaths => rules::hospital::low_risk_deaths(context),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::RuleLevel;
    use crate::finding::{Arm, export_csv};
    use crate::parameters::{Override, ParameterBook, ParameterSet};
    use crate::testkit::*;
    use kernel::RegionCode;

    /// A two-day stay (rule 4 a), readmitted on the day of discharge for the same disease
    /// (rules 1, 2, 3) to a week with two bed lines on one day (rule 12 daily) and no care
    /// charges (rule 13).
    fn input() -> ScreeningInput {
        let first = list("L1", "P1", "2026-03-01 08:00", "2026-03-03 08:00");
        let second = with_lines(
            list("L2", "P1", "2026-03-03 15:00", "2026-03-10 08:00"),
            vec![
                line("001101000010000", 1, "1", "50", "2026-03-04 08:00"),
                line("001101000010000", 1, "1", "50", "2026-03-04 09:00"),
            ],
        );
        ScreeningInput {
            lists: vec![second, first],
            ..ScreeningInput::default()
        }
    }

    #[test]
    fn a_run_sorts_findings_by_rule_then_subject() {
        let tables = Tables::demo().expect("demo tables");
        let findings = screen(&input(), &tables, &ScreeningPolicy::default());
        let summary: Vec<(u8, Arm, String)> = findings
            .iter()
            .map(|f| {
                (
                    f.rule.number(),
                    f.arm,
                    flagged(std::slice::from_ref(f)).remove(0),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, Arm::Whole, "L2".to_owned()),
                (2, Arm::Whole, "L2".to_owned()),
                (3, Arm::Whole, "L2".to_owned()),
                (4, Arm::A, "L1".to_owned()),
                (12, Arm::Daily, "L2".to_owned()),
                (13, Arm::Whole, "L2".to_owned()),
            ]
        );
        let again = screen(&input(), &tables, &ScreeningPolicy::default());
        assert_eq!(export_csv(&findings), export_csv(&again));
    }

    #[test]
    fn the_regions_policy_switches_rules_and_sets_levels_and_parameters() {
        let region = RegionCode::from_u32(460100).expect("region");
        let mut set = ParameterSet::new(region, 2026);
        set.disabled.insert(RuleId::Readmission15Days);
        set.disabled.insert(RuleId::SameDayReadmission);
        set.levels
            .insert(RuleId::SplitAdmission, RuleLevel::General);
        set.overrides.push(Override::LowStandardMaxLos(1));
        let policy = ParameterBook { sets: vec![set] }.policy_for(region, 2026);
        let tables = Tables::demo().expect("demo tables");
        let findings = screen(&input(), &tables, &policy);
        let rules: Vec<u8> = findings.iter().map(|f| f.rule.number()).collect();
        assert_eq!(rules, [1, 12, 13]);
        assert_eq!(findings[0].level, RuleLevel::General);
    }

    proptest::proptest! {
        #[test]
        fn findings_do_not_depend_on_input_order(
            lists in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just(busy_person_lists())),
            reversed_lines in proptest::bool::ANY,
        ) {
            let tables = Tables::demo().expect("demo tables");
            let expected = screen(
                &ScreeningInput { lists: busy_person_lists(), ..ScreeningInput::default() },
                &tables,
                &ScreeningPolicy::default(),
            );
            let mut lists = lists;
            if reversed_lines {
                // Positions name lines, so reversing them renames the lines but keeps the counts.
                for list in &mut lists {
                    list.lines.reverse();
                }
            }
            let shuffled = screen(
                &ScreeningInput { lists, ..ScreeningInput::default() },
                &tables,
                &ScreeningPolicy::default(),
            );
            if reversed_lines {
                let key = |f: &Finding| (f.rule, f.subject.clone(), f.arm, f.item.clone(), f.date, f.amount);
                let a: Vec<_> = expected.iter().map(key).collect();
                let b: Vec<_> = shuffled.iter().map(key).collect();
                proptest::prop_assert_eq!(a, b);
            } else {
                proptest::prop_assert_eq!(expected, shuffled);
            }
        }
    }

    /// Four stays of one person with readmissions, over-frequency and duplicate charges.
    fn busy_person_lists() -> Vec<crate::model::InpatientList> {
        let bed = |at: &str| line("001101000010000", 1, "1", "50", at);
        let infusion = |at: &str| line("003107010010000", 5, "1", "15", at);
        let injection = |at: &str| line("003107020010000", 5, "1", "5", at);
        vec![
            with_lines(
                list("L1", "P1", "2026-03-01 08:00", "2026-03-03 08:00"),
                vec![
                    bed("2026-03-01 08:00"),
                    bed("2026-03-01 09:00"),
                    infusion("2026-03-02 08:00"),
                ],
            ),
            with_lines(
                list("L2", "P1", "2026-03-03 15:00", "2026-03-06 08:00"),
                vec![
                    infusion("2026-03-04 08:00"),
                    injection("2026-03-04 09:00"),
                    bed("2026-03-04 08:00"),
                ],
            ),
            with_lines(
                list("L3", "P1", "2026-03-10 08:00", "2026-03-11 08:00"),
                vec![
                    bed("2026-03-10 08:00"),
                    bed("2026-03-10 08:00"),
                    bed("2026-03-11 08:00"),
                ],
            ),
            list("L4", "P1", "2026-03-10 08:00", "2026-03-12 08:00"),
        ]
    }
}
