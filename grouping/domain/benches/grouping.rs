//! Timing of the national scheme: load + compile, single-thread grouping throughput over the
//! public examples, and batch CSV throughput on a generated 1,000,000-row file with 2 threads.
//!
//! Run: `cargo bench -p grouping-domain --bench grouping`. Targets: load < 300 ms,
//! ≥ 1,000,000 cases/s on one thread, 1M-row CSV < 3 s on 2 cores.

use std::path::PathBuf;
use std::time::Instant;

use grouping_domain::{BatchOptions, CompiledScheme, RawCase, Scheme, group_csv};

/// Defaults; `MEDPAY_BENCH_GROUPINGS` / `MEDPAY_BENCH_CSV_ROWS` override them (e.g. for a short
/// run under a profiler).
const GROUPINGS: usize = 2_000_000;
const CSV_ROWS: usize = 1_000_000;

fn size(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// CPU time of the calling thread in seconds (Linux `schedstat`), so figures stay meaningful
/// when other processes share the cores; `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

fn shared_schemes_dir() -> PathBuf {
    match std::env::var_os("MEDPAY_SHARED_DIR") {
        Some(shared) => PathBuf::from(shared).join("schemes"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemes"),
    }
}

fn main() {
    let dir = shared_schemes_dir().join("chs-drg-1.1");
    if !dir.is_dir() {
        println!(
            "skipped: national scheme not found at {} (set MEDPAY_SHARED_DIR)",
            dir.display()
        );
        return;
    }

    let started = Instant::now();
    let scheme = Scheme::load_dir(&dir).expect("national scheme loads");
    let loaded = started.elapsed();
    let compiled = CompiledScheme::compile(&scheme);
    let total = started.elapsed();
    println!(
        "load + validate: {:.1} ms, compile: {:.1} ms, total: {:.1} ms",
        loaded.as_secs_f64() * 1e3,
        (total - loaded).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );

    let text = std::fs::read_to_string(dir.join("examples.csv")).expect("examples.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let [gender, age, age_days, weight, dept, dx, px] = [
        "gender",
        "age",
        "ageDay",
        "weight",
        "dept",
        "ICD10_DRGS",
        "ICD9_DRGS",
    ]
    .map(column);
    let groupings = size("MEDPAY_BENCH_GROUPINGS", GROUPINGS);
    let csv_rows = size("MEDPAY_BENCH_CSV_ROWS", CSV_ROWS);
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    let cases: Vec<RawCase<'_>> = rows
        .iter()
        .map(|f| RawCase {
            gender: f[gender],
            age: f[age],
            age_days: f[age_days],
            weight: f[weight],
            dept: f[dept],
            diagnoses: f[dx],
            procedures: f[px],
            ..RawCase::default()
        })
        .collect();

    for map_codes in [false, true] {
        let mut grouper = compiled.grouper();
        // Warm-up so the scratch buffers have grown.
        for case in &cases {
            std::hint::black_box(grouper.group(case, map_codes));
        }
        let started = Instant::now();
        let cpu_started = thread_cpu_seconds();
        let mut checksum = 0usize;
        for case in cases.iter().cycle().take(groupings) {
            let result = grouper.group(std::hint::black_box(case), map_codes);
            checksum += result.drg.as_str().len();
        }
        let elapsed = started.elapsed();
        let cpu = thread_cpu_seconds()
            .zip(cpu_started)
            .map(|(end, start)| end - start)
            .map(|cpu| {
                format!(
                    ", {:.3} s on CPU = {:.0} cases per CPU-second",
                    cpu,
                    groupings as f64 / cpu
                )
            })
            .unwrap_or_default();
        println!(
            "single thread, map_codes={map_codes}: {groupings} groupings in {:.3} s = {:.0} cases/s{cpu} (checksum {checksum})",
            elapsed.as_secs_f64(),
            groupings as f64 / elapsed.as_secs_f64()
        );
    }

    let mut input = Vec::with_capacity(csv_rows * 160);
    input.extend_from_slice(text.lines().next().expect("header").as_bytes());
    input.push(b'\n');
    for line in text.lines().skip(1).cycle().take(csv_rows) {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    for threads in [1, 2] {
        let started = Instant::now();
        let summary = group_csv(
            input.as_slice(),
            std::io::sink(),
            &compiled,
            BatchOptions {
                map_codes: false,
                threads,
            },
            |_| {},
        )
        .expect("batch runs");
        let elapsed = started.elapsed();
        println!(
            "batch CSV, {threads} thread(s): {} rows ({:.0} MB) in {:.3} s = {:.0} rows/s",
            summary.rows,
            input.len() as f64 / 1e6,
            elapsed.as_secs_f64(),
            summary.rows as f64 / elapsed.as_secs_f64()
        );
    }
}
