//! Figures for docs/performance.md (issue 3's Measure section). Ignored by default, as they
//! time things; run with
//! `cargo nextest run --release -p ferrobot-master --features ferrobot-master/etcd \
//!   --test cluster_processes --run-ignored only --no-capture`.
//! They assert only correctness: every request built once.

use std::time::Instant;

use crate::harness::{Cluster, force};
use crate::{assert_each_ran_once, builder_config, wait_complete};

const WORKERS_PER_BUILDER_MASTER: usize = 4;
const REQUESTS: usize = 400;

/// A `www,scheduler` master, `builders` builder masters with 4 workers each; every worker is
/// configured on builder `b`.
fn cluster_with(builders: usize) -> Cluster {
    let workers: Vec<String> = (0..builders * WORKERS_PER_BUILDER_MASTER)
        .map(|i| format!("'w{i}'"))
        .collect();
    let config = builder_config("['true']").replace(
        "workernames=['w0', 'w1', 'w2', 'w3']",
        &format!("workernames=[{}]", workers.join(", ")),
    );
    let mut cluster = Cluster::new(&config);
    cluster.start_master("www1", "www,scheduler");
    for i in 0..builders {
        cluster.start_master(&format!("builder{i}"), "builder");
    }
    cluster.wait_until_up();
    for i in 0..builders * WORKERS_PER_BUILDER_MASTER {
        cluster.start_worker(&format!("w{i}"), 1 + i / WORKERS_PER_BUILDER_MASTER);
    }
    cluster
}

#[test]
#[ignore = "a measurement: run with --run-ignored only"]
fn measure_claims_per_second_with_one_two_and_four_builder_masters() {
    for builders in [1, 2, 4] {
        let cluster = cluster_with(builders);
        let api = cluster.api();
        // Requests pile up faster than they drain, so the rate is the builder masters'.
        let started = Instant::now();
        let brids: Vec<i64> = (0..REQUESTS).map(|_| force(&api, "b")).collect();
        let forced = started.elapsed();
        wait_complete(&api, &brids);
        let drained = started.elapsed();
        assert_each_ran_once(&api, &brids);
        println!(
            "builder masters: {builders}, workers: {}, requests: {REQUESTS}, forced in {:.2} s, \
             all complete after {:.2} s: {:.0} builds/s",
            builders * WORKERS_PER_BUILDER_MASTER,
            forced.as_secs_f64(),
            drained.as_secs_f64(),
            REQUESTS as f64 / drained.as_secs_f64()
        );
    }
}

#[test]
#[ignore = "a measurement: run with --run-ignored only"]
fn measure_force_to_complete_latency_in_cluster_mode() {
    let cluster = cluster_with(2);
    let api = cluster.api();
    let mut latencies = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        let brid = force(&api, "b");
        // Polled every 2 ms: wait_for's 100 ms would swamp the figure.
        let url = format!("{api}/buildrequests/{brid}");
        while crate::harness::get(&url).is_none_or(|r| r["buildrequests"][0]["complete"] != true) {
            assert!(started.elapsed() < crate::harness::TIMEOUT, "build {brid}");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "cluster force → complete over 50 builds: median {:.1} ms, p95 {:.1} ms",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100]
    );
}
