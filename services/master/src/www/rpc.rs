//! JSON-RPC 2.0 control over POST (reference/buildbot.md §5.5): force, stop, cancel,
//! set_priority and worker actions. Actions on builds and requests go over the bus to whichever
//! master runs them (design invariant 5), so any `www` master can serve them.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferrobot_model::Scheduler;
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::www::auth::UserInfo;
use crate::www::authz;
use crate::www::paths::Endpoint;
use crate::www::{force, forcesched, resolve};
use crate::{Error, ErrorCode};

/// JSON-RPC 2.0 error codes.
pub mod codes {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a valid JSON-RPC 2.0 request (or not `application/json`, or an unknown path).
    pub const INVALID_REQUEST: i64 = -32600;
    /// The endpoint has no such action.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The parameters name something that does not exist or are malformed.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The server failed.
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// A JSON-RPC failure: the HTTP status and the `error` member.
#[derive(Debug)]
pub struct RpcError {
    status: StatusCode,
    code: i64,
    message: String,
}

impl RpcError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            status,
            code,
            message: message.into(),
        }
    }

    /// Malformed or unknown parameters (HTTP 400, -32602).
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(StatusCode::BAD_REQUEST, codes::INVALID_PARAMS, message)
    }

    fn invalid_request(message: impl Into<String>) -> RpcError {
        RpcError::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, message)
    }
}

impl From<Error> for RpcError {
    fn from(error: Error) -> RpcError {
        let code = match error.code() {
            ErrorCode::BadRequest | ErrorCode::NotFound | ErrorCode::Conflict => {
                codes::INVALID_PARAMS
            }
            ErrorCode::Unauthenticated => codes::INVALID_REQUEST,
            ErrorCode::Unavailable | ErrorCode::Internal => codes::INTERNAL_ERROR,
        };
        if error.code().http_status().is_server_error() {
            tracing::warn!(%error, "control action failed");
        }
        RpcError::new(error.code().http_status(), code, error.to_string())
    }
}

impl From<ferrobot_store::Error> for RpcError {
    fn from(error: ferrobot_store::Error) -> RpcError {
        RpcError::from(Error::from(error))
    }
}

async fn scheduler(ctx: &Context, schedulerid: i64) -> Result<Scheduler, Error> {
    let schedulers = ctx.store.schedulers().await?;
    let found = schedulers
        .into_iter()
        .find(|s| s.schedulerid == schedulerid);
    found.ok_or_else(|| Error::NotFound(format!("scheduler {schedulerid} not found")))
}

/// A decoded call.
struct Call {
    id: Value,
    method: String,
    params: Map<String, Value>,
}

/// Serves a POST of `segments` under `/api/v2`.
pub async fn post(
    ctx: &Context,
    segments: &[&str],
    headers: &HeaderMap,
    body: &[u8],
    user: &UserInfo,
) -> Response {
    let call = match decode(headers, body) {
        Ok(call) => call,
        Err(error) => return reply(Value::Null, Err(error)),
    };
    let mut params = call.params;
    // Checked before anything is read or written, so a refusal changes nothing.
    let endpoint = Endpoint::parse(segments);
    if let Err(denied) = authz::check(ctx, user, endpoint.as_ref(), &call.method, &params).await {
        tracing::info!(user = ?user.username, method = call.method, "control action refused");
        let error = RpcError::new(
            StatusCode::FORBIDDEN,
            codes::INVALID_REQUEST,
            denied.message(),
        );
        return reply(call.id, Err(error));
    }
    // Buildbot overwrites the owner with the session's user, so nobody can act in another's
    // name; anonymous callers keep the name typed in the form.
    if let Some(owner) = user.owner() {
        params.insert("owner".into(), Value::String(owner));
        params.remove("username");
    }
    let result = dispatch(ctx, segments, &call.method, params).await;
    reply(call.id, result)
}

fn reply(id: Value, result: Result<Value, RpcError>) -> Response {
    match result {
        Ok(result) => (
            StatusCode::OK,
            axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})),
        )
            .into_response(),
        Err(error) => {
            let body = json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": { "code": error.code, "message": error.message },
            });
            (error.status, axum::Json(body)).into_response()
        }
    }
}

/// Checks the envelope as Buildbot's `decodeJsonRPC2` does. The content type is required
/// because browsers send form posts to any URL but never with `application/json`.
fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Call, RpcError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if content_type.as_deref() != Some("application/json") {
        return Err(RpcError::invalid_request(
            "Invalid content-type (use application/json)",
        ));
    }
    let data: Value = serde_json::from_slice(body).map_err(|e| {
        RpcError::new(
            StatusCode::BAD_REQUEST,
            codes::PARSE_ERROR,
            format!("JSON parse error: {e}"),
        )
    })?;
    let mut data = match data {
        Value::Object(map) => map,
        Value::Array(_) => {
            return Err(RpcError::invalid_request(
                "JSONRPC batch requests are not supported",
            ));
        }
        _ => {
            return Err(RpcError::invalid_request(
                "JSONRPC root object must be an object",
            ));
        }
    };
    let missing = |name: &str| RpcError::invalid_request(format!("missing key '{name}'"));
    let must =
        |name: &str, what: &str| RpcError::invalid_request(format!("'{name}' must be {what}"));
    let version = data.remove("jsonrpc").ok_or_else(|| missing("jsonrpc"))?;
    let Value::String(version) = version else {
        return Err(must("jsonrpc", "a string"));
    };
    let method = data.remove("method").ok_or_else(|| missing("method"))?;
    let Value::String(method) = method else {
        return Err(must("method", "a string"));
    };
    let id = data.remove("id").ok_or_else(|| missing("id"))?;
    if !matches!(id, Value::String(_) | Value::Number(_) | Value::Null) {
        return Err(must("id", "a string, number, or null"));
    }
    let params = data.remove("params").ok_or_else(|| missing("params"))?;
    let Value::Object(params) = params else {
        return Err(must("params", "an object"));
    };
    if version != "2.0" {
        return Err(RpcError::invalid_request("only JSONRPC 2.0 is supported"));
    }
    Ok(Call { id, method, params })
}

async fn dispatch(
    ctx: &Context,
    segments: &[&str],
    method: &str,
    params: Map<String, Value>,
) -> Result<Value, RpcError> {
    let endpoint = Endpoint::parse(segments).ok_or_else(|| {
        RpcError::new(
            StatusCode::NOT_FOUND,
            codes::INVALID_REQUEST,
            format!("invalid path '/{}'", segments.join("/")),
        )
    })?;
    let reason = || match params.get("reason") {
        Some(Value::String(reason)) if !reason.is_empty() => reason.clone(),
        _ => "no reason".to_owned(),
    };
    match (&endpoint, method) {
        (Endpoint::ForceScheduler(name), "force") => {
            let config = ctx.config();
            let Some(scheduler) = forcesched::configured(&config)
                .into_iter()
                .find(|s| s.name == *name)
            else {
                return Err(RpcError::new(
                    StatusCode::NOT_FOUND,
                    codes::INVALID_PARAMS,
                    format!("forcescheduler '{name}' not found"),
                ));
            };
            force::force(ctx, scheduler, params).await
        }
        (Endpoint::Build(build_ref), "stop") => {
            let build = resolve::build(ctx, build_ref).await?;
            // Nothing to stop; Buildbot answers a stop of a finished build without error too.
            if !build.complete {
                ctx.events.stop_build(build.buildid, &reason()).await;
            }
            Ok(Value::Null)
        }
        (Endpoint::Build(build_ref), "rebuild") => {
            force::rebuild(ctx, &resolve::build(ctx, build_ref).await?).await
        }
        (Endpoint::Scheduler(schedulerid), "enable") => {
            let Some(Value::Bool(enabled)) = params.get("enabled") else {
                return Err(RpcError::invalid_params("'enabled' must be a boolean"));
            };
            scheduler(ctx, *schedulerid).await?;
            ctx.store
                .set_scheduler_enabled(*schedulerid, *enabled)
                .await?;
            // The master running the scheduler learns of the change from this event
            // (Buildbot's `schedulers.<id>.updated`).
            ctx.events
                .scheduler(&scheduler(ctx, *schedulerid).await?)
                .await;
            Ok(Value::Null)
        }
        (Endpoint::BuildRequest(brid), "cancel") => {
            let request = ctx
                .store
                .buildrequest(*brid)
                .await?
                .ok_or_else(|| Error::NotFound(format!("buildrequest {brid} not found")))?;
            if !request.complete {
                ctx.events.cancel_buildrequest(*brid, &reason()).await;
            }
            Ok(Value::Null)
        }
        (Endpoint::BuildRequest(brid), "set_priority") => {
            let priority = params
                .get("priority")
                .and_then(force::integer)
                .ok_or_else(|| RpcError::invalid_params("'priority' must be an integer"))?;
            if ctx.store.buildrequest(*brid).await?.is_none() {
                return Err(Error::NotFound(format!("buildrequest {brid} not found")).into());
            }
            ctx.store.set_buildrequest_priority(*brid, priority).await?;
            Ok(Value::Null)
        }
        (Endpoint::Worker(worker_ref), "stop" | "kill" | "pause" | "unpause") => {
            let worker = resolve::worker(ctx, worker_ref).await?;
            ctx.events
                .worker_control(worker.workerid, method, &reason())
                .await;
            Ok(Value::Null)
        }
        _ => Err(RpcError::new(
            StatusCode::NOT_IMPLEMENTED,
            codes::METHOD_NOT_FOUND,
            format!("action: {method} is not supported"),
        )),
    }
}
