//! `/sse`: Buildbot's server-sent events, sessions changed from other requests through the bus.

use anyhow::{Context as _, Result, bail};
use ferrobot_bus::{Pattern, Topic};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Master, WAIT, build};

/// A client reading one `text/event-stream` response.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(master: &Master, path: &str) -> Result<Stream> {
        let response = master
            .client
            .get(format!("http://{}{path}", master.addr))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "{path}: {}",
            response.status()
        );
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        anyhow::ensure!(kind.starts_with("text/event-stream"), "{path}: {kind}");
        Ok(Stream {
            response,
            buffer: String::new(),
        })
    }

    /// The next `(event, data)`, skipping keep-alive comments.
    async fn next(&mut self) -> Result<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = value.trim_start().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data = value.trim_start().to_owned();
                    }
                }
                if !event.is_empty() {
                    return Ok((event, data));
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.response.chunk())
                .await
                .context("no sse data in time")??;
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes)?),
                None => bail!("sse stream ended"),
            }
        }
    }

    /// Reads the handshake; returns the session's uuid.
    async fn handshake(&mut self) -> Result<String> {
        let (event, data) = self.next().await?;
        anyhow::ensure!(event == "handshake", "first event was {event}: {data}");
        Ok(data)
    }

    /// The next `event` event's data.
    async fn event(&mut self) -> Result<Value> {
        let (event, data) = self.next().await?;
        anyhow::ensure!(event == "event", "expected an event, got {event}: {data}");
        Ok(serde_json::from_str(&data)?)
    }
}

#[tokio::test]
async fn handshake_add_event_remove() -> Result<()> {
    let master = Master::start().await?;
    let mut stream = Stream::open(&master, "/sse/listen").await?;
    let uuid = stream.handshake().await?;
    assert!(
        uuid::Uuid::parse_str(&uuid).is_ok(),
        "handshake data {uuid}"
    );

    let added = master
        .get_text(&format!("/sse/add/{uuid}/builds/*/*"))
        .await?;
    assert_eq!(added, (StatusCode::OK, "ok".to_owned()));
    master.publish_build(12, 3, "update").await;
    let data = stream.event().await?;
    assert_eq!(data["key"], json!(["builds", "12", "update"]));
    assert_eq!(
        data["message"],
        serde_json::to_value(build(12, 3, master.builderid))?
    );

    let removed = master
        .get_text(&format!("/sse/remove/{uuid}/builds/*/*"))
        .await?;
    assert_eq!(removed, (StatusCode::OK, "ok".to_owned()));
    let again = master
        .get_text(&format!("/sse/remove/{uuid}/builds/*/*"))
        .await?;
    assert_eq!(again.0, StatusCode::NOT_FOUND, "{}", again.1);

    master
        .get_text(&format!("/sse/add/{uuid}/builds/*/finished"))
        .await?;
    master.publish_build(13, 4, "update").await;
    master.publish_build(13, 4, "finished").await;
    // The update came first; it would arrive first had `builds/*/*` still been listened to.
    assert_eq!(
        stream.event().await?["key"],
        json!(["builds", "13", "finished"])
    );
    Ok(())
}

#[tokio::test]
async fn listen_with_a_path_streams_it_from_the_start() -> Result<()> {
    let master = Master::start().await?;
    let mut stream = Stream::open(&master, "/sse/listen/builds/*/new").await?;
    stream.handshake().await?;
    master.publish_build(5, 1, "new").await;
    assert_eq!(stream.event().await?["key"], json!(["builds", "5", "new"]));
    Ok(())
}

#[tokio::test]
async fn unknown_or_missing_uuids_are_400s() -> Result<()> {
    let master = Master::start().await?;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/sse/add/{unknown}/builds/*/*"),
        format!("/sse/remove/{unknown}/builds/*/*"),
        "/sse/add/not-a-uuid/builds/*/*".to_owned(),
    ] {
        let (status, body) = master.get_text(&path).await?;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::BAD_REQUEST, "unknown uuid"),
            "{path}"
        );
    }
    let (status, body) = master.get_text("/sse/add").await?;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "need uuid")
    );
    Ok(())
}

#[tokio::test]
async fn a_closed_stream_releases_its_subscriptions() -> Result<()> {
    let master = Master::start().await?;
    let mut stream = Stream::open(&master, "/sse/listen/builds/*/*").await?;
    let uuid = stream.handshake().await?;
    master
        .get_text(&format!("/sse/add/{uuid}/logs/*/append"))
        .await?;
    // The session's control subscription and its two paths.
    assert_eq!(master.subscriptions(), 3);
    drop(stream);
    master.wait_for_subscriptions(0).await?;
    let (status, body) = master
        .get_text(&format!("/sse/add/{uuid}/builds/*/*"))
        .await?;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "unknown uuid")
    );
    Ok(())
}

#[tokio::test]
async fn add_and_remove_travel_over_the_bus_to_the_session() -> Result<()> {
    let master = Master::start().await?;
    let bus = master.ctx.events.bus().clone();
    let mut stream = Stream::open(&master, "/sse/listen").await?;
    let uuid = stream.handshake().await?;

    // An add through this master is a control message on the bus.
    let mut control = bus
        .subscribe(&Pattern::new(["sse", uuid.as_str(), "add"]))
        .await?;
    master
        .get_text(&format!("/sse/add/{uuid}/builds/*/new"))
        .await?;
    let message = tokio::time::timeout(WAIT, control.next())
        .await?
        .context("bus closed")??;
    assert_eq!(message.payload["path"], json!("builds/*/new"));

    // One published by another www master reaches the session and is answered on the bus.
    let mut replies = bus
        .subscribe(&Pattern::new([
            "sse",
            uuid.as_str(),
            "reply",
            "from-elsewhere",
        ]))
        .await?;
    let add = json!({"path": "builds/*/finished", "request": "from-elsewhere"});
    bus.publish(&Topic::new(["sse", uuid.as_str(), "add"]), &add)
        .await?;
    let reply = tokio::time::timeout(WAIT, replies.next())
        .await?
        .context("bus closed")??;
    assert_eq!(reply.payload, json!({"code": 200, "message": "ok"}));
    master.publish_build(8, 2, "finished").await;
    assert_eq!(
        stream.event().await?["key"],
        json!(["builds", "8", "finished"])
    );
    Ok(())
}
