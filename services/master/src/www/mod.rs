//! The master's HTTP side (the `www` role): REST API v2 with Buildbot's shapes and query
//! language, JSON-RPC control, the frontend `/config` and a minimal dashboard at `/`
//! (reference/buildbot.md §5).
//!
//! Everything is read from the store, so any `www` master answers for the whole cluster;
//! control actions are written to the store or routed over the bus (design invariant 5).

mod fetch;
mod force;
mod forcesched;
mod logs;
mod pages;
mod paths;
mod query;
mod resolve;
mod resources;
mod rest;
mod rpc;
mod sse;
mod ws;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::context::Context;

type Shared = State<Arc<Context>>;

/// The HTTP routes of a master; the caller serves them on its listener. Live-event streams
/// (`/ws`, `/sse`) end only when their clients leave; see [`router_until`].
pub fn router(ctx: Arc<Context>) -> Router {
    router_until(ctx, CancellationToken::new())
}

/// The HTTP routes of a master whose live-event streams (`/ws`, `/sse`) end when `shutdown` is
/// cancelled, so open dashboards do not hold up a graceful shutdown.
pub fn router_until(ctx: Arc<Context>, shutdown: CancellationToken) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/config", get(config))
        .route("/api", get(api_versions))
        .route("/api/v2", get(api_root).post(rpc_root))
        .route("/api/v2/{*path}", get(api_get).post(api_post))
        .route("/api/latest", get(api_root).post(rpc_root))
        .route("/api/latest/{*path}", get(api_get).post(api_post))
        .merge(ws::routes(ctx.clone(), shutdown.clone()))
        .merge(sse::routes(ctx.clone(), shutdown))
        .fallback(not_found)
        .with_state(ctx)
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').collect()
}

async fn api_root(State(ctx): Shared, uri: Uri, headers: HeaderMap) -> Response {
    rest::get(&ctx, &[], &uri, &headers).await
}

async fn api_get(
    State(ctx): Shared,
    Path(path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    rest::get(&ctx, &segments(&path), &uri, &headers).await
}

async fn rpc_root(State(ctx): Shared, headers: HeaderMap, body: Bytes) -> Response {
    rpc::post(&ctx, &[], &headers, &body).await
}

async fn api_post(
    State(ctx): Shared,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rpc::post(&ctx, &segments(&path), &headers, &body).await
}

async fn api_versions(State(ctx): Shared) -> Response {
    axum::Json(pages::api_versions(&ctx)).into_response()
}

async fn config(State(ctx): Shared) -> Response {
    axum::Json(pages::frontend_config(&ctx)).into_response()
}

async fn index(State(ctx): Shared) -> Response {
    match pages::index(&ctx).await {
        Ok(response) => response,
        Err(error) => rest::error_response(error),
    }
}

async fn not_found(uri: Uri) -> Response {
    Error::NotFound(format!("invalid path '{}'", uri.path())).into_response()
}
