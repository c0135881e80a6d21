//! Changing a session's paths over the bus: `/sse/add` and `/sse/remove` publish
//! `sse.<uuid>.add|remove` with `{"path", "request"}`; the master streaming the session applies
//! it and answers on `sse.<uuid>.reply.<request>` with `{"code", "message"}` (Buildbot's status
//! and text). No answer within [`REPLY_TIMEOUT`] means no master holds the session.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use ferrobot_bus::{Pattern, Topic};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Live, text};
use crate::www::ws::frames;

/// How long an add or remove waits for the master holding the session.
pub(super) const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// What an add or remove asks of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Start listening to a path.
    Add,
    /// Stop listening to it.
    Remove,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Remove => "remove",
        }
    }

    /// The action a control topic's last segment names.
    pub(super) fn from_name(name: &str) -> Option<Action> {
        match name {
            "add" => Some(Action::Add),
            "remove" => Some(Action::Remove),
            _ => None,
        }
    }
}

/// The prefix of every SSE control topic.
const PREFIX: &str = "sse";

/// What a session's holder subscribes to: `sse.<uuid>.*` (add, remove; replies are longer).
pub(super) fn control_pattern(session: &Uuid) -> Pattern {
    Pattern::new([PREFIX.to_owned(), session.to_string(), "*".to_owned()])
}

fn control_topic(session: &Uuid, action: Action) -> Topic {
    Topic::new([PREFIX, &session.to_string(), action.name()])
}

/// Where the answer to `request` is published.
pub(super) fn reply_topic(session: &Uuid, request: &str) -> Topic {
    Topic::new([PREFIX, &session.to_string(), "reply", request])
}

/// The reply payload.
pub(super) fn reply(status: StatusCode, message: &str) -> Value {
    json!({ "code": status.as_u16(), "message": message })
}

/// Handles `/sse/add|remove/<uuid>/<path...>`.
pub(super) async fn request(
    live: &Live,
    session: &str,
    action: Action,
    path: &[String],
) -> Response {
    let Ok(session) = Uuid::parse_str(session) else {
        return text(StatusCode::BAD_REQUEST, "unknown uuid");
    };
    if path.is_empty() {
        return text(StatusCode::BAD_REQUEST, "need a path");
    }
    let path = path.join("/");
    if let Err(message) = frames::pattern(&path) {
        return text(StatusCode::BAD_REQUEST, message);
    }
    // A single master streams every session there is; a cluster asks the others too.
    if !live.holds(&session) && !live.ctx.config().multi_master {
        return text(StatusCode::BAD_REQUEST, "unknown uuid");
    }
    let bus = live.ctx.events.bus();
    let request = Uuid::new_v4().to_string();
    let reply_topic = reply_topic(&session, &request);
    // Subscribed before publishing, so the answer cannot slip past us.
    let mut replies = match bus.subscribe(&Pattern(reply_topic.0.clone())).await {
        Ok(replies) => replies,
        Err(error) => return unavailable(&session, error),
    };
    let message = json!({ "path": path, "request": request });
    if let Err(error) = bus
        .publish(&control_topic(&session, action), &message)
        .await
    {
        return unavailable(&session, error);
    }
    match tokio::time::timeout(REPLY_TIMEOUT, replies.next()).await {
        Ok(Some(Ok(event))) => {
            let status = event.payload["code"]
                .as_u64()
                .and_then(|code| u16::try_from(code).ok())
                .and_then(|code| StatusCode::from_u16(code).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = event.payload["message"].as_str().unwrap_or("no message");
            text(status, message)
        }
        Ok(Some(Err(error))) => unavailable(&session, error),
        Ok(None) => text(StatusCode::SERVICE_UNAVAILABLE, "the bus is closed"),
        Err(_) => {
            let action = action.name();
            tracing::debug!(%session, action, %path, "no master holds the sse session");
            text(StatusCode::BAD_REQUEST, "unknown uuid")
        }
    }
}

fn unavailable(session: &Uuid, error: ferrobot_bus::Error) -> Response {
    tracing::warn!(%session, %error, "sse control message not delivered");
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("could not reach the session: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_hears_its_own_add_and_remove_but_not_replies_or_other_sessions() {
        let mine = Uuid::new_v4();
        let other = Uuid::new_v4();
        let pattern = control_pattern(&mine);
        assert!(pattern.matches(&control_topic(&mine, Action::Add)));
        assert!(pattern.matches(&control_topic(&mine, Action::Remove)));
        assert!(!pattern.matches(&reply_topic(&mine, "r1")));
        assert!(!pattern.matches(&control_topic(&other, Action::Add)));
        assert_eq!(Action::from_name("add"), Some(Action::Add));
        assert_eq!(Action::from_name("remove"), Some(Action::Remove));
        assert_eq!(Action::from_name("reply"), None);
    }
}
