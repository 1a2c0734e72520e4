//! API keys: stored hashed, created, listed, rotated and revoked through `medpay.admin.v1` or
//! `medpay admin keys`, every change audited.
//!
//! The keys belong to the edge, not to any context, so the gateway owns their tables (`access_*`,
//! migrated with `access_migrations` on every server). A key is `mpk_<key id>_<secret>`: the id is
//! public (it is listed, logged and audited), the 256-bit secret is shown once, when the key is
//! created or rotated, and only its argon2id hash is kept. Verifying a presented key reads its row
//! and checks the hash; a verified key is then trusted from a cache for at most 30 seconds
//! ([`verify::CACHE_SECONDS`]), so a revocation is immediate on the server that made it and takes
//! up to that long on the others.
//!
//! Keys in the configuration (`auth.api_keys`) still authenticate, for development and tests: they
//! are plain text, and production needs none.

pub mod admin;
pub mod caller;
pub mod cli;
pub mod key;
pub mod migration;
pub mod policy;
pub mod store;
pub mod verify;

pub use admin::AdminApi;
pub use caller::Caller;
pub use migration::Migrator;
pub use store::KeyStore;
pub use verify::StoredKeys;

use self::key::IssuedKey;
use self::policy::KeySpec;
use self::store::KeyRecord;

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new key of `spec` made by `actor`: its record, the key to show once, and the hash to store.
pub async fn issue(
    spec: &KeySpec,
    actor: &str,
    now: i64,
    rotated_from: Option<String>,
) -> anyhow::Result<(KeyRecord, IssuedKey, String)> {
    let issued = IssuedKey::generate()?;
    let (issued, hash) = tokio::task::spawn_blocking(move || {
        let hash = issued.hash();
        (issued, hash)
    })
    .await?;
    let hash = hash?;
    let record = KeyRecord {
        key_id: issued.key_id().to_owned(),
        caller_id: spec.caller_id.clone(),
        scopes: spec.scopes.clone(),
        roles: spec.roles.clone(),
        institution: spec.institution.clone(),
        created_at: now,
        created_by: actor.to_owned(),
        rotated_from,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        expires_at: spec.expires_at,
    };
    Ok((record, issued, hash))
}

/// What the audit log says of a key: who it is for and what it may do, never its secret.
pub fn describe(record: &KeyRecord) -> String {
    let scopes: Vec<String> = record.scopes.iter().map(ToString::to_string).collect();
    let mut text = format!(
        "caller {} scopes {} roles {}",
        record.caller_id,
        scopes.join(","),
        record.roles.join(",")
    );
    if let Some(institution) = &record.institution {
        text.push_str(&format!(" institution {institution}"));
    }
    if let Some(expires) = record.expires_at {
        text.push_str(&format!(" expires {expires}"));
    }
    text
}

/// The spec of a key like `record` (for its rotation), with `expires_at` if given.
pub fn spec_of(record: &KeyRecord, expires_at: Option<i64>) -> KeySpec {
    KeySpec {
        caller_id: record.caller_id.clone(),
        scopes: record.scopes.clone(),
        roles: record.roles.clone(),
        institution: record.institution.clone(),
        expires_at: expires_at.or(record.expires_at),
    }
}
