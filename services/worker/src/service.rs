//! `start` and `stop`: the worker process in the foreground, its pid file and its signals.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::options::WorkerOptions;

/// Name of the pid file inside the worker directory.
pub const PID_FILE: &str = "worker.pid";
/// Name of the log file inside the worker directory.
pub const LOG_FILE: &str = "worker.log";

/// How long `stop` waits for the worker to exit.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the worker in the foreground until SIGTERM or SIGINT (or the master's shutdown, or
/// `maxretries`), holding `DIR/worker.pid` meanwhile. A second signal exits at once. With
/// `--allow-shutdown signal`, SIGHUP asks the master for a graceful shutdown.
pub async fn start(options: WorkerOptions) -> Result<()> {
    let pid_file = PidFile::create(&options.basedir)?;
    let shutdown = CancellationToken::new();
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| Error::io("watch", "SIGTERM", e))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| Error::io("watch", "SIGINT", e))?;
    let signals = {
        let shutdown = shutdown.clone();
        let pid_path = pid_file.path.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            tracing::info!(signal = name, "received signal, shutting down");
            shutdown.cancel();
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            tracing::warn!("second signal, exiting at once");
            let _ = std::fs::remove_file(&pid_path);
            std::process::exit(1);
        })
    };
    let request_shutdown = CancellationToken::new();
    let hangups = if options.allow_shutdown == Some(crate::AllowShutdown::Signal) {
        let mut hangup =
            signal(SignalKind::hangup()).map_err(|e| Error::io("watch", "SIGHUP", e))?;
        let request = request_shutdown.clone();
        Some(tokio::spawn(async move {
            if hangup.recv().await.is_some() {
                tracing::info!("received SIGHUP: asking the master for a graceful shutdown");
                request.cancel();
            }
            // Further SIGHUPs are swallowed here rather than killing the worker.
            while hangup.recv().await.is_some() {}
        }))
    } else {
        None
    };
    let outcome = crate::run_with_shutdown_requests(options, shutdown, request_shutdown).await;
    signals.abort();
    if let Some(hangups) = hangups {
        hangups.abort();
    }
    drop(pid_file);
    outcome
}

/// Sends SIGTERM to the worker whose pid is in `DIR/worker.pid` and waits until it is gone.
pub async fn stop(dir: &Path, timeout: Duration) -> Result<i32> {
    let path = dir.join(PID_FILE);
    let pid = match read_pid(&path)? {
        Some(pid) => pid,
        None => {
            return Err(Error::NotRunning {
                dir: dir.to_path_buf(),
                reason: format!("no {PID_FILE}"),
            });
        }
    };
    match kill(Pid::from_raw(pid), Signal::SIGTERM) {
        Ok(()) => {}
        Err(Errno::ESRCH) => {
            let _ = std::fs::remove_file(&path);
            return Err(Error::NotRunning {
                dir: dir.to_path_buf(),
                reason: format!("stale {PID_FILE}: pid {pid} does not exist, removed it"),
            });
        }
        Err(source) => {
            return Err(Error::Sys {
                action: "send SIGTERM to the worker",
                source,
            });
        }
    }
    let deadline = tokio::time::Instant::now() + timeout;
    // Another process's exit cannot be awaited, so poll it.
    while alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::StopTimedOut {
                pid,
                waited_s: timeout.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(pid)
}

/// Whether `pid` still runs; an exited process its parent has not reaped yet (a zombie) does not.
fn alive(pid: i32) -> bool {
    if matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH)) {
        return false;
    }
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        });
    zombie != Some(true)
}

fn read_pid(path: &Path) -> Result<Option<i32>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse::<i32>()
            .map(Some)
            .map_err(|_| Error::BadSettings {
                path: path.to_path_buf(),
                reason: format!("not a process id: {:?}", text.trim()),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// `DIR/worker.pid`, removed when dropped.
struct PidFile {
    path: PathBuf,
}

impl PidFile {
    fn create(dir: &Path) -> Result<Self> {
        let path = dir.join(PID_FILE);
        if let Some(pid) = read_pid(&path).ok().flatten()
            && pid != std::process::id() as i32
            && alive(pid)
        {
            return Err(Error::AlreadyRunning {
                dir: dir.to_path_buf(),
                pid,
            });
        }
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .map_err(|e| Error::io("write", &path, e))?;
        Ok(Self { path })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(file = %self.path.display(), error = %e, "cannot remove the pid file");
        }
    }
}
