//! The edge layer in front of every service: it removes any principal headers a caller sent,
//! authenticates the caller, and forwards the verified principal in metadata. Health checks and
//! reflection pass without credentials so that probes and `grpcurl list` work.

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

use crate::access::StoredKeys;
use crate::access::key::PresentedKey;
use crate::config::AuthSettings;

/// What a caller with an unknown, malformed, revoked or expired key is told: nothing about which.
pub const INVALID_KEY: &str = "api key is not valid";

/// Who may call: keys of the key store, keys of the configuration (plain text, for development
/// and tests) and, when allowed, the development principal for requests without credentials.
pub struct Authenticator {
    /// SHA-256 of each configured key, compared in constant time, and its principal.
    config_keys: Vec<([u8; 32], Principal)>,
    stored: Option<Arc<StoredKeys>>,
    anonymous: Option<Principal>,
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
                        key.to_principal(),
                    )
                })
                .collect(),
            stored: None,
            anonymous: settings
                .dev_principal
                .as_ref()
                .filter(|_| settings.allow_anonymous)
                .map(|p| p.to_principal()),
        }
    }

    /// Also accepts the keys of the key store (`mpk_…`).
    pub fn with_stored_keys(mut self, stored: Arc<StoredKeys>) -> Self {
        self.stored = Some(stored);
        self
    }

    /// The principal of a request's headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Status> {
        match headers.get(http::header::AUTHORIZATION) {
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .ok_or_else(|| {
                        Status::unauthenticated("authorization must be `Bearer <api key>`")
                    })?;
                self.principal_of_key(token).await
            }
            None => self
                .anonymous
                .clone()
                .ok_or_else(|| Status::unauthenticated("credentials are required")),
        }
    }

    async fn principal_of_key(&self, token: &str) -> Result<Principal, Status> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every configured key is compared, so the time taken says nothing about which matched.
        let mut configured = None;
        for (known, principal) in &self.config_keys {
            if bool::from(known.ct_eq(&digest)) {
                configured = Some(principal);
            }
        }
        if let Some(principal) = configured {
            return Ok(principal.clone());
        }
        if let (Some(stored), Some(key)) = (&self.stored, PresentedKey::parse(token)) {
            match stored.verify(&key).await {
                Ok(Some(principal)) => return Ok(principal),
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

/// The tower layer.
#[derive(Clone)]
pub struct EdgeLayer {
    auth: Arc<Authenticator>,
}

impl EdgeLayer {
    pub fn new(auth: Authenticator) -> Self {
        Self {
            auth: Arc::new(auth),
        }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service the layer wraps around the router.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Edge<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
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
        // The label comes from a fixed set: a caller must not be able to mint label values.
        let method_label = if is_open_path(&path) || platform::access::roles_for(&path).is_some() {
            path.clone()
        } else {
            "unknown".to_owned()
        };
        metrics::counter!("medpay_grpc_requests_total", "method" => method_label).increment(1);
        let auth = self.auth.clone();
        // The clone that was polled ready is the one that must serve the call.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            if !is_open_path(&path) {
                let verified = auth
                    .authenticate(request.headers())
                    .await
                    .and_then(|principal| {
                        platform::access::authorize_method(&principal, &path)?;
                        let mut metadata = tonic::metadata::MetadataMap::new();
                        platform::set_principal(&mut metadata, &principal)?;
                        Ok(metadata.into_headers())
                    });
                match verified {
                    Ok(headers) => request.headers_mut().extend(headers),
                    Err(status) => {
                        metrics::counter!(
                            "medpay_grpc_refused_total",
                            "code" => format!("{:?}", status.code())
                        )
                        .increment(1);
                        return Ok(status.into_http());
                    }
                }
            }
            ready.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApiKeySettings, PrincipalSettings};
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

    #[test]
    fn probes_and_reflection_are_open() {
        assert!(is_open_path("/grpc.health.v1.Health/Check"));
        assert!(is_open_path(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!is_open_path("/medpay.points.v1.PointsService/GetTable"));
    }
}
