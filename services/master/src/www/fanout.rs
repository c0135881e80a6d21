//! One bus subscription per distinct path, shared by every WebSocket that consumes it. A
//! thousand dashboards following `logs/*/append` then cost the master one NATS subscription
//! and one delivery per event, not a thousand; the events are handed to each socket's own
//! bounded queue here, so a slow socket still only loses its own events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use ferrobot_bus::{Bus, Delivery, EventSender, Pattern, Subscription};
use tokio::sync::Notify;

/// The subscribers of one path.
struct Group {
    senders: Mutex<Vec<EventSender>>,
    /// Woken when a subscriber leaves, so the last one's leaving unsubscribes upstream.
    left: Notify,
}

impl Group {
    fn senders(&self) -> MutexGuard<'_, Vec<EventSender>> {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shared subscriptions over a bus.
pub struct Fanout {
    bus: Arc<dyn Bus>,
    groups: Mutex<HashMap<Vec<String>, Arc<Group>>>,
    queue_capacity: usize,
}

impl Fanout {
    /// Shares subscriptions to `bus`; each subscriber holds `queue_capacity` events.
    pub fn new(bus: Arc<dyn Bus>, queue_capacity: usize) -> Arc<Fanout> {
        Arc::new(Fanout {
            bus,
            groups: Mutex::new(HashMap::new()),
            queue_capacity,
        })
    }

    fn groups(&self) -> MutexGuard<'_, HashMap<Vec<String>, Arc<Group>>> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A subscription to `pattern`, sharing the upstream one if another subscriber has it.
    pub async fn subscribe(
        self: &Arc<Self>,
        pattern: &Pattern,
    ) -> ferrobot_bus::Result<Subscription> {
        let (sender, subscription) = Subscription::channel(self.queue_capacity);
        let key = pattern.0.clone();
        let mut sender = Some(sender);
        if let Some(group) = self.groups().get(&key) {
            group.senders().extend(sender.take());
            return Ok(leaving(subscription, group));
        }
        let upstream = self.bus.subscribe(pattern).await?;
        let group = {
            let mut groups = self.groups();
            // Another subscriber may have created the group while we subscribed.
            if let Some(group) = groups.get(&key) {
                group.senders().extend(sender.take());
                return Ok(leaving(subscription, group));
            }
            let group = Arc::new(Group {
                senders: Mutex::new(sender.into_iter().collect()),
                left: Notify::new(),
            });
            groups.insert(key.clone(), group.clone());
            group
        };
        let subscription = leaving(subscription, &group);
        tokio::spawn(forward(Arc::downgrade(self), key, group, upstream));
        Ok(subscription)
    }
}

/// Wakes the group's forwarder when this subscriber is dropped.
fn leaving(subscription: Subscription, group: &Arc<Group>) -> Subscription {
    let group = Arc::downgrade(group);
    subscription.on_drop(move || {
        if let Some(group) = group.upgrade() {
            group.left.notify_one();
        }
    })
}

/// Copies upstream events to every subscriber until the last one leaves.
async fn forward(
    fanout: Weak<Fanout>,
    key: Vec<String>,
    group: Arc<Group>,
    mut upstream: Subscription,
) {
    loop {
        let mut ended = false;
        tokio::select! {
            item = upstream.next() => match item {
                Some(Ok(event)) => {
                    group.senders().retain(|s| s.send(event.clone()) != Delivery::Closed);
                }
                Some(Err(error)) => {
                    tracing::warn!(path = key.join("/"), %error, "shared websocket subscription lagged");
                }
                // The bus is gone; the subscribers' queues end once the senders drop.
                None => ended = true,
            },
            () = group.left.notified() => {}
        }
        let Some(fanout) = fanout.upgrade() else {
            break;
        };
        // Under the groups lock, so no subscriber joins between the check and the removal.
        let mut groups = fanout.groups();
        let mut senders = group.senders();
        senders.retain(|s| !s.is_closed());
        if ended {
            senders.clear();
        }
        if senders.is_empty() {
            groups.remove(&key);
            break;
        }
    }
    // Dropping `upstream` here unsubscribes from the bus.
}
