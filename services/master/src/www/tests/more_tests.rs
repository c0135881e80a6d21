//! The less common endpoints, paging done by the database, and force's property values.

use anyhow::Result;
use reqwest::StatusCode;
use serde_json::json;

use super::{Server, column};

#[tokio::test]
async fn database_paging_gives_the_engines_answers() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let newest = server.ok("/api/v2/builds?limit=1&order=-buildid").await?;
    assert_eq!(
        column(&newest, "builds", "buildid"),
        [json!(seed.running_build)]
    );
    assert_eq!(newest["meta"]["total"], json!(2));
    let page = server
        .ok("/api/v2/builds?order=complete&order=-number&offset=1&limit=5&field=number&field=complete")
        .await?;
    // complete=false (running #2) sorts first; skipping it leaves the finished #1.
    assert_eq!(page["builds"], json!([{"number": 1, "complete": true}]));
    assert_eq!(page["meta"]["total"], json!(2));
    let filtered = server
        .ok(&format!(
            "/api/v2/builders/{}/builds?results__ne=null&number__lt=5",
            seed.linux
        ))
        .await?;
    assert_eq!(
        column(&filtered, "builds", "buildid"),
        [json!(seed.done_build)]
    );
    let none = server.ok("/api/v2/builds?workerid=null").await?;
    assert_eq!(none["meta"]["total"], json!(0));
    // Substring filters take the engine's path and still combine with paging.
    let running = server
        .ok("/api/v2/builds?state_string__contains=ing&limit=1")
        .await?;
    assert_eq!(running["meta"]["total"], json!(1));
    let with_properties = server
        .ok("/api/v2/builds?order=-buildid&limit=1&property=*")
        .await?;
    assert!(with_properties["builds"][0]["properties"].is_object());
    // Build requests page in the database too; claim filters take the engine's path.
    let newest_request = server
        .ok("/api/v2/buildrequests?order=-buildrequestid&limit=1")
        .await?;
    assert_eq!(newest_request["meta"]["total"], json!(3));
    assert_eq!(
        column(&newest_request, "buildrequests", "buildrequestid"),
        [json!(seed.pending_brid.max(seed.running_brid))]
    );
    let pending = server
        .ok("/api/v2/buildrequests?complete=false&claimed=false")
        .await?;
    assert_eq!(
        column(&pending, "buildrequests", "buildrequestid"),
        [json!(seed.pending_brid)]
    );
    let changes = server.ok("/api/v2/changes?order=-changeid&limit=1").await?;
    assert_eq!(
        column(&changes, "changes", "changeid"),
        [json!(seed.changeid)]
    );
    assert_eq!(changes["changes"][0]["files"], json!(["src/main.rs"]));
    let by_author = server.ok("/api/v2/changes?author__contains=ALICE").await?;
    assert_eq!(
        by_author["meta"]["total"],
        json!(0),
        "contains is case-sensitive"
    );
    Ok(())
}

#[tokio::test]
async fn projects_and_test_results_are_empty_collections_of_the_right_shape() -> Result<()> {
    let server = Server::start().await?;
    let projects = server.ok("/api/v2/projects").await?;
    assert_eq!(projects, json!({"projects": [], "meta": {"total": 0}}));
    let message = server
        .error("/api/v2/projects/1", StatusCode::NOT_FOUND)
        .await?;
    assert!(message.contains("project 1"), "{message}");
    for path in [
        "/api/v2/test_result_sets".to_owned(),
        format!("/api/v2/builders/{}/test_result_sets", server.seed.linux),
        format!("/api/v2/builds/{}/test_result_sets", server.seed.done_build),
        format!("/api/v2/steps/{}/test_result_sets", server.seed.step),
    ] {
        let sets = server.ok(&path).await?;
        assert_eq!(
            sets,
            json!({"test_result_sets": [], "meta": {"total": 0}}),
            "{path}"
        );
    }
    server
        .error("/api/v2/builds/999/test_result_sets", StatusCode::NOT_FOUND)
        .await?;
    server
        .error("/api/v2/test_result_sets/3/results", StatusCode::NOT_FOUND)
        .await?;
    let bad = server
        .error(
            "/api/v2/test_result_sets?colour=red",
            StatusCode::BAD_REQUEST,
        )
        .await?;
    assert!(bad.contains("colour"), "{bad}");
    let data = server
        .ok(&format!("/api/v2/builds/{}/data", server.seed.done_build))
        .await?;
    assert_eq!(data, json!({"build_data": [], "meta": {"total": 0}}));
    Ok(())
}

#[tokio::test]
async fn the_spec_lists_every_served_path_with_its_fields() -> Result<()> {
    let server = Server::start().await?;
    let spec = server.ok("/api/v2/application.spec").await?;
    let paths = column(&spec, "specs", "path");
    assert!(paths.contains(&json!("builders/n:builderid/builds/n:number")));
    assert!(paths.contains(&json!("test_result_sets")));
    let builds = spec["specs"]
        .as_array()
        .and_then(|s| s.iter().find(|e| e["path"] == json!("builds")))
        .cloned()
        .unwrap_or_default();
    assert_eq!(builds["plural"], json!("builds"));
    let fields = &builds["type_spec"]["fields"];
    assert!(
        fields
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["name"] == json!("buildid")))
    );
    // Every listed path with its placeholders filled in answers.
    for path in paths.iter().filter_map(|p| p.as_str()) {
        let not_json = path.ends_with("/raw") || path.ends_with("/raw_inline");
        if not_json || path.contains("s:") || path.contains("i:") || path.contains("projects/n") {
            continue;
        }
        let concrete: Vec<String> = path
            .split('/')
            .map(|segment| match segment {
                "n:builderid" => server.seed.linux.to_string(),
                "n:buildid" => server.seed.done_build.to_string(),
                "n:number" => "1".into(),
                "n:stepid" => server.seed.step.to_string(),
                "n:logid" => server.seed.log.to_string(),
                "n:masterid" => server.seed.masterid.to_string(),
                "n:workerid" => server.seed.worker.to_string(),
                "n:buildrequestid" => server.seed.done_brid.to_string(),
                "n:bsid" => server.seed.done_bsid.to_string(),
                "n:ssid" => server.seed.ssid.to_string(),
                "n:changeid" => server.seed.changeid.to_string(),
                "n:schedulerid" => server.seed.scheduler.to_string(),
                other => other.to_owned(),
            })
            .collect();
        if concrete.iter().any(|s| s.starts_with("n:")) {
            continue;
        }
        let (status, _) = server
            .get(&format!("/api/v2/{}", concrete.join("/")))
            .await?;
        assert_ne!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn nested_singles_and_property_lists() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let m = seed.masterid;
    let scheduler = server
        .ok(&format!(
            "/api/v2/masters/{m}/schedulers/{}",
            seed.scheduler
        ))
        .await?;
    assert_eq!(column(&scheduler, "schedulers", "name"), [json!("force")]);
    let builder = server
        .ok(&format!("/api/v2/masters/{m}/builders/{}", seed.linux))
        .await?;
    assert_eq!(column(&builder, "builders", "name"), [json!("linux")]);
    server
        .error(
            &format!("/api/v2/masters/{m}/builders/{}", seed.docs),
            StatusCode::NOT_FOUND,
        )
        .await?;
    let master = server
        .ok(&format!("/api/v2/builders/linux/masters/{m}"))
        .await?;
    assert_eq!(column(&master, "masters", "masterid"), [json!(m)]);
    let worker = server
        .ok(&format!("/api/v2/masters/{m}/workers/w1"))
        .await?;
    assert_eq!(column(&worker, "workers", "workerid"), [json!(seed.worker)]);
    let on_builder = server
        .ok(&format!(
            "/api/v2/masters/{m}/builders/{}/workers",
            seed.linux
        ))
        .await?;
    assert_eq!(on_builder["meta"]["total"], json!(1));
    let none = server
        .ok(&format!(
            "/api/v2/masters/{m}/builders/{}/workers",
            seed.windows
        ))
        .await?;
    assert_eq!(none["meta"]["total"], json!(0));
    let message = server
        .error(
            &format!("/api/v2/builders/linux/workers/{}", seed.worker + 50),
            StatusCode::NOT_FOUND,
        )
        .await?;
    assert!(message.contains("worker"), "{message}");

    let list = server
        .ok(&format!(
            "/api/v2/buildsets/{}/properties_list",
            seed.done_bsid
        ))
        .await?;
    let names = column(&list, "_properties", "name");
    assert!(names.contains(&json!("scheduler")), "{list}");
    let entry = list["_properties"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == json!("scheduler")))
        .cloned()
        .unwrap_or_default();
    assert!(entry["value"].is_string(), "values are JSON text: {entry}");
    let properties = server
        .ok(&format!("/api/v2/buildsets/{}/properties", seed.done_bsid))
        .await?;
    assert!(
        properties["properties"][0]["scheduler"].is_array(),
        "{properties}"
    );
    server
        .ok(&format!("/api/v2/builds/{}/property_list", seed.done_build))
        .await?;
    server
        .ok(&format!(
            "/api/v2/changes/{}/properties_list",
            seed.changeid
        ))
        .await?;
    Ok(())
}

#[tokio::test]
async fn force_keeps_typed_and_nested_property_values() -> Result<()> {
    let server = Server::start().await?;
    let params = json!({
        "builderNames": ["linux"], "text": "two\nlines", "count": 3, "flag": true,
        "choice": "b", "nested": {"inner": {"n": 1}, "list": [1, "x"]},
    });
    let (status, reply) = server
        .call("/api/v2/forceschedulers/force", "force", params)
        .await?;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let bsid = reply["result"][0].as_i64().unwrap_or_default();
    let properties = server.ctx.store.buildset_properties(bsid).await?;
    let value = |name: &str| properties.get(name).map(|p| p.0.clone());
    assert_eq!(value("text"), Some(json!("two\nlines")));
    assert_eq!(value("count"), Some(json!(3)));
    assert_eq!(value("flag"), Some(json!(true)));
    assert_eq!(value("choice"), Some(json!("b")));
    assert_eq!(
        value("nested"),
        Some(json!({"inner": {"n": 1}, "list": [1, "x"]}))
    );
    Ok(())
}
