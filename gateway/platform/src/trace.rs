//! W3C trace context (`traceparent`) across medpay's servers: every server opens one span per
//! request under the caller's trace ([`server_span`]), and every peer call carries a child of the
//! span it is made in ([`crate::peer`]), so one upload is one trace through settlement, grouping
//! and points, and every log line of it names the trace.
//!
//! The spans are `tracing` spans with target [`TARGET`]; their trace and span ids are
//! OpenTelemetry's, given by the `tracing-opentelemetry` layer the server installs. Without that
//! layer nothing is injected: an id nobody records would join nothing.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

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

/// The span of one request a server answers: `method` (the gRPC path), the trace it belongs to
/// (`trace_id`, the caller's when its `traceparent` names one) and the caller's span
/// (`parent_id`); `caller` and `region` are recorded once known ([`record_caller`],
/// [`crate::authorize_region`]).
pub fn server_span(method: &str, traceparent: Option<&str>) -> tracing::Span {
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

    #[test]
    fn without_an_opentelemetry_layer_a_request_keeps_its_callers_trace_and_calls_inject_nothing() {
        let span = server_span("/medpay.points.v1.PointsService/GetTable", Some(VALID));
        let _entered = span.enter();
        assert!(peer_traceparent().is_none());
    }
}
