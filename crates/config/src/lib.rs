//! master.cfg, written in Starlark with Buildbot's names, turned into a typed, validated
//! [`MasterConfig`].
//!
//! The file reads like a Buildbot master.cfg: a predeclared dict `c` (alias
//! `BuildmasterConfig`) and the namespaces `worker`, `changes`, `schedulers`, `util`, `steps`,
//! `reporters` and `secrets`. Python-isms of real files (`from buildbot.plugins import *`,
//! `c = BuildmasterConfig = {}`, `u'...'`) are accepted by a line-preserving pre-pass, so
//! every error still names the file, line and column the user wrote. docs/configuration.md
//! lists every supported name.
#![warn(missing_docs)]

mod args;
mod cluster;
mod ctors;
mod eval;
mod keys;
mod master;
mod prepass;
mod types;
mod validate;
// Deriving starlark's `ProvidesStaticType` (required of every Starlark value and of the
// evaluator's `extra`) implements an `unsafe` marker trait; no unsafe code is written here.
#[allow(unsafe_code)]
mod values;

use std::path::Path;

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
    /// Evaluation or validation failed. The message holds one line per problem, each
    /// starting with `file:line:col:` (or `file:` when no position applies).
    #[error("{0}")]
    Invalid(String),
}

/// The config crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads and evaluates a master.cfg file. Errors name the file as given in `path`.
pub fn load(path: &Path) -> Result<MasterConfig> {
    let source = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        source,
    })?;
    load_str(&path.display().to_string(), &source)
}

/// Evaluates master.cfg text; `filename` is used in error messages.
pub fn load_str(filename: &str, source: &str) -> Result<MasterConfig> {
    eval::evaluate(filename, source)
}
