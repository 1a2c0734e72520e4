//! Listing a prefecture's ledger of 1,000,000 current cases (three counties, 200 hospitals) page
//! by page: through the store (what ListCases runs per page), through ListCases over gRPC on
//! loopback with its page tokens, and as one ExportCases stream. Reported: cases per second and
//! page times at the start and the end of the walk, which keyset pages keep flat. Target
//! ≥ 100,000 cases/s. Then GetCase over the same loopback connection, one call at a time on cases
//! spread over the ledger: p50, p90, p99 (target p50 < 2 ms).
//!
//! `cargo bench -p settlement-service --bench listing` runs on a SQLite file, and also on
//! PostgreSQL when `MEDPAY_BENCH_DATABASE_URL` or `TEST_DATABASE_URL` is set.
//! `LISTING_BENCH_CASES` overrides the case count, `LISTING_BENCH_GETS` the GetCase calls (1,000);
//! `BENCH_BACKENDS=postgres` skips SQLite.

#[path = "support/databases.rs"]
mod databases;

use std::time::{Duration, Instant};

use kernel::{FundType, Money, Points};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use sea_orm::DatabaseConnection;
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::SettlementApi;
use settlement_service::store::ledger::{CaseFilter, CaseKey, CaseStore, LedgerCase, ListedCase};
use tokio_stream::StreamExt;

const HOSPITALS: usize = 200;
const COUNTIES: [&str; 3] = ["460105", "460106", "460108"];
const PAGE: u64 = 500;
/// Cases between two GetCase calls' cases: a prime, so the calls visit every hospital.
const GET_STRIDE: usize = 7_919;

fn case(index: usize) -> LedgerCase {
    let hospital = index % HOSPITALS;
    let n = i64::try_from(index / HOSPITALS).expect("index");
    LedgerCase {
        region: COUNTIES[hospital % COUNTIES.len()].parse().expect("region"),
        hospital_code: format!("H{hospital:03}"),
        list_id: format!("L{n:07}"),
        version: 1,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        // Every case in June, so that the export reads the whole ledger too.
        discharge_date: 20250601 + i32::try_from(n % 28).expect("day"),
        payment_mode: "drg".into(),
        group_code: format!("GB{:02}", n % 60),
        points: Points::from_scaled(5_000_000 + (n * 7_919) % 20_000_000),
        total_cost: Money::from_fen(1_500_000 + n % 997),
        individual_burden: Money::from_fen(250_000 + n % 1_009),
        fund_amount: Money::from_fen(1_250_000 + n % 991),
        amount: None,
        person_id: format!("P{:08}", n * 7 + i64::try_from(hospital).expect("hospital")),
        admission_date: 20250520,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Valued,
        valuation_error: String::new(),
        scheme_version: "demo@1".into(),
        table_version: "460100-2025-310@1".into(),
        valuation_json: "{}".into(),
        content_hash: format!("{hospital}-{n}"),
        case_json: "{}".into(),
        request_id: "seed".into(),
        stored_at: 1_700_000_000,
        head: None,
    }
}

/// Page times of one walk.
struct Walk {
    cases: usize,
    pages: Vec<Duration>,
    total: Duration,
}

impl Walk {
    fn report(&self, what: &str) {
        let mean = |pages: &[Duration]| {
            let sum: Duration = pages.iter().sum();
            sum.as_secs_f64() * 1_000.0 / pages.len().max(1) as f64
        };
        let tenth = (self.pages.len() / 10).max(1);
        let first = self.pages.first().copied().unwrap_or_default();
        let last = self.pages.last().copied().unwrap_or_default();
        let slowest = self.pages.iter().max().copied().unwrap_or_default();
        println!(
            "  {what}: {} cases in {} pages, {:.2} s, {:.0} cases/s (target >= 100,000); \
             page ms: first {:.2}, last {:.2}, mean of first tenth {:.2}, of last tenth {:.2}, \
             slowest {:.2}",
            self.cases,
            self.pages.len(),
            self.total.as_secs_f64(),
            self.cases as f64 / self.total.as_secs_f64(),
            first.as_secs_f64() * 1_000.0,
            last.as_secs_f64() * 1_000.0,
            mean(&self.pages[..tenth.min(self.pages.len())]),
            mean(&self.pages[self.pages.len().saturating_sub(tenth)..]),
            slowest.as_secs_f64() * 1_000.0,
        );
    }
}

async fn through_the_store(db: &DatabaseConnection) -> Walk {
    let store = CaseStore::new(db.clone());
    let region = "460100".parse().expect("region");
    let filter = CaseFilter::default();
    let mut after: Option<CaseKey> = None;
    let mut walk = Walk {
        cases: 0,
        pages: Vec::new(),
        total: Duration::ZERO,
    };
    let started = Instant::now();
    loop {
        let page_started = Instant::now();
        let rows = store
            .list_summaries(region, &filter, after.as_ref(), PAGE + 1)
            .await
            .expect("page");
        let more = rows.len() as u64 > PAGE;
        let rows = &rows[..rows.len().min(PAGE as usize)];
        after = rows.last().map(ListedCase::key);
        walk.pages.push(page_started.elapsed());
        walk.cases += rows.len();
        if !more {
            break;
        }
    }
    walk.total = started.elapsed();
    walk
}

fn agency<T>(message: T) -> tonic::Request<T> {
    platform::testing::as_caller(message, "bench", "460100", &["agency"])
}

async fn over_grpc(client: &mut SettlementServiceClient<tonic::transport::Channel>) -> Walk {
    let mut token = String::new();
    let mut walk = Walk {
        cases: 0,
        pages: Vec::new(),
        total: Duration::ZERO,
    };
    let started = Instant::now();
    loop {
        let page_started = Instant::now();
        let page = client
            .list_cases(agency(pb::ListCasesRequest {
                region_code: "460100".into(),
                page_size: i32::try_from(PAGE).expect("page"),
                page_token: token,
                ..Default::default()
            }))
            .await
            .expect("page")
            .into_inner();
        walk.pages.push(page_started.elapsed());
        walk.cases += page.cases.len();
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    walk.total = started.elapsed();
    walk
}

async fn export(client: &mut SettlementServiceClient<tonic::transport::Channel>) -> Walk {
    let mut walk = Walk {
        cases: 0,
        pages: Vec::new(),
        total: Duration::ZERO,
    };
    let started = Instant::now();
    let mut stream = client
        .export_cases(agency(pb::ExportCasesRequest {
            region_code: "460100".into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 6,
            }),
            ..Default::default()
        }))
        .await
        .expect("export")
        .into_inner();
    let mut chunk_started = Instant::now();
    while let Some(message) = stream.next().await {
        walk.cases += message.expect("chunk").cases.len();
        walk.pages.push(chunk_started.elapsed());
        chunk_started = Instant::now();
    }
    walk.total = started.elapsed();
    walk
}

/// GetCase for `calls` cases spread over the ledger, one call at a time.
async fn get_cases(
    client: &mut SettlementServiceClient<tonic::transport::Channel>,
    cases: usize,
    calls: usize,
) {
    let mut times = Vec::with_capacity(calls);
    for call in 0..calls {
        let index = (call * GET_STRIDE) % cases;
        let hospital = index % HOSPITALS;
        let started = Instant::now();
        let answer = client
            .get_case(agency(pb::GetCaseRequest {
                region_code: "460100".into(),
                hospital_code: format!("H{hospital:03}"),
                list_id: format!("L{:07}", index / HOSPITALS),
            }))
            .await
            .expect("case")
            .into_inner();
        times.push(started.elapsed());
        assert_eq!(answer.versions.len(), 1, "one version of case {index}");
    }
    times.sort();
    let at = |quantile: f64| {
        let rank = ((times.len() as f64 * quantile).ceil() as usize).clamp(1, times.len());
        times[rank - 1].as_secs_f64() * 1_000.0
    };
    println!(
        "  GetCase over loopback gRPC, {calls} calls one at a time: p50 {:.3} ms (target < 2), \
         p90 {:.3} ms, p99 {:.3} ms",
        at(0.50),
        at(0.90),
        at(0.99),
    );
}

async fn bench(backend: &str, db: &DatabaseConnection, cases: usize, gets: usize) {
    println!("{backend}:");
    databases::seed_ledger(db, cases, case).await;
    let store = through_the_store(db).await;
    assert_eq!(store.cases, cases, "every case listed");
    store.report("store, pages of 500");

    let api = SettlementApi::new(CaseStore::new(db.clone()));
    let channel = platform::testing::serve(tonic::service::Routes::new(api.into_server())).await;
    let mut client = SettlementServiceClient::new(channel)
        .max_decoding_message_size(settlement_service::grpc::MAX_MESSAGE_BYTES);
    let listed = over_grpc(&mut client).await;
    assert_eq!(listed.cases, cases, "every case listed");
    listed.report("ListCases over loopback gRPC, pages of 500");
    let exported = export(&mut client).await;
    assert_eq!(exported.cases, cases, "every case exported");
    exported.report("ExportCases over loopback gRPC, messages of 500");
    if gets > 0 && cases > 0 {
        get_cases(&mut client, cases, gets).await;
    }
}

fn main() {
    let cases: usize = std::env::var("LISTING_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let gets: usize = std::env::var("LISTING_BENCH_GETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(databases::each_backend("listing", async |backend, db| {
        bench(backend, db, cases, gets).await
    }));
}
