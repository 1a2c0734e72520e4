//! Batch commands that run without a server: `medpay group`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use grouping_domain::{BatchError, BatchOptions, CompiledScheme, GroupStatus, Scheme};

/// What `medpay group` groups with: the kind of the scheme decides DRG or DIP.
pub enum BatchScheme {
    /// A DRG scheme (`drg-scheme/1`).
    Drg(CompiledScheme),
    /// A DIP directory (`dip-directory/1`).
    Dip(grouping_dip::CompiledDirectory),
}

/// `--scheme` of `medpay group` naming the shipped demo DRG scheme.
pub const DEMO_DRG: &str = "demo";
/// `--scheme` of `medpay group` naming the shipped demo DIP directory.
pub const DEMO_DIP: &str = "demo-dip";

/// Where the scheme of `medpay group` comes from: `demo`, `demo-dip`, or a folder whose manifest
/// tells its kind (`scheme.json` for a DRG scheme, `directory.json` for a DIP directory).
pub fn load_scheme(scheme: &Path) -> anyhow::Result<BatchScheme> {
    if scheme == Path::new(DEMO_DIP) {
        return load_dip(scheme, grouping_dip::load_demo());
    }
    if scheme != Path::new(DEMO_DRG) {
        let drg_manifest = scheme.join(grouping_domain::scheme::SCHEME_FILE);
        let dip_manifest = scheme.join("directory.json");
        match (drg_manifest.is_file(), dip_manifest.is_file()) {
            (true, true) => anyhow::bail!(
                "scheme {} holds both scheme.json and directory.json: it must be one kind",
                scheme.display()
            ),
            (false, true) => return load_dip(scheme, grouping_dip::Directory::load(scheme)),
            (false, false) => anyhow::bail!(
                "scheme {} is neither a DRG scheme folder (scheme.json) nor a DIP directory \
                 (directory.json), nor `{DEMO_DRG}` or `{DEMO_DIP}`",
                scheme.display()
            ),
            (true, false) => {}
        }
    }
    let loaded = if scheme == Path::new(DEMO_DRG) {
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
    Ok(BatchScheme::Drg(CompiledScheme::compile(&scheme)))
}

fn load_dip(
    source: &Path,
    loaded: Result<grouping_dip::Directory, grouping_dip::DirectoryError>,
) -> anyhow::Result<BatchScheme> {
    let directory = loaded.map_err(|error| {
        anyhow::anyhow!("DIP directory {} does not load: {error}", source.display())
    })?;
    Ok(BatchScheme::Dip(grouping_dip::CompiledDirectory::new(
        &directory,
    )))
}

/// `medpay group`: groups a CSV of cases, in input order, with a DRG scheme
/// (`Index,mdc,adrg,drg,status`) or a DIP directory (`Index,group,kind,subtype,coefficient,status`).
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
    if map_codes && matches!(scheme, BatchScheme::Dip(_)) {
        anyhow::bail!(
            "--map-codes applies to DRG schemes; {} is a DIP directory",
            scheme_dir.display()
        );
    }
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
    let progress = |rows: u64| {
        if show_progress {
            let seconds = started.elapsed().as_secs_f64().max(1e-9);
            eprint!("\rgrouped {rows} cases ({:.0}/s)", rows as f64 / seconds);
        }
    };
    let result = match &scheme {
        BatchScheme::Drg(drg) => grouping_domain::group_csv(
            reader,
            writer,
            drg,
            BatchOptions { map_codes, threads },
            progress,
        )
        .map(|summary| drg_counts(drg, &summary))
        .map_err(|error| describe(error, input)),
        BatchScheme::Dip(dip) => grouping_dip::batch::group_csv(
            reader,
            writer,
            dip,
            grouping_dip::batch::BatchOptions { threads },
            progress,
        )
        .map(|summary| dip_counts(dip, &summary))
        .map_err(|error| describe_dip(error, input)),
    };
    if show_progress {
        eprintln!();
    }
    let (rows, counts) = match result {
        Ok(counts) => counts,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, output)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    eprintln!(
        "grouped {rows} cases with {counts} in {:.2} s",
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Rows and `scheme version: status n, …` of a DRG batch.
fn drg_counts(scheme: &CompiledScheme, summary: &grouping_domain::BatchSummary) -> (u64, String) {
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
    (
        summary.rows,
        format!(
            "{} {}: {}",
            scheme.id(),
            scheme.version(),
            counts.join(", ")
        ),
    )
}

/// Rows and `directory version: kind n, …` of a DIP batch.
fn dip_counts(
    directory: &grouping_dip::CompiledDirectory,
    summary: &grouping_dip::batch::BatchSummary,
) -> (u64, String) {
    let (id, version) = directory.id();
    let counts: Vec<String> = [
        ("core", summary.core),
        ("basic", summary.basic),
        ("comprehensive", summary.comprehensive),
        ("ungrouped", summary.ungrouped),
        ("with auxiliary subtype", summary.with_subtype),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| format!("{what} {n}"))
    .collect();
    (
        summary.rows,
        format!("{id} {version}: {}", counts.join(", ")),
    )
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

/// The bad lines of a file, at most 20 of them, as an error that says nothing was written.
fn bad_lines(input: &Path, records: Vec<String>) -> anyhow::Error {
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

fn describe(error: BatchError, input: &Path) -> anyhow::Error {
    match error {
        BatchError::BadRecords { records, .. } => {
            bad_lines(input, records.iter().map(ToString::to_string).collect())
        }
        other => anyhow::anyhow!("{}: {other}", input.display()),
    }
}

fn describe_dip(error: grouping_dip::batch::BatchError, input: &Path) -> anyhow::Error {
    match error {
        grouping_dip::batch::BatchError::BadRecords { records, .. } => {
            bad_lines(input, records.iter().map(ToString::to_string).collect())
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
    /// A `cci_weights.tsv` for the CCI subtypes of the auxiliary directory.
    pub cci_weights: Option<&'a Path>,
    /// A `tumour_markers.tsv` for the tumour subtypes.
    pub tumour_markers: Option<&'a Path>,
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
    let table = |path: Option<&Path>| {
        path.map(|p| {
            std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
        })
        .transpose()
    };
    // The subtype bounds and the case threshold keep their defaults (FORMAT.md).
    options.cci_weights_tsv = table(args.cci_weights)?;
    options.tumour_markers_tsv = table(args.tumour_markers)?;
    let reader = std::fs::File::open(args.cases)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.cases.display()))?;
    let built = build_from_csv(reader, &options).map_err(|e| match e {
        // A bad table is named by its file, every bad line listed.
        grouping_dip::build::BuildError::BadTable { option, problems } => {
            let file = match option {
                "cci_weights_tsv" => args.cci_weights,
                _ => args.tumour_markers,
            }
            .unwrap_or(args.cases);
            bad_lines(
                file,
                problems
                    .iter()
                    .map(|p| format!("line {}: {}", p.line, p.kind))
                    .collect(),
            )
        }
        other => anyhow::anyhow!("{}: {other}", args.cases.display()),
    })?;
    built
        .write_directory(args.output)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.output.display()))?;
    let report = serde_json::to_string_pretty(&built.report)?;
    std::fs::write(args.output.join("report.json"), report)?;
    let report = &built.report;
    eprintln!(
        "built {} groups and {} auxiliary rows from {} cases ({} trimmed) in {:.2} s; RIV {}; written to {} (report.json beside it)",
        report.groups.len(),
        report.auxiliary.len(),
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
