//! Opening the byte stream that gRPC runs over: TCP to one of the master's addresses, or a
//! tunnel through an HTTP proxy (`CONNECT`), then TLS when asked for.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::endpoint::{MasterEndpoint, ProxyEndpoint};

/// Longest proxy answer to `CONNECT` read before giving up on it.
const MAX_PROXY_REPLY: usize = 8 * 1024;
/// How long a TLS handshake or a proxy's answer may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// A connected stream, plain or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Everything needed to reach the master, decided once at start.
#[derive(Clone)]
pub(crate) struct Target {
    pub endpoint: MasterEndpoint,
    pub nameserver: Option<String>,
    pub proxy: Option<ProxyEndpoint>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// `--keepalive`: also bounds the HTTP/2 ping period and timeout.
    pub keepalive: Duration,
}

/// Where one attempt dials: an address of the master, or (through a proxy) its name.
#[derive(Debug, Clone)]
pub(crate) enum Hop {
    Direct(std::net::SocketAddr),
    Proxied,
}

impl Target {
    /// Opens a stream to the master over `hop`; errors say which step failed and why.
    pub(crate) async fn open(&self, hop: &Hop) -> io::Result<Box<dyn Io>> {
        let tcp = match hop {
            Hop::Direct(addr) => TcpStream::connect(addr).await?,
            Hop::Proxied => self.tunnel().await?,
        };
        let _ = tcp.set_nodelay(true);
        let Some(config) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let host = &self.endpoint.host;
        let name = ServerName::try_from(host.clone()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{host:?} cannot be checked against a certificate: {e}"),
            )
        })?;
        let connector = TlsConnector::from(config.clone());
        let handshake = tokio::time::timeout(STEP_TIMEOUT, connector.connect(name, tcp));
        match handshake.await {
            Ok(Ok(stream)) => Ok(Box::new(stream)),
            Ok(Err(e)) => Err(io::Error::new(
                e.kind(),
                format!(
                    "TLS handshake with the master failed: {e} (the master's certificate must \
                     name {host:?} and be signed by a CA in the system store or --ca-certs)"
                ),
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "TLS handshake with the master timed out (does the master serve TLS?)",
            )),
        }
    }

    /// A TCP stream to the proxy that already carries the master's end (`CONNECT` answered 2xx).
    async fn tunnel(&self) -> io::Result<TcpStream> {
        let Some(proxy) = &self.proxy else {
            return Err(io::Error::other("no proxy configured"));
        };
        let proxy_addr = proxy.address();
        let mut tcp = TcpStream::connect(&proxy_addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("proxy {proxy_addr}: {e}")))?;
        let target = self.endpoint.address();
        let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        tcp.write_all(request.as_bytes()).await?;
        let reply = tokio::time::timeout(STEP_TIMEOUT, read_head(&mut tcp))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("proxy {proxy_addr} did not answer CONNECT {target}"),
                )
            })??;
        let status = reply.lines().next().unwrap_or_default().to_owned();
        let code = status.split_whitespace().nth(1).unwrap_or_default();
        if !code.starts_with('2') {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("proxy {proxy_addr} refused CONNECT {target}: {status:?}"),
            ));
        }
        tracing::debug!(proxy = %proxy_addr, %target, "tunnel through the proxy open");
        Ok(tcp)
    }
}

/// Reads up to the blank line ending an HTTP response head, one byte at a time so that nothing
/// of the tunnelled stream is consumed.
async fn read_head(tcp: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_PROXY_REPLY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the proxy's answer to CONNECT is too long",
            ));
        }
        let byte = tcp.read_u8().await.map_err(|e| {
            io::Error::new(e.kind(), format!("the proxy closed during CONNECT: {e}"))
        })?;
        head.push(byte);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
