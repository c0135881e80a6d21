//! The connection's events: logged with tracing and kept as a [`ConnectionStatus`] that
//! callers (and tests) can wait on.

use std::future::{Ready, ready};

use async_nats::Event as NatsEvent;
use tokio::sync::watch;

/// What a [`NatsBus`](super::NatsBus) has seen of its link to the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStatus {
    /// Whether the client is connected now.
    pub connected: bool,
    /// How many times the client connected, the first time included.
    pub connects: u64,
    /// How many times it lost the server.
    pub disconnects: u64,
}

impl ConnectionStatus {
    /// How many times the client connected again after losing the server.
    pub fn reconnects(&self) -> u64 {
        self.connects.saturating_sub(1)
    }
}

/// The async-nats event callback: updates the status and logs each event once, with the
/// cluster prefix and the (credential-free) server address as fields.
pub(super) fn recorder(
    status: watch::Sender<ConnectionStatus>,
    prefix: String,
    server: String,
) -> impl Fn(NatsEvent) -> Ready<()> + Send + Sync + 'static {
    move |event| {
        record(&status, &prefix, &server, event);
        ready(())
    }
}

fn record(status: &watch::Sender<ConnectionStatus>, prefix: &str, server: &str, event: NatsEvent) {
    match event {
        NatsEvent::Connected => {
            let mut connects = 0;
            status.send_modify(|status| {
                status.connected = true;
                status.connects += 1;
                connects = status.connects;
            });
            if connects == 1 {
                tracing::info!(prefix, server, "connected to NATS");
            } else {
                tracing::info!(
                    prefix,
                    server,
                    reconnects = connects - 1,
                    "reconnected to NATS; subscriptions re-sent"
                );
            }
        }
        NatsEvent::Disconnected => {
            status.send_modify(|status| {
                status.connected = false;
                status.disconnects += 1;
            });
            tracing::warn!(
                prefix,
                server,
                "disconnected from NATS; reconnecting, events published meanwhile may be lost"
            );
        }
        NatsEvent::Closed => {
            status.send_modify(|status| status.connected = false);
            tracing::info!(prefix, server, "NATS connection closed");
        }
        NatsEvent::SlowConsumer(sid) => tracing::warn!(
            prefix,
            server,
            sid,
            "NATS client dropped messages for a subscription that did not keep up"
        ),
        NatsEvent::LameDuckMode => tracing::warn!(
            prefix,
            server,
            "NATS server entering lame duck mode; expect a reconnection"
        ),
        NatsEvent::Draining => tracing::debug!(prefix, server, "NATS connection draining"),
        NatsEvent::ServerError(error) => {
            tracing::warn!(prefix, server, %error, "NATS server reported an error");
        }
        NatsEvent::ClientError(error) => {
            tracing::warn!(prefix, server, %error, "NATS client error");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_update_the_status() {
        let (sender, receiver) = watch::channel(ConnectionStatus::default());
        let record = recorder(sender, "p".into(), "nats://h:1".into());
        drop(record(NatsEvent::Connected));
        assert_eq!(
            *receiver.borrow(),
            ConnectionStatus {
                connected: true,
                connects: 1,
                disconnects: 0
            }
        );
        drop(record(NatsEvent::Disconnected));
        assert!(!receiver.borrow().connected);
        drop(record(NatsEvent::Connected));
        let status = *receiver.borrow();
        assert!(status.connected);
        assert_eq!((status.reconnects(), status.disconnects), (1, 1));
        drop(record(NatsEvent::Closed));
        assert!(!receiver.borrow().connected);
    }
}
