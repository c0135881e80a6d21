//! `/api` (versions), `/config` (the frontend configuration) and the minimal dashboard at `/`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferrobot_model::{Build, Builder, Results};
use ferrobot_store::BuildFilter;
use serde_json::{Value, json};

use crate::Result;
use crate::context::Context;

/// How many recent builds the dashboard shows.
const RECENT_BUILDS: i64 = 20;

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

/// The colour Buildbot's UI gives a result (null = still running).
fn colour(results: Option<Results>) -> &'static str {
    match results {
        None => "#e7d100",
        Some(Results::Success) => "#8d4",
        Some(Results::Warnings) => "#fa3",
        Some(Results::Failure) => "#e88",
        Some(Results::Skipped) => "#ade",
        Some(Results::Exception) => "#c6c",
        Some(Results::Retry) => "#ecc",
        Some(Results::Cancelled) => "#ecc",
    }
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

/// Epoch seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC), the same text the page's script writes.
pub fn utc(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}Z")
}

fn builder_rows(builders: &[Builder]) -> String {
    builders
        .iter()
        .map(|b| {
            let tags = b.tags.join(", ");
            format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(&b.name),
                escape(&tags)
            )
        })
        .collect()
}

fn build_rows(builds: &[Build], builders: &[Builder]) -> String {
    builds
        .iter()
        .map(|b| {
            let name = builders
                .iter()
                .find(|x| x.builderid == b.builderid)
                .map_or_else(|| b.builderid.to_string(), |x| x.name.clone());
            let result = b.results.map_or("running", Results::name);
            format!(
                "<tr><td>{}</td><td>{}</td><td style=\"background:{}\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&name),
                b.number,
                colour(b.results),
                result,
                escape(&b.state_string),
                utc(b.started_at)
            )
        })
        .collect()
}

/// `/`: builders and recent builds, rendered now and refreshed by the inline script.
pub async fn index(ctx: &Context) -> Result<Response> {
    let builders = ctx.store.builders().await?;
    let filter = BuildFilter {
        newest: Some(RECENT_BUILDS),
        ..BuildFilter::default()
    };
    let mut builds = ctx.store.builds(&filter).await?;
    builds.sort_by_key(|b| std::cmp::Reverse(b.buildid));
    builds.truncate(usize::try_from(RECENT_BUILDS).unwrap_or(usize::MAX));
    let title = escape(&ctx.config().title);
    let html = TEMPLATE
        .replace("{title}", &title)
        .replace("{builders}", &builder_rows(&builders))
        .replace("{builds}", &build_rows(&builds, &builders));
    let mut response = (StatusCode::OK, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(response)
}

const TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #333; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }
th { background: #f5f5f5; }
</style>
</head>
<body>
<h1>{title}</h1>
<h2>Builders</h2>
<table><thead><tr><th>Builder</th><th>Tags</th></tr></thead>
<tbody id="builders">{builders}</tbody></table>
<h2>Recent builds</h2>
<table><thead><tr><th>Builder</th><th>Number</th><th>Result</th><th>State</th><th>Started</th></tr></thead>
<tbody id="builds">{builds}</tbody></table>
<script>
const RESULTS = ["success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"];
const COLOURS = ["#8d4", "#fa3", "#e88", "#ade", "#c6c", "#ecc", "#ecc"];
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const utc = (t) => new Date(t * 1000).toISOString().slice(0, 19).replace("T", " ") + "Z";
const get = (path) => fetch("api/v2/" + path, { headers: { Accept: "application/json" } }).then((r) => r.json());
async function refresh() {
  try {
    const [b, r] = await Promise.all([get("builders"), get("builds?order=-buildid&limit=20")]);
    const names = {};
    b.builders.forEach((x) => { names[x.builderid] = x.name; });
    document.getElementById("builders").innerHTML = b.builders
      .map((x) => `<tr><td>${esc(x.name)}</td><td>${esc(x.tags.join(", "))}</td></tr>`).join("");
    document.getElementById("builds").innerHTML = r.builds.map((x) => {
      const result = x.results === null ? "running" : (RESULTS[x.results] || x.results);
      const colour = x.results === null ? "#e7d100" : (COLOURS[x.results] || "#fff");
      return `<tr><td>${esc(names[x.builderid] || x.builderid)}</td><td>${x.number}</td>` +
        `<td style="background:${colour}">${esc(result)}</td><td>${esc(x.state_string)}</td>` +
        `<td>${utc(x.started_at)}</td></tr>`;
    }).join("");
  } catch (e) { /* the master may be restarting; try again at the next tick */ }
}
setInterval(refresh, 2000);
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20Z");
    }

    #[test]
    fn names_cannot_inject_markup() {
        assert_eq!(
            escape("<b>&\"'{builds}"),
            "&lt;b&gt;&amp;&quot;&#39;&#123;builds}"
        );
    }
}
