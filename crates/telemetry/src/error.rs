//! The telemetry crate's error type.

use std::path::PathBuf;

/// What can go wrong while setting up logging.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The filter directive (from the options or `RUST_LOG`) does not parse.
    #[error("invalid log filter {directive:?}: {message}")]
    Filter {
        /// The directive as given.
        directive: String,
        /// Why it was refused.
        message: String,
    },
    /// The log file cannot be opened for appending.
    #[error("cannot open log file {path}: {source}")]
    LogFile {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The OpenTelemetry trace exporter named by the `OTEL_EXPORTER_OTLP_*` variables cannot be
    /// set up.
    #[error("cannot export traces over OTLP: {0}")]
    Tracing(String),
    /// A global subscriber is already installed (`init` was called before).
    #[error("logging is already initialised: {0}")]
    AlreadyInitialized(String),
}

/// The telemetry crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
