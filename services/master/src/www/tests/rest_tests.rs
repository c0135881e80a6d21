//! GET endpoints: shapes, nesting, 404s, the query language over HTTP.

use anyhow::Result;
use reqwest::StatusCode;
use serde_json::json;

use super::{NOW, Server, column};

#[tokio::test]
async fn api_lists_its_versions_and_root_links() -> Result<()> {
    let server = Server::start().await?;
    let versions = server.ok("/api").await?;
    assert_eq!(
        versions,
        json!({"api_versions": {"v2": "http://ci.example.org/api/v2"}})
    );
    let root = server.ok("/api/v2").await?;
    let names = column(&root, "rootlinks", "name");
    assert!(names.contains(&json!("builders")) && names.contains(&json!("forceschedulers")));
    assert_eq!(root["meta"]["total"], json!(names.len()));
    assert_eq!(
        server.ok("/api/latest/builders").await?,
        server.ok("/api/v2/builders").await?
    );
    Ok(())
}

#[tokio::test]
async fn builders_are_found_by_id_or_name_as_one_element_lists() -> Result<()> {
    let server = Server::start().await?;
    let all = server.ok("/api/v2/builders").await?;
    assert_eq!(all["meta"]["total"], json!(3));
    let by_id = server
        .ok(&format!("/api/v2/builders/{}", server.seed.linux))
        .await?;
    let by_name = server.ok("/api/v2/builders/linux").await?;
    assert_eq!(by_id, by_name);
    assert_eq!(by_id["meta"], json!({}));
    let builder = &by_id["builders"][0];
    assert_eq!(builder["name"], json!("linux"));
    assert_eq!(builder["description"], json!("Linux x86"));
    assert_eq!(builder["tags"], json!(["fast"]));
    assert_eq!(builder["masterids"], json!([server.seed.masterid]));
    let on_master = server
        .ok(&format!(
            "/api/v2/masters/{}/builders",
            server.seed.masterid
        ))
        .await?;
    assert_eq!(
        column(&on_master, "builders", "name"),
        vec![json!("linux"), json!("windows")]
    );
    let of_worker = server.ok("/api/v2/workers/w1/builders").await?;
    assert_eq!(column(&of_worker, "builders", "name"), vec![json!("linux")]);
    Ok(())
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404_naming_them() -> Result<()> {
    let server = Server::start().await?;
    for (path, named) in [
        ("/api/v2/builders/999", "builder 999"),
        ("/api/v2/builders/nope/builds", "builder 'nope'"),
        ("/api/v2/builders/linux/builds/99", "build number 99"),
        ("/api/v2/builds/999", "build 999"),
        ("/api/v2/builds/999/steps", "build 999"),
        ("/api/v2/steps/999", "step 999"),
        ("/api/v2/logs/999", "log 999"),
        ("/api/v2/buildrequests/999", "buildrequest 999"),
        ("/api/v2/buildsets/999", "buildset 999"),
        ("/api/v2/changes/999", "change 999"),
        ("/api/v2/sourcestamps/999", "sourcestamp 999"),
        ("/api/v2/workers/nobody", "worker 'nobody'"),
        ("/api/v2/masters/999", "master 999"),
        ("/api/v2/schedulers/999", "scheduler 999"),
        ("/api/v2/forceschedulers/nope", "forcescheduler 'nope'"),
        ("/api/v2/nothing", "/nothing"),
        ("/api/v2/builds/", "/builds/"),
    ] {
        let message = server.error(path, StatusCode::NOT_FOUND).await?;
        assert!(message.contains(named), "{path}: {message}");
    }
    Ok(())
}

#[tokio::test]
async fn builds_nest_under_builders_and_requests() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let build = server
        .ok(&format!("/api/v2/builds/{}", seed.done_build))
        .await?;
    let b = &build["builds"][0];
    assert_eq!(b["number"], json!(1));
    assert_eq!(b["builderid"], json!(seed.linux));
    assert_eq!(b["results"], json!(0));
    assert_eq!(b["complete"], json!(true));
    assert_eq!(b["complete_at"], json!(NOW + 10));
    assert_eq!(b["state_string"], json!("build successful"));
    assert_eq!(b["properties"], json!({}));
    assert_eq!(server.ok("/api/v2/builders/linux/builds/1").await?, build);
    assert_eq!(
        server
            .ok(&format!("/api/v2/builders/{}/builds/1", seed.linux))
            .await?,
        build
    );
    let of_linux = server.ok("/api/v2/builders/linux/builds").await?;
    assert_eq!(
        column(&of_linux, "builds", "number"),
        vec![json!(1), json!(2)]
    );
    let of_request = server
        .ok(&format!(
            "/api/v2/buildrequests/{}/builds",
            seed.running_brid
        ))
        .await?;
    assert_eq!(
        column(&of_request, "builds", "buildid"),
        vec![json!(seed.running_build)]
    );
    let of_worker = server.ok("/api/v2/workers/w1/builds").await?;
    assert_eq!(of_worker["meta"]["total"], json!(2));
    Ok(())
}

#[tokio::test]
async fn collections_filter_order_and_page() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let running = server.ok("/api/v2/builds?complete=false").await?;
    assert_eq!(
        column(&running, "builds", "buildid"),
        vec![json!(seed.running_build)]
    );
    let running = server.ok("/api/v2/builds?results=null").await?;
    assert_eq!(
        column(&running, "builds", "buildid"),
        vec![json!(seed.running_build)]
    );
    let newest = server.ok("/api/v2/builds?order=-buildid&limit=1").await?;
    assert_eq!(
        column(&newest, "builds", "buildid"),
        vec![json!(seed.running_build)]
    );
    assert_eq!(newest["meta"]["total"], json!(2));
    let second = server
        .ok("/api/v2/builds?order=-buildid&limit=1&offset=1")
        .await?;
    assert_eq!(
        column(&second, "builds", "buildid"),
        vec![json!(seed.done_build)]
    );
    let names = server.ok("/api/v2/builders?order=-name&field=name").await?;
    assert_eq!(
        names["builders"],
        json!([{"name": "windows"}, {"name": "linux"}, {"name": "docs"}])
    );
    let tagged = server
        .ok("/api/v2/builders?tags__contains=docs&tags__contains=fast")
        .await?;
    assert_eq!(
        column(&tagged, "builders", "name"),
        vec![json!("linux"), json!("docs")]
    );
    let some = server
        .ok(&format!(
            "/api/v2/builders?builderid__in={}&builderid__in={}",
            seed.linux, seed.docs
        ))
        .await?;
    assert_eq!(some["meta"]["total"], json!(2));
    let steps = server
        .ok(&format!(
            "/api/v2/builds/{}/steps?name__ne=test&field=name",
            seed.done_build
        ))
        .await?;
    assert_eq!(steps["steps"], json!([{"name": "compile"}]));
    Ok(())
}

#[tokio::test]
async fn bad_queries_are_400_naming_the_problem() -> Result<()> {
    let server = Server::start().await?;
    for (query, named) in [
        (
            "/api/v2/builds?nope=1",
            "unrecognized query parameter 'nope'",
        ),
        ("/api/v2/builds?field=nope", "no such field 'nope'"),
        ("/api/v2/builds?order=-nope", "no such field 'nope'"),
        ("/api/v2/builds?results__like=1", "no such operator 'like'"),
        ("/api/v2/builds?nope__eq=1", "no such field 'nope'"),
        ("/api/v2/builds?complete=maybe", "complete"),
        ("/api/v2/builds?buildid__gt=abc", "buildid__gt"),
        ("/api/v2/builds?limit=ten", "invalid limit"),
        ("/api/v2/builds/1?builderid=1", "this is not a collection"),
        (
            "/api/v2/builds?field=buildid&order=number",
            "un-selected field 'number'",
        ),
    ] {
        let message = server.error(query, StatusCode::BAD_REQUEST).await?;
        assert!(message.contains(named), "{query}: {message}");
    }
    Ok(())
}

#[tokio::test]
async fn properties_appear_only_when_asked_for() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let path = format!("/api/v2/builds/{}", seed.done_build);
    let owner = server.ok(&format!("{path}?property=owner")).await?;
    assert_eq!(
        owner["builds"][0]["properties"],
        json!({"owner": ["alice", "Force Build Form"]})
    );
    let all = server
        .ok(&format!(
            "/api/v2/builds?property=*&buildid={}",
            seed.done_build
        ))
        .await?;
    assert_eq!(
        all["builds"][0]["properties"],
        json!({"owner": ["alice", "Force Build Form"], "got_revision": ["abc123", "Git"]})
    );
    let selected = server
        .ok(&format!("{path}?property=owner&field=properties"))
        .await?;
    assert_eq!(
        selected["builds"][0],
        json!({"properties": {"owner": ["alice", "Force Build Form"]}})
    );
    let resource = server.ok(&format!("{path}/properties")).await?;
    assert_eq!(
        resource,
        json!({"properties": [{"owner": ["alice", "Force Build Form"], "got_revision": ["abc123", "Git"]}], "meta": {}})
    );
    let request = server
        .ok(&format!("/api/v2/buildrequests/{}", seed.done_brid))
        .await?;
    assert_eq!(request["buildrequests"][0]["properties"], json!(null));
    let request = server
        .ok(&format!(
            "/api/v2/buildrequests/{}?property=*",
            seed.done_brid
        ))
        .await?;
    assert_eq!(
        request["buildrequests"][0]["properties"],
        json!({"scheduler": ["all", "Scheduler"], "branch": ["main", "Build"]})
    );
    Ok(())
}

#[tokio::test]
async fn build_requests_filter_by_state_and_builder() -> Result<()> {
    let server = Server::start().await?;
    let seed = &server.seed;
    let pending = server.ok("/api/v2/buildrequests?claimed=false").await?;
    assert_eq!(
        column(&pending, "buildrequests", "buildrequestid"),
        vec![json!(seed.pending_brid)]
    );
    assert_eq!(pending["buildrequests"][0]["results"], json!(-1));
    assert_eq!(pending["buildrequests"][0]["priority"], json!(5));
    let done = server.ok("/api/v2/buildrequests?complete=yes").await?;
    assert_eq!(
        column(&done, "buildrequests", "buildrequestid"),
        vec![json!(seed.done_brid)]
    );
    let of_linux = server
        .ok(&format!("/api/v2/builders/{}/buildrequests", seed.linux))
        .await?;
    assert_eq!(of_linux["meta"]["total"], json!(2));
    let of_set = server
        .ok(&format!(
            "/api/v2/buildrequests?buildsetid={}",
            seed.pending_bsid
        ))
        .await?;
    assert_eq!(of_set["meta"]["total"], json!(2));
    Ok(())
}

#[tokio::test]
async fn json_is_pretty_text_unless_the_client_accepts_json() -> Result<()> {
    let server = Server::start().await?;
    let response = server
        .client
        .get(format!("{}/api/v2/masters", server.url))
        .send()
        .await?;
    let content_type = response.headers()["content-type"].to_str()?.to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await?;
    assert!(text.contains("\n  \"masters\""), "{text}");
    let response = server
        .client
        .get(format!("{}/api/v2/masters", server.url))
        .header("accept", "application/json")
        .send()
        .await?;
    assert!(
        response.headers()["content-type"]
            .to_str()?
            .starts_with("application/json")
    );
    assert!(!response.text().await?.contains('\n'));
    Ok(())
}
