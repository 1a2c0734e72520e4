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
        if let Some(code) = code {
            if let Some(measure) = self.pending.take() {
                measure.answered(code);
            }
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
