//! `/api` (versions), `/config` (the frontend configuration) and `/`, the dashboard's page
//! (its assets and the app itself are in `dashboard/`).

use axum::response::Response;
use serde_json::{Value, json};

use crate::Result;
use crate::context::Context;
use crate::www::dashboard;

/// `/api`: where each API version lives.
pub fn api_versions(ctx: &Context) -> Value {
    let url = ctx.config().buildbot_url.clone();
    json!({ "api_versions": { "v2": format!("{url}api/v2") } })
}

/// `/config`: what Buildbot's web frontend reads at start-up.
pub fn frontend_config(ctx: &Context) -> Value {
    let config = ctx.config();
    json!({
        "title": config.title,
        "titleURL": config.title_url,
        "buildbotURL": config.buildbot_url,
        "multiMaster": config.multi_master,
        "versions": [["Ferrobot", env!("CARGO_PKG_VERSION")]],
        "auth": { "name": "NoAuth" },
        "user": { "anonymous": true },
        "user_any_access_allowed": true,
        "port": config.www.port,
        "plugins": config.www.plugins,
        "avatar_methods": [],
    })
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Braces too, so a name cannot look like one of the page template's slots.
            '{' => out.push_str("&#123;"),
            c => out.push(c),
        }
    }
    out
}

/// `/`: the dashboard's page with the configured title; the app loads `/config` and the API.
pub async fn index(ctx: &Context) -> Result<Response> {
    Ok(dashboard::index(&escape(&ctx.config().title)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_inject_markup() {
        assert_eq!(
            escape("<b>&\"'{builds}"),
            "&lt;b&gt;&amp;&quot;&#39;&#123;builds}"
        );
    }
}
