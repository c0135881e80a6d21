//! `ferrobot start DIR`: the master in the foreground until SIGTERM or SIGINT; SIGHUP reloads.

use std::net::SocketAddr;
use std::path::Path;

use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::master_dir::{load_config, log_path, pid_path, running_pid};
use crate::roles::Roles;
use crate::service::{MasterOptions, RunningMaster};
use crate::{Error, Result};

/// Binds `interface:port` (all interfaces when none is given).
pub async fn bind(interface: Option<&str>, port: u16, what: &str) -> Result<TcpListener> {
    let address = format!("{}:{port}", interface.unwrap_or("0.0.0.0"));
    TcpListener::bind(&address)
        .await
        .map_err(|e| Error::io(format!("cannot listen for {what} on {address}"), e))
}

/// What the command line overrides in master.cfg.
#[derive(Debug, Clone)]
pub struct StartOverrides {
    /// `--name`.
    pub name: Option<String>,
    /// `--roles`.
    pub roles: Roles,
    /// `--www-port`.
    pub www_port: Option<u16>,
    /// `--worker-port`.
    pub worker_port: Option<u16>,
    /// `--worker-listen`: the one address workers connect to (wins over `worker_port`).
    pub worker_listen: Option<SocketAddr>,
}

/// Runs the master in DIR until a stop signal.
pub async fn start(dir: &Path, overrides: StartOverrides) -> Result<()> {
    let name = overrides.name.as_deref();
    if let Some(pid) = running_pid(dir, name) {
        return Err(Error::Conflict(format!(
            "a master is already running in {} (pid {pid})",
            dir.display()
        )));
    }
    let _telemetry = ferrobot_telemetry::init(&ferrobot_telemetry::Options {
        log_file: Some(log_path(dir, name)),
        ..Default::default()
    })
    .map_err(|e| Error::Internal(format!("logging set-up failed: {e}")))?;
    let config = load_config(dir)?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let roles = overrides.roles;
    let www_listener = match roles.www {
        true => {
            let port = overrides.www_port.unwrap_or(config.www.port);
            Some(bind(config.www.interface.as_deref(), port, "the web server").await?)
        }
        false => None,
    };
    let worker_listener = match (roles.builder, overrides.worker_listen) {
        (true, Some(address)) => Some(
            TcpListener::bind(address)
                .await
                .map_err(|e| Error::io(format!("cannot listen for workers on {address}"), e))?,
        ),
        (true, None) => {
            let port = overrides.worker_port.unwrap_or(config.worker_port);
            Some(bind(config.worker_interface.as_deref(), port, "workers").await?)
        }
        (false, _) => None,
    };
    let pid_file = pid_path(dir, name);
    std::fs::write(&pid_file, std::process::id().to_string())
        .map_err(|e| Error::io(format!("writing {}", pid_file.display()), e))?;
    let cancel = CancellationToken::new();
    let options = MasterOptions {
        basedir: dir.to_path_buf(),
        config,
        name: overrides.name.clone(),
        roles,
        www_listener,
        worker_listener,
    };
    let outcome = run_until_signal(options, cancel).await;
    let _ = std::fs::remove_file(&pid_file);
    outcome
}

async fn run_until_signal(options: MasterOptions, cancel: CancellationToken) -> Result<()> {
    let dir = options.basedir.clone();
    let master = crate::service::start(options, cancel).await?;
    let public_url = master.ctx.config().buildbot_url.clone();
    tracing::info!(url = %public_url, "serving");
    let signal_error = |e| Error::io("installing signal handlers", e);
    let mut hangup = signal(SignalKind::hangup()).map_err(signal_error)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;
    loop {
        tokio::select! {
            _ = hangup.recv() => reload(&master, &dir).await,
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!("stopping: running builds end RETRY and run again later");
    master.shutdown().await;
    Ok(())
}

/// A broken master.cfg keeps the old configuration; the log says why.
async fn reload(master: &RunningMaster, dir: &Path) {
    tracing::info!("reconfig requested");
    let outcome = match load_config(dir) {
        Ok(config) => master.reconfig(config).await,
        Err(error) => Err(error),
    };
    if let Err(error) = outcome {
        tracing::error!("reconfig failed: {error}; keeping the old configuration");
    }
}
