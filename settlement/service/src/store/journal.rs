//! Idempotent, audited writes: the platform's journal ([`platform::journal`]) in the settlement
//! context's tables `settlement_request` and `settlement_audit`. Every write of the context runs
//! through [`run_once`]: its effect, its audit entry and its encoded response commit in one
//! transaction, keyed by (caller, request id); the same request again replays the stored
//! response, the same request id with another body or method is refused.

use kernel::RegionCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};

pub use platform::journal::{AuditEntry, Call, Effect, Fingerprint, Once, RequestIdReused};

/// The settlement context's journal.
pub const JOURNAL: platform::journal::Journal = platform::journal::Journal::new("settlement");

/// Runs `effect` once per (caller, request id) of `call`, atomically with its audit entry and
/// response ([`platform::journal::Journal::run_once`]).
pub async fn run_once<E, F>(db: &DatabaseConnection, call: &Call, effect: F) -> Result<Once, E>
where
    E: From<DbErr> + From<RequestIdReused>,
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> Effect<'c, E>,
{
    JOURNAL.run_once(db, call, effect).await
}

/// The stored response of `call` when the same request was already carried out; refused when its
/// request id was used with another body or for another method.
pub async fn replay<C, E>(conn: &C, call: &Call) -> Result<Option<Vec<u8>>, E>
where
    C: ConnectionTrait,
    E: From<DbErr> + From<RequestIdReused>,
{
    JOURNAL.replay(conn, call).await
}

/// The call of an upload (`SubmitCases`, `SubmitCaseBatch`). Its records stream in after the
/// request id is checked, and sending an upload again under its request id is how a broken-off
/// upload is resumed (each record is idempotent on its own), so the fingerprint covers the method
/// and the region, not the records: another region or method under the same id is refused.
pub fn upload_call(caller_id: &str, request_id: &str, method: &str, region: RegionCode) -> Call {
    let region_code = region.to_string();
    Call::with_fingerprint(
        caller_id,
        request_id,
        method,
        Fingerprint::of_parts(method, &[region_code.as_bytes()]),
        Some(region),
    )
}

/// Every audit entry, oldest first.
pub async fn audit_entries(db: &DatabaseConnection) -> Result<Vec<AuditEntry>, DbErr> {
    JOURNAL.all_audit_entries(db).await
}
