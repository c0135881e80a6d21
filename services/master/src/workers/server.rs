//! The gRPC side of the worker protocol: authenticates sessions and keeps the registry and the
//! store's `connected_workers` in step with them.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_protocol::v1::worker_service_server::WorkerService;
use ferrobot_protocol::v1::{
    Hello, MasterMessage, Refused, Welcome, WorkerMessage, master_message, worker_message,
};
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::connection::{CommandEvent, WorkerConnection, WorkerRegistry};
use crate::context::Context;

/// How long a new session may take to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
/// Output batching asked of workers (Buildbot's master asks 64 KiB).
const BUFFER_SIZE: u32 = 64 * 1024;
const BUFFER_TIMEOUT_MS: u32 = 100;
const MAX_LINE_LENGTH: u32 = 4096;

/// Implements `WorkerService` for a master.
pub struct WorkerServer {
    ctx: Arc<Context>,
    registry: Arc<WorkerRegistry>,
}

impl WorkerServer {
    /// A server that registers sessions in `registry`.
    pub fn new(ctx: Arc<Context>, registry: Arc<WorkerRegistry>) -> WorkerServer {
        WorkerServer { ctx, registry }
    }

    /// Checks name and password against the configuration; Err is the reason told to the worker.
    fn authenticate(&self, hello: &Hello) -> Result<Option<u32>, String> {
        let config = self.ctx.config();
        let Some(worker) = config.workers.iter().find(|w| w.name == hello.name) else {
            return Err(format!("unknown worker name {:?}", hello.name));
        };
        if worker.password != hello.password {
            return Err(format!("wrong password for worker {:?}", hello.name));
        }
        if hello.protocol_version != ferrobot_protocol::PROTOCOL_VERSION {
            return Err(format!(
                "protocol version {} not supported (master speaks {})",
                hello.protocol_version,
                ferrobot_protocol::PROTOCOL_VERSION
            ));
        }
        let own_limit = (hello.max_builds > 0).then_some(hello.max_builds);
        Ok(match (worker.max_builds, own_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    async fn register(
        &self,
        hello: Hello,
        max_builds: Option<u32>,
        outgoing: mpsc::Sender<MasterMessage>,
    ) -> crate::Result<Arc<WorkerConnection>> {
        let store = &self.ctx.store;
        let workerid = store.find_or_create_worker(&hello.name).await?;
        let mut info: BTreeMap<String, String> = hello.info.clone().into_iter().collect();
        info.entry("basedir".into())
            .or_insert(hello.basedir.clone());
        let stored_info = info
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        store
            .worker_connected(workerid, self.ctx.masterid, &stored_info)
            .await?;
        // A graceful shutdown ends with the worker's exit; when it comes back it takes builds.
        store.set_worker_graceful(workerid, false).await?;
        let connection = Arc::new(WorkerConnection::new(
            workerid,
            hello.name.clone(),
            info,
            max_builds,
            outgoing,
        ));
        if let Some(old) = self.registry.insert(connection.clone()) {
            tracing::info!(worker = %old.name, "worker reconnected; closing its previous session");
            old.close();
        }
        if let Some(worker) = store.worker(workerid).await? {
            self.ctx.events.worker(&worker, "connected").await;
        }
        Ok(connection)
    }
}

type SessionStream = Pin<Box<dyn Stream<Item = Result<MasterMessage, Status>> + Send>>;

#[tonic::async_trait]
impl WorkerService for WorkerServer {
    type SessionStream = SessionStream;

    async fn session(
        &self,
        request: Request<Streaming<WorkerMessage>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let peer = request
            .remote_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let mut incoming = request.into_inner();
        let first = tokio::time::timeout(HELLO_TIMEOUT, incoming.next())
            .await
            .map_err(|_| Status::deadline_exceeded("no hello within 30 s"))?;
        let hello = match first {
            Some(Ok(WorkerMessage {
                body: Some(worker_message::Body::Hello(hello)),
            })) => hello,
            Some(Ok(_)) => return Err(Status::invalid_argument("first message must be hello")),
            Some(Err(status)) => return Err(status),
            None => return Err(Status::cancelled("worker closed before hello")),
        };
        let (tx, rx) = mpsc::channel::<MasterMessage>(256);
        let max_builds = match self.authenticate(&hello) {
            Ok(max_builds) => max_builds,
            Err(reason) => {
                tracing::warn!(worker = %hello.name, %peer, %reason, "worker refused");
                let refused = master_message::Body::Refused(Refused { reason });
                let _ = tx
                    .send(MasterMessage {
                        body: Some(refused),
                    })
                    .await;
                drop(tx);
                return Ok(Response::new(Box::pin(ReceiverStream::new(rx).map(Ok))));
            }
        };
        let welcome = master_message::Body::Welcome(Welcome {
            master_name: self.ctx.master_name.clone(),
            keepalive_interval_s: 3600,
            buffer_size: BUFFER_SIZE,
            buffer_timeout_ms: BUFFER_TIMEOUT_MS,
            max_line_length: MAX_LINE_LENGTH,
            builder_dirs: builder_dirs(&self.ctx.config(), &hello.name),
        });
        let _ = tx
            .send(MasterMessage {
                body: Some(welcome),
            })
            .await;
        let name = hello.name.clone();
        let connection = self
            .register(hello, max_builds, tx)
            .await
            .map_err(Status::from)?;
        tracing::info!(worker = %name, %peer, "worker connected");
        // Our side of the stream ends with the session, even while builds still hold the connection.
        let closed = connection.closed.clone();
        let outgoing = futures::StreamExt::take_until(ReceiverStream::new(rx), async move {
            closed.cancelled().await
        });
        let ctx = self.ctx.clone();
        let registry = self.registry.clone();
        tokio::spawn(async move {
            pump_worker_messages(&ctx, &connection, incoming).await;
            connection.close();
            registry.remove(&connection);
            tracing::info!(worker = %connection.name, "worker disconnected");
            let store = &ctx.store;
            if let Err(error) = store
                .worker_disconnected(connection.workerid, ctx.masterid)
                .await
            {
                tracing::warn!(worker = %connection.name, %error, "disconnect not recorded");
            }
            if let Ok(Some(worker)) = store.worker(connection.workerid).await {
                ctx.events.worker(&worker, "disconnected").await;
            }
        });
        Ok(Response::new(Box::pin(outgoing.map(Ok))))
    }
}

/// The build directories of the builders this worker may run.
fn builder_dirs(config: &ferrobot_config::MasterConfig, worker: &str) -> Vec<String> {
    let mut dirs: Vec<String> = config
        .builders
        .iter()
        .filter(|b| b.worker_names.iter().any(|w| w == worker))
        .map(|b| b.builddir.clone())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Routes the worker's messages until its stream ends or the session is closed from our side.
async fn pump_worker_messages(
    ctx: &Context,
    connection: &Arc<WorkerConnection>,
    mut incoming: Streaming<WorkerMessage>,
) {
    loop {
        let message = tokio::select! {
            message = incoming.next() => message,
            () = connection.closed.cancelled() => return,
        };
        let body = match message {
            Some(Ok(WorkerMessage { body: Some(body) })) => body,
            Some(Ok(WorkerMessage { body: None })) => continue,
            Some(Err(status)) => {
                tracing::info!(worker = %connection.name, %status, "worker stream failed");
                return;
            }
            None => return,
        };
        match body {
            worker_message::Body::Updates(batch) => {
                let event = CommandEvent::Updates(batch.updates);
                connection.deliver(&batch.command_id, event).await;
            }
            worker_message::Body::Complete(done) => {
                let error = (!done.error.is_empty()).then_some(done.error);
                connection
                    .deliver(&done.command_id, CommandEvent::Complete(error))
                    .await;
            }
            worker_message::Body::Keepalive(_) => {}
            worker_message::Body::ShutdownRequest(_) => {
                tracing::info!(worker = %connection.name, "worker asked for a graceful shutdown");
                mark_graceful(ctx, connection).await;
                connection.shutdown_when_idle();
            }
            worker_message::Body::Hello(_) => {
                tracing::warn!(worker = %connection.name, "duplicate hello ignored");
            }
        }
    }
}

/// Records the graceful state (`workers.graceful`, shown in the REST API) and publishes it.
async fn mark_graceful(ctx: &Context, connection: &WorkerConnection) {
    let store = &ctx.store;
    if let Err(error) = store.set_worker_graceful(connection.workerid, true).await {
        tracing::warn!(worker = %connection.name, %error, "graceful state not recorded");
        return;
    }
    if let Ok(Some(worker)) = store.worker(connection.workerid).await {
        ctx.events.worker(&worker, "state_updated").await;
    }
}
