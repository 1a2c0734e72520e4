//! `medpay`: runs the multi-mode medical-insurance payment platform.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway::server::{self, ContextName};

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
    /// Groups a CSV of cases (columns of the schemes' examples.csv: Index, gender, age, ageDay,
    /// weight, dept, ICD10_DRGS, ICD9_DRGS; extra columns ignored) into Index,mdc,adrg,drg,status,
    /// in input order, on every core.
    Group {
        /// Scheme folder in the drg-scheme/1 format, or `demo` for the shipped demo scheme.
        #[arg(long)]
        scheme: PathBuf,
        /// Cases to group.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the groups.
        #[arg(long)]
        output: PathBuf,
        /// Convert codes through the scheme's code maps first.
        #[arg(long)]
        map_codes: bool,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Group { .. } => Ok(()),
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
        |address| println!("medpay listening on {address}"),
        server::shutdown_signal(),
    )
    .await
}
