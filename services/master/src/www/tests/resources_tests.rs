//! Entities reached through their relations: buildsets, source stamps, changes, steps, logs,
//! workers, masters, schedulers and change sources.

use anyhow::Result;
use serde_json::json;

use super::{Server, column, items};

#[tokio::test]
async fn buildsets_sourcestamps_and_changes_link_up() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let done = server
        .ok(&format!("/api/v2/buildsets/{}", seed.done_bsid))
        .await?;
    let buildset = &done["buildsets"][0];
    assert_eq!(buildset["complete"], json!(true));
    assert_eq!(buildset["results"], json!(0));
    assert_eq!(buildset["sourcestamps"][0]["ssid"], json!(seed.ssid));
    let incomplete = server.ok("/api/v2/buildsets?complete=false").await?;
    assert_eq!(
        column(&incomplete, "buildsets", "bsid"),
        vec![json!(seed.pending_bsid)]
    );
    let stamps = server
        .ok(&format!(
            "/api/v2/buildsets/{}/sourcestamps",
            seed.done_bsid
        ))
        .await?;
    assert_eq!(
        column(&stamps, "sourcestamps", "revision"),
        vec![json!("abc123")]
    );
    let all_stamps = server.ok("/api/v2/sourcestamps").await?;
    assert_eq!(all_stamps["meta"]["total"], json!(2));
    let change = server
        .ok(&format!("/api/v2/changes/{}", seed.changeid))
        .await?;
    assert_eq!(
        change["changes"][0]["author"],
        json!("Alice <alice@example.org>")
    );
    assert_eq!(change["changes"][0]["files"], json!(["src/main.rs"]));
    let of_build = server
        .ok(&format!("/api/v2/builds/{}/changes", seed.done_build))
        .await?;
    assert_eq!(
        column(&of_build, "changes", "changeid"),
        vec![json!(seed.changeid)]
    );
    let of_stamp = server
        .ok(&format!("/api/v2/sourcestamps/{}/changes", seed.ssid))
        .await?;
    assert_eq!(
        column(&of_stamp, "changes", "changeid"),
        vec![json!(seed.changeid)]
    );
    let on_main = server
        .ok("/api/v2/changes?branch=main&files__contains=src/main.rs")
        .await?;
    assert_eq!(on_main["meta"]["total"], json!(1));
    Ok(())
}

#[tokio::test]
async fn steps_and_logs_are_reached_every_buildbot_way() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let steps = server
        .ok(&format!("/api/v2/builds/{}/steps", seed.done_build))
        .await?;
    assert_eq!(
        column(&steps, "steps", "name"),
        vec![json!("compile"), json!("test")]
    );
    let step = server.ok(&format!("/api/v2/steps/{}", seed.step)).await?;
    assert_eq!(step["steps"][0]["results"], json!(0));
    for path in [
        format!("/api/v2/builds/{}/steps/compile", seed.done_build),
        format!("/api/v2/builds/{}/steps/0", seed.done_build),
        "/api/v2/builders/linux/builds/1/steps/compile".to_owned(),
    ] {
        assert_eq!(server.ok(&path).await?, step, "{path}");
    }
    let log = server.ok(&format!("/api/v2/logs/{}", seed.log)).await?;
    let entity = &log["logs"][0];
    assert_eq!(entity["slug"], json!("stdio"));
    assert_eq!(entity["type"], json!("s"));
    assert_eq!(entity["num_lines"], json!(3));
    assert_eq!(entity["complete"], json!(true));
    for path in [
        format!("/api/v2/steps/{}/logs/stdio", seed.step),
        format!(
            "/api/v2/builds/{}/steps/compile/logs/stdio",
            seed.done_build
        ),
        "/api/v2/builders/linux/builds/1/steps/0/logs/stdio".to_owned(),
    ] {
        assert_eq!(server.ok(&path).await?, log, "{path}");
    }
    let logs = server
        .ok(&format!("/api/v2/steps/{}/logs", seed.step))
        .await?;
    assert_eq!(items(&logs, "logs").len(), 1);
    Ok(())
}

#[tokio::test]
async fn workers_masters_schedulers_and_change_sources() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let worker = server.ok("/api/v2/workers/w1").await?;
    assert_eq!(
        server
            .ok(&format!("/api/v2/workers/{}", seed.worker))
            .await?,
        worker
    );
    let w = &worker["workers"][0];
    assert_eq!(w["workerinfo"]["host"], json!("box1"));
    assert_eq!(w["connected_to"], json!([{"masterid": seed.masterid}]));
    assert_eq!(
        w["configured_on"],
        json!([{"builderid": seed.linux, "masterid": seed.masterid}])
    );
    let of_linux = server.ok("/api/v2/builders/linux/workers").await?;
    assert_eq!(column(&of_linux, "workers", "name"), vec![json!("w1")]);
    let of_docs = server.ok("/api/v2/builders/docs/workers").await?;
    assert_eq!(of_docs["meta"]["total"], json!(0));
    let masters = server.ok("/api/v2/masters?active=true").await?;
    assert_eq!(
        column(&masters, "masters", "name"),
        vec![json!("test:/master")]
    );
    let master = server
        .ok(&format!("/api/v2/masters/{}", seed.masterid))
        .await?;
    assert_eq!(master["masters"][0]["active"], json!(true));
    let schedulers = server.ok("/api/v2/schedulers?order=name").await?;
    assert_eq!(
        column(&schedulers, "schedulers", "name"),
        vec![json!("force"), json!("nightly")]
    );
    assert_eq!(
        schedulers["schedulers"][0]["master"]["masterid"],
        json!(seed.masterid)
    );
    assert_eq!(schedulers["schedulers"][1]["master"], json!(null));
    let on_master = server
        .ok(&format!("/api/v2/masters/{}/schedulers", seed.masterid))
        .await?;
    assert_eq!(on_master["meta"]["total"], json!(1));
    let sources = server.ok("/api/v2/changesources").await?;
    assert_eq!(
        column(&sources, "changesources", "name"),
        vec![json!("GitPoller:repo")]
    );
    Ok(())
}
