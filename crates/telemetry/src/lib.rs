//! Logging for the Ferrobot programs: one global `tracing` subscriber writing readable lines to
//! stdout and, when asked, the same lines to a log file (Buildbot's `twistd.log`: the master
//! writes `DIR/ferrobot.log`, the worker `DIR/worker.log`).
#![warn(missing_docs)]

mod error;

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
        self.flush();
    }
}

/// Installs the global subscriber. Fails, without panicking or changing the installed one,
/// when called a second time or when another subscriber is already global.
pub fn init(options: &Options) -> Result<Guard> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let directive = effective_filter(&options.filter, rust_log.as_deref());
    let filter = EnvFilter::try_new(directive).map_err(|error| Error::Filter {
        directive: directive.to_owned(),
        message: error.to_string(),
    })?;
    let file = options
        .log_file
        .as_deref()
        .map(open_for_append)
        .transpose()?
        .map(Arc::new);

    let stdout_is_terminal = std::io::stdout().is_terminal();
    let mut layers = vec![format_layer(
        options.json,
        std::io::stdout,
        stdout_is_terminal,
    )];
    if let Some(file) = &file {
        layers.push(format_layer(options.json, Arc::clone(file), false));
    }
    tracing_subscriber::registry()
        .with(filter)
        .with(layers)
        .try_init()
        .map_err(|error| Error::AlreadyInitialized(error.to_string()))?;
    tracing::debug!(filter = directive, log_file = ?options.log_file, "logging initialised");
    Ok(Guard { file })
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

type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

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
