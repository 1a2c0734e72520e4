//! Idempotent, audited writes: the platform's journal ([`platform::journal`]) in the settlement
//! context's tables `settlement_request` and `settlement_audit`. Every write of the context runs
//! through [`Database::run_once`](super::Database::run_once): its effect, its audit entry and its
//! encoded response commit in one transaction, keyed by (caller, request id); the same request
//! again replays the stored response, the same request id with another body or method is refused.

use kernel::{Principal, RegionCode};
use sea_orm::{DatabaseConnection, DbErr};

pub use platform::journal::{AuditEntry, Call, Effect, Fingerprint, Once, RequestIdReused};

/// The settlement context's journal.
pub const JOURNAL: platform::journal::Journal = platform::journal::Journal::new("settlement");

/// The call of `method` with `request` under `request_id`, by `principal` for `region`, made now.
pub fn call_by<M: prost::Message>(
    principal: &Principal,
    method: &str,
    request: &M,
    request_id: &str,
    region: RegionCode,
) -> Call {
    Call::new(
        &principal.caller_id,
        request_id,
        method,
        request,
        Some(region),
    )
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
