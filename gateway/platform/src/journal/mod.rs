//! The journal of idempotent writes and the audit log, the same for every context.
//!
//! Every write of a context runs through [`Journal::run_once`]: its effect, its audit entry and its
//! encoded response commit in one transaction, keyed by (caller, request id). The journal stores
//! with the key the method and a [`Fingerprint`] of the request, so that
//!
//! - the same request again (same method, same body) replays the stored response and changes
//!   nothing;
//! - the same request id with another body, or for another method, is refused with
//!   ALREADY_EXISTS and `ErrorInfo` reason `REQUEST_ID_REUSED` ([`RequestIdReused`]): the second
//!   body is never silently dropped;
//! - two concurrent attempts with the same key cannot both commit (the key is the primary key of
//!   the request table, written in the effect's transaction); the loser replays the winner's
//!   answer, or is refused when its body differs.
//!
//! Requests stored before fingerprints were kept have an empty fingerprint. It matches no
//! request, but such a row still replays for a request of the same method: refusing would turn a
//! harmless retry of an old request into an error, and its body can no longer be compared.
//!
//! Each context keeps its own two tables, `<context>_request` and `<context>_audit`, created by
//! [`migration::create_tables`] and brought up to date by [`migration::add_fingerprint_and_region`].
//! The audit log is read through [`Journal::list_audit_entries`], for administrators only
//! ([`require_audit_reader`]).

use std::future::Future;
use std::pin::Pin;

use kernel::{Principal, RegionCode, RegionLevel};
use medpay_proto::common::v1 as common;
use sea_orm::sea_query::{Cond, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use sha2::{Digest, Sha256};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::status::{ERROR_DOMAIN, storage_failure};

mod audit;
pub mod migration;

pub use audit::{
    AUDIT_READER_ROLE, AuditEntry, AuditListing, AuditPage, AuditQuery, require_audit_reader,
};

/// SHA-256 of a request: its method name and the protobuf encoding of its message, as hex.
///
/// prost encodes the fields of a message in field-number order and repeated fields in their
/// order, so the same message always encodes to the same bytes. Map fields are the exception
/// (a `HashMap` iterates in no fixed order): a request with a map field must not be
/// fingerprinted with [`Fingerprint::of`]. No request written through a journal has one today;
/// `LoadSchemeRequest.files` is the only map in a request and LoadScheme is not journaled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `request` sent to `method`.
    pub fn of<M: prost::Message>(method: &str, request: &M) -> Self {
        Self::of_parts(method, &[&request.encode_to_vec()])
    }

    /// The fingerprint of a request known only by some of its parts (a streamed upload, whose
    /// body is not known when it starts).
    pub fn of_parts(method: &str, parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(method.as_bytes());
        // The method name cannot contain a NUL, so no other split of the input hashes alike.
        hasher.update([0u8]);
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        Self(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One request to write: its key, what it is, and what its audit entry says of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub caller_id: String,
    pub request_id: String,
    /// The gRPC method, e.g. `PutTable`.
    pub method: String,
    pub fingerprint: Fingerprint,
    /// The region the write is for, recorded in the audit entry.
    pub region: Option<RegionCode>,
    pub at_unix_seconds: i64,
}

impl Call {
    /// A call of `method` with `request`, made now.
    pub fn new<M: prost::Message>(
        caller_id: &str,
        request_id: &str,
        method: &str,
        request: &M,
        region: Option<RegionCode>,
    ) -> Self {
        Self::with_fingerprint(
            caller_id,
            request_id,
            method,
            Fingerprint::of(method, request),
            region,
        )
    }

    /// A call of `method` with `request` by `principal`, for `region`, made now: the form of
    /// every write a service journals for a verified caller.
    pub fn by<M: prost::Message>(
        principal: &Principal,
        request_id: &str,
        method: &str,
        request: &M,
        region: RegionCode,
    ) -> Self {
        Self::new(
            &principal.caller_id,
            request_id,
            method,
            request,
            Some(region),
        )
    }

    /// A call whose fingerprint was computed otherwise ([`Fingerprint::of_parts`]), made now.
    pub fn with_fingerprint(
        caller_id: &str,
        request_id: &str,
        method: &str,
        fingerprint: Fingerprint,
        region: Option<RegionCode>,
    ) -> Self {
        Self {
            caller_id: caller_id.to_owned(),
            request_id: request_id.to_owned(),
            method: method.to_owned(),
            fingerprint,
            region,
            at_unix_seconds: crate::wire::unix_seconds(),
        }
    }
}

/// A request id that was already used with another body or for another method.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "request_id {request_id:?} was already used by {first_method} with {what}; send this request \
     under a new request id",
    what = if .first_method == .method { "a different request" } else { "another method" }
)]
pub struct RequestIdReused {
    pub request_id: String,
    /// The method that used the request id first.
    pub first_method: String,
    /// The method of the refused request.
    pub method: String,
}

impl From<RequestIdReused> for Status {
    fn from(reused: RequestIdReused) -> Self {
        let details = ErrorDetails::with_error_info(
            "REQUEST_ID_REUSED",
            ERROR_DOMAIN,
            [
                ("request_id".to_owned(), reused.request_id.clone()),
                ("first_method".to_owned(), reused.first_method.clone()),
            ],
        );
        Status::with_error_details(Code::AlreadyExists, reused.to_string(), details)
    }
}

/// Why the journal itself could not answer.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
}

impl From<JournalError> for Status {
    fn from(error: JournalError) -> Self {
        match error {
            JournalError::Database(error) => storage_failure(error),
            JournalError::Reused(reused) => reused.into(),
        }
    }
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Once {
    /// The effect ran now; its encoded response.
    Done(Vec<u8>),
    /// The request was already carried out; the response stored then.
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
/// detail (what it changed, in words).
pub type Effect<'c, E> = Pin<Box<dyn Future<Output = Result<(Vec<u8>, String), E>> + Send + 'c>>;

/// A change made by [`Journal::write_once`] inside the transaction.
pub type Write<'c, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'c>>;
/// The journal and audit log of one context, in tables `<context>_request` and
/// `<context>_audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Journal {
    context: &'static str,
}

impl Journal {
    pub const fn new(context: &'static str) -> Self {
        Self { context }
    }

    fn requests(&self) -> String {
        format!("{}_request", self.context)
    }

    fn audit(&self) -> String {
        format!("{}_audit", self.context)
    }

    /// The stored response of `call`, if the same request was already carried out; refused when
    /// its request id was used with another body or for another method.
    pub async fn replay<C, E>(&self, conn: &C, call: &Call) -> Result<Option<Vec<u8>>, E>
    where
        C: ConnectionTrait,
        E: From<DbErr> + From<RequestIdReused>,
    {
        let select = Query::select()
            .columns(["method", "fingerprint", "response"])
            .from(self.requests())
            .and_where(Expr::col("caller_id").eq(call.caller_id.as_str()))
            .and_where(Expr::col("request_id").eq(call.request_id.as_str()))
            .to_owned();
        let Some(row) = conn.query_one(&select).await? else {
            return Ok(None);
        };
        let method: String = row.try_get("", "method")?;
        let fingerprint: String = row.try_get("", "fingerprint")?;
        let legacy = fingerprint.is_empty();
        if method != call.method || !(legacy || fingerprint == call.fingerprint.as_str()) {
            return Err(RequestIdReused {
                request_id: call.request_id.clone(),
                first_method: method,
                method: call.method.clone(),
            }
            .into());
        }
        Ok(Some(row.try_get("", "response")?))
    }

    /// Runs `effect` once per (caller, request id), atomically with its audit entry and its
    /// response; the same request again replays the response.
    ///
    /// When the effect fails nothing is written and the error is returned, so a later retry runs
    /// the effect again; unless a concurrent attempt with the same key committed meanwhile (the
    /// effect may have failed on what that attempt wrote), whose answer then stands.
    pub async fn run_once<E, F>(
        &self,
        db: &DatabaseConnection,
        call: &Call,
        effect: F,
    ) -> Result<Once, E>
    where
        E: From<DbErr> + From<RequestIdReused>,
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> Effect<'c, E>,
    {
        if let Some(stored) = self.replay::<_, E>(db, call).await? {
            return Ok(Once::Replayed(stored));
        }
        let txn = crate::db::begin_write(db).await?;
        let (response, detail) = match effect(&txn).await {
            Ok(done) => done,
            Err(error) => {
                txn.rollback().await?;
                return match self.replay::<_, E>(db, call).await? {
                    Some(stored) => Ok(Once::Replayed(stored)),
                    None => Err(error),
                };
            }
        };
        let recorded: Result<(), DbErr> = async {
            self.record(&txn, call, &detail, &response).await?;
            txn.commit().await
        }
        .await;
        match recorded {
            Ok(()) => Ok(Once::Done(response)),
            // A concurrent attempt with the same key committed first: its answer stands.
            Err(error) => match self.replay::<_, E>(db, call).await? {
                Some(stored) => Ok(Once::Replayed(stored)),
                None => Err(error.into()),
            },
        }
    }

    /// [`Journal::run_once`] for a write whose response and audit detail are known before it
    /// runs: `write` makes the change in the transaction.
    pub async fn write_once<E, F>(
        &self,
        db: &DatabaseConnection,
        call: &Call,
        response: Vec<u8>,
        detail: String,
        write: F,
    ) -> Result<Once, E>
    where
        E: From<DbErr> + From<RequestIdReused> + Send + 'static,
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> Write<'c, E> + Send,
    {
        self.run_once(db, call, move |txn| -> Effect<'_, E> {
            let change = write(txn);
            Box::pin(async move {
                change.await?;
                Ok((response, detail))
            })
        })
        .await
    }

    /// [`Journal::write_once`] for a write that inserts one row.
    pub async fn insert_once<E, A>(
        &self,
        db: &DatabaseConnection,
        call: &Call,
        response: Vec<u8>,
        detail: String,
        row: A,
    ) -> Result<Once, E>
    where
        E: From<DbErr> + From<RequestIdReused> + Send + 'static,
        A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send + 'static,
        <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
    {
        self.write_once(db, call, response, detail, move |txn| -> Write<'_, E> {
            Box::pin(async move { row.insert(txn).await.map(drop).map_err(E::from) })
        })
        .await
    }

    /// Writes the audit entry and the request row of `call` in `txn`.
    async fn record(
        &self,
        txn: &DatabaseTransaction,
        call: &Call,
        detail: &str,
        response: &[u8],
    ) -> Result<(), DbErr> {
        let audit = Query::insert()
            .into_table(self.audit())
            .columns([
                "at_unix_seconds",
                "caller_id",
                "action",
                "detail",
                "request_id",
                "region_code",
            ])
            .values_panic([
                call.at_unix_seconds.into(),
                call.caller_id.as_str().into(),
                call.method.as_str().into(),
                detail.into(),
                call.request_id.as_str().into(),
                call.region.map(crate::db::region_to_db).into(),
            ])
            .to_owned();
        txn.execute(&audit).await?;
        let request = Query::insert()
            .into_table(self.requests())
            .columns([
                "caller_id",
                "request_id",
                "method",
                "fingerprint",
                "response",
            ])
            .values_panic([
                call.caller_id.as_str().into(),
                call.request_id.as_str().into(),
                call.method.as_str().into(),
                call.fingerprint.as_str().into(),
                response.to_vec().into(),
            ])
            .to_owned();
        txn.execute(&request).await?;
        Ok(())
    }
}
