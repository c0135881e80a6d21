//! The event bus. Topics mirror Buildbot's MQ routing keys (`builds.12.finished`,
//! `buildrequests.7.new`, `control.builds.12.stop`, reference/buildbot.md §4); a subscription
//! takes a pattern where `*` matches one segment and a final `>` matches one or more.
//!
//! The bus only wakes consumers up (design invariant 1): messages may be lost or duplicated,
//! so consumers re-read the store and run a slow sweep as well.
#![warn(missing_docs)]

#[cfg(feature = "testsuite")]
pub mod conformance;
mod error;
mod in_process;
mod nats;
mod subject;
mod subscription;

use async_trait::async_trait;
use serde_json::Value;

pub use error::{Error, Result};
pub use in_process::{DEFAULT_QUEUE_CAPACITY, InProcessBus};
pub use nats::{ConnectionStatus, NatsBus, NatsOptions};
pub use subject::{decode_subject, encode_pattern, encode_subject};
pub use subscription::{Delivery, EventSender, Subscription};

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

    /// Whether a topic matches this pattern. `*` matches exactly one segment; a `>` in the last
    /// position matches one or more trailing segments (a `>` anywhere else is literal); every
    /// other segment matches only itself.
    pub fn matches(&self, topic: &Topic) -> bool {
        let pattern = &self.0;
        let topic = &topic.0;
        let (fixed, tail_wildcard) = match pattern.split_last() {
            Some((last, rest)) if last == FULL_WILDCARD => (rest, true),
            _ => (pattern.as_slice(), false),
        };
        let length_fits = if tail_wildcard {
            topic.len() > fixed.len()
        } else {
            topic.len() == fixed.len()
        };
        length_fits
            && fixed
                .iter()
                .zip(topic)
                .all(|(wanted, actual)| wanted == SINGLE_WILDCARD || wanted == actual)
    }

    /// Fails with [`Error::Invalid`] for a pattern no topic can match: one without segments.
    pub fn validate(&self) -> Result<()> {
        if self.0.is_empty() {
            return Err(Error::Invalid(
                String::new(),
                "a pattern needs at least one segment".into(),
            ));
        }
        Ok(())
    }
}

/// The pattern segment that matches any one segment.
pub const SINGLE_WILDCARD: &str = "*";
/// The final pattern segment that matches one or more trailing segments.
pub const FULL_WILDCARD: &str = ">";

impl Topic {
    /// Fails with [`Error::Invalid`] for a topic that cannot be published: one without segments.
    pub fn validate(&self) -> Result<()> {
        if self.0.is_empty() {
            return Err(Error::Invalid(
                String::new(),
                "a topic needs at least one segment".into(),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_path())
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("/"))
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

/// Publish and subscribe. Implementations: in-process (single node) and NATS (cluster), proved
/// alike by one conformance suite.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes one message. Callers publish only after the change it announces is committed.
    /// Never blocks on, and never fails because of, a slow subscriber; fails with
    /// [`Error::Invalid`] for a topic without segments.
    async fn publish(&self, topic: &Topic, payload: &Value) -> Result<()>;
    /// Subscribes to every topic matching the pattern; fails with [`Error::Invalid`] for a
    /// pattern without segments. Events published after this returns are delivered.
    async fn subscribe(&self, pattern: &Pattern) -> Result<Subscription>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &[&str], topic: &[&str]) -> bool {
        Pattern::new(pattern.to_vec()).matches(&Topic::new(topic.to_vec()))
    }

    #[test]
    fn literal_segments_match_only_themselves() {
        assert!(matches(
            &["builds", "12", "finished"],
            &["builds", "12", "finished"]
        ));
        assert!(!matches(
            &["builds", "12", "finished"],
            &["builds", "13", "finished"]
        ));
        assert!(!matches(&["builds", "12"], &["builds", "12", "finished"]));
        assert!(!matches(&["builds", "12", "finished"], &["builds", "12"]));
        assert!(matches(&["a.b"], &["a.b"]));
        assert!(!matches(&["a", "b"], &["a.b"]));
    }

    #[test]
    fn star_matches_exactly_one_segment() {
        assert!(matches(
            &["builds", "*", "finished"],
            &["builds", "7", "finished"]
        ));
        assert!(matches(
            &["builds", "*", "finished"],
            &["builds", "", "finished"]
        ));
        assert!(!matches(
            &["builds", "*", "finished"],
            &["builds", "finished"]
        ));
        assert!(!matches(
            &["builds", "*", "finished"],
            &["builds", "1", "2", "finished"]
        ));
        assert!(matches(&["*"], &["x"]));
        assert!(!matches(&["*"], &[]));
    }

    #[test]
    fn final_tail_wildcard_matches_one_or_more_segments() {
        assert!(matches(&["builds", ">"], &["builds", "1"]));
        assert!(matches(
            &["builds", ">"],
            &["builds", "1", "steps", "2", "new"]
        ));
        assert!(!matches(&["builds", ">"], &["builds"]));
        assert!(!matches(&["builds", ">"], &["changes", "1"]));
        assert!(matches(&[">"], &["anything"]));
        assert!(!matches(&[">"], &[]));
        // Not last, so literal.
        assert!(matches(&[">", "x"], &[">", "x"]));
        assert!(!matches(&[">", "x"], &["a", "x"]));
    }

    #[test]
    fn empty_topics_and_patterns_are_invalid() {
        assert!(matches!(Topic(vec![]).validate(), Err(Error::Invalid(..))));
        assert!(matches!(
            Pattern(vec![]).validate(),
            Err(Error::Invalid(..))
        ));
        assert!(Topic::new([""]).validate().is_ok());
        assert_eq!(
            Pattern::parse("builds.*.finished", '.'),
            Pattern::new(["builds", "*", "finished"])
        );
    }
}
