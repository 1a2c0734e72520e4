//! Idempotent, audited writes. Every write of the settlement context runs through [`run_once`]:
//! its effect, its audit entry and its encoded response commit in one transaction, keyed by
//! (caller, request id). A retry replays the stored response; two concurrent attempts with the
//! same key cannot both commit, and the loser replays the winner's answer.

use std::future::Future;
use std::pin::Pin;

use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseTransaction, QueryOrder, Set, TransactionTrait};

pub mod settlement_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_request")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        pub method: String,
        pub response: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod settlement_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_audit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at_unix_seconds: i64,
        pub caller_id: String,
        pub action: String,
        pub detail: String,
        pub request_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who did what, when, under which request id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at_unix_seconds: i64,
    pub caller_id: String,
    /// The method, e.g. `RunClearing`.
    pub action: String,
    /// What it changed, in words (region, period, run id, counts).
    pub detail: String,
    pub request_id: String,
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Once {
    /// The effect ran now; its encoded response.
    Done(Vec<u8>),
    /// The request id was already carried out; the response stored then.
    Replayed(Vec<u8>),
}

impl Once {
    pub fn response(&self) -> &[u8] {
        match self {
            Once::Done(bytes) | Once::Replayed(bytes) => bytes,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, Once::Replayed(_))
    }
}

/// The effect of a write, run inside the transaction; returns the encoded response and the audit
/// detail.
pub type Effect<'c, E> = Pin<Box<dyn Future<Output = Result<(Vec<u8>, String), E>> + Send + 'c>>;

/// The response stored for a caller's request id, if that request was already carried out.
pub async fn stored_response<C: ConnectionTrait>(
    conn: &C,
    caller_id: &str,
    request_id: &str,
) -> Result<Option<Vec<u8>>, DbErr> {
    Ok(
        settlement_request::Entity::find_by_id((caller_id.to_owned(), request_id.to_owned()))
            .one(conn)
            .await?
            .map(|row| row.response),
    )
}

/// Runs `effect` once per (caller, request id), atomically with its audit entry and response.
///
/// `audit.detail` is replaced by the detail the effect returns. When the effect fails, nothing
/// is written and the error is returned; a later retry runs the effect again.
pub async fn run_once<E, F>(
    db: &DatabaseConnection,
    audit: AuditEntry,
    effect: F,
) -> Result<Once, E>
where
    E: From<DbErr>,
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> Effect<'c, E>,
{
    if let Some(stored) = stored_response(db, &audit.caller_id, &audit.request_id).await? {
        return Ok(Once::Replayed(stored));
    }
    let txn = db.begin().await?;
    let (response, detail) = match effect(&txn).await {
        Ok(done) => done,
        Err(error) => {
            txn.rollback().await?;
            return Err(error);
        }
    };
    let recorded: Result<(), DbErr> = async {
        settlement_audit::ActiveModel {
            at_unix_seconds: Set(audit.at_unix_seconds),
            caller_id: Set(audit.caller_id.clone()),
            action: Set(audit.action.clone()),
            detail: Set(detail),
            request_id: Set(audit.request_id.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        settlement_request::ActiveModel {
            caller_id: Set(audit.caller_id.clone()),
            request_id: Set(audit.request_id.clone()),
            method: Set(audit.action.clone()),
            response: Set(response.clone()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await
    }
    .await;
    match recorded {
        Ok(()) => Ok(Once::Done(response)),
        // A concurrent attempt with the same key committed first: its answer stands.
        Err(error) => match stored_response(db, &audit.caller_id, &audit.request_id).await? {
            Some(stored) => Ok(Once::Replayed(stored)),
            None => Err(error.into()),
        },
    }
}

/// Every audit entry, oldest first.
pub async fn audit_entries(db: &DatabaseConnection) -> Result<Vec<AuditEntry>, DbErr> {
    Ok(settlement_audit::Entity::find()
        .order_by_asc(settlement_audit::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|row| AuditEntry {
            at_unix_seconds: row.at_unix_seconds,
            caller_id: row.caller_id,
            action: row.action,
            detail: row.detail,
            request_id: row.request_id,
        })
        .collect())
}
