//! A fake master: a tonic `WorkerService` on 127.0.0.1 in a runtime of its own, so that a test
//! can kill it as abruptly as a crashed master process (dropping the runtime closes every
//! connection) and start another on the same port.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use ferrobot_protocol::v1::{
    Hello, MasterMessage, Refused, Welcome, WorkerMessage,
    master_message::Body as FromMaster,
    worker_message::Body as ToMaster,
    worker_service_server::{WorkerService, WorkerServiceServer},
};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::{TcpListenerStream, UnboundedReceiverStream};
use tonic::{Request, Response, Status, Streaming};

pub const WAIT: Duration = Duration::from_secs(30);

/// One worker session as the fake master sees it.
pub struct Session {
    pub hello: Hello,
    /// `None` when the worker was refused (the master closed its side at once).
    pub to_worker: Option<mpsc::UnboundedSender<Result<MasterMessage, Status>>>,
    pub from_worker: mpsc::UnboundedReceiver<WorkerMessage>,
}

impl Session {
    pub fn send(&self, body: FromMaster) {
        self.to_worker
            .as_ref()
            .expect("an accepted session")
            .send(Ok(MasterMessage { body: Some(body) }))
            .expect("the session is open");
    }

    /// The next message from the worker, `None` once it closed its stream.
    pub async fn recv(&mut self) -> Option<ToMaster> {
        let message = tokio::time::timeout(WAIT, self.from_worker.recv())
            .await
            .expect("the worker went silent");
        message.map(|m| m.body.expect("a message with a body"))
    }
}

pub struct FakeMaster {
    pub addr: SocketAddr,
    sessions: mpsc::UnboundedReceiver<Session>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeMaster {
    /// Starts on a free port; workers with another password are refused.
    pub fn start(password: &str) -> FakeMaster {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        Self::start_on(listener, password)
    }

    /// Starts again on the address of a master that was killed.
    pub fn restart_on(addr: SocketAddr, password: &str) -> FakeMaster {
        let listener = std::net::TcpListener::bind(addr).expect("bind the same port again");
        Self::start_on(listener, password)
    }

    fn start_on(listener: std::net::TcpListener, password: &str) -> FakeMaster {
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let (sessions_tx, sessions) = mpsc::unbounded_channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let service = Service {
            password: password.to_owned(),
            sessions: sessions_tx,
        };
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let server = tonic::transport::Server::builder()
                    .add_service(WorkerServiceServer::new(service))
                    .serve_with_incoming(TcpListenerStream::new(listener));
                tokio::select! {
                    served = server => served.expect("fake master serves"),
                    _ = stop_rx => {}
                }
            });
            // Dropping the runtime drops every connection task: the worker sees a dead master.
            drop(runtime);
        });
        FakeMaster {
            addr,
            sessions,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The next session a worker opens.
    pub async fn session(&mut self) -> Session {
        tokio::time::timeout(WAIT, self.sessions.recv())
            .await
            .expect("no worker connected in time")
            .expect("the fake master is running")
    }

    /// Stops abruptly, as a crashed master; returns once its port is free.
    pub fn kill(mut self) -> SocketAddr {
        self.shut_down();
        self.addr
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("fake master thread");
        }
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.shut_down();
    }
}

struct Service {
    password: String,
    sessions: mpsc::UnboundedSender<Session>,
}

#[tonic::async_trait]
impl WorkerService for Service {
    type SessionStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<MasterMessage, Status>> + Send>>;

    async fn session(
        &self,
        request: Request<Streaming<WorkerMessage>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let mut inbound = request.into_inner();
        let first = inbound
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("no Hello"))?;
        let Some(ToMaster::Hello(hello)) = first.body else {
            return Err(Status::invalid_argument(
                "the first message must be a Hello",
            ));
        };
        let (to_worker, outbound) = mpsc::unbounded_channel();
        let accepted = hello.password == self.password;
        let answer = if accepted {
            FromMaster::Welcome(Welcome {
                master_name: "fake-master".into(),
                ..Welcome::default()
            })
        } else {
            FromMaster::Refused(Refused {
                reason: "wrong password".into(),
            })
        };
        let _ = to_worker.send(Ok(MasterMessage { body: Some(answer) }));
        let (forward, from_worker) = mpsc::unbounded_channel();
        let (ended, worker_closed) = oneshot::channel::<()>();
        tokio::spawn(async move {
            while let Ok(Some(message)) = inbound.message().await {
                if forward.send(message).is_err() {
                    break;
                }
            }
            let _ = ended.send(());
        });
        let to_worker = accepted.then_some(to_worker);
        let _ = self.sessions.send(Session {
            hello,
            to_worker,
            from_worker,
        });
        // Like a real master, close the session once the worker has closed its side.
        let outbound =
            futures::StreamExt::take_until(UnboundedReceiverStream::new(outbound), worker_closed);
        Ok(Response::new(Box::pin(outbound)))
    }
}
