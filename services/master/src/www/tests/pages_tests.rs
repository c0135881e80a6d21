//! Force scheduler specs, the frontend config and the dashboard page.

use anyhow::Result;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Server, column};

fn field(name: &str, label: &str, kind: &str, default: Value, size: u32) -> Value {
    json!({
        "name": name, "fullName": name, "label": label, "tablabel": label, "type": kind,
        "default": default, "required": false, "multiple": false, "regex": null, "hide": false,
        "maxsize": null, "autopopulate": null, "tooltip": "", "size": size,
    })
}

fn group(fields: Vec<Value>, columns: u32) -> Value {
    json!({
        "name": "", "fullName": null, "label": "", "tablabel": "", "type": "nested",
        "default": "", "required": false, "multiple": false, "regex": null, "hide": false,
        "maxsize": null, "autopopulate": null, "tooltip": "", "layout": "vertical",
        "columns": columns, "fields": fields,
    })
}

#[tokio::test]
async fn force_schedulers_show_buildbots_default_form() -> Result<()> {
    let server = Server::start().await?;
    let mut username = field("username", "Your name:", "username", json!(""), 30);
    username["need_email"] = json!(true);
    let expected = json!({
        "name": "force",
        "button_name": "Force Build",
        "label": "Force a build",
        "builder_names": ["linux", "windows"],
        "enabled": true,
        "all_fields": [
            group(vec![
                username,
                field("reason", "reason", "text", json!("force build"), 20),
                field("priority", "priority", "int", json!(0), 10),
            ], 1),
            group(vec![
                field("branch", "Branch:", "text", json!(""), 10),
                field("project", "Project:", "text", json!(""), 10),
                field("repository", "Repository:", "text", json!(""), 10),
                field("revision", "Revision:", "text", json!(""), 10),
            ], 2),
        ],
    });
    let one = server.ok("/api/v2/forceschedulers/force").await?;
    assert_eq!(one, json!({"forceschedulers": [expected], "meta": {}}));
    let all = server.ok("/api/v2/forceschedulers").await?;
    assert_eq!(all["meta"]["total"], json!(1));
    let for_windows = server
        .ok("/api/v2/builders/windows/forceschedulers")
        .await?;
    assert_eq!(
        column(&for_windows, "forceschedulers", "name"),
        vec![json!("force")]
    );
    let for_docs = server
        .ok(&format!(
            "/api/v2/builders/{}/forceschedulers",
            server.seed.docs
        ))
        .await?;
    assert_eq!(for_docs["meta"]["total"], json!(0));
    Ok(())
}

#[tokio::test]
async fn config_describes_an_anonymous_frontend() -> Result<()> {
    let server = Server::start().await?;
    let config = server.ok("/config").await?;
    assert_eq!(config["title"], json!("Ferrobot test"));
    assert_eq!(config["buildbotURL"], json!("http://ci.example.org/"));
    assert_eq!(config["versions"][0][0], json!("Ferrobot"));
    assert_eq!(config["auth"], json!({"name": "NoAuth"}));
    assert_eq!(config["user"], json!({"anonymous": true}));
    assert_eq!(config["user_any_access_allowed"], json!(true));
    assert_eq!(config["multiMaster"], json!(false));
    assert_eq!(config["avatar_methods"], json!([]));
    assert!(
        config["port"].is_number()
            && config.get("plugins").is_some()
            && config.get("titleURL").is_some()
    );
    Ok(())
}

#[tokio::test]
async fn the_dashboard_lists_builders_and_recent_builds() -> Result<()> {
    let server = Server::start().await?;
    let response = server.client.get(format!("{}/", server.url)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()?
            .starts_with("text/html")
    );
    let html = response.text().await?;
    assert!(html.contains("<title>Ferrobot test</title>"));
    for text in [
        "<td>linux</td>",
        "<td>windows</td>",
        ">success</td>",
        ">running</td>",
        "build successful",
        "2023-11-14 22:13:20Z",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    // Newest first: the running build (linux #2) comes before the finished one.
    let running = html.find(">running</td>").unwrap_or(usize::MAX);
    let success = html.find(">success</td>").unwrap_or(0);
    assert!(running < success);
    assert!(html.contains("setInterval(refresh, 2000)") && !html.contains("src=\"http"));
    Ok(())
}
