//! The simulator's promises, each checked on generated cases.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use grouping_dip::build::{BuildOptions, build_from_csv};
use grouping_dip::grouper::Verdict;
use grouping_dip::{CompiledDirectory, DipCase, DipOutcome};
use kernel::Money;
use kernel::date::Date;
use medpay_simulator::catalogue::{HOSPICE_DEPARTMENT, REHABILITATION_DEPARTMENT};
use medpay_simulator::items;
use medpay_simulator::{
    HospitalLevel, Irregularity, Mode, Record, SimulatedCase, Simulation, SimulationConfig,
    write_history_csv,
};
use settlement_domain::case::SettlementList;
use settlement_domain::ports::CodeDictionary;
use settlement_domain::validation::{ValidationPolicy, validate_ambulatory, validate_list};

fn simulation(seed: u64, cases: u64) -> Simulation {
    Simulation::hainan(SimulationConfig {
        seed,
        cases_per_year: cases,
        ..SimulationConfig::default()
    })
    .expect("default configuration")
}

fn generate(seed: u64, cases: u64) -> (Simulation, Vec<SimulatedCase>) {
    let sim = simulation(seed, cases);
    let cases = sim.cases().collect();
    (sim, cases)
}

/// The codes of the two demo schemes, read from the schemes themselves: the DRG scheme's
/// dictionaries, the DIP directory's procedures, and diagnoses of a DIP category (`K35.8` →
/// `K35.800`), plus the psychiatric codes the simulator documents as its own addition.
struct SchemeCodes {
    diagnoses: BTreeSet<String>,
    procedures: BTreeSet<String>,
}

impl SchemeCodes {
    fn load() -> Self {
        let drg = grouping_domain::load_demo().expect("demo DRG scheme");
        let dip = grouping_dip::load_demo().expect("demo DIP directory");
        let mut diagnoses: BTreeSet<String> =
            drg.diagnoses.iter().map(|c| c.code.clone()).collect();
        diagnoses.extend(
            dip.core_groups
                .iter()
                .map(|g| format!("{}00", g.diagnosis_category)),
        );
        diagnoses.extend(
            medpay_simulator::catalogue::PSYCHIATRIC_DIAGNOSES
                .iter()
                .map(|(c, _)| (*c).to_owned()),
        );
        let mut procedures: BTreeSet<String> =
            drg.procedures.iter().map(|c| c.code.clone()).collect();
        procedures.extend(dip.procedure_types.iter().map(|p| p.code.clone()));
        Self {
            diagnoses,
            procedures,
        }
    }
}

impl CodeDictionary for SchemeCodes {
    fn has_diagnosis(&self, code: &str) -> bool {
        self.diagnoses.contains(code)
    }
    fn has_procedure(&self, code: &str) -> bool {
        self.procedures.contains(code)
    }
}

fn output_bytes(sim: &Simulation, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for case in sim.cases().take(limit) {
        out.extend(case.record_json().expect("json").bytes());
        out.push(b'\n');
        out.extend(case.truth_json().expect("json").bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn the_same_seed_gives_byte_identical_output_and_another_seed_other_output() {
    let a = output_bytes(&simulation(7, 3_000), 3_000);
    let b = output_bytes(&simulation(7, 3_000), 3_000);
    let c = output_bytes(&simulation(8, 3_000), 3_000);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut csv_a = Vec::new();
    let mut csv_b = Vec::new();
    write_history_csv(simulation(7, 3_000).cases(), &mut csv_a).expect("csv");
    write_history_csv(simulation(7, 3_000).cases(), &mut csv_b).expect("csv");
    assert_eq!(csv_a, csv_b);
}

#[test]
fn the_stream_yields_exactly_the_configured_number_of_cases_per_year() {
    let sim = Simulation::hainan(SimulationConfig {
        years: 3,
        first_year: 2022,
        cases_per_year: 1_000,
        ..SimulationConfig::default()
    })
    .expect("config");
    let mut per_year: BTreeMap<i32, u64> = BTreeMap::new();
    let stream = sim.cases();
    assert_eq!(stream.size_hint(), (3_000, Some(3_000)));
    for case in stream {
        *per_year.entry(case.truth.year).or_default() += 1;
    }
    assert_eq!(
        per_year,
        BTreeMap::from([(2022, 1_000), (2023, 1_000), (2024, 1_000)])
    );
}

/// A case as bytes: the record intake receives and its ground truth.
fn case_bytes(case: &SimulatedCase) -> (String, String) {
    (
        case.record_json().expect("record json"),
        case.truth_json().expect("truth json"),
    )
}

#[test]
fn a_stream_resumed_at_a_years_snapshot_yields_the_full_streams_cases_from_that_year_on() {
    fn owned<T: Send + 'static>(_: &T) {}
    let sim = Simulation::hainan(SimulationConfig {
        seed: 11,
        years: 3,
        first_year: 2023,
        cases_per_year: 1_000,
        ..SimulationConfig::default()
    })
    .expect("config");
    let mut full = Vec::new();
    let mut starts = BTreeMap::new();
    let mut middle = None;
    let mut stream = sim.cases();
    loop {
        if let Some(start) = stream.year_start() {
            assert!(starts.insert(start.year(), start).is_none());
        }
        if full.len() == 1_333 {
            middle = Some(stream.snapshot());
        }
        let Some(case) = stream.next() else { break };
        full.push(case_bytes(&case));
    }
    assert_eq!(full.len(), 3_000);
    assert_eq!(
        starts.keys().copied().collect::<Vec<_>>(),
        [2023, 2024, 2025]
    );
    for (year, start) in &starts {
        owned(start);
        let from = usize::try_from(start.sequence()).expect("sequence");
        assert_eq!(from, (year - 2023) as usize * 1_000);
        // On its own thread, as the demo's upload runs it.
        let resumed: Vec<(String, String)> = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    sim.cases_from(start.clone())
                        .map(|c| case_bytes(&c))
                        .collect()
                })
                .join()
                .expect("resumed stream")
        });
        assert_eq!(resumed.len(), full.len() - from, "year {year}");
        assert!(resumed == full[from..], "year {year} resumes elsewhere");
        let resumed = sim.cases_from(start.clone());
        assert_eq!(resumed.size_hint().0, full.len() - from);
    }
    // The truths compared above name the stay a follow-up relates to, which at a year's start
    // may be the year before's last: the snapshot carries it.
    let first_2024 = sim
        .cases_from(starts[&2024].clone())
        .next()
        .expect("a case");
    assert_eq!(first_2024.truth.year, 2024);
    assert_eq!(first_2024.truth.sequence, 1_000);
    // Anywhere in a year, not only at its start.
    let middle = middle.expect("snapshot in 2024");
    assert_eq!((middle.sequence(), middle.year()), (1_333, 2024));
    let resumed: Vec<_> = sim.cases_from(middle).map(|c| case_bytes(&c)).collect();
    assert!(resumed == full[1_333..]);
    // At the end there is no year to start.
    let mut stream = sim.cases_from(starts[&2025].clone());
    stream.by_ref().for_each(drop);
    assert!(stream.year_start().is_none());
    assert_eq!(sim.cases_from(stream.snapshot()).count(), 0);
}

#[test]
fn every_record_passes_settlement_validation_without_warnings_and_round_trips() {
    let (sim, cases) = generate(11, 20_000);
    let codes = SchemeCodes::load();
    let policy = ValidationPolicy::default();
    let today = sim.as_of();
    for case in &cases {
        let json = case.record_json().expect("json");
        let report = match &case.record {
            Record::Inpatient(list) => {
                let parsed: SettlementList = serde_json::from_str(&json).expect("intake parses");
                assert_eq!(&parsed, list.as_ref());
                validate_list(list, &codes, &policy, today)
            }
            Record::Ambulatory(settlement) => {
                let parsed: settlement_domain::case::AmbulatorySettlement =
                    serde_json::from_str(&json).expect("intake parses");
                assert_eq!(&parsed, settlement.as_ref());
                validate_ambulatory(settlement, &codes, &policy, today)
            }
        };
        assert!(
            report.errors.is_empty() && report.warnings.is_empty(),
            "{}: {:?} {:?}\n{json}",
            case.truth.list_id,
            report.error_reasons(),
            report.warning_reasons()
        );
        assert!(
            !json.contains("irregularity"),
            "ground truth leaked into the record"
        );
    }
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}

/// Within five standard errors of the rate, plus a little for follow-ups that had no stay to
/// follow.
fn assert_rate(name: &str, observed: f64, rate: f64, n: usize) {
    let tolerance = 5.0 * (rate * (1.0 - rate) / n as f64).sqrt() + 0.002;
    assert!(
        (observed - rate).abs() <= tolerance,
        "{name}: observed {observed:.4}, configured {rate:.4}, tolerance {tolerance:.4}"
    );
}

#[test]
fn each_mode_and_irregularity_occurs_at_its_configured_rate() {
    let config = SimulationConfig {
        seed: 5,
        cases_per_year: 20_000,
        ..SimulationConfig::default()
    };
    let sim = Simulation::hainan(config.clone()).expect("config");
    let cases: Vec<SimulatedCase> = sim.cases().collect();
    let n = cases.len();
    let regular = |mode: Mode| {
        cases
            .iter()
            .filter(|c| c.truth.irregularity.is_none() && c.truth.mode == mode)
            .count()
    };
    let modes = [
        (Mode::BasicLevel, config.modes.basic_level),
        (Mode::DaySurgery, config.modes.day_surgery),
        (Mode::PerDiemPsychiatric, config.modes.per_diem_psychiatric),
        (
            Mode::PerDiemRehabilitation,
            config.modes.per_diem_rehabilitation,
        ),
        (Mode::PerDiemHospice, config.modes.per_diem_hospice),
        (Mode::LongStay, config.modes.long_stay),
        (
            Mode::ReadmissionWithin15Days,
            config.modes.readmission_within_15_days,
        ),
        (
            Mode::ReadmissionAfter15Days,
            config.modes.readmission_after_15_days,
        ),
        (Mode::Outpatient, config.modes.outpatient),
        (Mode::Pharmacy, config.modes.pharmacy),
        (Mode::MainMethod, config.main_method_rate()),
    ];
    for (mode, rate) in modes {
        assert!(rate > 0.0);
        assert_rate(&format!("{mode:?}"), share(regular(mode), n), rate, n);
    }
    let irregularities = [
        (
            Irregularity::SplitAdmission,
            config.irregularities.split_admission,
        ),
        (Irregularity::Upcoding, config.irregularities.upcoding),
        (
            Irregularity::DuplicateCharge,
            config.irregularities.duplicate_charge,
        ),
        (
            Irregularity::UnbundledCharge,
            config.irregularities.unbundled_charge,
        ),
        (
            Irregularity::BedBlocking,
            config.irregularities.bed_blocking,
        ),
        (
            Irregularity::CostShiftedToOutpatient,
            config.irregularities.cost_shifted_to_outpatient,
        ),
        (
            Irregularity::PhantomStay,
            config.irregularities.phantom_stay,
        ),
    ];
    for (irregularity, rate) in irregularities {
        let count = cases
            .iter()
            .filter(|c| c.truth.irregularity == Some(irregularity))
            .count();
        assert_rate(&format!("{irregularity:?}"), share(count, n), rate, n);
    }
    // Other rates give other shares: the rates drive the stream.
    let mut other = config.clone();
    other.modes.day_surgery = 0.2;
    other.irregularities.upcoding = 0.0;
    let other_cases: Vec<SimulatedCase> =
        Simulation::hainan(other).expect("config").cases().collect();
    let day = other_cases
        .iter()
        .filter(|c| c.truth.mode == Mode::DaySurgery)
        .count();
    assert_rate("day surgery at 0.2", share(day, n), 0.2, n);
    assert!(
        other_cases
            .iter()
            .all(|c| c.truth.irregularity != Some(Irregularity::Upcoding))
    );
}

fn inpatient(case: &SimulatedCase) -> &SettlementList {
    case.list().expect("an inpatient case")
}

#[test]
fn readmissions_fall_on_both_sides_of_15_days_and_follow_a_stay_of_the_same_person() {
    let (_, cases) = generate(13, 20_000);
    let stays: HashMap<&str, &SettlementList> = cases
        .iter()
        .filter_map(|c| c.list().map(|l| (c.truth.list_id.as_str(), l)))
        .collect();
    let mut gaps = BTreeSet::new();
    for case in &cases {
        let Some(gap) = case.truth.readmission_gap_days else {
            continue;
        };
        let list = inpatient(case);
        let related = case.truth.related_list_id.as_deref().expect("related stay");
        let earlier = stays[related];
        assert_eq!(earlier.header.person_id, list.header.person_id);
        assert_eq!(earlier.header.hospital_code, list.header.hospital_code);
        assert_eq!(
            list.stay
                .admitted_at
                .date()
                .days_since(earlier.stay.discharged_at.date()),
            gap
        );
        assert!(list.stay.admitted_at > earlier.stay.discharged_at);
        match (case.truth.mode, case.truth.irregularity) {
            (Mode::ReadmissionWithin15Days, None) => {
                assert!((1..=15).contains(&gap));
                assert_ne!(earlier.diagnoses[0].code[..3], list.diagnoses[0].code[..3]);
            }
            (Mode::ReadmissionAfter15Days, None) => assert!(gap >= 16),
            (_, Some(Irregularity::SplitAdmission)) => {
                assert!((0..=3).contains(&gap));
                assert_eq!(earlier.diagnoses[0].code, list.diagnoses[0].code);
            }
            other => panic!("unexpected gap on {other:?}"),
        }
        gaps.insert(gap);
    }
    assert!(gaps.iter().any(|g| *g <= 15) && gaps.iter().any(|g| *g == 15 || *g == 14));
    assert!(gaps.contains(&16) || gaps.contains(&17));
    assert!(gaps.iter().any(|g| *g > 30));
}

#[test]
fn every_region_and_hospital_level_appears_and_both_funds_are_insured() {
    let (sim, cases) = generate(17, 20_000);
    let mut regions = BTreeSet::new();
    let mut levels = BTreeSet::new();
    let mut funds = BTreeSet::new();
    for case in &cases {
        let header = match &case.record {
            Record::Inpatient(list) => &list.header,
            Record::Ambulatory(settlement) => &settlement.header,
        };
        regions.insert(header.pooling_region);
        funds.insert(header.insurance_type);
        if let Some(level) = case.truth.hospital_level {
            levels.insert(level);
            let hospital = sim
                .province()
                .hospitals
                .iter()
                .find(|h| h.code() == header.hospital_code)
                .expect("a hospital of the province");
            assert_eq!(hospital.level, level);
            assert_eq!(header.hospital_level, level.code());
            assert!(
                hospital.agreement.covers(
                    header
                        .declared_at
                        .date()
                        .min(Date::new(2030, 12, 31).expect("date"))
                )
            );
        }
    }
    let all_regions: BTreeSet<_> = sim.province().regions.iter().map(|r| r.code).collect();
    assert_eq!(regions, all_regions);
    assert_eq!(levels, HospitalLevel::ALL.into_iter().collect());
    assert_eq!(funds, BTreeSet::from([310, 390]));
}

fn hours(list: &SettlementList) -> i64 {
    list.stay.discharged_at.seconds_since(list.stay.admitted_at) / 3600
}

#[test]
fn each_mode_has_the_features_the_payment_rules_select_it_by() {
    let (sim, cases) = generate(19, 20_000);
    for case in cases.iter().filter(|c| c.truth.irregularity.is_none()) {
        let Some(list) = case.list() else {
            continue;
        };
        let los = list.stay.length_of_stay();
        let principal = list.diagnoses[0].code.as_str();
        let level = case.truth.hospital_level.expect("hospital");
        let day_surgery_procedure = list.procedures.first().is_some_and(|p| {
            medpay_simulator::catalogue::DAY_SURGERY_PROCEDURES.contains(&p.code.as_str())
        });
        match case.truth.mode {
            Mode::DaySurgery => {
                assert!(hours(list) < 48 && day_surgery_procedure);
                assert_eq!(list.stay.med_type, "28");
            }
            Mode::PerDiemPsychiatric => {
                assert!(los > 56 && (principal.starts_with("F2") || principal.starts_with("F3")));
            }
            Mode::PerDiemRehabilitation => {
                assert_eq!(list.stay.discharge_department, REHABILITATION_DEPARTMENT);
            }
            Mode::PerDiemHospice => {
                assert_eq!(list.stay.discharge_department, HOSPICE_DEPARTMENT);
            }
            Mode::LongStay => assert!(los >= 60),
            Mode::BasicLevel => {
                assert!(level.is_primary());
                let group = case.truth.dip_group.as_deref().expect("group");
                let template = sim
                    .catalogue()
                    .templates
                    .iter()
                    .find(|t| t.dip_group == group)
                    .expect("template");
                assert_eq!(template.kind, grouping_dip::directory::GroupKind::Basic);
            }
            Mode::MainMethod | Mode::ReadmissionWithin15Days | Mode::ReadmissionAfter15Days => {
                // Nothing selects another mode: no per-diem feature, not a long or day stay.
                assert!((2..60).contains(&los), "{los}");
                assert!(!day_surgery_procedure || hours(list) > 48);
                assert!(!principal.starts_with('F'));
                assert_ne!(list.stay.discharge_department, REHABILITATION_DEPARTMENT);
                assert_ne!(list.stay.discharge_department, HOSPICE_DEPARTMENT);
            }
            Mode::Outpatient | Mode::Pharmacy => panic!("ambulatory mode on an inpatient list"),
        }
    }
}

#[test]
fn the_main_method_cases_group_into_the_dip_group_the_truth_names() {
    let (_, cases) = generate(23, 10_000);
    let directory = CompiledDirectory::new(&grouping_dip::load_demo().expect("demo directory"));
    let mut checked = 0;
    let mut exact = 0;
    for case in &cases {
        let (Some(list), Some(group)) = (case.list(), case.truth.dip_group.as_deref()) else {
            continue;
        };
        if case.truth.irregularity == Some(Irregularity::Upcoding) {
            continue;
        }
        let dip_case = DipCase {
            principal_diagnosis: list.diagnoses[0].code.clone(),
            secondary_diagnoses: list.diagnoses[1..].iter().map(|d| d.code.clone()).collect(),
            procedures: list.procedures.iter().map(|p| p.code.clone()).collect(),
            age_years: list.patient.age_years,
            age_days: list.patient.age_days,
            discharge_type: list.stay.discharge_type,
            los_days: u32::try_from(list.stay.length_of_stay()).expect("los"),
            total_cost: list.payment.total.value(),
        };
        let (outcome, trace) = directory.group_traced(&dip_case).expect("groupable");
        match outcome {
            DipOutcome::Grouped(assignment) if assignment.group_code == group => exact += 1,
            // Two groups of the category match the same procedures (`36.0700` and
            // `36.0600/36.0700`): the directory settles the tie by the case's cost.
            DipOutcome::Grouped(assignment) => {
                let truth = trace
                    .candidates
                    .iter()
                    .find(|c| c.group == group)
                    .expect("the truth's group is a candidate");
                assert_eq!(
                    truth.verdict,
                    Verdict::LostOnCostDistance {
                        winner: assignment.group_code.clone()
                    },
                    "{}",
                    case.truth.list_id
                );
            }
            other => panic!("{} ungrouped: {other:?}", case.truth.list_id),
        }
        checked += 1;
    }
    assert!(checked > 5_000, "{checked}");
    assert!(exact * 10 > checked * 9, "{exact} of {checked} exactly");
}

fn lines_on_day(
    list: &SettlementList,
    date: Date,
) -> impl Iterator<Item = &settlement_domain::case::FeeLine> {
    list.fee_lines
        .iter()
        .filter(move |l| l.fee_ocur_time.date() == date)
}

/// Longest run of stay days whose only charge is the bed.
fn bed_only_run(list: &SettlementList) -> i32 {
    let admission = list.stay.admitted_at.date();
    let mut run = 0;
    let mut best = 0;
    for day in 0..list.stay.billable_days() {
        let date = admission.add_days(day);
        let bed_only = lines_on_day(list, date).all(|l| l.hilist_code == items::BED.code);
        run = if bed_only { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn has_duplicate_line(list: &SettlementList) -> bool {
    let mut seen = BTreeSet::new();
    list.fee_lines.iter().any(|l| {
        l.hilist_code != items::BED.code
            && !seen.insert((
                l.hilist_code.as_str(),
                l.fee_ocur_time,
                l.det_item_fee_sumamt,
            ))
    })
}

fn has_unbundled_component(list: &SettlementList) -> bool {
    let (package, components) = items::PACKAGES[0];
    list.fee_lines.iter().any(|l| {
        components.iter().any(|c| c.code == l.hilist_code)
            && list
                .fee_lines
                .iter()
                .any(|p| p.hilist_code == package.code && p.fee_ocur_time == l.fee_ocur_time)
    })
}

fn has_no_care(list: &SettlementList) -> bool {
    !list
        .fee_lines
        .iter()
        .any(|l| matches!(l.med_chrgitm_type.as_str(), "03" | "04" | "06" | "07"))
}

#[test]
fn each_irregularity_leaves_its_trace_in_the_record_and_regular_cases_do_not() {
    let (_, cases) = generate(29, 20_000);
    let stays: HashMap<&str, &SettlementList> = cases
        .iter()
        .filter_map(|c| c.list().map(|l| (c.truth.list_id.as_str(), l)))
        .collect();
    let mut seen = BTreeSet::new();
    for case in &cases {
        let irregularity = case.truth.irregularity;
        if let Some(i) = irregularity {
            seen.insert(i);
        }
        if let Some(list) = case.list() {
            let fees: Money = list.fee_lines.iter().map(|l| l.det_item_fee_sumamt).sum();
            assert_eq!(fees, list.payment.total, "fee lines add up to the total");
            let is = |i: Irregularity| irregularity == Some(i);
            assert_eq!(
                has_duplicate_line(list),
                is(Irregularity::DuplicateCharge),
                "{}",
                case.truth.list_id
            );
            assert_eq!(
                has_unbundled_component(list),
                is(Irregularity::UnbundledCharge),
                "{}",
                case.truth.list_id
            );
            assert_eq!(
                bed_only_run(list) >= 3,
                is(Irregularity::BedBlocking),
                "{}",
                case.truth.list_id
            );
            assert_eq!(
                has_no_care(list),
                is(Irregularity::PhantomStay),
                "{}",
                case.truth.list_id
            );
            if irregularity.is_none() {
                for diagnosis in list.diagnoses.iter().skip(1) {
                    let letter = diagnosis.code.chars().next().unwrap_or('?');
                    let item = items::supporting_item(letter).expect("a test for each chapter");
                    assert!(
                        list.fee_lines.iter().any(|l| l.hilist_code == item.code),
                        "{}: {} has no supporting test",
                        case.truth.list_id,
                        diagnosis.code
                    );
                }
                for procedure in &list.procedures {
                    if let Some(item) = items::procedure_item(&procedure.code) {
                        assert!(
                            list.fee_lines.iter().any(|l| l.hilist_code == item.code),
                            "{}: {} performed and not billed",
                            case.truth.list_id,
                            procedure.code
                        );
                    }
                }
            }
            if is(Irregularity::Upcoding) {
                let coded_differently = case.truth.coded_dip_group.is_some();
                assert!(
                    coded_differently
                        || case
                            .truth
                            .evidence
                            .as_deref()
                            .is_some_and(|e| e.contains("MCC"))
                );
            }
        }
        if irregularity == Some(Irregularity::CostShiftedToOutpatient) {
            let Record::Ambulatory(settlement) = &case.record else {
                panic!("a cost shift is an ambulatory settlement");
            };
            let stay = stays[case.truth.related_list_id.as_deref().expect("related stay")];
            assert_eq!(settlement.header.person_id, stay.header.person_id);
            let settled = settlement.settled_at.date();
            let admitted = stay.stay.admitted_at.date();
            let before = admitted.days_since(settled);
            let inside = settled >= admitted && settled <= stay.stay.discharged_at.date();
            assert!(
                (1..=7).contains(&before) || inside,
                "{}",
                case.truth.list_id
            );
        }
    }
    assert_eq!(seen, Irregularity::ALL.into_iter().collect());
}

#[test]
fn three_years_of_history_build_a_dip_directory() {
    let sim = Simulation::hainan(SimulationConfig {
        years: 3,
        first_year: 2021,
        cases_per_year: 6_000,
        ..SimulationConfig::default()
    })
    .expect("config");
    let mut csv = Vec::new();
    let rows = write_history_csv(sim.cases(), &mut csv).expect("csv");
    assert!(rows > 10_000);
    let demo = grouping_dip::load_demo().expect("demo directory");
    let options = BuildOptions::new(sim.province().code, BuildOptions::procedure_types_of(&demo));
    let built = build_from_csv(csv.as_slice(), &options).expect("the history builds");
    assert_eq!(built.report.cases_read, rows);
    assert_eq!(built.report.years.len(), 3);
    assert!(
        built.directory.core_groups.len() >= 30,
        "{}",
        built.directory.core_groups.len()
    );
    assert_eq!(built.report.ignored_procedure_codes, 0);
}

#[test]
fn every_procedure_and_comorbidity_test_the_simulation_bills_is_an_item_supervision_knows() {
    let demo = grouping_dip::load_demo().expect("demo directory");
    let tables = supervision_domain::tables::Tables::demo().expect("supervision's demo tables");
    let mut with_item = 0;
    for procedure in &demo.procedure_types {
        let typed = matches!(
            procedure.treatment,
            grouping_dip::TreatmentType::Diagnostic | grouping_dip::TreatmentType::Therapeutic
        );
        let item = items::procedure_item(&procedure.code);
        assert_eq!(item.is_some(), typed, "{}", procedure.code);
        if let Some(item) = item {
            let known = &tables.items[item.code];
            assert!(
                known
                    .procedures
                    .iter()
                    .any(|prefix| procedure.code.starts_with(prefix.as_str())),
                "{} does not name {}",
                item.code,
                procedure.code
            );
            with_item += 1;
        }
    }
    assert_eq!(with_item, items::PROCEDURE_ITEMS.len());
    for item in items::ONCE_A_DAY {
        assert_eq!(
            tables.items[item.code].daily_limit,
            Some(rust_decimal::Decimal::ONE),
            "{}",
            item.code
        );
    }
    for (letter, item) in items::SUPPORTING_ITEMS {
        assert!(
            tables.items[item.code].supports.contains(&letter),
            "{} does not support {letter}",
            item.code
        );
    }
}

#[test]
fn a_bad_configuration_is_refused_with_every_problem() {
    let mut config = SimulationConfig {
        cases_per_year: 20_000_000,
        ..SimulationConfig::default()
    };
    config.modes.pharmacy = -0.1;
    let error = Simulation::hainan(config).expect_err("refused").to_string();
    assert!(
        error.contains("cases_per_year") && error.contains("modes.pharmacy"),
        "{error}"
    );
}
