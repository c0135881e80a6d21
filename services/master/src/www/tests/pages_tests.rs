//! Force scheduler specs, the frontend config and the dashboard's page and assets.

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
async fn the_dashboard_page_and_its_assets_are_served_from_the_binary() -> Result<()> {
    let server = Server::start().await?;
    let response = server.client.get(format!("{}/", server.url)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()?
            .starts_with("text/html")
    );
    let html = response.text().await?;
    assert!(html.contains("<title>Ferrobot test</title>"), "{html}");
    assert!(html.contains(r#"<script type="module" src="assets/app.js">"#));
    // Nothing is loaded from elsewhere: every asset URL is relative to the page.
    assert!(!html.contains("http://") && !html.contains("https://"));
    for (asset, kind) in [
        ("app.js", "text/javascript"),
        ("pages/waterfall.js", "text/javascript"),
        ("style.css", "text/css"),
    ] {
        let response = server
            .client
            .get(format!("{}/assets/{asset}", server.url))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(
            response.headers()["content-type"]
                .to_str()?
                .starts_with(kind)
        );
        assert!(!response.text().await?.is_empty());
    }
    let missing = server
        .client
        .get(format!("{}/assets/nope.js", server.url))
        .send()
        .await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await?.contains("nope.js"));
    Ok(())
}
