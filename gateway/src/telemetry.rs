//! Logs, traces and metrics: `tracing` to stderr, trace context on every request (exported over
//! OTLP when configured), optional Prometheus endpoint. Export is off unless configured so a
//! fresh checkout runs with no collector.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TelemetrySettings;

/// Keeps the exporters alive; flushes them on drop.
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            // A collector that is gone must not hold up the shutdown: the SDK bounds the flush.
            if let Err(error) = provider.shutdown() {
                eprintln!("trace export did not flush: {error}");
            }
        }
    }
}

/// The log filter of `settings`, which always lets the request spans through (at info) unless
/// it names their target itself: every log line inside a request then carries its trace id.
fn filter(settings: &TelemetrySettings) -> anyhow::Result<EnvFilter> {
    let target = platform::trace::TARGET;
    let directives = if settings.log_filter.contains(target) {
        settings.log_filter.clone()
    } else {
        format!("{},{target}=info", settings.log_filter)
    };
    EnvFilter::try_new(&directives)
        .map_err(|e| anyhow::anyhow!("telemetry.log_filter {:?}: {e}", settings.log_filter))
}

/// The tracer provider of the exported spans: it gives every request span its trace and span
/// ids, which `platform::trace` propagates to peers, and exports them to the OTLP endpoint.
fn tracer_provider(settings: &TelemetrySettings) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(settings.otlp_endpoint.clone())
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("medpay")
                .build(),
        )
        .with_batch_exporter(exporter)
        .build())
}

/// Installs the subscriber and exporters. Call once, inside the tokio runtime.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<Telemetry> {
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter(settings)?);
    // Without an OTLP endpoint no span leaves the process, and the request spans draw their
    // ids themselves (`platform::trace`): the OpenTelemetry layer, entered on every poll of
    // every request, is then cost without use.
    let (otel, provider) = if settings.otlp_endpoint.is_empty() {
        (None, None)
    } else {
        let provider = tracer_provider(settings)?;
        let tracer = provider.tracer("medpay");
        opentelemetry::global::set_tracer_provider(provider.clone());
        // The request span is entered on every poll of the request's future: what the layer
        // keeps per span or does per poll is paid on every call. Nothing reads the active
        // OpenTelemetry context (peer calls take the ids from the span itself), every span comes
        // from the same two call sites, and busy/idle times and thread names are nothing an
        // operator acts on.
        let layer = tracing_opentelemetry::layer()
            .with_context_activation(false)
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_location(false)
            .with_tracer(tracer)
            .with_filter(filter(settings)?);
        (Some(layer), Some(provider))
    };
    tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| anyhow::anyhow!("tracing is already initialised: {e}"))?;
    platform::trace::export_spans(provider.is_some());
    if !settings.metrics_listen.is_empty() {
        let address: std::net::SocketAddr = settings.metrics_listen.parse().map_err(|e| {
            anyhow::anyhow!(
                "telemetry.metrics_listen {:?}: {e}",
                settings.metrics_listen
            )
        })?;
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(address)
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(
                    "medpay_grpc_request_duration_seconds".to_owned(),
                ),
                crate::red::DURATION_BUCKETS,
            )?
            .install()?;
        tracing::info!(%address, "prometheus metrics endpoint");
    }
    Ok(Telemetry {
        tracer_provider: provider,
    })
}
