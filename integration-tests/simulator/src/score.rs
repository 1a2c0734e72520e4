//! Supervision scored against the ground truth: which seeded cases each screening rule found,
//! and how many of its findings name one (recall and precision per rule).
//!
//! Each case the simulator made irregular is a *target* of the rules of DOMAIN.md §6 meant to
//! find it ([`rules_for`]):
//!
//! | seeded | rules |
//! |---|---|
//! | split admission (分解住院) | 1, 2, and 3 when readmitted the day of the discharge |
//! | readmission within 15 days (not irregular, monitored) | 2 |
//! | upcoding (高套) | 5 |
//! | duplicate charge: a line billed twice on one day | 12 (the item's daily limit) |
//! | unbundled charge (分解收费) | 11 |
//! | bed-blocking (挂床) | 13 |
//! | cost shifted to outpatient before the admission | 7 |
//! | ambulatory settlement during the stay | 8 |
//! | phantom stay (虚假住院) | none: no rule of §6 looks for it; counted apart |
//!
//! Rule 10 (重复收费) is defined on exclusive pairs of two different items; the simulator's
//! duplicate is one item billed twice the same day, which is over the item's daily limit
//! (rule 12). Rule 10 therefore has no target and its findings count as false positives.
//!
//! **Matching.** A finding names its case (hospital and list id) and, for the rules over two
//! records, another settlement: the earlier stay (rules 1–3) or the ambulatory settlement
//! (rules 7, 8). A finding of rule R matches a target of R when it names the target's case
//! (as its case or its other settlement) and, where the target relates to another record
//! (a split admission or readmission to its earlier stay, a cost shift to its stay), names that
//! one too. So a split admission is found only by the finding on that pair, not by a finding
//! on a later pair that names the split stay as its earlier one.
//!
//! Per rule: *seeded* targets, *found* targets (matched by at least one finding), *findings*,
//! *true positives* (findings matching at least one target) and false positives (the rest).
//! Recall = found / seeded, precision = true positives / findings, both in percent rounded
//! once ([`percent`]); [`RuleScore::recall_at_least`] compares exactly, in integers.
//!
//! Only what screening of the year can see is seeded: inpatient cases discharged in the year
//! (a stay crossing into the next year is screened with that year), and cost shifts whose stay
//! was discharged in the year.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use kernel::Decimal;
use kernel::date::DateTime;
use rust_decimal::RoundingStrategy;
pub use supervision_domain::RuleId;

use crate::truth::{GroundTruth, Irregularity, Mode};
use crate::{Record, SimulatedCase};

#[cfg(test)]
mod tests;

/// A settlement as a finding names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseRef {
    /// `fixmedins_code`.
    pub institution: String,
    /// `setl_id`.
    pub list_id: String,
}

impl CaseRef {
    pub fn new(institution: &str, list_id: &str) -> Self {
        Self {
            institution: institution.to_owned(),
            list_id: list_id.to_owned(),
        }
    }
}

/// What a finding names, as `ListFindings` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingRef {
    /// Rule number 1–23.
    pub rule: u8,
    pub case: CaseRef,
    /// The other settlement it names, if any.
    pub other: Option<CaseRef>,
}

impl FindingRef {
    fn names(&self, case: &CaseRef) -> bool {
        &self.case == case || self.other.as_ref() == Some(case)
    }
}

/// A seeded case and the rules meant to find it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub irregularity: Option<Irregularity>,
    pub case: CaseRef,
    /// The record the finding must name besides the case (the earlier stay, or the stay a
    /// settlement was shifted from).
    pub related: Option<CaseRef>,
    pub rules: Vec<RuleId>,
}

/// Where a cost-shifted settlement lies against its stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftTiming {
    BeforeAdmission,
    DuringStay,
}

/// The rules meant to find a case of this truth (empty for a regular case, and for a phantom
/// stay, which no rule looks for). `shift` says where a cost-shifted settlement lies.
pub fn rules_for(truth: &GroundTruth, shift: Option<ShiftTiming>) -> Vec<RuleId> {
    match truth.irregularity {
        Some(Irregularity::SplitAdmission) => {
            let mut rules = vec![RuleId::SplitAdmission, RuleId::Readmission15Days];
            if truth.readmission_gap_days == Some(0) {
                rules.push(RuleId::SameDayReadmission);
            }
            rules
        }
        Some(Irregularity::Upcoding) => vec![RuleId::Upcoding],
        Some(Irregularity::DuplicateCharge) => vec![RuleId::OverFrequency],
        Some(Irregularity::UnbundledCharge) => vec![RuleId::UnbundledCharging],
        Some(Irregularity::BedBlocking) => vec![RuleId::BedBlocking],
        Some(Irregularity::CostShiftedToOutpatient) => match shift {
            Some(ShiftTiming::BeforeAdmission) => vec![RuleId::CostsMovedToOutpatient],
            Some(ShiftTiming::DuringStay) => vec![RuleId::AmbulatoryDuringStay],
            None => Vec::new(),
        },
        Some(Irregularity::PhantomStay) => Vec::new(),
        None if truth.mode == Mode::ReadmissionWithin15Days => {
            let mut rules = vec![RuleId::Readmission15Days];
            if truth.readmission_gap_days == Some(0) {
                rules.push(RuleId::SameDayReadmission);
            }
            rules
        }
        None => Vec::new(),
    }
}

/// A stay recently generated, for the follow-ups that relate to it.
#[derive(Clone, Debug)]
struct RecentStay {
    case: CaseRef,
    admitted: DateTime,
    discharged: DateTime,
}

/// Follow-ups relate to the stay generated just before them; a few more are kept for safety.
const RECENT_STAYS: usize = 64;

/// The targets of a screened year, gathered from the simulated cases one at a time (only
/// seeded cases are kept).
#[derive(Clone, Debug)]
pub struct Seeded {
    year: i32,
    targets: Vec<Target>,
    index: HashMap<(RuleId, CaseRef), Vec<usize>>,
    recent: VecDeque<RecentStay>,
    /// Seeded irregular cases of the year that no rule looks for, by irregularity.
    unscreened: BTreeMap<Irregularity, u64>,
    /// Seeded cases left out because screening of the year does not see them.
    outside_year: u64,
}

impl Seeded {
    /// Targets of the screening of `year` (by discharge date).
    pub fn new(year: i32) -> Self {
        Self {
            year,
            targets: Vec::new(),
            index: HashMap::new(),
            recent: VecDeque::with_capacity(RECENT_STAYS + 1),
            unscreened: BTreeMap::new(),
            outside_year: 0,
        }
    }

    /// Gathers the cases' targets.
    pub fn from_cases(year: i32, cases: impl IntoIterator<Item = SimulatedCase>) -> Self {
        let mut seeded = Self::new(year);
        for case in cases {
            seeded.observe(&case);
        }
        seeded
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    fn recent_stay(&self, list_id: &str) -> Option<&RecentStay> {
        self.recent.iter().rev().find(|s| s.case.list_id == list_id)
    }

    /// Takes one case in, in generation order.
    pub fn observe(&mut self, case: &SimulatedCase) {
        let truth = &case.truth;
        let related = truth
            .related_list_id
            .as_deref()
            .and_then(|id| self.recent_stay(id))
            .cloned();
        // The date whose year decides whether the year's screening sees the finding, and
        // where a cost-shifted settlement lies against its stay.
        let (screened_on, shift) = match &case.record {
            Record::Inpatient(list) => (Some(list.stay.discharged_at), None),
            Record::Ambulatory(settlement) => match &related {
                Some(stay) => (
                    Some(stay.discharged),
                    Some(if settlement.settled_at < stay.admitted {
                        ShiftTiming::BeforeAdmission
                    } else {
                        ShiftTiming::DuringStay
                    }),
                ),
                None => (None, None),
            },
        };
        if let Record::Inpatient(list) = &case.record {
            self.recent.push_back(RecentStay {
                case: CaseRef::new(&list.header.hospital_code, &list.header.list_id),
                admitted: list.stay.admitted_at,
                discharged: list.stay.discharged_at,
            });
            if self.recent.len() > RECENT_STAYS {
                self.recent.pop_front();
            }
        }
        let rules = rules_for(truth, shift);
        let seeded = truth.irregularity.is_some() || !rules.is_empty();
        if !seeded {
            return;
        }
        if screened_on.is_none_or(|on| on.date().year() != self.year) {
            self.outside_year += 1;
            return;
        }
        if rules.is_empty() {
            if let Some(irregularity) = truth.irregularity {
                *self.unscreened.entry(irregularity).or_insert(0) += 1;
            }
            return;
        }
        self.add(Target {
            irregularity: truth.irregularity,
            case: CaseRef::new(&truth.institution_code, &truth.list_id),
            related: related.map(|stay| stay.case),
            rules,
        });
    }

    /// Adds a target directly (a truth gathered elsewhere).
    pub fn add(&mut self, target: Target) {
        let at = self.targets.len();
        for rule in &target.rules {
            self.index
                .entry((*rule, target.case.clone()))
                .or_default()
                .push(at);
        }
        self.targets.push(target);
    }

    /// The targets `finding` matches (see the module's matching).
    fn matches(&self, rule: RuleId, finding: &FindingRef) -> BTreeSet<usize> {
        let mut matched = BTreeSet::new();
        for named in std::iter::once(&finding.case).chain(finding.other.as_ref()) {
            let Some(candidates) = self.index.get(&(rule, named.clone())) else {
                continue;
            };
            for &at in candidates {
                let target = &self.targets[at];
                if target.related.as_ref().is_none_or(|r| finding.names(r)) {
                    matched.insert(at);
                }
            }
        }
        matched
    }

    /// Scores the findings of the year's screening against the targets.
    pub fn score(&self, findings: impl IntoIterator<Item = FindingRef>) -> Scores {
        let mut rules: BTreeMap<RuleId, (RuleScore, BTreeSet<usize>)> = BTreeMap::new();
        let mut unknown_rules = 0;
        for target in &self.targets {
            for rule in &target.rules {
                rules
                    .entry(*rule)
                    .or_insert_with(|| (RuleScore::new(*rule), BTreeSet::new()))
                    .0
                    .seeded += 1;
            }
        }
        for finding in findings {
            let Some(rule) = RuleId::from_number(finding.rule) else {
                unknown_rules += 1;
                continue;
            };
            let matched = self.matches(rule, &finding);
            let (score, found) = rules
                .entry(rule)
                .or_insert_with(|| (RuleScore::new(rule), BTreeSet::new()));
            score.findings += 1;
            if !matched.is_empty() {
                score.true_positives += 1;
            }
            found.extend(matched);
        }
        Scores {
            rules: rules
                .into_values()
                .map(|(mut score, found)| {
                    score.found = found.len() as u64;
                    score
                })
                .collect(),
            unscreened: self.unscreened.clone(),
            outside_year: self.outside_year,
            unknown_rules,
        }
    }
}

/// One rule against the ground truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleScore {
    pub rule: RuleId,
    /// Seeded cases the rule is meant to find.
    pub seeded: u64,
    /// Of those, the ones a finding of the rule matches.
    pub found: u64,
    pub findings: u64,
    /// Findings that match a seeded case.
    pub true_positives: u64,
}

impl RuleScore {
    fn new(rule: RuleId) -> Self {
        Self {
            rule,
            seeded: 0,
            found: 0,
            findings: 0,
            true_positives: 0,
        }
    }

    pub fn false_positives(&self) -> u64 {
        self.findings - self.true_positives
    }

    /// found / seeded in percent; `None` when nothing was seeded for the rule.
    pub fn recall(&self) -> Option<Decimal> {
        percent(self.found, self.seeded)
    }

    /// true positives / findings in percent; `None` when the rule found nothing.
    pub fn precision(&self) -> Option<Decimal> {
        percent(self.true_positives, self.findings)
    }

    /// Whether found / seeded ≥ `threshold` %, exactly (false when nothing was seeded).
    pub fn recall_at_least(&self, threshold: u64) -> bool {
        self.seeded > 0 && self.found * 100 >= threshold * self.seeded
    }
}

/// `part / whole` in percent, rounded once to one decimal place, half away from zero; `None`
/// for a whole of zero.
pub fn percent(part: u64, whole: u64) -> Option<Decimal> {
    (whole > 0).then(|| {
        (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    })
}

/// A percentage as printed: one decimal and `%`, or a dash where it is undefined.
pub fn percent_text(value: Option<Decimal>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}%"))
}

/// The year's screening against the ground truth.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scores {
    /// A line per rule that had a target or a finding, in rule order.
    pub rules: Vec<RuleScore>,
    /// Seeded irregular cases no rule looks for, by irregularity.
    pub unscreened: BTreeMap<Irregularity, u64>,
    /// Seeded cases the year's screening cannot see (discharged in another year).
    pub outside_year: u64,
    /// Findings of a rule number the catalogue does not know.
    pub unknown_rules: u64,
}

impl Scores {
    pub fn rule(&self, rule: RuleId) -> Option<&RuleScore> {
        self.rules.iter().find(|s| s.rule == rule)
    }
}
