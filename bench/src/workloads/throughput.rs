//! W2 throughput: many forced builds of a `true` step shared by several workers, builds per
//! second from the first force until the queue is drained. Also W4's idle memory (read once
//! the workers are connected) and its peak during W2.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures::{StreamExt as _, TryStreamExt as _};

use super::{Ctx, Measured, shape, site_memory, start_site, worker_names};
use crate::api::poll;
use crate::site::Kind;

/// Forces in flight at once while filling the queue.
pub const FORCE_CONCURRENCY: usize = 8;

/// Time given to a freshly started site before its idle memory is read. This is a measurement
/// window (start-up work finishing), not a synchronisation: nothing waits on it.
const SETTLE: Duration = Duration::from_secs(2);

/// Runs W2 (and the W4 readings that go with it) on one system.
pub async fn run(ctx: &Ctx, kind: Kind) -> Result<Measured> {
    let workers = worker_names(ctx.sizes.throughput_workers);
    let mut site = start_site(ctx, kind, "w2", &shape(workers.clone()), &workers).await?;
    tokio::time::sleep(SETTLE).await;
    let (master_idle, worker_idle) = site_memory(&site)?;
    let mut m = Measured::default();
    m.set("w4.master_idle_mb", master_idle.rss_mb);
    m.set("w4.worker_idle_mb", worker_idle.rss_mb);

    let builds = ctx.sizes.throughput_builds;
    let api = site.api.clone();
    let started = Instant::now();
    let brids: Vec<i64> = futures::stream::iter(0..builds)
        .map(|_| {
            let api = api.clone();
            async move { Ok::<_, anyhow::Error>(api.force(&["trivial".to_owned()]).await?[0]) }
        })
        .buffer_unordered(FORCE_CONCURRENCY)
        .try_collect()
        .await?;
    let queued = started.elapsed();
    let timeout = Duration::from_secs(60 + builds as u64 * 2);
    poll(
        "the build queue to drain",
        timeout,
        Duration::from_millis(50),
        || {
            let api = api.clone();
            async move {
                Ok(api
                    .list("buildrequests?complete=false&limit=1", "buildrequests")
                    .await?
                    .is_empty()
                    .then_some(()))
            }
        },
    )
    .await?;
    let drained = started.elapsed();
    site.check_running()?;
    if brids.len() != builds {
        bail!("{} forces gave {} build requests", builds, brids.len());
    }
    let builderid = api.builder_id("trivial").await?;
    api.check_all_success(builderid, &brids).await?;
    let (master, worker) = site_memory(&site)?;
    m.set("w2.builds_per_s", builds as f64 / drained.as_secs_f64());
    m.set("w4.master_peak_w2_mb", master.peak_mb);
    m.set("w4.worker_peak_w2_mb", worker.peak_mb);
    m.note("builds", builds);
    m.note("workers", workers.len());
    m.note("seconds_to_queue_all", queued.as_secs_f64());
    m.note("seconds_to_drain", drained.as_secs_f64());
    site.stop();
    Ok(m)
}
