//! The connection to the master: sessions, reconnection with backoff, `maxretries`.

mod backoff;
mod dial;
pub(crate) mod endpoint;
mod handshake;
mod leftovers;
mod resolve;
mod session;
mod shutdown_requests;
mod tls;

use nix::sys::stat::Mode;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::options::WorkerOptions;
use backoff::Backoff;
use dial::Target;
use session::SessionEnd;

/// Runs the worker: connects to the master, serves its commands and reconnects whenever the
/// connection is lost.
///
/// Returns `Ok(())` when `shutdown` is cancelled (running commands are interrupted and reported
/// first) or when the master tells the worker to shut down, and an error when `maxretries`
/// consecutive connection attempts failed. A successful session resets the count.
pub async fn run(options: WorkerOptions, shutdown: CancellationToken) -> Result<()> {
    run_with_shutdown_requests(options, shutdown, CancellationToken::new()).await
}

/// [`run`], where cancelling `request_shutdown` asks the master for a graceful shutdown (what
/// SIGHUP does with `--allow-shutdown signal`): the master lets the running builds finish,
/// gives this worker no new one, then tells it to stop. Without a session the worker stops at
/// once, as Buildbot's does. With `--allow-shutdown file` the worker also watches
/// `DIR/shutdown.stamp` itself.
pub async fn run_with_shutdown_requests(
    mut options: WorkerOptions,
    shutdown: CancellationToken,
    request_shutdown: CancellationToken,
) -> Result<()> {
    crate::options::validate(&options)?;
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
    let target = target(&options)?;
    if options.allow_shutdown == Some(crate::options::AllowShutdown::File) {
        let stamp = options.basedir.join(crate::options::SHUTDOWN_STAMP);
        tokio::spawn(shutdown_requests::watch_stamp(
            stamp,
            request_shutdown.clone(),
            shutdown.clone(),
        ));
    }
    tracing::info!(
        master = %target.endpoint.address(),
        tls = target.endpoint.tls,
        proxy = target.proxy.as_ref().map(|p| p.address()).unwrap_or_default(),
        nameserver = options.nameserver.as_deref().unwrap_or("system"),
        name = %options.name,
        basedir = %options.basedir.display(),
        "worker starting"
    );

    let mut backoff = Backoff::new(options.maxdelay);
    let mut failures: u32 = 0;
    loop {
        if request_shutdown.is_cancelled() {
            tracing::info!("graceful shutdown asked for while not connected: stopping now");
            return Ok(());
        }
        match session::run_session(&options, &target, &shutdown, &request_shutdown).await {
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
            () = request_shutdown.cancelled() => {
                tracing::info!("graceful shutdown asked for while not connected: stopping now");
                return Ok(());
            }
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Where and how to dial, from the options: `--connection-string` wins over the positional
/// master and `--use-tls`; `trustRoots=` in it wins over `--ca-certs`.
fn target(options: &WorkerOptions) -> Result<Target> {
    let endpoint = match &options.connection_string {
        Some(text) => endpoint::parse_connection_string(text)?,
        None => {
            let (host, port) = options
                .master
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                .ok_or_else(|| Error::BadMasterAddress(options.master.clone()))?;
            endpoint::MasterEndpoint {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port,
                tls: options.use_tls,
                trust_roots: None,
            }
        }
    };
    let proxy = options
        .proxy_connection_string
        .as_deref()
        .map(endpoint::parse_proxy_connection_string)
        .transpose()?;
    let tls = if endpoint.tls {
        let roots = endpoint
            .trust_roots
            .as_deref()
            .or(options.ca_certs.as_deref());
        let roots = roots.map(|p| options.basedir.join(p));
        Some(tls::client_config(roots.as_deref())?)
    } else {
        None
    };
    Ok(Target {
        endpoint,
        nameserver: options.nameserver.clone(),
        proxy,
        tls,
        keepalive: options.keepalive,
    })
}
