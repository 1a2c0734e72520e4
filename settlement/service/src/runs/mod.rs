//! Settlement runs (DOMAIN.md §5): monthly prepayment, month close, year-end clearing, statement
//! disputes and shadow settlement, over the case ledger. The rules are the domain's; here the
//! facts are read, the budget and supervision contexts asked (always before a transaction opens)
//! and the results stored. Each write runs in the request's unit of work ([`crate::store::UnitOfWork`], the
//! journal's transaction), so a run is stored whole or not at all.

mod api;
pub mod clearing;
pub mod disputes;
mod episodes;
pub mod export;
pub mod grpc;
pub mod main_method;
pub mod main_method_store;
pub mod outpatient;
pub mod point_value;
pub mod point_value_store;
pub mod prepayment;
pub mod shadow;
pub mod statement_detail;
pub mod store;
mod wire;

use kernel::date::DateTime;
use kernel::{FundType, Money, Principal, RegionCode};
use settlement_domain::SettlementError;
use settlement_domain::payment_mode::PaymentMode;
use settlement_domain::policy::SettlementPolicy;
use settlement_domain::valued_case::{StayFacts, ValuedCase};

use crate::budget_peer::{BudgetError, BudgetPeer};
use crate::outpatient_valuer::PointsError;
use crate::store::Storage;
use crate::store::ledger::StoreError;
use crate::supervision_peer::SupervisionError;
use store::{RunCase, StatementRow};

pub use clearing::{ClearingOrder, clear};
pub use grpc::SettlementRunApi;
pub use prepayment::{PointValueChoice, PrepaymentOrder, close_month, prepay};
pub use settlement_domain::clearing_assembly::YearInput;
pub use settlement_domain::run_summary::{IdentityCheck, RunTotals};

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
    /// What the run was prepared on changed before it could be stored; a retry prepares again.
    #[error("{0}")]
    Conflict(String),
    /// The budget context refused or could not be reached.
    #[error(transparent)]
    Budget(#[from] BudgetError),
    /// The supervision context refused or could not be reached.
    #[error(transparent)]
    Supervision(#[from] SupervisionError),
    /// The points context refused or could not be reached (outpatient valuation).
    #[error(transparent)]
    Points(#[from] PointsError),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Reused(#[from] platform::journal::RequestIdReused),
}

fn internal(error: impl std::fmt::Display) -> RunError {
    RunError::Internal(error.to_string())
}

/// The policy in force: the latest stored version, or (version 0) the defaults of the scheme the
/// region's main inpatient method for the year gives ([`main_method::default_scheme`]).
pub async fn policy_in_force<C: Storage>(
    conn: &C,
    region: RegionCode,
    year: i32,
    fund: FundType,
) -> Result<(i32, SettlementPolicy), RunError> {
    match store::latest_policy(conn, region, year, fund).await? {
        None => Ok((
            0,
            SettlementPolicy::for_scheme(main_method::default_scheme(conn, region, year).await?),
        )),
        Some((version, json)) => Ok((
            version,
            serde_json::from_str(&json)
                .map_err(|e| internal(format!("stored policy v{version} is unreadable: {e}")))?,
        )),
    }
}

/// A new run id: random (see [`crate::ids`]); the kind, region, fund, period and version are
/// columns of the run, and the statements' digest does not depend on the id.
pub fn new_run_id() -> Result<String, RunError> {
    crate::ids::random_id().map_err(internal)
}

/// The budget context as a caller reaches it: the peer, and on whose behalf.
#[derive(Clone, Copy)]
pub struct BudgetAccess<'a> {
    pub peer: &'a dyn BudgetPeer,
    pub principal: &'a Principal,
}

fn no_budget_peer(what: &str) -> RunError {
    RunError::Budget(BudgetError::unavailable(format!(
        "{what} needs the budget context and this server has no budget peer"
    )))
}

/// The ledger's cases as the domain reads them.
fn valued_cases(cases: Vec<RunCase>) -> Vec<ValuedCase> {
    cases
        .into_iter()
        .map(|case| (stay_facts(&case), case))
        .map(|(stay, case)| ValuedCase {
            payment_mode: PaymentMode::from_stored(&case.payment_mode),
            hospital_code: case.hospital_code,
            list_id: case.list_id,
            group_code: case.group_code,
            points: kernel::Points::from_scaled(case.points_scaled),
            total_cost: Money::from_fen(case.total_fen),
            individual_burden: Money::from_fen(case.individual_burden_fen),
            fund_amount: Money::from_fen(case.fund_fen),
            amount: case.amount_fen.map(Money::from_fen),
            stay,
            scheme_version: case.scheme_version,
            table_version: case.table_version,
        })
        .collect()
}

/// How many unvalued cases a run leaves out, listed at most.
const UNVALUED_LISTED: u64 = 20;

/// Refuses a run over a period holding cases stored unvalued (they would be paid nothing) unless
/// the order skips them; answers how many it skips.
async fn refuse_unvalued<C: Storage>(
    conn: &C,
    (region, fund): (RegionCode, FundType),
    (from, to): (i32, i32),
    skip: bool,
) -> Result<u64, RunError> {
    let (count, listed) =
        store::unvalued_cases(conn, region, fund, (from, to), UNVALUED_LISTED).await?;
    if count == 0 || skip {
        return Ok(count);
    }
    let names: Vec<String> = listed
        .iter()
        .map(|(hospital, list_id, why)| format!("{hospital}/{list_id} ({why})"))
        .collect();
    Err(RunError::Precondition {
        reason: "UNVALUED_CASES",
        message: format!(
            "{count} case(s) of the period are stored unvalued and would be paid nothing: {}{}; \
             revalue them, or run with skip_unvalued",
            names.join(", "),
            if count > UNVALUED_LISTED { ", …" } else { "" }
        ),
    })
}

/// The stays after a run's period (discharged after `period_end`, `yyyymmdd`) that may readmit
/// one of its cases within the policy's window.
async fn later_stays<C: Storage>(
    conn: &C,
    region: RegionCode,
    fund: FundType,
    period_end: i32,
    policy: &SettlementPolicy,
) -> Result<Vec<ValuedCase>, RunError> {
    let Ok(end) = kernel::Date::from_yyyymmdd(period_end) else {
        return Ok(Vec::new());
    };
    let window = i32::try_from(policy.readmission.window_days).unwrap_or(i32::MAX);
    let until = end.add_days(window).to_yyyymmdd();
    Ok(valued_cases(
        store::later_stays(conn, region, fund, period_end, until).await?,
    ))
}

/// The stay facts of a stored inpatient case; `None` for a case stored without them.
fn stay_facts(case: &RunCase) -> Option<StayFacts> {
    if case.person_id.is_empty() {
        return None;
    }
    Some(StayFacts {
        person_id: case.person_id.clone(),
        admission_date: kernel::Date::from_yyyymmdd(case.admission_date).ok()?,
        discharge_date: kernel::Date::from_yyyymmdd(case.discharge_date).ok()?,
        planned_readmission: case.planned_readmission,
    })
}

fn statement_row(
    run_id: &str,
    region: RegionCode,
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
        region_code: platform::db::region_to_db(region),
    })
}

/// A stored time as the domain's date-time (UTC).
pub fn date_time(unix_seconds: i64) -> Result<DateTime, RunError> {
    settlement_domain::clock::utc(unix_seconds).map_err(internal)
}
