//! GET on `/api/v2/...`: path → endpoint → query → store → engine → envelope
//! (reference/buildbot.md §5.4).

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::context::Context;
use crate::www::fetch::{self, Data};
use crate::www::paths::{Endpoint, LogView};
use crate::www::query::Query;
use crate::www::{logs, resources};
use crate::{Error, Result};

/// Serves a GET (and HEAD) of `segments` under `/api/v2`.
pub async fn get(ctx: &Context, segments: &[&str], uri: &Uri, headers: &HeaderMap) -> Response {
    match respond(ctx, segments, uri, headers).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

/// The error as a response, logged when it is the server's fault rather than the client's.
pub fn error_response(error: Error) -> Response {
    let status = error.code().http_status();
    if status.is_server_error() {
        tracing::warn!(%error, "api request failed");
    }
    error.into_response()
}

/// The query string as name/value pairs, percent-decoded, in order.
pub fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Error::BadRequest(format!("invalid query string: {e}")))
}

async fn respond(
    ctx: &Context,
    segments: &[&str],
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response> {
    let path = segments.join("/");
    let endpoint = Endpoint::parse(segments)
        .ok_or_else(|| Error::NotFound(format!("invalid path '/{path}'")))?;
    let params = query_pairs(uri)?;
    let query = Query::parse(&params, endpoint.rtype(), endpoint.is_collection())?;
    if let Endpoint::LogData(log_ref, view) = &endpoint {
        let log = crate::www::resolve::log(ctx, log_ref).await?;
        return match view {
            LogView::Contents => {
                let chunk = logs::contents(ctx, &log, &query).await?;
                let plural = resources::LOGCHUNK.plural;
                let body = json!({ plural: [query.project(chunk)], "meta": {} });
                Ok(json_response(headers, &body))
            }
            LogView::Raw => logs::raw(ctx, log, true).await,
            LogView::RawInline => logs::raw(ctx, log, false).await,
        };
    }
    let plural = endpoint.rtype().plural;
    let body = match fetch::fetch(ctx, &endpoint, &query).await? {
        Data::Collection(items) => {
            let mut page = query.page(items);
            fetch::fill_properties(ctx, &endpoint, &query, &mut page.items).await?;
            let items: Vec<Value> = page.items.into_iter().map(|i| query.project(i)).collect();
            json!({ plural: items, "meta": { "total": page.total } })
        }
        Data::Page { mut items, total } => {
            fetch::fill_properties(ctx, &endpoint, &query, &mut items).await?;
            let items: Vec<Value> = items.into_iter().map(|i| query.project(i)).collect();
            json!({ plural: items, "meta": { "total": total } })
        }
        Data::Single(item) => {
            let mut items = [item];
            fetch::fill_properties(ctx, &endpoint, &query, &mut items).await?;
            let [item] = items;
            json!({ plural: [query.project(item)], "meta": {} })
        }
    };
    Ok(json_response(headers, &body))
}

/// JSON as Buildbot sends it: compact `application/json` when the client accepts it, else
/// indented `text/plain` for people reading it in a browser.
pub fn json_response(headers: &HeaderMap, body: &Value) -> Response {
    let wants_json = headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("application/json")));
    let (text, content_type) = if wants_json {
        (
            serde_json::to_string(body),
            "application/json; charset=utf-8",
        )
    } else {
        (
            serde_json::to_string_pretty(body),
            "text/plain; charset=utf-8",
        )
    };
    match text {
        Ok(text) => {
            let mut response = (StatusCode::OK, text).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Err(e) => error_response(Error::Internal(format!("response to JSON: {e}"))),
    }
}
