//! The workloads W1..W6 of issue 6. Each runs on one system at a time (W1 on both at once,
//! alternating builds), checks that the builds did what they should, and returns its numbers.

pub mod backlog;
pub mod latency;
pub mod logs;
pub mod many_workers;
pub mod throughput;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde_json::{Map, Value};

use crate::cfg::{self, Shape};
use crate::procs;
use crate::site::{Kind, Site, Tools};

/// What every workload needs: where the programs are, a scratch directory and the sizes.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The programs of both systems.
    pub tools: Tools,
    /// The run's temporary directory (one sub-directory per site).
    pub scratch: PathBuf,
    /// The sizes of the workloads.
    pub sizes: Sizes,
}

/// The knobs of the workloads (defaults are the sizes).
#[derive(Debug, Clone)]
pub struct Sizes {
    /// W1: sequential forced builds.
    pub latency_builds: usize,
    /// W2: forced builds to drain.
    pub throughput_builds: usize,
    /// W2: workers sharing them.
    pub throughput_workers: usize,
    /// W3: MiB the step prints, in 1 KiB lines.
    pub log_mib: u64,
    /// W5: workers connected to one master.
    pub many_workers: usize,
    /// W6: pending build requests.
    pub backlog: usize,
}

/// Numbers a workload measured on one system, by metric id (see `report::METRICS`), and facts
/// worth keeping beside them in the JSON.
#[derive(Debug, Default)]
pub struct Measured {
    /// `(metric id, value)` pairs.
    pub values: Vec<(&'static str, f64)>,
    /// Extra facts (counts, sizes, rates) for the JSON.
    pub details: Map<String, Value>,
}

impl Measured {
    /// Records one metric.
    pub fn set(&mut self, id: &'static str, value: f64) {
        self.values.push((id, value));
    }

    /// Records one extra fact.
    pub fn note(&mut self, key: &str, value: impl Into<Value>) {
        self.details.insert(key.to_owned(), value.into());
    }
}

/// Lines of the `logs` builder when W3 does not run (its masters need some value).
const SMALL_LOG_LINES: u64 = 10;

/// A master.cfg shape with these workers and no backlog builders.
pub fn shape(workers: Vec<String>) -> Shape {
    Shape {
        workers,
        backlog_builders: Vec::new(),
        log_lines: SMALL_LOG_LINES,
    }
}

/// Creates a site, starts its master and the named workers, and waits for them to connect.
pub async fn start_site(
    ctx: &Ctx,
    kind: Kind,
    label: &str,
    shape: &Shape,
    start_workers: &[String],
) -> Result<Site> {
    let mut site = Site::create(kind, &ctx.tools, &ctx.scratch, label, shape)?;
    site.start_master().await?;
    site.start_workers(start_workers)?;
    let timeout = Duration::from_secs(120 + 3 * start_workers.len() as u64);
    site.wait_workers(start_workers.len(), timeout).await?;
    Ok(site)
}

/// Master memory and the largest worker memory of a site.
pub fn site_memory(site: &Site) -> Result<(procs::Memory, procs::Memory)> {
    let master = procs::memory(site.master_pid()?)?;
    let mut worker = procs::Memory {
        rss_mb: 0.0,
        peak_mb: 0.0,
    };
    for pid in site.worker_pids() {
        let m = procs::memory(pid)?;
        worker.rss_mb = worker.rss_mb.max(m.rss_mb);
        worker.peak_mb = worker.peak_mb.max(m.peak_mb);
    }
    Ok((master, worker))
}

/// Worker names `w001`... for `count` workers.
pub fn worker_names(count: usize) -> Vec<String> {
    cfg::names("w", count)
}

/// The value at quantile `q` (0..=1) of sorted `values`, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Sorts durations into milliseconds.
pub fn sorted_ms(times: &[Duration]) -> Vec<f64> {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 51.0);
        assert_eq!(quantile(&v, 0.95), 95.0);
        assert_eq!(quantile(&[3.0], 0.95), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
