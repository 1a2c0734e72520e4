//! Benchmarks of DIP grouping and directory building, timed with `Instant` and printed.
//!
//! - grouping throughput on a generated directory of 10,000 core groups (one core);
//! - building a directory from 3 × 1,000,000 generated historical cases;
//! - `medpay group`'s batch: 1,000,000 cases as CSV grouped on 1 and 2 threads.
//!
//! Run: `cargo bench -p grouping-dip` (release profile).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use grouping_dip::build::{BuildOptions, build_from_csv};
use grouping_dip::directory::{
    ComprehensiveGroup, CoreGroup, DiagnosisScope, Directory, DirectoryMeta, FORMAT, Files,
    GroupKind, ProcedureCombination, ProcedureType, TreatmentType,
};
use grouping_dip::{CompiledDirectory, DipCase, load_demo};
use kernel::{Decimal, Money, Points};

const CATEGORIES: usize = 2_000;
const GROUPS_PER_CATEGORY: usize = 5;
const PROCEDURES: usize = 3_000;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn category(i: usize) -> String {
    let letter = (b'A' + (i / 1000 % 26) as u8) as char;
    format!("{letter}{:02}.{}", i / 10 % 100, i % 10)
}

fn procedure(i: usize) -> String {
    format!("{:02}.{:02}00", i / 100 % 100, i % 100)
}

fn treatment(i: usize) -> TreatmentType {
    match i % 4 {
        0 => TreatmentType::Diagnostic,
        1 => TreatmentType::Therapeutic,
        2 => TreatmentType::Interventional,
        _ => TreatmentType::Surgical,
    }
}

fn generated_directory() -> Directory {
    let mut rng = Lcg(42);
    let procedure_types: Vec<ProcedureType> = (0..PROCEDURES)
        .map(|i| ProcedureType {
            code: procedure(i),
            treatment: treatment(i),
            name: String::new(),
        })
        .collect();
    let mut core_groups = Vec::new();
    for c in 0..CATEGORIES {
        for g in 0..GROUPS_PER_CATEGORY {
            let procedures = if g == 0 {
                None
            } else {
                let terms = 1 + rng.next(2) as usize;
                Some(ProcedureCombination {
                    all_of: (0..terms)
                        .map(|_| {
                            let alternatives = 1 + rng.next(2) as usize;
                            (0..alternatives)
                                .map(|_| procedure(rng.next(PROCEDURES as u64) as usize))
                                .collect::<std::collections::BTreeSet<_>>()
                                .into_iter()
                                .collect()
                        })
                        .collect(),
                })
            };
            let t = procedures
                .as_ref()
                .map(|p: &ProcedureCombination| {
                    p.codes()
                        .map(|code| {
                            procedure_types
                                .iter()
                                .find(|x| x.code == code)
                                .map_or(TreatmentType::Surgical, |x| x.treatment)
                        })
                        .max()
                        .unwrap_or(TreatmentType::Conservative)
                })
                .unwrap_or(TreatmentType::Conservative);
            let mean = 2_000 + rng.next(40_000) as i64;
            core_groups.push(CoreGroup {
                code: format!("{}-{g:02}", category(c)),
                name: String::new(),
                kind: if rng.next(10) == 0 {
                    GroupKind::Basic
                } else {
                    GroupKind::Core
                },
                diagnosis_category: category(c),
                treatment: t,
                procedures,
                score: Points::round(Decimal::from(mean) / Decimal::from(10)),
                mean_cost: Money::from_yuan(mean),
            });
        }
    }
    let mut comprehensive_groups = Vec::new();
    for letter in b'A'..=b'Z' {
        for t in TreatmentType::ALL {
            let l = letter as char;
            comprehensive_groups.push(ComprehensiveGroup {
                code: format!("ZH-{l}-{t}"),
                name: String::new(),
                diagnosis: DiagnosisScope::Range {
                    first: format!("{l}00"),
                    last: format!("{l}99"),
                },
                treatment: t,
                score: Points::round(Decimal::from(800)),
                mean_cost: Money::from_yuan(8_000),
            });
        }
    }
    let demo = match load_demo() {
        Ok(d) => d,
        Err(e) => panic!("demo directory: {e}"),
    };
    Directory {
        meta: DirectoryMeta {
            format: FORMAT.into(),
            id: "bench".into(),
            name: "bench".into(),
            version: "1".into(),
            region: demo.meta.region,
            year: 2025,
            score_scale: Decimal::from(1000),
            reference_mean_cost: Money::from_yuan(10_000),
            description: None,
            auxiliary_policy: Default::default(),
            counts: Default::default(),
            files: Files::default(),
        },
        core_groups,
        comprehensive_groups,
        procedure_types,
        auxiliary: demo.auxiliary.clone(),
        cci_weights: demo.cci_weights.clone(),
        tumour_markers: demo.tumour_markers.clone(),
    }
}

fn generated_cases(directory: &Directory, n: usize) -> Vec<DipCase> {
    let mut rng = Lcg(7);
    let secondary = [
        "I21.900", "E11.900", "N18.500", "J44.100", "C78.000", "K29.500",
    ];
    (0..n)
        .map(|_| {
            let group =
                &directory.core_groups[rng.next(directory.core_groups.len() as u64) as usize];
            let mut procedures: Vec<String> = group
                .procedures
                .as_ref()
                .map(|p| p.all_of.iter().map(|t| t[0].clone()).collect())
                .unwrap_or_default();
            for _ in 0..rng.next(3) {
                procedures.push(procedure(rng.next(PROCEDURES as u64 + 500) as usize));
            }
            DipCase {
                principal_diagnosis: format!("{}{:02}", group.diagnosis_category, rng.next(100)),
                secondary_diagnoses: (0..rng.next(4))
                    .map(|_| secondary[rng.next(secondary.len() as u64) as usize].to_owned())
                    .collect(),
                procedures,
                age_years: rng.next(90) as u32 + 1,
                age_days: None,
                discharge_type: if rng.next(50) == 0 { 5 } else { 1 },
                los_days: rng.next(20) as u32,
                total_cost: Decimal::new(100_000 + rng.next(5_000_000) as i64, 2),
            }
        })
        .collect()
}

fn bench_grouping() {
    let started = Instant::now();
    let directory = generated_directory();
    let compiled = CompiledDirectory::new(&directory);
    println!(
        "grouping: directory of {} core/basic + {} comprehensive groups generated and compiled in {:.2?}",
        directory.core_groups.len(),
        directory.comprehensive_groups.len(),
        started.elapsed()
    );
    let cases = generated_cases(&directory, 200_000);
    let rounds = 5;
    let started = Instant::now();
    let mut grouped = 0usize;
    for _ in 0..rounds {
        for case in &cases {
            if let Ok(outcome) = compiled.group(black_box(case)) {
                grouped += usize::from(outcome.group_code().is_some());
            }
        }
    }
    let elapsed = started.elapsed();
    let total = cases.len() * rounds;
    println!(
        "grouping: {total} cases in {elapsed:.2?} = {:.0} cases/s on one core ({grouped} grouped)",
        total as f64 / elapsed.as_secs_f64()
    );
    let started = Instant::now();
    let mut candidates = 0usize;
    for case in &cases {
        if let Ok((_, trace)) = compiled.group_traced(black_box(case)) {
            candidates += trace.candidates.len();
        }
    }
    let elapsed = started.elapsed();
    println!(
        "grouping with trace: {} cases in {elapsed:.2?} = {:.0} cases/s ({candidates} candidates traced)",
        cases.len(),
        cases.len() as f64 / elapsed.as_secs_f64()
    );
}

fn bench_build() {
    let demo = match load_demo() {
        Ok(d) => d,
        Err(e) => panic!("demo directory: {e}"),
    };
    let types: BTreeMap<String, TreatmentType> = BuildOptions::procedure_types_of(&demo);
    let codes: Vec<&String> = types.keys().collect();
    let started = Instant::now();
    let mut rng = Lcg(11);
    let mut csv = String::with_capacity(3_000_000 * 48);
    csv.push_str("year,principal_diagnosis,procedures,total_cost,hospital_level\n");
    // 3,000 categories; within a category a handful of procedure sets dominate.
    for year in [2022, 2023, 2024] {
        for _ in 0..1_000_000 {
            let c = rng.next(3_000) as usize;
            let letter = (b'A' + (c / 1000 % 26) as u8) as char;
            csv.push_str(&format!(
                "{year},{letter}{:02}.{}{:02},",
                c / 10 % 100,
                c % 10,
                rng.next(100)
            ));
            let n = rng.next(4);
            if rng.next(40) == 0 {
                // A rare procedure on its own: no core group, a comprehensive one.
                csv.push_str(codes[rng.next(codes.len() as u64) as usize]);
            }
            for k in 0..n * u64::from(csv.ends_with(',')) {
                if k > 0 {
                    csv.push('|');
                }
                let pick = (c * 7 + rng.next(if k == 0 { 6 } else { 60 }) as usize) % codes.len();
                csv.push_str(codes[pick]);
            }
            csv.push_str(&format!(
                ",{}.{:02},{}\n",
                1_000 + rng.next(60_000),
                rng.next(100),
                1 + rng.next(3)
            ));
        }
    }
    println!(
        "build: generated 3 x 1,000,000 cases ({} MB of CSV) in {:.2?}",
        csv.len() / 1_000_000,
        started.elapsed()
    );
    let region = demo.meta.region;
    let options = BuildOptions::new(region, types);
    let started = Instant::now();
    match build_from_csv(csv.as_bytes(), &options) {
        Ok(output) => {
            let elapsed = started.elapsed();
            let counts = output.directory.counts();
            println!(
                "build: 3,000,000 cases in {elapsed:.2?} = {:.0} cases/s -> {} core + {} comprehensive groups, {} trimmed, RIV {:?}",
                3_000_000.0 / elapsed.as_secs_f64(),
                counts.core_groups,
                counts.comprehensive_groups,
                output.report.cases_trimmed,
                output.report.riv
            );
        }
        Err(e) => println!("build failed: {e}"),
    }
}

fn bench_batch() {
    use grouping_dip::batch::{BatchOptions, group_csv};
    let directory = generated_directory();
    let compiled = CompiledDirectory::new(&directory);
    let cases = generated_cases(&directory, 1_000_000);
    let mut csv = String::with_capacity(cases.len() * 80);
    csv.push_str("Index,age,ageDay,leavingType,inHospitalTime,ICD10_DRGS,ICD9_DRGS,totalCost\n");
    for (i, case) in cases.iter().enumerate() {
        let mut diagnoses = vec![case.principal_diagnosis.clone()];
        diagnoses.extend(case.secondary_diagnoses.iter().cloned());
        csv.push_str(&format!(
            "{i},{},,{},{},{},{},{}\n",
            case.age_years,
            case.discharge_type,
            case.los_days,
            diagnoses.join("|"),
            case.procedures.join("|"),
            case.total_cost
        ));
    }
    for threads in [1, 2] {
        let started = Instant::now();
        match group_csv(
            csv.as_bytes(),
            std::io::sink(),
            &compiled,
            BatchOptions { threads },
            |_| {},
        ) {
            Ok(summary) => {
                let elapsed = started.elapsed();
                println!(
                    "batch: {} CSV rows ({} MB) in {elapsed:.2?} on {threads} thread(s) = {:.0} rows/s",
                    summary.rows,
                    csv.len() / 1_000_000,
                    summary.rows as f64 / elapsed.as_secs_f64()
                );
            }
            Err(e) => println!("batch failed: {e}"),
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects one benchmark.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if wanted("grouping") {
        bench_grouping();
    }
    if wanted("build") {
        bench_build();
    }
    if wanted("batch") {
        bench_batch();
    }
}
