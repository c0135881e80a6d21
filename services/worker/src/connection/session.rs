//! One session with the master: serve its commands until the session ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_protocol::v1::{
    Keepalive, MasterMessage, ShutdownRequest, StartCommand, Welcome, WorkerMessage,
    master_message::Body as FromMaster, worker_message::Body as ToMaster,
    worker_service_client::WorkerServiceClient,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tonic::Streaming;
use tonic::transport::Channel;

use super::dial::Target;
use super::handshake::{connect, handshake, status_text};
use crate::commands::{self, Batching, CommandContext, Inbox, InboxSender};
use crate::error::Result;
use crate::options::WorkerOptions;

/// Messages waiting for the network; small, so that command output meets backpressure early.
pub(super) const OUTBOX_CAPACITY: usize = 16;
/// How long running commands get to report after a shutdown began, before they are killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long the worker waits for the master to close its side after the worker closed its own.
const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// How long killed commands get to finish once the session is lost.
const LOST_GRACE: Duration = Duration::from_secs(5);

/// How a session that got a Welcome ended.
#[derive(Debug)]
pub(crate) enum SessionEnd {
    /// The worker itself is shutting down.
    Shutdown,
    /// The master told the worker to stop.
    MasterShutdown,
    /// The connection broke; reconnect.
    Lost(String),
}

/// Runs one session; an error means it failed before the master welcomed the worker.
pub(crate) async fn run_session(
    options: &WorkerOptions,
    target: &Target,
    shutdown: &CancellationToken,
    request_shutdown: &CancellationToken,
) -> Result<SessionEnd> {
    let handshake = async {
        let (client, addr) = connect(target).await?;
        handshake(options, client, addr).await
    };
    let session = tokio::select! {
        () = shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
        session = handshake => session?,
    };
    Ok(session.serve(shutdown, request_shutdown).await)
}

/// What ends a session once the worker has decided to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGTERM or the caller's shutdown token: kill commands without reporting them, then close.
    Local,
    /// The master asked for a shutdown: `graceful` lets running commands finish.
    Master { graceful: bool },
}

pub(super) struct Session {
    ctx: Arc<CommandContext>,
    keepalive: Option<Duration>,
    // Held so that the connection outlives the streams it carries.
    _client: WorkerServiceClient<Channel>,
    tx: mpsc::Sender<WorkerMessage>,
    inbound: Streaming<MasterMessage>,
    /// Cancelled when the session is lost: running commands are killed and stop sending.
    lost: CancellationToken,
    running: HashMap<String, InboxSender>,
    tasks: JoinSet<Option<String>>,
    stop: Option<Stop>,
    force_at: Option<Instant>,
}

impl Session {
    pub(super) fn new(
        options: &WorkerOptions,
        welcome: Welcome,
        client: WorkerServiceClient<Channel>,
        tx: mpsc::Sender<WorkerMessage>,
        inbound: Streaming<MasterMessage>,
    ) -> Self {
        let batching = Batching::from_welcome(welcome.buffer_size, welcome.buffer_timeout_ms);
        let ours = (!options.keepalive.is_zero()).then_some(options.keepalive);
        let theirs = (welcome.keepalive_interval_s > 0)
            .then(|| Duration::from_secs(u64::from(welcome.keepalive_interval_s)));
        // The more frequent of the two wishes wins, so that neither side times the other out.
        let keepalive = match (ours, theirs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Self {
            ctx: Arc::new(CommandContext {
                basedir: options.basedir.clone(),
                batching,
            }),
            keepalive,
            _client: client,
            tx,
            inbound,
            lost: CancellationToken::new(),
            running: HashMap::new(),
            tasks: JoinSet::new(),
            stop: None,
            force_at: None,
        }
    }

    pub(super) async fn serve(
        mut self,
        shutdown: &CancellationToken,
        request_shutdown: &CancellationToken,
    ) -> SessionEnd {
        let mut shutdown_requested = false;
        let mut keepalive = self.keepalive.map(|period| {
            let mut interval = tokio::time::interval_at(Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        loop {
            if let Some(stop) = self.stop
                && self.tasks.is_empty()
            {
                return self.close(stop).await;
            }
            tokio::select! {
                biased;
                () = shutdown.cancelled(), if !self.interrupting() => {
                    tracing::info!("shutting down: killing running commands");
                    self.begin_stop(Stop::Local, "worker shutting down");
                }
                () = at(self.force_at) => {
                    tracing::warn!(running = self.tasks.len(), "commands still running after the grace period, killing them");
                    self.force_at = None;
                    self.lost.cancel();
                }
                Some(done) = self.tasks.join_next() => match done {
                    Ok(Some(command_id)) => {
                        self.running.remove(&command_id);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "command task failed"),
                },
                message = self.inbound.message() => match message {
                    Ok(Some(message)) => self.handle(message),
                    Ok(None) => return self.lose("the master closed the session".into()).await,
                    Err(status) => return self.lose(status_text(&status)).await,
                },
                () = request_shutdown.cancelled(), if !shutdown_requested => {
                    shutdown_requested = true;
                    tracing::info!("asking the master for a graceful shutdown");
                    let request = WorkerMessage { body: Some(ToMaster::ShutdownRequest(ShutdownRequest {})) };
                    if self.tx.send(request).await.is_err() {
                        return self.lose("the outgoing stream closed".into()).await;
                    }
                }
                () = tick(&mut keepalive) => {
                    // A full outbox means output is flowing, which tells the master as much.
                    let _ = self.tx.try_send(WorkerMessage { body: Some(ToMaster::Keepalive(Keepalive {})) });
                }
            }
        }
    }

    fn handle(&mut self, message: MasterMessage) {
        match message.body {
            Some(FromMaster::StartCommand(start)) => self.start(start),
            Some(FromMaster::InterruptCommand(interrupt)) => {
                match self.running.get(&interrupt.command_id) {
                    Some(inbox) => {
                        tracing::info!(command_id = %interrupt.command_id, why = %interrupt.why, "interrupt requested");
                        let _ = inbox.interrupts.try_send(interrupt.why);
                    }
                    None => {
                        tracing::debug!(command_id = %interrupt.command_id, "interrupt for a command that is not running")
                    }
                }
            }
            Some(FromMaster::DownloadData(data)) => match self.running.get(&data.command_id) {
                // A download has one read outstanding, so its small channel has room unless the
                // master answers what was not asked.
                Some(inbox) => {
                    if inbox.data.try_send(data).is_err() {
                        tracing::warn!("download data the command did not ask for, dropped");
                    }
                }
                None => {
                    tracing::debug!(command_id = %data.command_id, "download data for a command that is not running")
                }
            },
            Some(FromMaster::Keepalive(_)) => tracing::trace!("keepalive from master"),
            Some(FromMaster::Print(print)) => {
                tracing::info!(message = %print.message, "message from master")
            }
            Some(FromMaster::Shutdown(shutdown)) => {
                tracing::info!(
                    graceful = shutdown.graceful,
                    "the master asked this worker to shut down"
                );
                let stop = Stop::Master {
                    graceful: shutdown.graceful,
                };
                self.begin_stop(stop, "worker shutdown requested by the master");
            }
            Some(other) => tracing::warn!(
                message = body_name(&other),
                "unexpected message from master, ignored"
            ),
            None => tracing::warn!("empty or unknown message from master, ignored"),
        }
    }

    fn start(&mut self, start: StartCommand) {
        let refusal = if self.stop.is_some() {
            Some("the worker is shutting down".to_owned())
        } else if self.running.contains_key(&start.command_id) {
            Some(format!(
                "command id {:?} is already running",
                start.command_id
            ))
        } else {
            None
        };
        let (tx, lost, batching) = (self.tx.clone(), self.lost.clone(), self.ctx.batching);
        if let Some(reason) = refusal {
            self.tasks.spawn(async move {
                commands::refuse(start, reason, tx, lost, batching).await;
                None
            });
            return;
        }
        let (inbox_tx, inbox) = Inbox::channel();
        let command_id = start.command_id.clone();
        self.running.insert(command_id.clone(), inbox_tx);
        let ctx = Arc::clone(&self.ctx);
        self.tasks.spawn(async move {
            commands::execute(&ctx, start, tx, inbox, lost).await;
            Some(command_id)
        });
    }

    /// Whether running commands are being interrupted (rather than left to finish).
    fn interrupting(&self) -> bool {
        matches!(
            self.stop,
            Some(Stop::Local | Stop::Master { graceful: false })
        )
    }

    fn begin_stop(&mut self, stop: Stop, why: &str) {
        if self.interrupting() {
            return;
        }
        let graceful = stop == Stop::Master { graceful: true };
        if graceful && self.stop.is_some() {
            return;
        }
        self.stop = Some(stop);
        if stop == Stop::Local {
            // As when a Buildbot worker stops: its commands die with the session and the master
            // sees the connection go, so the builds end RETRY and run again elsewhere.
            self.lost.cancel();
            return;
        }
        if !graceful {
            for inbox in self.running.values() {
                let _ = inbox.interrupts.try_send(why.to_owned());
            }
            self.force_at = Some(Instant::now() + STOP_GRACE);
        }
    }

    /// Every command has reported: close the outgoing stream so the master sees the end, and
    /// give it a moment to close its side, so that the last messages are not cut off.
    async fn close(self, stop: Stop) -> SessionEnd {
        let Self {
            tx,
            mut inbound,
            _client,
            ..
        } = self;
        drop(tx);
        let drained = tokio::time::timeout(CLOSE_GRACE, async {
            while let Ok(Some(_)) = inbound.message().await {}
        });
        if drained.await.is_err() {
            tracing::debug!("the master did not close the session in time");
        }
        match stop {
            Stop::Local => SessionEnd::Shutdown,
            Stop::Master { .. } => SessionEnd::MasterShutdown,
        }
    }

    async fn lose(mut self, reason: String) -> SessionEnd {
        self.lost.cancel();
        let finished = tokio::time::timeout(LOST_GRACE, async {
            while self.tasks.join_next().await.is_some() {}
        });
        if finished.await.is_err() {
            tracing::warn!(
                running = self.tasks.len(),
                "commands did not stop after the session was lost"
            );
            self.tasks.abort_all();
        }
        match self.stop {
            Some(Stop::Local) => SessionEnd::Shutdown,
            Some(Stop::Master { .. }) => SessionEnd::MasterShutdown,
            None => SessionEnd::Lost(reason),
        }
    }
}

async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

pub(super) fn body_name(body: &FromMaster) -> &'static str {
    match body {
        FromMaster::Welcome(_) => "Welcome",
        FromMaster::Refused(_) => "Refused",
        FromMaster::StartCommand(_) => "StartCommand",
        FromMaster::InterruptCommand(_) => "InterruptCommand",
        FromMaster::Keepalive(_) => "Keepalive",
        FromMaster::Shutdown(_) => "Shutdown",
        FromMaster::Print(_) => "Print",
        FromMaster::DownloadData(_) => "DownloadData",
    }
}
