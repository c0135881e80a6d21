//! What the NATS bus adds over the conformance suite: several masters (clients) sharing one
//! prefix, isolation between prefixes, the subject layout on the wire, and bad input.

mod common;

use std::time::Duration;

use ferrobot_bus::conformance::{next_delivery, receive};
use ferrobot_bus::{Bus, DEFAULT_QUEUE_CAPACITY, Error, NatsBus, Pattern, Topic};
use futures::StreamExt as _;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

async fn bus(prefix: &str) -> NatsBus {
    common::connect(prefix, DEFAULT_QUEUE_CAPACITY).await
}

async fn publish(bus: &NatsBus, segments: &[&str], payload: serde_json::Value) {
    bus.publish(&Topic::new(segments.iter().copied()), &payload)
        .await
        .unwrap_or_else(|error| panic!("publishing {segments:?}: {error}"));
}

async fn subscribe(bus: &NatsBus, segments: &[&str]) -> ferrobot_bus::Subscription {
    bus.subscribe(&Pattern::new(segments.iter().copied()))
        .await
        .unwrap_or_else(|error| panic!("subscribing to {segments:?}: {error}"))
}

#[tokio::test]
async fn two_masters_on_one_prefix_see_each_others_events() {
    let prefix = common::unique_prefix("shared");
    let (first, second) = (bus(&prefix).await, bus(&prefix).await);
    let mut on_first = subscribe(&first, &["builds", "*", "finished"]).await;
    let mut on_second = subscribe(&second, &["buildrequests", ">"]).await;

    publish(
        &second,
        &["builds", "12", "finished"],
        json!({ "buildid": 12 }),
    )
    .await;
    publish(&first, &["buildrequests", "7", "new"], json!({ "brid": 7 })).await;

    let event = receive(&mut on_first).await;
    assert_eq!(event.topic, Topic::new(["builds", "12", "finished"]));
    assert_eq!(event.payload, json!({ "buildid": 12 }));
    let event = receive(&mut on_second).await;
    assert_eq!(event.topic, Topic::new(["buildrequests", "7", "new"]));
    assert_eq!(event.payload, json!({ "brid": 7 }));
}

#[tokio::test]
async fn clusters_on_different_prefixes_do_not_hear_each_other() {
    let (ours, theirs) = (
        bus(&common::unique_prefix("ours")).await,
        bus(&common::unique_prefix("theirs")).await,
    );
    let mut everything = subscribe(&ours, &[">"]).await;
    publish(
        &theirs,
        &["builds", "1", "finished"],
        json!({ "from": "theirs" }),
    )
    .await;
    theirs.flush().await.expect("flush the other cluster");
    // Per-publisher order: if the other cluster's event crossed over, it would come first.
    publish(
        &ours,
        &["builds", "2", "finished"],
        json!({ "from": "ours" }),
    )
    .await;
    let event = receive(&mut everything).await;
    assert_eq!(event.payload, json!({ "from": "ours" }), "{event:?}");
    assert_eq!(everything.pending(), 0);
}

#[tokio::test]
async fn tricky_segments_cross_the_wire_between_clients() {
    let prefix = common::unique_prefix("tricky");
    let (publisher, subscriber) = (bus(&prefix).await, bus(&prefix).await);
    let tricky = [
        "test.log",
        "a b",
        "",
        "*",
        ">",
        "%",
        "%2E",
        "ü 日本",
        "🚀",
        "$SYS",
        "x/y",
        "tab\there",
    ];
    let mut any = subscribe(&subscriber, &["logs", "*", "append"]).await;
    let mut literal_star = subscribe(&subscriber, &["logs", "*", "*"]).await;
    // Every segment but `*`, which in a pattern is the wildcard, can be subscribed to literally.
    let literal: Vec<&str> = tricky.into_iter().filter(|s| *s != "*").collect();
    let mut exact = Vec::new();
    for segment in &literal {
        exact.push(subscribe(&subscriber, &["logs", segment, "append"]).await);
    }
    for segment in tricky {
        publish(
            &publisher,
            &["logs", segment, "append"],
            json!({ "slug": segment }),
        )
        .await;
    }
    for segment in tricky {
        let event = receive(&mut any).await;
        assert_eq!(event.topic, Topic::new(["logs", segment, "append"]));
        assert_eq!(event.payload, json!({ "slug": segment }));
        assert_eq!(receive(&mut literal_star).await.topic, event.topic);
    }
    for (segment, subscription) in literal.iter().zip(&mut exact) {
        let event = receive(subscription).await;
        assert_eq!(
            event.topic,
            Topic::new(["logs", segment, "append"]),
            "the subscription to the literal segment {segment:?} got another one"
        );
        assert_eq!(
            subscription.pending(),
            0,
            "{segment:?} matched more than itself"
        );
    }
}

#[tokio::test]
async fn subjects_on_the_wire_are_the_prefix_then_escaped_segments() {
    let prefix = common::unique_prefix("layout");
    let bus = bus(&prefix).await;
    let raw = async_nats::connect(common::nats_url())
        .await
        .expect("raw NATS client");
    let mut wire = raw
        .subscribe(format!("{prefix}.>"))
        .await
        .expect("raw subscription");
    raw.flush().await.expect("raw flush");
    // The raw client's SUB has reached the server once its own request is answered.
    let _ = raw.request(raw.new_inbox(), Vec::new().into()).await;

    publish(
        &bus,
        &["builds", "12", "finished"],
        json!({ "buildid": 12 }),
    )
    .await;
    publish(&bus, &["logs", "test.log", "append"], json!([1])).await;
    publish(&bus, &["x", "", "ü"], json!(null)).await;
    let mut subjects = Vec::new();
    for _ in 0..3 {
        let message = tokio::time::timeout(WAIT, wire.next())
            .await
            .expect("no message on the wire")
            .expect("raw subscription ended");
        subjects.push(message.subject.to_string());
        if subjects.len() == 1 {
            assert_eq!(&message.payload[..], br#"{"buildid":12}"#);
        }
    }
    assert_eq!(
        subjects,
        [
            format!("{prefix}.builds.12.finished"),
            format!("{prefix}.logs.test%2Elog.append"),
            format!("{prefix}.x.%.%C3%BC"),
        ]
    );
}

#[tokio::test]
async fn foreign_messages_under_the_prefix_are_skipped() {
    let prefix = common::unique_prefix("foreign");
    let bus = bus(&prefix).await;
    let mut subscription = subscribe(&bus, &["builds", ">"]).await;
    let raw = async_nats::connect(common::nats_url())
        .await
        .expect("raw NATS client");
    // Not JSON, then a subject that is not in canonical form, then a real event.
    raw.publish(format!("{prefix}.builds.1"), "not json".into())
        .await
        .expect("raw publish");
    raw.publish(format!("{prefix}.builds.%2"), "{}".into())
        .await
        .expect("raw publish");
    raw.publish(format!("{prefix}.builds.a%2Db"), "{}".into())
        .await
        .expect("raw publish");
    raw.flush().await.expect("raw flush");
    raw.publish(format!("{prefix}.builds.3"), r#"{"ok":true}"#.into())
        .await
        .expect("raw publish");
    let event = match next_delivery(&mut subscription).await {
        Some(Ok(event)) => event,
        other => panic!("expected the real event, got {other:?}"),
    };
    assert_eq!(event.topic, Topic::new(["builds", "3"]));
    assert_eq!(event.payload, json!({ "ok": true }));
}

#[tokio::test]
async fn bad_prefixes_and_unreachable_servers_are_clear_errors() {
    for prefix in ["", "a b", "ferrobot.*", "ferrobot.>", "a..b"] {
        let outcome = NatsBus::connect(&common::nats_url(), prefix).await;
        assert!(
            matches!(outcome, Err(Error::Invalid(..))),
            "prefix {prefix:?}: {outcome:?}"
        );
    }
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let url = format!("nats://user:secret@127.0.0.1:{port}");
    match NatsBus::connect(&url, "ferrobot").await {
        Err(Error::Transport(message)) => {
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
            assert!(!message.contains("secret"), "credentials leaked: {message}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}
