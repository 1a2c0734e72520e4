//! The edge layer in front of every listener: it removes any principal headers a caller sent,
//! authenticates the caller (API key, client certificate, or the development principal), checks
//! the method's role (`platform::access`) and the caller's limits, and forwards the verified
//! principal in metadata. Health checks and reflection pass without credentials so that probes
//! and `grpcurl list` work. Each request is answered in its own span, under the caller's
//! `traceparent` (`platform::trace`).
//!
//! Two listeners: the public one serves the public contracts and refuses every internal method,
//! whoever calls; the internal one serves the internal contracts to medpay services only.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Request, Response};
use kernel::Principal;
use platform::principal::PRINCIPAL_HEADERS;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::Status;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::access::key::PresentedKey;
use crate::access::{Caller, StoredKeys};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::config::AuthSettings;
use crate::limits::Limiter;
use crate::red::{self, Metered};

/// What a caller with an unknown, malformed, revoked or expired key is told: nothing about which.
pub const INVALID_KEY: &str = "api key is not valid";

/// Who may call: keys of the key store, keys of the configuration (plain text, for development
/// and tests) and, when allowed, the development principal for requests without credentials.
pub struct Authenticator {
    /// SHA-256 of each configured key, compared in constant time, and its caller.
    config_keys: Vec<([u8; 32], Arc<Caller>)>,
    stored: Option<Arc<StoredKeys>>,
    certificates: HashMap<String, Arc<Caller>>,
    anonymous: Option<Arc<Caller>>,
}

impl Authenticator {
    pub fn from_settings(settings: &AuthSettings) -> Self {
        Self {
            config_keys: settings
                .api_keys
                .iter()
                .map(|key| {
                    (
                        Sha256::digest(key.key.as_bytes()).into(),
                        Caller::new(key.to_principal()),
                    )
                })
                .collect(),
            stored: None,
            certificates: settings
                .certificates
                .iter()
                .map(|certificate| {
                    (
                        certificate.subject.clone(),
                        Caller::new(certificate.to_principal()),
                    )
                })
                .collect(),
            anonymous: settings
                .dev_principal
                .as_ref()
                .filter(|_| settings.allow_anonymous)
                .map(|p| Caller::new(p.to_principal())),
        }
    }

    /// Also accepts the keys of the key store (`mpk_…`).
    pub fn with_stored_keys(mut self, stored: Arc<StoredKeys>) -> Self {
        self.stored = Some(stored);
        self
    }

    /// Also accepts `token` as the identity of the medpay services of this process (`medpay up`
    /// calls its own internal listener with it); it never leaves the process.
    pub fn with_service_token(mut self, token: String, principal: Principal) -> Self {
        self.config_keys.push((
            Sha256::digest(token.as_bytes()).into(),
            Caller::new(principal),
        ));
        self
    }

    /// The caller of a client certificate's subject common name, when one is configured.
    pub fn certificate(&self, subject: &str) -> Option<Arc<Caller>> {
        self.certificates.get(subject).cloned()
    }

    /// The caller of a request: its API key when it sends one, else its client certificate,
    /// else the development principal where anonymous access is allowed.
    pub async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        certificate_subject: Option<&str>,
        listener: Listener,
    ) -> Result<Arc<Caller>, Status> {
        if headers.contains_key(http::header::AUTHORIZATION) {
            return self.authenticate(headers).await;
        }
        if let Some(subject) = certificate_subject {
            return self.certificate(subject).ok_or_else(|| {
                Status::unauthenticated(format!("client certificate {subject} is not registered"))
            });
        }
        match listener {
            Listener::Public => self.authenticate(headers).await,
            Listener::Internal => Err(Status::unauthenticated(
                "the internal listener needs a service identity",
            )),
        }
    }

    /// The caller of a request's headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Caller>, Status> {
        match headers.get(http::header::AUTHORIZATION) {
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .ok_or_else(|| {
                        Status::unauthenticated("authorization must be `Bearer <api key>`")
                    })?;
                self.caller_of_key(token).await
            }
            None => self
                .anonymous
                .clone()
                .ok_or_else(|| Status::unauthenticated("credentials are required")),
        }
    }

    async fn caller_of_key(&self, token: &str) -> Result<Arc<Caller>, Status> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every configured key is compared, so the time taken says nothing about which matched.
        let mut configured = None;
        for (known, caller) in &self.config_keys {
            if bool::from(known.ct_eq(&digest)) {
                configured = Some(caller);
            }
        }
        if let Some(caller) = configured {
            return Ok(caller.clone());
        }
        if let (Some(stored), Some(key)) = (&self.stored, PresentedKey::parse(token)) {
            // Boxed: the key store's query is a large future, and every request's future would
            // otherwise carry room for it (and be copied with it) though configured keys and the
            // cache answer almost every call.
            match Box::pin(stored.verify(&key)).await {
                Ok(Some(caller)) => return Ok(caller),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(key_id = key.key_id(), %error, "api key store cannot be read");
                    return Err(Status::unavailable(
                        "api keys cannot be checked right now; retry later",
                    ));
                }
            }
        }
        Err(Status::unauthenticated(INVALID_KEY))
    }
}

fn is_open_path(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.")
}

/// Which listener a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// Callers: agencies, hospitals, vendors, the bureau.
    Public,
    /// Other medpay services calling internal contracts.
    Internal,
}

/// The subject common name of the client certificate the connection presented, if any.
fn certificate_subject<B>(request: &Request<B>) -> Option<String> {
    let info = request
        .extensions()
        .get::<TlsConnectInfo<TcpConnectInfo>>()?;
    let certificates = info.peer_certs()?;
    let leaf = certificates.first()?;
    crate::tls::common_name(leaf.as_ref())
}

/// gRPC answers a message over the size limit with OUT_OF_RANGE; the contract promises
/// RESOURCE_EXHAUSTED, which is what the caller can act on (split the batch).
fn size_refusal_to_resource_exhausted<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    let over_limit = headers.get("grpc-status").is_some_and(|v| v == "11")
        && headers
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|m| {
                m.contains("message%20length%20too%20large")
                    || m.contains("message length too large")
            });
    if over_limit {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
        headers.insert(
            "grpc-message",
            http::HeaderValue::from_static(
                "the message is over the server's size limit (server.max_message_bytes); send fewer records per message",
            ),
        );
    }
}

/// The tower layer.
#[derive(Clone)]
pub struct EdgeLayer {
    auth: Arc<Authenticator>,
    limits: Option<Arc<Limiter>>,
    listener: Listener,
}

impl EdgeLayer {
    /// The public edge: callers' credentials, roles and limits.
    pub fn new(auth: Arc<Authenticator>, limits: Arc<Limiter>) -> Self {
        Self {
            auth,
            limits: Some(limits),
            listener: Listener::Public,
        }
    }

    /// The internal edge: service identities only, no caller limits.
    pub fn internal(auth: Arc<Authenticator>) -> Self {
        Self {
            auth,
            limits: None,
            listener: Listener::Internal,
        }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            auth: self.auth.clone(),
            limits: self.limits.clone(),
            listener: self.listener,
        }
    }
}

/// The service the layer wraps around the router.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    auth: Arc<Authenticator>,
    limits: Option<Arc<Limiter>>,
    listener: Listener,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Edge<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<Metered<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        for header in PRINCIPAL_HEADERS {
            request.headers_mut().remove(header);
        }
        let path = request.uri().path().to_owned();
        let measure = red::arrived(&path);
        let auth = self.auth.clone();
        let limits = self.limits.clone();
        let listener = self.listener;
        let open = is_open_path(&path);
        let refused_internal = self.refuse_internal_at_the_edge(&path);
        let subject = if open {
            None
        } else {
            certificate_subject(&request)
        };
        // The clone that was polled ready is the one that must serve the call.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        let span = platform::trace::server_span(
            &path,
            request
                .headers()
                .get(platform::trace::TRACEPARENT)
                .and_then(|value| value.to_str().ok()),
        );
        let answer = async move {
            let mut admitted = None;
            if !open {
                let verified = match refused_internal {
                    Ok(()) => {
                        auth.authenticate_request(request.headers(), subject.as_deref(), listener)
                            .await
                    }
                    Err(status) => Err(status),
                }
                .and_then(|caller| {
                    platform::trace::record_caller(&caller.caller_id);
                    platform::access::authorize_method(&caller, &path)?;
                    if let Some(limits) = &limits {
                        admitted = Some(limits.admit(&caller.caller_id)?);
                    }
                    caller.forward(request.headers_mut())
                });
                match verified {
                    Ok(()) => {}
                    Err(status) => {
                        metrics::counter!(
                            "medpay_grpc_refused_total",
                            "code" => format!("{:?}", status.code())
                        )
                        .increment(1);
                        measure.answered(status.code());
                        tracing::debug!(target: platform::trace::TARGET, code = ?status.code(), "refused");
                        return Ok(status.into_http().map(|body| Metered::recorded(body)));
                    }
                }
            }
            let mut response = ready.call(request).await?;
            size_refusal_to_resource_exhausted(&mut response);
            drop(admitted);
            tracing::debug!(
                target: platform::trace::TARGET,
                status = response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("in trailers"),
                "answered"
            );
            let (head, body) = response.into_parts();
            let body = measure.body(&head.headers, body);
            Ok(Response::from_parts(head, body))
        };
        Box::pin(answer.instrument(span))
    }
}

impl<S> Edge<S> {
    /// The public listener never serves an internal contract, whatever the caller's roles.
    fn refuse_internal_at_the_edge(&self, path: &str) -> Result<(), Status> {
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        if self.listener == Listener::Public && platform::access::is_internal_service(service) {
            return Err(platform::status::permission_denied(
                "INTERNAL_CONTRACT",
                format!("{service} is served to medpay services only, on the internal listener"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApiKeySettings, CertificateSettings, PrincipalSettings};
    use kernel::Role;

    fn settings(dev: bool) -> AuthSettings {
        AuthSettings {
            allow_anonymous: dev,
            dev_principal: Some(PrincipalSettings {
                caller_id: "dev".into(),
                scopes: vec!["460000".parse().expect("code")],
                roles: vec![],
                institution: None,
            }),
            api_keys: vec![ApiKeySettings {
                key: "meilan-agency-key-0001".into(),
                caller_id: "meilan".into(),
                scopes: vec!["460108".parse().expect("code")],
                roles: vec![Role::Submit],
                institution: None,
            }],
            certificates: vec![CertificateSettings {
                subject: "medpay-settlement".into(),
                caller_id: "settlement".into(),
                scopes: vec!["460000".parse().expect("code")],
                roles: vec![Role::Service],
                institution: None,
            }],
            internal_scopes: vec!["460000".parse().expect("code")],
        }
    }

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(http::header::AUTHORIZATION, value.parse().expect("header"));
        }
        headers
    }

    #[tokio::test]
    async fn api_keys_map_to_their_principal() {
        let auth = Authenticator::from_settings(&settings(true));
        let principal = auth
            .authenticate(&headers(Some("Bearer meilan-agency-key-0001")))
            .await
            .expect("known key");
        assert_eq!(principal.caller_id, "meilan");
        let unknown = auth
            .authenticate(&headers(Some("Bearer nope")))
            .await
            .expect_err("unknown");
        assert_eq!(unknown.code(), tonic::Code::Unauthenticated);
        assert_eq!(unknown.message(), INVALID_KEY);
        let malformed = auth
            .authenticate(&headers(Some("Basic abc")))
            .await
            .expect_err("scheme");
        assert_eq!(malformed.code(), tonic::Code::Unauthenticated);
    }

    #[tokio::test]
    async fn a_callers_rendered_headers_read_back_as_its_principal_behind_the_edge() {
        let auth = Authenticator::from_settings(&settings(true));
        for presented in [Some("Bearer meilan-agency-key-0001"), None] {
            let caller = auth
                .authenticate(&headers(presented))
                .await
                .expect("known caller");
            let mut request = headers(presented);
            caller.forward(&mut request).expect("ascii principal");
            let read = platform::principal::principal_from_metadata(
                &tonic::metadata::MetadataMap::from_headers(request),
            )
            .expect("the services read the forwarded principal");
            assert_eq!(read, **caller);
        }
    }

    #[tokio::test]
    async fn anonymous_requests_need_a_dev_principal() {
        let with_dev = Authenticator::from_settings(&settings(true));
        assert_eq!(
            with_dev
                .authenticate(&headers(None))
                .await
                .expect("dev")
                .caller_id,
            "dev"
        );
        let production = Authenticator::from_settings(&settings(false));
        assert!(production.authenticate(&headers(None)).await.is_err());
    }

    #[tokio::test]
    async fn certificates_and_keys_identify_callers_and_the_internal_listener_has_no_anonymous() {
        let auth = Authenticator::from_settings(&settings(true));
        let by_certificate = auth
            .authenticate_request(
                &headers(None),
                Some("medpay-settlement"),
                Listener::Internal,
            )
            .await
            .expect("registered certificate");
        assert_eq!(by_certificate.caller_id, "settlement");
        let unknown = auth
            .authenticate_request(&headers(None), Some("someone"), Listener::Public)
            .await
            .expect_err("unregistered certificate");
        assert_eq!(unknown.code(), tonic::Code::Unauthenticated);
        // A key beats the certificate when both are presented.
        let by_key = auth
            .authenticate_request(
                &headers(Some("Bearer meilan-agency-key-0001")),
                Some("medpay-settlement"),
                Listener::Public,
            )
            .await
            .expect("key");
        assert_eq!(by_key.caller_id, "meilan");
        assert!(
            auth.authenticate_request(&headers(None), None, Listener::Internal)
                .await
                .is_err(),
            "the development principal never reaches the internal listener"
        );
        assert_eq!(
            auth.authenticate_request(&headers(None), None, Listener::Public)
                .await
                .expect("dev")
                .caller_id,
            "dev"
        );
    }

    #[test]
    fn probes_and_reflection_are_open() {
        assert!(is_open_path("/grpc.health.v1.Health/Check"));
        assert!(is_open_path(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!is_open_path("/medpay.points.v1.PointsService/GetTable"));
    }
}
