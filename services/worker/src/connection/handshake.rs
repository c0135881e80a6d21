//! Dialling the master and the Hello / Welcome exchange.

use std::net::SocketAddr;
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
use super::resolve::resolve;
use super::session::{OUTBOX_CAPACITY, Session, body_name};
use crate::error::{Error, Result};
use crate::info;
use crate::options::WorkerOptions;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the master may take to answer the Hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Resolves the master's name to all its addresses (with the DNS server `nameserver` when one
/// is set) and tries them in random order, so that workers spread over the masters behind one
/// DNS name.
pub(super) async fn connect(
    master: &str,
    nameserver: Option<&str>,
) -> Result<(WorkerServiceClient<Channel>, SocketAddr)> {
    let connect_error = |reason: String| Error::Connect {
        master: master.to_owned(),
        reason,
    };
    let mut addrs = resolve(master, nameserver).await.map_err(connect_error)?;
    shuffle(&mut addrs);
    tracing::debug!(%master, addresses = ?addrs, "trying the master's addresses in this order");
    let mut last_error = "no addresses".to_owned();
    for addr in addrs {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| connect_error(error_chain(&e)))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // HTTP/2 pings notice a vanished master long before the worker's keepalive would.
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true);
        match endpoint.connect().await {
            Ok(channel) => return Ok((WorkerServiceClient::new(channel), addr)),
            Err(e) => {
                last_error = format!("{addr}: {}", error_chain(&e));
                tracing::debug!(%addr, error = %last_error, "cannot connect to master address");
            }
        }
    }
    Err(connect_error(last_error))
}

pub(super) async fn handshake(
    options: &WorkerOptions,
    mut client: WorkerServiceClient<Channel>,
    addr: SocketAddr,
) -> Result<Session> {
    let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
    let hello = Hello {
        name: options.name.clone(),
        password: options.password.clone(),
        protocol_version: PROTOCOL_VERSION,
        info: info::worker_info(&options.basedir),
        basedir: options.basedir.display().to_string(),
        commands: info::worker_commands(),
        max_builds: 0,
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
