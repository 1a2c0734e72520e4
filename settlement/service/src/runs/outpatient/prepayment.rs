//! The monthly outpatient prepayment as a run of kind `outpatient_prepayment`, one per region,
//! month and fund: the enrolment read, the points context asked for the budgets (before the
//! transaction opens), the domain's [`prepayment_lines`] splitting them, and the run stored with
//! one statement per institution. A month already prepaid answers its stored run.

use kernel::{FundType, Money, Principal, RegionCode, YearMonth};
use medpay_proto::settlement::v1 as pb;
use platform::db::{fund_to_db, region_to_db};
use platform::wire;
use settlement_domain::outpatient_clearing::OutpatientEnrolment;
use settlement_domain::outpatient_prepayment::{
    OutpatientPrepaymentLine, outpatient_prepayment_table, prepayment_lines,
};
use settlement_domain::run_summary::RunTotals;

use super::super::store::{self as run_store, RunRow, kind};
use super::super::{RunError, export, internal, new_run_id, statement_row};
use super::enrolment;
use crate::outpatient_valuer::OutpatientValuer;
use crate::store::Storage;

/// A month to prepay.
#[derive(Clone, Debug)]
pub struct OutpatientPrepaymentOrder {
    pub region: RegionCode,
    pub month: YearMonth,
    pub fund: FundType,
    pub caller: String,
    pub at: i64,
}

impl OutpatientPrepaymentOrder {
    fn key(&self) -> (RegionCode, i32, FundType) {
        (self.region, self.month.year(), self.fund)
    }
}

/// The enrolment and the budgets the points context valued for it, before the transaction.
#[derive(Debug)]
pub struct PreparedPrepayment {
    enrolment_version: i32,
    enrolment: OutpatientEnrolment,
    lines: Vec<OutpatientPrepaymentLine>,
}

/// A month's prepayment as answered: the run, its lines, the enrolment version it read, and
/// whether it was stored before this call.
#[derive(Clone, Debug)]
pub struct MonthPrepayment {
    pub run: RunRow,
    pub lines: Vec<OutpatientPrepaymentLine>,
    pub enrolment_version: i32,
    pub already_stored: bool,
}

/// The month's stored run, if it was prepaid.
pub async fn stored<C: Storage>(
    conn: &C,
    order: &OutpatientPrepaymentOrder,
) -> Result<Option<MonthPrepayment>, RunError> {
    let Some(run) = run_store::latest_run(
        conn,
        kind::OUTPATIENT_PREPAYMENT,
        order.region,
        order.fund,
        order.month.as_int(),
    )
    .await?
    else {
        return Ok(None);
    };
    let rows = run_store::list_statements(conn, &run.run_id, None, None).await?;
    let lines = rows
        .iter()
        .map(|row| serde_json::from_str(&row.statement_json))
        .collect::<Result<Vec<OutpatientPrepaymentLine>, _>>()
        .map_err(|e| {
            internal(format!(
                "stored prepayment {} is unreadable: {e}",
                run.run_id
            ))
        })?;
    let inputs: serde_json::Value = serde_json::from_str(&run.inputs_json)
        .map_err(|e| internal(format!("inputs of {} are unreadable: {e}", run.run_id)))?;
    let enrolment_version = inputs
        .get("enrolment_version")
        .and_then(serde_json::Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_default();
    Ok(Some(MonthPrepayment {
        run,
        lines,
        enrolment_version,
        already_stored: true,
    }))
}

/// Reads the enrolment and asks the points context for its budgets; nothing is written.
pub async fn prepare<C: Storage>(
    conn: &C,
    order: &OutpatientPrepaymentOrder,
    principal: &Principal,
    valuer: &dyn OutpatientValuer,
) -> Result<PreparedPrepayment, RunError> {
    let (enrolment_version, enrolment) = enrolment(conn, order.key()).await?;
    let (budgets, _) = valuer
        .value(principal, order.key(), &enrolment, &[])
        .await?;
    let lines = prepayment_lines(&enrolment, &budgets, order.month.month())
        .map_err(|e| internal(e.to_string()))?;
    Ok(PreparedPrepayment {
        enrolment_version,
        enrolment,
        lines,
    })
}

/// Stores the month's run inside the request's unit of work; the stored run when the month was
/// prepaid meanwhile, ABORTED (a retry prepares again) when the enrolment changed since.
pub async fn store_prepayment<C: Storage>(
    conn: &C,
    order: &OutpatientPrepaymentOrder,
    prepared: PreparedPrepayment,
) -> Result<MonthPrepayment, RunError> {
    if let Some(stored) = stored(conn, order).await? {
        return Ok(stored);
    }
    let (version_now, enrolment_now) = enrolment(conn, order.key()).await?;
    if version_now != prepared.enrolment_version || enrolment_now != prepared.enrolment {
        return Err(RunError::Conflict(
            "the outpatient enrolment changed while the prepayment was valued; run it again"
                .to_owned(),
        ));
    }
    let lines = prepared.lines;
    let csv = export::to_csv(&outpatient_prepayment_table(&lines)).map_err(internal)?;
    let run_id = new_run_id()?;
    let mut statements = Vec::with_capacity(lines.len());
    for line in &lines {
        statements.push(statement_row(
            &run_id,
            order.region,
            &line.hospital_code,
            serde_json::to_string(line).map_err(internal)?,
            line.amount,
        )?);
    }
    let total: Money = lines.iter().map(|line| line.amount).sum();
    let totals = RunTotals {
        hospitals: u32::try_from(lines.len()).unwrap_or(u32::MAX),
        cases: 0,
        points: kernel::Points::ZERO,
        point_value: kernel::Decimal::ZERO,
        payable: total,
        points_budget: None,
        reimbursement_ratio: None,
    };
    let run = RunRow {
        run_id,
        kind: kind::OUTPATIENT_PREPAYMENT.to_owned(),
        region_code: region_to_db(order.region),
        fund_type: fund_to_db(order.fund),
        period: order.month.as_int(),
        version: 1,
        is_final: false,
        reason: String::new(),
        totals_json: serde_json::to_string(&totals).map_err(internal)?,
        identity_json: String::new(),
        statements_digest: export::sha256_hex(&csv),
        inputs_json: serde_json::json!({ "enrolment_version": prepared.enrolment_version })
            .to_string(),
        result_json: serde_json::to_string(&lines).map_err(internal)?,
        created_by: order.caller.clone(),
        created_at: order.at,
    };
    run_store::insert_run(conn, run.clone(), statements).await?;
    Ok(MonthPrepayment {
        run,
        lines,
        enrolment_version: prepared.enrolment_version,
        already_stored: false,
    })
}

/// A line as the wire types it.
pub fn line_to_wire(line: &OutpatientPrepaymentLine) -> pb::OutpatientPrepaymentStatement {
    pb::OutpatientPrepaymentStatement {
        hospital_code: line.hospital_code.clone(),
        month: line.month,
        per_capita_budget: Some(wire::money_to_wire(line.per_capita_budget)),
        chronic_budget: Some(wire::money_to_wire(line.chronic_budget)),
        annual_budget: Some(wire::money_to_wire(line.annual_budget)),
        amount: Some(wire::money_to_wire(line.amount)),
    }
}

/// The answer of `RunOutpatientPrepayment`.
pub fn response(month: &MonthPrepayment) -> pb::RunOutpatientPrepaymentResponse {
    pb::RunOutpatientPrepaymentResponse {
        run_id: month.run.run_id.clone(),
        version: month.run.version,
        enrolment_version: month.enrolment_version,
        statements: month.lines.iter().map(line_to_wire).collect(),
        total: Some(wire::money_to_wire(
            month.lines.iter().map(|line| line.amount).sum(),
        )),
        statements_digest: month.run.statements_digest.clone(),
        already_stored: month.already_stored,
    }
}
