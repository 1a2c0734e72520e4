//! The edge's RED metrics (rate, errors, duration), exported by the Prometheus endpoint:
//!
//! - `medpay_grpc_requests_total{method}`: requests received;
//! - `medpay_grpc_responses_total{method, code}`: requests answered, by gRPC status code name
//!   (`OK`, `INVALID_ARGUMENT`, …; the errors are every code but `OK`);
//! - `medpay_grpc_request_duration_seconds{method}`: a histogram from the request's arrival to its
//!   status (for a stream, to its end).
//!
//! `method` is the full method path when it is one medpay serves
//! ([`platform::access::known_method`]) and `unknown` otherwise: the caller chooses the path, so
//! a label taken from it would let any caller mint series without bound.
//!
//! The status of an answer is read where gRPC puts it: in the head of a trailers-only answer
//! (every refusal and every failed unary call), else in the trailers at the end of the body. A
//! body dropped before its trailers (the caller went away) counts as `CANCELLED`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

/// Upper bounds (seconds) of the latency histogram's buckets: a unary read takes milliseconds, a
/// run or an export up to minutes.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The label of requests to a method medpay does not serve.
pub const UNKNOWN_METHOD: &str = "unknown";

/// The `method` label of a request path: from a fixed set.
pub fn method_label(path: &str) -> &'static str {
    platform::access::known_method(path).unwrap_or(UNKNOWN_METHOD)
}

/// Counts a request as it arrives; returns what its answer is measured against.
pub fn arrived(path: &str) -> Measure {
    let method = method_label(path);
    metrics::counter!("medpay_grpc_requests_total", "method" => method).increment(1);
    Measure {
        method,
        started: Instant::now(),
    }
}

/// A request being answered: its method label and when it arrived.
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    method: &'static str,
    started: Instant,
}

impl Measure {
    /// Records the answer's status code.
    pub fn answered(self, code: tonic::Code) {
        metrics::counter!(
            "medpay_grpc_responses_total",
            "method" => self.method,
            "code" => code_name(code)
        )
        .increment(1);
        metrics::histogram!("medpay_grpc_request_duration_seconds", "method" => self.method)
            .record(self.started.elapsed().as_secs_f64());
    }

    /// Wraps an answer's body: the status is recorded now if the head carries it, else when
    /// the trailers pass by.
    pub fn body<B>(self, head: &HeaderMap, body: B) -> Metered<B> {
        let pending = match status_in(head) {
            Some(code) => {
                self.answered(code);
                None
            }
            None => Some(self),
        };
        Metered {
            inner: body,
            pending,
        }
    }
}

/// The status code a head or trailers carry, if any.
fn status_in(headers: &HeaderMap) -> Option<tonic::Code> {
    let value = headers.get("grpc-status")?;
    let code = value.to_str().ok()?.parse::<i32>().ok()?;
    Some(tonic::Code::from_i32(code))
}

/// The canonical name of a gRPC code, as the label value.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A response body that records its request's status when the trailers carrying it pass.
pub struct Metered<B> {
    inner: B,
    /// The measure still to record; `None` once recorded.
    pending: Option<Measure>,
}

impl<B> Metered<B> {
    /// A body whose request's status is already recorded.
    pub fn recorded(inner: B) -> Self {
        Metered {
            inner,
            pending: None,
        }
    }
}

impl<B: Default> Default for Metered<B> {
    fn default() -> Self {
        Metered {
            inner: B::default(),
            pending: None,
        }
    }
}

impl<B: Body + Unpin> Body for Metered<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame
                .trailers_ref()
                .map(|trailers| status_in(trailers).unwrap_or(tonic::Code::Unknown)),
            // A body that ends or breaks without trailers carries no status.
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => Some(tonic::Code::Unknown),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(measure) = self.pending.take()
        {
            measure.answered(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Metered<B> {
    fn drop(&mut self) {
        if let Some(measure) = self.pending.take() {
            measure.answered(tonic::Code::Cancelled);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::convert::Infallible;
    use std::sync::Arc;

    use http::{Request, Response};
    use kernel::Role;
    use tower::{Layer, Service, ServiceExt};

    use super::*;
    use crate::config::{AuthSettings, LimitSettings, PrincipalSettings};
    use crate::edge::{Authenticator, EdgeLayer};
    use crate::limits::Limiter;

    /// A response body of one data frame and, when given, trailers.
    #[derive(Default)]
    struct Reply {
        data: Option<&'static [u8]>,
        trailers: Option<HeaderMap>,
    }

    impl Body for Reply {
        type Data = &'static [u8];
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            if let Some(data) = self.data.take() {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
        }
    }

    /// What the service behind the edge answers: trailers-only INVALID_ARGUMENT for
    /// `/…/ListCases`, a message then OK trailers otherwise.
    async fn behind(request: Request<()>) -> Result<Response<Reply>, Infallible> {
        let mut trailers = HeaderMap::new();
        if request.uri().path().ends_with("/ListCases") {
            let mut response = Response::new(Reply::default());
            response
                .headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static("3"));
            return Ok(response);
        }
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        Ok(Response::new(Reply {
            data: Some(b"answer"),
            trailers: Some(trailers),
        }))
    }

    fn edge()
    -> impl Service<Request<()>, Response = Response<Metered<Reply>>, Error = Infallible> + Clone
    {
        let auth = Authenticator::from_settings(&AuthSettings {
            allow_anonymous: true,
            dev_principal: Some(PrincipalSettings {
                caller_id: "dev".into(),
                scopes: vec!["460000".parse().expect("code")],
                roles: vec![Role::Read],
                institution: None,
            }),
            api_keys: vec![],
            certificates: vec![],
            internal_scopes: vec![],
        });
        let limits = Limiter::new(LimitSettings {
            requests_per_second: 0,
            burst: 0,
            concurrent_per_caller: 0,
        });
        EdgeLayer::new(Arc::new(auth), Arc::new(limits)).layer(tower::service_fn(behind))
    }

    /// Calls `path` through the edge and reads the answer to its end.
    async fn call(
        service: &mut (
                 impl Service<Request<()>, Response = Response<Metered<Reply>>, Error = Infallible>
                 + Clone
             ),
        path: &str,
    ) {
        let request = Request::builder().uri(path).body(()).expect("request");
        let response = service
            .ready()
            .await
            .expect("ready")
            .call(request)
            .await
            .expect("answered");
        let mut body = response.into_body();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let _ = frame;
        }
    }

    /// The label values of `label` on the lines of `metric` in a Prometheus text rendering.
    fn label_values(rendered: &str, metric: &str, label: &str) -> BTreeSet<String> {
        rendered
            .lines()
            .filter(|line| line.starts_with(metric))
            .filter_map(|line| {
                let start = line.find(&format!("{label}=\""))? + label.len() + 2;
                let end = start + line[start..].find('"')?;
                Some(line[start..end].to_owned())
            })
            .collect()
    }

    fn metrics_of(run: impl AsyncFnOnce()) -> String {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(DURATION_BUCKETS)
            .expect("buckets")
            .build_recorder();
        let handle = recorder.handle();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        // The recorder is this thread's: the runtime polls every future here.
        metrics::with_local_recorder(&recorder, || runtime.block_on(run()));
        handle.render()
    }

    #[test]
    fn a_thousand_made_up_paths_are_one_label() {
        let rendered = metrics_of(async || {
            let mut service = edge();
            for n in 0..1_000 {
                let path = match n % 4 {
                    0 => format!("/medpay.points.v1.PointsService/Drop{n}"),
                    1 => format!("/medpay.points.internal.v1.PointsInternalService/M{n}"),
                    // Open paths reach the service: still one label.
                    2 => format!("/grpc.health.v1.Health/Probe{n}"),
                    _ => format!("/x{n}"),
                };
                call(&mut service, &path).await;
            }
        });
        for metric in [
            "medpay_grpc_requests_total",
            "medpay_grpc_responses_total",
            "medpay_grpc_request_duration_seconds_count",
        ] {
            assert_eq!(
                label_values(&rendered, metric, "method"),
                BTreeSet::from([UNKNOWN_METHOD.to_owned()]),
                "{metric}:\n{rendered}"
            );
        }
        assert!(rendered.contains("medpay_grpc_requests_total{method=\"unknown\"} 1000"));
    }

    #[test]
    fn answers_are_counted_by_method_and_code_with_a_latency_histogram() {
        let list_cases = "/medpay.settlement.v1.SettlementService/ListCases";
        let put_table = "/medpay.points.v1.PointsService/PutTable";
        let health = "/grpc.health.v1.Health/Check";
        let rendered = metrics_of(async || {
            let mut service = edge();
            call(&mut service, list_cases).await;
            call(&mut service, put_table).await;
            call(&mut service, health).await;
            call(&mut service, health).await;
        });
        for (method, code, count) in [
            (list_cases, "INVALID_ARGUMENT", 1),
            (put_table, "PERMISSION_DENIED", 1),
            (health, "OK", 2),
        ] {
            let line = format!(
                "medpay_grpc_responses_total{{method=\"{method}\",code=\"{code}\"}} {count}"
            );
            assert!(rendered.contains(&line), "{line} in\n{rendered}");
        }
        let bucket = format!(
            "medpay_grpc_request_duration_seconds_bucket{{method=\"{health}\",le=\"+Inf\"}} 2"
        );
        assert!(rendered.contains(&bucket), "{bucket} in\n{rendered}");
    }
}
