//! The worker's settings: what `create-worker` writes to `DIR/worker.json` and `start` reads back.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the settings file inside the worker directory.
pub const SETTINGS_FILE: &str = "worker.json";

/// Buildbot's defaults for `--keepalive` and `--maxdelay`.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(600);
/// Longest wait between two connection attempts, by default.
pub const DEFAULT_MAXDELAY: Duration = Duration::from_secs(300);

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
    /// Interval between keepalives sent to the master (zero disables them).
    pub keepalive: Duration,
    /// Longest wait between two connection attempts.
    pub maxdelay: Duration,
    /// Stop after this many consecutive failed connection attempts (`None`: retry for ever).
    pub maxretries: Option<u32>,
    /// Umask set when the worker starts (`None`: keep the inherited one).
    pub umask: Option<u32>,
    /// The DNS server (`HOST:PORT`) that resolves the master's name (`None`: the system's
    /// resolver, with `/etc/hosts`).
    pub nameserver: Option<String>,
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
            .finish()
    }
}

/// The on-disk form of [`WorkerOptions`] (the base directory is where the file is).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    master: String,
    name: String,
    password: String,
    #[serde(default = "default_keepalive_s")]
    keepalive_s: u64,
    #[serde(default = "default_maxdelay_s")]
    maxdelay_s: u64,
    #[serde(default)]
    maxretries: Option<u32>,
    #[serde(default)]
    umask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nameserver: Option<String>,
}

fn default_keepalive_s() -> u64 {
    DEFAULT_KEEPALIVE.as_secs()
}

fn default_maxdelay_s() -> u64 {
    DEFAULT_MAXDELAY.as_secs()
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
        }
    }

    /// Reads `DIR/worker.json`; the returned base directory is `dir` made absolute.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotConfigured {
                    dir: dir.to_path_buf(),
                    settings: path,
                });
            }
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let settings: Settings = serde_json::from_str(&text).map_err(|e| Error::BadSettings {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        validate_master(&settings.master)?;
        if let Some(nameserver) = &settings.nameserver {
            validate_nameserver(nameserver)?;
        }
        let umask = settings.umask.as_deref().map(parse_umask).transpose()?;
        let basedir = std::path::absolute(dir).map_err(|e| Error::io("resolve", dir, e))?;
        Ok(Self {
            basedir,
            master: settings.master,
            name: settings.name,
            password: settings.password,
            keepalive: Duration::from_secs(settings.keepalive_s),
            maxdelay: Duration::from_secs(settings.maxdelay_s),
            maxretries: settings.maxretries,
            umask,
            nameserver: settings.nameserver,
        })
    }

    fn to_settings(&self) -> Settings {
        Settings {
            master: self.master.clone(),
            name: self.name.clone(),
            password: self.password.clone(),
            keepalive_s: self.keepalive.as_secs(),
            maxdelay_s: self.maxdelay.as_secs(),
            maxretries: self.maxretries,
            umask: self.umask.map(|m| format!("0o{m:03o}")),
            nameserver: self.nameserver.clone(),
        }
    }
}

/// Parses a umask written in octal: `0o22`, `022` or `22`.
pub fn parse_umask(text: &str) -> Result<u32> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("0o")
        .or_else(|| trimmed.strip_prefix("0O"))
        .unwrap_or(trimmed);
    match u32::from_str_radix(digits, 8) {
        Ok(mask) if mask <= 0o777 && !digits.is_empty() => Ok(mask),
        _ => Err(Error::BadUmask(text.to_owned())),
    }
}

/// Checks that `master` is `HOST:PORT` with a numeric port (`[::1]:9989` for IPv6).
pub fn validate_master(master: &str) -> Result<()> {
    is_host_port(master)
        .then_some(())
        .ok_or_else(|| Error::BadMasterAddress(master.to_owned()))
}

/// Checks that the `--nameserver` is `HOST:PORT` (`127.0.0.1:8600`, `[::1]:53`).
pub fn validate_nameserver(nameserver: &str) -> Result<()> {
    is_host_port(nameserver)
        .then_some(())
        .ok_or_else(|| Error::BadNameserver(nameserver.to_owned()))
}

fn is_host_port(text: &str) -> bool {
    let Some((host, port)) = text.rsplit_once(':') else {
        return false;
    };
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return false;
    }
    let bracketed = host.starts_with('[') && host.ends_with(']');
    !host.contains(':') || bracketed
}

/// What `create-worker` puts in `info/admin` when the file does not exist yet.
pub const DEFAULT_ADMIN: &str = "Your Name Here <admin@youraddress.invalid>";

/// Creates the worker directory: its settings file and the `info/` files the master shows.
///
/// Existing `info/` files are kept (an administrator may have edited them); the settings are
/// overwritten only with `force`.
pub fn create_worker(options: &WorkerOptions, force: bool) -> Result<()> {
    validate_master(&options.master)?;
    if let Some(nameserver) = &options.nameserver {
        validate_nameserver(nameserver)?;
    }
    if options.name.is_empty() {
        return Err(Error::BadSettings {
            path: options.basedir.join(SETTINGS_FILE),
            reason: "the worker name is empty".into(),
        });
    }
    let dir = &options.basedir;
    let settings_path = dir.join(SETTINGS_FILE);
    if settings_path.exists() && !force {
        return Err(Error::AlreadyConfigured {
            dir: dir.clone(),
            settings: settings_path,
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let json =
        serde_json::to_string_pretty(&options.to_settings()).map_err(|e| Error::BadSettings {
            path: settings_path.clone(),
            reason: e.to_string(),
        })?;
    write_private(&settings_path, format!("{json}\n").as_bytes())?;

    let info = dir.join("info");
    std::fs::create_dir_all(&info).map_err(|e| Error::io("create", &info, e))?;
    write_if_missing(&info.join("admin"), &format!("{DEFAULT_ADMIN}\n"))?;
    write_if_missing(
        &info.join("host"),
        &format!("{}\n", crate::info::host_description()),
    )?;
    Ok(())
}

/// The settings hold the password, so only the worker's account may read them.
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("write", path, e))?;
    // An existing file keeps its mode through open(), so tighten it explicitly.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("chmod", path, e))?;
    file.write_all(contents)
        .map_err(|e| Error::io("write", path, e))
}

fn write_if_missing(path: &Path, contents: &str) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| Error::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nameserver_is_stored_in_worker_json_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut options = WorkerOptions::new(dir.path(), "workers.ci.test:9989", "w1", "pw");
        options.nameserver = Some("127.0.0.1:8600".into());
        create_worker(&options, false).expect("created");
        let text = std::fs::read_to_string(dir.path().join(SETTINGS_FILE)).expect("settings");
        assert!(
            text.contains("\"nameserver\": \"127.0.0.1:8600\""),
            "{text}"
        );
        let loaded = WorkerOptions::load(dir.path()).expect("loaded");
        assert_eq!(loaded.nameserver.as_deref(), Some("127.0.0.1:8600"));
    }

    #[test]
    fn a_nameserver_without_a_port_is_refused_with_an_example() {
        let error = validate_nameserver("127.0.0.1").expect_err("no port");
        assert!(error.to_string().contains("127.0.0.1:8600"), "{error}");
        assert!(validate_nameserver("[::1]:53").is_ok());
        assert!(validate_nameserver("dns.ci.test:8600").is_ok());
    }
}
