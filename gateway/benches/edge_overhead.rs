//! What the gateway's edge costs a cheap unary read: `GetScheme` of the demo scheme (answered from
//! memory, so the edge's share is as large as it gets) over loopback, served once by the bare
//! grouping service and once by `server::serve` (the edge: authentication by API key, the method's
//! roles, the caller's limits, the request span under the production telemetry), at 1, 100 and
//! 1,000 calls in flight. Prints p50, mean, p99 and calls/s of each, and the edge's overhead.
//!
//! The machine's speed drifts over seconds (client and server share two cores), more than the
//! edge costs: each level is measured in rounds, direct and edge one after the other, the order
//! swapped each round, and the edge's overhead is given for each round and as their median. The
//! latency and rate columns pool the rounds.
//!
//! `cargo bench -p gateway --bench edge_overhead`; `EDGE_BENCH_SECONDS` sets the seconds measured
//! per run (default 3, after 1 s of warm-up), `EDGE_BENCH_ROUNDS` the rounds a level (default 3),
//! `EDGE_BENCH_LOG_FILTER` the server's log filter
//! (default `warn`; `warn,medpay_request=off` leaves the request spans out). Client and server
//! share the machine's cores.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use gateway::server::ContextName;
use medpay_proto::grouping::v1 as pb;
use pb::grouping_service_client::GroupingServiceClient;
use tonic::transport::Channel;

const KEY: &str = "edge-overhead-bench-key-0001";
const LEVELS: [usize; 3] = [1, 100, 1_000];
/// Connections each client spreads its calls over (round robin), the same for both servers.
const CONNECTIONS: usize = 8;

fn config(dir: &std::path::Path) -> anyhow::Result<gateway::config::Settings> {
    let path = dir.join("medpay.toml");
    // `medpay_request=off` takes the request spans out, to see what they cost.
    let log_filter = std::env::var("EDGE_BENCH_LOG_FILTER").unwrap_or_else(|_| "warn".to_owned());
    // Limits far above the load: their bookkeeping is measured, never a refusal.
    std::fs::write(
        &path,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
internal_listen = "127.0.0.1:0"

[limits]
requests_per_second = 10000000
burst = 10000000
concurrent_per_caller = 100000

[database]
data_dir = "{}"

[auth]
allow_anonymous = false

[[auth.api_keys]]
key = "{KEY}"
caller_id = "bench-vendor"
scopes = ["460108"]
roles = ["read"]

[telemetry]
log_filter = "{log_filter}"
"#,
            dir.join("data").display()
        ),
    )?;
    Ok(gateway::config::load_from(Some(&path), Vec::new())?)
}

/// The grouping service alone on a loopback port, accepted with TCP_NODELAY as the server does.
async fn serve_bare(db: sea_orm::DatabaseConnection) -> anyhow::Result<SocketAddr> {
    let api = grouping_service::GroupingApi::start(grouping_service::store::RegistryStore::new(db))
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|connection| {
        connection.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .timeout(Duration::from_secs(900))
            .add_service(api.into_server())
            .serve_with_incoming(incoming),
    );
    Ok(address)
}

/// The calls a client makes: the request as the bare service expects it (the verified principal
/// in metadata, as the edge would set it) or as a vendor sends it to the edge (its API key).
#[derive(Clone, Copy)]
enum Path {
    Direct,
    Edge,
}

fn request(path: Path) -> anyhow::Result<tonic::Request<pb::GetSchemeRequest>> {
    let mut request = tonic::Request::new(pb::GetSchemeRequest {
        region_code: "460108".into(),
        scheme_id: "demo".into(),
        version: "1".into(),
    });
    match path {
        Path::Direct => platform::set_principal(
            request.metadata_mut(),
            &kernel::Principal {
                caller_id: "bench-vendor".into(),
                scopes: vec!["460108".parse()?],
                roles: vec!["read".into()],
                institution: None,
            },
        )?,
        Path::Edge => {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {KEY}").parse()?);
        }
    }
    Ok(request)
}

struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Run {
    fn percentile(&self, per_cent: usize) -> Duration {
        let index =
            (self.latencies.len() * per_cent / 100).min(self.latencies.len().saturating_sub(1));
        self.latencies.get(index).copied().unwrap_or_default()
    }

    /// The mean is what the rate answers to (calls in flight / rate, Little's law); the p50 alone
    /// misleads when the two servers spread their latencies differently.
    fn mean(&self) -> Duration {
        let total: Duration = self.latencies.iter().sum();
        total
            .checked_div(u32::try_from(self.latencies.len()).unwrap_or(u32::MAX))
            .unwrap_or_default()
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The rounds' calls as one run.
    fn pooled(runs: &[Run]) -> Run {
        let mut latencies: Vec<Duration> = runs
            .iter()
            .flat_map(|run| run.latencies.iter().copied())
            .collect();
        latencies.sort();
        Run {
            latencies,
            elapsed: runs.iter().map(|run| run.elapsed).sum(),
        }
    }
}

/// How many fewer calls a second the edge answered than the bare service, in per cent.
fn rate_overhead(direct: &Run, edge: &Run) -> f64 {
    100.0 * (1.0 - edge.rate() / direct.rate())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// `in_flight` callers, each calling again as soon as it is answered, for `warm_up` and then
/// `measured`; only the calls that start within `measured` count.
async fn load(
    channels: &[Channel],
    path: Path,
    in_flight: usize,
    warm_up: Duration,
    measured: Duration,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let measure_from = started + warm_up;
    let stop = measure_from + measured;
    let mut callers = Vec::with_capacity(in_flight);
    for caller in 0..in_flight {
        let mut client = GroupingServiceClient::new(channels[caller % channels.len()].clone());
        callers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= stop {
                    break;
                }
                let answer = client.get_scheme(request(path)?).await?.into_inner();
                anyhow::ensure!(
                    answer.scheme.is_some_and(|s| s.drg_count == 48),
                    "GetScheme did not answer the demo scheme"
                );
                if sent >= measure_from {
                    latencies.push(sent.elapsed());
                }
            }
            Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for caller in callers {
        latencies.extend(caller.await??);
    }
    latencies.sort();
    Ok(Run {
        latencies,
        elapsed: measured,
    })
}

async fn channels(address: SocketAddr) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        channels.push(
            Channel::from_shared(format!("http://{address}"))?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    Ok(channels)
}

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("EDGE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let rounds: usize = std::env::var("EDGE_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&rounds| rounds > 0)
        .unwrap_or(3);
    let dir = tempfile::tempdir()?;
    let settings = config(dir.path())?;

    // The servers run on a runtime of their own, as in the binary; the clients on another.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let _telemetry = servers.block_on(async { gateway::telemetry::init(&settings.telemetry) })?;
    let (bare, edge) = servers.block_on(async {
        let db = gateway::server::open_database(&settings, &[ContextName::Grouping]).await?;
        let bare = serve_bare(db.clone()).await?;
        let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
        let serving = settings.clone();
        tokio::spawn(async move {
            let served = gateway::server::serve(
                &serving,
                &[ContextName::Grouping],
                db,
                |bound| {
                    let _ = bound_tx.send(bound.public);
                },
                std::future::pending(),
            )
            .await;
            if let Err(error) = served {
                eprintln!("the gateway stopped: {error}");
            }
        });
        anyhow::Ok((bare, bound_rx.await?))
    })?;

    let clients = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    clients.block_on(async {
        let direct_channels = channels(bare).await?;
        let edge_channels = channels(edge).await?;
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        println!(
            "GetScheme over loopback, {rounds} rounds of {seconds} s per run after 1 s warm-up, {CONNECTIONS} connections, {cores} cores shared by client and server"
        );
        println!(
            "{:>9} | {:>10} {:>10} {:>10} {:>10} | {:>10} {:>10} {:>10} {:>10} | {:>9} {:>9} {:>9}",
            "in flight",
            "direct p50",
            "mean",
            "p99",
            "calls/s",
            "edge p50",
            "mean",
            "p99",
            "calls/s",
            "p50 +%",
            "mean +%",
            "calls/s -%"
        );
        let mut by_round = Vec::new();
        for in_flight in LEVELS {
            let measured = Duration::from_secs(seconds);
            let warm_up = Duration::from_secs(1);
            let (mut directs, mut edges) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Swapping the order each round cancels a steady drift of the machine's speed.
                if round % 2 == 0 {
                    directs.push(load(&direct_channels, Path::Direct, in_flight, warm_up, measured).await?);
                    edges.push(load(&edge_channels, Path::Edge, in_flight, warm_up, measured).await?);
                } else {
                    edges.push(load(&edge_channels, Path::Edge, in_flight, warm_up, measured).await?);
                    directs.push(load(&direct_channels, Path::Direct, in_flight, warm_up, measured).await?);
                }
            }
            let rounds_overhead: Vec<f64> = directs
                .iter()
                .zip(&edges)
                .map(|(direct, edge)| rate_overhead(direct, edge))
                .collect();
            let (direct, edge) = (Run::pooled(&directs), Run::pooled(&edges));
            let p50_overhead = 100.0
                * (edge.percentile(50).as_secs_f64() / direct.percentile(50).as_secs_f64() - 1.0);
            let mean_overhead =
                100.0 * (edge.mean().as_secs_f64() / direct.mean().as_secs_f64() - 1.0);
            println!(
                "{in_flight:>9} | {:>10.2?} {:>10.2?} {:>10.2?} {:>10.0} | {:>10.2?} {:>10.2?} {:>10.2?} {:>10.0} | {:>8.1}% {:>8.1}% {:>8.1}%",
                direct.percentile(50),
                direct.mean(),
                direct.percentile(99),
                direct.rate(),
                edge.percentile(50),
                edge.mean(),
                edge.percentile(99),
                edge.rate(),
                p50_overhead,
                mean_overhead,
                rate_overhead(&direct, &edge),
            );
            by_round.push((in_flight, rounds_overhead));
        }
        println!("\nfewer calls/s through the edge, round by round, and the median of the rounds");
        for (in_flight, overheads) in by_round {
            let each: Vec<String> = overheads.iter().map(|o| format!("{o:.1}%")).collect();
            println!(
                "{in_flight:>9} | {} | median {:.1}%",
                each.join(" "),
                median(overheads)
            );
        }
        anyhow::Ok(())
    })?;
    Ok(())
}
