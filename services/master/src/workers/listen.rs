//! Serving the worker port: plain gRPC, or gRPC inside TLS when `c['protocols']['pb']` names a
//! certificate and key.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use ferrobot_config::WorkerTlsConfig;
use ferrobot_protocol::v1::worker_service_server::WorkerServiceServer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::WorkerServer;
use crate::{Error, Result};

/// A worker that opened TCP but has not finished the TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the master pings each worker connection, and how long an answer may take.
const WORKER_PING: Duration = Duration::from_secs(30);
const WORKER_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Reads the certificate chain and key of `tls` (relative paths are relative to `basedir`).
pub fn tls_acceptor(basedir: &Path, tls: &WorkerTlsConfig) -> Result<TlsAcceptor> {
    let cert_path = basedir.join(&tls.certificate);
    let key_path = basedir.join(&tls.private_key);
    let bad = |path: &Path, what: &str, reason: String| {
        Error::io(
            format!("c['protocols']['pb'] TLS {what} {}", path.display()),
            io::Error::new(io::ErrorKind::InvalidData, reason),
        )
    };
    let pem = |path: &Path| {
        std::fs::read(path).map_err(|e| {
            Error::io(
                format!("c['protocols']['pb'] TLS: cannot read {}", path.display()),
                e,
            )
        })
    };
    let cert_pem = pem(&cert_path)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(&cert_path, "certificate", e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(
            &cert_path,
            "certificate",
            "no PEM CERTIFICATE block in the file".into(),
        ));
    }
    let key_pem = pem(&key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| bad(&key_path, "private key", e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&cert_path, "certificate", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(&key_path, "private key", e.to_string()))?;
    let mut config = config;
    // gRPC runs over HTTP/2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `grpc` on `listener` until `cancel`, inside TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    grpc: WorkerServiceServer<WorkerServer>,
    cancel: CancellationToken,
) -> std::result::Result<(), tonic::transport::Error> {
    // HTTP/2 pings let the master notice a worker host that vanished without closing its
    // connection (its builds then end RETRY) long before TCP would give up.
    let server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(WORKER_PING))
        .http2_keepalive_timeout(Some(WORKER_PING_TIMEOUT))
        .add_service(grpc);
    let Some(acceptor) = tls else {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        return server
            .serve_with_incoming_shutdown(incoming, cancel.cancelled())
            .await;
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<TlsConnection>>(16);
    let accepting = tokio::spawn(accept_tls(listener, acceptor, tx, cancel.clone()));
    let incoming = tokio_stream::wrappers::ReceiverStream::new(rx);
    let served = server
        .serve_with_incoming_shutdown(incoming, cancel.cancelled())
        .await;
    accepting.abort();
    served
}

/// Accepts TCP connections and hands each on once its TLS handshake is done; a failed handshake
/// (a worker that does not trust the certificate, a plain-TCP worker) is logged and dropped.
async fn accept_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: tokio::sync::mpsc::Sender<io::Result<TlsConnection>>,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "cannot accept a worker connection");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            let info = tcp.connect_info();
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = tx.send(Ok(TlsConnection { stream, info })).await;
                }
                Ok(Err(error)) => {
                    tracing::warn!(%peer, %error, "TLS handshake with a worker failed");
                }
                Err(_) => tracing::warn!(%peer, "TLS handshake with a worker timed out"),
            }
        });
    }
}

/// A worker's TLS stream, telling tonic the peer's TCP address.
struct TlsConnection {
    stream: TlsStream<TcpStream>,
    info: TcpConnectInfo,
}

impl Connected for TlsConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
