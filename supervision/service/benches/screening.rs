//! ScreenCases over a province-year: every rule of the library over 1,000,000 inpatient lists
//! with 20 fee lines each (20,000,000 lines), a month at a time as the bureau screens, with the
//! month before read for the rules across stays, findings stored on PostgreSQL
//! (`MEDPAY_BENCH_DATABASE_URL` or `TEST_DATABASE_URL`; SQLite in a temporary file without).
//! The lists come from a stub case source, so the figure is screening and storing, not reading
//! the ledger; the time the stub spends building lists is measured and taken out.
//!
//! `cargo bench -p supervision-service --bench screening`
//! (`SCREENING_CASES=100000` and `FEE_LINES_PER_CASE=20` change the size.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kernel::{DateTime, FundType, Money, Principal, RegionCode, YearMonth};
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_service_server::SupervisionService;
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;
use supervision_domain::{
    ChargeCategory, Diagnosis, DischargeType, FeeLine, InpatientList, SettlementKey, Sex,
};
use supervision_service::cases::{CaseSource, CaseSourceError};
use supervision_service::grpc::SCREENING_PHASES;
use supervision_service::store::SupervisionStore;
use supervision_service::{Migrator, SupervisionApi, Tables};
use tracing_subscriber::layer::SubscriberExt;

const HOSPITALS: u32 = 200;
/// Persons per month's lists: about one in eight comes back within the month.
const PERSON_SHARE: u32 = 8;

/// Items of the demo tables (code, category, unit price in fen): beds, nursing, exclusive
/// pairs, a package and its parts, substitutions, drugs and consumables, so every table-driven
/// rule has something to find.
const ITEMS: &[(&str, u8, i64)] = &[
    ("001101000010000", 1, 5_000),
    ("001102000010000", 2, 2_000),
    ("001201000010000", 7, 3_000),
    ("001202000010000", 7, 2_000),
    ("002503030010000", 4, 4_500),
    ("002501020000000", 4, 12_000),
    ("002501020010000", 4, 4_000),
    ("002501020020000", 4, 4_000),
    ("003107010010000", 5, 1_500),
    ("003107020010000", 5, 1_000),
    ("003105000010000", 5, 800),
    ("002201000010000", 3, 9_000),
    ("003302000020000", 5, 6_000),
    ("XB05BAA001", 9, 3_300),
    ("XJ01DDA001", 9, 5_600),
    ("MZ01", 8, 2_500),
];

const GROUPS: &[&str] = &["ES23", "FM19", "GB11", "KS19"];

fn at(month: YearMonth, day: u32, hour: u32) -> DateTime {
    format!(
        "{}-{:02}-{:02} {hour:02}:00",
        month.year(),
        month.month(),
        day
    )
    .parse()
    .expect("date")
}

fn list(month: YearMonth, n: u32, per_month: u32, lines: u32) -> InpatientList {
    let day = 1 + n % 20;
    let stay = 1 + n % 8;
    let fee_lines: Vec<FeeLine> = (0..lines)
        .map(|i| {
            let (code, category, fen) = ITEMS[((n + i * 7) as usize) % ITEMS.len()];
            let amount = Money::from_fen(fen);
            FeeLine {
                item_code: code.to_owned(),
                item_name: String::new(),
                category: ChargeCategory(category),
                quantity: 1.into(),
                unit_price: amount.value(),
                amount,
                in_policy_amount: amount,
                charged_at: at(month, day + i % stay, 9 + i % 8),
            }
        })
        .collect();
    let cost: i64 = fee_lines
        .iter()
        .map(|l| l.amount.to_scaled().unwrap_or(0))
        .sum::<i64>()
        + 300_000;
    let cost = Money::from_fen(cost);
    let person = (month.month() * per_month + n) / PERSON_SHARE * PERSON_SHARE + n % 2;
    InpatientList {
        key: SettlementKey::new(
            format!("H{:04}", n % HOSPITALS),
            format!("L{}-{n}", month.as_int()),
        ),
        fund_type: if n.is_multiple_of(3) {
            FundType::Employee
        } else {
            FundType::Resident
        },
        pooling_region: RegionCode::from_u32(460100 + (n % 4) * 100).expect("region"),
        hospital_level: ["1", "2", "3"][(n % 3) as usize].into(),
        person_id: format!("P{person}"),
        sex: if n.is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        },
        birth_date: "1960-01-01".parse().expect("date"),
        med_type: "2101".into(),
        department: format!("D{}", n % 12),
        admitted_at: at(month, day, 8),
        discharged_at: at(month, day + stay, 10),
        discharge_type: if n.is_multiple_of(97) {
            DischargeType::Death
        } else {
            DischargeType::Ordered
        },
        planned_readmission: false,
        diagnoses: vec![Diagnosis::new(if n.is_multiple_of(211) {
            "O80.000"
        } else {
            "J18.900"
        })],
        procedures: Vec::new(),
        drg: (!n.is_multiple_of(20)).then(|| GROUPS[(n % 4) as usize].to_owned()),
        dip_group: None,
        total_cost: cost,
        in_policy_amount: cost,
        fund_paid: Money::from_fen(cost.to_scaled().unwrap_or(0) * 7 / 10),
        individual_burden: Money::from_fen(cost.to_scaled().unwrap_or(0) * 3 / 10),
        full_self_pay: Money::ZERO,
        lines: fee_lines,
        line_totals: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Builds each month's lists on demand and keeps the time it spent.
struct Stub {
    per_month: u32,
    lines: u32,
    building: Mutex<Duration>,
}

#[async_trait::async_trait]
impl CaseSource for Stub {
    async fn inpatient_lists(
        &self,
        _: &Principal,
        _: RegionCode,
        month: YearMonth,
    ) -> Result<Vec<InpatientList>, CaseSourceError> {
        let started = Instant::now();
        let lists = (0..self.per_month)
            .map(|n| list(month, n, self.per_month, self.lines))
            .collect();
        if let Ok(mut building) = self.building.lock() {
            *building += started.elapsed();
        }
        Ok(lists)
    }
}

/// Sums the phase timings each run reports (`reading_s`, `rules_s`, `storing_s`).
#[derive(Clone, Default)]
struct Phases(Arc<Mutex<[f64; 3]>>);

const PHASE_FIELDS: [&str; 3] = ["reading_s", "rules_s", "storing_s"];

struct Sums<'a>(&'a mut [f64; 3]);

impl tracing::field::Visit for Sums<'_> {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if let Some(at) = PHASE_FIELDS.iter().position(|name| *name == field.name()) {
            self.0[at] += value;
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Phases {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == SCREENING_PHASES
            && let Ok(mut sums) = self.0.lock()
        {
            event.record(&mut Sums(&mut sums));
        }
    }
}

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn database() -> (
    sea_orm::DatabaseConnection,
    String,
    Option<(sea_orm::DatabaseConnection, String)>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let postgres = std::env::var("MEDPAY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok();
    if let Some(url) = postgres {
        let schema = format!("bench_screening_{}", std::process::id());
        let admin = platform::db::connect(&url).await.expect("postgres");
        admin
            .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .expect("schema");
        let db = platform::db::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        return (db, "postgres".into(), Some((admin, schema)), dir);
    }
    let url = platform::db::sqlite_url(&dir.path().join("screening.db"));
    let db = platform::db::connect(&url).await.expect("sqlite");
    Migrator::up(&db, None).await.expect("migrate");
    (db, "sqlite".into(), None, dir)
}

fn main() {
    let cases = env_u32("SCREENING_CASES", 1_000_000);
    let lines = env_u32("FEE_LINES_PER_CASE", 20);
    let per_month = cases / 12;
    let phases = Phases::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(phases.clone()))
        .expect("subscriber");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (db, backend, schema, _dir) = database().await;
        let stub = Arc::new(Stub {
            per_month,
            lines,
            building: Mutex::new(Duration::ZERO),
        });
        let api = SupervisionApi::new(
            SupervisionStore::new(db),
            stub.clone(),
            Tables::demo().expect("tables"),
        );
        let started = Instant::now();
        let (mut findings, mut screened) = (0u64, 0u64);
        for month in 1..=12 {
            let request = pb::ScreenCasesRequest {
                request_id: format!("bench-{month}"),
                region_code: "460000".into(),
                year: 2026,
                month,
            };
            let answer = api
                .screen_cases(platform::testing::as_caller(request, "bench", "460000", &["run"]))
                .await
                .expect("screened")
                .into_inner();
            findings += u64::from(answer.findings);
            screened += u64::from(answer.cases);
        }
        let elapsed = started.elapsed();
        let building = stub.building.lock().map(|d| *d).unwrap_or_default();
        let screening = elapsed.saturating_sub(building);
        println!(
            "ScreenCases, every rule, {backend}: {screened} lists with {} fee lines over 12 months, \
             {findings} findings stored: {:.2} s screening and storing ({:.1} µs a list; \
             {:.2} s more building the lists and the months before in the stub)",
            u64::from(lines) * screened,
            screening.as_secs_f64(),
            screening.as_secs_f64() * 1e6 / screened.max(1) as f64,
            building.as_secs_f64(),
        );
        let [reading, rules, storing] = phases.0.lock().map(|p| *p).unwrap_or_default();
        println!(
            "  phases: reading the cases {reading:.2} s (of which building {:.2} s), \
             rules {rules:.2} s, storing the findings {storing:.2} s",
            building.as_secs_f64(),
        );
        if let Some((admin, schema)) = schema {
            admin
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .expect("drop schema");
        }
    });
}
