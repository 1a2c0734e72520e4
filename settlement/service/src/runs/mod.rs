//! Settlement runs (DOMAIN.md §5): monthly prepayment, month close, year-end clearing, statement
//! disputes and shadow settlement, over the case ledger. Each write runs inside the caller's
//! transaction (the journal's), so a run is stored whole or not at all.

pub mod export;
pub mod grpc;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use kernel::date::{Date, DateTime};
use kernel::{Decimal, FundType, Money, Points, Principal, RegionCode, YearMonth, round_points};
use platform::db::{fund_to_db, region_to_db};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use settlement_domain::SettlementError;
use settlement_domain::clearing::{
    ClearingCase, ClearingInput, ClearingStatement, HospitalClearingInput, HospitalStatement,
    SharingSource, run_clearing,
};
use settlement_domain::dispute::{DisputeState, StatementDispute};
use settlement_domain::policy::SettlementPolicy;
use settlement_domain::ports::{PayStandard, SharingCalculator};
use settlement_domain::prepayment::{
    BudgetMode, HospitalMonth, PrepaymentInput, PrepaymentLine, PrepaymentStatement,
    ProvisionalPointValue, run_prepayment,
};
use settlement_domain::shadow::{ShadowCase, ShadowReport, shadow_settlement};
use settlement_domain::special_case::ReviewDecision;

use crate::calendar;
use crate::ledger::StoreError;
use crate::sharing::{AnsweredSharing, BudgetPeer, ClearingKey, RecordingSharing, shareable};
use crate::special_cases::bound_decisions;
use store::{RunCase, RunRow, StatementRow, kind};

pub use grpc::SettlementRunApi;

/// Why a run or a step could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:?}")]
    Invalid(Vec<(String, String)>),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Domain(Vec<SettlementError>),
    #[error("{message}")]
    Precondition {
        reason: &'static str,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unimplemented(String),
    /// The budget context refused or could not be reached.
    #[error("budget context: {}", .0.message())]
    Budget(tonic::Status),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Reused(#[from] platform::journal::RequestIdReused),
}

impl From<DbErr> for RunError {
    fn from(error: DbErr) -> Self {
        RunError::Store(StoreError::Database(error))
    }
}

fn internal(error: impl std::fmt::Display) -> RunError {
    RunError::Internal(error.to_string())
}

/// Totals of a run, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    pub hospitals: u32,
    pub cases: u64,
    pub points: Points,
    pub point_value: Decimal,
    pub payable: Money,
}

/// The identity check of a clearing run, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCheck {
    pub distributable_budget: Money,
    pub total_entitlements: Money,
    pub ffs_special_total: Money,
    pub residue: Money,
    pub holds: bool,
}

/// One hospital's stored year-end inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearInput {
    pub hospital_code: String,
    pub assessment_coefficient: Decimal,
    pub violation_deductions: Money,
    pub deposit_returned: Money,
}

/// The policy in force: the latest stored version, or the defaults (version 0).
pub async fn policy_in_force<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
    fund: FundType,
) -> Result<(i32, SettlementPolicy), RunError> {
    match store::latest_policy(conn, region, year, fund).await? {
        None => Ok((0, SettlementPolicy::default())),
        Some((version, json)) => Ok((
            version,
            serde_json::from_str(&json)
                .map_err(|e| internal(format!("stored policy v{version} is unreadable: {e}")))?,
        )),
    }
}

/// Reads a policy document: missing keys take defaults, an unknown key (at any depth) is
/// refused by its path.
pub fn parse_policy(json: &str) -> Result<SettlementPolicy, RunError> {
    let refuse =
        |description: String| RunError::Invalid(vec![("policy_json".to_owned(), description)]);
    let given: serde_json::Value =
        serde_json::from_str(json).map_err(|e| refuse(format!("is not JSON: {e}")))?;
    let policy: SettlementPolicy = serde_json::from_value(given.clone())
        .map_err(|e| refuse(format!("is not a settlement policy: {e}")))?;
    let known = serde_json::to_value(&policy).map_err(internal)?;
    if let Some(path) = unknown_key(&given, &known, "") {
        return Err(refuse(format!("has unknown key {path}")));
    }
    Ok(policy)
}

/// The first key of `given` that `known` (the parsed document with every key) does not have.
fn unknown_key(given: &serde_json::Value, known: &serde_json::Value, path: &str) -> Option<String> {
    let (serde_json::Value::Object(given), serde_json::Value::Object(known)) = (given, known)
    else {
        return None;
    };
    given.iter().find_map(|(key, value)| {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match known.get(key) {
            None => Some(here),
            Some(known_value) => unknown_key(value, known_value, &here),
        }
    })
}

/// A new run id: random (see [`crate::ids`]); the kind, region, fund, period and version are
/// columns of the run, and the statements' digest does not depend on the id.
pub fn new_run_id() -> Result<String, RunError> {
    crate::ids::random_id().map_err(internal)
}

/// What a clearing needs besides the ledger.
#[derive(Clone, Debug)]
pub struct ClearingOrder {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub distributable_budget: Money,
    pub reason: String,
    pub caller: String,
    pub at: i64,
}

/// The budget context as a caller reaches it: the peer, and on whose behalf.
#[derive(Clone, Copy)]
pub struct BudgetAccess<'a> {
    pub peer: &'a dyn BudgetPeer,
    pub principal: &'a Principal,
}

fn no_budget_peer(what: &str) -> RunError {
    RunError::Budget(tonic::Status::unavailable(format!(
        "{what} needs the budget context and this server has no budget peer"
    )))
}

/// What a monthly prepayment needs besides the ledger.
#[derive(Clone, Debug)]
pub struct PrepaymentOrder {
    pub region: RegionCode,
    pub month: YearMonth,
    pub fund: FundType,
    pub point_value: ProvisionalPointValue,
    pub caller: String,
    pub at: i64,
}

fn is_ffs(case: &RunCase) -> bool {
    case.payment_mode == "fee_for_service"
}

fn year_range(year: i32) -> (i32, i32) {
    (year * 10_000 + 101, year * 10_000 + 1231)
}

fn month_range(month: YearMonth) -> (i32, i32) {
    let first = month.as_int() * 100 + 1;
    (first, first + 30)
}

fn statement_row(
    run_id: &str,
    hospital_code: &str,
    json: String,
    balance: Money,
) -> Result<StatementRow, RunError> {
    Ok(StatementRow {
        run_id: run_id.to_owned(),
        hospital_code: hospital_code.to_owned(),
        statement_json: json,
        balance_fen: balance.to_fen().map_err(StoreError::from)?,
        dispute_state: "issued".to_owned(),
        dispute_json: String::new(),
    })
}

/// Runs the monthly prepayment and stores it as the month's next version. Refused once the
/// month is closed.
pub async fn prepay<C: ConnectionTrait>(
    conn: &C,
    order: &PrepaymentOrder,
) -> Result<RunRow, RunError> {
    prepay_with(conn, order, None).await
}

/// [`prepay`], with the budget context's monthly quotas in hospital-cap mode.
pub async fn prepay_with<C: ConnectionTrait>(
    conn: &C,
    order: &PrepaymentOrder,
    budget: Option<BudgetAccess<'_>>,
) -> Result<RunRow, RunError> {
    if calendar::is_closed(conn, order.region, order.fund, order.month).await? {
        return Err(RunError::Precondition {
            reason: "MONTH_CLOSED",
            message: format!(
                "month {} of region {} is closed: its prepayment is final",
                order.month.as_int(),
                order.region
            ),
        });
    }
    let (policy_version, policy) =
        policy_in_force(conn, order.region, order.month.year(), order.fund).await?;
    // Hospital-cap mode: each hospital's prepayable above its month's quota is deferred.
    let quotas = if policy.prepayment.budget_mode == BudgetMode::HospitalCap {
        let budget = budget.ok_or_else(|| no_budget_peer("prepayment in hospital-cap mode"))?;
        Some(
            budget
                .peer
                .monthly_quotas(budget.principal, order.region, order.month, order.fund)
                .await
                .map_err(RunError::Budget)?,
        )
    } else {
        None
    };
    let (from, to) = month_range(order.month);
    let cases = store::run_cases(conn, order.region, order.fund, from, to).await?;
    let mut by_hospital: BTreeMap<&str, (Points, Money, u64)> = BTreeMap::new();
    let mut versions = InputVersions::default();
    for case in cases.iter().filter(|case| !is_ffs(case)) {
        versions.add(case);
        let entry = by_hospital.entry(case.hospital_code.as_str()).or_insert((
            Points::ZERO,
            Money::ZERO,
            0,
        ));
        entry.0 += Points::from_scaled(case.points_scaled);
        entry.1 += Money::from_fen(case.individual_burden_fen);
        entry.2 += 1;
    }
    let case_count: u64 = by_hospital.values().map(|v| v.2).sum();
    let input = PrepaymentInput {
        region: order.region,
        month: order.month,
        fund_type: order.fund,
        point_value: order.point_value,
        hospitals: by_hospital
            .iter()
            .map(|(code, (points, burden, _))| HospitalMonth {
                hospital_code: (*code).to_owned(),
                points: *points,
                individual_burden: *burden,
                monthly_quota: quotas
                    .as_ref()
                    .and_then(|quotas| quotas.get(*code).copied()),
            })
            .collect(),
    };
    let statement: PrepaymentStatement =
        run_prepayment(&input, &policy.prepayment).map_err(RunError::Domain)?;

    let period = order.month.as_int();
    let version = store::latest_run(conn, kind::PREPAYMENT, order.region, order.fund, period)
        .await?
        .map_or(1, |run| run.version + 1);
    let id = new_run_id()?;
    let csv = export::to_csv(&export::prepayment_table(&statement.lines)).map_err(internal)?;
    let totals = RunTotals {
        hospitals: u32::try_from(statement.lines.len()).map_err(internal)?,
        cases: case_count,
        points: statement.lines.iter().map(|l| l.points).sum(),
        point_value: statement.point_value,
        payable: statement.total_payable,
    };
    let statements = statement
        .lines
        .iter()
        .map(|line| {
            statement_row(
                &id,
                &line.hospital_code,
                serde_json::to_string(line).map_err(internal)?,
                line.payable,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = serde_json::json!({
        "policy_version": policy_version,
        "point_value": order.point_value,
        "monthly_quotas": quotas,
        "scheme_versions": versions.schemes,
        "table_versions": versions.tables,
    });
    let run = RunRow {
        run_id: id,
        kind: kind::PREPAYMENT.to_owned(),
        region_code: region_to_db(order.region),
        fund_type: fund_to_db(order.fund),
        period,
        version,
        is_final: false,
        reason: String::new(),
        totals_json: serde_json::to_string(&totals).map_err(internal)?,
        identity_json: String::new(),
        statements_digest: export::sha256_hex(&csv),
        inputs_json: inputs.to_string(),
        result_json: serde_json::to_string(&statement).map_err(internal)?,
        created_by: order.caller.clone(),
        created_at: order.at,
    };
    store::insert_run(conn, run.clone(), statements).await?;
    Ok(run)
}

/// Closes a month: its latest prepayment run becomes final. Closing again returns the same run.
pub async fn close_month<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    month: YearMonth,
    at: i64,
) -> Result<RunRow, RunError> {
    let Some(mut run) =
        store::latest_run(conn, kind::PREPAYMENT, region, fund, month.as_int()).await?
    else {
        return Err(RunError::Precondition {
            reason: "NO_PREPAYMENT_RUN",
            message: format!(
                "month {} of region {region} has no prepayment run to make final",
                month.as_int()
            ),
        });
    };
    if !run.is_final {
        store::mark_final(conn, &run.run_id).await?;
        run.is_final = true;
    }
    calendar::close(conn, region, fund, month, &run.run_id, at).await?;
    Ok(run)
}

#[derive(Default)]
struct InputVersions {
    schemes: BTreeSet<String>,
    tables: BTreeSet<String>,
}

impl InputVersions {
    fn add(&mut self, case: &RunCase) {
        if !self.schemes.contains(&case.scheme_version) {
            self.schemes.insert(case.scheme_version.clone());
        }
        if !self.tables.contains(&case.table_version) {
            self.tables.insert(case.table_version.clone());
        }
    }
}

/// Runs the year-end clearing (DOMAIN.md §5) and stores it as the next version, its statements,
/// identity check, inputs and digest, and marks the cases it read as cleared.
pub async fn clear<C: ConnectionTrait>(
    conn: &C,
    order: &ClearingOrder,
) -> Result<RunRow, RunError> {
    clear_with(conn, order, None).await
}

/// [`clear`], sharing through the budget context when the clearing policy says so.
pub async fn clear_with<C: ConnectionTrait>(
    conn: &C,
    order: &ClearingOrder,
    budget: Option<BudgetAccess<'_>>,
) -> Result<RunRow, RunError> {
    let period = order.year * 100;
    let version = store::latest_run(conn, kind::CLEARING, order.region, order.fund, period)
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
    let (inputs_version, year_inputs) =
        match store::latest_year_inputs(conn, order.region, order.year, order.fund).await? {
            None => (0, Vec::new()),
            Some((version, json)) => (
                version,
                serde_json::from_str::<Vec<YearInput>>(&json).map_err(|e| {
                    internal(format!("stored year inputs v{version} are unreadable: {e}"))
                })?,
            ),
        };

    let mut hospitals: BTreeMap<String, HospitalClearingInput> = BTreeMap::new();
    for input in &year_inputs {
        let mut h = HospitalClearingInput::plain(input.hospital_code.clone());
        h.assessment_coefficient = input.assessment_coefficient;
        h.violation_deductions = input.violation_deductions;
        h.deposit_returned = input.deposit_returned;
        hospitals.insert(input.hospital_code.clone(), h);
    }
    let prepayments = store::final_prepayments(conn, order.region, order.fund, order.year).await?;
    let mut prepayment_runs = Vec::new();
    for run in &prepayments {
        prepayment_runs.push(run.run_id.clone());
        for row in store::list_statements(conn, &run.run_id, None, None).await? {
            let line: PrepaymentLine = serde_json::from_str(&row.statement_json).map_err(|e| {
                internal(format!(
                    "statement {}/{}: {e}",
                    row.run_id, row.hospital_code
                ))
            })?;
            let h = hospitals
                .entry(line.hospital_code.clone())
                .or_insert_with(|| HospitalClearingInput::plain(line.hospital_code.clone()));
            h.prepaid += line.payable;
            h.deposit_withheld += line.quality_deposit;
        }
    }

    let decisions: BTreeMap<(String, String), ReviewDecision> =
        bound_decisions(conn, order.region, order.year)
            .await?
            .into_iter()
            .map(|d| ((d.hospital_code, d.list_id), d.decision))
            .collect();
    let (from, to) = year_range(order.year);
    let cases = store::run_cases(conn, order.region, order.fund, from, to).await?;
    let mut versions = InputVersions::default();
    let mut clearing_cases = Vec::with_capacity(cases.len());
    for case in &cases {
        versions.add(case);
        let mut points = Points::from_scaled(case.points_scaled);
        let mut ffs_special = is_ffs(case);
        if !decisions.is_empty() {
            match decisions.get(&(case.hospital_code.clone(), case.list_id.clone())) {
                Some(ReviewDecision::FeeForService) => ffs_special = true,
                Some(ReviewDecision::ExtraPoints(extra)) => points += *extra,
                Some(ReviewDecision::Rejected) | None => {}
            }
        }
        if !hospitals.contains_key(&case.hospital_code) {
            hospitals.insert(
                case.hospital_code.clone(),
                HospitalClearingInput::plain(case.hospital_code.clone()),
            );
        }
        clearing_cases.push(ClearingCase {
            hospital_code: case.hospital_code.clone(),
            list_id: case.list_id.clone(),
            points,
            individual_burden: Money::from_fen(case.individual_burden_fen),
            ffs_special,
            fund_amount_ffs: Money::from_fen(case.fund_fen),
        });
    }
    drop(cases);
    let case_count = clearing_cases.len() as u64;
    let input = ClearingInput {
        region: order.region,
        year: order.year,
        fund_type: order.fund,
        distributable_budget: order.distributable_budget,
        cases: clearing_cases,
        hospitals: hospitals.into_values().collect(),
    };
    let clearing_policy = policy.clearing.clone();
    let id = new_run_id()?;
    let input = Arc::new(input);
    let statement: ClearingStatement = match clearing_policy.sharing {
        // Regional points mode: no per-hospital sharing, each hospital is paid its standard.
        SharingSource::PayStandard => {
            clear_blocking(Arc::clone(&input), clearing_policy, PayStandard).await?
        }
        SharingSource::Budget => {
            let budget = budget.ok_or_else(|| no_budget_peer("sharing through the budget"))?;
            // First pass: every hospital's Std and Act, asked of the budget context at once.
            let recorder = RecordingSharing::default();
            clear_blocking(
                Arc::clone(&input),
                clearing_policy.clone(),
                recorder.clone(),
            )
            .await?;
            let requests: Vec<_> = recorder
                .take_requests()
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
                    run_id: id.clone(),
                };
                budget
                    .peer
                    .share(budget.principal, &key, &requests)
                    .await
                    .map_err(RunError::Budget)?
            };
            clear_blocking(
                Arc::clone(&input),
                clearing_policy,
                AnsweredSharing::new(answers),
            )
            .await?
        }
    };
    drop(input);

    let identity = IdentityCheck {
        distributable_budget: statement.distributable_budget,
        total_entitlements: statement.total_fund_entitlement,
        ffs_special_total: statement.ffs_special_total,
        residue: statement.residue,
        holds: statement.total_fund_entitlement + statement.ffs_special_total + statement.residue
            == statement.distributable_budget,
    };
    if !identity.holds {
        return Err(internal(format!(
            "identity check failed: {} + {} + {} != {}",
            identity.total_entitlements,
            identity.ffs_special_total,
            identity.residue,
            identity.distributable_budget
        )));
    }
    let csv = export::to_csv(&export::clearing_table(&statement.hospitals)).map_err(internal)?;
    let totals = RunTotals {
        hospitals: u32::try_from(statement.hospitals.len()).map_err(internal)?,
        cases: case_count,
        points: statement.total_points,
        point_value: statement.point_value,
        payable: statement.total_balance,
    };
    let statements = statement
        .hospitals
        .iter()
        .map(|s: &HospitalStatement| {
            statement_row(
                &id,
                &s.hospital_code,
                serde_json::to_string(s).map_err(internal)?,
                s.balance,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = serde_json::json!({
        "policy_version": policy_version,
        "year_inputs_version": inputs_version,
        "prepayment_runs": prepayment_runs,
        "special_cases_bound": decisions.len(),
        "sharing": statement.policy.sharing,
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
        period,
        version,
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
    store::insert_run(conn, run.clone(), statements).await?;
    store::mark_cleared(conn, order.region, order.fund, from, to).await?;
    Ok(run)
}

/// The domain's clearing, off the async threads (it walks every case of the year).
async fn clear_blocking<S: SharingCalculator + Send + 'static>(
    input: Arc<ClearingInput>,
    policy: settlement_domain::clearing::ClearingPolicy,
    sharing: S,
) -> Result<ClearingStatement, RunError> {
    tokio::task::spawn_blocking(move || run_clearing(&input, &policy, &sharing))
        .await
        .map_err(internal)?
        .map_err(RunError::Domain)
}

/// The table of a run's statements, in hospital order, for export.
pub fn statements_table(run: &RunRow, rows: &[StatementRow]) -> Result<export::Table, RunError> {
    if run.kind == kind::CLEARING {
        let statements = rows
            .iter()
            .map(|row| serde_json::from_str::<HospitalStatement>(&row.statement_json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        Ok(export::clearing_table(&statements))
    } else {
        let lines = rows
            .iter()
            .map(|row| serde_json::from_str::<PrepaymentLine>(&row.statement_json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        Ok(export::prepayment_table(&lines))
    }
}

/// The dispute states of the wire: an upheld or dismissed objection is `resolved`.
pub fn dispute_state_name(state: DisputeState) -> &'static str {
    match state {
        DisputeState::Issued => "issued",
        DisputeState::Confirmed => "confirmed",
        DisputeState::Objected => "objected",
        DisputeState::Upheld | DisputeState::Dismissed => "resolved",
    }
}

/// A stored time as the domain's date-time (UTC).
pub fn date_time(unix_seconds: i64) -> Result<DateTime, RunError> {
    let days = i32::try_from(unix_seconds.div_euclid(86_400)).map_err(internal)?;
    let second_of_day = u32::try_from(unix_seconds.rem_euclid(86_400)).map_err(internal)?;
    DateTime::new(
        Date::from_days_since_epoch(days),
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    )
    .map_err(internal)
}

/// A step on a statement's dispute.
#[derive(Clone, Debug)]
pub enum DisputeAction {
    Confirm,
    Object(Vec<String>),
    Resolve { upheld: bool, resolution: String },
}

/// Applies `action` to the statement of `hospital_code` in `run_id`; returns the stored row.
pub async fn dispute_step<C: ConnectionTrait>(
    conn: &C,
    run_id: &str,
    hospital_code: &str,
    actor: &str,
    action: DisputeAction,
    at: i64,
) -> Result<StatementRow, RunError> {
    let Some(run) = store::get_run(conn, run_id).await? else {
        return Err(RunError::NotFound(format!("run {run_id} is not stored")));
    };
    if run.kind != kind::CLEARING {
        return Err(RunError::Precondition {
            reason: "NOT_A_CLEARING_RUN",
            message: format!(
                "run {run_id} is a {} run: only clearing statements are disputed",
                run.kind
            ),
        });
    }
    let Some(mut row) = store::list_statements(conn, run_id, Some(hospital_code), None)
        .await?
        .into_iter()
        .next()
    else {
        return Err(RunError::NotFound(format!(
            "run {run_id} has no statement for hospital {hospital_code}"
        )));
    };
    let mut dispute = current_dispute(&row, run.created_at)?;
    let now = date_time(at)?;
    let result = match action {
        DisputeAction::Confirm => dispute.confirm(now),
        DisputeAction::Object(reasons) => dispute.object(reasons, now),
        DisputeAction::Resolve { upheld, resolution } => {
            dispute.resolve(upheld, actor, resolution, now)
        }
    };
    result.map_err(|e| RunError::Domain(vec![e]))?;
    row.dispute_state = dispute_state_name(dispute.state()).to_owned();
    row.dispute_json = serde_json::to_string(&dispute).map_err(internal)?;
    store::update_dispute(
        conn,
        run_id,
        hospital_code,
        &row.dispute_state,
        &row.dispute_json,
    )
    .await?;
    Ok(row)
}

/// A statement's dispute; one never acted on is issued when its run was stored.
pub fn current_dispute(row: &StatementRow, issued_at: i64) -> Result<StatementDispute, RunError> {
    if row.dispute_json.is_empty() {
        Ok(StatementDispute::issue(
            format!("{}/{}", row.run_id, row.hospital_code),
            row.hospital_code.clone(),
            date_time(issued_at)?,
        ))
    } else {
        serde_json::from_str(&row.dispute_json).map_err(internal)
    }
}

/// A shadow settlement over the current valued cases discharged in the inclusive `yyyymmdd`
/// range: per hospital (with per-group lines) and per group across hospitals.
pub async fn shadow<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    from: i32,
    to: i32,
    point_value: Decimal,
) -> Result<(ShadowReport, ShadowReport), RunError> {
    let cases = store::run_cases(conn, region, fund, from, to).await?;
    let by_hospital: Vec<ShadowCase> = cases
        .iter()
        .filter(|case| !is_ffs(case))
        .map(|case| ShadowCase {
            hospital_code: case.hospital_code.clone(),
            group_code: case.group_code.clone(),
            points: Points::from_scaled(case.points_scaled),
            individual_burden: Money::from_fen(case.individual_burden_fen),
            ffs_fund_amount: Money::from_fen(case.fund_fen),
        })
        .collect();
    let by_group: Vec<ShadowCase> = by_hospital
        .iter()
        .map(|case| ShadowCase {
            hospital_code: case.group_code.clone(),
            ..case.clone()
        })
        .collect();
    Ok((
        shadow_settlement(&by_hospital, point_value),
        shadow_settlement(&by_group, point_value),
    ))
}

/// difference / FFS at 4 places; zero when nothing was paid FFS.
pub fn difference_ratio(difference: Money, ffs: Money) -> Decimal {
    if ffs.value().is_zero() {
        Decimal::ZERO
    } else {
        round_points(difference.value() / ffs.value())
    }
}
