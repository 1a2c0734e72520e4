//! `medpay.admin.v1.AdminService`: API keys over gRPC, for callers with the role `admin`, within
//! their scopes (the rule is in [`super::policy`]).

use std::sync::Arc;

use medpay_proto::admin::v1 as pb;
use medpay_proto::admin::v1::admin_service_server::{AdminService, AdminServiceServer};
use platform::paging::KeysetPage;
use platform::principal_of;
use platform::status::{bad_request, storage_failure, with_reason};
use platform::wire::Violation;
use prost::Message;
use tonic::{Code, Request, Response, Status};

use super::policy::{self, KeyFields, KeySpec};
use super::store::{
    AuditEntry, KeyRecord, ListCursor, ListFilter, RequestRecord, StoreError, Written,
};
use super::verify::StoredKeys;
use super::{describe, issue, key, spec_of, unix_now};

const CREATE: &str = "CreateApiKey";
const ROTATE: &str = "RotateApiKey";
const REVOKE: &str = "RevokeApiKey";
/// Longest overlap of a rotation: long enough to roll a key out, short enough to end.
const MAX_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;
const MAX_REASON_CHARS: usize = 500;

/// The service, sharing the key cache with the edge so that its revocations apply at once.
#[derive(Clone)]
pub struct AdminApi {
    keys: Arc<StoredKeys>,
}

impl AdminApi {
    pub fn new(keys: Arc<StoredKeys>) -> Self {
        Self { keys }
    }

    pub fn into_server(self) -> AdminServiceServer<Self> {
        AdminServiceServer::new(self)
    }

    /// The stored answer of a request id, if it was carried out; an id used for another method
    /// is refused.
    async fn replay<T: Message + Default>(
        &self,
        caller_id: &str,
        request_id: &str,
        method: &str,
    ) -> Result<Option<T>, Status> {
        match self
            .keys
            .store()
            .stored_request(caller_id, request_id)
            .await
            .map_err(storage_failure)?
        {
            None => Ok(None),
            Some((stored_method, _)) if stored_method != method => Err(with_reason(
                Code::FailedPrecondition,
                "REQUEST_ID_REUSED",
                format!("request_id {request_id:?} was already used for {stored_method}"),
            )),
            Some((_, bytes)) => decode(&bytes).map(Some),
        }
    }

    /// The record of a key the caller may manage.
    async fn managed_key(
        &self,
        caller: &kernel::Principal,
        key_id: &str,
    ) -> Result<KeyRecord, Status> {
        let record = self
            .keys
            .store()
            .get(key_id)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| not_found(key_id))?;
        policy::may_manage(caller, &record)?;
        Ok(record)
    }
}

/// One write of `method` by `actor` under `request_id` at `at`: what its audit entry and the
/// answer remembered for a retry have in common.
struct KeyWrite<'a> {
    at: i64,
    actor: &'a str,
    method: &'static str,
    request_id: &'a str,
}

impl KeyWrite<'_> {
    fn audit(&self, key_id: &str, detail: String) -> AuditEntry {
        AuditEntry {
            at_unix_seconds: self.at,
            actor: self.actor.to_owned(),
            action: self.method.to_owned(),
            key_id: key_id.to_owned(),
            detail,
            request_id: self.request_id.to_owned(),
        }
    }

    fn remembered(&self, response: &impl Message) -> RequestRecord {
        RequestRecord {
            caller_id: self.actor.to_owned(),
            request_id: self.request_id.to_owned(),
            method: self.method.to_owned(),
            response: response.encode_to_vec(),
        }
    }
}

fn decode<T: Message + Default>(bytes: &[u8]) -> Result<T, Status> {
    T::decode(bytes).map_err(|e| Status::internal(format!("stored response does not decode: {e}")))
}

fn not_found(key_id: &str) -> Status {
    with_reason(
        Code::NotFound,
        "KEY_NOT_FOUND",
        format!("api key {key_id} does not exist"),
    )
}

fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::NotFound(key_id) => not_found(&key_id),
        StoreError::AlreadyRevoked(key_id) => with_reason(
            Code::FailedPrecondition,
            "KEY_REVOKED",
            format!("api key {key_id} is already revoked or rotated"),
        ),
        other => storage_failure(other),
    }
}

fn internal(error: anyhow::Error) -> Status {
    tracing::error!(%error, "issuing an api key failed");
    Status::internal(format!("issuing the key failed: {error}"))
}

/// The wire form of a record, as of `now`.
pub fn to_wire(record: &KeyRecord, now: i64) -> pb::ApiKey {
    pb::ApiKey {
        key_id: record.key_id.clone(),
        caller_id: record.caller_id.clone(),
        scopes: record.scopes.iter().map(ToString::to_string).collect(),
        roles: record.roles.clone(),
        institution_code: record.institution.clone().unwrap_or_default(),
        created_at_unix: record.created_at,
        created_by: record.created_by.clone(),
        rotated_from: record.rotated_from.clone().unwrap_or_default(),
        revoked_at_unix: record.revoked_at.unwrap_or(0),
        revoked_by: record.revoked_by.clone().unwrap_or_default(),
        revoke_reason: record.revoke_reason.clone().unwrap_or_default(),
        expires_at_unix: record.expires_at.unwrap_or(0),
        active: record.is_active_at(now),
    }
}

fn require_request_id(request_id: &str, violations: &mut Vec<Violation>) {
    if request_id.trim().is_empty() {
        violations.push(("request_id".into(), "is required".into()));
    }
}

fn require_key_id(key_id: &str, violations: &mut Vec<Violation>) {
    if !key::is_key_id(key_id) {
        violations.push((
            "key_id".into(),
            format!("{key_id:?} is not a key id (16 lowercase hex digits, as ListApiKeys shows)"),
        ));
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        let caller = principal_of(&request)?;
        policy::require_admin(&caller)?;
        let body = request.into_inner();
        let now = unix_now();
        let mut violations = Vec::new();
        require_request_id(&body.request_id, &mut violations);
        let spec = KeySpec::read(
            &KeyFields {
                caller_id: &body.caller_id,
                scopes: &body.scopes,
                roles: &body.roles,
                institution: &body.institution_code,
                expires_at: body.expires_at_unix,
            },
            now,
        )
        .map_err(|bad| violations.extend(bad))
        .ok();
        let Some(spec) = spec.filter(|_| violations.is_empty()) else {
            return Err(bad_request(violations));
        };
        policy::may_grant(&caller, &spec)?;
        if let Some(replayed) = self
            .replay(&caller.caller_id, &body.request_id, CREATE)
            .await?
        {
            return Ok(Response::new(replayed));
        }
        let (record, issued, hash) = issue(&spec, &caller.caller_id, now, None)
            .await
            .map_err(internal)?;
        // What is remembered for a retry has no key in it: the key is shown once.
        let mut response = pb::CreateApiKeyResponse {
            key: Some(to_wire(&record, now)),
            api_key: String::new(),
        };
        let write = KeyWrite {
            at: now,
            actor: &caller.caller_id,
            method: CREATE,
            request_id: &body.request_id,
        };
        let audit = write.audit(&record.key_id, describe(&record));
        let remembered = write.remembered(&response);
        match self
            .keys
            .store()
            .create(&record, &hash, &audit, Some(&remembered))
            .await
            .map_err(store_status)?
        {
            Written::Applied(()) => {
                tracing::info!(key_id = %record.key_id, key_caller = %record.caller_id, actor = %caller.caller_id, "api key created");
                response.api_key = issued.reveal();
                Ok(Response::new(response))
            }
            Written::Replayed(bytes) => decode(&bytes).map(Response::new),
        }
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let caller = principal_of(&request)?;
        policy::require_admin(&caller)?;
        let body = request.into_inner();
        // The token is bound to the filters, so it cannot carry a page over to another listing.
        let page = KeysetPage::<(i64, String)>::for_request(
            "/medpay.admin.v1.AdminService/ListApiKeys",
            &body,
            |request| (&mut request.page_size, &mut request.page_token),
        )?;
        let cursor = page.after.as_ref().map(|(created_at, key_id)| ListCursor {
            created_at: *created_at,
            key_id: key_id.clone(),
        });
        let filter = ListFilter {
            caller_id: Some(body.caller_id.trim().to_owned()).filter(|c| !c.is_empty()),
            include_inactive: body.include_inactive,
        };
        let now = unix_now();
        let (records, more) = self
            .keys
            .store()
            .list(&filter, cursor.as_ref(), page.size, now, |record| {
                policy::covers(&caller, &record.scopes)
            })
            .await
            .map_err(storage_failure)?;
        let next_page_token = match records.last() {
            Some(last) if more => page.token_after(&(last.created_at, last.key_id.clone())),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListApiKeysResponse {
            keys: records.iter().map(|r| to_wire(r, now)).collect(),
            next_page_token,
        }))
    }

    async fn rotate_api_key(
        &self,
        request: Request<pb::RotateApiKeyRequest>,
    ) -> Result<Response<pb::RotateApiKeyResponse>, Status> {
        let caller = principal_of(&request)?;
        policy::require_admin(&caller)?;
        let body = request.into_inner();
        let now = unix_now();
        let mut violations = Vec::new();
        require_request_id(&body.request_id, &mut violations);
        require_key_id(&body.key_id, &mut violations);
        if !(0..=MAX_OVERLAP_SECONDS).contains(&body.overlap_seconds) {
            violations.push((
                "overlap_seconds".into(),
                format!(
                    "{} is outside 0..={MAX_OVERLAP_SECONDS} (30 days)",
                    body.overlap_seconds
                ),
            ));
        }
        if body.expires_at_unix != 0 && body.expires_at_unix <= now {
            violations.push((
                "expires_at_unix".into(),
                format!(
                    "{} is not in the future (now is {now})",
                    body.expires_at_unix
                ),
            ));
        }
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        if let Some(replayed) = self
            .replay(&caller.caller_id, &body.request_id, ROTATE)
            .await?
        {
            return Ok(Response::new(replayed));
        }
        let old = self.managed_key(&caller, &body.key_id).await?;
        if old.revoked_at.is_some() {
            return Err(store_status(StoreError::AlreadyRevoked(old.key_id)));
        }
        if !old.is_active_at(now) {
            return Err(with_reason(
                Code::FailedPrecondition,
                "KEY_EXPIRED",
                format!(
                    "api key {} has expired; create a new key instead",
                    old.key_id
                ),
            ));
        }
        // A rotation mints a working key with the old one's roles: the caller must be allowed to
        // grant them, or rotating would hand it a role it could not create.
        let spec = spec_of(&old, Some(body.expires_at_unix).filter(|at| *at != 0));
        policy::may_grant(&caller, &spec)?;
        let (record, issued, hash) = issue(&spec, &caller.caller_id, now, Some(old.key_id.clone()))
            .await
            .map_err(internal)?;
        let old_ends_at = now + body.overlap_seconds;
        let mut replaced = old.clone();
        replaced.revoked_at = Some(old_ends_at);
        replaced.revoked_by = Some(caller.caller_id.clone());
        replaced.revoke_reason = Some(format!("rotated to {}", record.key_id));
        let mut response = pb::RotateApiKeyResponse {
            key: Some(to_wire(&record, now)),
            api_key: String::new(),
            replaced: Some(to_wire(&replaced, now)),
        };
        let write = KeyWrite {
            at: now,
            actor: &caller.caller_id,
            method: ROTATE,
            request_id: &body.request_id,
        };
        let audit = write.audit(
            &old.key_id,
            format!(
                "rotated to {} (old key ends at {old_ends_at}, overlap {} s); {}",
                record.key_id,
                body.overlap_seconds,
                describe(&record)
            ),
        );
        let remembered = write.remembered(&response);
        let written = self
            .keys
            .store()
            .rotate(
                &old.key_id,
                old_ends_at,
                &record,
                &hash,
                &audit,
                Some(&remembered),
            )
            .await
            .map_err(store_status)?;
        self.keys.forget(&old.key_id);
        match written {
            Written::Applied(()) => {
                tracing::info!(key_id = %old.key_id, new_key_id = %record.key_id, actor = %caller.caller_id, overlap_seconds = body.overlap_seconds, "api key rotated");
                response.api_key = issued.reveal();
                Ok(Response::new(response))
            }
            Written::Replayed(bytes) => decode(&bytes).map(Response::new),
        }
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        let caller = principal_of(&request)?;
        policy::require_admin(&caller)?;
        let body = request.into_inner();
        let now = unix_now();
        let mut violations = Vec::new();
        require_request_id(&body.request_id, &mut violations);
        require_key_id(&body.key_id, &mut violations);
        let reason = body.reason.trim();
        if reason.is_empty() {
            violations.push(("reason".into(), "is required".into()));
        } else if reason.chars().count() > MAX_REASON_CHARS {
            violations.push((
                "reason".into(),
                format!("must be at most {MAX_REASON_CHARS} characters"),
            ));
        } else if reason.contains(key::KEY_PREFIX) {
            // The reason is stored and audited in clear: a key pasted into it would leak.
            violations.push((
                "reason".into(),
                "must not contain an api key; name the key by its key_id".into(),
            ));
        }
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        if let Some(replayed) = self
            .replay(&caller.caller_id, &body.request_id, REVOKE)
            .await?
        {
            return Ok(Response::new(replayed));
        }
        let mut record = self.managed_key(&caller, &body.key_id).await?;
        if record.revoked_at.is_some_and(|at| at <= now) {
            return Err(store_status(StoreError::AlreadyRevoked(record.key_id)));
        }
        record.revoked_at = Some(now);
        record.revoked_by = Some(caller.caller_id.clone());
        record.revoke_reason = Some(reason.to_owned());
        let response = pb::RevokeApiKeyResponse {
            key: Some(to_wire(&record, now)),
        };
        let write = KeyWrite {
            at: now,
            actor: &caller.caller_id,
            method: REVOKE,
            request_id: &body.request_id,
        };
        let audit = write.audit(&record.key_id, format!("reason: {reason}"));
        let remembered = write.remembered(&response);
        let written = self
            .keys
            .store()
            .revoke(&record.key_id, now, reason, &audit, Some(&remembered))
            .await
            .map_err(store_status)?;
        self.keys.forget(&record.key_id);
        match written {
            Written::Applied(()) => {
                tracing::info!(key_id = %record.key_id, actor = %caller.caller_id, "api key revoked");
                Ok(Response::new(response))
            }
            Written::Replayed(bytes) => decode(&bytes).map(Response::new),
        }
    }
}
