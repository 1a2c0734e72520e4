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
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use sha2::{Digest, Sha256};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::status::{ERROR_DOMAIN, permission_denied, storage_failure};

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

/// One entry of an audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at_unix_seconds: i64,
    pub caller_id: String,
    pub method: String,
    pub detail: String,
    pub request_id: String,
    /// `None` for entries written before regions were recorded.
    pub region: Option<RegionCode>,
}

impl AuditEntry {
    pub fn to_wire(&self) -> common::AuditEntry {
        common::AuditEntry {
            id: self.id,
            at_unix_seconds: self.at_unix_seconds,
            caller_id: self.caller_id.clone(),
            method: self.method.clone(),
            detail: self.detail.clone(),
            request_id: self.request_id.clone(),
            region_code: self.region.map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

/// Which audit entries to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries whose region lies in one of these (`region_code` between the two bounds).
    pub regions: Vec<(i32, i32)>,
    /// Whether entries without a region are included.
    pub include_unregioned: bool,
    pub caller_id: Option<String>,
    pub method: Option<String>,
    /// Entries written at or after this second.
    pub since_unix_seconds: Option<i64>,
    /// Entries written before this second.
    pub until_unix_seconds: Option<i64>,
    /// Entries after this id (the keyset of the previous page).
    pub after_id: Option<i64>,
    pub limit: u64,
}

/// The filters of a `ListAuditEntries` request; every context's request carries the same
/// fields ([`audit_listing!`](crate::audit_listing) reads them).
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditListing<'a> {
    pub region_code: &'a str,
    pub caller_id: &'a str,
    pub method: &'a str,
    pub since_unix_seconds: i64,
    pub until_unix_seconds: i64,
    pub page_size: i32,
    pub page_token: &'a str,
}

/// Reads the filters of any context's `ListAuditEntriesRequest` into an [`AuditListing`].
#[macro_export]
macro_rules! audit_listing {
    ($request:expr) => {
        $crate::journal::AuditListing {
            region_code: &$request.region_code,
            caller_id: &$request.caller_id,
            method: &$request.method,
            since_unix_seconds: $request.since_unix_seconds,
            until_unix_seconds: $request.until_unix_seconds,
            page_size: $request.page_size,
            page_token: &$request.page_token,
        }
    };
}

/// The whole of a context's `ListAuditEntries` method: `$journal` on `$conn` answers `$request`
/// (any context's `ListAuditEntriesRequest`) with a `$response`.
#[macro_export]
macro_rules! list_audit_entries {
    ($journal:expr, $conn:expr, $request:expr, $response:ty) => {{
        let principal = $crate::principal_of(&$request)?;
        let body = $request.get_ref();
        let page = $journal
            .list_audit_entries($conn, &principal, $crate::audit_listing!(body))
            .await?;
        let mut response: $response = ::core::default::Default::default();
        response.entries = page.entries;
        response.next_page_token = page.next_page_token;
        Ok(::tonic::Response::new(response))
    }};
}

/// One page of audit entries, for the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<common::AuditEntry>,
    pub next_page_token: String,
}

/// The role that may read audit logs.
pub const AUDIT_READER_ROLE: &str = "admin";

/// Only administrators read audit logs.
pub fn require_audit_reader(principal: &Principal) -> Result<(), Status> {
    if principal.has_role(AUDIT_READER_ROLE) {
        Ok(())
    } else {
        Err(permission_denied(
            "ROLE_REQUIRED",
            format!(
                "caller {} needs the role {AUDIT_READER_ROLE:?} to read the audit log",
                principal.caller_id
            ),
        ))
    }
}

/// The region codes a region covers: itself and every region inside it.
fn span(region: RegionCode) -> (i32, i32) {
    let code = crate::db::region_to_db(region);
    match region.level() {
        RegionLevel::Province => (code, code + 9_999),
        RegionLevel::Prefecture => (code, code + 99),
        RegionLevel::County => (code, code),
    }
}

/// The journal and audit log of one context, in tables `<context>_request` and
/// `<context>_audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Journal {
    context: &'static str,
}

const PAGE_TOKEN_PREFIX: &str = "a";

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
        let txn = db.begin().await?;
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

    /// Audit entries matching `query`, oldest first.
    pub async fn audit_entries<C: ConnectionTrait>(
        &self,
        conn: &C,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, DbErr> {
        let mut regions = Cond::any();
        for &(low, high) in &query.regions {
            regions = regions.add(Expr::col("region_code").between(low, high));
        }
        if query.include_unregioned {
            regions = regions.add(Expr::col("region_code").is_null());
        }
        let mut select = Query::select();
        select
            .columns([
                "id",
                "at_unix_seconds",
                "caller_id",
                "action",
                "detail",
                "request_id",
                "region_code",
            ])
            .from(self.audit())
            .cond_where(regions)
            .order_by("id", Order::Asc)
            .limit(query.limit);
        if let Some(caller_id) = &query.caller_id {
            select.and_where(Expr::col("caller_id").eq(caller_id.as_str()));
        }
        if let Some(method) = &query.method {
            select.and_where(Expr::col("action").eq(method.as_str()));
        }
        if let Some(since) = query.since_unix_seconds {
            select.and_where(Expr::col("at_unix_seconds").gte(since));
        }
        if let Some(until) = query.until_unix_seconds {
            select.and_where(Expr::col("at_unix_seconds").lt(until));
        }
        if let Some(after) = query.after_id {
            select.and_where(Expr::col("id").gt(after));
        }
        conn.query_all(&select)
            .await?
            .into_iter()
            .map(|row| {
                let region: Option<i32> = row.try_get("", "region_code")?;
                Ok(AuditEntry {
                    id: row.try_get("", "id")?,
                    at_unix_seconds: row.try_get("", "at_unix_seconds")?,
                    caller_id: row.try_get("", "caller_id")?,
                    method: row.try_get("", "action")?,
                    detail: row.try_get("", "detail")?,
                    request_id: row.try_get("", "request_id")?,
                    region: region
                        .map(crate::db::region_from_db)
                        .transpose()
                        .map_err(|e| DbErr::Custom(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Every audit entry, oldest first.
    pub async fn all_audit_entries<C: ConnectionTrait>(
        &self,
        conn: &C,
    ) -> Result<Vec<AuditEntry>, DbErr> {
        self.audit_entries(
            conn,
            &AuditQuery {
                regions: vec![(0, i32::MAX)],
                include_unregioned: true,
                limit: u64::MAX >> 1,
                ..AuditQuery::default()
            },
        )
        .await
    }

    /// A page of the audit log for `principal`, who must be an administrator: entries of regions
    /// inside its scope (and of `listing.region_code` when given), filtered as `listing` says.
    /// Entries without a region are listed only to a caller with a province in its scope, and
    /// only when no region narrower than a province is asked for.
    pub async fn list_audit_entries<C: ConnectionTrait>(
        &self,
        conn: &C,
        principal: &Principal,
        listing: AuditListing<'_>,
    ) -> Result<AuditPage, Status> {
        require_audit_reader(principal)?;
        let (regions, include_unregioned) = if listing.region_code.is_empty() {
            (
                principal.scopes.iter().copied().map(span).collect(),
                principal
                    .scopes
                    .iter()
                    .any(|scope| scope.level() == RegionLevel::Province),
            )
        } else {
            let region = crate::authorize_region(principal, "region_code", listing.region_code)?;
            (vec![span(region)], region.level() == RegionLevel::Province)
        };
        let mut violations = Vec::new();
        if listing.since_unix_seconds < 0 {
            violations.push(("since_unix_seconds".into(), "must not be negative".into()));
        }
        if listing.until_unix_seconds < 0 {
            violations.push(("until_unix_seconds".into(), "must not be negative".into()));
        }
        if listing.since_unix_seconds > 0
            && listing.until_unix_seconds > 0
            && listing.until_unix_seconds <= listing.since_unix_seconds
        {
            violations.push((
                "until_unix_seconds".into(),
                format!(
                    "{} is not after since_unix_seconds {}",
                    listing.until_unix_seconds, listing.since_unix_seconds
                ),
            ));
        }
        let size = match listing.page_size {
            0 => crate::wire::DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                violations.push(("page_size".into(), "must not be negative".into()));
                0
            }
            n => std::cmp::min(
                u64::try_from(n).unwrap_or(crate::wire::MAX_PAGE_SIZE),
                crate::wire::MAX_PAGE_SIZE,
            ),
        };
        let after_id = if listing.page_token.is_empty() {
            None
        } else {
            match listing
                .page_token
                .strip_prefix(PAGE_TOKEN_PREFIX)
                .and_then(|id| id.parse::<i64>().ok())
            {
                Some(id) => Some(id),
                None => {
                    violations.push((
                        "page_token".into(),
                        "is not a token this service issued".into(),
                    ));
                    None
                }
            }
        };
        if !violations.is_empty() {
            return Err(crate::status::bad_request(violations));
        }
        let non_empty = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        let query = AuditQuery {
            regions,
            include_unregioned,
            caller_id: non_empty(listing.caller_id),
            method: non_empty(listing.method),
            since_unix_seconds: (listing.since_unix_seconds > 0)
                .then_some(listing.since_unix_seconds),
            until_unix_seconds: (listing.until_unix_seconds > 0)
                .then_some(listing.until_unix_seconds),
            after_id,
            // One more than the page tells whether another page follows.
            limit: size + 1,
        };
        if query.regions.is_empty() && !query.include_unregioned {
            return Ok(AuditPage {
                entries: Vec::new(),
                next_page_token: String::new(),
            });
        }
        let mut entries = self
            .audit_entries(conn, &query)
            .await
            .map_err(storage_failure)?;
        let more = entries.len() as u64 > size;
        entries.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let next_page_token = match entries.last() {
            Some(last) if more => format!("{PAGE_TOKEN_PREFIX}{}", last.id),
            _ => String::new(),
        };
        Ok(AuditPage {
            entries: entries.iter().map(AuditEntry::to_wire).collect(),
            next_page_token,
        })
    }
}

/// The tables of a context's journal, in its migrations.
pub mod migration {
    use sea_orm_migration::prelude::*;

    /// Creates `<context>_request` and `<context>_audit` as they were first released (without
    /// fingerprint and region); [`add_fingerprint_and_region`] brings them up to date. A new
    /// context calls [`create_tables`] and then [`add_fingerprint_and_region`] in one migration.
    pub async fn create_tables(manager: &SchemaManager<'_>, context: &str) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(format!("{context}_request"))
                    .col(ColumnDef::new("caller_id").string().not_null())
                    .col(ColumnDef::new("request_id").string().not_null())
                    .col(ColumnDef::new("method").string().not_null())
                    .col(ColumnDef::new("response").binary().not_null())
                    .primary_key(Index::create().col("caller_id").col("request_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(format!("{context}_audit"))
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("at_unix_seconds").big_integer().not_null())
                    .col(ColumnDef::new("caller_id").string().not_null())
                    .col(ColumnDef::new("action").string().not_null())
                    .col(ColumnDef::new("detail").text().not_null())
                    .col(ColumnDef::new("request_id").string().not_null())
                    .to_owned(),
            )
            .await
    }

    /// Adds the request fingerprint (existing rows get an empty one, which matches no request
    /// but still replays for the same method) and the audit entry's region (existing entries
    /// have none).
    pub async fn add_fingerprint_and_region(
        manager: &SchemaManager<'_>,
        context: &str,
    ) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(format!("{context}_request"))
                    .add_column(
                        ColumnDef::new("fingerprint")
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(format!("{context}_audit"))
                    .add_column(ColumnDef::new("region_code").integer().null())
                    .to_owned(),
            )
            .await
    }

    /// Drops what [`add_fingerprint_and_region`] added.
    pub async fn drop_fingerprint_and_region(
        manager: &SchemaManager<'_>,
        context: &str,
    ) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(format!("{context}_audit"))
                    .drop_column("region_code")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(format!("{context}_request"))
                    .drop_column("fingerprint")
                    .to_owned(),
            )
            .await
    }

    /// The migration that runs [`add_fingerprint_and_region`] for a context whose journal tables
    /// were created before fingerprints were kept.
    pub struct AddFingerprintAndRegion {
        pub context: &'static str,
        /// The migration's name in the context's migration table.
        pub name: &'static str,
    }

    impl MigrationName for AddFingerprintAndRegion {
        fn name(&self) -> &str {
            self.name
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for AddFingerprintAndRegion {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            add_fingerprint_and_region(manager, self.context).await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            drop_fingerprint_and_region(manager, self.context).await
        }
    }

    /// Drops both tables.
    pub async fn drop_tables(manager: &SchemaManager<'_>, context: &str) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(format!("{context}_audit")).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(format!("{context}_request")).to_owned())
            .await
    }
}
