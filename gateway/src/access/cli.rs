//! `medpay admin keys …`: the operator on the box manages keys directly in the configured
//! database, audited as `os:<user>`. This is how the first admin key is made; the scope rule of
//! `AdminService` does not apply here (whoever can run this can read the database anyway).
//!
//! A change made here reaches a running server when its cached verification of the key runs out
//! (at most 30 seconds).

use sea_orm::DatabaseConnection;

use super::policy::{KeyFields, KeySpec};
use super::store::{AuditEntry, KeyRecord, KeyStore, ListFilter, StoreError};
use super::{describe, issue, key, spec_of, unix_now};

/// The operating-system user running the command, as the audit log names it.
pub fn os_actor() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("os:{}", user.trim())
}

/// Options of `medpay admin keys create`.
pub struct CreateArgs {
    pub caller_id: String,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub institution: Option<String>,
    pub expires_in_days: Option<u32>,
}

/// Creates a key; returns its record and the key, which the caller prints once.
pub async fn create(
    db: DatabaseConnection,
    args: &CreateArgs,
) -> anyhow::Result<(KeyRecord, String)> {
    let now = unix_now();
    let spec = KeySpec::read(
        &KeyFields {
            caller_id: &args.caller_id,
            scopes: &args.scopes,
            roles: &args.roles,
            institution: args.institution.as_deref().unwrap_or(""),
            expires_at: args
                .expires_in_days
                .map_or(0, |days| now + i64::from(days) * 86_400),
        },
        now,
    )
    .map_err(|violations| {
        let lines: Vec<String> = violations
            .iter()
            .map(|(field, why)| format!("  {}: {why}", cli_flag(field)))
            .collect();
        anyhow::anyhow!("the key is not valid:\n{}", lines.join("\n"))
    })?;
    let actor = os_actor();
    let (record, issued, hash) = issue(&spec, &actor, now, None).await?;
    let audit = AuditEntry {
        at_unix_seconds: now,
        actor,
        action: "CreateApiKey".into(),
        key_id: record.key_id.clone(),
        detail: describe(&record),
        request_id: String::new(),
    };
    KeyStore::new(db)
        .create(&record, &hash, &audit, None)
        .await?;
    Ok((record, issued.reveal()))
}

/// The command-line flag of a request field, for error messages.
fn cli_flag(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    let flag = match base {
        "caller_id" => "--caller-id",
        "scopes" => "--scope",
        "roles" => "--role",
        "institution_code" => "--institution",
        "expires_at_unix" => "--expires-in-days",
        other => other,
    };
    format!("{flag} ({field})")
}

/// Every key (of `caller_id` when given), newest first, active ones unless `all`.
pub async fn list(
    db: DatabaseConnection,
    caller_id: Option<String>,
    all: bool,
) -> anyhow::Result<Vec<KeyRecord>> {
    let filter = ListFilter {
        caller_id,
        include_inactive: all,
    };
    let (records, _) = KeyStore::new(db)
        .list(&filter, None, u64::MAX, unix_now(), |_| true)
        .await?;
    Ok(records)
}

/// Replaces a key by a new one; the old one stops at once or after `overlap_seconds`.
pub async fn rotate(
    db: DatabaseConnection,
    key_id: &str,
    overlap_seconds: u32,
) -> anyhow::Result<(KeyRecord, String)> {
    anyhow::ensure!(
        key::is_key_id(key_id),
        "{key_id:?} is not a key id (16 lowercase hex digits, as `medpay admin keys list` shows)"
    );
    let store = KeyStore::new(db);
    let now = unix_now();
    let old = store
        .get(key_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(key_id.to_owned()))?;
    anyhow::ensure!(
        old.revoked_at.is_none(),
        "api key {key_id} is already revoked or rotated"
    );
    anyhow::ensure!(
        old.is_active_at(now),
        "api key {key_id} has expired; create a new key instead"
    );
    let actor = os_actor();
    let (record, issued, hash) =
        issue(&spec_of(&old, None), &actor, now, Some(old.key_id.clone())).await?;
    let ends_at = now + i64::from(overlap_seconds);
    let audit = AuditEntry {
        at_unix_seconds: now,
        actor,
        action: "RotateApiKey".into(),
        key_id: old.key_id.clone(),
        detail: format!(
            "rotated to {} (old key ends at {ends_at}, overlap {overlap_seconds} s); {}",
            record.key_id,
            describe(&record)
        ),
        request_id: String::new(),
    };
    store
        .rotate(&old.key_id, ends_at, &record, &hash, &audit, None)
        .await?;
    Ok((record, issued.reveal()))
}

/// Revokes a key at once.
pub async fn revoke(db: DatabaseConnection, key_id: &str, reason: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        key::is_key_id(key_id),
        "{key_id:?} is not a key id (16 lowercase hex digits, as `medpay admin keys list` shows)"
    );
    let reason = reason.trim();
    anyhow::ensure!(!reason.is_empty(), "--reason is required");
    anyhow::ensure!(
        !reason.contains(key::KEY_PREFIX),
        "--reason must not contain an api key; name the key by its id"
    );
    let now = unix_now();
    let audit = AuditEntry {
        at_unix_seconds: now,
        actor: os_actor(),
        action: "RevokeApiKey".into(),
        key_id: key_id.to_owned(),
        detail: format!("reason: {reason}"),
        request_id: String::new(),
    };
    KeyStore::new(db)
        .revoke(key_id, now, reason, &audit, None)
        .await?;
    Ok(())
}

/// One line per key for `medpay admin keys list`.
pub fn format_line(record: &KeyRecord, now: i64) -> String {
    let state = if record.is_active_at(now) {
        match record.ends_at() {
            Some(end) => format!("active until {end}"),
            None => "active".into(),
        }
    } else if let Some(at) = record.revoked_at.filter(|at| *at <= now) {
        format!(
            "revoked at {at} by {} ({})",
            record.revoked_by.as_deref().unwrap_or("?"),
            record.revoke_reason.as_deref().unwrap_or("")
        )
    } else {
        "expired".into()
    };
    let scopes: Vec<String> = record.scopes.iter().map(ToString::to_string).collect();
    format!(
        "{}\t{}\t{}\t{}\t{}\tcreated {} by {}\t{state}",
        record.key_id,
        record.caller_id,
        scopes.join(","),
        record.roles.join(","),
        record.institution.as_deref().unwrap_or("-"),
        record.created_at,
        record.created_by,
    )
}
