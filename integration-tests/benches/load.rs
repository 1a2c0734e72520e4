//! Sustained load on the release `medpay up` binary over loopback: `LOAD_CLIENTS` county
//! clients upload batches of lists (`SubmitCaseBatch`, each list grouped with the demo DRG scheme
//! and valued through the server's own internal services, then stored) for `LOAD_SECONDS`, then
//! as many clients read for as long (`GetCase` of a stored list and `ListCases` pages of 50,
//! alternately). Prints throughput and p50/p99 latency of each, the server process's resident
//! memory (VmRSS and its peak VmHWM from /proc), and on PostgreSQL settlement's bytes per stored
//! case (`pg_total_relation_size` of every `settlement_*` table, indexes and TOAST included,
//! over the cases stored).
//!
//! `cargo bench -p integration-tests --bench load`: SQLite in a temporary folder; with
//! `MEDPAY_LOAD_POSTGRES` set, PostgreSQL too, on a database created for the run on the server of
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and dropped after.
//! `LOAD_SECONDS` (default 20) bounds each phase, `LOAD_CLIENTS` (4) and `LOAD_BATCH` (50 lists
//! per upload) shape it.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use integration_tests::{Medpay, put_and_activate_table, register_institution};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::transport::Channel;

const COUNTY: &str = "460108";
const HOSPITALS: usize = 20;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A stay discharged in 2025 whose diagnoses and cost vary with `n`: appendectomy with or
/// without a complication (GD15, GD13), 8,000 to 20,000 yuan.
fn list_json(hospital: &str, list_id: &str, n: u64) -> String {
    let day = format!("2025-{:02}-{:02}", 1 + n % 12, 1 + n % 28);
    let secondary = if n.is_multiple_of(3) {
        r#",{"code":"J18.900","name":"pneumonia","admission_condition":1}"#
    } else {
        ""
    };
    let total = 8_000 + (n * 37) % 12_000;
    let fund = total * 3 / 4;
    let cash = total - fund;
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital}","hospital_level":"3A","insutype":310,"psn_no":"P{n}","case_number":"BA{n}","declared_at":"{day} 18:00:00","pooling_region":"{COUNTY}"}},"patient":{{"sex":2,"birth_date":"1990-03-01","age_years":35}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{day} 08:30","admission_department":"general_surgery","discharged_at":"{day} 17:00","discharge_department":"general_surgery","discharge_type":1}},"diagnoses":[{{"code":"K35.800","name":"acute appendicitis","admission_condition":1}}{secondary}],"procedures":[{{"code":"47.0100","name":"appendectomy","date":"{day}"}}],"charges":[{{"category":"surgery","amount":"{total}.00"}}],"payment":{{"medfee_sumamt":"{total}.00","hifp_pay":"{fund}.00","acct_pay":"0.00","psn_cash_pay":"{cash}.00"}}}}"#
    )
}

fn table_document() -> String {
    serde_json::json!({
        "policy": {"region": COUNTY, "year": 2025, "fund_type": "310", "main_method": "drg"},
        "tables": {
            "region": COUNTY, "year": 2025, "fund_type": "310",
            "drg": {
                "all_case_mean_cost": "10000",
                "groups": {
                    "GD15": {"mean_cost": "12000", "base_points": "100"},
                    "GD13": {"mean_cost": "15000", "base_points": "150"},
                },
            },
        },
    })
    .to_string()
}

fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .args([url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "psql failed on: {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// VmRSS and VmHWM of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or_default()
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn report(what: &str, mut latencies: Vec<Duration>, items: u64, elapsed: Duration) {
    latencies.sort_unstable();
    println!(
        "  {what}: {items} in {:.1} s = {:.0}/s; {} calls, latency p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        items as f64 / elapsed.as_secs_f64(),
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
}

struct Load {
    seconds: u64,
    clients: u64,
    batch: u64,
}

/// Upload phase: each client sends batches until the time is up. Returns the lists stored.
async fn intake(channel: &Channel, load: &Load) -> anyhow::Result<u64> {
    let stored = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(load.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..load.clients {
        let mut intake = SettlementServiceClient::new(channel.clone());
        let stored = stored.clone();
        let batch = load.batch;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut upload = 0_u64;
            while Instant::now() < deadline {
                let records = (0..batch)
                    .map(|i| {
                        let n = (client << 40) | (upload * batch + i);
                        let hospital = format!("H{:03}", n as usize % HOSPITALS);
                        settlement::SubmitRecord {
                            record: Some(settlement::submit_record::Record::SettlementListJson(
                                list_json(&hospital, &format!("C{client}U{upload}N{i}"), n),
                            )),
                        }
                    })
                    .collect();
                let request = settlement::SubmitCaseBatchRequest {
                    request_id: format!("load-{client}-{upload}"),
                    region_code: COUNTY.into(),
                    records,
                };
                let sent = Instant::now();
                let outcome = intake
                    .submit_case_batch(request)
                    .await?
                    .into_inner()
                    .outcome
                    .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
                latencies.push(sent.elapsed());
                anyhow::ensure!(
                    outcome.rejected == 0,
                    "lists refused: {:?}",
                    outcome.rejections.first()
                );
                stored.fetch_add(outcome.accepted, Ordering::Relaxed);
                upload += 1;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let stored = stored.load(Ordering::Relaxed);
    report(
        &format!("intake (SubmitCaseBatch of {})", load.batch),
        latencies,
        stored,
        started.elapsed(),
    );
    Ok(stored)
}

/// Query phase: each client alternates GetCase of a list it stored and a ListCases page.
async fn queries(channel: &Channel, load: &Load) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(load.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..load.clients {
        let mut reads = SettlementServiceClient::new(channel.clone());
        let batch = load.batch;
        tasks.push(tokio::spawn(async move {
            let (mut gets, mut lists) = (Vec::new(), Vec::new());
            let mut n = 0_u64;
            while Instant::now() < deadline {
                // Uploads 0..2 of every client were stored in any run longer than a moment.
                let (upload, i) = ((n / batch) % 2, n % batch);
                let list = client << 40 | (upload * batch + i);
                let sent = Instant::now();
                let case = reads
                    .get_case(settlement::GetCaseRequest {
                        region_code: COUNTY.into(),
                        hospital_code: format!("H{:03}", list as usize % HOSPITALS),
                        list_id: format!("C{client}U{upload}N{i}"),
                    })
                    .await?;
                gets.push(sent.elapsed());
                drop(case);
                let sent = Instant::now();
                let page = reads
                    .list_cases(settlement::ListCasesRequest {
                        region_code: COUNTY.into(),
                        hospital_code: format!("H{:03}", n as usize % HOSPITALS),
                        page_size: 50,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                lists.push(sent.elapsed());
                anyhow::ensure!(!page.cases.is_empty(), "an empty page");
                n += 1;
            }
            Ok::<_, anyhow::Error>((gets, lists))
        }));
    }
    let (mut gets, mut lists) = (Vec::new(), Vec::new());
    for task in tasks {
        let (g, l) = task.await??;
        gets.extend(g);
        lists.extend(l);
    }
    let elapsed = started.elapsed();
    let (g, l) = (gets.len() as u64, lists.len() as u64);
    report("GetCase", gets, g, elapsed);
    report("ListCases (pages of 50)", lists, l, elapsed);
    Ok(())
}

async fn run(server: &Medpay, load: &Load, database: Option<&str>) -> anyhow::Result<()> {
    let channel = server.channel().await?;
    let mut intake_client = SettlementServiceClient::new(channel.clone());
    for h in 0..HOSPITALS {
        register_institution(&mut intake_client, &format!("H{h:03}"), COUNTY, "3A").await?;
    }
    put_and_activate_table(channel.clone(), COUNTY, table_document()).await?;
    let pid = server
        .pid()
        .ok_or_else(|| anyhow::anyhow!("the server is not running"))?;
    let (rss, _) = memory(pid);
    println!("  server RSS at start: {rss:.0} MiB");
    let stored = intake(&channel, load).await?;
    let (rss, hwm) = memory(pid);
    println!("  server RSS after intake: {rss:.0} MiB (peak {hwm:.0} MiB)");
    queries(&channel, load).await?;
    let (rss, hwm) = memory(pid);
    println!("  server RSS after queries: {rss:.0} MiB (peak {hwm:.0} MiB)");
    if let Some(url) = database {
        psql(url, "VACUUM ANALYZE")?;
        let cases: u64 = psql(url, "SELECT count(*) FROM settlement_case")?.parse()?;
        let bytes: u64 = psql(
            url,
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname LIKE 'settlement\\_%'",
        )?
        .parse()?;
        println!(
            "  settlement tables: {bytes} bytes for {cases} case rows ({stored} lists stored) = {:.0} bytes per case",
            bytes as f64 / cases.max(1) as f64
        );
    }
    Ok(())
}

fn measure(server: Medpay, load: &Load, database: Option<&str>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(&server, load, database));
    drop(server);
    result
}

fn main() -> anyhow::Result<()> {
    let load = Load {
        seconds: env_number("LOAD_SECONDS", 20),
        clients: env_number("LOAD_CLIENTS", 4).max(1),
        batch: env_number("LOAD_BATCH", 50).max(1),
    };
    let config = "[telemetry]\nlog_filter = \"warn\"\n";
    println!(
        "load: {} clients, {} s per phase, batches of {} ({} cores)",
        load.clients,
        load.seconds,
        load.batch,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("medpay up on SQLite:");
    measure(Medpay::up(config)?, &load, None)?;
    if std::env::var_os("MEDPAY_LOAD_POSTGRES").is_some() {
        let url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let (server_url, _) = url
            .rsplit_once('/')
            .ok_or_else(|| anyhow::anyhow!("{url} names no database"))?;
        let database = format!("medpay_load_bench_{}", std::process::id());
        psql(&url, &format!("CREATE DATABASE {database}"))?;
        let database_url = format!("{server_url}/{database}");
        println!("medpay up on PostgreSQL:");
        let result = Medpay::up_on(&database_url, config)
            .and_then(|server| measure(server, &load, Some(&database_url)));
        psql(&url, &format!("DROP DATABASE {database} WITH (FORCE)"))?;
        result?;
    }
    Ok(())
}
