//! ValueCases throughput over loopback gRPC: a real server on 127.0.0.1 with a table put and
//! activated through the API, a real client streaming DRG cases of every case type.
//!
//! `cargo bench -p points-service --bench value_stream`

use std::time::Instant;

use kernel::FundType;
use medpay_proto::common::v1::{Date, Money};
use medpay_proto::points::v1 as pb;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use points_domain::tables::DrgGroupRate;
use points_domain::{SchemeKind, ValuationPolicy, ValuationTables};
use points_service::store::TableStore;
use points_service::{Migrator, PointsApi};

const CASES: usize = 400_000;

/// On-CPU seconds of every thread of this process so far (Linux schedstat), so that a figure on a
/// shared machine can be told apart from time spent waiting for a core; `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let mut nanos = 0f64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        nanos += text.split_whitespace().next()?.parse::<f64>().ok()?;
    }
    Some(nanos / 1e9)
}

fn bureau<T>(message: T) -> tonic::Request<T> {
    platform::testing::as_caller(message, "bench", "460000", &["bureau"])
}

fn document() -> String {
    let region = "460000".parse().expect("region");
    let mut policy = ValuationPolicy::new(region, 2025, FundType::Employee);
    policy.main_method = SchemeKind::Drg;
    let mut tables = ValuationTables::new(region, 2025, FundType::Employee);
    tables.drg.all_case_mean_cost = "10000".parse().expect("money");
    for (group, mean, base) in [
        ("GB11", "15000", "150"),
        ("FR13", "8000", "80"),
        ("RB13", "40000", "400"),
    ] {
        tables.drg.groups.insert(
            group.into(),
            DrgGroupRate {
                mean_cost: mean.parse().expect("money"),
                base_points: base.parse().expect("points"),
                stable: true,
                per_diem_points: None,
            },
        );
    }
    serde_json::json!({ "policy": policy, "tables": tables }).to_string()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = TableStore::new(platform::testing::sqlite::<Migrator>().await);
        let channel = platform::testing::serve(tonic::service::Routes::new(
            PointsApi::new(store).into_server(),
        ))
        .await;
        let mut client = PointsServiceClient::new(channel);
        let put = client
            .put_table(bureau(pb::PutTableRequest {
                request_id: "bench-put".into(),
                region_code: "460000".into(),
                year: 2025,
                fund_type: 310,
                document_json: document(),
                document: None,
            }))
            .await
            .expect("put")
            .into_inner();
        client
            .activate_table(bureau(pb::ActivateTableRequest {
                request_id: "bench-activate".into(),
                region_code: "460000".into(),
                year: 2025,
                fund_type: 310,
                version: put.table.expect("table").version,
                effective_from: Some(Date {
                    year: 2025,
                    month: 1,
                    day: 1,
                }),
            }))
            .await
            .expect("activate");
        let groups = ["GB11", "FR13", "RB13"];
        let costs = ["15000", "40000", "5000", "9000.50", "120000"];
        let messages: Vec<pb::ValueCasesRequest> = (0..CASES)
            .map(|i| pb::ValueCasesRequest {
                region_code: if i == 0 {
                    "460000".into()
                } else {
                    String::new()
                },
                year: if i == 0 { 2025 } else { 0 },
                case: Some(pb::CaseForValuation {
                    case_id: format!("c{i}"),
                    hospital_code: format!("H{}", i % 50),
                    hospital_level: "2A".into(),
                    fund_type: 310,
                    group_code: groups[i % groups.len()].into(),
                    adrg: groups[i % groups.len()][..3].into(),
                    group_status: "SUCCESS".into(),
                    principal_diagnosis: "K25.000".into(),
                    total_cost: Some(Money {
                        yuan: costs[i % costs.len()].into(),
                    }),
                    individual_burden: Some(Money {
                        yuan: "1000".into(),
                    }),
                    admission_date: Some(Date {
                        year: 2025,
                        month: 3,
                        day: 1,
                    }),
                    discharge_date: Some(Date {
                        year: 2025,
                        month: 3,
                        day: 6,
                    }),
                    discharge_type: "1".into(),
                    medical_type: "住院".into(),
                    department: "A03".into(),
                    ..Default::default()
                }),
            })
            .collect();
        let cpu_before = process_cpu_seconds();
        let started = Instant::now();
        let mut responses = client
            .value_cases(bureau(tokio_stream::iter(messages)))
            .await
            .expect("stream")
            .into_inner();
        let (mut valued, mut failed) = (0usize, 0usize);
        while let Some(response) = tokio_stream::StreamExt::next(&mut responses).await {
            let response = response.expect("response");
            if response.valuation.is_some() {
                valued += 1;
            } else {
                failed += 1;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let cpu = process_cpu_seconds()
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        assert_eq!(valued + failed, CASES);
        assert_eq!(failed, 0, "every bench case is valid");
        println!(
            "ValueCases over loopback gRPC: {CASES} cases in {seconds:.2} s = {:.0} cases/s",
            CASES as f64 / seconds
        );
        if let Some(cpu) = cpu {
            // Client and server share this process: this is both sides' CPU.
            println!(
                "  on-CPU {cpu:.2} s (client and server) = {:.0} cases per CPU-second",
                CASES as f64 / cpu
            );
        }
    });
}
