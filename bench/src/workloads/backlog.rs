//! W6 pending backlog: a master with many pending build requests (20,000 by default) and no
//! worker connected is restarted; start-up time (process start → REST answers) and the
//! latency of `GET /api/v2/buildrequests?limit=50` after it.
//!
//! The requests are made the way a user makes them: forces through the JSON-RPC API, each
//! naming all `BACKLOG_BUILDERS` builders, so one force is one buildset with one request per
//! builder, on both systems alike.

use std::time::Instant;

use anyhow::{Result, bail};
use futures::{StreamExt as _, TryStreamExt as _};

use super::latency::median;
use super::throughput::FORCE_CONCURRENCY;
use super::{Ctx, Measured, SMALL_LOG_LINES, sorted_ms, start_site, worker_names};
use crate::cfg::{self, Shape};
use crate::site::Kind;

/// Builders each force names (requests per force).
const BACKLOG_BUILDERS: usize = 20;

/// `GET buildrequests?limit=50` calls timed after the restart.
const LIST_CALLS: usize = 20;

/// Runs W6 on one system.
pub async fn run(ctx: &Ctx, kind: Kind) -> Result<Measured> {
    let builders = cfg::names("backlog", BACKLOG_BUILDERS);
    // A worker is configured (builders need one) but never started.
    let shape = Shape {
        workers: worker_names(1),
        backlog_builders: builders.clone(),
        log_lines: SMALL_LOG_LINES,
    };
    let mut site = start_site(ctx, kind, "w6", &shape, &[]).await?;
    let forces = ctx.sizes.backlog.div_ceil(BACKLOG_BUILDERS);
    let api = site.api.clone();
    let started = Instant::now();
    let created: Vec<usize> = futures::stream::iter(0..forces)
        .map(|_| {
            let (api, builders) = (api.clone(), builders.clone());
            async move { Ok::<_, anyhow::Error>(api.force(&builders).await?.len()) }
        })
        .buffer_unordered(FORCE_CONCURRENCY)
        .try_collect()
        .await?;
    let fill = started.elapsed();
    let requests: usize = created.iter().sum();
    let pending = pending_count(&api).await?;
    if pending != requests {
        bail!("{requests} requests were created but {pending} are pending");
    }

    site.stop_master();
    let startup = site.start_master().await?;
    let pending_after = pending_count(&site.api).await?;
    if pending_after != requests {
        bail!("after the restart {pending_after} of {requests} requests are pending");
    }
    let mut times = Vec::new();
    for _ in 0..LIST_CALLS {
        let t = Instant::now();
        let page = site
            .api
            .list("buildrequests?limit=50", "buildrequests")
            .await?;
        times.push(t.elapsed());
        if page.len() != 50 {
            bail!(
                "GET buildrequests?limit=50 returned {} requests",
                page.len()
            );
        }
    }
    site.check_running()?;
    let ms = sorted_ms(&times);
    let mut m = Measured::default();
    m.set("w6.startup_s", startup.as_secs_f64());
    m.set("w6.list50_ms", median(&ms));
    m.note("pending_requests", requests);
    m.note("forces", forces);
    m.note("requests_per_force", BACKLOG_BUILDERS);
    m.note("seconds_to_create", fill.as_secs_f64());
    m.note("list50_calls", LIST_CALLS);
    m.note("list50_max_ms", ms.last().copied().unwrap_or(f64::NAN));
    site.stop();
    Ok(m)
}

/// Pending (incomplete) build requests, counted from the REST API.
async fn pending_count(api: &crate::api::Api) -> Result<usize> {
    Ok(api
        .list(
            "buildrequests?complete=false&field=buildrequestid&field=complete",
            "buildrequests",
        )
        .await?
        .len())
}
