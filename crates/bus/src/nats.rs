//! The cluster bus: core NATS publish/subscribe (design §2, cluster shape).
//!
//! A topic travels as the subject [`encode_subject`] gives under the cluster's prefix
//! (`ferrobot.builds.12.finished`, `ferrobot.logs.test%2Elog.append`) with the payload as
//! serde_json bytes. A subscription is one NATS subscription on [`encode_pattern`]'s subject,
//! whose messages a forwarding task decodes back into [`Event`](crate::Event)s and pushes into
//! the shared bounded queue ([`Subscription::channel`]), so a slow consumer lags exactly as on
//! the in-process bus.
//!
//! Losing the server is survived: async-nats reconnects forever with a capped backoff and
//! re-sends every live subscription; publishes made meanwhile wait in the client's bounded
//! buffer, and once that is full they fail with [`Error::Transport`] at once instead of
//! blocking (the store is the truth, design invariant 1).
//!
//! Prefixes must not nest: a bus on `a` would see the topics of a bus on `a.b` as its own.

mod connection;
mod pump;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::client::RequestErrorKind;
use async_nats::connection::State;
use async_trait::async_trait;
use futures::FutureExt as _;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use connection::ConnectionStatus;

use crate::{
    Bus, DEFAULT_QUEUE_CAPACITY, Error, Pattern, Result, Subscription, Topic, encode_pattern,
    encode_subject,
};

/// Settings of a [`NatsBus`]; the [`Default`] suits a master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsOptions {
    /// How many undelivered events each subscription holds before it lags.
    pub queue_capacity: usize,
    /// How long a publish or subscribe may wait for room in the client's buffer while
    /// connected (while disconnected it never waits).
    pub send_timeout: Duration,
    /// How long [`NatsBus::flush`] (and the check that a new subscription reached the server)
    /// waits for the server's answer.
    pub round_trip_timeout: Duration,
    /// The longest pause between two reconnection attempts.
    pub max_reconnect_delay: Duration,
    /// How often the client pings the server, which is how a silent network loss is noticed
    /// (after two unanswered pings).
    pub ping_interval: Duration,
}

impl Default for NatsOptions {
    fn default() -> NatsOptions {
        NatsOptions {
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            send_timeout: Duration::from_secs(5),
            round_trip_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
            ping_interval: Duration::from_secs(10),
        }
    }
}

/// The NATS bus of the cluster shape. Cheap to clone; clones share one connection. Once the
/// last clone is dropped the connection closes and every subscription ends after its queued
/// events; publishes still in the client's buffer may be lost then, so a publisher that must
/// know they left calls [`NatsBus::flush`] first.
#[derive(Clone)]
pub struct NatsBus {
    inner: Arc<Inner>,
}

struct Inner {
    client: async_nats::Client,
    prefix: Arc<str>,
    options: NatsOptions,
    status: watch::Receiver<ConnectionStatus>,
    live_subscriptions: Arc<AtomicUsize>,
    next_subscription: AtomicU64,
    /// Cancelled when the last clone goes, which stops every forwarding task.
    shutdown: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl NatsBus {
    /// Connects to the NATS server at `url` (e.g. `nats://127.0.0.1:4222`) with the default
    /// [`NatsOptions`]. Every master of one cluster uses the same `prefix` (e.g. `ferrobot`).
    /// Fails with [`Error::Invalid`] for a prefix that is not a valid NATS subject without
    /// wildcards, and with [`Error::Transport`] when the server cannot be reached now.
    pub async fn connect(url: &str, prefix: &str) -> Result<NatsBus> {
        NatsBus::connect_with(url, prefix, NatsOptions::default()).await
    }

    /// Like [`NatsBus::connect`], with explicit settings.
    pub async fn connect_with(url: &str, prefix: &str, options: NatsOptions) -> Result<NatsBus> {
        validate_prefix(prefix)?;
        let server = redact(url);
        let (status_tx, status) = watch::channel(ConnectionStatus::default());
        let max_delay = options.max_reconnect_delay;
        let client = async_nats::ConnectOptions::new()
            .name(format!("ferrobot {prefix}"))
            .max_reconnects(None)
            .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, max_delay))
            .ping_interval(options.ping_interval)
            .event_callback(connection::recorder(
                status_tx,
                prefix.to_owned(),
                server.clone(),
            ))
            .connect(url)
            .await
            .map_err(|error| {
                Error::Transport(format!("cannot connect to NATS at {server}: {error}"))
            })?;
        Ok(NatsBus {
            inner: Arc::new(Inner {
                client,
                prefix: Arc::from(prefix),
                options: NatsOptions {
                    queue_capacity: options.queue_capacity.max(1),
                    ..options
                },
                status,
                live_subscriptions: Arc::new(AtomicUsize::new(0)),
                next_subscription: AtomicU64::new(0),
                shutdown: CancellationToken::new(),
            }),
        })
    }

    /// The subject prefix this bus publishes and subscribes under.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// How many undelivered events each subscription holds.
    pub fn queue_capacity(&self) -> usize {
        self.inner.options.queue_capacity
    }

    /// How many subscriptions are alive.
    pub fn subscriber_count(&self) -> usize {
        self.inner.live_subscriptions.load(Ordering::SeqCst)
    }

    /// The connection's state as the client last reported it.
    pub fn status(&self) -> ConnectionStatus {
        *self.inner.status.borrow()
    }

    /// A receiver that changes with every connection event, to wait for a reconnection
    /// (`wait_for(|status| status.reconnects() > n)`).
    pub fn watch_status(&self) -> watch::Receiver<ConnectionStatus> {
        self.inner.status.clone()
    }

    /// Waits until the server has received every message this bus published before the call
    /// (one round trip). Fails with [`Error::Transport`] at once while disconnected, and when
    /// no answer comes within [`NatsOptions::round_trip_timeout`].
    pub async fn flush(&self) -> Result<()> {
        let client = &self.inner.client;
        if client.connection_state() != State::Connected {
            return Err(Error::Transport(
                "flushing to NATS: not connected, messages wait in the client's buffer".into(),
            ));
        }
        // A request nobody serves: the server answers "no responders" only after it has
        // processed everything this connection sent before.
        let request = client.request(client.new_inbox(), Vec::new().into());
        let timeout = self.inner.options.round_trip_timeout;
        match tokio::time::timeout(timeout, request).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) if error.kind() == RequestErrorKind::NoResponders => Ok(()),
            Ok(Err(error)) => Err(Error::Transport(format!("flushing to NATS: {error}"))),
            Err(_) => Err(Error::Transport(format!(
                "flushing to NATS: no answer within {timeout:?}"
            ))),
        }
    }

    /// Runs one command that queues into the client's bounded buffer. While connected it may
    /// wait up to [`NatsOptions::send_timeout`] for room; while disconnected the handler does
    /// not drain the buffer, so it takes a place only if one is free right now.
    async fn send<T, E: fmt::Display>(
        &self,
        what: impl FnOnce() -> String,
        command: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        let outcome = if self.inner.client.connection_state() == State::Connected {
            tokio::time::timeout(self.inner.options.send_timeout, command)
                .await
                .map_err(|_| {
                    format!(
                        "the NATS client's buffer stayed full for {:?}",
                        self.inner.options.send_timeout
                    )
                })
        } else {
            // Unconstrained, so the answer depends on the buffer only, not on this task's
            // scheduling budget.
            tokio::task::unconstrained(command)
                .now_or_never()
                .ok_or_else(|| "NATS is unreachable and the client's buffer is full".to_owned())
        };
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Error::Transport(format!("{}: {error}", what()))),
            Err(reason) => Err(Error::Transport(format!("{}: {reason}", what()))),
        }
    }
}

impl fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBus")
            .field("prefix", &self.inner.prefix)
            .field("status", &self.status())
            .field("subscribers", &self.subscriber_count())
            .field("queue_capacity", &self.inner.options.queue_capacity)
            .finish()
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, topic: &Topic, payload: &Value) -> Result<()> {
        topic.validate()?;
        let subject = encode_subject(&self.inner.prefix, topic);
        let bytes = serde_json::to_vec(payload)
            .map_err(|error| Error::Invalid(topic.to_string(), error.to_string()))?;
        self.send(
            || format!("publishing {topic}"),
            self.inner.client.publish(subject, bytes.into()),
        )
        .await
    }

    async fn subscribe(&self, pattern: &Pattern) -> Result<Subscription> {
        pattern.validate()?;
        let subject = encode_pattern(&self.inner.prefix, pattern);
        let subscriber = self
            .send(
                || format!("subscribing to {pattern}"),
                self.inner.client.subscribe(subject.clone()),
            )
            .await?;
        // Another client's publish must not overtake this subscription at the server.
        if self.inner.client.connection_state() == State::Connected
            && let Err(error) = self.flush().await
        {
            // The client re-sends the subscription on reconnection, so it is kept.
            tracing::warn!(%subject, %error, "NATS did not confirm a new subscription");
        }
        let (sender, subscription) = Subscription::channel(self.inner.options.queue_capacity);
        let id = self.inner.next_subscription.fetch_add(1, Ordering::Relaxed);
        let live = Arc::clone(&self.inner.live_subscriptions);
        live.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(pump::forward(
            subscriber,
            sender,
            pump::Route {
                id,
                prefix: Arc::clone(&self.inner.prefix),
                pattern: pattern.clone(),
                capacity: self.inner.options.queue_capacity,
                shutdown: self.inner.shutdown.clone(),
            },
        ));
        Ok(subscription.on_drop(move || {
            live.fetch_sub(1, Ordering::SeqCst);
        }))
    }
}

/// The first retry is immediate (most losses are blips), then 50 ms doubling up to `max`.
fn reconnect_delay(attempts: usize, max: Duration) -> Duration {
    if attempts <= 1 {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(attempts - 2).unwrap_or(u32::MAX).min(16);
    Duration::from_millis(50)
        .saturating_mul(1 << doublings)
        .min(max)
}

/// A prefix is one or more `.`-separated NATS tokens, none empty, none holding whitespace or
/// a wildcard character, so every encoded subject is valid and literal.
fn validate_prefix(prefix: &str) -> Result<()> {
    let invalid = |reason: &str| Err(Error::Invalid(prefix.to_owned(), reason.to_owned()));
    if prefix.is_empty() {
        return invalid("a NATS subject prefix cannot be empty");
    }
    for token in prefix.split('.') {
        if token.is_empty() {
            return invalid("a NATS subject prefix cannot have an empty token");
        }
        if token
            .chars()
            .any(|c| c.is_whitespace() || c == '*' || c == '>')
        {
            return invalid("a NATS subject prefix cannot hold whitespace, '*' or '>'");
        }
    }
    Ok(())
}

/// The URL without its credentials, for logs and errors.
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delay_starts_immediate_and_is_capped() {
        let max = Duration::from_secs(2);
        assert_eq!(reconnect_delay(1, max), Duration::ZERO);
        assert_eq!(reconnect_delay(2, max), Duration::from_millis(50));
        assert_eq!(reconnect_delay(3, max), Duration::from_millis(100));
        assert_eq!(reconnect_delay(10, max), max);
        assert_eq!(reconnect_delay(usize::MAX, max), max);
    }

    #[test]
    fn prefixes_must_be_literal_subjects() {
        for good in ["ferrobot", "ferrobot.prod", "t_1-x"] {
            assert!(validate_prefix(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "a..b", "a.", "a b", "a.*", ">", "a>b", "tab\t"] {
            assert!(
                matches!(validate_prefix(bad), Err(Error::Invalid(..))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn credentials_never_reach_logs() {
        assert_eq!(
            redact("nats://user:secret@nats.example:4222"),
            "nats://nats.example:4222"
        );
        assert_eq!(redact("127.0.0.1:4222"), "127.0.0.1:4222");
        assert_eq!(redact("tls://a@b@host"), "tls://host");
    }
}
