//! The single-node bus: every subscription lives in this process.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use async_trait::async_trait;
use serde_json::Value;

use crate::{Bus, Delivery, Event, EventSender, Pattern, Result, Subscription, Topic};

/// How many undelivered events a subscription holds before it starts dropping (and reports
/// [`crate::Error::Lagged`]).
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;

/// The in-process bus of the single-node shape. Cheap to clone; clones share subscribers.
///
/// Publishing never waits: an event goes to every matching subscription's bounded queue, and a
/// full queue drops it. Events from one publisher arrive in the order they were published.
#[derive(Clone)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

struct Inner {
    subscribers: RwLock<HashMap<u64, Subscriber>>,
    next_id: AtomicU64,
    queue_capacity: usize,
}

struct Subscriber {
    pattern: Pattern,
    sender: EventSender,
}

impl Inner {
    fn remove(&self, id: u64) {
        // Subscriber map updates are single inserts and removes, so poisoning cannot leave it
        // inconsistent.
        self.subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

impl InProcessBus {
    /// A bus whose subscriptions hold [`DEFAULT_QUEUE_CAPACITY`] events each.
    pub fn new() -> InProcessBus {
        InProcessBus::with_queue_capacity(DEFAULT_QUEUE_CAPACITY)
    }

    /// A bus whose subscriptions hold `capacity` undelivered events each (at least one).
    pub fn with_queue_capacity(capacity: usize) -> InProcessBus {
        InProcessBus {
            inner: Arc::new(Inner {
                subscribers: RwLock::new(HashMap::new()),
                next_id: AtomicU64::new(0),
                queue_capacity: capacity.max(1),
            }),
        }
    }

    /// How many undelivered events each subscription holds.
    pub fn queue_capacity(&self) -> usize {
        self.inner.queue_capacity
    }

    /// How many subscriptions are alive.
    pub fn subscriber_count(&self) -> usize {
        self.inner
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Default for InProcessBus {
    fn default() -> InProcessBus {
        InProcessBus::new()
    }
}

impl fmt::Debug for InProcessBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessBus")
            .field("subscribers", &self.subscriber_count())
            .field("queue_capacity", &self.inner.queue_capacity)
            .finish()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, topic: &Topic, payload: &Value) -> Result<()> {
        topic.validate()?;
        let subscribers = self
            .inner
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        for (id, subscriber) in subscribers.iter() {
            if !subscriber.pattern.matches(topic) {
                continue;
            }
            let event = Event {
                topic: topic.clone(),
                payload: payload.clone(),
            };
            // Logged once per lag episode: the subscriber hears of it as Lagged and the count
            // restarts, so a persistently slow consumer does not flood the log.
            if subscriber.sender.send(event) == Delivery::Dropped(1) {
                tracing::warn!(
                    subscription = id,
                    pattern = %subscriber.pattern,
                    capacity = self.inner.queue_capacity,
                    "subscriber queue full, dropping events"
                );
            }
        }
        Ok(())
    }

    async fn subscribe(&self, pattern: &Pattern) -> Result<Subscription> {
        pattern.validate()?;
        let (sender, subscription) = Subscription::channel(self.inner.queue_capacity);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner
            .subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                id,
                Subscriber {
                    pattern: pattern.clone(),
                    sender,
                },
            );
        // Weak, so a forgotten subscription does not keep the bus (and its other queues) alive.
        let bus: Weak<Inner> = Arc::downgrade(&self.inner);
        Ok(subscription.on_drop(move || {
            if let Some(bus) = bus.upgrade() {
                bus.remove(id);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use serde_json::json;
    use std::time::Duration;

    async fn next(subscription: &mut Subscription) -> Option<Result<Event>> {
        tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .expect("subscription did not yield within 5 s")
    }

    fn number(event: Option<Result<Event>>) -> u64 {
        match event {
            Some(Ok(event)) => event.payload["n"].as_u64().expect("payload has n"),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn default_capacity_lags_by_exactly_the_overflow() {
        let bus = InProcessBus::new();
        let mut slow = bus
            .subscribe(&Pattern::new(["e", "*"]))
            .await
            .expect("subscribe");
        let mut fast = bus
            .subscribe(&Pattern::new(["e", ">"]))
            .await
            .expect("subscribe");
        let total = DEFAULT_QUEUE_CAPACITY + 10;
        for n in 0..total {
            bus.publish(&Topic::new(["e", "x"]), &json!({ "n": n }))
                .await
                .expect("publish never fails for a slow subscriber");
            // The fast subscriber keeps up, so only the slow one lags.
            assert_eq!(number(next(&mut fast).await), n as u64);
        }
        assert!(matches!(
            next(&mut slow).await,
            Some(Err(Error::Lagged(10)))
        ));
        for n in 0..DEFAULT_QUEUE_CAPACITY {
            assert_eq!(number(next(&mut slow).await), n as u64);
        }
        bus.publish(&Topic::new(["e", "x"]), &json!({ "n": 99_999 }))
            .await
            .expect("publish");
        assert_eq!(number(next(&mut slow).await), 99_999);
    }

    #[tokio::test]
    async fn dropped_subscriptions_leave_nothing_behind() {
        let bus = InProcessBus::new();
        for round in 0..1000 {
            let subscription = bus
                .subscribe(&Pattern::new(["builds", "*", "finished"]))
                .await
                .expect("subscribe");
            assert_eq!(bus.subscriber_count(), 1, "round {round}");
            drop(subscription);
            assert_eq!(bus.subscriber_count(), 0, "round {round}");
        }
    }

    #[tokio::test]
    async fn queued_events_survive_the_bus_then_the_stream_ends() {
        let bus = InProcessBus::new();
        let mut subscription = bus
            .subscribe(&Pattern::new(["a"]))
            .await
            .expect("subscribe");
        bus.publish(&Topic::new(["a"]), &json!({ "n": 1 }))
            .await
            .expect("publish");
        drop(bus);
        assert_eq!(number(next(&mut subscription).await), 1);
        assert!(next(&mut subscription).await.is_none());
    }

    #[tokio::test]
    async fn a_subscription_outliving_its_bus_drops_cleanly() {
        let bus = InProcessBus::new();
        let subscription = bus
            .subscribe(&Pattern::new(["a"]))
            .await
            .expect("subscribe");
        drop(bus);
        drop(subscription);
    }
}
