//! Cases generated per second: streams 1,000,000 cases (default rates) and serialises each
//! record and its ground truth, as the demo command does. `cargo bench -p medpay-simulator`.

use std::time::Instant;

use medpay_simulator::{Simulation, SimulationConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cases: u64 = std::env::var("SIMULATOR_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let simulation = Simulation::hainan(SimulationConfig {
        cases_per_year: cases,
        ..SimulationConfig::default()
    })?;

    let start = Instant::now();
    let generated = simulation.cases().count();
    let generate_only = start.elapsed();

    let start = Instant::now();
    let mut bytes = 0usize;
    for case in simulation.cases() {
        bytes += case.record_json()?.len() + case.truth_json()?.len();
    }
    let with_json = start.elapsed();

    println!(
        "simulate/generate: {generated} cases in {:.2} s = {:.0} cases/s",
        generate_only.as_secs_f64(),
        generated as f64 / generate_only.as_secs_f64()
    );
    println!(
        "simulate/generate+json: {generated} cases in {:.2} s = {:.0} cases/s ({:.1} MB of JSON)",
        with_json.as_secs_f64(),
        generated as f64 / with_json.as_secs_f64(),
        bytes as f64 / 1e6
    );
    // The stream keeps no case: the peak resident set stays that of a few cases whatever the
    // count (Linux only; elsewhere nothing is printed).
    if let Some(peak) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
    {
        println!(
            "simulate/peak resident set after {generated} cases: {}",
            peak.trim_start_matches("VmHWM:").trim()
        );
    }
    Ok(())
}
