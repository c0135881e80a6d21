//! `create-worker` and the checks every option goes through.

use std::path::Path;

use super::{AllowShutdown, SETTINGS_FILE, WorkerOptions};
use crate::connection::endpoint::{parse_connection_string, parse_proxy_connection_string};
use crate::error::{Error, Result};

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

/// Parses `--allow-shutdown`: `signal` or `file`.
pub fn parse_allow_shutdown(text: &str) -> Result<AllowShutdown> {
    match text {
        "signal" => Ok(AllowShutdown::Signal),
        "file" => Ok(AllowShutdown::File),
        other => Err(Error::BadAllowShutdown(other.to_owned())),
    }
}

/// Checks every option that has a syntax: the master address, the nameserver and the
/// connection strings.
pub(crate) fn validate(options: &WorkerOptions) -> Result<()> {
    validate_master(&options.master)?;
    if let Some(nameserver) = &options.nameserver {
        validate_nameserver(nameserver)?;
    }
    if let Some(text) = &options.connection_string {
        parse_connection_string(text)?;
    }
    if let Some(text) = &options.proxy_connection_string {
        parse_proxy_connection_string(text)?;
    }
    if options.max_builds == Some(0) {
        return Err(Error::BadSettings {
            path: options.basedir.join(SETTINGS_FILE),
            reason: "max_builds must be at least 1".into(),
        });
    }
    Ok(())
}

/// What `create-worker` puts in `info/admin` when the file does not exist yet.
pub const DEFAULT_ADMIN: &str = "Your Name Here <admin@youraddress.invalid>";

/// Creates the worker directory: its settings file and the `info/` files the master shows.
///
/// Existing `info/` files are kept (an administrator may have edited them); the settings are
/// overwritten only with `force`.
pub fn create_worker(options: &WorkerOptions, force: bool) -> Result<()> {
    validate(options)?;
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
