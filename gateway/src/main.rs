//! `medpay`: runs the multi-mode medical-insurance payment platform.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway::server::{self, ContextName};

/// mimalloc rather than glibc's malloc: a year's intake and screening allocate and free millions of
/// settlement lists of some 14 KB each, and glibc's large-chunk bins (consolidation and unlinking)
/// took a fifth of the CPU in profiles of `medpay demo`. Built without transparent huge pages
/// (`no_thp`): memory mimalloc returns and takes back was faulted in again 2 MiB at a time, each
/// fault zeroing the whole huge page (`clear_page_erms`, about 6 % of the CPU of
/// `medpay demo --cases 20000`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// medpay runs a province's multi-mode medical-insurance payment scheme: global budget, DRG and
/// DIP grouping, points, monthly prepayment and year-end clearing, supervision.
#[derive(Parser)]
#[command(name = "medpay", version, about, long_about = None)]
struct Cli {
    /// Configuration file (default: ./medpay.toml when present). Environment variables
    /// MEDPAY__SECTION__KEY override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every context in one process on the embedded SQLite database (created and migrated
    /// under the data folder). Prints the address it bound on one line.
    Up {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Folder of the SQLite database.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// A simulated Hainan province-year paid end to end in two minutes: starts the server of
    /// `up` on a fresh SQLite folder (or an empty --database-url, or acts on a running --server),
    /// registers the simulated hospitals, prices a points table per
    /// pooling region and fund from the simulated costs, submits every case through SubmitCases,
    /// prepays twelve months, clears the year per region and fund, prints a summary and writes
    /// the XLSX statements and CSV summaries under --out.
    Demo {
        /// Cases of the simulated year (inpatient, outpatient and pharmacy settlements).
        #[arg(long, default_value_t = 20_000)]
        cases: u64,
        /// Seed of the simulation; the same seed gives the same year.
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        /// Folder for the statements and summaries.
        #[arg(long, default_value = "./out")]
        out: PathBuf,
        /// Folder of the SQLite database (default: a temporary folder removed at the end); it must
        /// not hold a database yet.
        #[arg(long, conflicts_with_all = ["database_url", "server"])]
        data: Option<PathBuf>,
        /// Inpatient main method: `dip` (Hainan's; three simulated years of `--cases` each build
        /// the DIP directory, the middle one is the history of the budget point value) or `drg`
        /// (the demo DRG scheme on one year).
        #[arg(long, value_enum, default_value_t = gateway::demo::MainMethod::Dip)]
        main_method: gateway::demo::MainMethod,
        /// Run the demo's own server on this database instead (postgres://user@host/db); it
        /// must be empty (no table at all): the demo migrates it and refuses one that holds data.
        #[arg(long, conflicts_with = "server")]
        database_url: Option<String>,
        /// Pay the year on a running server (`medpay up`, a province gateway) instead of the
        /// demo's own, through its public gRPC API as a county agency does; http://host:port or
        /// host:port. It must hold no Hainan case, or the cases of an earlier demo with the same
        /// --seed and --cases (and API key), which then replays answer for answer.
        #[arg(long)]
        server: Option<String>,
        /// API key of the calls to --server, sent as `authorization: Bearer <key>`; it needs the
        /// roles configure, submit, run and read for 460000.
        #[arg(long, requires = "server")]
        api_key: Option<String>,
    },
    /// Groups a CSV of cases in input order, on every core; the scheme's kind decides DRG or DIP.
    /// DRG reads the columns of the schemes' examples.csv (Index, gender, age, ageDay, weight,
    /// dept, ICD10_DRGS, ICD9_DRGS; inHospitalTime and leavingType too when the scheme's rules
    /// split on them) and writes Index,mdc,adrg,drg,status. DIP reads Index, age,
    /// ageDay, leavingType (1-5, 9), inHospitalTime (days), ICD10_DRGS, ICD9_DRGS, totalCost (yuan)
    /// and writes Index,group,kind,subtype,coefficient,status (grouping/dip/FORMAT.md). Codes are
    /// joined with `|`, extra columns ignored; a bad line is reported with its number and field,
    /// and then nothing is written.
    Group {
        /// A DRG scheme folder (scheme.json, drg-scheme/1), a DIP directory folder
        /// (directory.json, dip-directory/1), `demo` (the shipped DRG demo scheme) or `demo-dip`
        /// (the shipped DIP demo directory).
        #[arg(long)]
        scheme: PathBuf,
        /// Cases to group.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the groups.
        #[arg(long)]
        output: PathBuf,
        /// Convert codes through the scheme's code maps first (DRG only).
        #[arg(long)]
        map_codes: bool,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// DIP directories (按病种分值).
    Dip {
        #[command(subcommand)]
        command: DipCommand,
    },
    /// Settlement lists.
    Settlement {
        #[command(subcommand)]
        command: SettlementCommand,
    },
    /// Administration on the box, directly on the configured database (or --data), audited as the
    /// operating-system user.
    Admin {
        /// Folder of the SQLite database, as for `medpay up --data` (default: the configured
        /// database).
        #[arg(long, global = true)]
        data: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Applies the database migrations of the contexts given (and `keys`, the API key store
    /// every server reads; all of them when none is given) on the configured database, and
    /// exits. Deployments run it once per release, before servers that have
    /// `database.migrate = false`.
    Migrate {
        /// What to migrate.
        #[arg(value_enum)]
        targets: Vec<gateway::migrate::Target>,
        /// Apply nothing: fail, naming them, while migrations are pending.
        #[arg(long)]
        check: bool,
        /// With --check: keep checking for up to this many seconds (an init container waiting
        /// for its migration Job).
        #[arg(long, default_value_t = 0, requires = "check")]
        wait_seconds: u64,
    },
    /// Asks a running server's grpc.health whether it serves: exit status 0 when it does, 1
    /// otherwise (the image's HEALTHCHECK). Plaintext, to server.health_listen when set, else to
    /// server.listen.
    Health {
        /// Address to ask instead (host:port).
        #[arg(long)]
        address: Option<SocketAddr>,
        /// A service to ask about, e.g. medpay.settlement.v1.SettlementService (default: the
        /// server as a whole).
        #[arg(long, default_value = "")]
        service: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout_seconds: u64,
    },
    /// Runs one context (one Deployment per context in production), on the configured database.
    Serve {
        /// The context to serve.
        context: ContextName,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// API keys (`mpk_<key id>_<secret>`, stored as an argon2id hash). This is how the first admin
    /// key is made; after that, admins can also use medpay.admin.v1.AdminService. A change made
    /// here reaches running servers within 30 seconds.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Creates a key and prints it once on stdout (its record goes to stderr). Store it at once:
    /// only its hash is kept.
    Create {
        /// The caller id the key authenticates as (letters, digits, `-`, `_`, `.`).
        #[arg(long)]
        caller_id: String,
        /// A region code the key may act for (repeat for several), e.g. 460000 for the province.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// A role of the key (repeat for several), e.g. admin, submit, read, hospital.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The institution a key with the role `hospital` acts for.
        #[arg(long)]
        institution: Option<String>,
        /// Days until the key expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Lists keys, newest first: key id, caller, scopes, roles, institution, creation, state.
    /// Never shows a key or its hash.
    List {
        /// Only keys of this caller id.
        #[arg(long)]
        caller_id: Option<String>,
        /// Also revoked and expired keys.
        #[arg(long)]
        all: bool,
    },
    /// Issues a new key for the same caller, scopes and roles, prints it once, and revokes the
    /// old one at once or after --overlap-seconds.
    Rotate {
        /// The key id (from `list`).
        key_id: String,
        /// Seconds the old key keeps working, to roll the new one out.
        #[arg(long, default_value_t = 0)]
        overlap_seconds: u32,
    },
    /// Revokes a key at once.
    Revoke {
        /// The key id (from `list`).
        key_id: String,
        /// Why; kept with the key and in the audit log.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum SettlementCommand {
    /// Imports a CSV export of settlement lists (national platform column names, see
    /// settlement/IMPORT.md) into a running server through SubmitCases; prints what was accepted,
    /// corrected, unchanged and rejected, and fails when anything was rejected. Running the same
    /// import again is a no-op.
    Import {
        /// Settlement lists, one row per list.
        file: PathBuf,
        /// Fee lines, joined to the lists by (fixmedins_code, setl_id).
        #[arg(long)]
        fee_lines: Option<PathBuf>,
        /// Server URL (default: the configured listen address).
        #[arg(long)]
        server: Option<String>,
        /// Pooling region of the upload and of rows without pooling_region (default: the
        /// province of the first row's region).
        #[arg(long)]
        region: Option<kernel::RegionCode>,
        /// API key, sent as `authorization: Bearer <key>`.
        #[arg(long)]
        api_key: Option<String>,
        /// Idempotency key of the upload (default: a hash of the inputs).
        #[arg(long)]
        request_id: Option<String>,
    },
}

#[derive(Subcommand)]
enum DipCommand {
    /// Builds a directory from historical cases (columns in grouping/dip/FORMAT.md): year weights
    /// 1:2:7, outlier trimming, core groups for combinations with enough cases, the rest in
    /// comprehensive groups; writes the directory and report.json.
    Build {
        /// Historical cases (CSV).
        #[arg(long)]
        cases: PathBuf,
        /// History years, oldest first, e.g. 2023,2024,2025 (default: the years in the file).
        #[arg(long, value_delimiter = ',')]
        years: Vec<i32>,
        /// Cases a combination needs to become a core group.
        #[arg(long, default_value_t = 15)]
        min_cases: u64,
        /// Score scale (1000 by default; 100 in some regions).
        #[arg(long)]
        scale: Option<rust_decimal::Decimal>,
        /// Pooling region of the directory.
        #[arg(long, default_value = "460000")]
        region: kernel::RegionCode,
        /// Directory whose procedure-type table classifies procedures (default: the demo's).
        #[arg(long)]
        procedure_types: Option<PathBuf>,
        /// CCI weights (a cci_weights.tsv): with a secondary_diagnoses column, derives the CCI
        /// subtypes of the auxiliary directory.
        #[arg(long)]
        cci_weights: Option<PathBuf>,
        /// Tumour markers (a tumour_markers.tsv): derives the tumour subtypes.
        #[arg(long)]
        tumour_markers: Option<PathBuf>,
        /// Folder to write the directory to.
        #[arg(long)]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Dip {
        command:
            DipCommand::Build {
                cases,
                years,
                min_cases,
                scale,
                region,
                procedure_types,
                cci_weights,
                tumour_markers,
                output,
            },
    } = &cli.command
    {
        let args = gateway::commands::DipBuildArgs {
            cases,
            years,
            min_cases: *min_cases,
            score_scale: *scale,
            region: *region,
            procedure_types: procedure_types.as_deref(),
            cci_weights: cci_weights.as_deref(),
            tumour_markers: tumour_markers.as_deref(),
            output,
        };
        return match gateway::commands::dip_build(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("medpay: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Group {
        scheme,
        input,
        output,
        map_codes,
        threads,
    } = &cli.command
    {
        return match gateway::commands::group(scheme, input, output, *map_codes, *threads) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("medpay: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("medpay: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("medpay: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = gateway::config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Up { listen, data } => {
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            if let Some(data) = data {
                settings.database.data_dir = data;
                settings.database.url.clear();
            }
            serve(&settings, &ContextName::ALL).await
        }
        Command::Demo {
            cases,
            seed,
            out,
            data,
            main_method,
            database_url,
            server,
            api_key,
        } => {
            // The demo's own server logs its errors only (the cause of a storage failure, say):
            // progress and tables are the demo's output. `medpay up` with the demo's `--server`
            // logs as configured.
            let _telemetry = gateway::telemetry::init(&gateway::config::TelemetrySettings {
                log_filter: "error".to_owned(),
                otlp_endpoint: String::new(),
                metrics_listen: String::new(),
            })?;
            let args = gateway::demo::DemoArgs {
                cases,
                seed,
                out,
                data,
                main_method,
                database_url,
                server,
                api_key,
            };
            gateway::demo::run(settings, args).await
        }
        Command::Group { .. } | Command::Dip { .. } => Ok(()),
        Command::Settlement {
            command:
                SettlementCommand::Import {
                    file,
                    fee_lines,
                    server,
                    region,
                    api_key,
                    request_id,
                },
        } => {
            let args = gateway::import_cmd::ImportArgs {
                file,
                fee_lines,
                server,
                region,
                api_key,
                request_id,
            };
            gateway::import_cmd::settlement_import(&settings, args).await
        }
        Command::Admin { data, command } => {
            if let Some(data) = data {
                settings.database.data_dir = data;
                settings.database.url.clear();
            }
            let AdminCommand::Keys { command } = command;
            admin_keys(&settings, command).await
        }
        Command::Migrate {
            targets,
            check,
            wait_seconds,
        } => {
            use gateway::migrate::{self, Target};
            let targets = if targets.is_empty() {
                Target::of_server(&ContextName::ALL)
            } else {
                targets
            };
            let db = server::connect(&settings).await?;
            if check {
                let wait = std::time::Duration::from_secs(wait_seconds);
                migrate::wait_until_migrated(&db, &targets, wait).await?;
                eprintln!("medpay: migrated: {}", migrate::names(&targets));
            } else {
                migrate::apply(&db, &targets).await?;
                eprintln!("medpay: migrations applied: {}", migrate::names(&targets));
            }
            db.close().await?;
            Ok(())
        }
        Command::Health {
            address,
            service,
            timeout_seconds,
        } => {
            let address = match address {
                Some(address) => address,
                None => gateway::probe::default_address(&settings)?,
            };
            let timeout = std::time::Duration::from_secs(timeout_seconds.max(1));
            gateway::probe::check(address, &service, timeout).await
        }
        Command::Serve { context, listen } => {
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            serve(&settings, &[context]).await
        }
    }
}

async fn serve(
    settings: &gateway::config::Settings,
    contexts: &[ContextName],
) -> anyhow::Result<()> {
    let _telemetry = gateway::telemetry::init(&settings.telemetry)?;
    let db = server::open_database(settings, contexts).await?;
    server::serve(
        settings,
        contexts,
        db,
        |bound| {
            println!("medpay listening on {}", bound.public);
            println!("medpay internal listener on {}", bound.internal);
            if let Some(health) = bound.health {
                println!("medpay health listener on {health}");
            }
        },
        server::shutdown_signal(),
    )
    .await
}

async fn admin_keys(
    settings: &gateway::config::Settings,
    command: KeysCommand,
) -> anyhow::Result<()> {
    use gateway::access::cli;
    let db = server::open_database(settings, &[]).await?;
    match command {
        KeysCommand::Create {
            caller_id,
            scopes,
            roles,
            institution,
            expires_in_days,
        } => {
            let args = cli::CreateArgs {
                caller_id,
                scopes,
                roles,
                institution,
                expires_in_days,
            };
            let (record, key) = cli::create(db, &args).await?;
            eprintln!(
                "created {}",
                cli::format_line(&record, gateway::access::unix_now())
            );
            eprintln!("the key is shown this once; store it now:");
            println!("{key}");
        }
        KeysCommand::List { caller_id, all } => {
            let now = gateway::access::unix_now();
            for record in cli::list(db, caller_id, all).await? {
                println!("{}", cli::format_line(&record, now));
            }
        }
        KeysCommand::Rotate {
            key_id,
            overlap_seconds,
        } => {
            let (record, key) = cli::rotate(db, &key_id, overlap_seconds).await?;
            eprintln!(
                "{key_id} rotated to {}; the old key stops working in {overlap_seconds} s",
                cli::format_line(&record, gateway::access::unix_now())
            );
            eprintln!("the new key is shown this once; store it now:");
            println!("{key}");
        }
        KeysCommand::Revoke { key_id, reason } => {
            cli::revoke(db, &key_id, &reason).await?;
            eprintln!("{key_id} revoked; running servers refuse it within 30 s");
        }
    }
    Ok(())
}
