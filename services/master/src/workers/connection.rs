//! One connected worker: sends it remote commands and routes their updates back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ferrobot_model::WorkerId;
use ferrobot_protocol::v1::{
    CommandUpdate, DownloadData, InterruptCommand, MasterMessage, StartCommand, master_message,
    start_command,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a running remote command reports.
#[derive(Debug)]
pub enum CommandEvent {
    /// A batch of updates (output, rc, stat, ...), in order.
    Updates(Vec<CommandUpdate>),
    /// The command finished; `Some(error)` if it could not run.
    Complete(Option<String>),
    /// The worker went away before the command completed.
    Lost,
}

/// A remote command started on a worker.
pub struct RemoteCommand {
    /// Its id within the session.
    pub command_id: String,
    events: mpsc::Receiver<CommandEvent>,
    connection: Arc<WorkerConnection>,
}

impl RemoteCommand {
    /// The next event; after `Complete` or `Lost` there are no more.
    pub async fn next(&mut self) -> CommandEvent {
        // Closing the connection drops every sender, so queued events drain first, then Lost.
        self.events.recv().await.unwrap_or(CommandEvent::Lost)
    }

    /// Asks the worker to interrupt the command (it still completes normally afterwards).
    pub async fn interrupt(&self, why: &str) {
        let message = master_message::Body::InterruptCommand(InterruptCommand {
            command_id: self.command_id.clone(),
            why: why.to_owned(),
        });
        self.connection.send(message).await;
    }
}

impl Drop for RemoteCommand {
    fn drop(&mut self) {
        self.connection.forget(&self.command_id);
    }
}

/// The master's side of one worker session.
pub struct WorkerConnection {
    /// The worker's id in the store.
    pub workerid: WorkerId,
    /// The worker's name.
    pub name: String,
    /// What the worker said about itself.
    pub info: BTreeMap<String, String>,
    /// Concurrent builds allowed (None = no limit).
    pub max_builds: Option<u32>,
    outgoing: mpsc::Sender<MasterMessage>,
    pending: Mutex<HashMap<String, mpsc::Sender<CommandEvent>>>,
    next_command: AtomicU64,
    busy_builders: Mutex<HashSet<String>>,
    /// Set once a graceful shutdown began: no new build is reserved.
    graceful: AtomicBool,
    /// Woken whenever a build releases the worker.
    released: tokio::sync::Notify,
    /// Cancelled when the session ends.
    pub closed: CancellationToken,
}

impl WorkerConnection {
    /// A connection whose messages to the worker go into `outgoing`.
    pub fn new(
        workerid: WorkerId,
        name: String,
        info: BTreeMap<String, String>,
        max_builds: Option<u32>,
        outgoing: mpsc::Sender<MasterMessage>,
    ) -> WorkerConnection {
        WorkerConnection {
            workerid,
            name,
            info,
            max_builds,
            outgoing,
            pending: Mutex::new(HashMap::new()),
            next_command: AtomicU64::new(1),
            busy_builders: Mutex::new(HashSet::new()),
            graceful: AtomicBool::new(false),
            released: tokio::sync::Notify::new(),
            closed: CancellationToken::new(),
        }
    }

    async fn send(&self, body: master_message::Body) -> bool {
        self.outgoing
            .send(MasterMessage { body: Some(body) })
            .await
            .is_ok()
    }

    /// Answers a download command's `read_file` request: `data` (empty = end of file) or the
    /// reason the master cannot read its side. Returns false if the worker is gone.
    pub async fn send_download_data(&self, command_id: &str, data: Vec<u8>, error: String) -> bool {
        let body = master_message::Body::DownloadData(DownloadData {
            command_id: command_id.to_owned(),
            data,
            error,
        });
        self.send(body).await
    }

    /// Starts a remote command for a builder. Returns None if the worker is gone.
    pub async fn start(
        self: &Arc<Self>,
        builder_name: &str,
        command: start_command::Command,
    ) -> Option<RemoteCommand> {
        if self.closed.is_cancelled() {
            return None;
        }
        let command_id = self
            .next_command
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        // Bounded so a worker flooding output is slowed down rather than buffered without limit.
        let (tx, rx) = mpsc::channel(64);
        self.lock_pending().insert(command_id.clone(), tx);
        let body = master_message::Body::StartCommand(StartCommand {
            command_id: command_id.clone(),
            builder_name: builder_name.to_owned(),
            command: Some(command),
        });
        let remote = RemoteCommand {
            command_id,
            events: rx,
            connection: self.clone(),
        };
        if !self.send(body).await {
            return None;
        }
        Some(remote)
    }

    /// Routes an event from the worker to the command it belongs to.
    pub async fn deliver(&self, command_id: &str, event: CommandEvent) {
        let sender = self.lock_pending().get(command_id).cloned();
        match sender {
            Some(sender) => {
                let _ = sender.send(event).await;
            }
            None => tracing::debug!(worker = %self.name, command_id, "update for unknown command"),
        }
    }

    fn forget(&self, command_id: &str) {
        self.lock_pending().remove(command_id);
    }

    /// Ends the session: every pending command sees `Lost`.
    pub fn close(&self) {
        self.closed.cancel();
        self.lock_pending().clear();
    }

    /// Asks the worker process to stop (`graceful`: after its running commands).
    pub async fn shutdown(&self, graceful: bool) {
        let body = master_message::Body::Shutdown(ferrobot_protocol::v1::Shutdown { graceful });
        self.send(body).await;
    }

    /// Buildbot's graceful shutdown: from now on no build is reserved; once the running ones
    /// have released the worker, it is told to stop (`Shutdown{graceful}`). Returns at once;
    /// calling it again changes nothing.
    pub fn shutdown_when_idle(self: &Arc<Self>) {
        if self.graceful.swap(true, Ordering::SeqCst) {
            return;
        }
        let connection = self.clone();
        tokio::spawn(async move {
            loop {
                let released = connection.released.notified();
                tokio::pin!(released);
                // Registered before the count is read, so a release in between is not missed.
                released.as_mut().enable();
                let running = connection.running_builds();
                if running == 0 {
                    tracing::info!(worker = %connection.name, "no build running: stopping the worker");
                    connection.shutdown(true).await;
                    return;
                }
                tracing::info!(worker = %connection.name, running, "graceful shutdown: waiting for running builds");
                tokio::select! {
                    () = released => {}
                    () = connection.closed.cancelled() => return,
                }
            }
        });
    }

    /// Whether a graceful shutdown began on this session.
    pub fn is_graceful(&self) -> bool {
        self.graceful.load(Ordering::SeqCst)
    }

    /// Marks the worker busy for a builder if it can take a build for it now (one build per
    /// builder and worker, at most `max_builds` in all, none once a graceful shutdown began).
    pub fn try_reserve(&self, builder: &str) -> bool {
        let mut busy = self.lock_busy();
        let full = self
            .max_builds
            .is_some_and(|max| busy.len() >= max as usize);
        if full || busy.contains(builder) || self.closed.is_cancelled() || self.is_graceful() {
            return false;
        }
        busy.insert(builder.to_owned());
        true
    }

    /// Releases a reservation made with [`WorkerConnection::try_reserve`].
    pub fn release(&self, builder: &str) {
        self.lock_busy().remove(builder);
        self.released.notify_waiters();
    }

    /// Builds running on it now.
    pub fn running_builds(&self) -> usize {
        self.lock_busy().len()
    }

    fn lock_pending(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<CommandEvent>>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_busy(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.busy_builders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The workers connected to this master, by name.
#[derive(Default)]
pub struct WorkerRegistry {
    connections: Mutex<HashMap<String, Arc<WorkerConnection>>>,
    changed: tokio::sync::Notify,
}

impl WorkerRegistry {
    /// An empty registry.
    pub fn new() -> WorkerRegistry {
        WorkerRegistry::default()
    }

    /// Adds a connection, returning the one it replaces (a worker that reconnected).
    pub fn insert(&self, connection: Arc<WorkerConnection>) -> Option<Arc<WorkerConnection>> {
        let old = self.lock().insert(connection.name.clone(), connection);
        self.changed.notify_waiters();
        old
    }

    /// Removes this exact connection (not a newer one of the same worker).
    pub fn remove(&self, connection: &Arc<WorkerConnection>) {
        let mut connections = self.lock();
        if connections
            .get(&connection.name)
            .is_some_and(|c| Arc::ptr_eq(c, connection))
        {
            connections.remove(&connection.name);
        }
        drop(connections);
        self.changed.notify_waiters();
    }

    /// The connection of a worker, if it is connected.
    pub fn get(&self, name: &str) -> Option<Arc<WorkerConnection>> {
        self.lock().get(name).cloned()
    }

    /// Every connection.
    pub fn all(&self) -> Vec<Arc<WorkerConnection>> {
        self.lock().values().cloned().collect()
    }

    /// Resolves when a worker connects or disconnects.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<WorkerConnection>>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
