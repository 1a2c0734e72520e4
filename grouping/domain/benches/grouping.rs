//! Timing of the national scheme: load + compile, single-thread grouping throughput over the
//! public examples, and batch CSV throughput on a generated 1,000,000-row file with 1 and 2
//! threads; then load + compile and single-thread throughput of the largest regional scheme
//! of the shared folder (by bytes of its files).
//!
//! Run: `cargo bench -p grouping-domain --bench grouping`. Targets: load < 300 ms,
//! ≥ 1,000,000 cases/s on one thread, 1M-row CSV < 3 s on 2 cores.

use std::path::{Path, PathBuf};
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

/// Loads and compiles a scheme, printing how long each part took.
fn load(dir: &Path, label: &str) -> CompiledScheme {
    let started = Instant::now();
    let scheme = Scheme::load_dir(dir).unwrap_or_else(|e| panic!("{label} loads: {e}"));
    let loaded = started.elapsed();
    let compiled = CompiledScheme::compile(&scheme);
    let total = started.elapsed();
    println!(
        "{label}: load + validate: {:.1} ms, compile: {:.1} ms, total: {:.1} ms",
        loaded.as_secs_f64() * 1e3,
        (total - loaded).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );
    compiled
}

/// The data rows of an `examples.csv` as cases (every input column, the stay included).
fn cases<'t>(rows: &'t [Vec<&'t str>], header: &[&str]) -> Vec<RawCase<'t>> {
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let [gender, age, age_days, weight, dept, stay, leaving, dx, px] = [
        "gender",
        "age",
        "ageDay",
        "weight",
        "dept",
        "inHospitalTime",
        "leavingType",
        "ICD10_DRGS",
        "ICD9_DRGS",
    ]
    .map(column);
    rows.iter()
        .map(|f| RawCase {
            gender: f[gender],
            age: f[age],
            age_days: f[age_days],
            weight: f[weight],
            dept: f[dept],
            diagnoses: f[dx],
            procedures: f[px],
            length_of_stay: f[stay],
            leaving_type: f[leaving],
        })
        .collect()
}

/// Single-thread grouping throughput over `cases`, cycled to `groupings`, mapping off and on.
fn single_thread(label: &str, compiled: &CompiledScheme, cases: &[RawCase<'_>], groupings: usize) {
    for map_codes in [false, true] {
        let mut grouper = compiled.grouper();
        // Warm-up so the scratch buffers have grown.
        for case in cases {
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
            "{label}: single thread, map_codes={map_codes}: {groupings} groupings in {:.3} s = {:.0} cases/s{cpu} (checksum {checksum})",
            elapsed.as_secs_f64(),
            groupings as f64 / elapsed.as_secs_f64()
        );
    }
}

/// Bytes of a scheme's rule file and tables (its examples left out).
fn scheme_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_name() != "examples.csv")
                .filter_map(|entry| entry.metadata().ok())
                .map(|meta| meta.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let root = shared_schemes_dir();
    let dir = root.join("chs-drg-1.1");
    if !dir.is_dir() {
        println!(
            "skipped: national scheme not found at {} (set MEDPAY_SHARED_DIR)",
            dir.display()
        );
        return;
    }

    let compiled = load(&dir, "chs-drg-1.1");
    let text = std::fs::read_to_string(dir.join("examples.csv")).expect("examples.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let groupings = size("MEDPAY_BENCH_GROUPINGS", GROUPINGS);
    let csv_rows = size("MEDPAY_BENCH_CSV_ROWS", CSV_ROWS);
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    single_thread("chs-drg-1.1", &compiled, &cases(&rows, &header), groupings);

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
            "chs-drg-1.1: batch CSV, {threads} thread(s): {} rows ({:.0} MB) in {:.3} s = {:.0} rows/s",
            summary.rows,
            input.len() as f64 / 1e6,
            elapsed.as_secs_f64(),
            summary.rows as f64 / elapsed.as_secs_f64()
        );
    }

    // The largest regional scheme (by bytes of its files), found by listing the folder.
    let largest = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("scheme.json").is_file())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            !name.starts_with("chs-drg-")
        })
        .max_by_key(|path| scheme_bytes(path));
    let Some(largest) = largest else {
        println!("no regional scheme in {}", root.display());
        return;
    };
    let label = largest
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let compiled = load(&largest, &label);
    let text = std::fs::read_to_string(largest.join("examples.csv")).expect("examples.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    single_thread(&label, &compiled, &cases(&rows, &header), groupings);
}
