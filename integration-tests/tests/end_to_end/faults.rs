//! A quarter paid through random faults: the real `medpay up` binary with a seeded fault proxy
//! between the county's system and the gateway and between settlement and each of its peers
//! (grouping and points at intake, budget and supervision at the clearing), or (`database`) a
//! PostgreSQL fault proxy between the server and its database. At points the seed chooses, a
//! proxy refuses the call, stalls it past the caller's deadline, or lets it run and loses its
//! answer. The county and the bureau retry every failed call with the same request id, as their
//! systems do. After each seed the ledger, every prepayment's statements, the clearing's
//! statements (their digest) and the deduction supervision's confirmed finding made are exactly
//! those of a run without faults: nothing lost, nothing counted twice.
//!
//! `MEDPAY_FAULT_SEEDS=n` runs seeds 0..n (20 by default), `MEDPAY_FAULT_JOBS` of them at once
//! (2), on SQLite or, with `MEDPAY_FAULT_POSTGRES`, each on its own PostgreSQL database;
//! `MEDPAY_FAULT_SEED=s` runs seed s alone, as printed for a seed that fails. A seed fixes which
//! calls fail and how; when a stalled call's server work ends against the deadline is the
//! machine's timing.

use std::future::Future;

use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use integration_tests::Medpay;
use integration_tests::faults::{FaultProxy, Stall};
use integration_tests::pg_faults::{DbPlan, FaultDatabase, PgFaultProxy, server_address};
use integration_tests::quarter::{self, COUNTY, HOSPITALS, List, PREFECTURE};
use medpay_proto::budget::v1 as budget;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as points;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

/// Every call's deadline, as a county's system sets one.
const DEADLINE: Duration = Duration::from_millis(2_000);
/// A stalled call is held this long: past the deadline.
const STALL: Duration = Duration::from_millis(2_500);
const ATTEMPTS: u32 = 12;
/// The quarter's lists are the same for every seed: only the faults change.
const DATA_SEED: u64 = 2025;
const LISTS: usize = 45;
const FUND: i32 = 310;
const SERVICE_KEY: &str = "fault-test-settlement-service-key";
/// The HTTP/2 proxies: county, grouping, points, budget, supervision.
const PROXIES: usize = 5;

mod database;
mod findings;
mod peers;
mod plans;

use plans::{Seen, plans};

/// The proxies and the server behind them.
pub(crate) struct Harness {
    _server: Medpay,
    county: FaultProxy,
    grouping: FaultProxy,
    points: FaultProxy,
    budget: FaultProxy,
    pub(crate) channel: Channel,
    pub(crate) retries: AtomicU64,
    /// Uploads answered by replay: their first answer was lost after they were stored.
    replays: AtomicU64,
    /// Settlement's supervision peer, read at the clearing.
    supervision: FaultProxy,
    /// Between the server and its PostgreSQL database, with [`Mode::Database`].
    pub(crate) database: Option<PgFaultProxy>,
    /// Dropped after the server: its PostgreSQL database, when there is one.
    _database: Option<FaultDatabase>,
}

/// Where a seed's faults strike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The HTTP/2 proxies: county to gateway, settlement to its peers.
    Calls,
    /// The PostgreSQL proxy between the server and its database (each seed on its own database
    /// of `MEDPAY_FAULT_POSTGRES`).
    Database,
}

impl Harness {
    pub(crate) async fn start() -> anyhow::Result<Harness> {
        Self::start_for(Mode::Calls).await
    }

    pub(crate) async fn start_for(mode: Mode) -> anyhow::Result<Harness> {
        let stall = Stall(STALL);
        let county = FaultProxy::start(stall).await?;
        let grouping = FaultProxy::start(stall).await?;
        let points = FaultProxy::start(stall).await?;
        let budget = FaultProxy::start(stall).await?;
        let supervision = FaultProxy::start(stall).await?;
        // Settlement reaches its peers through the proxies; the peers are this same process's
        // internal listener, which takes the service key below.
        let config = format!(
            r#"
[telemetry]
log_filter = "error"

[peers]
grouping = "{}"
points = "{}"
budget = "{}"
supervision = "{}"
api_key = "{SERVICE_KEY}"

[[auth.api_keys]]
key = "{SERVICE_KEY}"
caller_id = "settlement"
scopes = ["460000"]
roles = ["service"]
"#,
            grouping.url(),
            points.url(),
            budget.url(),
            supervision.url()
        );
        let database = FaultDatabase::create()?;
        let mut url = database.as_ref().map(FaultDatabase::url);
        let mut database_proxy = None;
        if mode == Mode::Database {
            let direct = url
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("database faults need MEDPAY_FAULT_POSTGRES"))?;
            let proxy = PgFaultProxy::start(server_address(direct).await?, stall).await?;
            url = Some(proxy.url_for(direct)?);
            database_proxy = Some(proxy);
        }
        let server = tokio::task::spawn_blocking(move || match url {
            Some(url) => Medpay::up_on(&url, &config),
            None => Medpay::up(&config),
        })
        .await??;
        let internal = server.internal_address.parse()?;
        for peer in [&grouping, &points, &budget, &supervision] {
            peer.forward_to(internal);
        }
        county.forward_to(server.address.parse()?);
        let channel = Endpoint::from_shared(county.url())?
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Harness {
            _server: server,
            _database: database,
            county,
            grouping,
            points,
            budget,
            supervision,
            database: database_proxy,
            channel,
            retries: AtomicU64::new(0),
            replays: AtomicU64::new(0),
        })
    }

    fn proxies(&self) -> [(&'static str, &FaultProxy); PROXIES] {
        [
            ("county", &self.county),
            ("grouping", &self.grouping),
            ("points", &self.points),
            ("budget", &self.budget),
            ("supervision", &self.supervision),
        ]
    }

    /// Calls until an answer comes, retrying what a lost connection or a deadline fails with
    /// the very same request (and so the same request id).
    pub(crate) async fn call<T, F, Fut>(&self, what: &str, mut call: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match call().await {
                Ok(answer) => return Ok(answer.into_inner()),
                Err(status) if transient(&status) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    // A stalled connection is closed a little after the deadline; a retry
                    // sent before then would stall on it too.
                    let pause = if status.code() == Code::DeadlineExceeded {
                        STALL - DEADLINE + Duration::from_millis(100)
                    } else {
                        Duration::from_millis(50)
                    };
                    last = Some(status);
                    tokio::time::sleep(pause).await;
                }
                Err(status) => anyhow::bail!("{what}: {status:?}"),
            }
        }
        anyhow::bail!("{what}: still failing after {ATTEMPTS} attempts: {last:?}")
    }
}

/// What a lost connection, a refused call or a passed deadline fails with: the caller cannot
/// know whether the call ran, and sends it again.
fn transient(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => true,
        Code::Internal => {
            let message = status.message().to_ascii_lowercase();
            ["h2", "connection", "transport", "stream", "broken pipe"]
                .iter()
                .any(|word| message.contains(word))
        }
        _ => false,
    }
}

pub(crate) fn timed<T>(body: T) -> Request<T> {
    let mut request = Request::new(body);
    request.set_timeout(DEADLINE);
    request
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

pub(crate) fn record(list: &List) -> settlement::SubmitRecord {
    settlement::SubmitRecord {
        record: Some(settlement::submit_record::Record::SettlementListJson(
            list.json.clone(),
        )),
    }
}

/// What a paid quarter left: the ledger and the statements of every run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Paid {
    pub(crate) cases: Vec<settlement::CaseSummary>,
    prepayments: Vec<(String, Option<settlement::RunTotals>)>,
    clearing: (String, Option<settlement::RunTotals>),
    identity_holds: bool,
    /// The finding confirmed before the clearing, and each hospital's deduction on the
    /// clearing's statements (read from supervision at the clearing).
    confirmed: findings::Confirmed,
    deductions: Vec<(String, rust_decimal::Decimal)>,
}

/// The bureau sets the quarter up, the county uploads it, the bureau prepays and clears it.
async fn pay_quarter(h: &Harness) -> anyhow::Result<Paid> {
    let started = Instant::now();
    set_up(h).await?;
    let set = started.elapsed();
    upload(h, &SettlementServiceClient::new(h.channel.clone())).await?;
    let uploaded = started.elapsed();
    let paid = settle(h).await?;
    if std::env::var_os("MEDPAY_FAULT_TIMES").is_some() {
        eprintln!(
            "set up {:.1} s, uploaded {:.1} s, settled {:.1} s",
            set.as_secs_f64(),
            uploaded.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(paid)
}

/// The bureau registers the hospitals with their agreements, puts and activates the points
/// table, creates the prefecture's budget and has the year shared through it.
pub(crate) async fn set_up(h: &Harness) -> anyhow::Result<()> {
    let intake = SettlementServiceClient::new(h.channel.clone());
    let runs = SettlementRunServiceClient::new(h.channel.clone());
    let tables = PointsServiceClient::new(h.channel.clone());
    let budgets = BudgetServiceClient::new(h.channel.clone());

    for (code, level) in HOSPITALS {
        let institution = settlement::PutInstitutionRequest {
            request_id: format!("institution-{code}"),
            institution: Some(settlement::Institution {
                code: code.into(),
                name: format!("Hospital {code}"),
                region_code: COUNTY.into(),
                level: level.into(),
                institution_type: "general".into(),
                alliance_code: String::new(),
            }),
            effective_from: date(2020, 1, 1),
            reason: String::new(),
        };
        h.call("PutInstitution", || {
            let (mut c, body) = (intake.clone(), institution.clone());
            async move { c.put_institution(timed(body)).await }
        })
        .await?;
        let agreement = settlement::PutAgreementRequest {
            request_id: format!("agreement-{code}"),
            region_code: COUNTY.into(),
            institution_code: code.into(),
            agreement: Some(settlement::Agreement {
                agreement_id: "2025".into(),
                valid_from: date(2025, 1, 1),
                valid_to: date(2025, 12, 31),
                status: "active".into(),
            }),
            reason: "annual agreement".into(),
        };
        h.call("PutAgreement", || {
            let (mut c, body) = (intake.clone(), agreement.clone());
            async move { c.put_agreement(timed(body)).await }
        })
        .await?;
    }

    let table = points::PutTableRequest {
        request_id: "table-2025".into(),
        region_code: COUNTY.into(),
        year: 2025,
        fund_type: FUND,
        document_json: quarter::table_document(),
        document: None,
    };
    let put = h
        .call("PutTable", || {
            let (mut c, body) = (tables.clone(), table.clone());
            async move { c.put_table(timed(body)).await }
        })
        .await?;
    let activate = points::ActivateTableRequest {
        request_id: "table-2025-active".into(),
        region_code: COUNTY.into(),
        year: 2025,
        fund_type: FUND,
        version: put.table.map(|t| t.version).unwrap_or_default(),
        effective_from: date(2025, 1, 1),
    };
    h.call("ActivateTable", || {
        let (mut c, body) = (tables.clone(), activate.clone());
        async move { c.activate_table(timed(body)).await }
    })
    .await?;

    let create_budget = budget::CreateBudgetRequest {
        request_id: "budget-2025".into(),
        region_code: PREFECTURE.into(),
        year: 2025,
        fund_type: FUND,
        document_json: budget_document()?,
        ..Default::default()
    };
    h.call("CreateBudget", || {
        let (mut c, body) = (budgets.clone(), create_budget.clone());
        async move { c.create_budget(timed(body)).await }
    })
    .await?;
    let policy = settlement::PutSettlementPolicyRequest {
        request_id: "policy-2025".into(),
        region_code: PREFECTURE.into(),
        year: 2025,
        fund_type: FUND,
        policy_json: r#"{"clearing": {"sharing": "budget"}}"#.into(),
        reason: "year-end sharing through the budget".into(),
        policy: None,
    };
    h.call("PutSettlementPolicy", || {
        let (mut c, body) = (runs.clone(), policy.clone());
        async move { c.put_settlement_policy(timed(body)).await }
    })
    .await?;
    Ok(())
}

/// The bureau checks every case was valued, prepays the three months and clears the year.
pub(crate) async fn settle(h: &Harness) -> anyhow::Result<Paid> {
    let intake = SettlementServiceClient::new(h.channel.clone());
    let runs = SettlementRunServiceClient::new(h.channel.clone());
    let unvalued = list_cases(h, &intake, "unvalued").await?;
    anyhow::ensure!(
        unvalued.is_empty(),
        "a peer's failure left cases unvalued instead of failing the upload: {unvalued:?}"
    );

    let mut prepayments = Vec::new();
    for month in 1..=3 {
        let prepay = settlement::RunPrepaymentRequest {
            request_id: format!("prepay-2025-{month:02}"),
            region_code: PREFECTURE.into(),
            period: Some(common::YearMonth { year: 2025, month }),
            fund_type: FUND,
            provisional_point_value: Some(common::Decimal {
                value: "800".into(),
            }),
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: false,
        };
        let run = h
            .call("RunPrepayment", || {
                let (mut c, body) = (runs.clone(), prepay.clone());
                async move { c.run_prepayment(timed(body)).await }
            })
            .await?;
        anyhow::ensure!(run.version == 1, "prepayment {month} ran twice: {run:?}");
        let get = settlement::GetRunRequest {
            region_code: PREFECTURE.into(),
            run_id: run.run_id.clone(),
        };
        let stored = h
            .call("GetRun", || {
                let (mut c, body) = (runs.clone(), get.clone());
                async move { c.get_run(timed(body)).await }
            })
            .await?
            .run
            .ok_or_else(|| anyhow::anyhow!("no run {}", run.run_id))?;
        prepayments.push((stored.statements_digest, run.totals));
    }

    let confirmed = findings::confirm_a_finding(h).await?;
    let clear = settlement::RunClearingRequest {
        request_id: "clear-2025".into(),
        region_code: PREFECTURE.into(),
        year: 2025,
        fund_type: FUND,
        distributable_budget: Some(common::Money {
            yuan: "400000.00".into(),
        }),
        reason: String::new(),
        skip_unvalued: false,
    };
    let clearing = h
        .call("RunClearing", || {
            let (mut c, body) = (runs.clone(), clear.clone());
            async move { c.run_clearing(timed(body)).await }
        })
        .await?;
    anyhow::ensure!(
        clearing.version == 1,
        "the clearing ran twice: {clearing:?}"
    );
    Ok(Paid {
        cases: list_cases(h, &intake, "").await?,
        prepayments,
        clearing: (clearing.statements_digest, clearing.totals),
        deductions: findings::deductions(h, PREFECTURE, &clearing.run_id).await?,
        identity_holds: clearing.identity.is_some_and(|identity| identity.holds),
        confirmed,
    })
}

/// The county's uploads: each month in its own upload (February as one batch), then three
/// corrections, then January sent again under a new request id.
async fn upload(h: &Harness, intake: &SettlementServiceClient<Channel>) -> anyhow::Result<()> {
    let lists = quarter::lists(DATA_SEED, LISTS);
    let month = |m: u32| -> Vec<List> { lists.iter().filter(|l| l.month == m).cloned().collect() };
    let corrections: Vec<List> = [0, 5, 10]
        .iter()
        .filter_map(|&i| lists.get(i))
        .map(|list| quarter::corrected(list, 12_345))
        .collect();
    // January again before the corrections: after them it would change three lists back.
    let streamed = [
        ("upload-january", month(1)),
        ("upload-march", month(3)),
        ("upload-january-again", month(1)),
        ("upload-corrections", corrections),
    ];
    for (n, (request_id, records)) in streamed.iter().enumerate() {
        if n == 1 {
            let batch = settlement::SubmitCaseBatchRequest {
                request_id: "upload-february".into(),
                region_code: COUNTY.into(),
                records: month(2).iter().map(record).collect(),
            };
            let answer = h
                .call("SubmitCaseBatch", || {
                    let (mut c, body) = (intake.clone(), batch.clone());
                    async move { c.submit_case_batch(timed(body)).await }
                })
                .await?;
            refused_nothing(h, answer.outcome)?;
        }
        let messages: Vec<settlement::SubmitCasesRequest> = records
            .iter()
            .enumerate()
            .map(|(i, list)| settlement::SubmitCasesRequest {
                request_id: if i == 0 {
                    (*request_id).to_owned()
                } else {
                    String::new()
                },
                region_code: COUNTY.into(),
                case_json: String::new(),
                record: Some(record(list)),
            })
            .collect();
        let answer = h
            .call("SubmitCases", || {
                let (mut c, body) = (intake.clone(), messages.clone());
                async move { c.submit_cases(timed(tokio_stream::iter(body))).await }
            })
            .await?;
        refused_nothing(h, answer.outcome)?;
    }
    Ok(())
}

/// Checks an upload's answer; a replayed one (its first answer lost) is counted.
fn refused_nothing(h: &Harness, outcome: Option<settlement::IntakeOutcome>) -> anyhow::Result<()> {
    let outcome = outcome.ok_or_else(|| anyhow::anyhow!("an upload answered no outcome"))?;
    anyhow::ensure!(outcome.rejected == 0, "records refused: {outcome:?}");
    if outcome.replayed {
        h.replays.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// The county's current cases, every page, in the ledger's order.
pub(crate) async fn list_cases(
    h: &Harness,
    intake: &SettlementServiceClient<Channel>,
    status: &str,
) -> anyhow::Result<Vec<settlement::CaseSummary>> {
    let mut cases = Vec::new();
    let mut page_token = String::new();
    loop {
        let ask = settlement::ListCasesRequest {
            region_code: COUNTY.into(),
            status: status.into(),
            page_size: 500,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = h
            .call("ListCases", || {
                let (mut c, body) = (intake.clone(), ask.clone());
                async move { c.list_cases(timed(body)).await }
            })
            .await?;
        cases.extend(page.cases);
        if page.next_page_token.is_empty() {
            return Ok(cases);
        }
        page_token = page.next_page_token;
    }
}

/// The prefecture's 2025 employee budget: hospital caps, all inpatient.
fn budget_document() -> anyhow::Result<String> {
    use budget_domain::{BlockKind, BlockShare, BlockSplit, BudgetBasis, BudgetDocument};
    Ok(serde_json::to_string(&BudgetDocument {
        region: PREFECTURE.parse()?,
        year: 2025,
        fund: kernel::FundType::Employee,
        mode: budget_domain::BudgetMode::HospitalCaps,
        basis: BudgetBasis::LastYearGrowth {
            last_year_spending: kernel::Money::from_yuan(420_000),
            growth_cap: rust_decimal::Decimal::ZERO,
        },
        split: BlockSplit::Shares(vec![BlockShare {
            block: BlockKind::Inpatient,
            share: rust_decimal::Decimal::ONE,
        }]),
        policy: budget_domain::BudgetPolicy::default(),
    })?)
}

/// `MEDPAY_FAULT_SEED` alone, or seeds 0..`count_variable` (`default` without it).
fn seeds(count_variable: &str, default: u64) -> anyhow::Result<Vec<u64>> {
    if let Ok(seed) = std::env::var("MEDPAY_FAULT_SEED") {
        return Ok(vec![seed.trim().parse()?]);
    }
    let count: u64 = match std::env::var(count_variable) {
        Ok(count) => count.trim().parse()?,
        Err(_) => default,
    };
    Ok((0..count).collect())
}

/// One seed: a fresh server, the faults planned, the quarter paid, the result compared.
async fn run_seed(seed: u64, mode: Mode, seen: &Seen, reference: &Paid) -> anyhow::Result<String> {
    let h = Harness::start_for(mode).await?;
    let (planned, database) = plans(seed, mode, seen);
    for ((_, proxy), plan) in h.proxies().iter().zip(planned.iter()) {
        proxy.set_plan(plan.clone());
    }
    if let Some(proxy) = &h.database {
        proxy.set_plan(database);
    }
    let outcome = pay_quarter(&h).await;
    let mut applied: Vec<String> = h
        .proxies()
        .iter()
        .map(|(name, proxy)| format!("{name} {:?} of {} calls", proxy.applied(), proxy.calls()))
        .collect();
    if let Some(proxy) = &h.database {
        applied.push(format!(
            "database {:?} of {:?}",
            proxy.applied(),
            proxy.counts()
        ));
    }
    let applied = applied.join("; ");
    let paid = outcome.map_err(|e| anyhow::anyhow!("{e:#}\n  faults: {applied}"))?;
    if &paid != reference {
        anyhow::bail!(
            "the quarter differs from the fault-free run\n  faults: {applied}\n  {}",
            difference(reference, &paid)
        );
    }
    let retries = h.retries.load(Ordering::Relaxed);
    let replays = h.replays.load(Ordering::Relaxed);
    Ok(format!(
        "{applied}; {retries} retries, {replays} uploads replayed"
    ))
}

fn difference(reference: &Paid, paid: &Paid) -> String {
    let mut lines = Vec::new();
    if paid.cases.len() != reference.cases.len() {
        lines.push(format!(
            "{} cases instead of {}",
            paid.cases.len(),
            reference.cases.len()
        ));
    }
    for (ours, theirs) in paid.cases.iter().zip(&reference.cases) {
        if ours != theirs {
            lines.push(format!("case {ours:?}\n    expected {theirs:?}"));
        }
    }
    if paid.prepayments != reference.prepayments {
        lines.push(format!(
            "prepayments {:?}\n    expected {:?}",
            paid.prepayments, reference.prepayments
        ));
    }
    if paid.clearing != reference.clearing {
        lines.push(format!(
            "clearing {:?}\n    expected {:?}",
            paid.clearing, reference.clearing
        ));
    }
    if (&paid.confirmed, &paid.deductions) != (&reference.confirmed, &reference.deductions) {
        lines.push(format!(
            "deductions {:?} {:?}\n    expected {:?} {:?}",
            paid.confirmed, paid.deductions, reference.confirmed, reference.deductions
        ));
    }
    lines.join("\n  ")
}

/// The fault-free run, checked, then every seed against it; `test` names the test in the
/// replay command printed for a failing seed.
pub(crate) async fn pay_through_faults(
    mode: Mode,
    seeds: Vec<u64>,
    test: &str,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let clean = Harness::start_for(mode).await?;
    if let Some(proxy) = &clean.database {
        proxy.set_plan(DbPlan::default());
    }
    eprintln!(
        "fault-free server up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let reference = pay_quarter(&clean).await?;
    // The reference itself: every list once, three of them corrected, all cleared.
    let lists = quarter::lists(DATA_SEED, LISTS);
    assert_eq!(reference.cases.len(), lists.len());
    let versions: Vec<i32> = reference.cases.iter().map(|c| c.version).collect();
    assert_eq!(
        versions.iter().filter(|v| **v == 2).count(),
        3,
        "{versions:?}"
    );
    assert!(versions.iter().all(|v| (1..=2).contains(v)), "{versions:?}");
    assert_eq!(
        reference.clearing.1.as_ref().map(|t| t.cases),
        Some(LISTS as u64)
    );
    assert!(reference.identity_holds);
    // The clearing deducted the confirmed finding, read from supervision through its proxy.
    let confirmed = &reference.confirmed;
    let deducted: Vec<_> = reference
        .deductions
        .iter()
        .filter(|(_, amount)| !amount.is_zero())
        .collect();
    assert_eq!(
        deducted,
        [&(confirmed.hospital_code.clone(), confirmed.amount.parse()?)],
        "{confirmed:?}"
    );
    let seen = Seen::of(&clean);
    assert!(seen.calls.iter().all(|c| *c > 0), "{seen:?}");
    if mode == Mode::Database {
        assert!(seen.database[1..].iter().all(|c| *c > 0), "{seen:?}");
    }
    drop(clean);

    let jobs: usize = match std::env::var("MEDPAY_FAULT_JOBS") {
        Ok(jobs) => jobs.trim().parse()?,
        Err(_) => 2,
    };
    // Seeds are independent servers and mostly wait out stalls: several run at once.
    let mut outcomes = futures::stream::iter(seeds.iter().copied())
        .map(|seed| {
            let (seen, reference) = (&seen, &reference);
            async move { (seed, run_seed(seed, mode, seen, reference).await) }
        })
        .buffer_unordered(jobs.max(1));
    let mut failed = Vec::new();
    while let Some((seed, outcome)) = outcomes.next().await {
        match outcome {
            Ok(summary) => eprintln!("fault seed {seed}: ok ({summary})"),
            Err(error) => {
                eprintln!(
                    "fault seed {seed} FAILED: {error:#}\n  replay: MEDPAY_FAULT_SEED={seed} \
                     cargo test -p integration-tests --test end_to_end \
                     {test} -- --nocapture"
                );
                failed.push(seed);
            }
        }
    }
    eprintln!(
        "fault seeds: {} run, {} failed, in {:.1} s",
        seeds.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    failed.sort_unstable();
    anyhow::ensure!(failed.is_empty(), "fault seeds failed: {failed:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_paid_through_random_faults_ends_as_without_them() -> anyhow::Result<()> {
    pay_through_faults(
        Mode::Calls,
        seeds("MEDPAY_FAULT_SEEDS", 20)?,
        "faults::a_quarter_paid_through_random_faults",
    )
    .await
}
