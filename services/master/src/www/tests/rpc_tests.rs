//! JSON-RPC control: the envelope's errors and codes, force, stop, cancel and friends.

use anyhow::Result;
use reqwest::StatusCode;
use serde_json::json;

use super::{Server, next_event};

async fn raw_post(
    server: &Server,
    path: &str,
    content_type: &str,
    body: &str,
) -> Result<(StatusCode, serde_json::Value)> {
    let response = server
        .client
        .post(format!("{}{path}", server.url))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await?;
    Ok((response.status(), response.json().await?))
}

#[tokio::test]
async fn malformed_calls_get_json_rpc_error_codes() -> Result<()> {
    let server = Server::start().await?;
    let path = format!("/api/v2/builds/{}", server.seed.running_build);
    let call = r#"{"jsonrpc": "2.0", "method": "stop", "params": {}, "id": 1}"#;
    for (content_type, body, status, code, says) in [
        (
            "text/plain",
            call,
            StatusCode::BAD_REQUEST,
            -32600,
            "content-type",
        ),
        (
            "application/x-www-form-urlencoded",
            call,
            StatusCode::BAD_REQUEST,
            -32600,
            "content-type",
        ),
        (
            "application/json",
            "{not json",
            StatusCode::BAD_REQUEST,
            -32700,
            "JSON parse error",
        ),
        (
            "application/json",
            "[]",
            StatusCode::BAD_REQUEST,
            -32600,
            "batch",
        ),
        (
            "application/json",
            r#"{"jsonrpc": "2.0", "params": {}, "id": 1}"#,
            StatusCode::BAD_REQUEST,
            -32600,
            "missing key 'method'",
        ),
        (
            "application/json",
            r#"{"jsonrpc": "2.0", "method": "stop", "params": [], "id": 1}"#,
            StatusCode::BAD_REQUEST,
            -32600,
            "'params' must be an object",
        ),
        (
            "application/json",
            r#"{"jsonrpc": "1.0", "method": "stop", "params": {}, "id": 1}"#,
            StatusCode::BAD_REQUEST,
            -32600,
            "2.0",
        ),
    ] {
        let (got, reply) = raw_post(&server, &path, content_type, body).await?;
        assert_eq!(got, status, "{body}: {reply}");
        assert_eq!(reply["error"]["code"], json!(code), "{body}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
    }
    let (status, reply) = server.call(&path, "explode", json!({})).await?;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (StatusCode::NOT_IMPLEMENTED, json!(-32601))
    );
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("explode")
    );
    assert_eq!(reply["id"], json!(7));
    let (status, reply) = server.call("/api/v2/nowhere/1", "stop", json!({})).await?;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!(-32600))
    );
    Ok(())
}

#[tokio::test]
async fn stop_routes_a_control_message_to_the_builds_master() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let mut stops = server.subscribe("control.builds.*.stop").await?;
    // A finished build has nothing to stop: the answer is null and no message goes out, so the
    // first message seen below is the running build's.
    let (status, reply) = server
        .call(
            &format!("/api/v2/builds/{}", seed.done_build),
            "stop",
            json!({"reason": "late"}),
        )
        .await?;
    assert_eq!(
        (status, reply.clone()),
        (
            StatusCode::OK,
            json!({"jsonrpc": "2.0", "id": 7, "result": null})
        )
    );
    let (status, reply) = server
        .call(
            "/api/v2/builders/linux/builds/2",
            "stop",
            json!({"reason": "wrong branch"}),
        )
        .await?;
    assert_eq!(
        (status, reply["result"].clone()),
        (StatusCode::OK, json!(null))
    );
    let event = next_event(&mut stops).await?;
    let id = seed.running_build.to_string();
    assert_eq!(
        event.topic.0,
        vec!["control", "builds", id.as_str(), "stop"]
    );
    assert_eq!(event.payload, json!({"reason": "wrong branch"}));
    let (status, reply) = server.call("/api/v2/builds/999", "stop", json!({})).await?;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!(-32602))
    );
    Ok(())
}

#[tokio::test]
async fn cancel_and_set_priority_act_on_pending_requests() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let mut cancels = server.subscribe("control.buildrequests.*.cancel").await?;
    let path = format!("/api/v2/buildrequests/{}", seed.pending_brid);
    let (status, _) = server.call(&path, "cancel", json!({})).await?;
    assert_eq!(status, StatusCode::OK);
    let event = next_event(&mut cancels).await?;
    let id = seed.pending_brid.to_string();
    assert_eq!(
        event.topic.0,
        vec!["control", "buildrequests", id.as_str(), "cancel"]
    );
    assert_eq!(event.payload, json!({"reason": "no reason"}));
    let (status, _) = server
        .call(&path, "set_priority", json!({"priority": 42}))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server.ok(&path).await?["buildrequests"][0]["priority"],
        json!(42)
    );
    let (status, reply) = server
        .call(&path, "set_priority", json!({"priority": "high"}))
        .await?;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    Ok(())
}

#[tokio::test]
async fn worker_actions_are_routed_over_the_bus() -> Result<()> {
    let server = Server::start().await?;
    let mut controls = server.subscribe("control.worker.*.*").await?;
    let (status, _) = server
        .call(
            "/api/v2/workers/w1",
            "pause",
            json!({"reason": "maintenance"}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let event = next_event(&mut controls).await?;
    let id = server.seed.worker.to_string();
    assert_eq!(
        event.topic.0,
        vec!["control", "worker", id.as_str(), "pause"]
    );
    assert_eq!(event.payload, json!({"reason": "maintenance"}));
    Ok(())
}

#[tokio::test]
async fn force_creates_a_buildset_and_names_bad_parameters() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let mut new_requests = server.subscribe("buildrequests.*.new").await?;
    let params = json!({
        "builderNames": ["windows"], "reason": "try it", "username": "Bob <bob@example.org>",
        "branch": "feature", "revision": "", "priority": "3", "color": "blue",
    });
    let (status, reply) = server
        .call("/api/v2/forceschedulers/force", "force", params)
        .await?;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let bsid = reply["result"][0].as_i64().unwrap_or_default();
    let brid = reply["result"][1][seed.windows.to_string()]
        .as_i64()
        .unwrap_or_default();
    let event = next_event(&mut new_requests).await?;
    assert_eq!(event.payload["buildrequestid"], json!(brid));
    let request = server
        .ok(&format!("/api/v2/buildrequests/{brid}?property=*"))
        .await?;
    let request = &request["buildrequests"][0];
    assert_eq!(
        (request["buildsetid"].clone(), request["priority"].clone()),
        (json!(bsid), json!(3))
    );
    assert_eq!(
        request["properties"]["color"],
        json!(["blue", "Force Build Form"])
    );
    assert_eq!(
        request["properties"]["owner"][0],
        json!("Bob <bob@example.org>")
    );
    let buildset = server.ok(&format!("/api/v2/buildsets/{bsid}")).await?;
    assert_eq!(
        buildset["buildsets"][0]["sourcestamps"][0]["branch"],
        json!("feature")
    );
    assert_eq!(
        buildset["buildsets"][0]["sourcestamps"][0]["revision"],
        json!(null)
    );

    let by_id = json!({"builderid": seed.linux});
    let (status, reply) = server
        .call("/api/v2/forceschedulers/force", "force", by_id)
        .await?;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(
        reply["result"][1][seed.linux.to_string()].is_number(),
        "{reply}"
    );

    for (path, params, status, named) in [
        (
            "/api/v2/forceschedulers/nope",
            json!({}),
            StatusCode::NOT_FOUND,
            "'nope'",
        ),
        (
            "/api/v2/forceschedulers/force",
            json!({"builderNames": ["docs"]}),
            StatusCode::BAD_REQUEST,
            "'docs'",
        ),
        (
            "/api/v2/forceschedulers/force",
            json!({"builderid": 999}),
            StatusCode::NOT_FOUND,
            "builder 999",
        ),
        (
            "/api/v2/forceschedulers/force",
            json!({"priority": "urgent"}),
            StatusCode::BAD_REQUEST,
            "'priority'",
        ),
        (
            "/api/v2/forceschedulers/force",
            json!({"builderNames": "linux"}),
            StatusCode::BAD_REQUEST,
            "'builderNames'",
        ),
    ] {
        let (got, reply) = server.call(path, "force", params.clone()).await?;
        assert_eq!(got, status, "{params}: {reply}");
        assert_eq!(reply["error"]["code"], json!(-32602), "{params}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{params}: {message}");
    }
    Ok(())
}

#[tokio::test]
async fn rebuild_copies_the_buildset_for_the_same_builder() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let path = format!("/api/v2/builds/{}", seed.done_build);
    let (status, reply) = server.call(&path, "rebuild", json!({})).await?;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let bsid = reply["result"][0].as_i64().unwrap_or_default();
    let brid = reply["result"][1][seed.linux.to_string()]
        .as_i64()
        .unwrap_or_default();
    let buildset = server.ok(&format!("/api/v2/buildsets/{bsid}")).await?;
    let buildset = &buildset["buildsets"][0];
    assert_eq!(buildset["reason"], json!("rebuild"));
    assert_eq!(buildset["rebuilt_buildid"], json!(seed.done_build));
    assert_eq!(buildset["sourcestamps"][0]["ssid"], json!(seed.ssid));
    let request = server
        .ok(&format!("/api/v2/buildrequests/{brid}?property=*"))
        .await?;
    let request = &request["buildrequests"][0];
    assert_eq!(
        (request["builderid"].clone(), request["complete"].clone()),
        (json!(seed.linux), json!(false))
    );
    assert_eq!(request["properties"]["branch"], json!(["main", "Build"]));
    Ok(())
}

#[tokio::test]
async fn disabling_a_scheduler_is_stored_and_announced() -> Result<()> {
    let server = Server::start().await?;
    let id = server.seed.scheduler;
    let mut updates = server
        .subscribe(&format!("schedulers.{id}.updated"))
        .await?;
    let path = format!("/api/v2/schedulers/{id}");
    let (status, reply) = server
        .call(&path, "enable", json!({"enabled": false}))
        .await?;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        server.ok(&path).await?["schedulers"][0]["enabled"],
        json!(false)
    );
    let event = next_event(&mut updates).await?;
    assert_eq!(
        (
            event.payload["schedulerid"].clone(),
            event.payload["enabled"].clone()
        ),
        (json!(id), json!(false))
    );
    let (status, reply) = server
        .call(&path, "enable", json!({"enabled": "no"}))
        .await?;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    let (status, _) = server
        .call("/api/v2/schedulers/999", "enable", json!({"enabled": true}))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}
