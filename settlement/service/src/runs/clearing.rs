//! The year-end clearing (DOMAIN.md §5): the facts read from the ledger, assembled and cleared by
//! the domain, stored with the statements, the identity check, the inputs and the digest.
//!
//! Sharing through the budget context needs every hospital's Std and Act, which the domain
//! prepares before it settles; the budget is asked for them once, before the transaction opens
//! ([`ask_budget`]), and [`clear`] settles with its answers inside the transaction after checking
//! that the ledger still holds what they were asked on.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kernel::{FundType, Money, RegionCode};
use platform::db::{fund_to_db, region_to_db};
use settlement_domain::assessment_scores::SupervisedScores;
use settlement_domain::clearing::alliance::alliances_as_of;
use settlement_domain::clearing::{
    ClearingStatement, PreparedClearing, SharingSource, prepare_clearing,
};
use settlement_domain::clearing_assembly::{
    AnsweredSharing, AssembledClearing, ClearingFacts, YearInput, assemble_clearing, shareable,
};
use settlement_domain::policy::SettlementPolicy;
use settlement_domain::ports::PayStandard;
use settlement_domain::prepayment::PrepaymentLine;
use settlement_domain::run_summary::{IdentityCheck, RunTotals};
use settlement_domain::violation_deductions::SupervisedDeduction;

use super::store::{self, RunRow, kind};
use super::{
    BudgetAccess, RunError, export, internal, new_run_id, no_budget_peer, policy_in_force,
};
use crate::budget_peer::ClearingKey;
use crate::special_cases::bound_decisions;
use crate::store::Storage;
use crate::store::institutions;
use crate::timing::lap;
use settlement_domain::valued_case::ValuedCase;

/// What a clearing needs besides the ledger.
#[derive(Clone, Debug)]
pub struct ClearingOrder {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub distributable_budget: Money,
    /// Run without the year's unvalued cases instead of refusing.
    pub skip_unvalued: bool,
    pub reason: String,
    pub caller: String,
    pub at: i64,
    /// The violation deductions the supervision context confirmed, read before the run; `None`
    /// where this server has no supervision peer and the deductions typed into the year inputs
    /// apply.
    pub deductions: Option<Vec<SupervisedDeduction>>,
    /// The assessment scores of supervision's latest run for the region and year, read before
    /// the run; `None` where this server has no supervision peer.
    pub scores: Option<SupervisedScores>,
}

impl ClearingOrder {
    fn period(&self) -> i32 {
        self.year * 100
    }

    fn discharges(&self) -> (i32, i32) {
        (self.year * 10_000 + 101, self.year * 10_000 + 1231)
    }
}

/// Everything a clearing read, assembled; two reads that compare equal clear alike.
#[derive(Debug, PartialEq, Eq)]
struct Assembled {
    version: i32,
    policy_version: i32,
    policy: SettlementPolicy,
    year_inputs_version: i32,
    prepayment_runs: Vec<String>,
    clearing: AssembledClearing,
    unvalued_skipped: u64,
}

/// How long each phase of a clearing took: reading the ledger and the run's other facts, making
/// the valued cases and the domain's input of them, the domain's computation, storing the run
/// and its statements, and recording the cases it took as cleared. Logged once the run is stored.
#[derive(Clone, Copy, Debug, Default)]
struct Phases {
    read: Duration,
    value: Duration,
    compute: Duration,
    write: Duration,
    mark: Duration,
}

impl Phases {
    fn log(&self, order: &ClearingOrder, cases: u64) {
        let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
        tracing::info!(
            region = %order.region,
            year = order.year,
            fund = ?order.fund,
            cases,
            read_ms = ms(self.read),
            value_ms = ms(self.value),
            compute_ms = ms(self.compute),
            write_ms = ms(self.write),
            mark_ms = ms(self.mark),
            "clearing stored"
        );
    }
}

/// Reads the clearing's facts and assembles its input; refuses a re-run without a reason.
async fn assemble<C: Storage>(
    conn: &C,
    order: &ClearingOrder,
    phases: &mut Phases,
) -> Result<Assembled, RunError> {
    let mut started = Instant::now();
    let version = store::latest_run(
        conn,
        kind::CLEARING,
        order.region,
        order.fund,
        order.period(),
    )
    .await?
    .map_or(1, |run| run.version + 1);
    if version > 1 && order.reason.trim().is_empty() {
        return Err(RunError::Invalid(vec![(
            "reason".to_owned(),
            format!(
                "is required: the year already has clearing version {}",
                version - 1
            ),
        )]));
    }
    let (policy_version, policy) =
        policy_in_force(conn, order.region, order.year, order.fund).await?;
    let (year_inputs_version, year_inputs) =
        match store::latest_year_inputs(conn, order.region, order.year, order.fund).await? {
            None => (0, Vec::new()),
            Some((version, json)) => (
                version,
                serde_json::from_str::<Vec<YearInput>>(&json).map_err(|e| {
                    internal(format!("stored year inputs v{version} are unreadable: {e}"))
                })?,
            ),
        };
    let mut prepayment_runs = Vec::new();
    let mut prepayments = Vec::new();
    for run in store::final_prepayments(conn, order.region, order.fund, order.year).await? {
        for row in store::list_statements(conn, &run.run_id, None, None).await? {
            let line: PrepaymentLine = serde_json::from_str(&row.statement_json).map_err(|e| {
                internal(format!(
                    "statement {}/{}: {e}",
                    row.run_id, row.hospital_code
                ))
            })?;
            prepayments.push(line);
        }
        prepayment_runs.push(run.run_id);
    }
    let decisions = bound_decisions(conn, order.region, order.year)
        .await?
        .into_iter()
        .map(|d| ((d.hospital_code, d.list_id), d.decision))
        .collect();
    let (from, to) = order.discharges();
    let unvalued_skipped = super::refuse_unvalued(
        conn,
        (order.region, order.fund),
        (from, to),
        order.skip_unvalued,
    )
    .await?;
    let period_cases = store::run_cases(conn, order.region, order.fund, from, to).await?;
    super::episodes::refuse_stale_episodes(conn, &period_cases, &policy).await?;
    phases.read += lap(&mut started);
    let cases = super::valued_cases(period_cases);
    phases.value += lap(&mut started);
    let later_stays = super::later_stays(conn, order.region, order.fund, to, &policy).await?;
    let alliances = alliances(conn, order.year, &cases, &year_inputs, &prepayments).await?;
    phases.read += lap(&mut started);
    let clearing = assemble_clearing(ClearingFacts {
        region: order.region,
        year: order.year,
        fund: order.fund,
        distributable_budget: order.distributable_budget,
        year_inputs,
        supervised_deductions: order.deductions.clone(),
        supervised_scores: order.scores.clone(),
        prepayments,
        decisions,
        cases,
        later_stays,
        readmission: policy.readmission.clone(),
        alliances,
    })
    .map_err(RunError::Domain)?;
    phases.value += lap(&mut started);
    Ok(Assembled {
        version,
        policy_version,
        policy,
        year_inputs_version,
        prepayment_runs,
        clearing,
        unvalued_skipped,
    })
}

/// The medical alliance of every hospital the clearing pays, read from the stored registry as of
/// the year's end (the domain's rule, [`alliances_as_of`]), whatever the request says.
async fn alliances<C: Storage>(
    conn: &C,
    year: i32,
    cases: &[ValuedCase],
    year_inputs: &[YearInput],
    prepayments: &[PrepaymentLine],
) -> Result<BTreeMap<String, String>, RunError> {
    let codes: Vec<String> = cases
        .iter()
        .map(|c| c.hospital_code.clone())
        .chain(year_inputs.iter().map(|y| y.hospital_code.clone()))
        .chain(prepayments.iter().map(|p| p.hospital_code.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let records = institutions::records(conn, &codes).await?;
    Ok(alliances_as_of(records.values(), year))
}

/// The domain's preparation, off the async threads (it walks every case of the year).
async fn prepare(assembled: Assembled) -> Result<(Assembled, PreparedClearing), RunError> {
    tokio::task::spawn_blocking(move || {
        let prepared = prepare_clearing(&assembled.clearing.input, &assembled.policy.clearing);
        prepared.map(|prepared| (assembled, prepared))
    })
    .await
    .map_err(internal)?
    .map_err(RunError::Domain)
}

/// A clearing prepared and shared out by the budget context, before its transaction.
#[derive(Debug)]
pub struct BudgetSharing {
    assembled: Assembled,
    prepared: PreparedClearing,
    answers: AnsweredSharing,
    run_id: String,
}

/// When the policy in force shares through the budget context: reads and prepares the clearing
/// and asks the budget for every shareable hospital's sharing at once. `None` when the policy
/// pays each hospital its standard, which asks nobody.
///
/// Runs outside any transaction: the peer call never holds one open.
pub async fn ask_budget<C: Storage>(
    conn: &C,
    order: &ClearingOrder,
    budget: Option<BudgetAccess<'_>>,
) -> Result<Option<BudgetSharing>, RunError> {
    let (_, policy) = policy_in_force(conn, order.region, order.year, order.fund).await?;
    if policy.clearing.sharing != SharingSource::Budget {
        return Ok(None);
    }
    let budget = budget.ok_or_else(|| no_budget_peer("sharing through the budget"))?;
    let (assembled, prepared) =
        prepare(assemble(conn, order, &mut Phases::default()).await?).await?;
    let run_id = new_run_id()?;
    // An alliance is asked as one unit under its code (settlement_domain::clearing::alliance).
    let requests: Vec<_> = prepared
        .sharing_requests()
        .into_iter()
        .filter(shareable)
        .collect();
    let answers = if requests.is_empty() {
        BTreeMap::new()
    } else {
        let key = ClearingKey {
            region: order.region,
            year: order.year,
            fund: order.fund,
            run_id: run_id.clone(),
        };
        budget.peer.share(budget.principal, &key, &requests).await?
    };
    Ok(Some(BudgetSharing {
        assembled,
        prepared,
        answers: AnsweredSharing::new(answers),
        run_id,
    }))
}

/// Runs the year-end clearing and stores it as the next version, its statements, identity check,
/// inputs and digest, and records the cases it read as cleared by it (`store::mark_cleared`).
/// `shared` is what [`ask_budget`] gave: required when the policy shares through the budget.
pub async fn clear<C: Storage>(
    conn: &C,
    order: &ClearingOrder,
    shared: Option<BudgetSharing>,
) -> Result<RunRow, RunError> {
    let mut phases = Phases::default();
    let (assembled, statement, id) = match shared {
        Some(shared) => {
            if assemble(conn, order, &mut phases).await? != shared.assembled {
                return Err(RunError::Conflict(format!(
                    "the ledger of {} {} changed while the budget context shared the clearing \
                     out: run it again",
                    order.region, order.year
                )));
            }
            let started = Instant::now();
            let statement = shared
                .prepared
                .settle(&shared.answers)
                .map_err(RunError::Domain)?;
            phases.compute += started.elapsed();
            (shared.assembled, statement, shared.run_id)
        }
        None => {
            let assembled = assemble(conn, order, &mut phases).await?;
            if assembled.policy.clearing.sharing == SharingSource::Budget {
                return Err(no_budget_peer("sharing through the budget"));
            }
            // Regional points mode: no per-hospital sharing, each hospital is paid its standard.
            let started = Instant::now();
            let (assembled, prepared) = prepare(assembled).await?;
            let statement = prepared.settle(&PayStandard).map_err(RunError::Domain)?;
            phases.compute += started.elapsed();
            (assembled, statement, new_run_id()?)
        }
    };
    store_clearing(conn, order, assembled, statement, id, phases).await
}

/// What the run read of the violation deductions: their source and, from supervision, each
/// hospital's amount and findings (the statements carry them too).
fn deductions_read(order: &ClearingOrder) -> serde_json::Value {
    match &order.deductions {
        None => serde_json::json!({"source": "year_inputs"}),
        Some(deductions) => serde_json::json!({
            "source": "supervision",
            "hospitals": deductions
                .iter()
                .map(|d| serde_json::json!({
                    "hospital_code": d.hospital_code,
                    "amount": d.amount,
                    "findings": d.findings.iter().map(|f| &f.finding_id).collect::<Vec<_>>(),
                }))
                .collect::<Vec<_>>(),
        }),
    }
}

/// What the run read of the assessment scores: supervision's run version and scores, or that
/// only the year inputs' scores apply.
fn scores_read(order: &ClearingOrder) -> serde_json::Value {
    match &order.scores {
        None => serde_json::json!({"source": "year_inputs"}),
        Some(scores) => serde_json::json!({
            "source": "supervision",
            "assessment_version": scores.version,
            "hospitals": scores.scores,
        }),
    }
}

async fn store_clearing<C: Storage>(
    conn: &C,
    order: &ClearingOrder,
    assembled: Assembled,
    statement: ClearingStatement,
    id: String,
    mut phases: Phases,
) -> Result<RunRow, RunError> {
    let mut started = Instant::now();
    let identity = IdentityCheck::of(&statement).map_err(internal)?;
    let csv = export::to_csv(&export::clearing_table(&statement.hospitals)).map_err(internal)?;
    let case_count = assembled.clearing.input.cases.len() as u64;
    let totals = RunTotals::of_clearing(&statement, case_count);
    let statements = statement
        .hospitals
        .iter()
        .map(|s| {
            super::statement_row(
                &id,
                order.region,
                &s.hospital_code,
                serde_json::to_string(s).map_err(internal)?,
                s.balance,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let versions = &assembled.clearing.versions;
    let inputs = serde_json::json!({
        "policy_version": assembled.policy_version,
        "year_inputs_version": assembled.year_inputs_version,
        "prepayment_runs": assembled.prepayment_runs,
        "special_cases_bound": assembled.clearing.special_cases_bound,
        "unvalued_cases_skipped": assembled.unvalued_skipped,
        "sharing": statement.policy.sharing,
        "violation_deductions": deductions_read(order),
        "assessment_scores": scores_read(order),
        "scheme_versions": versions.schemes,
        "table_versions": versions.tables,
    });
    // The whole statement without the per-hospital lines, which are stored one row each.
    let summary = ClearingStatement {
        hospitals: Vec::new(),
        ..statement
    };
    let run = RunRow {
        run_id: id,
        kind: kind::CLEARING.to_owned(),
        region_code: region_to_db(order.region),
        fund_type: fund_to_db(order.fund),
        period: order.period(),
        version: assembled.version,
        is_final: false,
        reason: order.reason.clone(),
        totals_json: serde_json::to_string(&totals).map_err(internal)?,
        identity_json: serde_json::to_string(&identity).map_err(internal)?,
        statements_digest: export::sha256_hex(&csv),
        inputs_json: inputs.to_string(),
        result_json: serde_json::to_string(&summary).map_err(internal)?,
        created_by: order.caller.clone(),
        created_at: order.at,
    };
    drop(assembled);
    store::insert_run(conn, run.clone(), statements).await?;
    phases.write += lap(&mut started);
    let (from, to) = order.discharges();
    store::mark_cleared(conn, &run.run_id, order.region, order.fund, (from, to)).await?;
    phases.mark += lap(&mut started);
    phases.log(order, case_count);
    Ok(run)
}
