//! Year-end clearing from the database: a Hainan DIP year of 1,000,000 current valued cases of
//! 200 hospitals with every payment mode present (DIP, basic-level, psychiatric, rehabilitation
//! and hospice per diem, day surgery, excluded stays, paid at cost), cleared with the
//! reimbursement-ratio point value: read, cleared, stored with 200 statements and the versions it
//! took recorded (one narrow `settlement_case_clearing` row per case, the ledger rows untouched),
//! in one transaction through the journal, as RunClearing does it. Target < 30 s on 2 cores.
//!
//! `cargo bench -p settlement-service --bench clearing` runs on a SQLite file, and also on
//! PostgreSQL when `MEDPAY_BENCH_DATABASE_URL` or `TEST_DATABASE_URL` is set.
//! `CLEARING_BENCH_CASES` overrides the case count. The clearing's own log line gives its phases:
//! reading the ledger, making the valued cases and the domain's input, the domain's computation,
//! storing the run and its statements, recording the cases it took (`mark_ms`).

#[path = "support/databases.rs"]
mod databases;

use settlement_domain::ledger::{LedgerStatus, RecordKind};
use std::time::Instant;

use kernel::{FundType, Money, Points};
use sea_orm::DatabaseConnection;
use settlement_service::runs::store::put_policy;
use settlement_service::runs::{ClearingOrder, RunError, clear};
use settlement_service::store::Database;
use settlement_service::store::journal::{Call, Fingerprint};
use settlement_service::store::ledger::LedgerCase;

const HOSPITALS: usize = 200;

fn case(index: usize) -> LedgerCase {
    let hospital = index % HOSPITALS;
    let n = i64::try_from(index / HOSPITALS).expect("index");
    // One case in five is paid in money, as in a Hainan year.
    let (mode, amount) = match n % 20 {
        0 => ("per_diem_psychiatric", Some(973_000 + n % 500)),
        1 => ("per_diem_rehabilitation", Some(612_000)),
        2 => ("per_diem_hospice", Some(455_000)),
        3 => ("day_surgery", Some(480_000)),
        4 => ("fee_for_service", Some(1_500_000 + n % 997)),
        5 if n % 3 == 0 => ("dip", Some(1_500_000 + n % 997)),
        6 => ("basic_level_disease", None),
        _ => ("dip", None),
    };
    LedgerCase {
        region: "460108".parse().expect("region"),
        hospital_code: format!("H{hospital:03}"),
        list_id: format!("L{n:07}"),
        version: 1,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        discharge_date: 20250101 + i32::try_from(n % 12 * 100 + n % 28).expect("day"),
        payment_mode: mode.into(),
        group_code: format!("GB{:02}", n % 60),
        points: Points::from_scaled(if amount.is_some() {
            0
        } else {
            5_000_000 + (n * 7_919) % 20_000_000
        }),
        total_cost: Money::from_fen(1_500_000 + n % 997),
        individual_burden: Money::from_fen(250_000 + n % 1_009),
        fund_amount: Money::from_fen(1_250_000 + n % 991),
        amount: amount.map(Money::from_fen),
        person_id: String::new(),
        admission_date: 0,
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

async fn bench(backend: &str, db: &DatabaseConnection, cases: usize) {
    println!("{backend}:");
    databases::seed_ledger(db, cases, case).await;
    put_policy(
        db,
        ("460100".parse().expect("region"), 2025, FundType::Employee),
        r#"{"clearing":{"point_value_basis":"reimbursement_ratio"}}"#,
        "Hainan DIP: settlement point value by the reimbursement ratio",
        "bench",
        1_760_000_000,
    )
    .await
    .expect("policy");
    let order = ClearingOrder {
        region: "460100".parse().expect("region"),
        year: 2025,
        fund: FundType::Employee,
        distributable_budget: Money::from_fen(i64::try_from(cases).expect("cases") * 1_100_000),
        skip_unvalued: false,
        reason: String::new(),
        caller: "bench".into(),
        at: 1_760_000_000,
        deductions: None,
        scores: None,
    };
    let audit = Call::with_fingerprint(
        "bench",
        "bench-clearing",
        "RunClearing",
        Fingerprint::of_parts("RunClearing", &[b"bench-clearing"]),
        Some(order.region),
    );
    let started = Instant::now();
    let done = Database::from(db.clone())
        .run_once(&audit, move |work| {
            Box::pin(async move {
                let run = clear(&work, &order, None).await?;
                Ok::<_, RunError>((run.statements_digest.clone().into_bytes(), run.run_id))
            })
        })
        .await
        .expect("clearing");
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "  clearing of a DIP year of {cases} cases with every mode / {HOSPITALS} hospitals: \
         {elapsed:.2} s (target < 30 s), digest {}",
        String::from_utf8_lossy(done.response())
    );
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "settlement_service::runs::clearing=info",
        ))
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .init();
    let cases: usize = std::env::var("CLEARING_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(databases::each_backend("clearing", async |backend, db| {
        bench(backend, db, cases).await
    }));
}
