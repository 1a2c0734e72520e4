//! One cheap unary read over loopback, one call at a time: `GetCase` of a stored case against the
//! `medpay up` binary (SQLite), 1,000 calls after 50 to warm up. Sequential small calls are what a
//! server with Nagle's algorithm on its accepted sockets slows by the peer's delayed ACK.
//!
//! `cargo bench -p integration-tests --bench unary_latency` (the release binary);
//! `MEDPAY_BIN` measures another build; `UNARY_BENCH_CALLS` sets the number of calls.

use std::time::{Duration, Instant};

use integration_tests::{
    Medpay, config_with_county_key, list_json, put_and_activate_table, register_institution,
    table_document,
};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;

const WARM_UP: usize = 50;

fn percentile(sorted: &[Duration], per_cent: usize) -> Duration {
    let index = (sorted.len() * per_cent / 100).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::var("UNARY_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let server = Medpay::up(&config_with_county_key())?;
    let mut client = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut client, "H46010801", "460108", "3A").await?;
    put_and_activate_table(server.channel().await?, "460108", table_document()).await?;
    let outcome = client
        .submit_cases(tokio_stream::iter([settlement::SubmitCasesRequest {
            request_id: "latency-upload".into(),
            region_code: "460108".into(),
            case_json: String::new(),
            record: Some(settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    list_json("H46010801", "S1", "2025-03-10", "BA1"),
                )),
            }),
        }]))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    anyhow::ensure!(
        outcome.accepted == 1,
        "the case was not stored: {outcome:?}"
    );

    let request = settlement::GetCaseRequest {
        region_code: "460108".into(),
        hospital_code: "H46010801".into(),
        list_id: "S1".into(),
    };
    let mut latencies = Vec::with_capacity(calls);
    for n in 0..WARM_UP + calls {
        let started = Instant::now();
        let versions = client
            .get_case(request.clone())
            .await?
            .into_inner()
            .versions;
        let elapsed = started.elapsed();
        anyhow::ensure!(versions.len() == 1, "GetCase answered {versions:?}");
        if n >= WARM_UP {
            latencies.push(elapsed);
        }
    }
    latencies.sort();
    let total: Duration = latencies.iter().sum();
    println!(
        "GetCase over loopback, {calls} sequential calls: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}, mean {:?}",
        percentile(&latencies, 50),
        percentile(&latencies, 90),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or_default(),
        total / u32::try_from(calls.max(1)).unwrap_or(u32::MAX),
    );
    server.stop()?;
    Ok(())
}
