//! SubmitCases throughput into PostgreSQL over loopback gRPC: a real settlement server on
//! 127.0.0.1 storing into a fresh PostgreSQL schema, a real client streaming inpatient settlement
//! lists of 50 hospitals. Valuation goes through the in-process fake peer (`FakeValuer`), so the
//! figure is intake's own cost: reading, validating, deciding, storing.
//!
//! The same lists are sent once as JSON (`settlement_list_json`) and once typed
//! (`settlement_list`), each into a fresh schema, so the two forms' figures compare.
//!
//! `cargo bench -p settlement-service --bench intake` (PostgreSQL from `TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; `INTAKE_BENCH_CASES` overrides the case count,
//! `INTAKE_BENCH_FORMS` the forms measured: `json,typed` by default). `INTAKE_BENCH_UPLOAD` splits
//! the cases into uploads of that many, one after the other, each printed (the ledger's growth
//! shows as a falling rate); the lists are generated as they are sent, so ten million fit in
//! memory. The settlement tables' size on disk is printed at the end.

use std::time::Instant;

use kernel::Principal;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use rust_decimal_macros::dec;
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;
use settlement_domain::case::SettlementList;
use settlement_service::convert::lists::list_to_wire;
use settlement_service::store::institutions::{self, AgreementRow, InstitutionRow};
use settlement_service::store::ledger::CaseStore;

#[path = "../tests/support/mod.rs"]
mod support;
use settlement_service::{Migrator, SettlementApi};
use support::{FakeValuer, sample_list_json};

const HOSPITALS: usize = 50;

fn caller<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let principal = Principal {
        caller_id: "bench".into(),
        scopes: vec!["460000".parse().expect("code")],
        roles: vec!["bureau".into()],
        institution: None,
    };
    platform::set_principal(request.metadata_mut(), &principal).expect("ascii");
    request
}

fn main() {
    let cases: usize = std::env::var("INTAKE_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let forms = std::env::var("INTAKE_BENCH_FORMS").unwrap_or_else(|_| "json,typed".to_owned());
    for form in forms.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let typed = match form {
            "json" => false,
            "typed" => true,
            other => panic!("INTAKE_BENCH_FORMS: {other:?} is neither json nor typed"),
        };
        bench(cases, typed);
    }
}

/// Message `i` of the upload that starts at list `first`: the first carries the upload's request
/// id and region.
fn message(i: usize, first: usize, typed: bool) -> pb::SubmitCasesRequest {
    let opens = i == first;
    pb::SubmitCasesRequest {
        request_id: if opens {
            format!("bench-{first}")
        } else {
            String::new()
        },
        region_code: if opens {
            "460100".into()
        } else {
            String::new()
        },
        case_json: String::new(),
        record: Some(record(i, typed)),
    }
}

/// The record of list `i` in the form measured.
fn record(i: usize, typed: bool) -> pb::SubmitRecord {
    let day = format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
    let json = sample_list_json(
        "460108",
        &format!("H{:03}", i % HOSPITALS),
        &format!("L{i:08}"),
        &day,
        "BA1",
    );
    let record = if typed {
        let list: SettlementList = serde_json::from_str(&json).expect("sample");
        pb::submit_record::Record::SettlementList(list_to_wire(&list))
    } else {
        pb::submit_record::Record::SettlementListJson(json)
    };
    pb::SubmitRecord {
        record: Some(record),
    }
}

fn bench(cases: usize, typed: bool) {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let form = if typed { "typed" } else { "json" };
        let schema = format!("bench_intake_{form}_{}", std::process::id());
        let admin = platform::db::connect(&url).await.expect("postgres");
        admin
            .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .expect("schema");
        let db = platform::db::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        for h in 0..HOSPITALS {
            let code = format!("H{h:03}");
            institutions::put_institution(
                &db,
                &InstitutionRow {
                    code: code.clone(),
                    name: code.clone(),
                    region: "460108".parse().expect("region"),
                    level: "3A".into(),
                    institution_type: "general".into(),
                    alliance_code: String::new(),
                    effective_from: 20200101,
                    reason: String::new(),
                },
                "bench",
            )
            .await
            .expect("institution");
            institutions::put_agreement(
                &db,
                "460000".parse().expect("region"),
                &code,
                &AgreementRow {
                    agreement_id: "A".into(),
                    valid_from: 20250101,
                    valid_to: 20251231,
                    status: "active".into(),
                },
                "",
                "bench",
            )
            .await
            .expect("agreement");
        }
        let api = SettlementApi::new(CaseStore::new(db.clone()))
            .with_valuer(FakeValuer::new(dec!(1.2345)));
        let channel =
            platform::testing::serve(tonic::service::Routes::new(api.into_server())).await;
        let mut client = SettlementServiceClient::new(channel);
        let upload: usize = std::env::var("INTAKE_BENCH_UPLOAD")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(cases);
        // Built up front for one upload (the figure is then intake's alone); generated as sent
        // for several, so that millions of lists need not be held at once.
        let mut one_upload: Option<Vec<pb::SubmitCasesRequest>> =
            (upload >= cases).then(|| (0..cases).map(|i| message(i, 0, typed)).collect());
        let started = Instant::now();
        let mut sent = 0;
        let mut upload_index = 0;
        while sent < cases {
            let end = (sent + upload).min(cases);
            let upload_started = Instant::now();
            let start = sent;
            let messages: Box<dyn Iterator<Item = pb::SubmitCasesRequest> + Send> =
                match one_upload.take() {
                    Some(messages) => Box::new(messages.into_iter()),
                    None => Box::new((start..end).map(move |i| message(i, start, typed))),
                };
            let request = client.submit_cases(caller(tokio_stream::iter(messages)));
            let outcome = request
                .await
                .expect("upload")
                .into_inner()
                .outcome
                .expect("outcome");
            assert_eq!(
                outcome.accepted as usize,
                end - start,
                "{:?}",
                outcome.rejections.first()
            );
            if upload < cases {
                let took = upload_started.elapsed().as_secs_f64();
                println!(
                    "  upload {upload_index}: cases {start}..{end} in {took:.2} s = {:.0} cases/s",
                    (end - start) as f64 / took
                );
            }
            sent = end;
            upload_index += 1;
        }
        let elapsed = started.elapsed();
        println!(
            "intake ({form}): {cases} cases streamed and stored in {:.2} s = {:.0} cases/s (PostgreSQL, fake in-process valuation)",
            elapsed.as_secs_f64(),
            cases as f64 / elapsed.as_secs_f64()
        );
        let size = admin
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!(
                    "SELECT SUM(pg_total_relation_size(c.oid))::bigint FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = '{schema}' AND c.relkind = 'r' AND c.relname LIKE 'settlement_%'"
                ),
            ))
            .await
            .expect("size")
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        println!(
            "  settlement tables: {size} bytes, {:.0} bytes a case",
            size as f64 / cases as f64
        );
        db.close().await.expect("close");
        admin
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .expect("drop schema");
    });
}
