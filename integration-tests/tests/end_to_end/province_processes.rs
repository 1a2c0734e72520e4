//! A simulated month of one county through the province deployment: every context its own
//! `medpay serve` process on PostgreSQL with TLS, the gateway's routing in front
//! (`integration_tests::province`). The county registers its hospitals, puts its tables,
//! uploads the month in four uploads and runs the prepayment. During one upload grouping is
//! killed (SIGKILL): the upload fails UNAVAILABLE, stores nothing, and its retry after the
//! restart values every list. During another, settlement itself is killed and restarted on its
//! port while the county retries with the same request id. The ledger and the prepayments'
//! statements are exactly those of an uninterrupted run of the same month on a database of its
//! own: nothing lost, nothing counted twice.
//!
//! PostgreSQL only: skipped without `TEST_DATABASE_URL` (`.ci/run` sets it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use integration_tests::province::{AgencyChannel, Database, Province};
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as points;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_simulator::{ModeRates, Simulation, SimulationConfig};
use tonic::{Code, Response, Status};

/// Meilan district, Haikou.
const COUNTY: &str = "460108";
const YEAR: i32 = 2025;
const MONTH: u32 = 3;
const UPLOADS: usize = 4;
/// How long the county keeps retrying one call.
const PATIENCE: Duration = Duration::from_secs(60);

/// The county's month: its hospitals and its inpatient lists, from a seeded simulation with only
/// the main method (DRG here) and readmissions, which the county's table prices.
struct Month {
    hospitals: Vec<settlement::PutInstitutionRequest>,
    agreements: Vec<settlement::PutAgreementRequest>,
    funds: Vec<i32>,
    lists: Vec<String>,
}

fn simulated_month() -> anyhow::Result<Month> {
    let simulation = Simulation::hainan(SimulationConfig {
        seed: 7,
        first_year: YEAR,
        years: 1,
        cases_per_year: 30_000,
        modes: ModeRates {
            basic_level: 0.0,
            day_surgery: 0.0,
            per_diem_psychiatric: 0.0,
            per_diem_rehabilitation: 0.0,
            per_diem_hospice: 0.0,
            long_stay: 0.0,
            outpatient: 0.0,
            pharmacy: 0.0,
            ..ModeRates::default()
        },
        ..SimulationConfig::default()
    })?;
    let mut hospitals = Vec::new();
    let mut agreements = Vec::new();
    for hospital in &simulation.province().hospitals {
        if hospital.region().to_string() != COUNTY {
            continue;
        }
        let code = hospital.code().to_owned();
        let kind = match hospital.speciality {
            medpay_simulator::province::Speciality::General if hospital.level.is_primary() => {
                "primary"
            }
            medpay_simulator::province::Speciality::General => "general",
            _ => "specialist",
        };
        hospitals.push(settlement::PutInstitutionRequest {
            request_id: format!("institution-{code}"),
            institution: Some(settlement::Institution {
                code: code.clone(),
                name: hospital.institution.name.clone(),
                region_code: COUNTY.into(),
                level: hospital.level.code().into(),
                institution_type: kind.into(),
                alliance_code: String::new(),
            }),
            effective_from: wire_date(hospital.agreement.start),
            reason: "designated institution".into(),
        });
        agreements.push(settlement::PutAgreementRequest {
            request_id: format!("agreement-{code}"),
            region_code: COUNTY.into(),
            institution_code: code,
            agreement: Some(settlement::Agreement {
                agreement_id: hospital.agreement.agreement_id.clone(),
                valid_from: wire_date(hospital.agreement.start),
                valid_to: wire_date(hospital.agreement.end),
                status: "active".into(),
            }),
            reason: "service agreement".into(),
        });
    }
    let mut funds = Vec::new();
    let mut lists = Vec::new();
    for case in simulation.cases() {
        let Some(list) = case.list() else { continue };
        let (_, month, _) = list.stay.discharged_at.date().ymd();
        if list.header.pooling_region.to_string() != COUNTY || month != MONTH {
            continue;
        }
        let fund = i32::from(list.header.insurance_type);
        if !funds.contains(&fund) {
            funds.push(fund);
        }
        lists.push(case.record_json()?);
    }
    funds.sort_unstable();
    Ok(Month {
        hospitals,
        agreements,
        funds,
        lists,
    })
}

fn wire_date(date: kernel::Date) -> Option<common::Date> {
    let (year, month, day) = date.ymd();
    Some(common::Date {
        year,
        month: month as i32,
        day: day as i32,
    })
}

/// The county's table for a fund: DRG, every stay valued against the all-case mean (groups the
/// table does not list are paid on their cost).
fn table_document(fund: i32) -> String {
    serde_json::json!({
        "policy": {"region": COUNTY, "year": YEAR, "fund_type": fund.to_string(), "main_method": "drg"},
        "tables": {
            "region": COUNTY, "year": YEAR, "fund_type": fund.to_string(),
            "drg": {"all_case_mean_cost": "10000", "groups": {}},
        },
    })
    .to_string()
}

/// The county agency's system: its calls through the gateway, retried with the same request
/// while they fail UNAVAILABLE, as the county's system does.
struct Agency {
    intake: SettlementServiceClient<AgencyChannel>,
    runs: SettlementRunServiceClient<AgencyChannel>,
    tables: PointsServiceClient<AgencyChannel>,
    unavailable: AtomicU64,
}

impl Agency {
    async fn new(province: &Province) -> anyhow::Result<Agency> {
        let channel = province.agency_channel().await?;
        Ok(Agency {
            intake: SettlementServiceClient::new(channel.clone()),
            runs: SettlementRunServiceClient::new(channel.clone()),
            tables: PointsServiceClient::new(channel),
            unavailable: AtomicU64::new(0),
        })
    }

    async fn call<T, F, Fut>(&self, what: &str, mut call: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Response<T>, Status>>,
    {
        let started = Instant::now();
        loop {
            match call().await {
                Ok(answer) => return Ok(answer.into_inner()),
                Err(status)
                    if status.code() == Code::Unavailable && started.elapsed() < PATIENCE =>
                {
                    self.unavailable.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(status) => anyhow::bail!("{what}: {status:?}"),
            }
        }
    }

    async fn set_up(&self, month: &Month) -> anyhow::Result<()> {
        for (institution, agreement) in month.hospitals.iter().zip(&month.agreements) {
            self.call("PutInstitution", || {
                let mut c = self.intake.clone();
                let body = institution.clone();
                async move { c.put_institution(body).await }
            })
            .await?;
            self.call("PutAgreement", || {
                let mut c = self.intake.clone();
                let body = agreement.clone();
                async move { c.put_agreement(body).await }
            })
            .await?;
        }
        for fund in &month.funds {
            let put = points::PutTableRequest {
                request_id: format!("table-{fund}"),
                region_code: COUNTY.into(),
                year: YEAR,
                fund_type: *fund,
                document_json: table_document(*fund),
                document: None,
            };
            let version = self
                .call("PutTable", || {
                    let mut c = self.tables.clone();
                    let body = put.clone();
                    async move { c.put_table(body).await }
                })
                .await?
                .table
                .map(|t| t.version)
                .unwrap_or_default();
            let activate = points::ActivateTableRequest {
                request_id: format!("table-{fund}-active"),
                region_code: COUNTY.into(),
                year: YEAR,
                fund_type: *fund,
                version,
                effective_from: Some(common::Date {
                    year: YEAR,
                    month: 1,
                    day: 1,
                }),
            };
            self.call("ActivateTable", || {
                let mut c = self.tables.clone();
                let body = activate.clone();
                async move { c.activate_table(body).await }
            })
            .await?;
        }
        Ok(())
    }

    /// One upload, retried while UNAVAILABLE; its (accepted, rejected).
    async fn upload(&self, request_id: &str, lists: &[String]) -> anyhow::Result<(u64, u64)> {
        let messages = messages(request_id, lists);
        let answer = self
            .call("SubmitCases", || {
                let mut c = self.intake.clone();
                let body = tokio_stream::iter(messages.clone());
                async move { c.submit_cases(body).await }
            })
            .await?;
        let outcome = answer
            .outcome
            .ok_or_else(|| anyhow::anyhow!("{request_id}: no outcome"))?;
        Ok((outcome.accepted, outcome.rejected))
    }

    /// One upload during which `kill` runs once half of it has reached the server; the status
    /// it failed with.
    async fn upload_killed(
        &self,
        request_id: &str,
        lists: &[String],
        kill: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<Status> {
        let messages = messages(request_id, lists);
        let (tx, rx) = tokio::sync::mpsc::channel(messages.len().max(1));
        let mut intake = self.intake.clone();
        let call = tokio::spawn(async move {
            intake
                .submit_cases(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
        });
        let half = messages.len() / 2;
        for message in &messages[..half] {
            tx.send(message.clone()).await?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill()?;
        for message in &messages[half..] {
            // The call may have ended already; what it answered is below.
            let _ = tx.send(message.clone()).await;
        }
        drop(tx);
        match call.await? {
            Ok(answer) => anyhow::bail!("{request_id} was answered despite the kill: {answer:?}"),
            Err(status) => {
                if status.code() == Code::Unavailable {
                    self.unavailable.fetch_add(1, Ordering::Relaxed);
                }
                Ok(status)
            }
        }
    }

    /// The county's current cases, every page, in the ledger's order.
    async fn cases(&self) -> anyhow::Result<Vec<settlement::CaseSummary>> {
        let mut cases = Vec::new();
        let mut page_token = String::new();
        loop {
            let ask = settlement::ListCasesRequest {
                region_code: COUNTY.into(),
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            };
            let page = self
                .call("ListCases", || {
                    let mut c = self.intake.clone();
                    let body = ask.clone();
                    async move { c.list_cases(body).await }
                })
                .await?;
            cases.extend(page.cases);
            if page.next_page_token.is_empty() {
                return Ok(cases);
            }
            page_token = page.next_page_token;
        }
    }

    /// The month's prepayment of every fund: each run's version, totals and statements digest.
    async fn prepay(&self, funds: &[i32]) -> anyhow::Result<Vec<Prepaid>> {
        let mut prepaid = Vec::new();
        for fund in funds {
            let run = settlement::RunPrepaymentRequest {
                request_id: format!("prepay-{YEAR}-{MONTH:02}-{fund}"),
                region_code: COUNTY.into(),
                period: Some(common::YearMonth {
                    year: YEAR,
                    month: MONTH as i32,
                }),
                fund_type: *fund,
                provisional_point_value: Some(common::Decimal {
                    value: "95.5".into(),
                }),
                month_budget: None,
                skip_unvalued: false,
                use_published_point_value: false,
            };
            let answer = self
                .call("RunPrepayment", || {
                    let mut c = self.runs.clone();
                    let body = run.clone();
                    async move { c.run_prepayment(body).await }
                })
                .await?;
            let get = settlement::GetRunRequest {
                region_code: COUNTY.into(),
                run_id: answer.run_id.clone(),
            };
            let stored = self
                .call("GetRun", || {
                    let mut c = self.runs.clone();
                    let body = get.clone();
                    async move { c.get_run(body).await }
                })
                .await?
                .run
                .ok_or_else(|| anyhow::anyhow!("no run {}", answer.run_id))?;
            prepaid.push(Prepaid {
                fund: *fund,
                version: answer.version,
                totals: answer.totals,
                digest: stored.statements_digest,
            });
        }
        Ok(prepaid)
    }
}

#[derive(Debug, PartialEq)]
struct Prepaid {
    fund: i32,
    version: i32,
    totals: Option<settlement::RunTotals>,
    digest: String,
}

fn messages(request_id: &str, lists: &[String]) -> Vec<settlement::SubmitCasesRequest> {
    lists
        .iter()
        .enumerate()
        .map(|(i, json)| settlement::SubmitCasesRequest {
            request_id: if i == 0 {
                request_id.to_owned()
            } else {
                String::new()
            },
            region_code: COUNTY.into(),
            case_json: String::new(),
            record: Some(settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    json.clone(),
                )),
            }),
        })
        .collect()
}

/// What the month left: every upload's outcome, the ledger, the prepayments.
#[derive(Debug, PartialEq)]
struct Paid {
    outcomes: Vec<(u64, u64)>,
    cases: Vec<settlement::CaseSummary>,
    prepaid: Vec<Prepaid>,
}

fn uploads(month: &Month) -> Vec<&[String]> {
    let size = month.lists.len().div_ceil(UPLOADS);
    month.lists.chunks(size.max(1)).collect()
}

async fn reference(url: &str, month: &Month) -> anyhow::Result<Paid> {
    let province =
        Province::start(Database::create(url, "medpay_province_reference")?, COUNTY).await?;
    let agency = Agency::new(&province).await?;
    agency.set_up(month).await?;
    let mut outcomes = Vec::new();
    for (n, lists) in uploads(month).into_iter().enumerate() {
        outcomes.push(agency.upload(&format!("upload-{n}"), lists).await?);
    }
    Ok(Paid {
        outcomes,
        cases: agency.cases().await?,
        prepaid: agency.prepay(&month.funds).await?,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_month_survives_killed_context_processes() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let month = simulated_month()?;
    anyhow::ensure!(
        month.lists.len() >= 4 * UPLOADS && !month.hospitals.is_empty(),
        "the simulated month is too small: {} lists",
        month.lists.len()
    );
    let started = Instant::now();
    eprintln!(
        "{} lists of {COUNTY} in {YEAR}-{MONTH:02}, {} hospitals, funds {:?}",
        month.lists.len(),
        month.hospitals.len(),
        month.funds
    );
    let expected = reference(&url, &month).await?;
    eprintln!("reference run: {:.1} s", started.elapsed().as_secs_f64());
    anyhow::ensure!(
        expected.outcomes.iter().all(|(_, rejected)| *rejected == 0),
        "the reference refused lists: {:?}",
        expected.outcomes
    );
    assert!(expected.prepaid.iter().all(|p| p.version == 1));

    let province =
        Province::start(Database::create(&url, "medpay_province_killed")?, COUNTY).await?;
    let agency = Agency::new(&province).await?;
    // Shared with the thread that restarts settlement while the county retries.
    let province = Arc::new(std::sync::Mutex::new(province));
    agency.set_up(&month).await?;
    let parts = uploads(&month);
    let mut outcomes = vec![agency.upload("upload-0", parts[0]).await?];
    let stored = agency.cases().await?.len();

    // Grouping dies while the second upload streams: settlement cannot value it, so the upload
    // fails as a whole and stores nothing.
    let status = agency
        .upload_killed("upload-1", parts[1], || lock(&province)?.kill("grouping"))
        .await?;
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        agency.cases().await?.len(),
        stored,
        "a failed upload stored lists"
    );
    lock(&province)?.start_context("grouping")?;
    outcomes.push(agency.upload("upload-1", parts[1]).await?);
    let unvalued = agency
        .cases()
        .await?
        .into_iter()
        .filter(|c| c.status == "unvalued")
        .count();
    assert_eq!(unvalued, 0, "the retried upload left lists unvalued");

    // Settlement itself dies in the middle of the third upload and comes back on its port half
    // a second later; the county retries the same request until it is answered.
    let before = agency.unavailable.load(Ordering::Relaxed);
    let status = agency
        .upload_killed("upload-2", parts[2], || lock(&province)?.kill("settlement"))
        .await?;
    let restart = {
        let province = province.clone();
        tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(500));
            lock(&province)?.start_context("settlement")
        })
    };
    let retried = agency.upload("upload-2", parts[2]).await;
    restart.await??;
    outcomes.push(retried?);
    let seen = agency.unavailable.load(Ordering::Relaxed) - before;
    assert!(
        seen >= 1,
        "the county never saw UNAVAILABLE while settlement was down (the kill failed the call \
         with {status:?})"
    );
    for (n, lists) in parts.iter().enumerate().skip(3) {
        outcomes.push(agency.upload(&format!("upload-{n}"), lists).await?);
    }

    eprintln!(
        "interrupted run: {:.1} s in all, {} UNAVAILABLE answers seen",
        started.elapsed().as_secs_f64(),
        agency.unavailable.load(Ordering::Relaxed)
    );
    let paid = Paid {
        outcomes,
        cases: agency.cases().await?,
        prepaid: agency.prepay(&month.funds).await?,
    };
    assert_eq!(paid.cases.len(), expected.cases.len(), "ledger count");
    assert_eq!(paid.outcomes, expected.outcomes);
    assert_eq!(paid.prepaid, expected.prepaid);
    assert_eq!(paid.cases, expected.cases);
    Ok(())
}

fn lock(
    province: &std::sync::Mutex<Province>,
) -> anyhow::Result<std::sync::MutexGuard<'_, Province>> {
    province
        .lock()
        .map_err(|_| anyhow::anyhow!("a step panicked holding the province"))
}
