//! Dialling the master and the Hello / Welcome exchange.

use std::time::Duration;

use ferrobot_protocol::PROTOCOL_VERSION;
use ferrobot_protocol::v1::{
    Hello, WorkerMessage, master_message::Body as FromMaster, worker_message::Body as ToMaster,
    worker_service_client::WorkerServiceClient,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

use super::backoff::shuffle;
use super::dial::{Hop, Target};
use super::resolve::resolve;
use super::session::{OUTBOX_CAPACITY, Session, body_name};
use crate::error::{Error, Result};
use crate::info;
use crate::options::WorkerOptions;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 pings every so often; a master that does not answer one within the timeout is gone
/// (a crashed host, a cut cable), even while the worker has nothing to send.
const HTTP2_PING: Duration = Duration::from_secs(30);
const HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the master may take to answer the Hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Resolves the master's name to all its addresses (with the DNS server `nameserver` when one
/// is set) and tries them in random order, so that workers spread over the masters behind one
/// DNS name. Through a proxy, the proxy resolves the name.
pub(super) async fn connect(target: &Target) -> Result<(WorkerServiceClient<Channel>, String)> {
    let master = target.endpoint.address();
    let connect_error = |reason: String| Error::Connect {
        master: master.clone(),
        reason,
    };
    let hops: Vec<Hop> = if target.proxy.is_some() {
        vec![Hop::Proxied]
    } else {
        let mut addrs = resolve(&master, target.nameserver.as_deref())
            .await
            .map_err(&connect_error)?;
        shuffle(&mut addrs);
        tracing::debug!(%master, addresses = ?addrs, "trying the master's addresses in this order");
        addrs.into_iter().map(Hop::Direct).collect()
    };
    // Every address's failure is kept: "refused" on one must not hide a TLS error on another.
    let mut errors = Vec::new();
    for hop in hops {
        let shown = match &hop {
            Hop::Direct(addr) => addr.to_string(),
            Hop::Proxied => format!("{master} via proxy"),
        };
        let endpoint = Endpoint::from_shared(format!("http://{master}"))
            .map_err(|e| connect_error(error_chain(&e)))?
            .connect_timeout(CONNECT_TIMEOUT)
            // HTTP/2 pings notice a vanished master long before the worker's keepalive would.
            .http2_keep_alive_interval(ping_period(target.keepalive, HTTP2_PING))
            .keep_alive_timeout(ping_period(target.keepalive, HTTP2_PING_TIMEOUT))
            .keep_alive_while_idle(true);
        let dial = target.clone();
        let connector = tower::service_fn(move |_: tonic::transport::Uri| {
            let (dial, hop) = (dial.clone(), hop.clone());
            async move {
                let stream = tokio::time::timeout(CONNECT_TIMEOUT, dial.open(&hop))
                    .await
                    .map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out")
                    })??;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        });
        match endpoint.connect_with_connector(connector).await {
            Ok(channel) => return Ok((WorkerServiceClient::new(channel), shown)),
            Err(e) => {
                let error = format!("{shown}: {}", error_chain(&e));
                tracing::debug!(addr = %shown, %error, "cannot connect to master address");
                errors.push(error);
            }
        }
    }
    if errors.is_empty() {
        errors.push("the name has no address".into());
    }
    Err(connect_error(errors.join("; ")))
}

/// A short `--keepalive` shortens the pings too, so a vanished master is noticed within about
/// twice the keepalive interval; zero (keepalives off) keeps the defaults.
fn ping_period(keepalive: Duration, default: Duration) -> Duration {
    if keepalive.is_zero() {
        default
    } else {
        keepalive.min(default)
    }
}

pub(super) async fn handshake(
    options: &WorkerOptions,
    mut client: WorkerServiceClient<Channel>,
    addr: String,
) -> Result<Session> {
    let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
    let hello = Hello {
        name: options.name.clone(),
        password: options.password.clone(),
        protocol_version: PROTOCOL_VERSION,
        info: info::worker_info(&options.basedir),
        basedir: options.basedir.display().to_string(),
        commands: info::worker_commands(),
        max_builds: options.max_builds.unwrap_or(0),
    };
    tx.send(WorkerMessage {
        body: Some(ToMaster::Hello(hello)),
    })
    .await
    .map_err(|_| Error::SessionLost("the outgoing stream closed before the Hello".into()))?;
    let lost = |reason: String| Error::SessionLost(reason);
    let opened = tokio::time::timeout(HANDSHAKE_TIMEOUT, client.session(ReceiverStream::new(rx)))
        .await
        .map_err(|_| lost("the master did not answer the session request".into()))?
        .map_err(|status| lost(status_text(&status)))?;
    let mut inbound = opened.into_inner();
    let first = tokio::time::timeout(HANDSHAKE_TIMEOUT, inbound.message())
        .await
        .map_err(|_| lost("the master did not answer the Hello".into()))?
        .map_err(|status| lost(status_text(&status)))?;
    let welcome = match first.and_then(|m| m.body) {
        Some(FromMaster::Welcome(welcome)) => welcome,
        Some(FromMaster::Refused(refused)) => {
            tracing::error!(
                master = %options.master,
                "master refused this worker: {}; check the worker name and password",
                refused.reason
            );
            return Err(Error::Refused(refused.reason));
        }
        Some(other) => return Err(lost(format!("expected Welcome, got {}", body_name(&other)))),
        None => {
            return Err(lost(
                "the master closed the session before answering the Hello".into(),
            ));
        }
    };
    tracing::info!(master = %welcome.master_name, %addr, "connected to master {}", welcome.master_name);
    super::leftovers::handle(
        &options.basedir,
        &welcome.builder_dirs,
        options.delete_leftover_dirs,
    );
    Ok(Session::new(options, welcome, client, tx, inbound))
}

pub(super) fn status_text(status: &tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

/// An error with its causes; tonic's transport errors say little without them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
