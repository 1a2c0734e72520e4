//! The outpatient year end (DOMAIN.md §3 per-capita and APG, §4 sharing) as a run of kind
//! `outpatient` (the monthly prepayments it deducts are `prepayment`'s runs): the enrolment and the year's ambulatory settlements read from the store, the
//! points context asked for the budgets and APG points and the budget context for the sharing
//! (both before the transaction opens, [`prepare`]), the domain's
//! [`assemble_outpatient`] paying them, and the run stored with its statements ([`store_run`])
//! after checking that what was asked on is still what the store holds.

pub mod grpc;
pub mod prepayment;
pub mod store;

use std::collections::BTreeMap;

use kernel::{Date, FundType, Money, Principal, RegionCode};
use platform::db::{fund_to_db, region_to_db};
use settlement_domain::case::AmbulatorySettlement;
use settlement_domain::ledger::RecordKind;
use settlement_domain::outpatient_clearing::{
    AmbulatoryClaim, ClaimKind, OutpatientClearing, OutpatientEnrolment, VisitPoints,
    assemble_outpatient, outpatient_table, paid_in_apg, prepaid_problems, sharing_requests,
};
use settlement_domain::outpatient_prepayment::{OutpatientPrepaymentLine, prepaid_by_institution};
use settlement_domain::run_summary::{IdentityCheck, RunTotals};

use super::store::{self as run_store, RunRow, kind};
use super::{BudgetAccess, RunError, export, internal, new_run_id, no_budget_peer, statement_row};
use crate::budget_peer::ClearingKey;
use crate::outpatient_valuer::{OutpatientValuer, VisitToValue};
use crate::store::Storage;
use crate::store::ledger::StoreError;

/// An outpatient year end to run.
#[derive(Clone, Debug)]
pub struct OutpatientOrder {
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub apg_block: Money,
    /// Σ prepaid during the year per institution, in request order.
    pub prepaid: Vec<(String, Money)>,
    pub reason: String,
    pub caller: String,
    pub at: i64,
}

impl OutpatientOrder {
    fn key(&self) -> (RegionCode, i32, FundType) {
        (self.region, self.year, self.fund)
    }

    fn period(&self) -> i32 {
        self.year * 100
    }
}

/// What the run read and what its peers answered, before its transaction.
#[derive(Debug)]
pub struct Prepared {
    enrolment_version: i32,
    claims: Vec<AmbulatoryClaim>,
    prepaid: Prepaid,
    clearing: OutpatientClearing,
}

/// What the year end deducts as prepaid per institution, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepaid {
    /// `stored` (the year's monthly prepayment runs), `request` or `none`.
    pub source: &'static str,
    /// The monthly prepayment runs deducted, in month order.
    pub run_ids: Vec<String>,
    pub amounts: BTreeMap<String, Money>,
}

/// The year's stored monthly prepayments when there are any, else the order's typed ones
/// (checked against the enrolment); both at once is refused naming `prepaid`.
async fn prepaid<C: Storage>(
    conn: &C,
    order: &OutpatientOrder,
    enrolment: &OutpatientEnrolment,
) -> Result<Prepaid, RunError> {
    let stored = store::prepayments_of_year(conn, order.key()).await?;
    if stored.is_empty() {
        let problems = prepaid_problems(enrolment, &order.prepaid);
        if !problems.is_empty() {
            return Err(RunError::Invalid(problems));
        }
        return Ok(Prepaid {
            source: if order.prepaid.is_empty() {
                "none"
            } else {
                "request"
            },
            run_ids: Vec::new(),
            amounts: order.prepaid.iter().cloned().collect(),
        });
    }
    if !order.prepaid.is_empty() {
        return Err(RunError::Invalid(vec![(
            "prepaid".to_owned(),
            format!(
                "must be empty: {} monthly outpatient prepayment run(s) of region {}, year {}, \
                 fund {} are stored, and the year end deducts them",
                stored.len(),
                order.region,
                order.year,
                order.fund.code()
            ),
        )]));
    }
    let mut lines: Vec<OutpatientPrepaymentLine> = Vec::new();
    for (run, rows) in &stored {
        for row in rows {
            lines.push(serde_json::from_str(&row.statement_json).map_err(|e| {
                internal(format!(
                    "stored outpatient prepayment {} of {} is unreadable: {e}",
                    run.run_id, row.hospital_code
                ))
            })?);
        }
    }
    Ok(Prepaid {
        source: "stored",
        run_ids: stored.iter().map(|(run, _)| run.run_id.clone()).collect(),
        amounts: prepaid_by_institution(&lines),
    })
}

/// The latest enrolment and its version; FAILED_PRECONDITION when none is stored.
async fn enrolment<C: Storage>(
    conn: &C,
    (region, year, fund): (RegionCode, i32, FundType),
) -> Result<(i32, OutpatientEnrolment), RunError> {
    let row = store::latest_enrolment(conn, (region, year, fund))
        .await?
        .ok_or_else(|| RunError::Precondition {
            reason: "NO_OUTPATIENT_ENROLMENT",
            message: format!(
                "no outpatient enrolment is stored for region {region}, year {year}, fund {}: \
                 put one (PutOutpatientEnrolment)",
                fund.code()
            ),
        })?;
    let enrolment = serde_json::from_str(&row.enrolment_json).map_err(|e| {
        internal(format!(
            "stored outpatient enrolment v{} is unreadable: {e}",
            row.version
        ))
    })?;
    Ok((row.version, enrolment))
}

/// The year's claims and the ordinary visits paid in APG points, read from the ledger.
async fn claims<C: Storage>(
    conn: &C,
    order: &OutpatientOrder,
    enrolment: &OutpatientEnrolment,
) -> Result<(Vec<AmbulatoryClaim>, Vec<VisitToValue>), RunError> {
    let dates = (order.year * 10_000 + 101, order.year * 10_000 + 1231);
    let rows = store::ambulatory_settlements(conn, order.region, order.fund, dates).await?;
    let mut claims = Vec::with_capacity(rows.len());
    let mut visits = Vec::new();
    for row in rows {
        let kind = if row.record_kind == RecordKind::ChronicOutpatient.as_str() {
            ClaimKind::Chronic
        } else if row.record_kind == RecordKind::Pharmacy.as_str() {
            ClaimKind::Pharmacy
        } else {
            ClaimKind::Ordinary
        };
        if kind == ClaimKind::Ordinary && paid_in_apg(enrolment, &row.hospital_code) {
            let settlement: AmbulatorySettlement =
                serde_json::from_str(&row.case_json).map_err(|e| {
                    internal(format!(
                        "stored settlement {}/{} is unreadable: {e}",
                        row.hospital_code, row.list_id
                    ))
                })?;
            // A refund settlement takes back money, not a visit: it is not valued again.
            if !settlement.header.refund {
                visits.push(VisitToValue {
                    hospital_code: row.hospital_code.clone(),
                    list_id: row.list_id.clone(),
                    date: Date::from_yyyymmdd(row.discharge_date).map_err(internal)?,
                    principal_diagnosis: settlement
                        .diagnoses
                        .first()
                        .map(|d| d.code.clone())
                        .unwrap_or_default(),
                    procedures: settlement.procedures,
                });
            }
        }
        claims.push(AmbulatoryClaim {
            hospital_code: row.hospital_code,
            list_id: row.list_id,
            kind,
            fund_amount: Money::from_fen(row.fund_fen),
        });
    }
    Ok((claims, visits))
}

/// How many visits an APG_UNVALUED refusal names at most.
const UNVALUED_LISTED: usize = 20;

/// Reads the run's facts and asks the points and budget contexts; nothing is written.
pub async fn prepare<C: Storage>(
    conn: &C,
    order: &OutpatientOrder,
    principal: &Principal,
    valuer: &dyn OutpatientValuer,
    budget: Option<BudgetAccess<'_>>,
) -> Result<Prepared, RunError> {
    let (enrolment_version, enrolment) = enrolment(conn, order.key()).await?;
    let prepaid = prepaid(conn, order, &enrolment).await?;
    let (claims, to_value) = claims(conn, order, &enrolment).await?;
    let (budgets, answers) = valuer
        .value(principal, order.key(), &enrolment, &to_value)
        .await?;
    let mut visits = Vec::with_capacity(to_value.len());
    let mut unvalued = Vec::new();
    for (visit, answer) in to_value.into_iter().zip(answers) {
        match answer {
            Ok((points, table_version)) => visits.push(VisitPoints {
                hospital_code: visit.hospital_code,
                list_id: visit.list_id,
                points,
                table_version,
            }),
            Err(why) => unvalued.push(format!("{}/{} ({why})", visit.hospital_code, visit.list_id)),
        }
    }
    if !unvalued.is_empty() {
        let count = unvalued.len();
        unvalued.truncate(UNVALUED_LISTED);
        return Err(RunError::Precondition {
            reason: "APG_UNVALUED",
            message: format!(
                "{count} ordinary visit(s) could not be valued in APG points: {}{}",
                unvalued.join(", "),
                if count > UNVALUED_LISTED { ", …" } else { "" }
            ),
        });
    }
    let requests = sharing_requests(&enrolment, &budgets, &claims, order.fund)
        .map_err(|e| internal(e.to_string()))?;
    let shares = if requests.is_empty() {
        Default::default()
    } else {
        let access = budget.ok_or_else(|| no_budget_peer("an outpatient year end"))?;
        let key = ClearingKey {
            region: order.region,
            year: order.year,
            fund: order.fund,
            run_id: format!("outpatient-{}-{}", order.region, order.year),
        };
        access.peer.share(access.principal, &key, &requests).await?
    };
    let clearing = assemble_outpatient(
        &enrolment,
        &budgets,
        &claims,
        &shares,
        visits,
        order.apg_block,
        &prepaid.amounts,
    )
    .map_err(|e| internal(e.to_string()))?;
    Ok(Prepared {
        enrolment_version,
        claims,
        prepaid,
        clearing,
    })
}

/// A stored year end: the run, its clearing, the enrolment version it read and what it deducted.
pub type StoredRun = (RunRow, OutpatientClearing, i32, Prepaid);

/// Stores the prepared run as the next version, inside the request's unit of work; refused
/// (ABORTED, a retry prepares again) when the enrolment, the claims or the stored prepayments
/// changed since.
pub async fn store_run<C: Storage>(
    conn: &C,
    order: &OutpatientOrder,
    prepared: Prepared,
) -> Result<StoredRun, RunError> {
    let (version_now, enrolment_now) = enrolment(conn, order.key()).await?;
    let (claims_now, _) = claims(conn, order, &enrolment_now).await?;
    let prepaid_now = prepaid(conn, order, &enrolment_now).await?;
    if version_now != prepared.enrolment_version
        || claims_now != prepared.claims
        || prepaid_now != prepared.prepaid
    {
        return Err(RunError::Conflict(
            "the enrolment, the year's ambulatory settlements or its monthly prepayments \
             changed while the run was valued; run it again"
                .to_owned(),
        ));
    }
    let version = run_store::latest_run(
        conn,
        kind::OUTPATIENT,
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
                "is required: the year already has outpatient run version {}",
                version - 1
            ),
        )]));
    }
    let clearing = prepared.clearing;
    let csv = export::to_csv(&outpatient_table(&clearing.statements)).map_err(internal)?;
    let run_id = new_run_id()?;
    let mut statements = Vec::with_capacity(clearing.statements.len());
    for statement in &clearing.statements {
        statements.push(statement_row(
            &run_id,
            order.region,
            &statement.hospital_code,
            serde_json::to_string(statement).map_err(internal)?,
            statement.balance,
        )?);
    }
    let apg_paid: Money = clearing.statements.iter().map(|s| s.apg_amount).sum();
    let totals = RunTotals {
        hospitals: u32::try_from(clearing.statements.len()).unwrap_or(u32::MAX),
        cases: u64::try_from(prepared.claims.len()).unwrap_or(u64::MAX),
        points: clearing.apg_points,
        point_value: clearing.apg_point_value,
        payable: clearing.total_payable(),
        points_budget: None,
        reimbursement_ratio: None,
    };
    // The APG block's identity: Σ APG amounts + residue = block, to the fen.
    let identity = IdentityCheck {
        distributable_budget: clearing.apg_block,
        total_entitlements: apg_paid,
        ffs_special_total: Money::ZERO,
        residue: clearing.apg_residue,
        holds: apg_paid + clearing.apg_residue == clearing.apg_block,
    };
    let run = RunRow {
        run_id,
        kind: kind::OUTPATIENT.to_owned(),
        region_code: region_to_db(order.region),
        fund_type: fund_to_db(order.fund),
        period: order.period(),
        version,
        is_final: false,
        reason: order.reason.clone(),
        totals_json: serde_json::to_string(&totals).map_err(internal)?,
        identity_json: serde_json::to_string(&identity).map_err(internal)?,
        statements_digest: export::sha256_hex(&csv),
        inputs_json: serde_json::json!({
            "enrolment_version": prepared.enrolment_version,
            "apg_block": clearing.apg_block,
            "prepaid": prepared.prepaid.amounts,
            "prepaid_source": prepared.prepaid.source,
            "prepayment_run_ids": prepared.prepaid.run_ids,
        })
        .to_string(),
        result_json: serde_json::to_string(&clearing).map_err(internal)?,
        created_by: order.caller.clone(),
        created_at: order.at,
    };
    run_store::insert_run(conn, run.clone(), statements)
        .await
        .map_err(|e: StoreError| RunError::Store(e))?;
    Ok((run, clearing, prepared.enrolment_version, prepared.prepaid))
}
