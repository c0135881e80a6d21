//! Faults: a worker process killed with SIGKILL mid-command, and a master that vanishes
//! without closing the connection.

use ferrobot_bus::Pattern;
use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::worker_net::Forwarder;
use crate::worker_support::{InProcessWorker, WorkerProcess, eventually, options};

/// Marks the attempt in the worker's base directory (`runs`, one line per run) and holds until
/// `go` appears there.
const HOLD: &str =
    "echo run >> ../../runs; touch ../../started; while [ ! -e ../../go ]; do sleep 0.05; done";

fn two_worker_config() -> String {
    let body = format!(
        r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hold", command={HOLD:?}))
c['builders'] = [util.BuilderConfig(name="b", workernames=["w1", "w2"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["b"])]
c['workers'] = [worker.Worker("w1", "pw"), worker.Worker("w2", "pw")]
"#
    );
    crate::config(&body)
}

#[tokio::test]
async fn a_worker_process_killed_mid_command_ends_the_build_retry_and_another_worker_runs_it()
-> anyhow::Result<()> {
    let sandbox = Sandbox::start(&two_worker_config()).await?;
    let mut workers = vec![
        WorkerProcess::spawn(&sandbox, "w1", &[]).await?,
        WorkerProcess::spawn(&sandbox, "w2", &[]).await?,
    ];
    sandbox.wait_worker_connected("w1").await?;
    sandbox.wait_worker_connected("w2").await?;
    let brid = sandbox.force("b").await?;
    let started = |w: &WorkerProcess| w.basedir.join("started").exists();
    eventually("one worker runs the command", || {
        workers.iter().any(started)
    })
    .await?;
    let victim = workers.iter().position(started).expect("a worker started");
    let mut killed = workers.remove(victim);
    let survivor = workers.pop().expect("the other worker");
    killed.child.start_kill()?;
    killed.exited().await?;
    std::fs::write(survivor.basedir.join("go"), "")?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(
        build["results"],
        json!(0),
        "the second attempt succeeds: {build}"
    );
    let builds = sandbox
        .get(&format!("/builds?buildrequestid={brid}"))
        .await?;
    let results: Vec<_> = builds["builds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b["results"].clone())
        .collect();
    assert_eq!(results, vec![json!(5), json!(0)], "RETRY (5), then SUCCESS");
    // The shell the killed worker started lives on as an orphan until it sees its `go`.
    std::fs::write(killed.basedir.join("go"), "")?;
    drop(survivor);
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_vanished_master_is_noticed_within_the_keepalive_and_no_command_runs_twice()
-> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &[HOLD])])).await?;
    let forwarder = Forwarder::start(sandbox.master().worker_addr.expect("port")).await?;
    let mut options = options(&sandbox, "w1");
    options.master = format!("127.0.0.1:{}", forwarder.port);
    options.keepalive = std::time::Duration::from_secs(1);
    let worker = InProcessWorker::start(options)?;
    sandbox.wait_worker_connected("w1").await?;
    let brid = sandbox.force("b").await?;
    let started = worker.basedir.join("started");
    eventually("the command runs", || started.exists()).await?;
    std::fs::remove_file(&started)?;
    assert_eq!(forwarder.accepted(), 1);
    forwarder.black_hole();
    // Nothing was closed: only the worker's pings going unanswered can tell it.
    eventually("the worker reconnects", || forwarder.accepted() >= 2).await?;
    // The command was killed with the session; the build ends RETRY and runs again once.
    sandbox
        .wait_until(&Pattern::parse("builds.*.finished", '.'), || async {
            let builds = sandbox
                .get(&format!("/builds?buildrequestid={brid}"))
                .await?;
            Ok(builds["builds"][0]["results"] == json!(5))
        })
        .await?;
    eventually("the second attempt runs", || started.exists()).await?;
    std::fs::write(worker.basedir.join("go"), "")?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    let runs = std::fs::read_to_string(worker.basedir.join("runs"))?;
    assert_eq!(
        runs.lines().count(),
        2,
        "one run per build, never repeated: {runs:?}"
    );
    worker.stop().await;
    // Closes the silenced connection, which the master would otherwise wait for at shutdown.
    drop(forwarder);
    sandbox.stop().await;
    Ok(())
}
