//! OpenTelemetry trace export. Off unless the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; then every `tracing` span the filter lets
//! through (a build, a step, a REST request) is sent over OTLP/HTTP with protobuf bodies, the
//! way collectors such as the OpenTelemetry Collector, Jaeger or Tempo receive it on port 4318.
//! The exporter itself reads the other standard variables (`OTEL_EXPORTER_OTLP_HEADERS`,
//! `..._TIMEOUT`, `..._COMPRESSION`); `OTEL_SERVICE_NAME` names the service, by default the
//! program (`ferrobot`, `ferrobot-worker`).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::{BoxedLayer, Error, Result};

/// The variables that switch export on.
const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// The running exporter; shutting it down sends what is still batched.
#[derive(Debug)]
pub(crate) struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Sends the spans still batched and stops the exporter.
    pub(crate) fn shutdown(&self) {
        // Nothing useful can be done when the collector is gone at exit.
        let _ = self.provider.force_flush();
        let _ = self.provider.shutdown();
    }
}

/// Whether the environment asks for trace export.
pub(crate) fn requested(get: impl Fn(&str) -> Option<String>) -> bool {
    ENDPOINT_VARIABLES
        .iter()
        .any(|name| get(name).is_some_and(|value| !value.trim().is_empty()))
}

/// The layer that turns spans into OpenTelemetry spans, and the exporter behind it, when the
/// environment asks for export.
pub(crate) fn layer_from_env<S>() -> Result<Option<(BoxedLayer<S>, Traces)>>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    if !requested(|name| std::env::var(name).ok()) {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|error| Error::Tracing(error.to_string()))?;
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(program_name());
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("ferrobot");
    let layer = tracing_opentelemetry::layer().with_tracer(tracer).boxed();
    Ok(Some((layer, Traces { provider })))
}

fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "ferrobot".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_is_on_only_with_a_non_empty_endpoint() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert!(!requested(env(&[])));
        assert!(!requested(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])));
        assert!(requested(env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318"
        )])));
        assert!(requested(env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://collector:4318/v1/traces"
        )])));
    }
}
