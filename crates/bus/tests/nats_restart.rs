//! The NATS bus survives a NATS restart: this test runs its own `nats-server`, kills it, starts
//! it again on the same port, and checks what a master would notice.

mod common;

use std::process::Stdio;
use std::time::Duration;

use ferrobot_bus::conformance::receive;
use ferrobot_bus::{Bus, ConnectionStatus, Error, NatsBus, Pattern, Subscription, Topic};
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(30);

/// A `nats-server` child on 127.0.0.1, killed when dropped.
struct NatsServer {
    child: Child,
    port: u16,
}

impl NatsServer {
    /// Starts a server on `port` (a free one when `None`) and waits for its "ready" log line.
    async fn start(port: Option<u16>) -> NatsServer {
        let port_arg = port.map_or_else(|| "-1".to_owned(), |port| port.to_string());
        let mut child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port_arg])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run nats-server (apt-get install nats-server): {error}")
            });
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut log = Vec::new();
        let mut listening = None;
        let ready = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((_, address)) = line.split_once("Listening for client connections on ")
                {
                    listening = address
                        .trim()
                        .rsplit_once(':')
                        .and_then(|(_, port)| port.parse::<u16>().ok());
                }
                let is_ready = line.contains("Server is ready");
                log.push(line);
                if is_ready {
                    return true;
                }
            }
            false
        })
        .await;
        let port = match (ready, listening) {
            (Ok(true), Some(port)) => port,
            _ => panic!("nats-server did not become ready:\n{}", log.join("\n")),
        };
        // Keep reading, so a full pipe can never stall the server.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NatsServer { child, port }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server the hard way, as a crash would.
    async fn kill(mut self) {
        self.child.kill().await.expect("kill nats-server");
    }
}

async fn wait_for(
    status: &mut watch::Receiver<ConnectionStatus>,
    what: &str,
    condition: impl FnMut(&ConnectionStatus) -> bool,
) {
    tokio::time::timeout(WAIT, status.wait_for(condition))
        .await
        .unwrap_or_else(|_| panic!("the bus never {what} within {WAIT:?}"))
        .unwrap_or_else(|_| panic!("the bus's connection went away before it {what}"));
}

async fn subscribe(bus: &NatsBus, segments: &[&str]) -> Subscription {
    tokio::time::timeout(WAIT, bus.subscribe(&Pattern::new(segments.iter().copied())))
        .await
        .expect("subscribe blocked")
        .unwrap_or_else(|error| panic!("subscribing to {segments:?}: {error}"))
}

async fn publish(bus: &NatsBus, segments: &[&str], n: u64) -> ferrobot_bus::Result<()> {
    tokio::time::timeout(
        WAIT,
        bus.publish(&Topic::new(segments.iter().copied()), &json!({ "n": n })),
    )
    .await
    .unwrap_or_else(|_| panic!("publishing {segments:?} blocked"))
}

#[tokio::test]
async fn a_subscription_made_before_a_nats_restart_receives_events_published_after_it() {
    let server = NatsServer::start(None).await;
    let (url, port) = (server.url(), server.port);
    let prefix = common::unique_prefix("restart");
    let connect = |url: String, prefix: String| async move {
        NatsBus::connect(&url, &prefix)
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
    };
    let subscriber = connect(url.clone(), prefix.clone()).await;
    let publisher = connect(url.clone(), prefix.clone()).await;
    let (mut subscriber_status, mut publisher_status) =
        (subscriber.watch_status(), publisher.watch_status());
    wait_for(&mut subscriber_status, "connected", |s| s.connected).await;
    wait_for(&mut publisher_status, "connected", |s| s.connected).await;

    let mut finished = subscribe(&subscriber, &["builds", "*", "finished"]).await;
    publish(&publisher, &["builds", "1", "finished"], 1)
        .await
        .expect("publish before the restart");
    assert_eq!(receive(&mut finished).await.payload, json!({ "n": 1 }));

    server.kill().await;
    wait_for(&mut subscriber_status, "noticed the loss", |s| {
        s.disconnects >= 1 && !s.connected
    })
    .await;
    wait_for(&mut publisher_status, "noticed the loss", |s| {
        s.disconnects >= 1 && !s.connected
    })
    .await;

    // While NATS is down: a publish is buffered, a subscription is made, and once the
    // client's buffer is full publishes fail at once instead of blocking.
    publish(&subscriber, &["builds", "2", "finished"], 2)
        .await
        .expect("a publish while disconnected is buffered");
    let mut started = subscribe(&subscriber, &["builds", "*", "started"]).await;
    let mut refused = None;
    for n in 0..100_000 {
        match publish(&publisher, &["noise", &n.to_string()], n).await {
            Ok(()) => {}
            Err(Error::Transport(message)) => {
                refused = Some(message);
                break;
            }
            Err(other) => panic!("unexpected error while disconnected: {other}"),
        }
    }
    let refused = refused.expect("publishing never failed with the server gone");
    assert!(refused.contains("unreachable"), "{refused}");
    assert!(
        subscriber.flush().await.is_err(),
        "flush succeeded without a server"
    );

    let server = NatsServer::start(Some(port)).await;
    wait_for(&mut subscriber_status, "reconnected", |s| {
        s.connected && s.reconnects() >= 1
    })
    .await;
    wait_for(&mut publisher_status, "reconnected", |s| {
        s.connected && s.reconnects() >= 1
    })
    .await;
    // The new server has the re-sent subscriptions once it answers a round trip.
    subscriber.flush().await.expect("flush after the restart");

    publish(&publisher, &["builds", "3", "started"], 3)
        .await
        .expect("publish after the restart");
    publish(&publisher, &["builds", "3", "finished"], 3)
        .await
        .expect("publish after the restart");
    publisher.flush().await.expect("publisher flush");
    // The subscriber re-sent its subscriptions before its buffered publish, so that arrives too.
    assert_eq!(receive(&mut finished).await.payload, json!({ "n": 2 }));
    assert_eq!(receive(&mut finished).await.payload, json!({ "n": 3 }));
    assert_eq!(
        receive(&mut started).await.topic,
        Topic::new(["builds", "3", "started"])
    );
    drop(server);
}
