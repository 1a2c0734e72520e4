//! gRPC-Web on the public listener for browser pages of the origins the configuration allows
//! (`server.grpc_web.allowed_origins`). The CORS layer sits outside `tonic_web`'s translation,
//! which sits outside the edge: a browser's call is authenticated, authorised and limited as the
//! same call over gRPC.
//!
//! A request naming an origin that is not on the list is refused with 403 and no CORS headers,
//! preflight or not: its browser withholds the answer anyway, and the call must not run for a
//! page that could never read it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tonic::body::Body;
use tower::{Layer, Service};

/// The request headers a page may send: gRPC-Web's own, the deadline, and the API key (the edge
/// authenticates a browser's call as any other).
const ALLOWED_HEADERS: &str =
    "authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout, traceparent";

/// The response headers a page may read: a trailers-only answer carries the status in headers.
const EXPOSED_HEADERS: &str = "grpc-status, grpc-message, grpc-status-details-bin";

/// How long a browser may reuse a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Why `origin` cannot be an allowed origin, if it cannot: a browser sends `scheme://host[:port]`
/// exactly, so anything else (a path, a wildcard, `null`) would never match, or match too much.
pub fn check_origin(origin: &str) -> Result<(), &'static str> {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("is not scheme://host[:port]");
    };
    if scheme != "http" && scheme != "https" {
        return Err("must be http:// or https://");
    }
    if rest.is_empty() || rest.contains(['/', '*', '?', '#', ' ']) {
        return Err("must be scheme://host[:port] with no path, wildcard or trailing slash");
    }
    if HeaderValue::from_str(origin).is_err() {
        return Err("is not valid header text");
    }
    Ok(())
}

/// The CORS allow-list in front of the gRPC-Web translation.
#[derive(Clone)]
pub struct CorsLayer {
    allowed: Arc<[HeaderValue]>,
}

impl CorsLayer {
    /// The layer for origins already checked by [`check_origin`] (configuration validation).
    pub fn new(origins: &[String]) -> anyhow::Result<Self> {
        let allowed = origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin)
                    .map_err(|e| anyhow::anyhow!("server.grpc_web.allowed_origins {origin:?}: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            allowed: allowed.into(),
        })
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            allowed: self.allowed.clone(),
        }
    }
}

/// The service [`CorsLayer`] wraps around the gRPC-Web translation.
#[derive(Clone)]
pub struct Cors<S> {
    inner: S,
    allowed: Arc<[HeaderValue]>,
}

fn refused() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

impl<S, ReqBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let origin = request.headers().get(ORIGIN).cloned();
        let allowed = match origin {
            // gRPC clients send no origin: nothing to allow.
            None => None,
            Some(origin) if self.allowed.contains(&origin) => Some(origin),
            Some(_) => return Box::pin(async { Ok(refused()) }),
        };
        if request.method() == Method::OPTIONS {
            let preflight = allowed.filter(|_| {
                request
                    .headers()
                    .get(ACCESS_CONTROL_REQUEST_METHOD)
                    .is_some_and(|method| method == "POST")
            });
            let response = match preflight {
                Some(origin) => {
                    let mut response = Response::new(Body::empty());
                    *response.status_mut() = StatusCode::NO_CONTENT;
                    let headers = response.headers_mut();
                    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                    headers.insert(
                        ACCESS_CONTROL_ALLOW_METHODS,
                        HeaderValue::from_static("POST"),
                    );
                    headers.insert(
                        ACCESS_CONTROL_ALLOW_HEADERS,
                        HeaderValue::from_static(ALLOWED_HEADERS),
                    );
                    headers.insert(
                        ACCESS_CONTROL_MAX_AGE,
                        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                    );
                    headers.insert(VARY, HeaderValue::from_static("origin"));
                    response
                }
                // gRPC has no OPTIONS: only a browser's preflight for a POST is answered.
                None => refused(),
            };
            return Box::pin(async { Ok(response) });
        }
        // The clone that was polled ready is the one that must serve the call.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = ready.call(request).await?;
            if let Some(origin) = allowed {
                let headers = response.headers_mut();
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(
                    ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED_HEADERS),
                );
                headers.append(VARY, HeaderValue::from_static("origin"));
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_origin_is_a_scheme_and_a_host_only() {
        for good in [
            "http://127.0.0.1:8080",
            "https://portal.hainan.example",
            "http://[::1]:3000",
        ] {
            assert_eq!(check_origin(good), Ok(()), "{good}");
        }
        for bad in [
            "*",
            "null",
            "portal.example",
            "ftp://portal.example",
            "https://portal.example/",
            "https://*.example",
            "https://",
        ] {
            assert!(check_origin(bad).is_err(), "{bad} accepted");
        }
    }

    /// A stand-in for the translation and the edge: answers 200 and counts its calls.
    #[derive(Clone, Default)]
    struct Counted(Arc<std::sync::atomic::AtomicUsize>);

    impl Service<Request<()>> for Counted {
        type Response = Response<Body>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Response<Body>, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<()>) -> Self::Future {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::ready(Ok(Response::new(Body::empty())))
        }
    }

    fn request(method: Method, origin: Option<&str>) -> Request<()> {
        let mut builder = Request::builder()
            .method(method)
            .uri("/medpay.grouping.v1.GroupingService/ListSchemes")
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST");
        if let Some(origin) = origin {
            builder = builder.header(ORIGIN, origin);
        }
        builder.body(()).expect("request")
    }

    #[tokio::test]
    async fn only_allowed_origins_get_cors_headers_and_reach_the_service() {
        let inner = Counted::default();
        let mut cors = CorsLayer::new(&["http://127.0.0.1:8080".to_owned()])
            .expect("origins")
            .layer(inner.clone());
        let calls = || inner.0.load(std::sync::atomic::Ordering::SeqCst);

        let preflight = cors
            .call(request(Method::OPTIONS, Some("http://127.0.0.1:8080")))
            .await
            .expect("answer");
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            preflight.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://127.0.0.1:8080"
        );
        assert!(
            preflight.headers()[ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .expect("text")
                .contains("authorization")
        );
        assert_eq!(calls(), 0, "a preflight never reaches the service");

        let call = cors
            .call(request(Method::POST, Some("http://127.0.0.1:8080")))
            .await
            .expect("answer");
        assert_eq!(call.status(), StatusCode::OK);
        assert_eq!(
            call.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://127.0.0.1:8080"
        );
        assert!(call.headers().contains_key(ACCESS_CONTROL_EXPOSE_HEADERS));
        assert_eq!(calls(), 1);

        // Another port is another origin.
        for method in [Method::OPTIONS, Method::POST] {
            let other = cors
                .call(request(method, Some("http://127.0.0.1:8081")))
                .await
                .expect("answer");
            assert_eq!(other.status(), StatusCode::FORBIDDEN);
            assert!(
                other
                    .headers()
                    .keys()
                    .all(|name| !name.as_str().starts_with("access-control-")),
                "{:?}",
                other.headers()
            );
        }
        assert_eq!(calls(), 1, "a refused origin's call never runs");

        let grpc = cors
            .call(request(Method::POST, None))
            .await
            .expect("answer");
        assert_eq!(grpc.status(), StatusCode::OK);
        assert!(!grpc.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
        assert_eq!(calls(), 2, "gRPC callers send no origin and pass");
    }
}
