//! Small network pieces for the worker tests: an HTTP CONNECT proxy and a TCP forwarder that
//! can black-hole its connections (a master that vanished without closing anything).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// An HTTP proxy that only does `CONNECT`, recording each request line.
pub struct ConnectProxy {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: CancellationToken,
}

impl ConnectProxy {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let (seen, stopped) = (requests.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let (client, _) = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(_) => return,
                    },
                };
                tokio::spawn(tunnel(client, seen.clone()));
            }
        });
        Ok(Self {
            port,
            requests,
            stop,
        })
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn tunnel(mut client: TcpStream, seen: Arc<Mutex<Vec<String>>>) -> anyhow::Result<()> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(client.read_u8().await?);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let line = head.lines().next().unwrap_or_default().to_owned();
    seen.lock().expect("requests").push(line.clone());
    let mut parts = line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            .await?;
        return Ok(());
    };
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            .await?;
        return Ok(());
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Forwards TCP connections to `target`; [`Forwarder::black_hole`] makes every connection open
/// so far stop passing bytes in either direction while staying open, as a master host that
/// froze or dropped off the network would. Later connections pass again.
pub struct Forwarder {
    pub port: u16,
    accepted: Arc<Mutex<usize>>,
    generation: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl Forwarder {
    pub async fn start(target: std::net::SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(Mutex::new(0));
        let generation = Arc::new(Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        let (count, current, stopped) = (accepted.clone(), generation.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let client = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => client,
                        Err(_) => return,
                    },
                };
                *count.lock().expect("count") += 1;
                let frozen = current.lock().expect("generation").clone();
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut ur, mut uw) = upstream.into_split();
                    let pass = async {
                        tokio::select! {
                            _ = tokio::io::copy(&mut cr, &mut uw) => {}
                            _ = tokio::io::copy(&mut ur, &mut cw) => {}
                        }
                    };
                    tokio::select! {
                        () = pass => {}
                        () = frozen.cancelled() => {
                            // Hold both sockets open and silent until the test ends.
                            stopped.cancelled().await;
                        }
                    }
                });
            }
        });
        Ok(Self {
            port,
            accepted,
            generation,
            stop,
        })
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        *self.accepted.lock().expect("count")
    }

    /// Silences every connection open now.
    pub fn black_hole(&self) {
        let mut generation = self.generation.lock().expect("generation");
        generation.cancel();
        *generation = CancellationToken::new();
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
