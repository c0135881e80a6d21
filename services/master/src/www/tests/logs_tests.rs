//! Log contents, raw downloads and inline text.

use anyhow::Result;
use reqwest::StatusCode;
use serde_json::json;

use super::Server;

#[tokio::test]
async fn contents_keep_stream_letters_and_honour_offset_and_limit() -> Result<()> {
    let server = Server::start().await?;
    let logid = server.seed.log;
    let all = server.ok(&format!("/api/v2/logs/{logid}/contents")).await?;
    assert_eq!(
        all,
        json!({"logchunks": [{"logid": logid, "firstline": 0, "content": "ohello\neoops\nhheader\n"}], "meta": {}})
    );
    let middle = server
        .ok(&format!("/api/v2/logs/{logid}/contents?offset=1&limit=1"))
        .await?;
    assert_eq!(
        middle["logchunks"][0],
        json!({"logid": logid, "firstline": 1, "content": "eoops\n"})
    );
    let tail = server
        .ok(&format!("/api/v2/logs/{logid}/contents?offset=1"))
        .await?;
    assert_eq!(tail["logchunks"][0]["content"], json!("eoops\nhheader\n"));
    let nested = server
        .ok("/api/v2/builders/linux/builds/1/steps/compile/logs/stdio/contents?offset=2&limit=5")
        .await?;
    assert_eq!(nested["logchunks"][0]["content"], json!("hheader\n"));
    // Reading exactly at the end (a client tailing the log) finds nothing new yet.
    let at_end = server
        .ok(&format!("/api/v2/logs/{logid}/contents?offset=3&limit=10"))
        .await?;
    assert_eq!(at_end["logchunks"][0]["content"], json!(""));
    server
        .error(
            &format!("/api/v2/logs/{logid}/contents?offset=9"),
            StatusCode::NOT_FOUND,
        )
        .await?;
    let message = server
        .error(
            &format!("/api/v2/logs/{logid}/contents?content=x"),
            StatusCode::BAD_REQUEST,
        )
        .await?;
    assert_eq!(message, "this is not a collection");
    let only = server
        .ok(&format!(
            "/api/v2/logs/{logid}/contents?field=content&limit=1"
        ))
        .await?;
    assert_eq!(only["logchunks"], json!([{"content": "ohello\n"}]));
    Ok(())
}

#[tokio::test]
async fn raw_is_a_text_download_without_stream_letters() -> Result<()> {
    let server = Server::start().await?;
    let expected = "Builder: linux\nBuild number: 1\nWorker name: w1\nhello\noops\nheader\n";
    let response = server
        .client
        .get(format!(
            "{}/api/v2/steps/{}/logs/stdio/raw",
            server.url, server.seed.step
        ))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"linux_build_1_step_compile_log_stdio\""
    );
    assert_eq!(response.text().await?, expected);

    let response = server
        .client
        .get(format!(
            "{}/api/v2/logs/{}/raw_inline",
            server.url, server.seed.log
        ))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("content-disposition").is_none());
    assert_eq!(response.text().await?, expected);
    server
        .error("/api/v2/logs/999/raw", StatusCode::NOT_FOUND)
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_long_log_comes_back_whole_and_in_order() -> Result<()> {
    let server = Server::start().await?;
    let store = &server.ctx.store;
    let me = server.ctx.claimant();
    let logid = store.add_log(server.seed.step, "big", "t", me).await?;
    let lines: String = (0..25_000).map(|i| format!("line {i}\n")).collect();
    store.append_log(logid, &lines, me).await?;
    let response = server
        .client
        .get(format!("{}/api/v2/logs/{logid}/raw", server.url))
        .send()
        .await?;
    // Text logs have no stream letters and no prefix block.
    assert_eq!(response.text().await?, lines);
    Ok(())
}
