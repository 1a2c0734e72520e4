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
//! # Order
//!
//! Cases come in generation order. A follow-up (readmission, split admission, cost shift) comes
//! right after the stay it refers to or after another follow-up of the same person, and its dates
//! lie after (or, for an outpatient visit before admission, before) that stay's; the stream is
//! not sorted by date.

use std::collections::BTreeMap;

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

    fn regular_main(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().main;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_for(&self.catalogue().templates[template]);
        let date = self.draw_admission(year);
        let plan = self.acute_plan(template, hospital, date, None);
        let (list, truth) = self.inpatient(year, plan, Mode::MainMethod, Some(template));
        SimulatedCase::inpatient(list, truth)
    }

    fn basic_level(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().basic;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_at(&[HospitalLevel::Primary1, HospitalLevel::Community]);
        let date = self.draw_admission(year);
        let plan = self.acute_plan(template, hospital, date, None);
        let (list, truth) = self.inpatient(year, plan, Mode::BasicLevel, None);
        SimulatedCase::inpatient(list, truth)
    }

    fn day_surgery(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().day_surgery;
        let template_index = self.pick(pool);
        let template = &self.catalogue().templates[template_index];
        let hospital = self.pick_hospital_at(&[
            HospitalLevel::Tertiary3A,
            HospitalLevel::Tertiary3B,
            HospitalLevel::Secondary2A,
        ]);
        let date = self.draw_admission(year);
        let mut plan = self.acute_plan(template_index, hospital, date, None);
        // Under 48 hours: home the same evening or the next morning.
        plan.admitted = at(
            date,
            self.rng.between(7, 9) as u32,
            self.rng.between(0, 59) as u32,
        );
        plan.discharged = if self.rng.chance(0.4) {
            at(
                date,
                self.rng.between(15, 19) as u32,
                self.rng.between(0, 59) as u32,
            )
        } else {
            at(
                date.add_days(1),
                self.rng.between(8, 11) as u32,
                self.rng.between(0, 59) as u32,
            )
        };
        plan.med_type = "28";
        plan.discharge_type = 1;
        plan.cost = money_from_sample(self.rng.log_normal(template.mean_cost * 0.8, 0.25));
        let (list, truth) = self.inpatient(year, plan, Mode::DaySurgery, None);
        SimulatedCase::inpatient(list, truth)
    }

    /// A per-diem or long stay of `los` days.
    #[allow(clippy::too_many_arguments)]
    fn long_plan(
        &mut self,
        year: i32,
        template_index: usize,
        principal: Option<NamedCode>,
        hospital: usize,
        los: i32,
        per_day: f64,
        department: Option<&'static str>,
        med_type: &'static str,
    ) -> StayPlan<'a> {
        let date = self.draw_admission(year);
        let mut plan = self.acute_plan(template_index, hospital, date, None);
        let (admitted, discharged) = self.stay_times(date, los);
        plan.admitted = admitted;
        plan.discharged = discharged;
        if let Some(principal) = principal {
            plan.principal = principal;
        }
        if let Some(department) = department {
            plan.department = department;
        }
        plan.med_type = med_type;
        plan.cost = self.per_diem_cost(per_day, los, hospital);
        plan.profile = FeeProfile::PerDiem;
        plan.procedures = false;
        plan
    }

    fn psychiatric(&mut self, year: i32) -> SimulatedCase {
        let diagnoses = &self.catalogue().psychiatric_diagnoses;
        let principal = named(&diagnoses[self.rng.index(diagnoses.len())]);
        let pool = &self.pools().psychiatric;
        let hospital = self.pick(pool);
        let los = self.rng.between(57, 150) as i32;
        // Any adult conservative template serves as the patient profile; the principal
        // diagnosis is the psychiatric one.
        let template = self.pick_adult_conservative();
        let mut plan = self.long_plan(
            year,
            template,
            Some(principal),
            hospital,
            los,
            420.0,
            Some(PSYCHIATRY_DEPARTMENT),
            "2105",
        );
        plan.discharge_type = 1;
        let (list, truth) = self.inpatient(year, plan, Mode::PerDiemPsychiatric, None);
        SimulatedCase::inpatient(list, truth)
    }

    fn pick_adult_conservative(&mut self) -> usize {
        let pool = &self.pools().long_stay;
        for _ in 0..64 {
            let t = self.pick(pool);
            if self.catalogue().templates[t].population == Population::ANY {
                return t;
            }
        }
        self.pick(pool)
    }

    fn rehabilitation(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().rehabilitation;
        let template = self.pick(pool);
        let hospital = if self.rng.chance(0.5) {
            let pool = &self.pools().rehabilitation_hospitals;
            self.pick(pool)
        } else {
            self.pick_hospital_at(&[HospitalLevel::Tertiary3A, HospitalLevel::Secondary2A])
        };
        let los = self.rng.between(14, 45) as i32;
        let mut plan = self.long_plan(
            year,
            template,
            None,
            hospital,
            los,
            780.0,
            Some(REHABILITATION_DEPARTMENT),
            "2105",
        );
        plan.discharge_type = 1;
        let (list, truth) = self.inpatient(year, plan, Mode::PerDiemRehabilitation, None);
        SimulatedCase::inpatient(list, truth)
    }

    fn hospice(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().hospice;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_at(&[
            HospitalLevel::Secondary2A,
            HospitalLevel::Secondary2B,
            HospitalLevel::Primary1,
        ]);
        let los = self.rng.between(3, 40) as i32;
        let mut plan = self.long_plan(
            year,
            template,
            None,
            hospital,
            los,
            650.0,
            Some(HOSPICE_DEPARTMENT),
            "2105",
        );
        plan.discharge_type = if self.rng.chance(0.4) { 5 } else { 1 };
        let (list, truth) = self.inpatient(year, plan, Mode::PerDiemHospice, None);
        SimulatedCase::inpatient(list, truth)
    }

    fn long_stay(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().long_stay;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_at(&[
            HospitalLevel::Tertiary3A,
            HospitalLevel::Tertiary3B,
            HospitalLevel::Secondary2A,
            HospitalLevel::Secondary2B,
        ]);
        let los = self.rng.between(60, 150) as i32;
        let mut plan = self.long_plan(year, template, None, hospital, los, 900.0, None, "21");
        plan.discharge_type = self.discharge_type(0.05);
        let (list, truth) = self.inpatient(year, plan, Mode::LongStay, None);
        SimulatedCase::inpatient(list, truth)
    }

    /// The latest stay when a follow-up `gap` days after its discharge still lies in the
    /// simulation's window (at most 200 days after the year), else `None`.
    fn follow_up_of(&self, year: i32, gap: i32) -> Option<StaySummary> {
        let stay = self.last_stay.as_ref()?;
        let limit = year_start(year + 1).add_days(200);
        (stay.discharged.date().add_days(gap) <= limit).then(|| stay.clone())
    }

    /// A core template other than `except_category` (when given) that the hospital treats and
    /// the person fits on `date`.
    fn template_for(
        &mut self,
        hospital: usize,
        person: &Person,
        date: Date,
        except_category: Option<&str>,
    ) -> Option<usize> {
        let level = self.province().hospitals[hospital].level;
        let pool = &self.pools().main;
        for _ in 0..64 {
            let t = self.pick(pool);
            let template = &self.catalogue().templates[t];
            let age = age_years(person.birth_date, date);
            if template.treated_at(level)
                && !template.population.newborn
                && template
                    .population
                    .admits(person.sex, age, date.days_since(person.birth_date))
                && except_category.is_none_or(|c| template.category3() != c)
            {
                return Some(t);
            }
        }
        None
    }

    fn readmission(&mut self, year: i32, within_15_days: bool) -> SimulatedCase {
        let gap = if within_15_days {
            self.rng.between(1, 15)
        } else {
            self.rng.between(16, 60)
        } as i32;
        let Some(previous) = self.follow_up_of(year, gap) else {
            return self.regular_main(year);
        };
        let date = previous.discharged.date().add_days(gap);
        let previous_category = self.catalogue().templates[previous.template]
            .category3()
            .to_owned();
        let except = within_15_days.then_some(previous_category.as_str());
        let Some(template) = self.template_for(previous.hospital, &previous.person, date, except)
        else {
            return self.regular_main(year);
        };
        let plan = self.acute_plan(
            template,
            previous.hospital,
            date,
            Some(previous.person.clone()),
        );
        let mode = if within_15_days {
            Mode::ReadmissionWithin15Days
        } else {
            Mode::ReadmissionAfter15Days
        };
        let (list, mut truth) = self.inpatient(year, plan, mode, Some(template));
        truth.related_list_id = Some(previous.list_id);
        truth.readmission_gap_days = Some(gap);
        SimulatedCase::inpatient(list, truth)
    }

    fn split_admission(&mut self, year: i32) -> SimulatedCase {
        let gap = self.rng.between(0, 3) as i32;
        let Some(previous) = self.follow_up_of(year, gap) else {
            return self.regular_main(year);
        };
        let date = previous.discharged.date().add_days(gap);
        let mut plan = self.acute_plan(
            previous.template,
            previous.hospital,
            date,
            Some(previous.person.clone()),
        );
        if gap == 0 {
            // Readmitted the afternoon of the discharge.
            let hour = previous.discharged.seconds_since(at(date, 0, 0)) / 3600;
            let hour = u32::try_from(hour + 1).unwrap_or(22).min(22);
            plan.admitted = at(date, hour, 30);
            if plan.discharged < plan.admitted {
                plan.discharged = at(date.add_days(2), 10, 0);
            }
        }
        plan.discharge_type = 1;
        let (list, mut truth) =
            self.inpatient(year, plan, Mode::MainMethod, Some(previous.template));
        truth.irregularity = Some(Irregularity::SplitAdmission);
        truth.related_list_id = Some(previous.list_id.clone());
        truth.readmission_gap_days = Some(gap);
        truth.evidence = Some(format!(
            "readmitted {gap} day(s) after {} with the same principal diagnosis {}",
            previous.list_id, previous.principal.code
        ));
        SimulatedCase::inpatient(list, truth)
    }

    fn upcoding(&mut self, year: i32) -> SimulatedCase {
        let date = self.draw_admission(year);
        if self.rng.chance(0.7) {
            let pool = &self.pools().upcodable;
            let care = self.pick(pool);
            let upcodes = &self.catalogue().upcodes[care];
            let coded = upcodes[self.rng.index(upcodes.len())];
            let coded_template = &self.catalogue().templates[coded];
            let hospital = self.pick_hospital_for(coded_template);
            let mut plan = self.acute_plan(care, hospital, date, None);
            plan.coded = coded_template;
            let (list, mut truth) = self.inpatient(year, plan, Mode::MainMethod, None);
            truth.irregularity = Some(Irregularity::Upcoding);
            truth.coded_dip_group = Some(coded_template.dip_group.clone());
            truth.evidence = Some(format!(
                "care of {} coded as {}",
                truth.dip_group.as_deref().unwrap_or(""),
                coded_template.dip_group
            ));
            SimulatedCase::inpatient(list, truth)
        } else {
            let pool = &self.pools().main;
            let mut template = self.pick(pool);
            // A symptom as principal takes no other diagnosis (see `secondary_diagnoses`).
            while self.catalogue().templates[template]
                .principal
                .code
                .starts_with('R')
            {
                template = self.pick(pool);
            }
            let hospital = self.pick_hospital_for(&self.catalogue().templates[template]);
            let mut plan = self.acute_plan(template, hospital, date, None);
            let mcc = &self.catalogue().mcc_diagnoses;
            let first = self.rng.index(mcc.len());
            let second =
                (first + 1 + self.rng.index(mcc.len().saturating_sub(1).max(1))) % mcc.len();
            let principal = plan.principal.code.clone();
            plan.extra_diagnoses = [first, second]
                .into_iter()
                .map(|i| named(&mcc[i]))
                .filter(|c| c.code != principal)
                .collect();
            let added: Vec<String> = plan
                .extra_diagnoses
                .iter()
                .map(|c| c.code.clone())
                .collect();
            let (list, mut truth) = self.inpatient(year, plan, Mode::MainMethod, None);
            truth.irregularity = Some(Irregularity::Upcoding);
            truth.evidence = Some(format!(
                "MCC diagnoses {} without supporting charges",
                added.join(", ")
            ));
            SimulatedCase::inpatient(list, truth)
        }
    }

    fn charge_irregularity(&mut self, year: i32, irregularity: Irregularity) -> SimulatedCase {
        // Blocked beds and phantom stays have no procedures: conservative pictures.
        let pool = match irregularity {
            Irregularity::BedBlocking | Irregularity::PhantomStay => &self.pools().conservative,
            _ => &self.pools().main,
        };
        let template = self.pick(pool);
        let hospital = self.pick_hospital_for(&self.catalogue().templates[template]);
        let date = self.draw_admission(year);
        let mut plan = self.acute_plan(template, hospital, date, None);
        let mut evidence = String::new();
        match irregularity {
            Irregularity::BedBlocking => {
                let los = self.rng.between(8, 25) as i32;
                let (admitted, discharged) = self.stay_times(date, los);
                plan.admitted = admitted;
                plan.discharged = discharged;
                plan.cost = self.per_diem_cost(700.0, los, hospital);
                let first = self.rng.between(3, i64::from(los) - 4) as i32;
                let last = (first + self.rng.between(2, 4) as i32).min(los - 2);
                plan.blocked_days = Some((first, last));
                evidence = format!("days {first}–{last} after admission have a bed charge only");
            }
            Irregularity::PhantomStay => {
                let los = self.rng.between(3, 10) as i32;
                let (admitted, discharged) = self.stay_times(date, los);
                plan.admitted = admitted;
                plan.discharged = discharged;
                plan.profile = FeeProfile::Phantom;
                plan.procedures = false;
                plan.cost = self.per_diem_cost(450.0, los, hospital);
                evidence = "no examination, laboratory, nursing or procedure".to_owned();
            }
            _ => {}
        }
        let (mut list, mut truth) = self.inpatient(year, plan, Mode::MainMethod, None);
        match irregularity {
            Irregularity::DuplicateCharge => {
                let candidates: Vec<usize> = list
                    .fee_lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| matches!(l.med_chrgitm_type.as_str(), "03" | "04" | "09"))
                    .map(|(i, _)| i)
                    .collect();
                if !candidates.is_empty() {
                    let line = list.fee_lines[candidates[self.rng.index(candidates.len())]].clone();
                    evidence = format!(
                        "{} billed twice at {}",
                        line.hilist_code, line.fee_ocur_time
                    );
                    list.fee_lines.push(line);
                }
            }
            Irregularity::UnbundledCharge => {
                let days: Vec<DateTime> = list
                    .fee_lines
                    .iter()
                    .filter(|l| l.hilist_code == items::NURSING_PACKAGE.code)
                    .map(|l| l.fee_ocur_time)
                    .collect();
                let count = days.len().min(self.rng.between(1, 3) as usize);
                let (package, components) = items::PACKAGES[0];
                for time in days.iter().take(count) {
                    for (component, yuan) in components.iter().zip([1200, 800]) {
                        let amount = Money::from_fen(yuan);
                        list.fee_lines.push(fee_line(
                            component,
                            amount,
                            *time,
                            list.stay.discharge_department.as_str(),
                        ));
                    }
                }
                evidence = format!(
                    "{} and {} billed besides {} on {count} day(s)",
                    components[0].code, components[1].code, package.code
                );
            }
            _ => {}
        }
        settle_amounts(&mut list, self.province().hospitals[hospital].level);
        truth.irregularity = Some(irregularity);
        truth.evidence = Some(evidence);
        SimulatedCase::inpatient(list, truth)
    }

    fn ambulatory(
        &mut self,
        year: i32,
        mode: Mode,
        shift: Option<(StaySummary, bool)>,
    ) -> SimulatedCase {
        let province = self.province();
        let seed = self.simulation.config.seed;
        let pharmacy_visit = mode == Mode::Pharmacy;
        let (institution, level, region, person, date, diagnosis) = match &shift {
            Some((stay, before_admission)) => {
                let date = if *before_admission {
                    stay.admitted
                        .date()
                        .add_days(-(self.rng.between(1, 7) as i32))
                } else {
                    let los = stay.discharged.date().days_since(stay.admitted.date());
                    stay.admitted
                        .date()
                        .add_days(self.rng.between(0, i64::from(los)) as i32)
                };
                let hospital = &province.hospitals[stay.hospital];
                if pharmacy_visit {
                    let region = hospital.region();
                    let pharmacy = province
                        .pharmacies
                        .iter()
                        .find(|p| p.institution.pooling_region == region)
                        .unwrap_or(&province.pharmacies[0]);
                    (
                        &pharmacy.institution,
                        None,
                        pharmacy.institution.pooling_region,
                        stay.person.clone(),
                        date,
                        None,
                    )
                } else {
                    (
                        &hospital.institution,
                        Some(hospital.level),
                        hospital.region(),
                        stay.person.clone(),
                        date,
                        Some(stay.principal.clone()),
                    )
                }
            }
            None => {
                let date = self.draw_admission(year);
                if pharmacy_visit {
                    let pharmacy = &province.pharmacies[self.rng.index(province.pharmacies.len())];
                    let person = province.person(seed, self.rng.next_u64());
                    (
                        &pharmacy.institution,
                        None,
                        pharmacy.institution.pooling_region,
                        person,
                        date,
                        None,
                    )
                } else {
                    let hospital_index = self.rng.index(province.hospitals.len());
                    let hospital = &province.hospitals[hospital_index];
                    let pool = &self.pools().conservative;
                    let template = &self.catalogue().templates[self.pick(pool)];
                    let person = self.pick_person(template.population, date, hospital_index);
                    (
                        &hospital.institution,
                        Some(hospital.level),
                        hospital.region(),
                        person,
                        date,
                        Some(named(&template.principal)),
                    )
                }
            }
        };
        let chronic = !pharmacy_visit && shift.is_none() && self.rng.chance(0.2);
        let (kind, med_type, prefix, mean) = if pharmacy_visit {
            (AmbulatoryKind::Pharmacy, "41", "YD", 120.0)
        } else if chronic {
            (AmbulatoryKind::ChronicOutpatient, "14", "MZ", 650.0)
        } else {
            (AmbulatoryKind::Outpatient, "11", "MZ", 260.0)
        };
        let mean = if shift.as_ref().is_some_and(|(_, before)| *before) {
            900.0
        } else {
            mean
        };
        let total = money_from_sample(self.rng.log_normal(mean, 0.5));
        let settled_at = at(
            date,
            self.rng.between(8, 17) as u32,
            self.rng.between(0, 59) as u32,
        );
        let plan: Vec<(Item, f64)> = if pharmacy_visit {
            vec![(items::PROTON_PUMP, 0.5), (items::ANTIBIOTIC, 0.5)]
        } else if shift.is_some() {
            vec![
                (items::CT, 0.5),
                (items::BLOOD_COUNT, 0.2),
                (items::BIOCHEMISTRY, 0.3),
            ]
        } else {
            vec![
                (items::REGISTRATION, 0.05),
                (items::GENERAL_DIAGNOSIS, 0.10),
                (items::BLOOD_COUNT, 0.30),
                (items::PROTON_PUMP, 0.55),
            ]
        };
        let department = if pharmacy_visit {
            "pharmacy"
        } else {
            "outpatient"
        };
        let fee_lines: Vec<FeeLine> = split_by_weight(total, &plan)
            .into_iter()
            .map(|(item, amount)| fee_line(&item, amount, settled_at, department))
            .collect();
        let list_id = format!("{prefix}{:012}", self.sequence);
        let header = ListHeader {
            list_id: list_id.clone(),
            hospital_code: institution.code.clone(),
            hospital_level: level.map_or("pharmacy", HospitalLevel::code).to_owned(),
            insurance_type: person.fund.code(),
            person_id: person.person_id.clone(),
            case_number: format!("{prefix}{:010}", self.sequence),
            declared_at: at(date, 21, 0),
            pooling_region: region,
            insured_region: None,
            refund: false,
        };
        let payment = payment_of(total, person.fund, level.unwrap_or(HospitalLevel::Primary1));
        let settlement = AmbulatorySettlement {
            header,
            kind,
            med_type: med_type.to_owned(),
            settled_at,
            diagnoses: diagnosis
                .map(|d| Diagnosis {
                    code: d.code,
                    name: d.name,
                    admission_condition: 1,
                })
                .into_iter()
                .collect(),
            payment,
            fee_lines,
        };
        let record = match kind {
            AmbulatoryKind::Pharmacy => RecordKind::Pharmacy,
            AmbulatoryKind::ChronicOutpatient => RecordKind::ChronicOutpatient,
            AmbulatoryKind::Outpatient => RecordKind::Outpatient,
        };
        let mut truth = self.truth(year, record, mode, &list_id);
        truth.institution_code = institution.code.clone();
        truth.hospital_level = level;
        truth.person_id = person.person_id;
        if let Some((stay, before)) = shift {
            truth.irregularity = Some(Irregularity::CostShiftedToOutpatient);
            truth.related_list_id = Some(stay.list_id.clone());
            truth.evidence = Some(if before {
                format!(
                    "examinations billed as outpatient before admission to {}",
                    stay.list_id
                )
            } else {
                format!("settled during stay {}", stay.list_id)
            });
        }
        SimulatedCase {
            record: Record::Ambulatory(Box::new(settlement)),
            truth,
        }
    }

    fn cost_shift(&mut self, year: i32) -> SimulatedCase {
        let Some(stay) = self.follow_up_of(year, 0) else {
            return self.regular_main(year);
        };
        let before_admission = self.rng.chance(0.6);
        let mode = if before_admission || self.rng.chance(0.5) {
            Mode::Outpatient
        } else {
            Mode::Pharmacy
        };
        self.ambulatory(year, mode, Some((stay, before_admission)))
    }

    /// Turns a plan into a settlement list (fee lines, charges, payment).
    fn assemble(&mut self, plan: &StayPlan<'_>) -> SettlementList {
        let province = self.province();
        let hospital = &province.hospitals[plan.hospital];
        let admission_date = plan.admitted.date();
        let person = &plan.person;
        let age = age_years(person.birth_date, admission_date).max(0);
        let age_days = admission_date.days_since(person.birth_date);
        let newborn_weight = (age == 0 && age_days <= 28).then(|| {
            if plan.principal.code.starts_with("P07") {
                self.rng.between(1000, 2400) as u32
            } else {
                self.rng.between(2500, 4000) as u32
            }
        });
        let mut diagnoses = vec![Diagnosis {
            code: plan.principal.code.clone(),
            name: plan.principal.name.clone(),
            admission_condition: 1,
        }];
        let secondary =
            self.secondary_diagnoses(&plan.principal.code, plan.coded.population.newborn);
        for d in secondary
            .into_iter()
            .chain(plan.extra_diagnoses.iter().cloned())
        {
            if !diagnoses.iter().any(|x| x.code == d.code) {
                diagnoses.push(Diagnosis {
                    code: d.code,
                    name: d.name,
                    admission_condition: 1,
                });
            }
        }
        let los = plan.discharged.date().days_since(admission_date);
        let procedure_day =
            admission_date.add_days(self.rng.between(0, i64::from(los.min(1))) as i32);
        let procedures: Vec<Procedure> = if plan.procedures {
            plan.coded
                .procedures
                .iter()
                .map(|p| Procedure {
                    code: p.code.clone(),
                    name: p.name.clone(),
                    date: procedure_day,
                    anaesthesia: (plan.coded.treatment == TreatmentType::Surgical)
                        .then(|| "general".to_owned()),
                })
                .collect()
        } else {
            Vec::new()
        };
        let fee_lines = stay_fee_lines(plan, procedure_day);
        let list_id = format!("ZY{:012}", plan.sequence);
        let declared = plan
            .discharged
            .date()
            .add_days(self.rng.between(1, 5) as i32);
        let mut list = SettlementList {
            header: ListHeader {
                list_id,
                hospital_code: hospital.code().to_owned(),
                hospital_level: hospital.level.code().to_owned(),
                insurance_type: person.fund.code(),
                person_id: person.person_id.clone(),
                case_number: format!("BA{:012}", plan.sequence),
                declared_at: at(declared, 18, 0),
                pooling_region: hospital.region(),
                insured_region: None,
                refund: false,
            },
            patient: Patient {
                sex: person.sex,
                birth_date: person.birth_date,
                age_years: u32::try_from(age).unwrap_or(0),
                age_days: (age == 0).then(|| u32::try_from(age_days).unwrap_or(0)),
                newborn_birth_weight_g: newborn_weight,
                newborn_admission_weight_g: newborn_weight,
            },
            stay: Stay {
                med_type: plan.med_type.to_owned(),
                admission_route: if plan.profile == FeeProfile::PerDiem {
                    "2"
                } else {
                    "1"
                }
                .to_owned(),
                admitted_at: plan.admitted,
                admission_department: plan.department.to_owned(),
                discharged_at: plan.discharged,
                discharge_department: plan.department.to_owned(),
                discharge_type: plan.discharge_type,
                receiving_institution: None,
                ventilator_hours: Decimal::ZERO,
                icu_hours: Decimal::ZERO,
                planned_readmission_31d: false,
            },
            diagnoses,
            procedures,
            charges: Vec::new(),
            payment: payment_of(Money::ZERO, person.fund, hospital.level),
            fee_lines,
        };
        settle_amounts(&mut list, hospital.level);
        list
    }
}

fn fee_line(item: &Item, amount: Money, time: DateTime, department: &str) -> FeeLine {
    FeeLine {
        hilist_code: item.code.to_owned(),
        list_type: item.list_type,
        med_chrgitm_type: item.charge_item_type.to_owned(),
        pric: amount.value(),
        cnt: Decimal::ONE,
        det_item_fee_sumamt: amount,
        inscp_amt: amount,
        fee_ocur_time: time,
        department: Some(department.to_owned()),
        refund: false,
    }
}

/// Splits `total` over weighted items in whole fen; the last takes the remainder, so the parts
/// add up to the total exactly.
fn split_by_weight(total: Money, parts: &[(Item, f64)]) -> Vec<(Item, Money)> {
    let fen = total.to_fen().unwrap_or(0);
    let weight: f64 = parts.iter().map(|(_, w)| w).sum();
    let mut left = fen;
    let mut out = Vec::with_capacity(parts.len());
    for (i, (item, w)) in parts.iter().enumerate() {
        let share = if i + 1 == parts.len() {
            left
        } else {
            (((fen as f64) * w / weight).floor() as i64).min(left)
        };
        left -= share;
        out.push((*item, Money::from_fen(share)));
    }
    out
}

/// Category weights of a stay's costs.
fn category_weights(profile: FeeProfile) -> &'static [(ChargeCategory, f64)] {
    use ChargeCategory as C;
    match profile {
        FeeProfile::Acute(TreatmentType::Conservative) => &[
            (C::Bed, 0.10),
            (C::Nursing, 0.08),
            (C::Consultation, 0.04),
            (C::Examination, 0.12),
            (C::Laboratory, 0.12),
            (C::Treatment, 0.14),
            (C::WesternDrugs, 0.40),
        ],
        FeeProfile::Acute(TreatmentType::Surgical) => &[
            (C::Bed, 0.06),
            (C::Nursing, 0.05),
            (C::Consultation, 0.02),
            (C::Examination, 0.08),
            (C::Laboratory, 0.08),
            (C::Treatment, 0.06),
            (C::Surgery, 0.30),
            (C::Consumables, 0.15),
            (C::WesternDrugs, 0.20),
        ],
        FeeProfile::Acute(TreatmentType::Interventional) => &[
            (C::Bed, 0.06),
            (C::Nursing, 0.05),
            (C::Consultation, 0.02),
            (C::Examination, 0.08),
            (C::Laboratory, 0.08),
            (C::Treatment, 0.06),
            (C::Surgery, 0.15),
            (C::Consumables, 0.30),
            (C::WesternDrugs, 0.20),
        ],
        FeeProfile::Acute(_) => &[
            (C::Bed, 0.08),
            (C::Nursing, 0.07),
            (C::Consultation, 0.03),
            (C::Examination, 0.14),
            (C::Laboratory, 0.12),
            (C::Treatment, 0.16),
            (C::Consumables, 0.08),
            (C::WesternDrugs, 0.32),
        ],
        FeeProfile::PerDiem => &[
            (C::Bed, 0.25),
            (C::Nursing, 0.25),
            (C::Consultation, 0.03),
            (C::Examination, 0.03),
            (C::Laboratory, 0.04),
            (C::Treatment, 0.20),
            (C::WesternDrugs, 0.20),
        ],
        FeeProfile::Phantom => &[
            (C::Bed, 0.35),
            (C::Consultation, 0.05),
            (C::WesternDrugs, 0.60),
        ],
    }
}

/// The fee lines of a stay: daily bed, nursing, treatment and drugs; consultation,
/// examinations and laboratory tests on admission; operation, anaesthesia and consumables on
/// the procedure day. The plan's cost is split over categories by weight and within a category
/// evenly, in whole fen, so the lines add up to it exactly.
fn stay_fee_lines(plan: &StayPlan<'_>, procedure_day: Date) -> Vec<FeeLine> {
    let admission = plan.admitted.date();
    let los = plan.discharged.date().days_since(admission);
    let days = los.max(1);
    let mut planned: Vec<(Item, DateTime)> = Vec::new();
    let time_of = |day: i32| {
        if day == 0 {
            plan.admitted
        } else {
            at(admission.add_days(day), 8, 0)
        }
    };
    let phantom = plan.profile == FeeProfile::Phantom;
    planned.push((items::CONSULTATION, time_of(0)));
    if !phantom {
        planned.push((items::CT, time_of(0)));
        planned.push((items::BLOOD_COUNT, time_of(0)));
        planned.push((items::BIOCHEMISTRY, time_of(0)));
        if days > 2 {
            planned.push((items::BLOOD_COUNT, time_of(2)));
        }
    }
    for day in 0..days {
        planned.push((items::BED, time_of(day)));
        let blocked = plan
            .blocked_days
            .is_some_and(|(first, last)| (first..=last).contains(&day));
        if blocked {
            continue;
        }
        let drug = if day % 2 == 0 {
            items::ANTIBIOTIC
        } else {
            items::PROTON_PUMP
        };
        planned.push((drug, time_of(day)));
        if !phantom {
            planned.push((items::NURSING_PACKAGE, time_of(day)));
            planned.push((items::INFUSION, time_of(day)));
        }
    }
    if plan.procedures {
        let when = if procedure_day == admission {
            plan.admitted
        } else {
            at(procedure_day, 9, 0)
        };
        match plan.care.treatment {
            TreatmentType::Surgical => {
                planned.push((items::OPERATION, when));
                planned.push((items::ANAESTHESIA, when));
                planned.push((items::CONSUMABLE, when));
            }
            TreatmentType::Interventional => {
                planned.push((items::OPERATION, when));
                planned.push((items::CONSUMABLE, when));
            }
            TreatmentType::Diagnostic | TreatmentType::Therapeutic => {
                planned.push((items::CONSUMABLE, when));
            }
            TreatmentType::Conservative => {}
        }
    }
    let profile = match plan.profile {
        // The charges follow the care given, whatever is coded.
        FeeProfile::Acute(_) if !plan.procedures => FeeProfile::Acute(TreatmentType::Conservative),
        FeeProfile::Acute(_) => FeeProfile::Acute(plan.care.treatment),
        other => other,
    };
    let weights: Vec<(Item, f64)> = category_weights(profile)
        .iter()
        .filter_map(|(category, w)| {
            planned
                .iter()
                .find(|(item, _)| item.category == *category)
                .map(|(item, _)| (*item, *w))
        })
        .collect();
    let mut lines = Vec::with_capacity(planned.len());
    for (representative, amount) in split_by_weight(plan.cost, &weights) {
        let category = representative.category;
        let members: Vec<&(Item, DateTime)> = planned
            .iter()
            .filter(|(item, _)| item.category == category)
            .collect();
        let count = members.len() as i64;
        let fen = amount.to_fen().unwrap_or(0);
        for (i, (item, time)) in members.iter().enumerate() {
            let share = if i as i64 + 1 == count {
                fen - (fen / count) * (count - 1)
            } else {
                fen / count
            };
            lines.push(fee_line(
                item,
                Money::from_fen(share),
                *time,
                plan.department,
            ));
        }
    }
    lines.sort_by_key(|l| l.fee_ocur_time);
    lines
}

/// The fund's share of the cost by fund and level (Hainan-like reimbursement ratios).
fn fund_ratio(fund: FundType, level: HospitalLevel) -> Decimal {
    let percent = match (fund, level) {
        (FundType::Employee, HospitalLevel::Tertiary3A) => 82,
        (FundType::Employee, HospitalLevel::Tertiary3B) => 84,
        (FundType::Employee, HospitalLevel::Secondary2A | HospitalLevel::Secondary2B) => 86,
        (FundType::Employee, _) => 90,
        (FundType::Resident, HospitalLevel::Tertiary3A) => 60,
        (FundType::Resident, HospitalLevel::Tertiary3B) => 63,
        (FundType::Resident, HospitalLevel::Secondary2A | HospitalLevel::Secondary2B) => 70,
        (FundType::Resident, _) => 80,
    };
    Decimal::new(percent, 2)
}

/// The payment block of `total`: pooled fund by ratio, serious-illness insurance for a personal
/// part above 20,000, the employee's personal account for 30 % of the rest, cash for the
/// remainder; self-pay is 8 % of the personal part. Identity total = funds + account + cash
/// holds exactly.
fn payment_of(total: Money, fund: FundType, level: HospitalLevel) -> Payment {
    let pooled = total.mul_round(fund_ratio(fund, level));
    let mut personal = total - pooled;
    let threshold = Money::from_yuan(20_000);
    let serious = if personal > threshold {
        (personal - threshold).mul_round(Decimal::new(6, 1))
    } else {
        Money::ZERO
    };
    personal -= serious;
    let account = match fund {
        FundType::Employee => personal.mul_round(Decimal::new(3, 1)),
        FundType::Resident => Money::ZERO,
    };
    let cash = personal - account;
    let self_pay = personal.mul_round(Decimal::new(8, 2));
    Payment {
        total,
        pooled_fund: pooled,
        serious_illness: serious,
        medical_aid: Money::ZERO,
        other_funds: Money::ZERO,
        personal_account: account,
        personal_cash: cash,
        self_pay,
        co_pay: personal - self_pay,
    }
}

/// Charges by category and the payment block from the fee lines (so that both agree with them
/// after a line was added).
fn settle_amounts(list: &mut SettlementList, level: HospitalLevel) {
    let mut by_category: BTreeMap<ChargeCategory, Money> = BTreeMap::new();
    for line in &list.fee_lines {
        let category = category_of(&line.med_chrgitm_type);
        *by_category.entry(category).or_insert(Money::ZERO) += line.det_item_fee_sumamt;
    }
    let total: Money = by_category.values().copied().sum();
    list.charges = by_category
        .into_iter()
        .map(|(category, amount)| CategoryCharge {
            category,
            amount,
            class_a: Money::ZERO,
            class_b: Money::ZERO,
            self_pay: Money::ZERO,
            other: Money::ZERO,
        })
        .collect();
    let fund = FundType::from_code(list.header.insurance_type).unwrap_or(FundType::Resident);
    list.payment = payment_of(total, fund, level);
}

fn category_of(charge_item_type: &str) -> ChargeCategory {
    use ChargeCategory as C;
    match charge_item_type {
        "01" => C::Bed,
        "02" => C::Consultation,
        "03" => C::Examination,
        "04" => C::Laboratory,
        "05" => C::Treatment,
        "06" => C::Surgery,
        "07" => C::Nursing,
        "08" => C::Consumables,
        "09" => C::WesternDrugs,
        "10" => C::HerbalPieces,
        "11" => C::ChinesePatentDrugs,
        "12" => C::GeneralDiagnosis,
        "13" => C::Registration,
        _ => C::Other,
    }
}

impl Iterator for CaseStream<'_> {
    type Item = SimulatedCase;

    fn next(&mut self) -> Option<SimulatedCase> {
        if self.sequence >= self.total {
            return None;
        }
        let config = &self.simulation.config;
        let year =
            config.first_year + i32::try_from(self.sequence / config.cases_per_year).unwrap_or(0);
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
