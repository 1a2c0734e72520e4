//! GroupCases throughput over loopback gRPC: a real server on 127.0.0.1, a real client, the
//! scheme given by `MEDPAY_BENCH_SCHEME` (a scheme folder) or the national scheme beside the
//! checkout, else the demo scheme. Prints cases per second.
//!
//! `cargo bench -p grouping-service --bench grpc_stream`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use grouping_service::catalog::{LoadedScheme, SchemeCatalog};
use grouping_service::store::RegistryStore;
use grouping_service::{GroupingApi, Migrator};
use kernel::Principal;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use sea_orm_migration::MigratorTrait;

const CASES: usize = 400_000;

fn scheme_and_cases() -> (LoadedScheme, Vec<pb::CaseInput>) {
    let dir = std::env::var("MEDPAY_BENCH_SCHEME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemes/chs-drg-1.1")
        });
    let examples = std::fs::read_to_string(dir.join("examples.csv")).ok();
    match (LoadedScheme::drg_from_dir(&dir), examples) {
        (Ok(scheme), Some(examples)) => {
            let cases = examples
                .lines()
                .skip(1)
                .map(|line| {
                    let f: Vec<&str> = line.split(',').collect();
                    pb::CaseInput {
                        case_id: f[0].to_owned(),
                        gender: f[1].to_owned(),
                        age_years: f[2].to_owned(),
                        age_days: f[3].to_owned(),
                        weight_grams: f[4].to_owned(),
                        department: f[5].to_owned(),
                        diagnoses: f[8].split('|').map(str::to_owned).collect(),
                        procedures: if f[9].is_empty() {
                            Vec::new()
                        } else {
                            f[9].split('|').map(str::to_owned).collect()
                        },
                        ..Default::default()
                    }
                })
                .collect();
            (scheme, cases)
        }
        _ => {
            eprintln!("{} not found: using the demo scheme", dir.display());
            let scheme = LoadedScheme::demo().expect("demo scheme loads");
            let case = pb::CaseInput {
                case_id: "demo".into(),
                gender: "1".into(),
                age_years: "35".into(),
                diagnoses: vec!["K35.800".into(), "J96.000".into()],
                procedures: vec!["47.0100".into()],
                ..Default::default()
            };
            (scheme, vec![case])
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (scheme, cases) = scheme_and_cases();
        let key = scheme.summary.key.clone();
        let db = platform::db::connect("sqlite::memory:").await.expect("sqlite");
        Migrator::up(&db, None).await.expect("migrate");
        let catalog = SchemeCatalog::default();
        catalog.insert(scheme);
        let api = GroupingApi::new(RegistryStore::new(db), Arc::new(catalog));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(api.into_server())
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let messages: Vec<pb::GroupCasesRequest> = (0..CASES)
            .map(|i| pb::GroupCasesRequest {
                region_code: if i == 0 { "460000".into() } else { String::new() },
                scheme_id: if i == 0 { key.id.clone() } else { String::new() },
                scheme_version: if i == 0 { key.version.clone() } else { String::new() },
                case: Some(cases[i % cases.len()].clone()),
                map_codes: false,
            })
            .collect();
        let mut request = tonic::Request::new(tokio_stream::iter(messages));
        platform::set_principal(
            request.metadata_mut(),
            &Principal {
                caller_id: "bench".into(),
                scopes: vec!["460000".parse().expect("code")],
                roles: vec![],
                institution: None,
            },
        )
        .expect("ascii");
        let started = Instant::now();
        let mut responses = GroupingServiceClient::new(channel)
            .group_cases(request)
            .await
            .expect("stream")
            .into_inner();
        let mut received = 0usize;
        while let Some(response) = tokio_stream::StreamExt::next(&mut responses).await {
            response.expect("response");
            received += 1;
        }
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(received, CASES);
        println!(
            "GroupCases over loopback gRPC ({} {}): {CASES} cases in {seconds:.2} s = {:.0} cases/s",
            key.id,
            key.version,
            CASES as f64 / seconds
        );
    });
}
