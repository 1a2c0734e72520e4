//! `medpay demo`: a simulated Hainan province-year paid end to end. The demo acts as the bureau
//! and the county agencies over real gRPC, on its own server (the server of `medpay up` on a fresh
//! SQLite folder or an empty PostgreSQL database) or on a running one (`--server`, see
//! [`target`]): it registers every hospital and pharmacy with its
//! agreement, prices a points table per pooling region and fund from the simulated costs,
//! submits every simulated settlement through `SubmitCases`, prepays and closes twelve months,
//! screens them, sets the budgets that share surpluses and overspends, clears the year per region
//! and fund, and writes the statements, a summary and an HTML report.

mod bureau;
mod report;
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
use medpay_simulator::{Record, Simulation, SimulationConfig};

use crate::config::Settings;
use bureau::Screening;
use summary::{ClearingSummary, HospitalTotals, Roster, RosterEntry};
use target::Channel;

/// The simulated year: complete, and before any date intake would call the future.
const YEAR: i32 = 2025;
/// Share of a fund's claims the bureau makes distributable.
const BUDGET_SHARE: Decimal = Decimal::from_parts(97, 0, 0, false, 2);
/// Share of the estimated point value paid month by month.
const PROVISIONAL_SHARE: Decimal = Decimal::from_parts(90, 0, 0, false, 2);
/// Answers can carry a whole region's statements.
const MESSAGE_LIMIT: usize = 256 * 1024 * 1024;

/// What `medpay demo` was asked for.
#[derive(Clone, Debug)]
pub struct DemoArgs {
    pub cases: u64,
    pub seed: u64,
    pub out: PathBuf,
    /// Folder of the SQLite database; a fresh temporary one when absent.
    pub data: Option<PathBuf>,
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
    let started = Instant::now();
    let simulation = Simulation::hainan(SimulationConfig {
        seed: args.seed,
        first_year: YEAR,
        years: 1,
        cases_per_year: args.cases,
        ..SimulationConfig::default()
    })?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;

    let observations = observe(&simulation)?;

    let target = target::Target::start(settings, &args, &simulation).await?;
    eprintln!(
        "medpay demo: {} cases of Hainan {YEAR} (seed {}) on {}",
        args.cases, args.seed, target.description
    );
    let outcome = act(
        &simulation,
        &observations,
        target.channel.clone(),
        &args.out,
    )
    .await;
    target.stop().await?;
    let (clearings, screening) = outcome?;
    print!("{}", summary::table(&clearings));
    print!("{}", summary::findings_table(&screening));
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
        clearings: &clearings,
        screening: &screening,
    });
    std::fs::write(args.out.join("report.html"), page)?;
    eprintln!(
        "medpay demo: {} clearings in {:.1} s; statements, summary.csv and report.html in {}",
        clearings.len(),
        started.elapsed().as_secs_f64(),
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

/// The bureau's look at the year before it prices the tables.
fn observe(simulation: &Simulation) -> anyhow::Result<tables::Observations> {
    let scheme = grouping_domain::load_demo()
        .map_err(|e| anyhow::anyhow!("the demo DRG scheme does not load: {e}"))?;
    let compiled = grouping_domain::CompiledScheme::compile(&scheme);
    let mut grouper = compiled.grouper();
    let mut observations = tables::Observations::default();
    let progress = Progress::new("looking at the year", simulation.config().cases_per_year);
    for case in simulation.cases() {
        observations.observe(&case, &mut grouper);
        if observations.records.is_multiple_of(10_000) {
            progress.show(observations.records);
        }
    }
    progress.finish(observations.records);
    Ok(observations)
}

/// Everything the bureau and the counties do over gRPC; returns a summary per clearing.
async fn act(
    simulation: &Simulation,
    observations: &tables::Observations,
    channel: Channel,
    out: &Path,
) -> anyhow::Result<(Vec<ClearingSummary>, Screening)> {
    let mut intake = SettlementServiceClient::new(channel.clone())
        .max_decoding_message_size(MESSAGE_LIMIT)
        .max_encoding_message_size(MESSAGE_LIMIT);
    register(simulation, &mut intake).await?;

    let pools: BTreeSet<(RegionCode, u16)> =
        observations.inpatient_claims.keys().copied().collect();
    let mut tables = PointsServiceClient::new(channel.clone());
    for (region, fund) in &pools {
        let fund = FundType::from_code(*fund)?;
        put_table(&mut tables, observations, *region, fund).await?;
    }
    eprintln!("tables: {} activated", pools.len());

    submit(simulation, &mut intake).await?;

    // Hainan pools both funds province-wide (省级统筹): the province prepays and clears, and
    // a clearing of a region takes the cases of every region inside it.
    let province = simulation.province().code;
    let roster = roster(simulation);
    let mut runs = SettlementRunServiceClient::new(channel.clone())
        .max_decoding_message_size(MESSAGE_LIMIT)
        .max_encoding_message_size(MESSAGE_LIMIT);
    let mut claims_by_fund: BTreeMap<u16, Money> = BTreeMap::new();
    for ((_, fund), claims) in &observations.inpatient_claims {
        *claims_by_fund.entry(*fund).or_insert(Money::ZERO) += *claims;
    }
    let progress = Progress::new("prepayments", claims_by_fund.len() as u64 * 12);
    let mut done = 0;
    for fund in claims_by_fund.keys() {
        let fund = FundType::from_code(*fund)?;
        let estimate = observations
            .all_case_mean_cost(fund)
            .map(|mean| mean.value() / Decimal::ONE_HUNDRED * PROVISIONAL_SHARE)
            .unwrap_or(Decimal::ONE_HUNDRED);
        for month in 1..=12 {
            prepay(&mut runs, province, fund, month, estimate).await?;
            done += 1;
            progress.show(done);
        }
    }
    progress.finish(done);

    let screening = bureau::screen(channel.clone(), province).await?;
    eprintln!(
        "screening: {} stays, {} findings",
        screening.cases,
        screening.findings()
    );

    let mut clearings = Vec::new();
    for (fund, claims) in &claims_by_fund {
        let fund = FundType::from_code(*fund)?;
        // The simulated year stands in for last year's spending: the budget's reserve is what
        // shares the overspends out.
        bureau::set_budget(channel.clone(), province, fund, *claims).await?;
        let budget = claims.mul_round(BUDGET_SHARE);
        clearings.push(clear(&mut runs, province, fund, budget, &roster, out).await?);
    }
    eprintln!("clearings: {} run", clearings.len());
    Ok((clearings, screening))
}

/// Every simulated institution by code (pooling region, name, level) and the region names.
fn roster(simulation: &Simulation) -> Roster {
    let province = simulation.province();
    let institutions = province
        .hospitals
        .iter()
        .map(|h| &h.institution)
        .chain(province.pharmacies.iter().map(|p| &p.institution))
        .map(|i| {
            (
                i.code.clone(),
                RosterEntry {
                    region: i.pooling_region,
                    name: i.name.clone(),
                    level: level_word(i.level),
                },
            )
        })
        .collect();
    let region_names = province
        .regions
        .iter()
        .map(|r| (r.code.to_string(), r.name.to_owned()))
        .collect();
    Roster {
        institutions,
        region_names,
    }
}

fn date(value: kernel::Date) -> Option<common::Date> {
    let (year, month, day) = value.ymd();
    Some(common::Date {
        year,
        month: month as i32,
        day: day as i32,
    })
}

fn level_word(level: settlement_domain::institution::InstitutionLevel) -> &'static str {
    use settlement_domain::institution::InstitutionLevel as L;
    match level {
        L::TertiaryA => "3A",
        L::TertiaryB => "3B",
        L::SecondaryA => "2A",
        L::SecondaryB => "2B",
        L::Primary => "1",
        L::Community => "community",
        _ => "unrated",
    }
}

fn type_word(kind: settlement_domain::institution::InstitutionType) -> &'static str {
    use settlement_domain::institution::InstitutionType as T;
    match kind {
        T::GeneralHospital => "general",
        T::SpecialistHospital => "specialist",
        T::TraditionalChineseMedicine => "tcm",
        T::PrimaryCare => "primary",
        T::MaternalChild => "maternal_child",
        _ => "other",
    }
}

/// Registers every hospital and pharmacy in its pooling region with its service agreement.
async fn register(
    simulation: &Simulation,
    client: &mut SettlementServiceClient<Channel>,
) -> anyhow::Result<()> {
    let province = simulation.province();
    let institutions = province
        .hospitals
        .iter()
        .map(|h| (&h.institution, &h.agreement))
        .chain(
            province
                .pharmacies
                .iter()
                .map(|p| (&p.institution, &p.agreement)),
        );
    let mut count = 0;
    for (institution, agreement) in institutions {
        let region = institution.pooling_region.to_string();
        client
            .put_institution(settlement::PutInstitutionRequest {
                request_id: format!("demo-institution-{}", institution.code),
                institution: Some(settlement::Institution {
                    code: institution.code.clone(),
                    name: institution.name.clone(),
                    region_code: region.clone(),
                    level: level_word(institution.level).into(),
                    institution_type: type_word(institution.institution_type).into(),
                    alliance_code: String::new(),
                }),
                effective_from: date(agreement.start),
                reason: "designated institution".into(),
            })
            .await?;
        client
            .put_agreement(settlement::PutAgreementRequest {
                request_id: format!("demo-agreement-{}", institution.code),
                region_code: region,
                institution_code: institution.code.clone(),
                agreement: Some(settlement::Agreement {
                    agreement_id: agreement.agreement_id.clone(),
                    valid_from: date(agreement.start),
                    valid_to: date(agreement.end),
                    status: "active".into(),
                }),
                reason: "service agreement".into(),
            })
            .await?;
        count += 1;
    }
    eprintln!("institutions: {count} registered with their agreements");
    Ok(())
}

async fn put_table(
    client: &mut PointsServiceClient<Channel>,
    observations: &tables::Observations,
    region: RegionCode,
    fund: FundType,
) -> anyhow::Result<()> {
    let document_json = observations.table_document(region, YEAR, fund)?;
    let put = client
        .put_table(points::PutTableRequest {
            request_id: format!("demo-table-{region}-{}", fund.code()),
            region_code: region.to_string(),
            year: YEAR,
            fund_type: i32::from(fund.code()),
            document_json,
        })
        .await?
        .into_inner()
        .table
        .ok_or_else(|| anyhow::anyhow!("PutTable answered no table"))?;
    client
        .activate_table(points::ActivateTableRequest {
            request_id: format!("demo-table-{region}-{}-active", fund.code()),
            region_code: region.to_string(),
            year: YEAR,
            fund_type: i32::from(fund.code()),
            version: put.version,
            effective_from: Some(common::Date {
                year: YEAR,
                month: 1,
                day: 1,
            }),
        })
        .await?;
    Ok(())
}

/// Streams every simulated record to `SubmitCases` as the province's upload: generation runs on
/// its own thread while intake stores what arrived.
async fn submit(
    simulation: &Simulation,
    client: &mut SettlementServiceClient<Channel>,
) -> anyhow::Result<()> {
    let total = simulation.config().cases_per_year;
    let (tx, rx) = tokio::sync::mpsc::channel(4_096);
    let upload_region = simulation.province().code.to_string();
    let generator = simulation.clone();
    let producer = std::thread::spawn(move || -> anyhow::Result<u64> {
        let progress = Progress::new("submitting", total);
        let mut sent = 0_u64;
        for case in generator.cases() {
            let json = case.record_json()?;
            let record = match case.record {
                Record::Inpatient(_) => settlement::submit_record::Record::SettlementListJson(json),
                Record::Ambulatory(_) => settlement::submit_record::Record::AmbulatoryJson(json),
            };
            let request = settlement::SubmitCasesRequest {
                request_id: if sent == 0 {
                    format!("demo-upload-{}-{total}", generator.config().seed)
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
        "intake: {sent} sent, {} accepted, {} rejected",
        outcome.accepted, outcome.rejected
    );
    for rejection in outcome.rejections.iter().take(5) {
        eprintln!(
            "  rejected {} of {}: {} {}",
            rejection.list_id, rejection.hospital_code, rejection.field, rejection.reason
        );
    }
    Ok(())
}

async fn prepay(
    client: &mut SettlementRunServiceClient<Channel>,
    region: RegionCode,
    fund: FundType,
    month: i32,
    point_value: Decimal,
) -> anyhow::Result<()> {
    client
        .run_prepayment(settlement::RunPrepaymentRequest {
            request_id: format!("demo-prepay-{region}-{}-{month}", fund.code()),
            region_code: region.to_string(),
            period: Some(common::YearMonth { year: YEAR, month }),
            fund_type: i32::from(fund.code()),
            provisional_point_value: Some(common::Decimal {
                value: point_value.round_dp(4).to_string(),
            }),
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: false,
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
    let point_value = clearing
        .totals
        .as_ref()
        .and_then(|t| t.point_value.as_ref())
        .map(|d| d.value.parse::<Decimal>())
        .transpose()?
        .unwrap_or_default();
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
        distributable_budget: wire_money(identity.distributable_budget, "distributable budget")?,
        total_entitlements: wire_money(identity.total_entitlements, "entitlements")?,
        special_cases: wire_money(identity.ffs_special_total, "special cases")?,
        residue: wire_money(identity.residue, "residue")?,
        identity_holds: identity.holds,
        hospitals,
    })
}
