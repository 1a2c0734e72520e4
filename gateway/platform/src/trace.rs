//! W3C trace context (`traceparent`) across medpay's servers: every server opens one span per
//! request under the caller's trace ([`server_span`]), and every peer call carries a child of the
//! span it is made in ([`crate::peer`]), so one upload is one trace through settlement, grouping
//! and points, and every log line of it names the trace.
//!
//! The spans are `tracing` spans with target [`TARGET`]. Where spans are exported (an OTLP
//! endpoint is configured, [`export_spans`]) their trace and span ids are OpenTelemetry's, given
//! by the `tracing-opentelemetry` layer the server then installs. Otherwise no OpenTelemetry layer
//! runs: the request span draws its ids itself and keeps them in the span's registry entry
//! ([`RequestIds`]), which is all propagation and the log lines need, for a fraction of the
//! layer's cost per request (README, the edge's overhead). Without a subscriber nothing is
//! injected: an id nobody records would join nothing.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::{LookupSpan, Registry};

/// The header of W3C Trace Context.
pub const TRACEPARENT: &str = "traceparent";

/// The `tracing` target of the request and peer-call spans: a log filter enables them apart from
/// the rest (`medpay_request=debug` also logs each answered request).
pub const TARGET: &str = "medpay_request";

/// The span context a `traceparent` value names: `00-<32 hex trace id>-<16 hex parent id>-<2
/// hex flags>`. A later version is read by its first four fields, as the recommendation asks; an
/// all-zero id, upper-case hex or a malformed field is no parent at all.
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let (version, trace_id, span_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |text: &str, length: usize| {
        text.len() == length
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex(version, 2)
        || version == "ff"
        || !hex(trace_id, 32)
        || !hex(span_id, 16)
        || !hex(flags, 2)
    {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags) & TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// The `traceparent` value of `context`, when it is a valid span context.
pub fn format_traceparent(context: &SpanContext) -> Option<String> {
    context.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            context.trace_id(),
            context.span_id(),
            context.trace_flags().to_u8()
        )
    })
}

/// Whether the request spans are exported through the OpenTelemetry layer.
static EXPORTED: AtomicBool = AtomicBool::new(false);

/// Says that the process exports its spans through a `tracing-opentelemetry` layer, so the
/// request and peer spans take their ids from it. Call before serving; the default is the
/// layer-free ids.
pub fn export_spans(exported: bool) {
    EXPORTED.store(exported, Ordering::Relaxed);
}

/// The ids of a request span that no OpenTelemetry layer tracks, kept in the span's registry
/// entry: the trace, the span's own id, and the caller's sampling decision.
#[derive(Clone, Debug)]
struct RequestIds(SpanContext);

/// The span of one request a server answers: `method` (the gRPC path), the trace it belongs to
/// (`trace_id`, the caller's when its `traceparent` names one) and the caller's span
/// (`parent_id`); `caller` and `region` are recorded once known ([`record_caller`],
/// [`crate::authorize_region`]).
pub fn server_span(method: &str, traceparent: Option<&str>) -> tracing::Span {
    if EXPORTED.load(Ordering::Relaxed) {
        exported_server_span(method, traceparent)
    } else {
        unexported_server_span(method, traceparent)
    }
}

/// [`server_span`] without an OpenTelemetry layer: a root trace gets a random trace id and is
/// marked sampled (as the SDK's default sampler does), a caller's trace keeps the caller's flags.
fn unexported_server_span(method: &str, traceparent: Option<&str>) -> tracing::Span {
    let parent = traceparent.and_then(parse_traceparent);
    let ids = RandomIdGenerator::default();
    let (trace_id, flags) = match &parent {
        Some(parent) => (parent.trace_id(), parent.trace_flags()),
        None => (ids.new_trace_id(), TraceFlags::SAMPLED),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "grpc",
        method,
        trace_id = %trace_id,
        parent_id = parent.as_ref().map(|p| tracing::field::display(p.span_id())),
        caller = Empty,
        region = Empty,
    );
    let own = SpanContext::new(
        trace_id,
        ids.new_span_id(),
        flags,
        false,
        TraceState::default(),
    );
    span.with_subscriber(|(id, dispatch)| {
        if let Some(entry) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(id))
        {
            entry.extensions_mut().insert(RequestIds(own));
        }
    });
    span
}

/// The ids of the request the current span is part of, when no OpenTelemetry layer runs.
fn current_request_ids() -> Option<SpanContext> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let entry = registry.span(id)?;
            entry.scope().find_map(|span| {
                span.extensions()
                    .get::<RequestIds>()
                    .map(|ids| ids.0.clone())
            })
        })
        .flatten()
}

/// [`server_span`] under the OpenTelemetry layer, which gives the span its ids.
fn exported_server_span(method: &str, traceparent: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        target: TARGET,
        "grpc",
        method,
        trace_id = Empty,
        parent_id = Empty,
        caller = Empty,
        region = Empty,
    );
    let parent = traceparent.and_then(parse_traceparent);
    if let Some(parent) = &parent {
        span.record("parent_id", tracing::field::display(parent.span_id()));
        // Fails only where no OpenTelemetry layer is installed; the ids are then the caller's.
        let _ =
            span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent.clone()));
    }
    let context = span.context();
    let own = context.span().span_context().clone();
    let trace_id = if own.is_valid() {
        Some(own.trace_id())
    } else {
        parent.map(|p| p.trace_id())
    };
    if let Some(trace_id) = trace_id {
        span.record("trace_id", tracing::field::display(trace_id));
    }
    span
}

/// Records the authenticated caller on the current request's span.
pub fn record_caller(caller_id: &str) {
    tracing::Span::current().record("caller", caller_id);
}

/// Records the region a request acts in on the current request's span.
pub(crate) fn record_region(region: &kernel::RegionCode) {
    tracing::Span::current().record("region", tracing::field::display(region));
}

/// The `traceparent` of a new peer call made from the current span: a span of its own, so each
/// call is the distinct parent of the server span it reaches.
pub(crate) fn peer_traceparent() -> Option<String> {
    if !EXPORTED.load(Ordering::Relaxed) {
        // Nothing records the peer span, so only its id is made: the peer's log lines name it as
        // their parent, distinct for each call.
        let request = current_request_ids()?;
        let call = SpanContext::new(
            request.trace_id(),
            RandomIdGenerator::default().new_span_id(),
            request.trace_flags(),
            false,
            TraceState::default(),
        );
        return format_traceparent(&call);
    }
    let span = tracing::info_span!(target: TARGET, "peer");
    let context = span.context();
    format_traceparent(context.span().span_context())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_traceparent_reads_back_as_written() {
        let context = parse_traceparent(VALID).expect("valid");
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(context.span_id().to_string(), "00f067aa0ba902b7");
        assert!(context.is_sampled());
        assert!(context.is_remote());
        assert_eq!(format_traceparent(&context).as_deref(), Some(VALID));
        let unsampled = parse_traceparent(&VALID.replace("-01", "-00")).expect("valid");
        assert!(!unsampled.is_sampled());
        // A later version keeps its first four fields and may add more.
        assert!(parse_traceparent(&format!("01{}-extra", &VALID[2..])).is_some());
    }

    #[test]
    fn malformed_or_all_zero_traceparents_are_no_parent() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad:?} accepted");
        }
    }

    fn traceparent_of_a_peer_call() -> SpanContext {
        let value = peer_traceparent().expect("a peer call inside a request carries a traceparent");
        parse_traceparent(&value).expect("a valid traceparent")
    }

    #[test]
    fn unexported_requests_keep_their_callers_trace_and_each_peer_call_is_a_span_of_its_own() {
        tracing::subscriber::with_default(Registry::default(), || {
            let caller = parse_traceparent(VALID).expect("valid");
            let span = server_span("/medpay.points.v1.PointsService/GetTable", Some(VALID));
            let _entered = span.enter();
            let first = traceparent_of_a_peer_call();
            let second = traceparent_of_a_peer_call();
            assert_eq!(first.trace_id(), caller.trace_id());
            assert_eq!(second.trace_id(), caller.trace_id());
            assert_ne!(first.span_id(), second.span_id());
            assert_ne!(first.span_id(), caller.span_id());
            assert!(first.is_sampled());
            // A span opened inside the request (a stage of the work) is still in its trace.
            let stage = tracing::info_span!("stage");
            let _stage = stage.enter();
            assert_eq!(traceparent_of_a_peer_call().trace_id(), caller.trace_id());
        });
    }

    #[test]
    fn unexported_requests_without_a_caller_trace_start_their_own_and_keep_unsampled_flags() {
        tracing::subscriber::with_default(Registry::default(), || {
            let traces: Vec<TraceId> = (0..2)
                .map(|_| {
                    let span = server_span("/medpay.points.v1.PointsService/GetTable", None);
                    let _entered = span.enter();
                    let call = traceparent_of_a_peer_call();
                    assert!(call.is_valid() && call.is_sampled());
                    call.trace_id()
                })
                .collect();
            assert_ne!(traces[0], traces[1], "each request is a trace of its own");

            let unsampled = VALID.replace("-01", "-00");
            let span = server_span("/medpay.points.v1.PointsService/GetTable", Some(&unsampled));
            let _entered = span.enter();
            assert!(!traceparent_of_a_peer_call().is_sampled());
        });
        // Outside any request there is no trace to carry.
        tracing::subscriber::with_default(Registry::default(), || {
            assert!(peer_traceparent().is_none());
        });
    }

    #[test]
    fn without_an_opentelemetry_layer_a_request_keeps_its_callers_trace_and_calls_inject_nothing() {
        let span = server_span("/medpay.points.v1.PointsService/GetTable", Some(VALID));
        let _entered = span.enter();
        assert!(peer_traceparent().is_none());
    }
}
