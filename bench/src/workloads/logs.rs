//! W3 log volume: one step printing numbered 1 KiB lines (100 MiB by default), seconds from
//! force to complete, then the stored log read back through `logs/<id>/contents` must hold
//! every line in order; the `raw` download is checked as well and a fault there is recorded
//! beside the number. Also W4's peak memory during W3.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::{Ctx, Measured, site_memory, start_site, worker_names};
use crate::cfg::Shape;
use crate::site::Kind;

/// Bytes per printed line, newline included (see `LOG_PROGRAM` in master.cfg.template).
const LINE_BYTES: u64 = 1024;

/// Runs W3 (and the W4 readings that go with it) on one system.
pub async fn run(ctx: &Ctx, kind: Kind) -> Result<Measured> {
    let lines = ctx.sizes.log_mib * 1024 * 1024 / LINE_BYTES;
    let workers = worker_names(1);
    let shape = Shape {
        workers: workers.clone(),
        backlog_builders: Vec::new(),
        log_lines: lines,
    };
    let mut site = start_site(ctx, kind, "w3", &shape, &workers).await?;
    let api = site.api.clone();
    let started = Instant::now();
    let brid = api.force(&["logs".to_owned()]).await?[0];
    api.wait_request_complete(brid, Duration::from_secs(1800), Duration::from_millis(50))
        .await?;
    let elapsed = started.elapsed();
    site.check_running()?;
    let (master, worker) = site_memory(&site)?;
    let builderid = api.builder_id("logs").await?;
    api.check_all_success(builderid, &[brid]).await?;

    let build = api
        .list(&format!("builds?buildrequestid={brid}"), "builds")
        .await?;
    let buildid = build
        .last()
        .and_then(|b| b["buildid"].as_i64())
        .context("no build for the request")?;
    let steps = api
        .list(&format!("builds/{buildid}/steps"), "steps")
        .await?;
    let stepid = steps
        .iter()
        .find(|s| s["name"] == "run")
        .and_then(|s| s["stepid"].as_i64())
        .context("the build has no step named run")?;
    let logs = api.list(&format!("steps/{stepid}/logs"), "logs").await?;
    let log = logs
        .iter()
        .find(|l| l["slug"] == "stdio")
        .context("the step has no stdio log")?;
    let logid = log["logid"].as_i64().context("the log has no logid")?;
    let num_lines = log["num_lines"]
        .as_u64()
        .context("the log has no num_lines")?;
    // The check that counts: every line, in order, as the web UI reads it (`contents`).
    // Buildbot re-chunks (compresses) a log just after it finishes, and a read racing with that
    // can return lines twice; such a first read is recorded and the log read once more.
    let mut first_read = "every line, in order".to_owned();
    let contents = contents_text(&api, logid, num_lines).await?;
    if let Err(e) = check_lines(&contents, lines) {
        eprintln!(
            "W3 on {}: the first read of log {logid} is wrong ({e:#}); reading it again",
            kind.name()
        );
        first_read = format!("WRONG: {e:#}");
        tokio::time::sleep(Duration::from_secs(5)).await;
        let contents = contents_text(&api, logid, num_lines).await?;
        check_lines(&contents, lines)
            .with_context(|| format!("log {logid} contents (num_lines {num_lines})"))?;
    }
    // The download (`raw`) is checked too; a fault there is reported beside the number.
    let raw = api.get_text(&format!("logs/{logid}/raw")).await?;
    let raw_check = match check_lines(&raw, lines) {
        Ok(()) => "every line, in order".to_owned(),
        Err(e) => {
            eprintln!(
                "W3 on {}: the raw download of log {logid} is wrong: {e:#}",
                kind.name()
            );
            format!("WRONG: {e:#}")
        }
    };

    let mut m = Measured::default();
    m.set("w3.seconds", elapsed.as_secs_f64());
    m.set("w4.master_peak_w3_mb", master.peak_mb);
    m.set("w4.worker_peak_w3_mb", worker.peak_mb);
    m.note("lines", lines);
    m.note("mib", ctx.sizes.log_mib);
    m.note("stored_num_lines", num_lines);
    m.note("raw_bytes", raw.len());
    m.note("raw_download", raw_check);
    m.note("first_contents_read", first_read);
    site.stop();
    Ok(m)
}

/// Lines read per `contents` call.
const CONTENTS_PAGE: u64 = 10_000;

/// The text of a stdio log read through `logs/<id>/contents` page by page, stream letters
/// stripped.
async fn contents_text(api: &crate::api::Api, logid: i64, num_lines: u64) -> Result<String> {
    let mut text = String::new();
    let mut offset = 0;
    while offset < num_lines {
        let path = format!("logs/{logid}/contents?offset={offset}&limit={CONTENTS_PAGE}");
        let chunks = api.list(&path, "logchunks").await?;
        let content = chunks
            .first()
            .and_then(|c| c["content"].as_str())
            .with_context(|| format!("GET {path}: no content"))?;
        for line in content.lines() {
            text.push_str(line.get(1..).unwrap_or(""));
            text.push('\n');
        }
        offset += CONTENTS_PAGE;
    }
    Ok(text)
}

/// Checks that `raw` holds the lines `00000000 xxx…` .. `<expected-1> xxx…` in order, each whole
/// (other lines, such as the command header, are allowed around them).
pub fn check_lines(raw: &str, expected: u64) -> Result<()> {
    let pad = (LINE_BYTES - 10) as usize;
    let mut next = 0u64;
    for (at, line) in raw.lines().enumerate() {
        let Some((number, rest)) = line.split_once(' ') else {
            continue;
        };
        if number.len() != 8 || !number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let n: u64 = number.parse()?;
        if n != next {
            bail!(
                "line {} of the log is numbered {n}, expected {next}",
                at + 1
            );
        }
        if rest.len() != pad || !rest.bytes().all(|b| b == b'x') {
            bail!(
                "line {n} is damaged: {} bytes after the number, expected {pad}",
                rest.len()
            );
        }
        next += 1;
    }
    if next != expected {
        bail!("the stored log has {next} of the {expected} lines printed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64) -> String {
        format!("{n:08} {}\n", "x".repeat(1014))
    }

    #[test]
    fn a_whole_log_passes_and_a_missing_or_damaged_line_is_named() {
        let whole: String = std::iter::once("argv: awk\n".to_owned())
            .chain((0..3).map(line))
            .collect();
        check_lines(&whole, 3).expect("whole");
        let missing: String = [0, 2].into_iter().map(line).collect();
        let e = check_lines(&missing, 3).expect_err("missing");
        assert!(e.to_string().contains("numbered 2, expected 1"), "{e}");
        let short = format!("{}00000001 xx\n", line(0));
        assert!(
            check_lines(&short, 2)
                .expect_err("damaged")
                .to_string()
                .contains("line 1 is damaged")
        );
        assert!(
            check_lines(&line(0), 2)
                .expect_err("short")
                .to_string()
                .contains("1 of the 2")
        );
    }
}
