//! Throughput of `valuate` (in-process, one core) and of `calibrate` on 3,000,000 generated
//! cases. Run with `cargo bench -p points-domain`; prints figures, asserts nothing.

use std::hint::black_box;
use std::time::Instant;

use kernel::Date;
use kernel::{Decimal, FundType, Money, Points, RegionCode};
use points_domain::tables::{CoefficientSet, DatedCoefficient, DipGroupRate, DrgGroupRate};
use points_domain::{
    CalibrationOptions, CaseForValuation, GroupStatus, GroupedCase, HistoricalCase, HospitalLevel,
    SchemeKind, ValuationPolicy, ValuationTables, calibrate, valuate,
};

const GROUPS: usize = 800;
const HOSPITALS: usize = 300;
const DISTINCT_CASES: usize = 200_000;
const VALUATIONS: usize = 2_000_000;
const CALIBRATION_CASES: usize = 3_000_000;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// On-CPU time of this thread in seconds (Linux `/proc/thread-self/schedstat`), so that figures
/// on a shared machine are not diluted by other processes; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

fn group_code(g: usize) -> String {
    format!("G{g:04}")
}

fn hospital_code(h: usize) -> String {
    format!("H{h:05}")
}

fn group_mean_fen(g: usize) -> i64 {
    300_000 + (g as i64 * 7_919 % 5_000_000)
}

fn region() -> RegionCode {
    "460000".parse().unwrap_or_else(|_| unreachable!())
}

fn date(days: i32) -> Date {
    Date::from_days_since_epoch(days)
}

fn tables(scheme: SchemeKind) -> (ValuationPolicy, ValuationTables) {
    let mut policy = ValuationPolicy::new(region(), 2025, FundType::Employee);
    policy.main_method = scheme;
    let mut tables = ValuationTables::new(region(), 2025, FundType::Employee);
    tables.drg.all_case_mean_cost = Money::from_yuan(10_000);
    for g in 0..GROUPS {
        let mean = Money::from_fen(group_mean_fen(g));
        let base = Points::round(mean.value() / Decimal::from(10_000) * Decimal::from(100));
        tables.drg.groups.insert(
            group_code(g),
            DrgGroupRate {
                mean_cost: mean,
                base_points: base,
                stable: g % 20 != 0,
                per_diem_points: None,
            },
        );
        tables.dip.groups.insert(
            group_code(g),
            DipGroupRate {
                score: Points::round(base.value() * Decimal::TEN),
                reference_costs: HospitalLevel::ALL.into_iter().map(|l| (l, mean)).collect(),
                basic_level_reference: Some(mean),
            },
        );
    }
    for h in 0..HOSPITALS {
        tables.coefficients.drg_by_hospital.insert(
            hospital_code(h),
            CoefficientSet {
                all_groups: vec![DatedCoefficient {
                    coefficient: Decimal::new(90 + (h as i64 % 30), 2),
                    effective_from: date(19_700),
                    effective_to: None,
                }],
                per_group: Default::default(),
            },
        );
    }
    (policy, tables)
}

fn cases(scheme: SchemeKind, rng: &mut Rng) -> Vec<CaseForValuation> {
    (0..DISTINCT_CASES)
        .map(|i| {
            let g = rng.below(GROUPS);
            let admission = 20_100 + rng.below(300) as i32;
            // Costs from 0.1× to 4× the group mean: every case type occurs.
            let cost = group_mean_fen(g) * (10 + rng.below(390) as i64) / 100;
            CaseForValuation {
                hospital_code: hospital_code(rng.below(HOSPITALS)),
                list_id: format!("L{i:08}"),
                hospital_level: HospitalLevel::ALL[rng.below(6)],
                fund_type: FundType::Employee,
                grouping: GroupedCase {
                    scheme,
                    group_code: group_code(g),
                    adrg: group_code(g)[..4].to_owned(),
                    mdc: "MDCG".into(),
                    status: if i % 200 == 0 {
                        GroupStatus::Ungroupable
                    } else {
                        GroupStatus::Grouped
                    },
                    dip_score: None,
                    dip_aux_coefficient: None,
                },
                principal_diagnosis: "K35.800".into(),
                principal_procedure: Some("47.0100".into()),
                department: "A04".into(),
                admission_date: date(admission),
                discharge_date: date(admission + 1 + rng.below(20) as i32),
                stay_hours: None,
                discharge_type: [1, 1, 1, 1, 2, 5][rng.below(6)],
                total_cost: Money::from_fen(cost),
                in_policy_cost: None,
                individual_burden: Money::from_fen(cost / 4),
                planned_readmission: false,
                prior_episode_days: 0,
                special_case: None,
            }
        })
        .collect()
}

fn bench_valuate(scheme: SchemeKind) {
    let (policy, tables) = tables(scheme);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases = cases(scheme, &mut rng);
    // Warm-up pass.
    let mut errors = 0_usize;
    for case in &cases {
        errors += usize::from(valuate(&policy, &tables, case).is_err());
    }
    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let mut total = Points::ZERO;
    for i in 0..VALUATIONS {
        match valuate(&policy, &tables, black_box(&cases[i % DISTINCT_CASES])) {
            Ok(valued) => total += valued.points,
            Err(_) => errors += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_started
        .zip(thread_cpu_seconds())
        .map_or(elapsed, |(start, end)| end - start);
    println!(
        "valuate ({}): {VALUATIONS} cases, wall {elapsed:.3} s = {:.0} cases/s; on-CPU {cpu:.3} s = {:.0} cases/s/core (errors {errors}, points {total})",
        scheme.as_str(),
        VALUATIONS as f64 / elapsed,
        VALUATIONS as f64 / cpu,
    );
}

fn bench_calibrate() {
    let groups: Vec<String> = (0..GROUPS).map(group_code).collect();
    let hospitals: Vec<String> = (0..HOSPITALS).map(hospital_code).collect();
    let mut options = CalibrationOptions::new(
        SchemeKind::Drg,
        region(),
        2025,
        FundType::Employee,
        date(20_089),
    );
    options.version = 2;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let generated = (0..CALIBRATION_CASES).map(|i| {
        let g = rng.below(GROUPS);
        let h = rng.below(HOSPITALS);
        let cost =
            group_mean_fen(g) * (50 + rng.below(100) as i64 + (i % 997 == 0) as i64 * 2_000) / 100;
        HistoricalCase {
            year: 2022 + (i % 3) as i32,
            group_code: &groups[g],
            hospital_code: &hospitals[h],
            hospital_level: Some(HospitalLevel::ALL[h % 6]),
            total_cost: Money::from_fen(cost),
        }
    });
    match calibrate(generated, &options) {
        Ok(report) => {
            let elapsed = started.elapsed().as_secs_f64();
            let cpu = cpu_started
                .zip(thread_cpu_seconds())
                .map_or(elapsed, |(start, end)| end - start);
            println!(
                "calibrate (drg): {} cases ({} kept, {} trimmed, {} groups, {} hospitals), wall {elapsed:.3} s, on-CPU {cpu:.3} s, case generation included; RIV {}",
                report.cases_read,
                report.cases_kept,
                report.cases_trimmed,
                report.groups.len(),
                report.hospital_coefficients.len(),
                report.riv,
            );
        }
        Err(error) => println!("calibrate failed: {error}"),
    }
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench`-less arguments; keep it quick then.
    if std::env::args().any(|arg| arg == "--test") {
        return;
    }
    bench_valuate(SchemeKind::Drg);
    bench_valuate(SchemeKind::Dip);
    bench_calibrate();
}
