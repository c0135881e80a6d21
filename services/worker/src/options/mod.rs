//! The worker's settings: what `create-worker` writes to `DIR/worker.json` and `start` reads back.

mod create;
mod settings;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use create::validate;
pub use create::{
    DEFAULT_ADMIN, create_worker, parse_allow_shutdown, parse_umask, validate_master,
    validate_nameserver,
};

/// Name of the settings file inside the worker directory.
pub const SETTINGS_FILE: &str = "worker.json";

/// Buildbot's defaults for `--keepalive` and `--maxdelay`.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(600);
/// Longest wait between two connection attempts, by default.
pub const DEFAULT_MAXDELAY: Duration = Duration::from_secs(300);
/// Buildbot's `--log-size` default: rotate `worker.log` past 10 MB.
pub const DEFAULT_LOG_SIZE: u64 = 10_000_000;
/// Buildbot's `--log-count` default: keep 10 rotated files.
pub const DEFAULT_LOG_COUNT: u32 = 10;
/// The file whose mtime asks for a graceful shutdown with `--allow-shutdown file`.
pub const SHUTDOWN_STAMP: &str = "shutdown.stamp";

/// How the worker may ask the master for a graceful shutdown (`--allow-shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowShutdown {
    /// On SIGHUP.
    Signal,
    /// When the mtime of `DIR/shutdown.stamp` changes.
    File,
}

impl AllowShutdown {
    /// The option's value, as Buildbot spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AllowShutdown::Signal => "signal",
            AllowShutdown::File => "file",
        }
    }
}

/// Everything a worker needs to run.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// The worker's base directory (absolute once loaded).
    pub basedir: PathBuf,
    /// The master as `host:port`.
    pub master: String,
    /// The worker's name, as in the master's `c['workers']`.
    pub name: String,
    /// The worker's password.
    pub password: String,
    /// Interval between keepalives sent to the master (zero disables them); also how often the
    /// worker pings the master and how long it waits for an answer (at most 30 s / 20 s), so a
    /// master that vanished is noticed within about twice this.
    pub keepalive: Duration,
    /// Longest wait between two connection attempts.
    pub maxdelay: Duration,
    /// Stop after this many consecutive failed connection attempts (`None`: retry for ever).
    pub maxretries: Option<u32>,
    /// Umask set when the worker starts (`None`: keep the inherited one).
    pub umask: Option<u32>,
    /// The DNS server (`HOST:PORT`) that resolves the master's name (`None`: hickory-resolver
    /// with the system's `resolv.conf` and `/etc/hosts`).
    pub nameserver: Option<String>,
    /// `--use-tls`: speak TLS to the master and check its certificate.
    pub use_tls: bool,
    /// `--ca-certs`: a PEM file or directory of CA certificates trusted besides the system's.
    pub ca_certs: Option<PathBuf>,
    /// `--connection-string`: a Twisted client endpoint; overrides `master` and `use_tls`.
    pub connection_string: Option<String>,
    /// `--proxy-connection-string`: an HTTP proxy the connection is tunnelled through.
    pub proxy_connection_string: Option<String>,
    /// `--allow-shutdown`: how a graceful shutdown may be asked for on this host.
    pub allow_shutdown: Option<AllowShutdown>,
    /// `--delete-leftover-dirs`: remove base-directory entries no builder of this worker uses.
    pub delete_leftover_dirs: bool,
    /// `--max-builds`: builds the master may run here at once (`None`: the master decides).
    pub max_builds: Option<u32>,
    /// `--log-size`: rotate `worker.log` once it is larger than this many bytes.
    pub log_size: u64,
    /// `--log-count`: rotated logs kept (`None`: keep all).
    pub log_count: Option<u32>,
    /// `--no-logrotate`: never rotate `worker.log`.
    pub no_logrotate: bool,
}

// The password stays out of logs.
impl fmt::Debug for WorkerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerOptions")
            .field("basedir", &self.basedir)
            .field("master", &self.master)
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("keepalive", &self.keepalive)
            .field("maxdelay", &self.maxdelay)
            .field("maxretries", &self.maxretries)
            .field("umask", &self.umask.map(|m| format!("0o{m:03o}")))
            .field("nameserver", &self.nameserver)
            .field("use_tls", &self.use_tls)
            .field("ca_certs", &self.ca_certs)
            .field("connection_string", &self.connection_string)
            .field("proxy_connection_string", &self.proxy_connection_string)
            .field("allow_shutdown", &self.allow_shutdown)
            .field("delete_leftover_dirs", &self.delete_leftover_dirs)
            .field("max_builds", &self.max_builds)
            .field("log_size", &self.log_size)
            .field("log_count", &self.log_count)
            .field("no_logrotate", &self.no_logrotate)
            .finish()
    }
}

impl WorkerOptions {
    /// Options with Buildbot's defaults for everything but the four required values.
    pub fn new(
        basedir: impl Into<PathBuf>,
        master: impl Into<String>,
        name: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            basedir: basedir.into(),
            master: master.into(),
            name: name.into(),
            password: password.into(),
            keepalive: DEFAULT_KEEPALIVE,
            maxdelay: DEFAULT_MAXDELAY,
            maxretries: None,
            umask: None,
            nameserver: None,
            use_tls: false,
            ca_certs: None,
            connection_string: None,
            proxy_connection_string: None,
            allow_shutdown: None,
            delete_leftover_dirs: false,
            max_builds: None,
            log_size: DEFAULT_LOG_SIZE,
            log_count: Some(DEFAULT_LOG_COUNT),
            no_logrotate: false,
        }
    }
}
