//! Batching of one command's updates into `CommandUpdates` messages.
//!
//! Output bytes collect in one pending batch that is sent when it holds `buffer_size` bytes or
//! `buffer_timeout` after its first unsent byte. Sending goes through the session's bounded
//! channel, so a command whose output outruns the master waits instead of buffering.

use std::time::Duration;

use ferrobot_protocol::v1::{
    CommandComplete, CommandUpdate, CommandUpdates, LogOutput, Output, Stream, WorkerMessage,
    command_update::Update, worker_message::Body,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How output is batched; the master chooses it in its Welcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Most output bytes in one `CommandUpdates` message.
    pub buffer_size: usize,
    /// Longest time an output byte waits before it is sent.
    pub buffer_timeout: Duration,
}

impl Batching {
    /// Buildbot's buffer size (64 KiB) and a delay short enough for live logs.
    pub const DEFAULT_BUFFER_SIZE: usize = 64 * 1024;
    /// Default for [`Batching::buffer_timeout`].
    pub const DEFAULT_BUFFER_TIMEOUT: Duration = Duration::from_millis(100);
    /// Batches stay well below gRPC's default 4 MiB message limit.
    pub const MAX_BUFFER_SIZE: usize = 1024 * 1024;

    /// The batching a Welcome asks for; zero means "the default", oversized values are capped.
    pub fn from_welcome(buffer_size: u32, buffer_timeout_ms: u32) -> Self {
        let buffer_size = match usize::try_from(buffer_size) {
            Ok(0) | Err(_) => Self::DEFAULT_BUFFER_SIZE,
            Ok(size) => size.min(Self::MAX_BUFFER_SIZE),
        };
        let buffer_timeout = match buffer_timeout_ms {
            0 => Self::DEFAULT_BUFFER_TIMEOUT,
            ms => Duration::from_millis(u64::from(ms)),
        };
        Self {
            buffer_size,
            buffer_timeout,
        }
    }
}

impl Default for Batching {
    fn default() -> Self {
        Self {
            buffer_size: Self::DEFAULT_BUFFER_SIZE,
            buffer_timeout: Self::DEFAULT_BUFFER_TIMEOUT,
        }
    }
}

/// The session is gone: nothing more can be sent for this command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gone;

/// One command's pending updates and the channel they leave by.
pub(crate) struct Outbox {
    command_id: String,
    sender: mpsc::Sender<WorkerMessage>,
    lost: CancellationToken,
    batching: Batching,
    pending: Vec<CommandUpdate>,
    pending_bytes: usize,
    first_unsent: Option<Instant>,
}

impl Outbox {
    pub(crate) fn new(
        command_id: String,
        sender: mpsc::Sender<WorkerMessage>,
        lost: CancellationToken,
        batching: Batching,
    ) -> Self {
        Self {
            command_id,
            sender,
            lost,
            batching,
            pending: Vec::new(),
            pending_bytes: 0,
            first_unsent: None,
        }
    }

    pub(crate) fn command_id(&self) -> &str {
        &self.command_id
    }

    /// The token cancelled when the session is lost.
    pub(crate) fn lost(&self) -> &CancellationToken {
        &self.lost
    }

    /// The session channel, for callers that wait for room with `reserve()`.
    pub(crate) fn sender(&self) -> &mpsc::Sender<WorkerMessage> {
        &self.sender
    }

    /// Output bytes the pending batch can still take.
    pub(crate) fn room(&self) -> usize {
        self.batching.buffer_size.saturating_sub(self.pending_bytes)
    }

    pub(crate) fn is_full(&self) -> bool {
        self.room() == 0
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// When the pending batch must be sent even if it is not full.
    pub(crate) fn flush_deadline(&self) -> Option<Instant> {
        self.first_unsent
            .map(|first| first + self.batching.buffer_timeout)
    }

    /// Adds as many bytes of `data` as fit; returns how many were taken.
    pub(crate) fn push_output_partial(&mut self, stream: Stream, data: &[u8]) -> usize {
        let taken = data.len().min(self.room());
        if taken == 0 {
            return 0;
        }
        let chunk = &data[..taken];
        self.pending_bytes += taken;
        self.first_unsent.get_or_insert_with(Instant::now);
        // Consecutive writes to one stream travel as one Output, so many small writes stay small
        // on the wire; a change of stream starts a new one, which keeps the order across streams.
        if let Some(CommandUpdate {
            update: Some(Update::Output(last)),
        }) = self.pending.last_mut()
            && last.stream == stream as i32
        {
            last.data.extend_from_slice(chunk);
            return taken;
        }
        self.pending.push(CommandUpdate {
            update: Some(Update::Output(Output {
                stream: stream as i32,
                data: chunk.to_vec(),
            })),
        });
        taken
    }

    /// As [`Outbox::push_output_partial`], for a followed logfile named `name`.
    pub(crate) fn push_log_partial(&mut self, name: &str, data: &[u8]) -> usize {
        let taken = data.len().min(self.room());
        if taken == 0 {
            return 0;
        }
        let chunk = &data[..taken];
        self.pending_bytes += taken;
        self.first_unsent.get_or_insert_with(Instant::now);
        if let Some(CommandUpdate {
            update: Some(Update::Log(last)),
        }) = self.pending.last_mut()
            && last.name == name
        {
            last.data.extend_from_slice(chunk);
            return taken;
        }
        self.pending.push(CommandUpdate {
            update: Some(Update::Log(LogOutput {
                name: name.to_owned(),
                data: chunk.to_vec(),
            })),
        });
        taken
    }

    /// Adds all of `data` to the log `name`, sending full batches on the way.
    pub(crate) async fn log(&mut self, name: &str, mut data: &[u8]) -> Result<(), Gone> {
        while !data.is_empty() {
            if self.is_full() {
                self.flush().await?;
            }
            let taken = self.push_log_partial(name, data);
            data = &data[taken..];
        }
        Ok(())
    }

    /// Queues an update carrying `bytes` bytes of payload (a transfer chunk) whole: the pending
    /// batch is sent first when the chunk would not fit, so batches stay near `buffer_size`.
    pub(crate) async fn push_sized(&mut self, update: Update, bytes: usize) -> Result<(), Gone> {
        if self.has_pending() && self.room() < bytes {
            self.flush().await?;
        }
        self.pending_bytes += bytes;
        self.push_update(update);
        if self.is_full() {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues a non-output update (rc, elapsed, stat, ...); it rides with the next batch.
    pub(crate) fn push_update(&mut self, update: Update) {
        self.first_unsent.get_or_insert_with(Instant::now);
        self.pending.push(CommandUpdate {
            update: Some(update),
        });
    }

    /// Takes the pending batch as a message, leaving the outbox empty.
    pub(crate) fn take_message(&mut self) -> Option<WorkerMessage> {
        if self.pending.is_empty() {
            return None;
        }
        self.pending_bytes = 0;
        self.first_unsent = None;
        Some(WorkerMessage {
            body: Some(Body::Updates(CommandUpdates {
                command_id: self.command_id.clone(),
                updates: std::mem::take(&mut self.pending),
            })),
        })
    }

    /// Adds all of `data`, sending full batches on the way.
    pub(crate) async fn output(&mut self, stream: Stream, mut data: &[u8]) -> Result<(), Gone> {
        while !data.is_empty() {
            if self.is_full() {
                self.flush().await?;
            }
            let taken = self.push_output_partial(stream, data);
            data = &data[taken..];
        }
        Ok(())
    }

    /// Adds a header line (or several).
    pub(crate) async fn header(&mut self, text: &str) -> Result<(), Gone> {
        self.output(Stream::Header, text.as_bytes()).await
    }

    /// Sends the pending batch now, if there is one.
    pub(crate) async fn flush(&mut self) -> Result<(), Gone> {
        match self.take_message() {
            Some(message) => self.send(message).await,
            None => Ok(()),
        }
    }

    /// Sends what is pending, then the command's one `CommandComplete`.
    pub(crate) async fn complete(mut self, error: Option<String>) -> Result<(), Gone> {
        self.flush().await?;
        let complete = CommandComplete {
            command_id: self.command_id.clone(),
            error: error.unwrap_or_default(),
        };
        self.send(WorkerMessage {
            body: Some(Body::Complete(complete)),
        })
        .await
    }

    async fn send(&self, message: WorkerMessage) -> Result<(), Gone> {
        tokio::select! {
            biased;
            () = self.lost.cancelled() => Err(Gone),
            sent = self.sender.send(message) => sent.map_err(|_| Gone),
        }
    }
}
