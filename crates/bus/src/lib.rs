//! The event bus. Topics mirror Buildbot's MQ routing keys (`builds.12.finished`,
//! `buildrequests.7.new`, `control.builds.12.stop`, reference/buildbot.md §4); a subscription
//! takes a pattern where `*` matches one segment and a final `>` matches one or more.
//!
//! The bus only wakes consumers up (design invariant 1): messages may be lost or duplicated,
//! so consumers re-read the store and run a slow sweep as well.
#![warn(missing_docs)]

mod error;

use async_trait::async_trait;
use serde_json::Value;

pub use error::{Error, Result};

/// A routing key: the segments of a topic, e.g. `["builds", "12", "finished"]`.
/// Segments may contain any character, including `.`; transports escape them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic(pub Vec<String>);

impl Topic {
    /// A topic from its segments.
    pub fn new<I, S>(segments: I) -> Topic
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Topic(segments.into_iter().map(Into::into).collect())
    }

    /// The segments joined with `/`, as Buildbot's `/ws` frames show them (`builds/12/finished`).
    pub fn to_path(&self) -> String {
        self.0.join("/")
    }
}

/// A subscription pattern: segments where `*` matches any one segment and a final `>` matches
/// one or more trailing segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern(pub Vec<String>);

impl Pattern {
    /// A pattern from its segments.
    pub fn new<I, S>(segments: I) -> Pattern
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Pattern(segments.into_iter().map(Into::into).collect())
    }

    /// Parses `builds/*/finished` or `builds.*.finished` style text (no escaping).
    pub fn parse(text: &str, separator: char) -> Pattern {
        Pattern(text.split(separator).map(str::to_owned).collect())
    }

    /// Whether a topic matches this pattern.
    pub fn matches(&self, topic: &Topic) -> bool {
        todo!("implemented by the bus crate: {topic:?}")
    }
}

/// One delivered message.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where it was published.
    pub topic: Topic,
    /// The entity JSON (reference/buildbot.md §4.2).
    pub payload: Value,
}

/// A stream of events matching one pattern. Dropping it unsubscribes.
pub struct Subscription {
    // filled in by the bus crate
}

impl Subscription {
    /// The next event; `None` once the bus is gone. A subscriber that fell too far behind gets
    /// [`Error::Lagged`] once and may then re-read the store.
    pub async fn next(&mut self) -> Option<Result<Event>> {
        todo!()
    }
}

/// Publish and subscribe. Implementations: in-process (single node) and NATS (cluster), proved
/// alike by one conformance suite.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes one message. Callers publish only after the change it announces is committed.
    async fn publish(&self, topic: &Topic, payload: &Value) -> Result<()>;
    /// Subscribes to every topic matching the pattern.
    async fn subscribe(&self, pattern: &Pattern) -> Result<Subscription>;
}
