//! SubmitCases end to end: the release `medpay up` binary, every context in one process, on a
//! fresh PostgreSQL database; each accepted list is grouped (the demo DRG scheme) and valued (a
//! points table put and activated over the API) through the server's own internal services over
//! loopback gRPC, then stored. A client streams inpatient lists of 50 hospitals and the figure
//! is from the first message sent to the answer received.
//!
//! `cargo bench -p integration-tests --bench intake_end_to_end`: PostgreSQL from
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`), on whose server a
//! database is created for the run and dropped after, with the `psql` client;
//! `INTAKE_BENCH_CASES` sets the number of lists (default 100,000).

use std::process::Command;
use std::time::Instant;

use integration_tests::{Medpay, put_and_activate_table, register_institution};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;

const HOSPITALS: usize = 50;

/// A one-day appendectomy stay (GD15 in the demo scheme) of 12,000 yuan.
fn list_json(hospital: &str, list_id: &str, day: &str) -> String {
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital}","hospital_level":"3A","insutype":310,"psn_no":"P{list_id}","case_number":"BA1","declared_at":"{day} 18:00:00","pooling_region":"460108"}},"patient":{{"sex":2,"birth_date":"1990-03-01","age_years":35}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{day} 08:30","admission_department":"general_surgery","discharged_at":"{day} 17:00","discharge_department":"general_surgery","discharge_type":1}},"diagnoses":[{{"code":"K35.800","name":"acute appendicitis","admission_condition":1}},{{"code":"I10.x00","name":"hypertension","admission_condition":1}}],"procedures":[{{"code":"47.0100","name":"appendectomy","date":"{day}"}}],"charges":[{{"category":"surgery","amount":"7000.00"}},{{"category":"western_drugs","amount":"3000.00"}},{{"category":"bed","amount":"2000.00"}}],"payment":{{"medfee_sumamt":"12000.00","hifp_pay":"9000.00","acct_pay":"1000.00","psn_cash_pay":"2000.00"}}}}"#
    )
}

fn table_document() -> String {
    serde_json::json!({
        "policy": {"region": "460108", "year": 2025, "fund_type": "310", "main_method": "drg"},
        "tables": {
            "region": "460108",
            "year": 2025,
            "fund_type": "310",
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

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let status = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .status()?;
    anyhow::ensure!(status.success(), "psql failed on: {sql}");
    Ok(())
}

async fn prepare(server: &Medpay) -> anyhow::Result<()> {
    let channel = server.channel().await?;
    let mut settlement = SettlementServiceClient::new(channel.clone());
    for h in 0..HOSPITALS {
        register_institution(&mut settlement, &format!("H{h:03}"), "460108", "3A").await?;
    }
    put_and_activate_table(channel, "460108", table_document()).await?;
    Ok(())
}

async fn measure(server: &Medpay, cases: usize) -> anyhow::Result<()> {
    prepare(server).await?;
    let messages: Vec<settlement::SubmitCasesRequest> = (0..cases)
        .map(|i| {
            let day = format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
            settlement::SubmitCasesRequest {
                request_id: if i == 0 {
                    "bench".into()
                } else {
                    String::new()
                },
                region_code: if i == 0 {
                    "460100".into()
                } else {
                    String::new()
                },
                case_json: String::new(),
                record: Some(settlement::SubmitRecord {
                    record: Some(settlement::submit_record::Record::SettlementListJson(
                        list_json(&format!("H{:03}", i % HOSPITALS), &format!("L{i:08}"), &day),
                    )),
                }),
            }
        })
        .collect();
    let mut client = SettlementServiceClient::new(server.channel().await?);
    let started = Instant::now();
    let outcome = client
        .submit_cases(tokio_stream::iter(messages))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        outcome.accepted as usize == cases,
        "accepted {} of {cases}: {:?}",
        outcome.accepted,
        outcome.rejections.first()
    );
    // The cases were really grouped and valued.
    let sample = client
        .list_cases(settlement::ListCasesRequest {
            region_code: "460100".into(),
            hospital_code: "H007".into(),
            page_size: 20,
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    anyhow::ensure!(
        !sample.is_empty()
            && sample
                .iter()
                .all(|c| c.status == "valued" && c.group_code == "GD15"),
        "cases are not valued: {:?}",
        sample.first()
    );
    println!(
        "intake end to end: {cases} lists streamed, grouped, valued and stored in {elapsed:.2} s = {:.0} cases/s (medpay up on PostgreSQL)",
        cases as f64 / elapsed
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cases: usize = std::env::var("INTAKE_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let (server_url, _) = url
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("{url} names no database"))?;
    let database = format!("medpay_intake_bench_{}", std::process::id());
    psql(&url, &format!("CREATE DATABASE {database}"))?;
    let result = Medpay::up_on(
        &format!("{server_url}/{database}"),
        "[telemetry]\nlog_filter = \"warn\"\n",
    )
    .and_then(|server| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let measured = runtime.block_on(measure(&server, cases));
        drop(server);
        measured
    });
    psql(&url, &format!("DROP DATABASE {database}"))?;
    result
}
