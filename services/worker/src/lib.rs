//! The Ferrobot worker: dials a master over gRPC (`ferrobot.worker.v1.WorkerService/Session`),
//! says who it is, runs the remote commands the master sends (Buildbot's set: shell, mkdir,
//! rmdir, cpdir, stat, glob, listdir, rmfile, uploadFile, uploadDirectory, downloadFile) and
//! streams their output back in batches. It reconnects with backoff when the
//! connection is lost, as Buildbot's worker does.
//!
//! - [`create_worker`] writes a worker directory (`worker.json`, `info/admin`, `info/host`).
//! - [`run`] runs a worker in-process until a cancellation token fires.
//! - [`service::start`] / [`service::stop`] are the `start` / `stop` sub-commands.
#![warn(missing_docs)]

pub mod commands;
mod connection;
mod error;
pub mod info;
pub mod logfile;
mod options;
pub mod service;

pub use connection::endpoint::{
    MasterEndpoint, ProxyEndpoint, parse_connection_string, parse_proxy_connection_string,
};
pub use connection::run;
pub use connection::run_with_shutdown_requests;
pub use error::{Error, Result};
pub use options::{
    AllowShutdown, DEFAULT_ADMIN, DEFAULT_KEEPALIVE, DEFAULT_LOG_COUNT, DEFAULT_LOG_SIZE,
    DEFAULT_MAXDELAY, SETTINGS_FILE, SHUTDOWN_STAMP, WorkerOptions, create_worker,
    parse_allow_shutdown, parse_umask, validate_master, validate_nameserver,
};
