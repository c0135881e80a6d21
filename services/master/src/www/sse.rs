//! `/sse`: Buildbot's server-sent events endpoint (reference/buildbot.md §5.7, `www/sse.py`).
//!
//! `GET /sse/listen[/<path...>]` opens a stream whose first event is `handshake` with the
//! session's uuid; then every bus event matching one of the session's paths arrives as
//! `event: event` with `{"key": [...], "message": {...}}`. `GET /sse/add/<uuid>/<path...>` and
//! `/sse/remove/<uuid>/<path...>` change the paths of a session from any other request.
//!
//! Design invariant 7 (SSE behind a round-robin balancer): add and remove never touch the
//! session directly. They publish a control message on the bus (`sse.<uuid>.add|remove`) and
//! wait for the reply of whichever master holds the session ([`control`]). The single master
//! takes the same path through its in-process bus.

mod control;
mod session;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::context::Context;

/// What the SSE handlers share: the master and the sessions it holds.
pub(super) struct Live {
    ctx: Arc<Context>,
    /// Sessions streamed by this master, so an add for a session nobody can hold is refused
    /// at once on a single master instead of after the reply timeout.
    sessions: Mutex<HashSet<Uuid>>,
    /// Ends every stream, so open dashboards do not hold up the master's shutdown.
    shutdown: CancellationToken,
}

impl Live {
    // Each critical section is one insert, remove or lookup, so a poisoned set is still sound.
    fn sessions(&self) -> MutexGuard<'_, HashSet<Uuid>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this master streams the session.
    fn holds(&self, uuid: &Uuid) -> bool {
        self.sessions().contains(uuid)
    }
}

/// The `/sse` routes; streams end when `shutdown` is cancelled.
pub(super) fn routes<S>(ctx: Arc<Context>, shutdown: CancellationToken) -> Router<S> {
    let live = Arc::new(Live {
        ctx,
        sessions: Mutex::new(HashSet::new()),
        shutdown,
    });
    Router::new()
        .route("/sse", get(listen_to_nothing))
        .route("/sse/{*path}", get(dispatch))
        .with_state(live)
}

async fn listen_to_nothing(State(live): State<Arc<Live>>) -> Response {
    session::listen(live, Vec::new()).await
}

/// Buildbot's dispatch: the first segment names the command (`listen` when it is none of
/// `listen`, `add`, `remove`); a trailing `/` is ignored.
async fn dispatch(State(live): State<Arc<Live>>, Path(path): Path<String>) -> Response {
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    if segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    let command = match segments.first().map(String::as_str) {
        Some(command @ ("listen" | "add" | "remove")) => {
            let command = command.to_owned();
            segments.remove(0);
            command
        }
        _ => "listen".to_owned(),
    };
    let action = match command.as_str() {
        "add" => control::Action::Add,
        "remove" => control::Action::Remove,
        _ => return session::listen(live, segments).await,
    };
    if segments.is_empty() {
        return text(StatusCode::BAD_REQUEST, "need uuid");
    }
    let uuid = segments.remove(0);
    control::request(&live, &uuid, action, &segments).await
}

/// A plain-text answer, as Buildbot's `finish` writes them.
fn text(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.into(),
    )
        .into_response()
}
