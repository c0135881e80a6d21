//! master.cfg, written in Starlark with Buildbot's names, turned into a typed, validated
//! [`MasterConfig`].
#![warn(missing_docs)]

mod types;

pub use types::*;

/// A configuration error, naming file:line:col where there is one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Starlark evaluation or validation failed.
    #[error("{0}")]
    Invalid(String),
}

/// The config crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
