//! The master's HTTP side (the `www` role): REST API v2 with Buildbot's shapes and query
//! language, JSON-RPC control, the frontend `/config` and the dashboard at `/` (`dashboard/`)
//! (reference/buildbot.md §5).
//!
//! Everything is read from the store, so any `www` master answers for the whole cluster;
//! control actions are written to the store or routed over the bus (design invariant 5).

mod auth;
mod authz;
mod dashboard;
mod fanout;
mod fetch;
mod fetch_more;
mod force;
mod forcesched;
mod listing;
mod logs;
mod pages;
mod paths;
mod query;
mod resolve;
mod resources;
mod resources_extra;
mod rest;
mod rpc;
mod sse;
mod ws;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::context::Context;

type Shared = State<Arc<Context>>;

/// The session signer every handler shares (an axum extension).
type SessionKey = Extension<Arc<auth::Sessions>>;

/// The HTTP routes of a master; the caller serves them on its listener. Live-event streams
/// (`/ws`, `/sse`) end only when their clients leave; see [`router_until`].
pub fn router(ctx: Arc<Context>) -> Router {
    router_until(ctx, CancellationToken::new())
}

/// The HTTP routes of a master whose live-event streams (`/ws`, `/sse`) end when `shutdown` is
/// cancelled, so open dashboards do not hold up a graceful shutdown.
pub fn router_until(ctx: Arc<Context>, shutdown: CancellationToken) -> Router {
    // Buildbot refuses the live-event handshake to a user who may not read.
    let live = Router::new()
        .merge(ws::routes(ctx.clone(), shutdown.clone()))
        .merge(sse::routes(ctx.clone(), shutdown))
        .layer(middleware::from_fn_with_state(ctx.clone(), require_read));
    Router::new()
        .route("/", get(index))
        .route("/config", get(config))
        .route("/api", get(api_versions))
        .route("/api/v2", get(api_root).post(rpc_root))
        .route("/api/v2/{*path}", get(api_get).post(api_post))
        .route("/api/latest", get(api_root).post(rpc_root))
        .route("/api/latest/{*path}", get(api_get).post(api_post))
        .merge(dashboard::routes())
        .merge(live)
        .merge(auth::routes(ctx.clone()))
        .fallback(not_found)
        .layer(Extension(Arc::new(auth::Sessions::default())))
        .with_state(ctx)
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').collect()
}

/// A 403 naming the role needed, as Buildbot's `Forbidden`.
fn forbidden(denied: &authz::Denied) -> Response {
    let body = axum::Json(serde_json::json!({ "error": denied.message() }));
    (StatusCode::FORBIDDEN, body).into_response()
}

async fn read(
    ctx: &Context,
    sessions: &auth::Sessions,
    segments: &[&str],
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let user = auth::current_user(ctx, sessions, headers).await;
    let endpoint = paths::Endpoint::parse(segments);
    let params = serde_json::Map::new();
    if let Err(denied) = authz::check(ctx, &user, endpoint.as_ref(), authz::GET, &params).await {
        return forbidden(&denied);
    }
    rest::get(ctx, segments, uri, headers).await
}

async fn require_read(
    State(ctx): Shared,
    Extension(sessions): SessionKey,
    request: Request,
    next: Next,
) -> Response {
    let user = auth::current_user(&ctx, &sessions, request.headers()).await;
    let params = serde_json::Map::new();
    if let Err(denied) = authz::check(&ctx, &user, None, authz::GET, &params).await {
        return forbidden(&denied);
    }
    next.run(request).await
}

async fn api_root(
    State(ctx): Shared,
    Extension(sessions): SessionKey,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read(&ctx, &sessions, &[], &uri, &headers).await
}

async fn api_get(
    State(ctx): Shared,
    Extension(sessions): SessionKey,
    Path(path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read(&ctx, &sessions, &segments(&path), &uri, &headers).await
}

async fn rpc_root(
    State(ctx): Shared,
    Extension(sessions): SessionKey,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = auth::current_user(&ctx, &sessions, &headers).await;
    rpc::post(&ctx, &[], &headers, &body, &user).await
}

async fn api_post(
    State(ctx): Shared,
    Extension(sessions): SessionKey,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = auth::current_user(&ctx, &sessions, &headers).await;
    rpc::post(&ctx, &segments(&path), &headers, &body, &user).await
}

async fn api_versions(State(ctx): Shared) -> Response {
    axum::Json(pages::api_versions(&ctx)).into_response()
}

async fn config(
    State(ctx): Shared,
    Extension(sessions): SessionKey,
    headers: HeaderMap,
) -> Response {
    let user = auth::current_user(&ctx, &sessions, &headers).await;
    let mut config = pages::frontend_config(&ctx);
    let params = serde_json::Map::new();
    let may_read = authz::check(&ctx, &user, None, authz::GET, &params)
        .await
        .is_ok();
    if let serde_json::Value::Object(map) = &mut config {
        map.insert("auth".into(), auth::frontend_auth(&ctx.config().www.auth));
        map.insert("user".into(), user.to_json());
        map.insert("user_any_access_allowed".into(), may_read.into());
    }
    axum::Json(config).into_response()
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
