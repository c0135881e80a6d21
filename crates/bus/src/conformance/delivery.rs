//! Cases about delivery itself: fan-out, unsubscribing, payloads, lag, order, errors.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Fixture, next_delivery, publish, receive, receive_topic, subscribe, topic};
use crate::{Error, Pattern, Topic};

/// Every matching subscription gets its own copy of one publication.
pub async fn several_subscribers_get_the_same_event(fixture: &Fixture) {
    let patterns: [&[&str]; 4] = [
        &["buildsets", "5", "complete"],
        &["buildsets", "5", "complete"],
        &["buildsets", "*", "complete"],
        &["buildsets", ">"],
    ];
    let mut subscriptions = Vec::new();
    for pattern in patterns {
        subscriptions.push(subscribe(fixture, pattern).await);
    }
    let payload = json!({ "bsid": 5, "complete": true, "results": 0 });
    publish(fixture, &["buildsets", "5", "complete"], payload.clone()).await;
    for subscription in &mut subscriptions {
        let event = receive(subscription).await;
        assert_eq!(event.topic, topic(&["buildsets", "5", "complete"]));
        assert_eq!(event.payload, payload);
    }
}

/// Dropping a subscription unregisters it and leaves the others working.
pub async fn unsubscribe_on_drop(fixture: &Fixture) {
    let count = |fixture: &Fixture| fixture.live_subscriptions.as_ref().map(|count| count());
    let baseline = count(fixture);
    let dropped = subscribe(fixture, &["masters", "*", "started"]).await;
    let mut kept = subscribe(fixture, &["masters", "*", "started"]).await;
    assert_eq!(count(fixture), baseline.map(|n| n + 2));
    drop(dropped);
    assert_eq!(
        count(fixture),
        baseline.map(|n| n + 1),
        "drop did not unsubscribe"
    );
    publish(
        fixture,
        &["masters", "1", "started"],
        json!({ "masterid": 1 }),
    )
    .await;
    assert_eq!(receive_topic(&mut kept).await, ["masters", "1", "started"]);
    drop(kept);
    for _ in 0..200 {
        drop(subscribe(fixture, &["masters", ">"]).await);
    }
    assert_eq!(count(fixture), baseline, "subscriptions leaked");
    publish(fixture, &["masters", "1", "stopped"], json!({})).await;
}

/// The payload arrives exactly as published.
pub async fn payload_round_trip(fixture: &Fixture) {
    let mut subscription = subscribe(fixture, &["payloads", "*"]).await;
    let payloads = [
        json!({
            "buildid": 12,
            "state_string": "failed 'make test' – ü 日本 \"quoted\" \\ \n",
            "results": null,
            "complete": true,
            "properties": { "owner": ["me@example.org", "Force Build Form"] },
            "list": [1, -2, 2.5, null, false, "x", [], {}],
            "extremes": { "max": i64::MAX, "min": i64::MIN, "umax": u64::MAX },
        }),
        Value::Null,
        json!("a bare string"),
        json!([1, 2, 3]),
        json!({}),
    ];
    for (index, payload) in payloads.iter().enumerate() {
        publish(fixture, &["payloads", &index.to_string()], payload.clone()).await;
    }
    for payload in &payloads {
        assert_eq!(&receive(&mut subscription).await.payload, payload);
    }
}

/// Segments keep their dots (and any other character): `test.log` is one segment, never two.
pub async fn segments_with_dots_and_other_tricky_characters(fixture: &Fixture) {
    let dotted = ["dots", "steps", "7", "logs", "test.log", "append"];
    let split = ["dots", "steps", "7", "logs", "test", "log", "append"];
    let mut everything = subscribe(fixture, &["dots", ">"]).await;
    let mut exact = subscribe(fixture, &dotted).await;
    let mut split_pattern = subscribe(fixture, &split).await;
    let mut by_slug = subscribe(fixture, &["dots", "steps", "*", "logs", "*", "append"]).await;
    publish(fixture, &dotted, json!({ "slug": "test.log" })).await;
    publish(fixture, &split, json!({ "slug": "test" })).await;
    assert_eq!(receive_topic(&mut everything).await, dotted);
    assert_eq!(receive_topic(&mut exact).await, dotted);
    assert_eq!(receive_topic(&mut split_pattern).await, split);
    assert_eq!(receive_topic(&mut by_slug).await, dotted);

    let tricky = [
        "a.b",
        ".",
        "",
        "*",
        ">",
        "a b",
        "%",
        "%2E",
        "ü 日本",
        "🚀",
        "$SYS",
        "x/y",
        "-_",
    ];
    let mut one_segment = subscribe(fixture, &["tricky", "*", "end"]).await;
    for segment in tricky {
        publish(
            fixture,
            &["tricky", segment, "end"],
            json!({ "segment": segment }),
        )
        .await;
    }
    for segment in tricky {
        let event = receive(&mut one_segment).await;
        assert_eq!(event.topic, topic(&["tricky", segment, "end"]));
        assert_eq!(event.payload, json!({ "segment": segment }));
    }
    let mut literal = subscribe(fixture, &["literal", "%2E"]).await;
    publish(fixture, &["literal", "."], json!({})).await;
    publish(fixture, &["literal", "%2E"], json!({})).await;
    assert_eq!(receive_topic(&mut literal).await, ["literal", "%2E"]);
}

/// A subscriber that stops reading is told how many events it missed, once, and then receives
/// later events again; the publisher never fails meanwhile.
pub async fn lagged_subscriber_gets_lagged_then_later_events(fixture: &Fixture) {
    let mut slow = subscribe(fixture, &["lag", "event", "*"]).await;
    let mut probe = subscribe(fixture, &["lag", "probe"]).await;
    let total = fixture.queue_capacity + fixture.queue_capacity / 2 + 10;
    for n in 0..total {
        publish(
            fixture,
            &["lag", "event", &n.to_string()],
            json!({ "n": n }),
        )
        .await;
    }
    // Everything published before the probe has reached the transport by the time it arrives.
    publish(fixture, &["lag", "probe"], json!({})).await;
    receive(&mut probe).await;

    let (mut lagged, mut received) = (0u64, Vec::new());
    while lagged as usize + received.len() < total {
        match next_delivery(&mut slow).await {
            Some(Err(Error::Lagged(count))) => {
                assert!(count > 0, "Lagged(0) reported");
                lagged += count;
            }
            Some(Ok(event)) => received.push(event.payload["n"].as_u64().unwrap_or(u64::MAX)),
            Some(Err(error)) => panic!("unexpected error while lagging: {error}"),
            None => panic!("the subscription ended while lagging"),
        }
    }
    assert!(
        lagged > 0,
        "{total} unread events never overflowed the queue"
    );
    assert_eq!(
        lagged as usize + received.len(),
        total,
        "events lost without a lag report"
    );
    assert!(
        received.windows(2).all(|pair| pair[0] < pair[1]),
        "events out of order or duplicated: {received:?}"
    );
    publish(fixture, &["lag", "event", "after"], json!({ "n": "after" })).await;
    let event = receive(&mut slow).await;
    assert_eq!(event.topic, topic(&["lag", "event", "after"]));
}

/// Publishing where nobody listens succeeds.
pub async fn publish_with_no_subscribers_is_ok(fixture: &Fixture) {
    for n in 0..10 {
        publish(
            fixture,
            &["nobody", "listens", &n.to_string()],
            json!({ "n": n }),
        )
        .await;
    }
}

/// Two concurrent publishers: each one's events arrive in its own order.
pub async fn order_is_preserved_per_publisher(fixture: &Fixture) {
    let per_publisher = (fixture.queue_capacity / 2).clamp(1, 200);
    let mut subscription = subscribe(fixture, &["order", "*"]).await;
    let publishers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let bus = Arc::clone(&fixture.bus);
            tokio::spawn(async move {
                for n in 0..per_publisher {
                    bus.publish(&topic(&["order", name]), &json!({ "n": n }))
                        .await
                        .unwrap_or_else(|error| panic!("publisher {name} failed: {error}"));
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher
            .await
            .unwrap_or_else(|error| panic!("publisher task: {error}"));
    }
    let mut next_expected = [0u64, 0u64];
    for _ in 0..2 * per_publisher {
        let event = receive(&mut subscription).await;
        let index = usize::from(event.topic.0[1] == "b");
        assert_eq!(
            event.payload["n"].as_u64(),
            Some(next_expected[index]),
            "publisher {} out of order",
            event.topic.0[1]
        );
        next_expected[index] += 1;
    }
}

/// A topic or pattern without segments is refused with [`Error::Invalid`].
pub async fn empty_topic_and_pattern_are_invalid(fixture: &Fixture) {
    let published = fixture.bus.publish(&Topic(vec![]), &json!({})).await;
    assert!(
        matches!(published, Err(Error::Invalid(..))),
        "{published:?}"
    );
    let subscribed = fixture.bus.subscribe(&Pattern(vec![])).await;
    assert!(
        matches!(subscribed, Err(Error::Invalid(..))),
        "{subscribed:?}"
    );
}

/// Once the bus is gone its subscriptions end (after any events still queued).
pub async fn subscription_ends_when_bus_is_dropped(fixture: Fixture) {
    let mut subscription = subscribe(&fixture, &["ending", "*"]).await;
    publish(&fixture, &["ending", "1"], json!({})).await;
    drop(fixture);
    loop {
        match next_delivery(&mut subscription).await {
            None => break,
            Some(Ok(event)) => assert_eq!(event.topic, topic(&["ending", "1"])),
            Some(Err(error)) => panic!("unexpected error after the bus was dropped: {error}"),
        }
    }
}
