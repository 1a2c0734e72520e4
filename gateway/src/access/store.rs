//! The key store: keys (with the argon2id hash of their secret, never the secret), the audit log
//! of every change, and the stored answers of idempotent requests.

use std::future::Future;
use std::pin::Pin;

use kernel::{Principal, RegionCode};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{Condition, DatabaseTransaction, QueryOrder, QuerySelect, Set};

pub mod access_api_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_api_key")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_id: String,
        pub caller_id: String,
        /// Region codes joined with `,`.
        pub scopes: String,
        /// Roles joined with `,`.
        pub roles: String,
        pub institution: Option<String>,
        /// argon2id PHC string of the secret.
        pub secret_hash: String,
        pub created_at: i64,
        pub created_by: String,
        pub rotated_from: Option<String>,
        pub revoked_at: Option<i64>,
        pub revoked_by: Option<String>,
        pub revoke_reason: Option<String>,
        pub expires_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod access_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_audit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at_unix_seconds: i64,
        pub actor: String,
        pub action: String,
        pub key_id: String,
        pub detail: String,
        pub request_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod access_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_request")]
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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Corrupt(#[from] platform::db::CorruptRow),
    #[error("api key {0} does not exist")]
    NotFound(String),
    #[error("api key {0} is already revoked")]
    AlreadyRevoked(String),
}

/// A key's record: everything but its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_id: String,
    pub caller_id: String,
    pub scopes: Vec<RegionCode>,
    pub roles: Vec<String>,
    /// The institution a hospital key acts for.
    pub institution: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub rotated_from: Option<String>,
    /// When the key stops working by revocation; later than now while a rotation's overlap runs.
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub expires_at: Option<i64>,
}

impl KeyRecord {
    /// When the key stops working, if it ever does: the earlier of its revocation and expiry.
    pub fn ends_at(&self) -> Option<i64> {
        match (self.revoked_at, self.expires_at) {
            (Some(revoked), Some(expires)) => Some(revoked.min(expires)),
            (revoked, expires) => revoked.or(expires),
        }
    }

    /// Whether the key authenticates at `now` (unix seconds).
    pub fn is_active_at(&self, now: i64) -> bool {
        self.ends_at().is_none_or(|end| now < end)
    }

    /// The principal the key authenticates as.
    pub fn principal(&self) -> Principal {
        Principal {
            caller_id: self.caller_id.clone(),
            scopes: self.scopes.clone(),
            roles: self.roles.clone(),
            institution: self.institution.clone(),
        }
    }
}

/// One audited change. `detail` says what changed and never holds key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at_unix_seconds: i64,
    /// The caller id, or `os:<user>` for the command line.
    pub actor: String,
    pub action: String,
    pub key_id: String,
    pub detail: String,
    /// The request id of a gRPC call; empty for the command line.
    pub request_id: String,
}

/// The answer to remember for an idempotent request (without any key in it).
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub caller_id: String,
    pub request_id: String,
    pub method: String,
    pub response: Vec<u8>,
}

/// The outcome of a write made once per request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written<T> {
    /// Applied now.
    Applied(T),
    /// The request id was carried out before; its stored answer is returned unchanged.
    Replayed(Vec<u8>),
}

/// Which keys [`KeyStore::list`] returns.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub caller_id: Option<String>,
    /// Revoked and expired keys too.
    pub include_inactive: bool,
}

/// Position after the last listed key (keys are listed newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListCursor {
    pub created_at: i64,
    pub key_id: String,
}

type Effect = Box<
    dyn for<'c> FnOnce(
            &'c DatabaseTransaction,
        ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'c>>
        + Send,
>;

/// The key store on a sea-orm connection.
#[derive(Clone)]
pub struct KeyStore {
    db: DatabaseConnection,
}

impl KeyStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// A key's record.
    pub async fn get(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.get_with_hash(key_id).await?.map(|(record, _)| record))
    }

    /// A key's record and the hash of its secret, for verifying a presented key.
    pub async fn get_with_hash(
        &self,
        key_id: &str,
    ) -> Result<Option<(KeyRecord, String)>, StoreError> {
        access_api_key::Entity::find_by_id(key_id.to_owned())
            .one(&self.db)
            .await?
            .map(|row| {
                let hash = row.secret_hash.clone();
                from_row(row).map(|record| (record, hash))
            })
            .transpose()
    }

    /// Keys newest first, after `cursor`, at most `limit` of them, that `visible` accepts. Rows
    /// are read in batches until the page is full, so a caller sees full pages of its own keys.
    pub async fn list(
        &self,
        filter: &ListFilter,
        cursor: Option<&ListCursor>,
        limit: u64,
        now: i64,
        visible: impl Fn(&KeyRecord) -> bool,
    ) -> Result<(Vec<KeyRecord>, bool), StoreError> {
        const BATCH: u64 = 200;
        let mut found = Vec::new();
        let mut after = cursor.cloned();
        loop {
            let mut query = access_api_key::Entity::find();
            if let Some(caller) = &filter.caller_id {
                query = query.filter(access_api_key::Column::CallerId.eq(caller.clone()));
            }
            if let Some(after) = &after {
                query = query.filter(
                    Condition::any()
                        .add(access_api_key::Column::CreatedAt.lt(after.created_at))
                        .add(
                            Condition::all()
                                .add(access_api_key::Column::CreatedAt.eq(after.created_at))
                                .add(access_api_key::Column::KeyId.lt(after.key_id.clone())),
                        ),
                );
            }
            let rows = query
                .order_by_desc(access_api_key::Column::CreatedAt)
                .order_by_desc(access_api_key::Column::KeyId)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            let exhausted = (rows.len() as u64) < BATCH;
            for row in rows {
                let record = from_row(row)?;
                after = Some(ListCursor {
                    created_at: record.created_at,
                    key_id: record.key_id.clone(),
                });
                if (filter.include_inactive || record.is_active_at(now)) && visible(&record) {
                    if found.len() as u64 == limit {
                        return Ok((found, true));
                    }
                    found.push(record);
                }
            }
            if exhausted {
                return Ok((found, false));
            }
        }
    }

    /// The method and answer stored for a caller's request id.
    pub async fn stored_request(
        &self,
        caller_id: &str,
        request_id: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(
            access_request::Entity::find_by_id((caller_id.to_owned(), request_id.to_owned()))
                .one(&self.db)
                .await?
                .map(|row| (row.method, row.response)),
        )
    }

    /// Stores a new key with the hash of its secret.
    pub async fn create(
        &self,
        record: &KeyRecord,
        secret_hash: &str,
        audit: &AuditEntry,
        request: Option<&RequestRecord>,
    ) -> Result<Written<()>, StoreError> {
        let row = to_row(record, secret_hash);
        self.once(
            audit,
            request,
            Box::new(move |txn| {
                Box::pin(async move {
                    row.insert(txn).await?;
                    Ok(())
                })
            }),
        )
        .await
    }

    /// Replaces `old_key_id` by `new_record`: the old key is revoked from `old_ends_at` (now, or
    /// the end of an overlap) and the new one stored, together or not at all. A key already
    /// revoked (or rotated) is [`StoreError::AlreadyRevoked`].
    pub async fn rotate(
        &self,
        old_key_id: &str,
        old_ends_at: i64,
        new_record: &KeyRecord,
        new_secret_hash: &str,
        audit: &AuditEntry,
        request: Option<&RequestRecord>,
    ) -> Result<Written<()>, StoreError> {
        let row = to_row(new_record, new_secret_hash);
        let old = old_key_id.to_owned();
        let actor = audit.actor.clone();
        let reason = format!("rotated to {}", new_record.key_id);
        self.once(
            audit,
            request,
            Box::new(move |txn| {
                Box::pin(async move {
                    let unrevoked =
                        Condition::all().add(access_api_key::Column::RevokedAt.is_null());
                    let revocation = Revocation {
                        at: old_ends_at,
                        actor,
                        reason,
                    };
                    revoke_where(txn, &old, revocation, unrevoked).await?;
                    row.insert(txn).await?;
                    Ok(())
                })
            }),
        )
        .await
    }

    /// Revokes a key from `at`. A key whose revocation is still to come (a rotated key in its
    /// overlap) has it brought forward; a key already revoked is [`StoreError::AlreadyRevoked`].
    pub async fn revoke(
        &self,
        key_id: &str,
        at: i64,
        reason: &str,
        audit: &AuditEntry,
        request: Option<&RequestRecord>,
    ) -> Result<Written<()>, StoreError> {
        let key = key_id.to_owned();
        let actor = audit.actor.clone();
        let reason = reason.to_owned();
        self.once(
            audit,
            request,
            Box::new(move |txn| {
                Box::pin(async move {
                    // A revocation still to come may be brought forward, not pushed back.
                    let not_revoked_by_then = Condition::any()
                        .add(access_api_key::Column::RevokedAt.is_null())
                        .add(access_api_key::Column::RevokedAt.gt(at));
                    let revocation = Revocation { at, actor, reason };
                    revoke_where(txn, &key, revocation, not_revoked_by_then).await
                })
            }),
        )
        .await
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(access_audit::Entity::find()
            .order_by_asc(access_audit::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| AuditEntry {
                at_unix_seconds: row.at_unix_seconds,
                actor: row.actor,
                action: row.action,
                key_id: row.key_id,
                detail: row.detail,
                request_id: row.request_id,
            })
            .collect())
    }

    /// Writes `effect`, the audit entry and the request's answer in one transaction, unless the
    /// request id was carried out before (then its answer is replayed and nothing is written).
    async fn once(
        &self,
        audit: &AuditEntry,
        request: Option<&RequestRecord>,
        effect: Effect,
    ) -> Result<Written<()>, StoreError> {
        if let Some(request) = request
            && let Some((_, stored)) = self
                .stored_request(&request.caller_id, &request.request_id)
                .await?
        {
            return Ok(Written::Replayed(stored));
        }
        let written: Result<(), StoreError> = async {
            let txn = platform::db::begin_write(&self.db).await?;
            effect(&txn).await?;
            access_audit::ActiveModel {
                at_unix_seconds: Set(audit.at_unix_seconds),
                actor: Set(audit.actor.clone()),
                action: Set(audit.action.clone()),
                key_id: Set(audit.key_id.clone()),
                detail: Set(audit.detail.clone()),
                request_id: Set(audit.request_id.clone()),
                ..Default::default()
            }
            .insert(&*txn)
            .await?;
            if let Some(request) = request {
                access_request::ActiveModel {
                    caller_id: Set(request.caller_id.clone()),
                    request_id: Set(request.request_id.clone()),
                    method: Set(request.method.clone()),
                    response: Set(request.response.clone()),
                }
                .insert(&*txn)
                .await?;
            }
            txn.commit().await?;
            Ok(())
        }
        .await;
        match written {
            Ok(()) => Ok(Written::Applied(())),
            // A concurrent retry of the same request may have committed first; its answer is the
            // answer. Any other failure rolled the whole transaction back.
            Err(error) => match request {
                Some(request) => match self
                    .stored_request(&request.caller_id, &request.request_id)
                    .await?
                {
                    Some((_, stored)) => Ok(Written::Replayed(stored)),
                    None => Err(error),
                },
                None => Err(error),
            },
        }
    }
}

/// When, by whom and why a key stops working.
struct Revocation {
    at: i64,
    actor: String,
    reason: String,
}

/// Revokes `key_id` as `revocation` says if its row meets `revocable`; otherwise the key is
/// [`StoreError::AlreadyRevoked`], or [`StoreError::NotFound`].
async fn revoke_where(
    txn: &DatabaseTransaction,
    key_id: &str,
    revocation: Revocation,
    revocable: Condition,
) -> Result<(), StoreError> {
    let updated = access_api_key::Entity::update_many()
        .col_expr(
            access_api_key::Column::RevokedAt,
            Expr::value(revocation.at),
        )
        .col_expr(
            access_api_key::Column::RevokedBy,
            Expr::value(revocation.actor),
        )
        .col_expr(
            access_api_key::Column::RevokeReason,
            Expr::value(revocation.reason),
        )
        .filter(access_api_key::Column::KeyId.eq(key_id))
        .filter(revocable)
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(missing_or_revoked(txn, key_id).await);
    }
    Ok(())
}

async fn missing_or_revoked(txn: &DatabaseTransaction, key_id: &str) -> StoreError {
    match access_api_key::Entity::find_by_id(key_id.to_owned())
        .one(txn)
        .await
    {
        Ok(Some(_)) => StoreError::AlreadyRevoked(key_id.to_owned()),
        Ok(None) => StoreError::NotFound(key_id.to_owned()),
        Err(error) => error.into(),
    }
}

fn to_row(record: &KeyRecord, secret_hash: &str) -> access_api_key::ActiveModel {
    access_api_key::ActiveModel {
        key_id: Set(record.key_id.clone()),
        caller_id: Set(record.caller_id.clone()),
        scopes: Set(record
            .scopes
            .iter()
            .map(RegionCode::to_string)
            .collect::<Vec<_>>()
            .join(",")),
        roles: Set(record.roles.join(",")),
        institution: Set(record.institution.clone()),
        secret_hash: Set(secret_hash.to_owned()),
        created_at: Set(record.created_at),
        created_by: Set(record.created_by.clone()),
        rotated_from: Set(record.rotated_from.clone()),
        revoked_at: Set(record.revoked_at),
        revoked_by: Set(record.revoked_by.clone()),
        revoke_reason: Set(record.revoke_reason.clone()),
        expires_at: Set(record.expires_at),
    }
}

fn from_row(row: access_api_key::Model) -> Result<KeyRecord, StoreError> {
    let scopes = split(&row.scopes)
        .map(|code| {
            code.parse::<RegionCode>()
                .map_err(|e| platform::db::CorruptRow {
                    column: "access_api_key.scopes",
                    value: row.scopes.clone(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyRecord {
        roles: split(&row.roles).map(str::to_owned).collect(),
        scopes,
        key_id: row.key_id,
        caller_id: row.caller_id,
        institution: row.institution,
        created_at: row.created_at,
        created_by: row.created_by,
        rotated_from: row.rotated_from,
        revoked_at: row.revoked_at,
        revoked_by: row.revoked_by,
        revoke_reason: row.revoke_reason,
        expires_at: row.expires_at,
    })
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|part| !part.is_empty())
}
