//! The case stream.
//!
//! # Memory
//!
//! [`CaseStream`] yields cases one at a time and keeps no case it has yielded. Its whole state is
//! a reference to the [`Simulation`] (province, catalogue and configuration, fixed in size and
//! never written), the generator's 256-bit state, two counters, the draw weights (a fixed-size
//! array) and at most one summary of the latest stay (the stay a readmission, split admission or
//! cost shift refers to, replaced, never accumulated). Nothing grows with the number of cases:
//! streaming ten million cases needs the memory of one. The per-case vectors (diagnoses, fee
//! lines) belong to the yielded case and are freed with it.
//!
//! # Resuming
//!
//! That state, less the reference, is a [`StreamSnapshot`]: [`CaseStream::snapshot`] copies it
//! out (a few hundred bytes) and [`Simulation::cases_from`] starts a stream from it, which
//! yields exactly what the original stream yielded from there on. A pass over the years takes
//! one at each year's first case ([`CaseStream::year_start`]), and a later pass over one year
//! starts there instead of generating the years before it again.
//!
//! # Order
//!
//! Cases come in generation order. A follow-up (readmission, split admission, cost shift) comes
//! right after the stay it refers to or after another follow-up of the same person, and its dates
//! lie after (or, for an outpatient visit before admission, before) that stay's; the stream is
//! not sorted by date.

use std::collections::{BTreeMap, BTreeSet};

use grouping_dip::directory::{GroupKind, TreatmentType};
use kernel::date::{Date, DateTime};
use kernel::{Decimal, FundType, Money};
use settlement_domain::case::{
    AmbulatoryKind, AmbulatorySettlement, CategoryCharge, ChargeCategory, Diagnosis, FeeLine,
    ListHeader, Patient, Payment, Procedure, SettlementList, Stay,
};

use crate::catalogue::{
    CaseTemplate, Catalogue, HOSPICE_DEPARTMENT, NamedCode, PSYCHIATRY_DEPARTMENT, Population,
    REHABILITATION_DEPARTMENT,
};
use crate::config::SimulationConfig;
use crate::items::{self, Item};
use crate::province::{HospitalLevel, Person, Province, Speciality};
use crate::rng::{Rng, hash_of};
use crate::truth::{GroundTruth, Irregularity, Mode, RecordKind};
use crate::{Record, SimulatedCase, Simulation};

/// The one place where a sampled amount becomes money: yuan (f64) rounded once to the fen, half
/// away from zero, never negative. Every other amount is a sum of these or a share taken by
/// `Money::mul_round` (kernel rounding) or in whole fen.
mod ambulatory;
mod fees;
mod irregular;
mod stays;

use fees::*;

pub fn money_from_sample(yuan: f64) -> Money {
    let fen = (yuan * 100.0).round();
    let fen = if fen.is_finite() {
        fen.clamp(0.0, 1.0e12) as i64
    } else {
        0
    };
    Money::from_fen(fen)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Regular(Mode),
    Irregular(Irregularity),
}

/// Every draw: the main method first, then the other modes, then the irregularities (the order
/// of [`crate::config::ModeRates::named`] and [`crate::config::IrregularityRates::named`]).
const SCENARIOS: [Scenario; 18] = [
    Scenario::Regular(Mode::MainMethod),
    Scenario::Regular(Mode::BasicLevel),
    Scenario::Regular(Mode::DaySurgery),
    Scenario::Regular(Mode::PerDiemPsychiatric),
    Scenario::Regular(Mode::PerDiemRehabilitation),
    Scenario::Regular(Mode::PerDiemHospice),
    Scenario::Regular(Mode::LongStay),
    Scenario::Regular(Mode::ReadmissionWithin15Days),
    Scenario::Regular(Mode::ReadmissionAfter15Days),
    Scenario::Regular(Mode::Outpatient),
    Scenario::Regular(Mode::Pharmacy),
    Scenario::Irregular(Irregularity::SplitAdmission),
    Scenario::Irregular(Irregularity::Upcoding),
    Scenario::Irregular(Irregularity::DuplicateCharge),
    Scenario::Irregular(Irregularity::UnbundledCharge),
    Scenario::Irregular(Irregularity::BedBlocking),
    Scenario::Irregular(Irregularity::CostShiftedToOutpatient),
    Scenario::Irregular(Irregularity::PhantomStay),
];

fn scenario_weights(config: &SimulationConfig) -> [f64; 18] {
    let mut weights = [0.0; 18];
    weights[0] = config.main_method_rate();
    for (i, (_, rate)) in config.modes.named().into_iter().enumerate() {
        weights[1 + i] = rate;
    }
    for (i, (_, rate)) in config.irregularities.named().into_iter().enumerate() {
        weights[11 + i] = rate;
    }
    weights
}

/// The latest stay, as far as a follow-up needs it.
#[derive(Clone, Debug)]
struct StaySummary {
    list_id: String,
    hospital: usize,
    person: Person,
    template: usize,
    admitted: DateTime,
    discharged: DateTime,
    principal: NamedCode,
}

/// How a stay's costs spread over its fee lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FeeProfile {
    Acute(TreatmentType),
    PerDiem,
    Phantom,
}

/// Everything a stay is built from.
struct StayPlan<'a> {
    sequence: u64,
    hospital: usize,
    person: Person,
    /// What is coded on the list.
    coded: &'a CaseTemplate,
    /// The care given (its procedures drive the charges).
    care: &'a CaseTemplate,
    principal: NamedCode,
    admitted: DateTime,
    discharged: DateTime,
    med_type: &'static str,
    department: &'static str,
    discharge_type: u8,
    cost: Money,
    profile: FeeProfile,
    /// First and last day (from admission) with a bed charge only.
    blocked_days: Option<(i32, i32)>,
    extra_diagnoses: Vec<NamedCode>,
    procedures: bool,
}

/// Template and hospital pools, fixed for a simulation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pools {
    main: Vec<usize>,
    basic: Vec<usize>,
    day_surgery: Vec<usize>,
    long_stay: Vec<usize>,
    rehabilitation: Vec<usize>,
    hospice: Vec<usize>,
    conservative: Vec<usize>,
    upcodable: Vec<usize>,
    /// General hospitals by level, in [`HospitalLevel::ALL`] order.
    by_level: [Vec<usize>; 6],
    psychiatric: Vec<usize>,
    rehabilitation_hospitals: Vec<usize>,
}

impl Pools {
    pub(crate) fn new(province: &Province, catalogue: &Catalogue) -> Self {
        let mut pools = Pools::default();
        for (i, t) in catalogue.templates.iter().enumerate() {
            let category = t.principal.code.as_str();
            let conservative = t.treatment == TreatmentType::Conservative;
            match t.kind {
                GroupKind::Basic => pools.basic.push(i),
                _ => {
                    pools.main.push(i);
                    if !catalogue.upcodes[i].is_empty() {
                        pools.upcodable.push(i);
                    }
                }
            }
            if Catalogue::is_day_surgery(t) {
                pools.day_surgery.push(i);
            }
            if conservative && t.kind == GroupKind::Core {
                pools.conservative.push(i);
                if category.starts_with('C') {
                    pools.hospice.push(i);
                } else if !t.population.newborn && !category.starts_with('O') {
                    pools.long_stay.push(i);
                }
            }
            let rehab = [
                "I61", "I63", "S06", "S72", "S82", "M16", "M17", "M48", "M51",
            ];
            if conservative && rehab.iter().any(|p| category.starts_with(p)) {
                pools.rehabilitation.push(i);
            }
        }
        for (i, h) in province.hospitals.iter().enumerate() {
            match h.speciality {
                Speciality::General => {
                    let level = HospitalLevel::ALL
                        .iter()
                        .position(|l| *l == h.level)
                        .unwrap_or(0);
                    pools.by_level[level].push(i);
                }
                Speciality::Psychiatric => pools.psychiatric.push(i),
                Speciality::Rehabilitation => pools.rehabilitation_hospitals.push(i),
            }
        }
        pools
    }

    /// Whether every pool a scenario draws from holds something.
    pub(crate) fn missing(&self) -> Option<&'static str> {
        [
            ("main-method template", self.main.is_empty()),
            ("basic-level template", self.basic.is_empty()),
            ("day-surgery template", self.day_surgery.is_empty()),
            ("long-stay template", self.long_stay.is_empty()),
            ("rehabilitation template", self.rehabilitation.is_empty()),
            ("hospice template", self.hospice.is_empty()),
            ("upcodable template", self.upcodable.is_empty()),
            ("psychiatric hospital", self.psychiatric.is_empty()),
            (
                "rehabilitation hospital",
                self.rehabilitation_hospitals.is_empty(),
            ),
            (
                "hospital of some level",
                self.by_level.iter().any(Vec::is_empty),
            ),
        ]
        .into_iter()
        .find(|(_, empty)| *empty)
        .map(|(name, _)| name)
    }
}

/// Share of acute hospital visits by level (3A … community).
const LEVEL_WEIGHTS: [f64; 6] = [0.30, 0.15, 0.25, 0.12, 0.10, 0.08];

fn at(date: Date, hour: u32, minute: u32) -> DateTime {
    // Hours and minutes are clamped into range, so the constructor cannot refuse them.
    DateTime::new(date, hour.min(23), minute.min(59), 0)
        .unwrap_or_else(|_| unreachable!("clamped time of day"))
}

fn year_start(year: i32) -> Date {
    Date::new(year, 1, 1).unwrap_or_else(|_| Date::from_days_since_epoch(0))
}

fn days_in_year(year: i32) -> i64 {
    i64::from(year_start(year + 1).days_since(year_start(year)))
}

/// Completed years from `birth` to `on`.
fn age_years(birth: Date, on: Date) -> i32 {
    let (by, bm, bd) = birth.ymd();
    let (oy, om, od) = on.ymd();
    oy - by - i32::from((om, od) < (bm, bd))
}

fn named(code: &NamedCode) -> NamedCode {
    code.clone()
}

/// Where a [`CaseStream`] stands between two cases: everything the stream carries besides the
/// simulation it reads (the generator's state, the sequence number of the next case, the latest
/// stay a follow-up may refer to), owned, so that it outlives the stream and crosses threads.
/// [`Simulation::cases_from`] resumes a stream of the same simulation there: it yields exactly
/// the cases the original stream yielded from that point on.
#[derive(Clone, Debug)]
pub struct StreamSnapshot {
    rng: Rng,
    sequence: u64,
    year: i32,
    last_stay: Option<StaySummary>,
}

impl StreamSnapshot {
    /// Sequence number (0-based, over every year) of the case a resumed stream yields first.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The simulated year of that case.
    pub fn year(&self) -> i32 {
        self.year
    }
}

/// The stream of simulated cases; see the module documentation for its memory bound.
pub struct CaseStream<'a> {
    simulation: &'a Simulation,
    rng: Rng,
    weights: [f64; 18],
    sequence: u64,
    total: u64,
    last_stay: Option<StaySummary>,
}

impl<'a> CaseStream<'a> {
    pub(crate) fn new(simulation: &'a Simulation) -> Self {
        let config = &simulation.config;
        Self {
            simulation,
            rng: Rng::new(config.seed),
            weights: scenario_weights(config),
            sequence: 0,
            total: config.cases_per_year * u64::from(config.years),
            last_stay: None,
        }
    }

    /// The stream of `simulation` resumed at `snapshot` (taken from a stream of the same
    /// simulation; a snapshot at or past the end gives an empty stream).
    pub(crate) fn resume(simulation: &'a Simulation, snapshot: StreamSnapshot) -> Self {
        let mut stream = Self::new(simulation);
        stream.rng = snapshot.rng;
        stream.sequence = snapshot.sequence;
        stream.last_stay = snapshot.last_stay;
        stream
    }

    /// The simulated year of the case with sequence number `sequence`.
    fn year_of(&self, sequence: u64) -> i32 {
        let config = &self.simulation.config;
        config.first_year + i32::try_from(sequence / config.cases_per_year).unwrap_or(0)
    }

    /// Where the stream stands now: [`Simulation::cases_from`] with it yields what this stream
    /// yields from here on.
    pub fn snapshot(&self) -> StreamSnapshot {
        StreamSnapshot {
            rng: self.rng.clone(),
            sequence: self.sequence,
            year: self.year_of(self.sequence),
            last_stay: self.last_stay.clone(),
        }
    }

    /// The snapshot before the first case of a year, when the next case is one (`None` between
    /// two cases of a year and at the end), so that a pass over the years can remember where
    /// each starts without copying the stream's state at every case.
    pub fn year_start(&self) -> Option<StreamSnapshot> {
        let at_start = self.sequence < self.total
            && self
                .sequence
                .is_multiple_of(self.simulation.config.cases_per_year);
        at_start.then(|| self.snapshot())
    }

    fn catalogue(&self) -> &'a Catalogue {
        &self.simulation.catalogue
    }

    fn province(&self) -> &'a Province {
        &self.simulation.province
    }

    fn pools(&self) -> &'a Pools {
        &self.simulation.pools
    }

    fn pick(&mut self, pool: &[usize]) -> usize {
        pool[self.rng.index(pool.len())]
    }

    /// A hospital's own cost effect (log-normal, σ 0.12), fixed for the seed.
    fn hospital_effect(&self, hospital: usize) -> f64 {
        let seed = self.simulation.config.seed;
        let u1 =
            ((hash_of(seed, hospital as u64 * 2 + 1) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (hash_of(seed, hospital as u64 * 2 + 2) >> 11) as f64 / (1u64 << 53) as f64;
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (0.12 * normal).exp()
    }

    /// A general hospital of a level the template is treated at.
    fn pick_hospital_for(&mut self, template: &CaseTemplate) -> usize {
        let weights: Vec<f64> = HospitalLevel::ALL
            .iter()
            .zip(LEVEL_WEIGHTS)
            .map(|(l, w)| if template.treated_at(*l) { w } else { 0.0 })
            .collect();
        let level = self.rng.weighted(&weights);
        let pool = &self.pools().by_level[level];
        self.pick(pool)
    }

    fn pick_hospital_at(&mut self, levels: &[HospitalLevel]) -> usize {
        let level = levels[self.rng.index(levels.len())];
        let index = HospitalLevel::ALL
            .iter()
            .position(|l| *l == level)
            .unwrap_or(0);
        let pool = &self.pools().by_level[index];
        self.pick(pool)
    }

    /// A person the diagnosis fits on `admission`.
    fn pick_person(&mut self, population: Population, admission: Date, hospital: usize) -> Person {
        let province = self.province();
        let seed = self.simulation.config.seed;
        if population.newborn {
            let days = self.rng.between(0, 28) as i32;
            let region = province.hospitals[hospital].region();
            return Person {
                person_id: format!("N{region}{:09}", self.sequence),
                fund: FundType::Resident,
                sex: if self.rng.chance(0.5) { 1 } else { 2 },
                birth_date: admission.add_days(-days),
                home_region: region,
            };
        }
        let mut person = province.person(seed, 0);
        for _ in 0..64 {
            let mut position = self.rng.next_u64() % province.insured_persons;
            if let Some(sex) = population.sex {
                position = (position & !1) | u64::from(sex == 2);
            }
            person = province.person(seed, position);
            let age = age_years(person.birth_date, admission);
            let days = admission.days_since(person.birth_date);
            if population.admits(person.sex, age, days) {
                return person;
            }
        }
        // Rarely no draw fits the age band: keep the last person's identity and sex rule by
        // moving the birth date into the band (the pool has no record of birth dates).
        let years = i32::try_from(population.min_age_years).unwrap_or(0) + 1;
        person.birth_date = admission.add_days(-(years * 365 + 30));
        if let Some(sex) = population.sex {
            person.sex = sex;
        }
        person
    }

    fn draw_admission(&mut self, year: i32) -> Date {
        let offset = self.rng.between(0, days_in_year(year) - 1) as i32;
        year_start(year).add_days(offset)
    }

    /// Times of a stay of `los` days admitted on `date`.
    fn stay_times(&mut self, date: Date, los: i32) -> (DateTime, DateTime) {
        let admitted = at(
            date,
            self.rng.between(7, 20) as u32,
            self.rng.between(0, 59) as u32,
        );
        let discharged = at(
            date.add_days(los),
            self.rng.between(8, 17) as u32,
            self.rng.between(0, 59) as u32,
        );
        if discharged < admitted {
            (admitted, at(date, 23, 59))
        } else {
            (admitted, discharged)
        }
    }

    /// An acute length of stay for the template: log-normal around the treatment's median,
    /// 2–40 days (3–40 when the principal procedure is on the day-surgery list, so that only day
    /// surgery stays under 48 hours).
    fn acute_los(&mut self, template: &CaseTemplate) -> i32 {
        let mean = match template.treatment {
            TreatmentType::Conservative => 7.0,
            TreatmentType::Diagnostic => 6.0,
            TreatmentType::Therapeutic => 6.5,
            TreatmentType::Interventional => 6.0,
            TreatmentType::Surgical => 9.0,
        };
        let min = if Catalogue::is_day_surgery(template) {
            3.0
        } else {
            2.0
        };
        self.rng.log_normal(mean, 0.4).round().clamp(min, 40.0) as i32
    }

    fn acute_cost(&mut self, template: &CaseTemplate, hospital: usize) -> Money {
        let level = self.province().hospitals[hospital].level;
        let mean = template.mean_cost * level.cost_factor() * self.hospital_effect(hospital);
        money_from_sample(self.rng.log_normal(mean, template.cost_sigma))
    }

    fn per_diem_cost(&mut self, per_day: f64, los: i32, hospital: usize) -> Money {
        let level = self.province().hospitals[hospital].level;
        let mean =
            per_day * f64::from(los.max(1)) * level.cost_factor() * self.hospital_effect(hospital);
        money_from_sample(self.rng.log_normal(mean, 0.25))
    }

    fn secondary_diagnoses(&mut self, principal: &str, newborn: bool) -> Vec<NamedCode> {
        // A symptom is principal only when nothing definite is known (validation warns else).
        if newborn || principal.starts_with('R') {
            return Vec::new();
        }
        let pool = &self.catalogue().secondary_diagnoses;
        let count = self.rng.weighted(&[0.45, 0.35, 0.2]);
        let mut chosen: Vec<NamedCode> = Vec::new();
        for _ in 0..count {
            let candidate = &pool[self.rng.index(pool.len())];
            if candidate.code != principal && !chosen.iter().any(|c| c.code == candidate.code) {
                chosen.push(named(candidate));
            }
        }
        chosen
    }

    fn discharge_type(&mut self, death_rate: f64) -> u8 {
        if self.rng.chance(death_rate) {
            5
        } else if self.rng.chance(0.02) {
            4
        } else {
            1
        }
    }

    /// An acute stay of `template` at `hospital` admitted on `date`.
    fn acute_plan(
        &mut self,
        template_index: usize,
        hospital: usize,
        date: Date,
        person: Option<Person>,
    ) -> StayPlan<'a> {
        let template = &self.catalogue().templates[template_index];
        let los = self.acute_los(template);
        let (admitted, discharged) = self.stay_times(date, los);
        let person =
            person.unwrap_or_else(|| self.pick_person(template.population, date, hospital));
        let cost = self.acute_cost(template, hospital);
        let discharge_type = self.discharge_type(0.005);
        StayPlan {
            sequence: self.sequence,
            hospital,
            person,
            coded: template,
            care: template,
            principal: named(&template.principal),
            admitted,
            discharged,
            med_type: "21",
            department: template.department,
            discharge_type,
            cost,
            profile: FeeProfile::Acute(template.treatment),
            blocked_days: None,
            extra_diagnoses: Vec::new(),
            procedures: true,
        }
    }

    fn truth(&self, year: i32, record: RecordKind, mode: Mode, list_id: &str) -> GroundTruth {
        GroundTruth {
            sequence: self.sequence,
            year,
            record,
            list_id: list_id.to_owned(),
            institution_code: String::new(),
            hospital_level: None,
            person_id: String::new(),
            mode,
            irregularity: None,
            related_list_id: None,
            readmission_gap_days: None,
            dip_group: None,
            coded_dip_group: None,
            evidence: None,
        }
    }

    /// Builds the list of a plan and its truth, and remembers the stay for follow-ups when it
    /// may have one.
    fn inpatient(
        &mut self,
        year: i32,
        plan: StayPlan<'a>,
        mode: Mode,
        template_index: Option<usize>,
    ) -> (SettlementList, GroundTruth) {
        let list = self.assemble(&plan);
        let mut truth = self.truth(year, RecordKind::Inpatient, mode, &list.header.list_id);
        truth.institution_code = list.header.hospital_code.clone();
        truth.hospital_level = Some(self.province().hospitals[plan.hospital].level);
        truth.person_id = plan.person.person_id.clone();
        if matches!(
            mode,
            Mode::MainMethod
                | Mode::BasicLevel
                | Mode::DaySurgery
                | Mode::LongStay
                | Mode::ReadmissionWithin15Days
                | Mode::ReadmissionAfter15Days
        ) {
            truth.dip_group = Some(plan.care.dip_group.clone());
        }
        if let Some(template) = template_index
            && plan.discharge_type == 1
            && !plan.coded.population.newborn
        {
            self.last_stay = Some(StaySummary {
                list_id: list.header.list_id.clone(),
                hospital: plan.hospital,
                person: plan.person.clone(),
                template,
                admitted: plan.admitted,
                discharged: plan.discharged,
                principal: plan.principal.clone(),
            });
        }
        (list, truth)
    }
}

impl Iterator for CaseStream<'_> {
    type Item = SimulatedCase;

    fn next(&mut self) -> Option<SimulatedCase> {
        if self.sequence >= self.total {
            return None;
        }
        let year = self.year_of(self.sequence);
        let case = match SCENARIOS[self.rng.weighted(&self.weights)] {
            Scenario::Regular(mode) => match mode {
                Mode::MainMethod => self.regular_main(year),
                Mode::BasicLevel => self.basic_level(year),
                Mode::DaySurgery => self.day_surgery(year),
                Mode::PerDiemPsychiatric => self.psychiatric(year),
                Mode::PerDiemRehabilitation => self.rehabilitation(year),
                Mode::PerDiemHospice => self.hospice(year),
                Mode::LongStay => self.long_stay(year),
                Mode::ReadmissionWithin15Days => self.readmission(year, true),
                Mode::ReadmissionAfter15Days => self.readmission(year, false),
                Mode::Outpatient | Mode::Pharmacy => self.ambulatory(year, mode, None),
            },
            Scenario::Irregular(irregularity) => match irregularity {
                Irregularity::SplitAdmission => self.split_admission(year),
                Irregularity::Upcoding => self.upcoding(year),
                Irregularity::CostShiftedToOutpatient => self.cost_shift(year),
                other => self.charge_irregularity(year, other),
            },
        };
        self.sequence += 1;
        Some(case)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.total - self.sequence).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}
