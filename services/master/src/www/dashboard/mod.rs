//! The dashboard: a single-page app of plain ES modules (`services/master/www/`) built into the
//! binary and served at `/` and `/assets/…`. It talks only to the public REST API v2, JSON-RPC,
//! `/ws` and `/config`, like Buildbot's own web UI (reference/buildbot.md §5.8).
//!
//! For a fast edit-reload loop, `FERROBOT_WWW_ASSETS_DIR=<dir>` makes the master read the assets
//! from `<dir>` (e.g. `services/master/www`) on every request instead of the built-in copies.

mod assets;

use std::path::{Component, Path, PathBuf};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::Error;

/// The environment variable naming a directory to read the assets from instead of the binary.
pub const ASSETS_DIR_VARIABLE: &str = "FERROBOT_WWW_ASSETS_DIR";

/// Where `index.html` receives the page title.
const TITLE_SLOT: &str = "<!-- FERROBOT_TITLE -->";

/// The `/assets/…` route; `/` is served through [`index`].
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{*file}", get(asset))
}

/// `index.html` with the page title filled in (already escaped by the caller).
pub(super) fn index(escaped_title: &str) -> Response {
    match load("index.html") {
        Ok(Some(bytes)) => {
            let html = String::from_utf8_lossy(&bytes).replace(TITLE_SLOT, escaped_title);
            with_type(html.into_bytes(), "index.html")
        }
        Ok(None) => Error::NotFound("the dashboard has no index.html".into()).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn asset(UrlPath(file): UrlPath<String>) -> Response {
    match load(&file) {
        Ok(Some(bytes)) => with_type(bytes, &file),
        Ok(None) => Error::NotFound(format!("no dashboard asset '{file}'")).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The asset's bytes: from the override directory when it is set, else built in.
fn load(file: &str) -> Result<Option<Vec<u8>>, Error> {
    match std::env::var_os(ASSETS_DIR_VARIABLE) {
        Some(dir) => read_from(Path::new(&dir), file),
        None => Ok(assets::built_in(file).map(<[u8]>::to_vec)),
    }
}

/// Reads `file` under `dir`, refusing any path that could leave it.
fn read_from(dir: &Path, file: &str) -> Result<Option<Vec<u8>>, Error> {
    let relative = PathBuf::from(file);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(Error::BadRequest(format!(
            "asset path '{file}' must stay inside the assets directory"
        )));
    }
    let path = dir.join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            context: format!(
                "reading dashboard asset {} (from {ASSETS_DIR_VARIABLE})",
                path.display()
            ),
            source,
        }),
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn with_type(bytes: Vec<u8>, file: &str) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    // The assets change with the binary; revalidating is cheap next to a stale dashboard.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests;
