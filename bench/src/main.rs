//! `ferrobot-bench`: runs the workloads W1..W6 of issue 6 on Ferrobot and on Buildbot 4.3 in
//! one run on this machine, alternating between the two, and prints the ratios.
//!
//! `cargo run --release -p ferrobot-bench -- all` (or `-- w1 w3`, `--ferrobot-only`, sizes with
//! `--builds N` and friends; `--help` lists them). See docs/performance.md.

mod api;
mod cfg;
mod procs;
mod report;
mod site;
mod tools;
mod workloads;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow};
use clap::{Parser, ValueEnum};
use serde_json::json;

use crate::report::{METRICS, Report};
use crate::site::{Kind, Tools};
use crate::workloads::{Ctx, Sizes};

/// A workload to run (`all` runs every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Workload {
    /// Every workload.
    All,
    /// Force → complete latency of sequential builds.
    W1,
    /// Throughput: forced builds drained by several workers.
    W2,
    /// Log volume: one step printing 100 MiB.
    W3,
    /// Memory: idle, and peak during W2 and W3 (runs them).
    W4,
    /// Many workers connected to one master.
    W5,
    /// Pending backlog: start-up and request listing.
    W6,
}

#[derive(Debug, Parser)]
#[command(
    name = "ferrobot-bench",
    about = "Ferrobot side by side with Buildbot 4.3: the same workloads, one run, the ratios"
)]
struct Args {
    /// Workloads to run.
    #[arg(required = true, value_enum)]
    workloads: Vec<Workload>,
    /// W1: sequential forced builds (after one warm-up build each).
    #[arg(long, default_value_t = 50)]
    builds: usize,
    /// W2: forced builds to drain.
    #[arg(long, default_value_t = 500)]
    throughput_builds: usize,
    /// W2: workers sharing them.
    #[arg(long, default_value_t = 4)]
    throughput_workers: usize,
    /// W3: MiB the step prints, in 1 KiB lines.
    #[arg(long, default_value_t = 100)]
    log_mib: u64,
    /// W5: workers connected to one master.
    #[arg(long, default_value_t = 200)]
    workers: usize,
    /// W6: pending build requests (rounded up to a multiple of 20).
    #[arg(long, default_value_t = 20_000)]
    backlog: usize,
    /// Measure Ferrobot only (no Buildbot, no virtualenv).
    #[arg(long, conflicts_with = "buildbot_only")]
    ferrobot_only: bool,
    /// Measure Buildbot only (no Ferrobot binaries needed).
    #[arg(long)]
    buildbot_only: bool,
    /// Directory with the ferrobot and ferrobot-worker programs to measure [default: target/release,
    /// built with cargo first].
    #[arg(long)]
    binaries: Option<PathBuf>,
    /// Buildbot virtualenv, created with pip if missing [default: bench/venv-buildbot-4.3].
    #[arg(long)]
    venv: Option<PathBuf>,
    /// Where to write the JSON [default: bench/results/<date>.json; <date>-<selection>.json for a
    /// partial run].
    #[arg(long)]
    results: Option<PathBuf>,
    /// Keep the temporary directory with the masters' and workers' files and logs.
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut sigterm = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot watch SIGTERM: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Dropping the run future on a signal drops its sites, which stop every process they started.
    let outcome = tokio::select! {
        outcome = run(args) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted (Ctrl-C); everything started was stopped")),
        _ = sigterm.recv() => Err(anyhow!("terminated (SIGTERM); everything started was stopped")),
    };
    match outcome {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the selected workloads; Ok(false) when one of them failed.
async fn run(args: Args) -> Result<bool> {
    let mut selected: Vec<Workload> = args.workloads.clone();
    if selected.contains(&Workload::All) {
        selected = vec![
            Workload::W1,
            Workload::W2,
            Workload::W3,
            Workload::W4,
            Workload::W5,
            Workload::W6,
        ];
    }
    if selected.contains(&Workload::W4) {
        selected.extend([Workload::W2, Workload::W3]);
    }
    selected.sort();
    selected.dedup();

    let root = tools::workspace_root();
    let ferrobot_bins = if args.buildbot_only {
        PathBuf::new()
    } else {
        tools::ferrobot_binaries(args.binaries.as_deref())?
    };
    let buildbot_venv = if args.ferrobot_only {
        None
    } else {
        Some(tools::buildbot_venv(
            &args
                .venv
                .clone()
                .unwrap_or_else(|| root.join("bench/venv-buildbot-4.3")),
        )?)
    };
    let kinds: Vec<Kind> = match (args.ferrobot_only, args.buildbot_only) {
        (true, _) => vec![Kind::Ferrobot],
        (_, true) => vec![Kind::Buildbot],
        _ => vec![Kind::Ferrobot, Kind::Buildbot],
    };
    let scratch = tempfile::Builder::new()
        .prefix("ferrobot-bench-")
        .tempdir()?;
    let ctx = Ctx {
        tools: Tools {
            ferrobot_bins: ferrobot_bins.clone(),
            buildbot_venv: buildbot_venv.clone(),
        },
        scratch: scratch.path().to_owned(),
        sizes: Sizes {
            latency_builds: args.builds,
            throughput_builds: args.throughput_builds,
            throughput_workers: args.throughput_workers,
            log_mib: args.log_mib,
            many_workers: args.workers,
            backlog: args.backlog,
        },
    };
    let started = unix_seconds();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut report = Report::default();
    for workload in &selected {
        let name = format!("{workload:?}");
        let ids = metric_ids(&name);
        eprintln!(
            "running {name} on {}...",
            kinds
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(" and ")
        );
        match workload {
            Workload::W1 => {
                for (kind, outcome) in workloads::latency::run(&ctx, &kinds).await {
                    report.record(&name, kind, &ids, outcome);
                }
            }
            Workload::W2 | Workload::W3 | Workload::W5 | Workload::W6 => {
                for &kind in &kinds {
                    let outcome = match workload {
                        Workload::W2 => workloads::throughput::run(&ctx, kind).await,
                        Workload::W3 => workloads::logs::run(&ctx, kind).await,
                        Workload::W5 => workloads::many_workers::run(&ctx, kind).await,
                        _ => workloads::backlog::run(&ctx, kind).await,
                    };
                    // W4's readings come with W2 and W3; their failure is W4's too.
                    let mut ids = ids.clone();
                    if matches!(workload, Workload::W2 | Workload::W3) {
                        let suffix = if *workload == Workload::W2 {
                            "_w2_mb"
                        } else {
                            "_w3_mb"
                        };
                        ids.extend(metric_ids("W4").into_iter().filter(|id| {
                            id.ends_with(suffix)
                                || (*workload == Workload::W2 && id.ends_with("idle_mb"))
                        }));
                    }
                    report.record(&name, kind, &ids, outcome);
                }
            }
            Workload::W4 | Workload::All => {}
        }
        eprintln!("{}", report.table());
    }

    let table = report.table();
    println!("{table}");
    let date = civil_date(started);
    let selection = if args.workloads.contains(&Workload::All) {
        String::new()
    } else {
        selected
            .iter()
            .map(|w| format!("-{w:?}").to_lowercase())
            .collect()
    };
    let only = if args.ferrobot_only {
        "-ferrobot-only"
    } else {
        ""
    };
    let path = args
        .results
        .clone()
        .unwrap_or_else(|| root.join(format!("bench/results/{date}{selection}{only}.json")));
    let header = json!({
        "date": date,
        "started_unix": started,
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "machine": machine(),
        "load_average_before": load_before.trim(),
        "load_average_after": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "ferrobot_binaries": ferrobot_bins,
        "buildbot_venv": buildbot_venv,
        "ratio": "how many times better Ferrobot is: Buildbot/Ferrobot for times and memory, Ferrobot/Buildbot for throughput",
        "sizes": {
            "w1_builds": args.builds, "w2_builds": args.throughput_builds, "w2_workers": args.throughput_workers,
            "w3_log_mib": args.log_mib, "w5_workers": args.workers, "w6_backlog": args.backlog,
        },
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report.json(header))? + "\n",
    )
    .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("results written to {}", path.display());
    if args.keep {
        eprintln!("kept {}", scratch.keep().display());
    }
    Ok(!report.any_failed())
}

/// The metric ids of workload `W1`..`W6`.
fn metric_ids(workload: &str) -> Vec<&'static str> {
    let prefix = format!("{}.", workload.to_lowercase());
    METRICS
        .iter()
        .map(|m| m.id)
        .filter(|id| id.starts_with(&prefix))
        .collect()
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DD` (UTC) of a Unix time (Howard Hinnant's days-to-civil algorithm).
fn civil_date(unix: u64) -> String {
    let z = (unix / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Cores and memory of this machine.
fn machine() -> serde_json::Value {
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0);
    json!({
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "memory_gib": (mem_kb as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_798_761_599), "2026-12-31");
    }
}
