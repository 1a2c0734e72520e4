//! The audit log of a context: entries written by the journal in the effect's transaction, read
//! back by administrators, paginated and filtered by region, caller, method and time.

use super::*;
use crate::status::permission_denied;

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

impl Journal {
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
        if !violations.is_empty() {
            return Err(crate::status::bad_request(violations));
        }
        // The token is bound to this context's log and every filter, so a token reused with
        // another filter, region or context is refused rather than silently skipping rows.
        let scope = crate::paging::PageScope::of_fields(
            "ListAuditEntries",
            &(
                self.context,
                listing.region_code,
                listing.caller_id,
                listing.method,
                listing.since_unix_seconds,
                listing.until_unix_seconds,
            ),
        );
        let page = crate::paging::KeysetPage::<i64>::from_request(
            listing.page_size,
            listing.page_token,
            scope,
        )?;
        let after_id = page.after;
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
            limit: page.fetch_limit(),
        };
        if query.regions.is_empty() && !query.include_unregioned {
            return Ok(AuditPage {
                entries: Vec::new(),
                next_page_token: String::new(),
            });
        }
        let entries = self
            .audit_entries(conn, &query)
            .await
            .map_err(storage_failure)?;
        let (entries, next_page_token) = page.finish(entries, |entry| entry.id);
        Ok(AuditPage {
            entries: entries.iter().map(AuditEntry::to_wire).collect(),
            next_page_token,
        })
    }
}
