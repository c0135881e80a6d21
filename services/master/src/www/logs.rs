//! A log's lines: `contents` (JSON, as stored) and `raw` / `raw_inline` (text, stdio stream
//! letters stripped), after Buildbot's `data/logchunks.py`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferrobot_model::Log;
use serde_json::{Value, json};

use crate::context::Context;
use crate::www::query::Query;
use crate::{Error, Result};

/// Lines read per store call while sending a raw log, so a huge log is never held whole.
const RAW_PAGE_LINES: i64 = 10_000;

/// `.../contents?offset=&limit=`: `offset` is the first line, `limit` the number of lines.
pub async fn contents(ctx: &Context, log: &Log, query: &Query) -> Result<Value> {
    let first = i64::try_from(query.offset.unwrap_or(0)).unwrap_or(i64::MAX);
    let last = match query.limit {
        Some(limit) => first.saturating_add(i64::try_from(limit).unwrap_or(i64::MAX)) - 1,
        None => (log.num_lines - 1).max(0),
    };
    if first > last {
        return Err(Error::NotFound(format!(
            "lines {first}..{last} of log {} not found (it has {} lines)",
            log.logid, log.num_lines
        )));
    }
    // Lines past the end read as nothing, so a client tailing the log just gets no news.
    let last_stored = last.min(log.num_lines - 1);
    let content = if first <= last_stored {
        ctx.store.log_lines(log.logid, first, last_stored).await?
    } else {
        String::new()
    };
    Ok(json!({ "logid": log.logid, "firstline": first, "content": content }))
}

/// Names of what a log belongs to: the prefix block and the download's file name.
struct Origin {
    prefix: String,
    filename: String,
}

async fn origin(ctx: &Context, log: &Log) -> Result<Origin> {
    let step = ctx.store.step(log.stepid).await?;
    let build = match &step {
        Some(step) => ctx.store.build(step.buildid).await?,
        None => None,
    };
    let (builder, worker) = match &build {
        Some(build) => {
            let worker = match build.workerid {
                Some(workerid) => ctx.store.worker(workerid).await?,
                None => None,
            };
            (ctx.store.builder(build.builderid).await?, worker)
        }
        None => (None, None),
    };
    let mut prefix = String::new();
    let mut parts = Vec::new();
    if let Some(builder) = &builder {
        prefix.push_str(&format!("Builder: {}\n", builder.name));
        parts.push(builder.name.clone());
    }
    if let Some(build) = &build {
        prefix.push_str(&format!("Build number: {}\n", build.number));
        parts.extend(["build".to_owned(), build.number.to_string()]);
    }
    if let Some(worker) = &worker {
        prefix.push_str(&format!("Worker name: {}\n", worker.name));
    }
    if let Some(step) = &step {
        parts.extend(["step".to_owned(), step.name.clone()]);
    }
    parts.extend(["log".to_owned(), log.slug.clone()]);
    // Only stdio logs get the prefix block (Buildbot's behaviour).
    if log.log_type != "s" {
        prefix.clear();
    }
    Ok(Origin {
        prefix,
        filename: parts.join("_"),
    })
}

/// Removes the stream letter (`o`, `e`, `h`) that starts every stored stdio line.
pub fn strip_stream_letters(lines: &str) -> String {
    let mut out = String::with_capacity(lines.len());
    for line in lines.split_inclusive('\n') {
        let mut chars = line.chars();
        chars.next();
        out.push_str(chars.as_str());
    }
    out
}

/// `.../raw` (a download when `attachment`) and `.../raw_inline`.
pub async fn raw(ctx: &Context, log: Log, attachment: bool) -> Result<Response> {
    let Origin { prefix, filename } = origin(ctx, &log).await?;
    let mime = if log.log_type == "h" {
        "text/html; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let store = ctx.store.clone();
    let stdio = log.log_type == "s";
    let (logid, num_lines) = (log.logid, log.num_lines);
    let head = futures::stream::once(async move { Ok::<_, Error>(prefix) });
    let pages = futures::stream::unfold(0_i64, move |first| {
        let store = store.clone();
        async move {
            if first >= num_lines {
                return None;
            }
            let last = (first + RAW_PAGE_LINES - 1).min(num_lines - 1);
            let page = store
                .log_lines(logid, first, last)
                .await
                .map_err(Error::from);
            let page = page.map(|text| {
                if stdio {
                    strip_stream_letters(&text)
                } else {
                    text
                }
            });
            Some((page, last + 1))
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(head, pages));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if attachment {
        let safe = origin_filename(&filename);
        let disposition = format!("attachment; filename=\"{safe}\"");
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// A file name safe inside a quoted header value.
fn origin_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_letters_are_stripped_from_every_line() {
        assert_eq!(
            strip_stream_letters("ohello\neoops\nhheader\n"),
            "hello\noops\nheader\n"
        );
        assert_eq!(strip_stream_letters("o\n"), "\n");
        assert_eq!(strip_stream_letters(""), "");
    }

    #[test]
    fn download_names_cannot_break_the_header() {
        assert_eq!(origin_filename("b\"x_build_1"), "b_x_build_1");
        assert_eq!(origin_filename("naïve build"), "na_ve build");
    }
}
