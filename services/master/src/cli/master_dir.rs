//! The master directory: master.cfg, the pid file, the log, and commands that act on them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrobot_config::MasterConfig;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{Error, Result};

/// The sample written by `create-master`.
pub const SAMPLE_CONFIG: &str = include_str!("templates/master.cfg.sample");

/// DIR/master.cfg, or the path itself when it is a file.
pub fn config_path(dir: &Path) -> PathBuf {
    if dir.is_file() {
        dir.to_path_buf()
    } else {
        dir.join("master.cfg")
    }
}

/// DIR/ferrobot.pid, or DIR/ferrobot-NAME.pid for a master started with `--name NAME`, so that
/// several masters of a cluster can run from one directory (one shared master.cfg).
pub fn pid_path(dir: &Path, name: Option<&str>) -> PathBuf {
    dir.join(format!("ferrobot{}.pid", name_suffix(name)))
}

/// DIR/ferrobot.log, or DIR/ferrobot-NAME.log for a master started with `--name NAME`.
pub fn log_path(dir: &Path, name: Option<&str>) -> PathBuf {
    dir.join(format!("ferrobot{}.log", name_suffix(name)))
}

/// `-NAME` with every character outside `[A-Za-z0-9._-]` replaced by `_`.
fn name_suffix(name: Option<&str>) -> String {
    match name {
        None => String::new(),
        Some(name) => {
            let safe: String = name
                .chars()
                .map(|c| match c {
                    'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
                    _ => '_',
                })
                .collect();
            format!("-{safe}")
        }
    }
}

/// Loads DIR/master.cfg.
pub fn load_config(dir: &Path) -> Result<MasterConfig> {
    let path = config_path(dir);
    if !path.exists() {
        return Err(Error::BadRequest(format!(
            "{} does not exist: write one (a sample is in master.cfg.sample)",
            path.display()
        )));
    }
    Ok(ferrobot_config::load(&path)?)
}

/// `create-master`: the directory, master.cfg.sample, and the database of the default URL.
pub async fn create_master(dir: &Path, force: bool) -> Result<()> {
    if config_path(dir).is_file() && !force {
        println!(
            "{} already holds a master.cfg; leaving it alone",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let sample = dir.join("master.cfg.sample");
    std::fs::write(&sample, SAMPLE_CONFIG)
        .map_err(|e| Error::io(format!("writing {}", sample.display()), e))?;
    let db_url = match load_config(dir) {
        Ok(config) => config.db_url,
        Err(_) => "sqlite:///state.sqlite".to_owned(),
    };
    ferrobot_store::upgrade(&db_url, dir).await?;
    println!(
        "created master in {} (copy master.cfg.sample to master.cfg and edit it)",
        dir.display()
    );
    Ok(())
}

/// `checkconfig`.
pub fn checkconfig(dir: &Path, dump: bool) -> Result<()> {
    let config = load_config(dir)?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    if dump {
        let json = serde_json::to_string_pretty(&config)
            .map_err(|e| Error::Internal(format!("config not serializable: {e}")))?;
        println!("{json}");
    } else {
        println!("Config file is good!");
    }
    Ok(())
}

/// `upgrade-master`.
pub async fn upgrade_master(dir: &Path) -> Result<()> {
    let config = load_config(dir)?;
    ferrobot_store::upgrade(&config.db_url, dir).await?;
    println!("upgrade complete");
    Ok(())
}

/// The pid of a live master in DIR (of that name), if any.
pub fn running_pid(dir: &Path, name: Option<&str>) -> Option<Pid> {
    let text = std::fs::read_to_string(pid_path(dir, name)).ok()?;
    let pid = Pid::from_raw(text.trim().parse().ok()?);
    is_alive(pid).then_some(pid)
}

/// A process that exited but was not yet reaped by its parent (a zombie) counts as gone.
fn is_alive(pid: Pid) -> bool {
    if kill(pid, None).is_err() {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    state != Some("Z")
}

fn require_running(dir: &Path, name: Option<&str>) -> Result<Pid> {
    running_pid(dir, name).ok_or_else(|| {
        Error::BadRequest(format!(
            "no master is running in {} (no live {})",
            dir.display(),
            pid_path(dir, name).display()
        ))
    })
}

/// `stop`: SIGTERM, then wait (bounded) for the process to go.
pub async fn stop(dir: &Path, name: Option<&str>) -> Result<()> {
    let pid = require_running(dir, name)?;
    kill(pid, Signal::SIGTERM).map_err(|e| Error::Internal(format!("cannot signal {pid}: {e}")))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while is_alive(pid) {
        if tokio::time::Instant::now() > deadline {
            return Err(Error::Internal(format!(
                "master {pid} still running after 60 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("master stopped");
    Ok(())
}

/// `reconfig`: SIGHUP, then follow the log until the master says how it went.
pub async fn reconfig(dir: &Path, name: Option<&str>) -> Result<()> {
    let pid = require_running(dir, name)?;
    let log = log_path(dir, name);
    let start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    kill(pid, Signal::SIGHUP).map_err(|e| Error::Internal(format!("cannot signal {pid}: {e}")))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        let text = std::fs::read(&log).unwrap_or_default();
        let fresh =
            String::from_utf8_lossy(text.get(start as usize..).unwrap_or_default()).into_owned();
        if fresh.contains("reconfig complete") {
            println!("reconfig complete");
            return Ok(());
        }
        if let Some(line) = fresh.lines().find(|l| l.contains("reconfig failed")) {
            return Err(Error::BadRequest(line.to_owned()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Error::Internal(
        "the master did not report on the reconfig within 30 s; see ferrobot.log".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_masters_get_pid_and_log_files_of_their_own() {
        let dir = Path::new("/srv/ci");
        assert_eq!(pid_path(dir, None), dir.join("ferrobot.pid"));
        assert_eq!(log_path(dir, None), dir.join("ferrobot.log"));
        assert_eq!(
            pid_path(dir, Some("builder1")),
            dir.join("ferrobot-builder1.pid")
        );
        assert_eq!(
            log_path(dir, Some("host:/srv/ci")),
            dir.join("ferrobot-host__srv_ci.log"),
            "characters that do not belong in a file name become _"
        );
    }
}
