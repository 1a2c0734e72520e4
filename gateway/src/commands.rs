//! Batch commands that run without a server: `medpay group`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use grouping_domain::{BatchError, BatchOptions, CompiledScheme, GroupStatus, Scheme};

/// Where the scheme of `medpay group` comes from.
pub fn load_scheme(scheme: &Path) -> anyhow::Result<CompiledScheme> {
    let loaded = if scheme == Path::new("demo") {
        grouping_domain::load_demo()
    } else {
        Scheme::load_dir(scheme)
    };
    let scheme = loaded.map_err(|error| {
        let problems: Vec<String> = error
            .problems
            .iter()
            .map(|p| match p.line {
                Some(line) => format!("  {}:{line}: {}", p.file, p.message),
                None => format!("  {}: {}", p.file, p.message),
            })
            .collect();
        anyhow::anyhow!(
            "scheme {} does not load:\n{}",
            scheme.display(),
            problems.join("\n")
        )
    })?;
    Ok(CompiledScheme::compile(&scheme))
}

/// `medpay group`: groups a CSV of cases into `Index,mdc,adrg,drg,status`, in input order.
///
/// The output is written to a temporary file beside the target and renamed at the end, so a
/// malformed input never leaves a partial result behind.
pub fn group(
    scheme_dir: &Path,
    input: &Path,
    output: &Path,
    map_codes: bool,
    threads: Option<usize>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let scheme = load_scheme(scheme_dir)?;
    let reader = std::fs::File::open(input)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", input.display()))?;
    let partial = partial_path(output);
    let writer = std::fs::File::create(&partial)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", partial.display()))?;
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    });
    let show_progress = std::io::stderr().is_terminal();
    let result = grouping_domain::group_csv(
        reader,
        writer,
        &scheme,
        BatchOptions { map_codes, threads },
        |rows| {
            if show_progress {
                let seconds = started.elapsed().as_secs_f64().max(1e-9);
                eprint!("\rgrouped {rows} cases ({:.0}/s)", rows as f64 / seconds);
            }
        },
    );
    if show_progress {
        eprintln!();
    }
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(describe(error, input));
        }
    };
    std::fs::rename(&partial, output)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    let counts: Vec<String> = [
        GroupStatus::Success,
        GroupStatus::Fail,
        GroupStatus::CheckFailed,
        GroupStatus::DxNotMapped,
        GroupStatus::ProcNotMapped,
        GroupStatus::Ambiguous,
    ]
    .into_iter()
    .filter(|s| summary.count(*s) > 0)
    .map(|s| format!("{} {}", s.as_str(), summary.count(s)))
    .collect();
    eprintln!(
        "grouped {} cases with {} {} in {:.2} s: {}",
        summary.rows,
        scheme.id(),
        scheme.version(),
        started.elapsed().as_secs_f64(),
        counts.join(", ")
    );
    Ok(())
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

fn describe(error: BatchError, input: &Path) -> anyhow::Error {
    match error {
        BatchError::BadRecords { records, .. } => {
            let shown: Vec<String> = records
                .iter()
                .take(20)
                .map(|r| format!("  {}: {r}", input.display()))
                .collect();
            let more = records.len().saturating_sub(shown.len());
            let tail = if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            };
            anyhow::anyhow!(
                "{} malformed line(s) in {}; nothing was written:\n{}{tail}",
                records.len(),
                input.display(),
                shown.join("\n")
            )
        }
        other => anyhow::anyhow!("{}: {other}", input.display()),
    }
}

/// Options of `medpay dip build`.
pub struct DipBuildArgs<'a> {
    pub cases: &'a Path,
    pub years: &'a [i32],
    pub min_cases: u64,
    pub score_scale: Option<rust_decimal::Decimal>,
    pub region: kernel::RegionCode,
    /// A directory whose procedure-type table classifies the history's procedures; the demo
    /// directory when absent.
    pub procedure_types: Option<&'a Path>,
    pub output: &'a Path,
}

/// `medpay dip build`: builds a DIP directory from historical cases and writes it with its report.
pub fn dip_build(args: &DipBuildArgs<'_>) -> anyhow::Result<()> {
    use grouping_dip::build::{BuildOptions, build_from_csv};
    let started = Instant::now();
    let classifier = match args.procedure_types {
        Some(dir) => grouping_dip::Directory::load(dir),
        None => grouping_dip::load_demo(),
    }
    .map_err(|e| anyhow::anyhow!("procedure types: {e}"))?;
    let mut options = BuildOptions::new(args.region, BuildOptions::procedure_types_of(&classifier));
    options.years = args.years.to_vec();
    options.min_cases = args.min_cases;
    if let Some(scale) = args.score_scale {
        options.score_scale = scale;
    }
    let reader = std::fs::File::open(args.cases)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.cases.display()))?;
    let built = build_from_csv(reader, &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.cases.display()))?;
    built
        .write_directory(args.output)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.output.display()))?;
    let report = serde_json::to_string_pretty(&built.report)?;
    std::fs::write(args.output.join("report.json"), report)?;
    let report = &built.report;
    eprintln!(
        "built {} groups from {} cases ({} trimmed) in {:.2} s; RIV {}; written to {} (report.json beside it)",
        report.groups.len(),
        report.cases_read,
        report.cases_trimmed,
        started.elapsed().as_secs_f64(),
        report
            .riv
            .map(|r| kernel::round_points(r).to_string())
            .unwrap_or_else(|| "n/a".into()),
        args.output.display()
    );
    Ok(())
}
