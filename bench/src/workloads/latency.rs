//! W1 latency: sequential forces of a builder with one `true` step, force → build request
//! complete, both systems up at once and alternating one build each.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use super::{Ctx, Measured, quantile, shape, sorted_ms, start_site, worker_names};
use crate::site::{Kind, Site};

/// How often completion is polled. Polling loads Buildbot's single-threaded master a little
/// (see docs/performance.md); both systems are polled alike.
const POLL: Duration = Duration::from_millis(5);

/// One system's state during W1.
struct Run {
    kind: Kind,
    site: Option<Site>,
    times: Vec<Duration>,
    brids: Vec<i64>,
    failure: Option<anyhow::Error>,
}

async fn force_once(site: &Site) -> Result<(Duration, i64)> {
    let started = Instant::now();
    let brid = site.api.force(&["trivial".to_owned()]).await?[0];
    site.api
        .wait_request_complete(brid, Duration::from_secs(120), POLL)
        .await?;
    Ok((started.elapsed(), brid))
}

/// Runs W1 on each of `kinds`; one result per kind, in order.
pub async fn run(ctx: &Ctx, kinds: &[Kind]) -> Vec<(Kind, Result<Measured>)> {
    let workers = worker_names(1);
    let mut runs = Vec::new();
    for &kind in kinds {
        let (site, failure) =
            match start_site(ctx, kind, "w1", &shape(workers.clone()), &workers).await {
                Ok(site) => (Some(site), None),
                Err(e) => (None, Some(e)),
            };
        runs.push(Run {
            kind,
            site,
            times: Vec::new(),
            brids: Vec::new(),
            failure,
        });
    }
    // Round 0 is a warm-up build on each, not counted.
    for round in 0..=ctx.sizes.latency_builds {
        for run in runs.iter_mut().filter(|r| r.failure.is_none()) {
            let Some(site) = run.site.as_ref() else {
                continue;
            };
            match force_once(site).await {
                Ok((time, brid)) if round > 0 => {
                    run.times.push(time);
                    run.brids.push(brid);
                }
                Ok(_) => {}
                Err(e) => run.failure = Some(e.context(format!("build {round}"))),
            }
        }
    }
    let mut results = Vec::new();
    for mut run in runs {
        let outcome = match run.failure.take() {
            Some(e) => Err(e),
            None => finish(&run).await,
        };
        if let Some(mut site) = run.site.take() {
            site.stop();
        }
        results.push((run.kind, outcome));
    }
    results
}

async fn finish(run: &Run) -> Result<Measured> {
    let site = run.site.as_ref().ok_or_else(|| anyhow!("no site"))?;
    let builderid = site.api.builder_id("trivial").await?;
    site.api.check_all_success(builderid, &run.brids).await?;
    let ms = sorted_ms(&run.times);
    let mut m = Measured::default();
    m.set("w1.median_ms", median(&ms));
    m.set("w1.p95_ms", quantile(&ms, 0.95));
    m.note("builds", ms.len());
    m.note("min_ms", ms.first().copied().unwrap_or(f64::NAN));
    m.note("max_ms", ms.last().copied().unwrap_or(f64::NAN));
    m.note("poll_ms", POLL.as_millis() as u64);
    Ok(m)
}

/// The median of sorted values (the mean of the two middle ones for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
