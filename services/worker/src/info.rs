//! What the worker tells the master about itself in its Hello.

use std::collections::HashMap;
use std::path::Path;

use ferrobot_protocol::{COMMAND_VERSION, COMMANDS};

/// The keys Buildbot always reports from `/etc/os-release`, empty when unknown.
const ALWAYS_PRESENT_OS_KEYS: &[&str] = &["id", "id_like", "version_id", "version_codename"];

/// A one-line description of this host for `info/host`: hostname, OS, kernel, CPUs.
pub fn host_description() -> String {
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into());
    let os = read_os_release(Path::new("/etc/os-release"))
        .get("pretty_name")
        .cloned()
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    let kernel = nix::sys::utsname::uname()
        .map(|u| {
            format!(
                "{} {} {}",
                u.sysname().to_string_lossy(),
                u.release().to_string_lossy(),
                u.machine().to_string_lossy()
            )
        })
        .unwrap_or_else(|_| std::env::consts::ARCH.to_owned());
    format!("{hostname}: {os} ({kernel}), {} CPUs", num_cpus())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The `info` map of the Hello: every file of `basedir/info/` (trimmed), `os_*` fields from
/// `/etc/os-release`, `version`, `numcpus`, `system` and `basedir`.
pub fn worker_info(basedir: &Path) -> HashMap<String, String> {
    let mut info = HashMap::new();
    let os_release = read_os_release(Path::new("/etc/os-release"));
    for key in ALWAYS_PRESENT_OS_KEYS {
        info.insert(format!("os_{key}"), String::new());
    }
    for (key, value) in os_release {
        info.insert(format!("os_{key}"), value);
    }
    info.extend(read_info_dir(&basedir.join("info")));
    info.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    info.insert("numcpus".into(), num_cpus().to_string());
    info.insert("system".into(), "posix".into());
    info.insert("basedir".into(), basedir.display().to_string());
    info
}

/// The `commands` map of the Hello.
pub fn worker_commands() -> HashMap<String, String> {
    COMMANDS
        .iter()
        .map(|name| ((*name).to_owned(), COMMAND_VERSION.to_owned()))
        .collect()
}

/// Reads every regular file of the info directory; editor backups and hidden files are skipped
/// because they are not meant for the master.
fn read_info_dir(dir: &Path) -> HashMap<String, String> {
    let mut info = HashMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read the worker info directory");
            return info;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                info.insert(name, String::from_utf8_lossy(&bytes).trim().to_owned());
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read worker info file")
            }
        }
    }
    info
}

/// Parses os-release(5): `KEY=value` lines, values optionally quoted; keys are lowercased.
fn read_os_release(path: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    parse_os_release(&text)
}

fn parse_os_release(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_lowercase(), unquote(value.trim())))
        .collect()
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner.replace("\\\"", "\"").replace("\\\\", "\\");
        }
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_are_unquoted_and_keys_lowercased() {
        let parsed = parse_os_release(
            "# comment\nNAME=\"Debian GNU/Linux\"\nVERSION_ID='12'\nID=debian\n\nBROKEN\n",
        );
        assert_eq!(
            parsed.get("name").map(String::as_str),
            Some("Debian GNU/Linux")
        );
        assert_eq!(parsed.get("version_id").map(String::as_str), Some("12"));
        assert_eq!(parsed.get("id").map(String::as_str), Some("debian"));
        assert_eq!(parsed.len(), 3);
    }
}
