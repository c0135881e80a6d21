//! The on-disk form of [`WorkerOptions`]: `DIR/worker.json` (the base directory is where the
//! file is).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::create::{parse_allow_shutdown, parse_umask, validate};
use super::{
    DEFAULT_KEEPALIVE, DEFAULT_LOG_COUNT, DEFAULT_LOG_SIZE, DEFAULT_MAXDELAY, SETTINGS_FILE,
    WorkerOptions,
};
use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Settings {
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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    use_tls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_certs: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connection_string: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proxy_connection_string: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow_shutdown: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    delete_leftover_dirs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_builds: Option<u32>,
    #[serde(default = "default_log_size")]
    log_size: u64,
    /// `null` keeps every rotated log.
    #[serde(default = "default_log_count")]
    log_count: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    no_logrotate: bool,
}

fn default_keepalive_s() -> u64 {
    DEFAULT_KEEPALIVE.as_secs()
}

fn default_maxdelay_s() -> u64 {
    DEFAULT_MAXDELAY.as_secs()
}

fn default_log_size() -> u64 {
    DEFAULT_LOG_SIZE
}

fn default_log_count() -> Option<u32> {
    Some(DEFAULT_LOG_COUNT)
}

impl WorkerOptions {
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
        let umask = settings.umask.as_deref().map(parse_umask).transpose()?;
        let allow_shutdown = settings
            .allow_shutdown
            .as_deref()
            .map(parse_allow_shutdown)
            .transpose()?;
        let basedir = std::path::absolute(dir).map_err(|e| Error::io("resolve", dir, e))?;
        let options = Self {
            basedir,
            master: settings.master,
            name: settings.name,
            password: settings.password,
            keepalive: Duration::from_secs(settings.keepalive_s),
            maxdelay: Duration::from_secs(settings.maxdelay_s),
            maxretries: settings.maxretries,
            umask,
            nameserver: settings.nameserver,
            use_tls: settings.use_tls,
            ca_certs: settings.ca_certs,
            connection_string: settings.connection_string,
            proxy_connection_string: settings.proxy_connection_string,
            allow_shutdown,
            delete_leftover_dirs: settings.delete_leftover_dirs,
            max_builds: settings.max_builds,
            log_size: settings.log_size,
            log_count: settings.log_count,
            no_logrotate: settings.no_logrotate,
        };
        validate(&options)?;
        Ok(options)
    }

    pub(super) fn to_settings(&self) -> Settings {
        Settings {
            master: self.master.clone(),
            name: self.name.clone(),
            password: self.password.clone(),
            keepalive_s: self.keepalive.as_secs(),
            maxdelay_s: self.maxdelay.as_secs(),
            maxretries: self.maxretries,
            umask: self.umask.map(|m| format!("0o{m:03o}")),
            nameserver: self.nameserver.clone(),
            use_tls: self.use_tls,
            ca_certs: self.ca_certs.clone(),
            connection_string: self.connection_string.clone(),
            proxy_connection_string: self.proxy_connection_string.clone(),
            allow_shutdown: self.allow_shutdown.map(|a| a.as_str().to_owned()),
            delete_leftover_dirs: self.delete_leftover_dirs,
            max_builds: self.max_builds,
            log_size: self.log_size,
            log_count: self.log_count,
            no_logrotate: self.no_logrotate,
        }
    }
}
