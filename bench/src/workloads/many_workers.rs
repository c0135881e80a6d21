//! W5 many workers: one master with many connected worker processes (200 by default); the
//! master's RSS and CPU use over an idle window once all are connected.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Ctx, Measured, shape, start_site, worker_names};
use crate::procs;
use crate::site::Kind;

/// Time after the last worker connected before the window opens: the master may still be
/// attaching workers to builders. A measurement window, not a synchronisation.
const SETTLE: Duration = Duration::from_secs(5);

/// The idle window over which CPU use is measured.
const WINDOW: Duration = Duration::from_secs(10);

/// Runs W5 on one system.
pub async fn run(ctx: &Ctx, kind: Kind) -> Result<Measured> {
    let workers = worker_names(ctx.sizes.many_workers);
    let started = Instant::now();
    let mut site = start_site(ctx, kind, "w5", &shape(workers.clone()), &workers).await?;
    let connected = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let pid = site.master_pid()?;
    let cpu_before = procs::cpu_seconds(pid)?;
    let window_start = Instant::now();
    tokio::time::sleep(WINDOW).await;
    let cpu = procs::cpu_seconds(pid)? - cpu_before;
    let window = window_start.elapsed();
    let memory = procs::memory(pid)?;
    // Still all there after the window?
    let still = site.api.connected_workers().await?;
    site.check_running()?;
    if still < workers.len() {
        anyhow::bail!(
            "only {still} of {} workers were still connected after the idle window",
            workers.len()
        );
    }
    let mut m = Measured::default();
    m.set("w5.master_rss_mb", memory.rss_mb);
    m.set("w5.master_cpu_percent", 100.0 * cpu / window.as_secs_f64());
    m.note("workers", workers.len());
    m.note("seconds_to_start_and_connect_all", connected.as_secs_f64());
    m.note("window_s", window.as_secs_f64());
    m.note("master_peak_mb", memory.peak_mb);
    site.stop();
    Ok(m)
}
