//! The task behind one NATS subscription: decodes each message into an [`Event`] and pushes
//! it into the subscription's bounded queue, until the subscription or the bus is dropped.

use std::pin::pin;
use std::sync::Arc;

use async_nats::{Message, Subscriber};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use crate::{Delivery, Event, EventSender, Pattern, decode_subject};

/// What the forwarding task needs besides its two ends.
pub(super) struct Route {
    /// The subscription's number on this bus, for logs.
    pub id: u64,
    pub prefix: Arc<str>,
    pub pattern: Pattern,
    pub capacity: usize,
    /// Cancelled when the bus is dropped.
    pub shutdown: CancellationToken,
}

/// Forwards until the subscription is dropped (then the NATS subscription is dropped too,
/// which unsubscribes), the bus is dropped, or the connection is closed for good. The
/// consumer's stream ends after its queued events once this returns.
pub(super) async fn forward(mut subscriber: Subscriber, sender: EventSender, route: Route) {
    let mut closed = pin!(sender.closed());
    let mut shutdown = pin!(route.shutdown.cancelled());
    loop {
        let message = tokio::select! {
            biased;
            () = &mut shutdown => {
                tracing::debug!(subscription = route.id, pattern = %route.pattern, "bus dropped");
                return;
            }
            () = &mut closed => return,
            message = subscriber.next() => message,
        };
        let Some(message) = message else {
            tracing::debug!(
                subscription = route.id,
                pattern = %route.pattern,
                "NATS connection closed, subscription ends"
            );
            return;
        };
        let event = match decode(&route.prefix, &message) {
            Ok(event) => event,
            Err(reason) => {
                // Someone else's message under our prefix; the store stays the truth.
                tracing::warn!(
                    subscription = route.id,
                    subject = %message.subject,
                    reason,
                    "ignoring a NATS message that is not a ferrobot event"
                );
                continue;
            }
        };
        match sender.send(event) {
            Delivery::Queued | Delivery::Dropped(2..) => {}
            // Logged once per lag episode, like the in-process bus.
            Delivery::Dropped(_) => tracing::warn!(
                subscription = route.id,
                pattern = %route.pattern,
                capacity = route.capacity,
                "subscriber queue full, dropping events"
            ),
            Delivery::Closed => return,
        }
    }
}

fn decode(prefix: &str, message: &Message) -> Result<Event, &'static str> {
    let topic = decode_subject(prefix, message.subject.as_str())
        .ok_or("the subject is not an encoded topic")?;
    let payload =
        serde_json::from_slice(&message.payload).map_err(|_| "the payload is not JSON")?;
    Ok(Event { topic, payload })
}
