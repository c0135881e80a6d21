//! The worker's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the worker library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What the worker was doing ("create", "read", "write", ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// `create-worker` found a configured worker directory and `--force` was not given.
    #[error(
        "{} already holds a configured worker ({}); use --force to overwrite its settings",
        dir.display(),
        settings.display()
    )]
    AlreadyConfigured {
        /// The worker directory.
        dir: PathBuf,
        /// Its settings file.
        settings: PathBuf,
    },

    /// A directory without worker settings was given to `start` or loaded.
    #[error("{} is not a worker directory (no {}); run `ferrobot-worker create-worker` first", dir.display(), settings.display())]
    NotConfigured {
        /// The directory.
        dir: PathBuf,
        /// The settings file that is missing.
        settings: PathBuf,
    },

    /// The settings file exists but cannot be understood.
    #[error("bad worker settings in {}: {reason}", path.display())]
    BadSettings {
        /// The settings file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The master address is not `HOST:PORT`.
    #[error("bad master address {0:?}: expected HOST:PORT, e.g. buildmaster.example.org:9989")]
    BadMasterAddress(String),

    /// The `--nameserver` is not `HOST:PORT`.
    #[error("bad nameserver {0:?}: expected HOST:PORT of a DNS server, e.g. 127.0.0.1:8600")]
    BadNameserver(String),

    /// The umask is not an octal number.
    #[error("bad umask {0:?}: expected an octal number such as 0o22 or 022")]
    BadUmask(String),

    /// A `--connection-string` or `--proxy-connection-string` outside the accepted subset.
    #[error("bad {option} {value:?}: {reason}")]
    BadConnectionString {
        /// The option (`--connection-string`, `--proxy-connection-string`).
        option: &'static str,
        /// The string as given.
        value: String,
        /// What is wrong, with the accepted forms.
        reason: String,
    },

    /// The trust roots for `--use-tls` could not be loaded.
    #[error("cannot load TLS trust roots from {}: {reason}", path.display())]
    TrustRoots {
        /// The `--ca-certs` file or directory (or the system store).
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// `--allow-shutdown` is neither `signal` nor `file`.
    #[error("bad allow-shutdown {0:?}: expected 'signal' or 'file'")]
    BadAllowShutdown(String),

    /// Connecting to the master failed (refused, unreachable, DNS, ...).
    #[error("cannot connect to master {master}: {reason}")]
    Connect {
        /// The master address as configured.
        master: String,
        /// Why.
        reason: String,
    },

    /// The master refused this worker (unknown name, wrong password, ...).
    #[error("master refused this worker: {0}")]
    Refused(String),

    /// The session broke: the master closed it, the stream failed or it spoke out of turn.
    #[error("session with the master lost: {0}")]
    SessionLost(String),

    /// `maxretries` consecutive connection attempts failed.
    #[error("giving up after {attempts} failed connection attempts; last error: {last_error}")]
    RetriesExhausted {
        /// How many attempts failed in a row.
        attempts: u32,
        /// The last failure.
        last_error: String,
    },

    /// `start` found a pid file whose process is still alive.
    #[error("the worker in {} is already running (pid {pid})", dir.display())]
    AlreadyRunning {
        /// The worker directory.
        dir: PathBuf,
        /// The running process.
        pid: i32,
    },

    /// `stop` found no running worker.
    #[error("no worker is running in {} ({})", dir.display(), reason)]
    NotRunning {
        /// The worker directory.
        dir: PathBuf,
        /// Why the worker is believed not to run.
        reason: String,
    },

    /// `stop` signalled the worker but it did not exit in time.
    #[error("the worker (pid {pid}) did not exit within {waited_s} s")]
    StopTimedOut {
        /// The worker's process id.
        pid: i32,
        /// How long `stop` waited.
        waited_s: u64,
    },

    /// A system call failed (signals, process groups).
    #[error("{action}: {source}")]
    Sys {
        /// What the worker was doing.
        action: &'static str,
        /// The errno.
        #[source]
        source: nix::errno::Errno,
    },

    /// Logging could not be set up.
    #[error("cannot set up logging: {0}")]
    Logging(String),
}

impl Error {
    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The worker library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
