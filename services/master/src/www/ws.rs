//! `/ws`: Buildbot's live-event WebSocket (reference/buildbot.md §5.6). A client sends
//! `startConsuming` / `stopConsuming` / `ping` frames and receives `{"k", "m"}` event frames for
//! every bus event matching a path it consumes.
//!
//! Each consumed path is one subscription, dropped on `stopConsuming` and when the socket
//! ends; sockets consuming the same path share one bus subscription (`fanout.rs`). A slow client never slows the master: the bus drops events for a full subscription
//! queue (we log the lag and go on) and the socket's own outbox is bounded too, so events that
//! do not fit are dropped and logged rather than waited for.

pub(super) mod frames;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use ferrobot_bus::{Event, Subscription};
use futures::{SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::StreamMap;
use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::www::fanout::Fanout;
use frames::{Command, ErrorReply, Request};

/// Frames waiting to be written to one socket. Events beyond it are dropped (and logged);
/// replies wait for room, which only slows the client that sent the command.
const OUTBOX_CAPACITY: usize = 1024;

/// How long one frame may take to write before the client counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A bus subscription as a stream, so one socket can wait on all of its paths at once.
/// Dropping the stream drops the subscription, which unsubscribes.
pub(super) type EventStream = Pin<Box<dyn Stream<Item = ferrobot_bus::Result<Event>> + Send>>;

/// Turns a subscription into an [`EventStream`].
pub(super) fn event_stream(subscription: Subscription) -> EventStream {
    Box::pin(futures::stream::unfold(
        subscription,
        |mut subscription| async move {
            let item = subscription.next().await?;
            Some((item, subscription))
        },
    ))
}

#[derive(Clone)]
struct WsState {
    fanout: Arc<Fanout>,
    shutdown: CancellationToken,
}

/// The `/ws` route. Sockets close when `shutdown` is cancelled, so a connected dashboard does
/// not hold up the master's shutdown.
pub(super) fn routes<S>(ctx: Arc<Context>, shutdown: CancellationToken) -> Router<S> {
    let fanout = Fanout::new(
        ctx.events.bus().clone(),
        ferrobot_bus::DEFAULT_QUEUE_CAPACITY,
    );
    Router::new()
        .route("/ws", get(upgrade))
        .with_state(WsState { fanout, shutdown })
}

/// Per-socket buffers: dashboards send a few small command frames and receive small event
/// frames, so the 128 KiB defaults would be most of a connection's memory.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;

async fn upgrade(State(state): State<WsState>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| serve(state, socket))
}

/// The paths one socket consumes.
struct Consumer {
    paths: StreamMap<String, EventStream>,
}

impl Consumer {
    /// Runs one command; returns the reply frame.
    async fn handle(&mut self, fanout: &Arc<Fanout>, request: Request) -> String {
        let Request { id, command } = request;
        match command {
            Command::Ping => frames::pong(&id),
            Command::StartConsuming(path) => {
                // Buildbot acks a repeated path without subscribing twice (no leaked qref).
                if self.paths.contains_key(&path) {
                    return frames::ack(&id);
                }
                let pattern = match frames::pattern(&path) {
                    Ok(pattern) => pattern,
                    Err(message) => return frames::bad_path(message, &id).to_text(),
                };
                match fanout.subscribe(&pattern).await {
                    Ok(subscription) => {
                        self.paths.insert(path, event_stream(subscription));
                        frames::ack(&id)
                    }
                    Err(error) => {
                        tracing::warn!(%path, %error, "websocket subscription refused by the bus");
                        frames::internal(format!("Internal Error '{error}'"), &id).to_text()
                    }
                }
            }
            Command::StopConsuming(path) => match self.paths.remove(&path) {
                Some(_subscription) => frames::ack(&id),
                None => frames::not_consumed(&path, &id).to_text(),
            },
        }
    }
}

/// Hands events to a client's bounded queue without ever waiting: when the queue is full the
/// event is dropped, and the first drop of each episode is logged.
pub(super) struct Outbox<T> {
    queue: mpsc::Sender<T>,
    /// Which endpoint, for the log.
    endpoint: &'static str,
    /// Events dropped since the client last had room.
    dropped: u64,
}

impl<T> Outbox<T> {
    /// An outbox feeding `queue`.
    pub(super) fn new(queue: mpsc::Sender<T>, endpoint: &'static str) -> Outbox<T> {
        Outbox {
            queue,
            endpoint,
            dropped: 0,
        }
    }

    /// The queue, for replies that may wait and for noticing the client left.
    pub(super) fn queue(&self) -> &mpsc::Sender<T> {
        &self.queue
    }

    /// Offers one item (`Ok`) or reports the bus lag of `path` (`Err`); returns false once the
    /// client is gone.
    pub(super) fn offer(&mut self, path: &str, item: ferrobot_bus::Result<T>) -> bool {
        let frame = match item {
            Ok(frame) => frame,
            Err(error) => {
                let endpoint = self.endpoint;
                tracing::warn!(endpoint, %path, %error, "live subscription lagged, events dropped");
                return true;
            }
        };
        match self.queue.try_send(frame) {
            Ok(()) => {
                if self.dropped > 0 {
                    let (endpoint, dropped) = (self.endpoint, self.dropped);
                    tracing::warn!(endpoint, dropped, "slow live client caught up");
                    self.dropped = 0;
                }
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self.dropped == 0 {
                    let (endpoint, capacity) = (self.endpoint, self.queue.max_capacity());
                    tracing::warn!(endpoint, %path, capacity, "live client too slow, dropping");
                }
                self.dropped += 1;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

async fn serve(state: WsState, socket: WebSocket) {
    let (sink, mut incoming) = socket.split();
    let (queue, pending) = mpsc::channel::<Message>(OUTBOX_CAPACITY);
    let writer = tokio::spawn(write_frames(sink, pending));
    let mut outbox = Outbox::new(queue, "ws");
    let mut consumer = Consumer {
        paths: StreamMap::new(),
    };
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = outbox.queue().closed() => break,
            frame = incoming.next() => {
                let Some(text) = frame_text(frame) else { break };
                let Some(text) = text else { continue };
                let reply = match frames::parse(&text) {
                    Ok(request) => consumer.handle(&state.fanout, request).await,
                    Err(error) => error_text(error),
                };
                // Replies wait for room: only the client that sent the command is slowed.
                if outbox.queue().send(Message::Text(reply.into())).await.is_err() {
                    break;
                }
            }
            Some((path, item)) = consumer.paths.next(), if !consumer.paths.is_empty() => {
                let frame = item.map(|event| Message::Text(frames::event(&event).into()));
                if !outbox.offer(&path, frame) {
                    break;
                }
            }
        }
    }
    // Unsubscribe before the socket closes, so a client that sees the close knows the master
    // holds nothing for it any more.
    drop(consumer);
    drop(outbox);
    if let Err(error) = writer.await {
        tracing::warn!(%error, "websocket writer failed");
    }
}

/// The text of a client frame: `None` when the socket ended, `Some(None)` for a frame that
/// carries no command.
fn frame_text(frame: Option<Result<Message, axum::Error>>) -> Option<Option<String>> {
    match frame? {
        Err(_) | Ok(Message::Close(_)) => None,
        Ok(Message::Text(text)) => Some(Some(text.as_str().to_owned())),
        // Buildbot decodes binary frames as UTF-8 text too.
        Ok(Message::Binary(bytes)) => Some(Some(String::from_utf8_lossy(&bytes).into_owned())),
        // The WebSocket layer answers pings itself.
        Ok(Message::Ping(_) | Message::Pong(_)) => Some(None),
    }
}

fn error_text(error: ErrorReply) -> String {
    tracing::debug!(code = error.code, message = %error.message, "websocket frame refused");
    error.to_text()
}

/// Writes queued frames until the outbox closes or the client stops taking them, then closes
/// the socket.
async fn write_frames(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut pending: mpsc::Receiver<Message>,
) {
    while let Some(frame) = pending.recv().await {
        match tokio::time::timeout(WRITE_TIMEOUT, sink.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, "websocket client gone");
                return;
            }
            Err(_) => {
                tracing::warn!(
                    timeout_s = WRITE_TIMEOUT.as_secs(),
                    "websocket client stopped reading, closing"
                );
                return;
            }
        }
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
}
