//! Stored runs, statements and disputes, and shadow reports, as the wire carries them.

use kernel::Money;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use platform::db::{fund_from_db, region_from_db};
use platform::status::storage_failure;
use platform::wire;
use settlement_domain::run_summary::{IdentityCheck, RunTotals};
use settlement_domain::shadow::{ShadowLine, difference_ratio};
use tonic::Status;

use super::disputes::current_dispute;
use super::store::{RunRow, StatementRow, kind};

pub fn totals(json: &str) -> Result<Option<pb::RunTotals>, Status> {
    let totals: RunTotals = serde_json::from_str(json).map_err(storage_failure)?;
    Ok(Some(pb::RunTotals {
        hospitals: totals.hospitals,
        cases: totals.cases,
        points: Some(wire::decimal_to_wire(totals.points)),
        point_value: Some(wire::decimal_to_wire(totals.point_value)),
        payable: Some(wire::money_to_wire(totals.payable)),
        points_budget: totals.points_budget.map(wire::money_to_wire),
        reimbursement_ratio: totals.reimbursement_ratio.map(wire::decimal_to_wire),
    }))
}

pub fn identity(json: &str) -> Result<Option<pb::IdentityCheck>, Status> {
    if json.is_empty() {
        return Ok(None);
    }
    let identity: IdentityCheck = serde_json::from_str(json).map_err(storage_failure)?;
    Ok(Some(pb::IdentityCheck {
        distributable_budget: Some(wire::money_to_wire(identity.distributable_budget)),
        total_entitlements: Some(wire::money_to_wire(identity.total_entitlements)),
        ffs_special_total: Some(wire::money_to_wire(identity.ffs_special_total)),
        residue: Some(wire::money_to_wire(identity.residue)),
        holds: identity.holds,
    }))
}

pub fn run(run: &RunRow) -> Result<pb::Run, Status> {
    let region = region_from_db(run.region_code).map_err(storage_failure)?;
    let fund = fund_from_db(run.fund_type).map_err(storage_failure)?;
    Ok(pb::Run {
        run_id: run.run_id.clone(),
        kind: run.kind.clone(),
        region_code: region.to_string(),
        fund_type: wire::fund_type_to_wire(fund),
        period: Some(common::YearMonth {
            year: run.period / 100,
            month: run.period % 100,
        }),
        version: run.version,
        totals: totals(&run.totals_json)?,
        identity: identity(&run.identity_json)?,
        statements_digest: run.statements_digest.clone(),
        inputs_json: run.inputs_json.clone(),
        created_at_unix: run.created_at,
        r#final: run.is_final,
        alliances_json: alliances(run)?,
    })
}

/// The alliance summaries a clearing stored with its result, as a JSON list (`[]` for none).
pub fn alliances(run: &RunRow) -> Result<String, Status> {
    if run.kind != kind::CLEARING || run.result_json.is_empty() {
        return Ok("[]".to_owned());
    }
    let result: serde_json::Value =
        serde_json::from_str(&run.result_json).map_err(storage_failure)?;
    let alliances = result
        .get("alliances")
        .cloned()
        .unwrap_or_else(|| serde_json::Value::Array(Vec::new()));
    serde_json::to_string(&alliances).map_err(storage_failure)
}

/// A statement of a run of `run_kind`, with its typed detail read from the same stored JSON.
pub fn statement(run_kind: &str, row: &StatementRow) -> pb::Statement {
    pb::Statement {
        detail: super::statement_detail::detail(run_kind, &row.statement_json),
        run_id: row.run_id.clone(),
        hospital_code: row.hospital_code.clone(),
        statement_json: row.statement_json.clone(),
        balance: Some(wire::money_to_wire(Money::from_fen(row.balance_fen))),
        dispute_state: row.dispute_state.clone(),
    }
}

pub fn dispute(row: &StatementRow, issued_at: i64) -> Result<pb::Dispute, Status> {
    let dispute = current_dispute(row, issued_at)?;
    Ok(pb::Dispute {
        run_id: row.run_id.clone(),
        hospital_code: row.hospital_code.clone(),
        state: row.dispute_state.clone(),
        history_json: serde_json::to_string(dispute.history()).map_err(storage_failure)?,
    })
}

pub fn shadow_line(key: String, line: &ShadowLine) -> pb::ShadowLine {
    pb::ShadowLine {
        key,
        cases: line.cases,
        points: Some(wire::decimal_to_wire(line.points)),
        drg_dip_amount: Some(wire::money_to_wire(line.model_amount)),
        ffs_amount: Some(wire::money_to_wire(line.ffs_amount)),
        difference: Some(wire::money_to_wire(line.difference)),
        difference_ratio: Some(wire::decimal_to_wire(difference_ratio(
            line.difference,
            line.ffs_amount,
        ))),
    }
}
