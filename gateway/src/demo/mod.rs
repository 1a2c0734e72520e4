//! `medpay demo`: a simulated Hainan province-year paid end to end. The demo acts as the bureau
//! and the county agencies over real gRPC, on its own server (the server of `medpay up` on a fresh
//! SQLite folder or an empty PostgreSQL database) or on a running one (`--server`, see
//! [`target`]): it registers every hospital and pharmacy with its
//! agreement, prices a points table per pooling region and fund from the simulated costs,
//! submits every simulated settlement through `SubmitCases`, prepays and closes twelve months,
//! screens them, sets the budgets that share surpluses and overspends, clears the year per region
//! and fund, and writes the statements, a summary and an HTML report.
//!
//! On DIP, Hainan's main method and the default, the simulation covers three years: all three
//! build the DIP directory through the grouping context, the year before the paid one is taken in
//! as the history of the DIP budget point value the months are prepaid with, and the clearing
//! sets the settlement point value on the reimbursement-ratio basis.

mod assess;
mod bureau;
mod dip;
mod institutions;
mod report;
mod score;
mod steps;
mod summary;
mod tables;
mod target;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kernel::{Decimal, FundType, Money, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as points;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_simulator::score::Seeded;
use medpay_simulator::{Record, Simulation, SimulationConfig, StreamSnapshot};

use crate::config::Settings;
use bureau::Screening;
use institutions::{register, roster};
use steps::Steps;
use summary::{ClearingSummary, HospitalTotals, Roster};
use tables::MainRows;
use target::Channel;

/// The simulated year: complete, and before any date intake would call the future.
const YEAR: i32 = 2025;
/// The DIP directory's history years, oldest first; the last is the paid year.
const HISTORY_YEARS: [i32; 3] = [YEAR - 2, YEAR - 1, YEAR];
/// The year taken in as the history of the DIP budget point value (see [`dip_history_intake`]).
const POINT_VALUE_HISTORY_YEAR: i32 = YEAR - 1;
/// Share of a fund's claims the bureau makes distributable.
const BUDGET_SHARE: Decimal = Decimal::from_parts(97, 0, 0, false, 2);
/// Share of the estimated point value paid month by month.
const PROVISIONAL_SHARE: Decimal = Decimal::from_parts(90, 0, 0, false, 2);
/// Answers can carry a whole region's statements.
const MESSAGE_LIMIT: usize = 256 * 1024 * 1024;

/// The inpatient main method the demo pays on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MainMethod {
    /// DIP scores on a directory built from the history years (Hainan's method).
    #[default]
    Dip,
    /// DRG points on the demo scheme, one simulated year.
    Drg,
}

impl MainMethod {
    /// The payment mode the statements give the method's cases.
    pub fn mode(self) -> &'static str {
        match self {
            MainMethod::Dip => "dip",
            MainMethod::Drg => "drg",
        }
    }
}

/// What `medpay demo` was asked for.
#[derive(Clone, Debug)]
pub struct DemoArgs {
    /// Cases of each simulated year.
    pub cases: u64,
    pub seed: u64,
    pub out: PathBuf,
    /// Folder of the SQLite database; a fresh temporary one when absent.
    pub data: Option<PathBuf>,
    pub main_method: MainMethod,
    /// An empty PostgreSQL (or SQLite) database for the demo's own server, instead of `data`.
    pub database_url: Option<String>,
    /// A running server to pay the year on, instead of the demo's own.
    pub server: Option<String>,
    /// The API key of `server`'s calls.
    pub api_key: Option<String>,
}

/// Progress on stderr, one line rewritten in place.
struct Progress {
    what: &'static str,
    total: u64,
    started: Instant,
}

impl Progress {
    fn new(what: &'static str, total: u64) -> Self {
        Self {
            what,
            total,
            started: Instant::now(),
        }
    }

    fn show(&self, done: u64) {
        eprint!("\r{}: {done}/{}", self.what, self.total);
        let _ = std::io::stderr().flush();
    }

    fn finish(&self, done: u64) {
        eprintln!(
            "\r{}: {done}/{} in {:.1} s",
            self.what,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// Runs the demo with `settings` (its own server's listeners and database are the demo's, see
/// [`target`]).
pub async fn run(settings: Settings, args: DemoArgs) -> anyhow::Result<()> {
    let mut steps = Steps::new();
    let (first_year, years) = match args.main_method {
        MainMethod::Dip => (HISTORY_YEARS[0], HISTORY_YEARS.len() as u32),
        MainMethod::Drg => (YEAR, 1),
    };
    let simulation = Simulation::hainan(SimulationConfig {
        seed: args.seed,
        first_year,
        years,
        cases_per_year: args.cases,
        ..SimulationConfig::default()
    })?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;

    let observations = observe(&simulation)?;
    steps.done("looking at the years");

    let target = target::Target::start(settings, &args, &simulation).await?;
    steps.done("starting the server");
    eprintln!(
        "medpay demo: {} cases of Hainan {YEAR} (seed {}) on {}",
        args.cases, args.seed, target.description
    );
    let outcome = act(
        &simulation,
        observations,
        target.channel.clone(),
        &args.out,
        args.main_method,
        &mut steps,
    )
    .await;
    target.stop().await?;
    steps.done("stopping the server");
    let (clearings, screening) = outcome?;
    print!("{}", summary::table(&clearings));
    print!("{}", summary::findings_table(&screening));
    print!("{}", score::table(&screening));
    std::fs::write(args.out.join("rules.csv"), score::rules_csv(&screening))?;
    std::fs::write(
        args.out.join("summary.csv"),
        summary::summary_csv(&clearings),
    )?;
    std::fs::write(
        args.out.join("hospitals.csv"),
        summary::hospitals_csv(&clearings),
    )?;
    std::fs::write(args.out.join("modes.csv"), summary::modes_csv(&clearings))?;
    std::fs::write(
        args.out.join("regions.csv"),
        summary::regions_csv(&clearings),
    )?;
    let page = report::html(&report::Report {
        year: YEAR,
        seed: args.seed,
        records: args.cases,
        roster: &roster(&simulation),
        main_method: args.main_method,
        clearings: &clearings,
        screening: &screening,
    });
    std::fs::write(args.out.join("report.html"), page)?;
    steps.done("writing the reports");
    print!("{}", steps.table());
    eprintln!(
        "medpay demo: {} clearings in {:.1} s; statements, summary.csv and report.html in {}",
        clearings.len(),
        steps.total().as_secs_f64(),
        args.out.display()
    );
    if let Some(broken) = clearings.iter().find(|c| !c.identity_holds) {
        anyhow::bail!(
            "the identity does not hold for {} fund {}",
            broken.region,
            broken.fund.code()
        );
    }
    Ok(())
}

/// What the bureau saw of the simulated years before it acts: everything a later step needs
/// from the cases, so that no step simulates a year twice.
struct Observed {
    /// The paid year.
    year: tables::Observations,
    /// Every DIP-grouped stay of every year, for the directory (empty on one simulated year).
    history: dip::History,
    /// The same stays, kept for grouping them with the built directory.
    stays: dip::HistoryStays,
    /// The seeded cases the paid year's screening is scored against, gathered over every
    /// simulated case in generation order.
    seeded: Seeded,
    /// Where each simulated year starts in the case stream, for its upload.
    starts: YearStarts,
}

/// The case stream's position at the first case of each simulated year.
#[derive(Debug, Default)]
struct YearStarts(BTreeMap<i32, StreamSnapshot>);

impl YearStarts {
    /// The stream's position at the first case of `year`.
    fn at(&self, year: i32) -> anyhow::Result<StreamSnapshot> {
        self.0
            .get(&year)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the simulation has no year {year}"))
    }
}

/// The bureau's look at the years before it prices the tables.
fn observe(simulation: &Simulation) -> anyhow::Result<Observed> {
    let scheme = grouping_domain::load_demo()
        .map_err(|e| anyhow::anyhow!("the demo DRG scheme does not load: {e}"))?;
    let compiled = grouping_domain::CompiledScheme::compile(&scheme);
    let mut grouper = compiled.grouper();
    let mut observed = Observed {
        year: tables::Observations::default(),
        history: dip::History::default(),
        stays: dip::HistoryStays::default(),
        seeded: Seeded::new(YEAR),
        starts: YearStarts::default(),
    };
    let config = simulation.config();
    let total = config.cases_per_year * u64::from(config.years);
    let progress = Progress::new("looking at the years", total);
    let mut seen = 0_u64;
    let mut cases = simulation.cases();
    loop {
        if let Some(start) = cases.year_start() {
            observed.starts.0.insert(start.year(), start);
        }
        let Some(case) = cases.next() else {
            break;
        };
        if config.years > 1 && observed.history.add(&case) {
            observed.stays.add(&case);
        }
        observed.seeded.observe(&case);
        observed
            .year
            .observe(&case, &mut grouper, case.truth.year == YEAR);
        seen += 1;
        if seen.is_multiple_of(10_000) {
            progress.show(seen);
        }
    }
    progress.finish(seen);
    Ok(observed)
}

/// Everything the bureau and the counties do over gRPC; returns a summary per clearing.
async fn act(
    simulation: &Simulation,
    observed: Observed,
    channel: Channel,
    out: &Path,
    method: MainMethod,
    steps: &mut Steps,
) -> anyhow::Result<(Vec<ClearingSummary>, Screening)> {
    let Observed {
        year: observations,
        history,
        stays,
        seeded,
        starts,
    } = observed;
    let mut intake = SettlementServiceClient::new(channel.clone())
        .max_decoding_message_size(MESSAGE_LIMIT)
        .max_encoding_message_size(MESSAGE_LIMIT);
    register(simulation, &mut intake).await?;
    steps.done("registering institutions");

    // Hainan pools both funds province-wide (省级统筹): the province prepays and clears, and
    // a clearing of a region takes the cases of every region inside it.
    let province = simulation.province().code;
    let pools: BTreeSet<(RegionCode, u16)> =
        observations.inpatient_claims.keys().copied().collect();
    // A province's table comes back as JSON and typed: past the 4 MiB default at full size.
    let mut tables = PointsServiceClient::new(channel.clone())
        .max_decoding_message_size(MESSAGE_LIMIT)
        .max_encoding_message_size(MESSAGE_LIMIT);
    match method {
        MainMethod::Drg => {
            for (region, fund) in &pools {
                let fund = FundType::from_code(*fund)?;
                let document = observations.table_document(*region, YEAR, fund, &MainRows::Drg)?;
                put_table(&mut tables, document, *region, YEAR, fund).await?;
            }
            steps.done("points tables");
        }
        MainMethod::Dip => {
            let built = dip::build_and_activate(
                channel.clone(),
                province,
                history,
                &HISTORY_YEARS,
                kernel::Date::new(POINT_VALUE_HISTORY_YEAR, 1, 1)?,
            )
            .await?;
            steps.done("building the DIP directory");
            let costs = dip::GroupCosts::observe(stays, &built);
            steps.done("grouping the history");
            for year in [POINT_VALUE_HISTORY_YEAR, YEAR] {
                let rows = MainRows::Dip {
                    groups: costs.table_groups(&built, year),
                    basic_level_groups: &costs.basic_level_groups,
                };
                for (region, fund) in &pools {
                    let fund = FundType::from_code(*fund)?;
                    let document = observations.table_document(*region, year, fund, &rows)?;
                    put_table(&mut tables, document, *region, year, fund).await?;
                }
            }
            steps.done("points tables");
            dip_history_intake(simulation, &starts, &mut intake).await?;
            steps.done("history intake");
        }
    }
    eprintln!(
        "tables: {} pools activated on {}",
        pools.len(),
        method.mode()
    );

    submit(simulation, &starts, &mut intake, YEAR, Upload::Everything).await?;
    steps.done("intake");

    let roster = roster(simulation);
    let mut runs = SettlementRunServiceClient::new(channel.clone())
        .max_decoding_message_size(MESSAGE_LIMIT)
        .max_encoding_message_size(MESSAGE_LIMIT);
    let mut claims_by_fund: BTreeMap<u16, Money> = BTreeMap::new();
    for ((_, fund), claims) in &observations.inpatient_claims {
        *claims_by_fund.entry(*fund).or_insert(Money::ZERO) += *claims;
    }
    let mut budget_point_values = BTreeMap::new();
    if method == MainMethod::Dip {
        for fund in claims_by_fund.keys() {
            let value = bureau::publish_budget_point_value(
                channel.clone(),
                province,
                FundType::from_code(*fund)?,
                POINT_VALUE_HISTORY_YEAR,
            )
            .await?;
            budget_point_values.insert(*fund, value);
        }
        steps.done("budget point values");
    }
    // The months are prepaid while they are screened: prepayment writes only settlement's runs
    // and screening reads only the ledger, so neither waits for the other's results.
    let prepayments = async {
        let mut runs = runs.clone();
        let progress = Progress::new("prepayments", claims_by_fund.len() as u64 * 12);
        let mut done = 0;
        for fund in claims_by_fund.keys() {
            let fund = FundType::from_code(*fund)?;
            let price = match method {
                MainMethod::Drg => PointValue::Given(
                    observations
                        .all_case_mean_cost(fund)
                        .map(|mean| mean.value() / Decimal::ONE_HUNDRED * PROVISIONAL_SHARE)
                        .unwrap_or(Decimal::ONE_HUNDRED),
                ),
                MainMethod::Dip => PointValue::Published,
            };
            for month in 1..=12 {
                prepay(&mut runs, province, fund, month, price).await?;
                done += 1;
                progress.show(done);
            }
        }
        progress.finish(done);
        anyhow::Ok(())
    };
    let ((), mut screening) =
        tokio::try_join!(prepayments, bureau::screen(channel.clone(), province))?;
    steps.done("prepayments and screening");
    screening.scores = score::score(&seeded, std::mem::take(&mut screening.found));
    steps.done("scoring");
    eprintln!(
        "screening: {} stays, {} findings",
        screening.cases,
        screening.findings()
    );
    let assessment = assess::assess(channel.clone(), province).await?;
    eprintln!("{}", assessment.line());
    steps.done("assessment");

    let mut clearings = Vec::new();
    for (fund, claims) in &claims_by_fund {
        let budget_point_value = budget_point_values.get(fund).copied();
        let fund = FundType::from_code(*fund)?;
        // The simulated year stands in for last year's spending: the budget's reserve is what
        // shares the overspends out.
        bureau::set_budget(channel.clone(), province, fund, *claims, method).await?;
        let budget = claims.mul_round(BUDGET_SHARE);
        let mut clearing = clear(&mut runs, province, fund, budget, &roster, out).await?;
        clearing.budget_point_value = budget_point_value;
        clearings.push(clearing);
    }
    steps.done("clearings");
    eprintln!("clearings: {} run", clearings.len());
    Ok((clearings, screening))
}

/// Takes in the inpatient stays of the year before the paid one, valued on the DIP tables of
/// that year, as the stored history the DIP budget point value is computed from
/// (`PublishDipBudgetPointValue` reads only the ledger). The method's default history is the
/// three years before the value's year weighted 1:2:7; the demo names one year instead
/// (weight 1), which the method allows: the value is then that year's cost per case score, and
/// the demo takes in one year's stays rather than three (its outpatient and pharmacy records,
/// which carry no score, stay out).
async fn dip_history_intake(
    simulation: &Simulation,
    starts: &YearStarts,
    intake: &mut SettlementServiceClient<Channel>,
) -> anyhow::Result<()> {
    submit(
        simulation,
        starts,
        intake,
        POINT_VALUE_HISTORY_YEAR,
        Upload::InpatientOnly,
    )
    .await
}

async fn put_table(
    client: &mut PointsServiceClient<Channel>,
    document_json: String,
    region: RegionCode,
    year: i32,
    fund: FundType,
) -> anyhow::Result<()> {
    let put = client
        .put_table(points::PutTableRequest {
            request_id: format!("demo-table-{region}-{year}-{}", fund.code()),
            region_code: region.to_string(),
            year,
            fund_type: i32::from(fund.code()),
            document_json,
            document: None,
        })
        .await?
        .into_inner()
        .table
        .ok_or_else(|| anyhow::anyhow!("PutTable answered no table"))?;
    client
        .activate_table(points::ActivateTableRequest {
            request_id: format!("demo-table-{region}-{year}-{}-active", fund.code()),
            region_code: region.to_string(),
            year,
            fund_type: i32::from(fund.code()),
            version: put.version,
            effective_from: Some(common::Date {
                year,
                month: 1,
                day: 1,
            }),
        })
        .await?;
    Ok(())
}

/// Which of a year's records an upload carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upload {
    Everything,
    InpatientOnly,
}

/// Streams the simulated records of `year` to `SubmitCases` as the province's upload:
/// generation runs on its own thread, from where `year` starts in the case stream, while intake
/// stores what arrived.
async fn submit(
    simulation: &Simulation,
    starts: &YearStarts,
    client: &mut SettlementServiceClient<Channel>,
    year: i32,
    upload: Upload,
) -> anyhow::Result<()> {
    let total = simulation.config().cases_per_year;
    let start = starts.at(year)?;
    let (tx, rx) = tokio::sync::mpsc::channel(4_096);
    let upload_region = simulation.province().code.to_string();
    let generator = simulation.clone();
    let producer = std::thread::spawn(move || -> anyhow::Result<u64> {
        let progress = Progress::new(
            if year == YEAR {
                "submitting"
            } else {
                "submitting the history"
            },
            total,
        );
        let mut sent = 0_u64;
        // The stream resumes at the first case of `year`; the years come one after the other,
        // so it stops after `year`.
        let cases = generator
            .cases_from(start)
            .take_while(|case| case.truth.year == year);
        for case in cases {
            if upload == Upload::InpatientOnly && case.list().is_none() {
                continue;
            }
            let json = case.record_json()?;
            let record = match case.record {
                Record::Inpatient(_) => settlement::submit_record::Record::SettlementListJson(json),
                Record::Ambulatory(_) => settlement::submit_record::Record::AmbulatoryJson(json),
            };
            let request = settlement::SubmitCasesRequest {
                request_id: if sent == 0 {
                    format!("demo-upload-{}-{total}-{year}", generator.config().seed)
                } else {
                    String::new()
                },
                region_code: upload_region.clone(),
                case_json: String::new(),
                record: Some(settlement::SubmitRecord {
                    record: Some(record),
                }),
            };
            if tx.blocking_send(request).is_err() {
                break;
            }
            sent += 1;
            if sent.is_multiple_of(1_000) {
                progress.show(sent);
            }
        }
        progress.finish(sent);
        Ok(sent)
    });
    let answer = client
        .submit_cases(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await;
    let sent = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the simulation thread panicked"))??;
    let outcome = answer?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("SubmitCases answered no outcome"))?;
    eprintln!(
        "{}: {sent} sent, {} accepted, {} rejected",
        if year == YEAR {
            "intake".to_owned()
        } else {
            format!("history intake {year}")
        },
        outcome.accepted,
        outcome.rejected
    );
    for rejection in outcome.rejections.iter().take(5) {
        eprintln!(
            "  rejected {} of {}: {} {}",
            rejection.list_id, rejection.hospital_code, rejection.field, rejection.reason
        );
    }
    Ok(())
}

/// What a month's points are priced with.
#[derive(Clone, Copy, Debug)]
enum PointValue {
    /// A provisional value the bureau gives.
    Given(Decimal),
    /// The DIP budget point value published for the year.
    Published,
}

async fn prepay(
    client: &mut SettlementRunServiceClient<Channel>,
    region: RegionCode,
    fund: FundType,
    month: i32,
    point_value: PointValue,
) -> anyhow::Result<()> {
    client
        .run_prepayment(settlement::RunPrepaymentRequest {
            request_id: format!("demo-prepay-{region}-{}-{month}", fund.code()),
            region_code: region.to_string(),
            period: Some(common::YearMonth { year: YEAR, month }),
            fund_type: i32::from(fund.code()),
            provisional_point_value: match point_value {
                PointValue::Given(value) => Some(common::Decimal {
                    value: value.round_dp(4).to_string(),
                }),
                PointValue::Published => None,
            },
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: matches!(point_value, PointValue::Published),
        })
        .await?;
    // Only a closed month's prepayment is final, and the clearing settles against final ones.
    client
        .close_month(settlement::CloseMonthRequest {
            request_id: format!("demo-close-{region}-{}-{month}", fund.code()),
            region_code: region.to_string(),
            period: Some(common::YearMonth { year: YEAR, month }),
            fund_type: i32::from(fund.code()),
        })
        .await?;
    Ok(())
}

fn wire_money(value: Option<common::Money>, what: &str) -> anyhow::Result<Money> {
    value
        .ok_or_else(|| anyhow::anyhow!("the clearing answered no {what}"))?
        .yuan
        .parse()
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// Clears the year of `region` and `fund`, exports its statements as XLSX and reads them back.
async fn clear(
    client: &mut SettlementRunServiceClient<Channel>,
    region: RegionCode,
    fund: FundType,
    budget: Money,
    roster: &Roster,
    out: &Path,
) -> anyhow::Result<ClearingSummary> {
    let clearing = client
        .run_clearing(settlement::RunClearingRequest {
            request_id: format!("demo-clear-{region}-{}", fund.code()),
            region_code: region.to_string(),
            year: YEAR,
            fund_type: i32::from(fund.code()),
            distributable_budget: Some(common::Money {
                yuan: budget.to_string(),
            }),
            reason: String::new(),
            skip_unvalued: false,
        })
        .await?
        .into_inner();
    let identity = clearing
        .identity
        .ok_or_else(|| anyhow::anyhow!("the clearing answered no identity check"))?;
    let totals = clearing.totals.as_ref();
    let decimal = |value: Option<&common::Decimal>| -> anyhow::Result<Option<Decimal>> {
        Ok(value.map(|d| d.value.parse::<Decimal>()).transpose()?)
    };
    let point_value = decimal(totals.and_then(|t| t.point_value.as_ref()))?.unwrap_or_default();
    let reimbursement_ratio = decimal(totals.and_then(|t| t.reimbursement_ratio.as_ref()))?;
    let points_budget = totals
        .and_then(|t| t.points_budget.clone())
        .map(|budget| wire_money(Some(budget), "points budget"))
        .transpose()?;
    let mut hospitals = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_statements(settlement::ListStatementsRequest {
                region_code: region.to_string(),
                run_id: clearing.run_id.clone(),
                page_size: 1_000,
                page_token: page_token.clone(),
                hospital_code: String::new(),
            })
            .await?
            .into_inner();
        for statement in &page.statements {
            let json: serde_json::Value = serde_json::from_str(&statement.statement_json)?;
            hospitals.push(HospitalTotals::from_statement(&json, roster)?);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let export = client
        .export_statements(settlement::ExportStatementsRequest {
            region_code: region.to_string(),
            run_id: clearing.run_id.clone(),
            format: settlement::ExportFormat::Xlsx as i32,
        })
        .await?
        .into_inner();
    std::fs::write(
        out.join(format!("clearing-{region}-{}-{YEAR}.xlsx", fund.code())),
        &export.content,
    )?;
    Ok(ClearingSummary {
        region,
        fund,
        run_id: clearing.run_id,
        point_value,
        budget_point_value: None,
        points_budget,
        reimbursement_ratio,
        distributable_budget: wire_money(identity.distributable_budget, "distributable budget")?,
        total_entitlements: wire_money(identity.total_entitlements, "entitlements")?,
        special_cases: wire_money(identity.ffs_special_total, "special cases")?,
        residue: wire_money(identity.residue, "residue")?,
        identity_holds: identity.holds,
        hospitals,
    })
}
