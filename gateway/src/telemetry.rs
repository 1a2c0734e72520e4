//! Logs, traces and metrics: `tracing` to stderr, optional OTLP trace export, optional Prometheus
//! endpoint. Export is off unless configured so a fresh checkout runs with no collector.

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

/// Installs the subscriber and exporters. Call once, inside the tokio runtime.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(&settings.log_filter)
        .map_err(|e| anyhow::anyhow!("telemetry.log_filter {:?}: {e}", settings.log_filter))?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let mut tracer_provider = None;
    let otel = if settings.otlp_endpoint.is_empty() {
        None
    } else {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(settings.otlp_endpoint.clone())
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("medpay")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("medpay");
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracer_provider = Some(provider);
        Some(tracing_opentelemetry::layer().with_tracer(tracer).boxed())
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| anyhow::anyhow!("tracing is already initialised: {e}"))?;
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
    Ok(Telemetry { tracer_provider })
}
