//! A subscription's bounded queue, shared by every transport: the transport pushes through an
//! [`EventSender`] and the consumer pulls from the [`Subscription`].
//!
//! The queue drops the newest events when full instead of blocking, so a stuck consumer can
//! never stall a publisher (design invariant 1: the bus only wakes people up, the store is the
//! truth). The consumer learns how many it missed through [`Error::Lagged`] and re-reads.

use std::collections::VecDeque;
use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::{Error, Event, Result};

struct Shared {
    state: Mutex<State>,
    /// Wakes the consumer: an event arrived, events were dropped, or the last sender left.
    consumer: Notify,
    /// Wakes transports waiting in [`EventSender::closed`].
    closed: Notify,
}

struct State {
    queue: VecDeque<Event>,
    capacity: usize,
    /// Dropped since the consumer was last told.
    dropped: u64,
    senders: usize,
    subscription_alive: bool,
}

impl Shared {
    // A panic while holding this lock cannot leave the queue half-updated (every critical
    // section is a single push, pop or counter change), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What became of one event handed to [`EventSender::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued for the subscriber.
    Queued,
    /// The queue was full and the event was dropped. Holds how many were dropped since the
    /// subscriber was last told (this one included), so `Dropped(1)` starts a new lag.
    Dropped(u64),
    /// The subscription is gone; the transport should stop feeding it.
    Closed,
}

/// The transport's end of a [`Subscription`]. Cloneable; once every clone is dropped the
/// subscriber's [`Subscription::next`] returns `None` after the queued events.
pub struct EventSender {
    shared: Arc<Shared>,
}

impl EventSender {
    /// Queues an event without ever waiting.
    pub fn send(&self, event: Event) -> Delivery {
        let mut state = self.shared.lock();
        if !state.subscription_alive {
            return Delivery::Closed;
        }
        let delivery = if state.queue.len() < state.capacity {
            state.queue.push_back(event);
            Delivery::Queued
        } else {
            state.dropped += 1;
            Delivery::Dropped(state.dropped)
        };
        drop(state);
        self.shared.consumer.notify_one();
        delivery
    }

    /// Whether the subscription was dropped.
    pub fn is_closed(&self) -> bool {
        !self.shared.lock().subscription_alive
    }

    /// Resolves once the subscription is dropped, so a transport's forwarding task can stop
    /// and unsubscribe upstream.
    pub async fn closed(&self) {
        loop {
            let mut notified = pin!(self.shared.closed.notified());
            // Registered before the check so a drop between the check and the await still wakes us.
            notified.as_mut().enable();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

impl Clone for EventSender {
    fn clone(&self) -> EventSender {
        self.shared.lock().senders += 1;
        EventSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.shared.consumer.notify_one();
        }
    }
}

impl fmt::Debug for EventSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

type OnDrop = Box<dyn FnOnce() + Send + Sync>;

/// A stream of events matching one pattern. Dropping it unsubscribes.
pub struct Subscription {
    shared: Arc<Shared>,
    on_drop: Vec<OnDrop>,
}

impl Subscription {
    /// A subscription fed through the returned sender, holding at most `capacity` undelivered
    /// events (at least one). Transports build their subscriptions with this.
    pub fn channel(capacity: usize) -> (EventSender, Subscription) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                capacity: capacity.max(1),
                dropped: 0,
                senders: 1,
                subscription_alive: true,
            }),
            consumer: Notify::new(),
            closed: Notify::new(),
        });
        let sender = EventSender {
            shared: Arc::clone(&shared),
        };
        let subscription = Subscription {
            shared,
            on_drop: Vec::new(),
        };
        (sender, subscription)
    }

    /// Runs `action` when the subscription is dropped (a transport unregisters it there).
    pub fn on_drop(mut self, action: impl FnOnce() + Send + Sync + 'static) -> Subscription {
        self.on_drop.push(Box::new(action));
        self
    }

    /// The next event; `None` once the bus is gone. A subscriber that fell too far behind gets
    /// [`Error::Lagged`] once and may then re-read the store; later events follow.
    ///
    /// Cancel-safe: an event is taken from the queue only when this returns it.
    pub async fn next(&mut self) -> Option<Result<Event>> {
        loop {
            let mut notified = pin!(self.shared.consumer.notified());
            notified.as_mut().enable();
            if let Some(outcome) = self.take() {
                return outcome;
            }
            notified.await;
        }
    }

    /// How many events wait in the queue.
    pub fn pending(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// `None` when the consumer has to wait.
    fn take(&self) -> Option<Option<Result<Event>>> {
        let mut state = self.shared.lock();
        if state.dropped > 0 {
            let dropped = std::mem::take(&mut state.dropped);
            return Some(Some(Err(Error::Lagged(dropped))));
        }
        if let Some(event) = state.queue.pop_front() {
            return Some(Some(Ok(event)));
        }
        if state.senders == 0 {
            return Some(None);
        }
        None
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.subscription_alive = false;
        // Free the queued payloads now: a transport may keep its sender for a while.
        state.queue = VecDeque::new();
        drop(state);
        self.shared.closed.notify_waiters();
        for action in self.on_drop.drain(..) {
            action();
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Subscription")
            .field("pending", &state.queue.len())
            .field("capacity", &state.capacity)
            .field("dropped", &state.dropped)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Topic;
    use serde_json::json;
    use std::time::Duration;

    fn event(n: u64) -> Event {
        Event {
            topic: Topic::new(["t", &n.to_string()]),
            payload: json!({ "n": n }),
        }
    }

    async fn next(subscription: &mut Subscription) -> Option<Result<Event>> {
        tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .expect("subscription did not yield within 5 s")
    }

    #[tokio::test]
    async fn full_queue_reports_lag_once_then_queued_events_then_new_ones() {
        let (sender, mut subscription) = Subscription::channel(3);
        let deliveries: Vec<Delivery> = (0..5).map(|n| sender.send(event(n))).collect();
        assert_eq!(
            deliveries,
            [
                Delivery::Queued,
                Delivery::Queued,
                Delivery::Queued,
                Delivery::Dropped(1),
                Delivery::Dropped(2)
            ]
        );
        assert!(matches!(
            next(&mut subscription).await,
            Some(Err(Error::Lagged(2)))
        ));
        for n in 0..3 {
            assert_eq!(
                next(&mut subscription).await.map(|r| r.ok()),
                Some(Some(event(n)))
            );
        }
        assert_eq!(sender.send(event(9)), Delivery::Queued);
        assert_eq!(
            next(&mut subscription).await.map(|r| r.ok()),
            Some(Some(event(9)))
        );
    }

    #[tokio::test]
    async fn ends_after_queued_events_once_every_sender_is_gone() {
        let (sender, mut subscription) = Subscription::channel(8);
        let second = sender.clone();
        sender.send(event(1));
        drop(sender);
        second.send(event(2));
        drop(second);
        assert_eq!(
            next(&mut subscription).await.map(|r| r.ok()),
            Some(Some(event(1)))
        );
        assert_eq!(
            next(&mut subscription).await.map(|r| r.ok()),
            Some(Some(event(2)))
        );
        assert!(next(&mut subscription).await.is_none());
    }

    #[tokio::test]
    async fn waiting_consumer_wakes_on_send() {
        let (sender, mut subscription) = Subscription::channel(8);
        let consumer = tokio::spawn(async move { next(&mut subscription).await.map(|r| r.ok()) });
        tokio::task::yield_now().await;
        sender.send(event(7));
        let received = tokio::time::timeout(Duration::from_secs(5), consumer)
            .await
            .expect("consumer not woken")
            .expect("consumer task panicked");
        assert_eq!(received, Some(Some(event(7))));
    }

    #[tokio::test]
    async fn dropping_the_subscription_closes_the_sender_and_runs_hooks() {
        let (sender, subscription) = Subscription::channel(8);
        let (hook_tx, hook_rx) = std::sync::mpsc::channel();
        let subscription = subscription.on_drop(move || {
            let _ = hook_tx.send(());
        });
        let waiter = {
            let sender = sender.clone();
            tokio::spawn(async move { sender.closed().await })
        };
        assert!(!sender.is_closed());
        drop(subscription);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("closed() did not resolve")
            .expect("waiter panicked");
        assert!(sender.is_closed());
        assert_eq!(sender.send(event(1)), Delivery::Closed);
        assert!(hook_rx.try_recv().is_ok(), "on_drop hook did not run");
    }
}
