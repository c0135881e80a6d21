//! Logging for the Ferrobot programs: one global `tracing` subscriber writing readable lines to
//! stdout and, when asked, the same lines to a log file (Buildbot's `twistd.log`: the master
//! writes `DIR/ferrobot.log`, the worker `DIR/worker.log`).
#![warn(missing_docs)]

mod error;
mod otel;

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use error::{Error, Result};

/// The filter used when neither the options nor `RUST_LOG` say otherwise.
pub const DEFAULT_FILTER: &str = "info";

/// How to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// An `EnvFilter` directive such as `info` or `ferrobot_master=debug,info`. A non-empty
    /// `RUST_LOG` in the environment takes precedence, so an operator can always turn logging up.
    pub filter: String,
    /// Also append every line here (without colours).
    pub log_file: Option<PathBuf>,
    /// Write JSON objects instead of text lines, one per line.
    pub json: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filter: DEFAULT_FILTER.to_owned(),
            log_file: None,
            json: false,
        }
    }
}

/// Keeps logging flushed: dropping it flushes stdout and syncs the log file. Hold it until the
/// program ends.
#[must_use = "dropping the guard at once flushes too early; keep it until the program ends"]
#[derive(Debug)]
pub struct Guard {
    file: Option<Arc<File>>,
    traces: Option<otel::Traces>,
}

impl Guard {
    /// Flushes stdout and syncs the log file now.
    pub fn flush(&self) {
        // Nothing useful can be done when flushing the log itself fails.
        let _ = std::io::stdout().flush();
        if let Some(file) = &self.file {
            let _ = file.sync_data();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(traces) = &self.traces {
            traces.shutdown();
        }
        self.flush();
    }
}

/// Installs the global subscriber. Fails, without panicking or changing the installed one,
/// when called a second time or when another subscriber is already global.
pub fn init(options: &Options) -> Result<Guard> {
    let file = options
        .log_file
        .as_deref()
        .map(open_for_append)
        .transpose()?
        .map(Arc::new);
    let file_layer = file
        .as_ref()
        .map(|file| format_layer(options.json, Arc::clone(file), false));
    let traces = install(options, file_layer)?;
    Ok(Guard { file, traces })
}

/// Like [`init`], but the log-file lines go to `writer` (the worker's rotating `worker.log`)
/// instead of `options.log_file`, which is ignored. The writer must not buffer: the guard
/// cannot flush it.
pub fn init_with_writer<W>(options: &Options, writer: W) -> Result<Guard>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let traces = install(options, Some(format_layer(options.json, writer, false)))?;
    Ok(Guard { file: None, traces })
}

fn install(
    options: &Options,
    file_layer: Option<BoxedLayer<tracing_subscriber::Registry>>,
) -> Result<Option<otel::Traces>> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let directive = effective_filter(&options.filter, rust_log.as_deref());
    let filter = EnvFilter::try_new(directive).map_err(|error| Error::Filter {
        directive: directive.to_owned(),
        message: error.to_string(),
    })?;
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let mut layers = vec![format_layer(
        options.json,
        std::io::stdout,
        stdout_is_terminal,
    )];
    layers.extend(file_layer);
    let (otel_layer, traces) = otel::layer_from_env()?.unzip();
    layers.extend(otel_layer);
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init()
        .map_err(|error| Error::AlreadyInitialized(error.to_string()))?;
    tracing::debug!(filter = directive, log_file = ?options.log_file, traces = traces.is_some(), "logging initialised");
    Ok(traces)
}

/// The directive in force: a non-empty `RUST_LOG` wins over the configured one.
pub fn effective_filter<'a>(configured: &'a str, rust_log: Option<&'a str>) -> &'a str {
    match rust_log.map(str::trim) {
        Some(from_env) if !from_env.is_empty() => from_env,
        _ => configured,
    }
}

fn open_for_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| Error::LogFile {
            path: path.to_owned(),
            source,
        })
}

pub(crate) type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

fn format_layer<S, W>(json: bool, writer: W, ansi: bool) -> BoxedLayer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    // The fmt layer renders a whole event before one write call, and the file is opened for
    // appending, so lines from concurrent threads never interleave.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    if json {
        layer.json().boxed()
    } else {
        layer.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_overrides_the_configured_filter_unless_empty() {
        assert_eq!(effective_filter("info", None), "info");
        assert_eq!(effective_filter("info", Some("debug")), "debug");
        assert_eq!(effective_filter("info", Some("  ")), "info");
        assert_eq!(effective_filter("warn", Some("")), "warn");
    }

    #[test]
    fn default_options_log_info_to_stdout_only() {
        let options = Options::default();
        assert_eq!(options.filter, "info");
        assert_eq!(options.log_file, None);
        assert!(!options.json);
    }

    #[test]
    fn a_missing_directory_names_the_log_file() {
        let path = std::env::temp_dir()
            .join("ferrobot-telemetry-no-such-dir")
            .join("x.log");
        let error = open_for_append(&path).expect_err("directory does not exist");
        assert!(
            error.to_string().contains("ferrobot-telemetry-no-such-dir"),
            "{error}"
        );
    }
}
