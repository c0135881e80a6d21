//! `/ws`: Buildbot's WebSocket protocol, event delivery, errors and subscription lifetimes.

use anyhow::{Context as _, Result, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{Master, WAIT, build};

/// A WebSocket client of `/ws`.
struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn connect(master: &Master) -> Result<Client> {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", master.addr))
            .await
            .context("websocket handshake")?;
        Ok(Client { socket })
    }

    async fn send(&mut self, frame: Value) -> Result<()> {
        self.socket.send(Message::text(frame.to_string())).await?;
        Ok(())
    }

    /// The next JSON frame from the server.
    async fn next(&mut self) -> Result<Value> {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .context("no websocket frame in time")?
                .context("websocket closed")??;
            match message {
                Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => bail!("unexpected websocket message {other:?}"),
            }
        }
    }

    /// Sends a frame and returns the next frame, its reply when no events are flowing.
    async fn call(&mut self, frame: Value) -> Result<Value> {
        self.send(frame).await?;
        self.next().await
    }

    async fn start(&mut self, path: &str, id: i64) -> Result<()> {
        let reply = self
            .call(json!({"cmd": "startConsuming", "path": path, "_id": id}))
            .await?;
        anyhow::ensure!(
            reply == json!({"msg": "OK", "code": 200, "_id": id}),
            "{reply}"
        );
        Ok(())
    }
}

#[tokio::test]
async fn ping_is_answered_with_pong() -> Result<()> {
    let master = Master::start().await?;
    let mut client = Client::connect(&master).await?;
    let reply = client.call(json!({"cmd": "ping", "_id": 41})).await?;
    assert_eq!(reply, json!({"msg": "pong", "code": 200, "_id": 41}));
    Ok(())
}

#[tokio::test]
async fn consumed_paths_receive_their_events_with_key_and_payload() -> Result<()> {
    let master = Master::start().await?;
    let mut client = Client::connect(&master).await?;
    client.start("builds/*/*", 1).await?;

    // A build event goes out under builders/<b>/builds/<n>/<e>, builds/<id>/<e>: only the
    // three-segment key fits `builds/*/*`, and events from one publisher keep their order.
    master.publish_build(12, 3, "update").await;
    master.publish_build(13, 4, "finished").await;
    let first = client.next().await?;
    assert_eq!(first["k"], json!("builds/12/update"));
    let expected = serde_json::to_value(build(12, 3, master.builderid))?;
    assert_eq!(first["m"], expected);
    assert_eq!(client.next().await?["k"], json!("builds/13/finished"));

    let builder_path = format!("builders/{}/builds/*/*", master.builderid);
    client.start(&builder_path, 2).await?;
    master.publish_build(14, 5, "new").await;
    let mut keys = vec![
        client.next().await?["k"].clone(),
        client.next().await?["k"].clone(),
    ];
    keys.sort_by_key(|k| k.to_string());
    assert_eq!(
        keys,
        vec![
            json!(format!("builders/{}/builds/5/new", master.builderid)),
            json!("builds/14/new"),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn stop_consuming_stops_delivery_and_duplicates_share_one_subscription() -> Result<()> {
    let master = Master::start().await?;
    let mut client = Client::connect(&master).await?;
    client.start("builds/*/update", 1).await?;
    client.start("builds/*/update", 2).await?;
    assert_eq!(
        master.subscriptions(),
        1,
        "a repeated path subscribed twice"
    );

    let reply = client
        .call(json!({"cmd": "stopConsuming", "path": "builds/*/update", "_id": 3}))
        .await?;
    assert_eq!(reply, json!({"msg": "OK", "code": 200, "_id": 3}));
    master.wait_for_subscriptions(0).await?;

    client.start("builds/*/finished", 4).await?;
    master.publish_build(20, 1, "update").await;
    master.publish_build(20, 1, "finished").await;
    // The update was published first; had it still been consumed it would come first.
    assert_eq!(client.next().await?["k"], json!("builds/20/finished"));
    Ok(())
}

#[tokio::test]
async fn closing_the_socket_releases_every_subscription() -> Result<()> {
    let master = Master::start().await?;
    for round in 0..3 {
        let mut client = Client::connect(&master).await?;
        for (id, path) in ["builds/*/*", "buildrequests/*/new", "logs/*/append"]
            .iter()
            .enumerate()
        {
            client.start(path, id as i64).await?;
        }
        assert_eq!(master.subscriptions(), 3, "round {round}");
        client.socket.close(None).await?;
        master.wait_for_subscriptions(0).await?;
    }
    // A client that vanishes without a close frame is released too.
    let mut client = Client::connect(&master).await?;
    client.start("builds/*/*", 1).await?;
    drop(client);
    master.wait_for_subscriptions(0).await?;
    Ok(())
}

#[tokio::test]
async fn bad_frames_get_buildbots_errors_and_the_socket_stays_usable() -> Result<()> {
    let master = Master::start().await?;
    let mut client = Client::connect(&master).await?;
    let cases = [
        (json!({"cmd": "ping"}), 400, Value::Null, "no '_id'"),
        (json!({"_id": 1}), 400, Value::Null, "no 'cmd'"),
        (
            json!({"cmd": "poing", "_id": 2}),
            404,
            json!(2),
            "no such command type 'poing'",
        ),
        (
            json!({"cmd": "ping", "_id": 3, "foo": 1}),
            400,
            json!(3),
            "Invalid method argument",
        ),
        (
            json!({"cmd": "startConsuming", "_id": 4}),
            400,
            json!(4),
            "'path'",
        ),
        (
            json!({"cmd": "startConsuming", "path": 7, "_id": 5}),
            400,
            json!(5),
            "invalid path format",
        ),
        (
            json!({"cmd": "stopConsuming", "path": "builds/*/*", "_id": 6}),
            400,
            json!(6),
            "path was not consumed 'builds/*/*'",
        ),
    ];
    for (frame, code, id, text) in cases {
        let reply = client.call(frame.clone()).await?;
        assert_eq!(
            (&reply["code"], &reply["_id"]),
            (&json!(code), &id),
            "{frame} → {reply}"
        );
        let error = reply["error"].as_str().unwrap_or_default();
        assert!(error.contains(text), "{frame} → {reply}");
    }
    client.socket.send(Message::text("not json")).await?;
    assert_eq!(client.next().await?["code"], json!(400));
    assert_eq!(master.subscriptions(), 0);
    let reply = client.call(json!({"cmd": "ping", "_id": 9})).await?;
    assert_eq!(reply["msg"], json!("pong"));
    Ok(())
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_hold_up_the_master() -> Result<()> {
    let master = Master::with_queue_capacity(8).await?;
    let mut slow = Client::connect(&master).await?;
    slow.start("builds/*/update", 1).await?;
    let mut other = Client::connect(&master).await?;
    other.start("builds/*/finished", 1).await?;

    // Far more than the socket buffers hold: the slow client reads nothing meanwhile.
    let mut big = build(1, 1, master.builderid);
    big.state_string = "x".repeat(16 * 1024);
    let publishing = async {
        for buildid in 0..2000 {
            big.buildid = buildid;
            master.ctx.events.build(&big, "update").await;
        }
    };
    tokio::time::timeout(WAIT, publishing)
        .await
        .context("publishing stalled behind a slow websocket client")?;

    // Others are still served at once.
    master.publish_build(7, 7, "finished").await;
    assert_eq!(other.next().await?["k"], json!("builds/7/finished"));
    let (status, _) = master.get_text("/api/v2").await?;
    assert_eq!(status, reqwest::StatusCode::OK);

    // The slow client, once it reads again, still gets answers and new events.
    slow.send(json!({"cmd": "ping", "_id": 2})).await?;
    let mut received = 0;
    loop {
        let frame = slow.next().await?;
        if frame["msg"] == json!("pong") {
            break;
        }
        received += 1;
    }
    assert!(received > 0, "the slow client got no events at all");
    master.publish_build(99_999, 9, "update").await;
    loop {
        let frame = slow.next().await?;
        if frame["k"] == json!("builds/99999/update") {
            break;
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_forced_build_announces_its_buildset_and_request_on_the_socket() -> Result<()> {
    let master = Master::start().await?;
    let mut client = Client::connect(&master).await?;
    client.start("buildsets/*/new", 1).await?;
    client.start("buildrequests/*/new", 2).await?;

    let call = json!({"jsonrpc": "2.0", "method": "force", "params": {"reason": "live"}, "id": 1});
    let reply: Value = master
        .client
        .post(format!(
            "http://{}/api/v2/forceschedulers/force",
            master.addr
        ))
        .json(&call)
        .send()
        .await?
        .json()
        .await?;
    let bsid = reply["result"][0].as_i64().context(reply.to_string())?;
    let brid = reply["result"][1][master.builderid.to_string()]
        .as_i64()
        .context(reply.to_string())?;

    let mut frames = [client.next().await?, client.next().await?];
    frames.sort_by_key(|frame| frame["k"].to_string());
    assert_eq!(frames[0]["k"], json!(format!("buildrequests/{brid}/new")));
    assert_eq!(frames[0]["m"]["buildrequestid"], json!(brid));
    assert_eq!(frames[0]["m"]["buildsetid"], json!(bsid));
    assert_eq!(frames[1]["k"], json!(format!("buildsets/{bsid}/new")));
    assert_eq!(frames[1]["m"]["bsid"], json!(bsid));
    assert_eq!(frames[1]["m"]["scheduler"], json!("force"));
    Ok(())
}

#[tokio::test]
async fn sockets_consuming_one_path_share_one_bus_subscription() -> Result<()> {
    let master = Master::start().await?;
    let mut first = Client::connect(&master).await?;
    let mut second = Client::connect(&master).await?;
    first.start("builds/*/*", 1).await?;
    second.start("builds/*/*", 1).await?;
    assert_eq!(
        master.subscriptions(),
        1,
        "one upstream subscription for both"
    );
    master.publish_build(31, 2, "update").await;
    for client in [&mut first, &mut second] {
        let event = client.next().await?;
        assert_eq!(event["k"], json!("builds/31/update"));
    }
    // The subscription stays while anyone consumes the path, and goes with the last one.
    first.socket.close(None).await?;
    drop(first);
    master.publish_build(32, 3, "update").await;
    assert_eq!(second.next().await?["k"], json!("builds/32/update"));
    assert_eq!(master.subscriptions(), 1);
    second.socket.close(None).await?;
    master.wait_for_subscriptions(0).await?;
    Ok(())
}
