//! One SSE session: its stream to the client, its paths (one bus subscription each) and its
//! control subscription, all owned by one task that ends when the client goes away.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use ferrobot_bus::{Event, Subscription};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use super::control::{self, Action};
use super::{Live, text};
use crate::www::ws::{EventStream, Outbox, event_stream, frames};

/// Events waiting to be written to one client; events beyond it are dropped and logged, so a
/// slow client never slows the master.
const QUEUE_CAPACITY: usize = 1024;

/// How often an idle stream sends a comment, so a vanished client is noticed and its session
/// ends.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Forgets the session when its task ends, however it ends.
struct Registration {
    live: Arc<Live>,
    uuid: Uuid,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.live.sessions().remove(&self.uuid);
    }
}

/// A session's paths, keyed by the path as the client wrote it (Buildbot's `pathref`).
struct Paths {
    streams: StreamMap<String, EventStream>,
}

impl Paths {
    async fn add(&mut self, live: &Live, path: &str) -> Result<(), (StatusCode, String)> {
        if self.streams.contains_key(path) {
            return Ok(());
        }
        let pattern =
            frames::pattern(path).map_err(|message| (StatusCode::BAD_REQUEST, message))?;
        let subscription = live
            .ctx
            .events
            .bus()
            .subscribe(&pattern)
            .await
            .map_err(|error| (StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?;
        self.streams
            .insert(path.to_owned(), event_stream(subscription));
        Ok(())
    }
}

/// `GET /sse/listen[/<path...>]`: registers a session and streams it.
pub(super) async fn listen(live: Arc<Live>, path: Vec<String>) -> Response {
    let uuid = Uuid::new_v4();
    let control = match live
        .ctx
        .events
        .bus()
        .subscribe(&control::control_pattern(&uuid))
        .await
    {
        Ok(control) => control,
        Err(error) => {
            tracing::warn!(%error, "sse session not started");
            return text(StatusCode::SERVICE_UNAVAILABLE, error.to_string());
        }
    };
    let mut paths = Paths {
        streams: StreamMap::new(),
    };
    if !path.is_empty()
        && let Err((status, message)) = paths.add(&live, &path.join("/")).await
    {
        return text(status, message);
    }
    let (queue, pending) = mpsc::channel(QUEUE_CAPACITY);
    let handshake = SseEvent::default()
        .event("handshake")
        .data(uuid.to_string());
    if queue.try_send(handshake).is_err() {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "sse queue refused the handshake",
        );
    }
    // Registered before the handshake is sent, so an add that follows it finds the session.
    live.sessions().insert(uuid);
    let registration = Registration {
        live: live.clone(),
        uuid,
    };
    tracing::debug!(session = %uuid, "sse session started");
    tokio::spawn(run(registration, control, paths, queue));
    let stream = ReceiverStream::new(pending).map(Ok::<_, Infallible>);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

async fn run(
    registration: Registration,
    mut control: Subscription,
    mut paths: Paths,
    queue: mpsc::Sender<SseEvent>,
) {
    let live = registration.live.clone();
    let uuid = registration.uuid;
    let mut outbox = Outbox::new(queue, "sse");
    loop {
        tokio::select! {
            _ = live.shutdown.cancelled() => break,
            _ = outbox.queue().closed() => break,
            message = control.next() => match message {
                None => break,
                Some(Ok(message)) => apply(&live, &uuid, &mut paths, message).await,
                Some(Err(error)) => {
                    tracing::warn!(session = %uuid, %error, "sse control messages lagged");
                }
            },
            Some((path, item)) = paths.streams.next(), if !paths.streams.is_empty() => {
                if !outbox.offer(&path, item.map(|event| event_frame(&event))) {
                    break;
                }
            }
        }
    }
    tracing::debug!(session = %uuid, "sse session ended");
    // Unsubscribe, then forget the session (the registration drops last).
    drop(paths);
    drop(control);
    drop(registration);
}

/// `event: event` with `{"key": [...segments], "message": payload}`.
fn event_frame(event: &Event) -> SseEvent {
    let data = json!({ "key": event.topic.0, "message": event.payload });
    SseEvent::default().event("event").data(data.to_string())
}

/// Applies one add or remove and answers the requester.
async fn apply(live: &Live, uuid: &Uuid, paths: &mut Paths, message: Event) {
    let Some(action) = message
        .topic
        .0
        .get(2)
        .and_then(|name| Action::from_name(name))
    else {
        return;
    };
    let (Some(path), Some(request)) = (
        message.payload["path"].as_str(),
        message.payload["request"].as_str(),
    ) else {
        let payload = &message.payload;
        tracing::warn!(session = %uuid, %payload, "malformed sse control message");
        return;
    };
    let answer = match action {
        Action::Add => match paths.add(live, path).await {
            Ok(()) => control::reply(StatusCode::OK, "ok"),
            Err((status, message)) => control::reply(status, &message),
        },
        Action::Remove => match paths.streams.remove(path) {
            Some(_subscription) => control::reply(StatusCode::OK, "ok"),
            None => control::reply(
                StatusCode::NOT_FOUND,
                "consumer is not listening to this event",
            ),
        },
    };
    let topic = control::reply_topic(uuid, request);
    if let Err(error) = live.ctx.events.bus().publish(&topic, &answer).await {
        tracing::warn!(session = %uuid, %error, "sse control reply not published");
    }
}
