//! The connection to the master: sessions, reconnection with backoff, `maxretries`.

mod backoff;
mod handshake;
mod resolve;
mod session;

use nix::sys::stat::Mode;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::options::{WorkerOptions, validate_master, validate_nameserver};
use backoff::Backoff;
use session::SessionEnd;

/// Runs the worker: connects to the master, serves its commands and reconnects whenever the
/// connection is lost.
///
/// Returns `Ok(())` when `shutdown` is cancelled (running commands are interrupted and reported
/// first) or when the master tells the worker to shut down, and an error when `maxretries`
/// consecutive connection attempts failed. A successful session resets the count.
pub async fn run(mut options: WorkerOptions, shutdown: CancellationToken) -> Result<()> {
    validate_master(&options.master)?;
    if let Some(nameserver) = &options.nameserver {
        validate_nameserver(nameserver)?;
    }
    options.basedir = std::path::absolute(&options.basedir)
        .map_err(|e| Error::io("resolve", &options.basedir, e))?;
    std::fs::create_dir_all(&options.basedir)
        .map_err(|e| Error::io("create", &options.basedir, e))?;
    if let Some(mask) = options.umask {
        let previous = nix::sys::stat::umask(Mode::from_bits_truncate(mask as nix::libc::mode_t));
        tracing::info!(
            umask = format!("0o{mask:03o}"),
            previous = format!("0o{:03o}", previous.bits()),
            "umask set"
        );
    }
    tracing::info!(
        master = %options.master,
        nameserver = options.nameserver.as_deref().unwrap_or("system"),
        name = %options.name,
        basedir = %options.basedir.display(),
        "worker starting"
    );

    let mut backoff = Backoff::new(options.maxdelay);
    let mut failures: u32 = 0;
    loop {
        match session::run_session(&options, &shutdown).await {
            Ok(SessionEnd::Shutdown) => {
                tracing::info!("worker stopped");
                return Ok(());
            }
            Ok(SessionEnd::MasterShutdown) => {
                tracing::info!("worker stopped at the master's request");
                return Ok(());
            }
            Ok(SessionEnd::Lost(reason)) => {
                tracing::warn!(%reason, "lost the connection to the master");
                failures = 0;
                backoff.reset();
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                // A refusal was already logged, with advice, where it was received.
                if !matches!(error, Error::Refused(_)) {
                    tracing::warn!(%error, attempt = failures, "connection attempt failed");
                }
                if let Some(maxretries) = options.maxretries
                    && failures >= maxretries
                {
                    tracing::error!(
                        attempts = failures,
                        "giving up on the master (maxretries reached)"
                    );
                    return Err(Error::RetriesExhausted {
                        attempts: failures,
                        last_error: error.to_string(),
                    });
                }
            }
        }
        if shutdown.is_cancelled() {
            tracing::info!("worker stopped");
            return Ok(());
        }
        let delay = backoff.next_delay();
        tracing::info!(
            delay_s = delay.as_secs_f64(),
            "reconnecting to the master in {:.1} s",
            delay.as_secs_f64()
        );
        tokio::select! {
            () = shutdown.cancelled() => {
                tracing::info!("worker stopped");
                return Ok(());
            }
            () = tokio::time::sleep(delay) => {}
        }
    }
}
