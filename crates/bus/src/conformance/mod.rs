//! The behaviour every [`Bus`] must show, written once and run against each implementation
//! (the in-process bus here, the NATS bus in its own tests) through
//! [`bus_conformance_suite!`](crate::bus_conformance_suite).
//!
//! Each case panics with a message naming what a user would notice. Absence of delivery is
//! checked without sleeping: a case publishes the event that must not arrive, then one that
//! must, and expects the latter first (order is kept per publisher).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Bus, Event, Pattern, Subscription, Topic};

mod delivery;

pub use delivery::*;

/// How long a case waits for one expected event.
pub const WAIT: Duration = Duration::from_secs(10);

/// What a case needs to know about the bus under test.
pub struct Fixture {
    /// The bus; cases may clone it into tasks.
    pub bus: Arc<dyn Bus>,
    /// How many undelivered events a subscription holds before it lags.
    pub queue_capacity: usize,
    /// Counts the implementation's live subscriptions, when it can tell; dropping a
    /// subscription must lower it at once.
    pub live_subscriptions: Option<Box<dyn Fn() -> usize + Send + Sync>>,
}

impl Fixture {
    /// A fixture without a subscription counter.
    pub fn new(bus: Arc<dyn Bus>, queue_capacity: usize) -> Fixture {
        Fixture {
            bus,
            queue_capacity,
            live_subscriptions: None,
        }
    }

    /// Adds the live subscription counter.
    pub fn with_live_subscriptions(
        mut self,
        count: impl Fn() -> usize + Send + Sync + 'static,
    ) -> Fixture {
        self.live_subscriptions = Some(Box::new(count));
        self
    }
}

/// Expands to one `#[tokio::test]` per conformance case. The argument is an expression giving
/// a future of [`Fixture`]; it is evaluated afresh in every test. The calling crate needs
/// `tokio` with the `macros` and `rt` features.
#[macro_export]
macro_rules! bus_conformance_suite {
    ($factory:expr) => {
        $crate::bus_conformance_suite!(@cases $factory;
            exact_match,
            single_segment_wildcard,
            tail_wildcard,
            different_length_does_not_match,
            several_subscribers_get_the_same_event,
            unsubscribe_on_drop,
            payload_round_trip,
            segments_with_dots_and_other_tricky_characters,
            lagged_subscriber_gets_lagged_then_later_events,
            publish_with_no_subscribers_is_ok,
            order_is_preserved_per_publisher,
            empty_topic_and_pattern_are_invalid,
        );
        #[::tokio::test]
        async fn subscription_ends_when_bus_is_dropped() {
            let fixture = $factory.await;
            $crate::conformance::subscription_ends_when_bus_is_dropped(fixture).await;
        }
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test]
            async fn $case() {
                let fixture = $factory.await;
                $crate::conformance::$case(&fixture).await;
            }
        )*
    };
}

pub(crate) fn topic(segments: &[&str]) -> Topic {
    Topic::new(segments.iter().copied())
}

pub(crate) async fn subscribe(fixture: &Fixture, segments: &[&str]) -> Subscription {
    let pattern = Pattern::new(segments.iter().copied());
    fixture
        .bus
        .subscribe(&pattern)
        .await
        .unwrap_or_else(|error| panic!("subscribing to {pattern:?} failed: {error}"))
}

pub(crate) async fn publish(fixture: &Fixture, segments: &[&str], payload: Value) {
    let topic = topic(segments);
    fixture
        .bus
        .publish(&topic, &payload)
        .await
        .unwrap_or_else(|error| panic!("publishing to {topic:?} failed: {error}"));
}

/// The next delivery, whatever it is; panics if nothing comes within [`WAIT`].
pub async fn next_delivery(subscription: &mut Subscription) -> Option<crate::Result<Event>> {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery within {WAIT:?}"))
}

/// The next event; panics on a timeout, a lag report or the end of the stream.
pub async fn receive(subscription: &mut Subscription) -> Event {
    match next_delivery(subscription).await {
        Some(Ok(event)) => event,
        Some(Err(error)) => panic!("expected an event, got error {error}"),
        None => panic!("expected an event, the subscription ended"),
    }
}

pub(crate) async fn receive_topic(subscription: &mut Subscription) -> Vec<String> {
    receive(subscription).await.topic.0
}

/// A subscription to a literal topic gets that topic's events and no others.
pub async fn exact_match(fixture: &Fixture) {
    let mut subscription = subscribe(fixture, &["builds", "12", "finished"]).await;
    publish(
        fixture,
        &["builds", "13", "finished"],
        json!({ "buildid": 13 }),
    )
    .await;
    publish(fixture, &["builds", "12", "new"], json!({ "buildid": 12 })).await;
    publish(
        fixture,
        &["builds", "12", "finished"],
        json!({ "buildid": 12 }),
    )
    .await;
    let event = receive(&mut subscription).await;
    assert_eq!(event.topic, topic(&["builds", "12", "finished"]));
    assert_eq!(event.payload, json!({ "buildid": 12 }));
}

/// `*` matches any one segment and only one.
pub async fn single_segment_wildcard(fixture: &Fixture) {
    let mut subscription = subscribe(fixture, &["builds", "*", "finished"]).await;
    publish(fixture, &["builds", "12", "new"], json!({})).await;
    publish(fixture, &["builds", "12", "finished"], json!({})).await;
    publish(fixture, &["builds", "12", "steps", "finished"], json!({})).await;
    publish(fixture, &["builds", "finished"], json!({})).await;
    publish(fixture, &["builds", "13", "finished"], json!({})).await;
    assert_eq!(
        receive_topic(&mut subscription).await,
        ["builds", "12", "finished"]
    );
    assert_eq!(
        receive_topic(&mut subscription).await,
        ["builds", "13", "finished"]
    );
}

/// A final `>` matches one or more trailing segments, never zero.
pub async fn tail_wildcard(fixture: &Fixture) {
    let mut subscription = subscribe(fixture, &["builds", ">"]).await;
    publish(fixture, &["builds"], json!({})).await;
    publish(fixture, &["changes", "1", "new"], json!({})).await;
    publish(fixture, &["builds", "1"], json!({})).await;
    publish(
        fixture,
        &["builds", "1", "steps", "2", "finished"],
        json!({}),
    )
    .await;
    assert_eq!(receive_topic(&mut subscription).await, ["builds", "1"]);
    assert_eq!(
        receive_topic(&mut subscription).await,
        ["builds", "1", "steps", "2", "finished"]
    );
}

/// A pattern without a tail wildcard needs a topic of the same length.
pub async fn different_length_does_not_match(fixture: &Fixture) {
    let mut short = subscribe(fixture, &["workers", "*"]).await;
    let mut long = subscribe(fixture, &["workers", "1", "connected", "x"]).await;
    publish(fixture, &["workers", "1", "connected"], json!({})).await;
    publish(fixture, &["workers"], json!({})).await;
    publish(fixture, &["workers", "2"], json!({})).await;
    publish(fixture, &["workers", "1", "connected", "x"], json!({})).await;
    assert_eq!(receive_topic(&mut short).await, ["workers", "2"]);
    assert_eq!(
        receive_topic(&mut long).await,
        ["workers", "1", "connected", "x"]
    );
}
