//! The monthly prepayment and the month close. In hospital-cap mode the budget context's monthly
//! quotas are asked before the transaction opens ([`ask_quotas`]) and handed to [`prepay`].

use std::collections::BTreeMap;

use kernel::date::Date;
use kernel::{FundType, Money, RegionCode, YearMonth};
use platform::db::{fund_to_db, region_to_db};
use settlement_domain::alliance_quota::unit_quotas;
use settlement_domain::clearing::alliance::alliances_on;
use settlement_domain::prepayment::{
    BudgetMode, HospitalMonth, PrepaymentInput, PrepaymentStatement, ProvisionalPointValue,
    month_cases, run_prepayment,
};
use settlement_domain::run_summary::RunTotals;

use super::store::{self, RunRow, kind};
use super::{
    BudgetAccess, RunError, export, internal, new_run_id, no_budget_peer, policy_in_force,
};
use crate::store::{Storage, closed_months, institutions};

/// Where a prepayment takes its point value from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointValueChoice {
    /// Given with the run, or from the month's budget.
    Given(ProvisionalPointValue),
    /// The latest DIP budget point value published for the run's region, year and fund, read
    /// in the run's transaction.
    PublishedDipBudget,
}

impl From<ProvisionalPointValue> for PointValueChoice {
    fn from(value: ProvisionalPointValue) -> Self {
        PointValueChoice::Given(value)
    }
}

/// What a monthly prepayment needs besides the ledger.
#[derive(Clone, Debug)]
pub struct PrepaymentOrder {
    pub region: RegionCode,
    pub month: YearMonth,
    pub fund: FundType,
    pub point_value: PointValueChoice,
    /// Run without the month's unvalued cases instead of refusing.
    pub skip_unvalued: bool,
    pub caller: String,
    pub at: i64,
}

/// Each allocated unit's quota for the month, by unit code.
pub type MonthlyQuotas = BTreeMap<String, Money>;

fn month_range(month: YearMonth) -> (i32, i32) {
    let first = month.as_int() * 100 + 1;
    (first, first + 30)
}

/// The medical alliance of every hospital of the month by the stored registry on the month's
/// last day: an alliance's members are capped together at the unit quota the budget context
/// allocated under its code (settlement_domain::alliance_quota).
async fn alliances_in_month<C: Storage>(
    conn: &C,
    month: YearMonth,
    hospitals: &[HospitalMonth],
) -> Result<BTreeMap<String, String>, RunError> {
    let first = month.as_int() * 100 + 1;
    let Some(last_day) = (0..4)
        .rev()
        .find_map(|extra| Date::from_yyyymmdd(first + 27 + extra).ok())
    else {
        return Ok(BTreeMap::new());
    };
    let codes: Vec<String> = hospitals.iter().map(|h| h.hospital_code.clone()).collect();
    let records = institutions::records(conn, &codes).await?;
    Ok(alliances_on(records.values(), last_day))
}

async fn refuse_closed<C: Storage>(conn: &C, order: &PrepaymentOrder) -> Result<(), RunError> {
    if closed_months::is_closed(conn, order.region, order.fund, order.month).await? {
        return Err(RunError::Precondition {
            reason: "MONTH_CLOSED",
            message: format!(
                "month {} of region {} is closed: its prepayment is final",
                order.month.as_int(),
                order.region
            ),
        });
    }
    Ok(())
}

/// The month's quotas when the policy in force caps hospitals (asked of the budget context,
/// outside any transaction); `None` when it does not.
pub async fn ask_quotas<C: Storage>(
    conn: &C,
    order: &PrepaymentOrder,
    budget: Option<BudgetAccess<'_>>,
) -> Result<Option<MonthlyQuotas>, RunError> {
    refuse_closed(conn, order).await?;
    let (_, policy) = policy_in_force(conn, order.region, order.month.year(), order.fund).await?;
    if policy.prepayment.budget_mode != BudgetMode::HospitalCap {
        return Ok(None);
    }
    let budget = budget.ok_or_else(|| no_budget_peer("prepayment in hospital-cap mode"))?;
    Ok(Some(
        budget
            .peer
            .monthly_quotas(budget.principal, order.region, order.month, order.fund)
            .await?,
    ))
}

/// Runs the monthly prepayment and stores it as the month's next version; in hospital-cap mode
/// with the `quotas` [`ask_quotas`] gave. Refused once the month is closed.
pub async fn prepay<C: Storage>(
    conn: &C,
    order: &PrepaymentOrder,
    quotas: Option<MonthlyQuotas>,
) -> Result<RunRow, RunError> {
    refuse_closed(conn, order).await?;
    let (policy_version, policy) =
        policy_in_force(conn, order.region, order.month.year(), order.fund).await?;
    // Hospital-cap mode: each hospital's prepayable above its month's quota is deferred.
    let quotas = match (policy.prepayment.budget_mode, quotas) {
        (BudgetMode::HospitalCap, None) => {
            return Err(RunError::Conflict(format!(
                "the settlement policy of {} {} became hospital-cap while the prepayment was \
                 prepared: run it again",
                order.region,
                order.month.year()
            )));
        }
        (BudgetMode::HospitalCap, quotas) => quotas,
        (BudgetMode::RegionalPoints, _) => None,
    };
    let (from, to) = month_range(order.month);
    let unvalued_skipped = super::refuse_unvalued(
        conn,
        (order.region, order.fund),
        (from, to),
        order.skip_unvalued,
    )
    .await?;
    let period_cases = store::run_cases(conn, order.region, order.fund, from, to).await?;
    super::episodes::refuse_stale_episodes(conn, &period_cases, &policy).await?;
    let cases = super::valued_cases(period_cases);
    let later_stays = super::later_stays(conn, order.region, order.fund, to, &policy).await?;
    let mut month = month_cases(cases, &later_stays, &policy.readmission, quotas.as_ref())
        .map_err(RunError::Domain)?;
    if quotas.is_some() {
        let alliances = alliances_in_month(conn, order.month, &month.hospitals).await?;
        unit_quotas(&mut month.hospitals, &alliances, quotas.as_ref());
    }
    let point_value = match order.point_value {
        PointValueChoice::Given(value) => value,
        PointValueChoice::PublishedDipBudget => ProvisionalPointValue::DipBudget(
            super::point_value::for_prepayment(
                conn,
                (order.region, order.month.year(), order.fund),
            )
            .await?,
        ),
    };
    let input = PrepaymentInput {
        region: order.region,
        month: order.month,
        fund_type: order.fund,
        point_value,
        hospitals: month.hospitals,
    };
    let statement: PrepaymentStatement =
        run_prepayment(&input, &policy.prepayment).map_err(RunError::Domain)?;

    let period = order.month.as_int();
    let version = store::latest_run(conn, kind::PREPAYMENT, order.region, order.fund, period)
        .await?
        .map_or(1, |run| run.version + 1);
    let id = new_run_id()?;
    let csv = export::to_csv(&export::prepayment_table(&statement.lines)).map_err(internal)?;
    let totals = RunTotals::of_prepayment(&statement, month.cases);
    let statements = statement
        .lines
        .iter()
        .map(|line| {
            super::statement_row(
                &id,
                order.region,
                &line.hospital_code,
                serde_json::to_string(line).map_err(internal)?,
                line.payable,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = serde_json::json!({
        "policy_version": policy_version,
        "point_value": point_value,
        "monthly_quotas": quotas,
        "scheme_versions": month.versions.schemes,
        "table_versions": month.versions.tables,
        "readmissions_halved": month.halvings,
        "unvalued_cases_skipped": unvalued_skipped,
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
pub async fn close_month<C: Storage>(
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
    closed_months::close(conn, region, fund, month, &run.run_id, at).await?;
    Ok(run)
}
