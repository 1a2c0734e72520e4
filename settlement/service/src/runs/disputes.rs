//! Statement disputes: a step of the domain's dispute on one clearing statement, stored on its
//! row.

use settlement_domain::dispute::{DisputeAction, StatementDispute};

use super::store::{self, StatementRow, kind};
use super::{RunError, date_time, internal};
use crate::store::Storage;

/// Applies `action` to the statement of `hospital_code` in `run_id`; returns the stored row.
pub async fn dispute_step<C: Storage>(
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
    dispute
        .take(action, actor, date_time(at)?)
        .map_err(|e| RunError::Domain(vec![e]))?;
    row.dispute_state = dispute.state().listed_name().to_owned();
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
