//! `--allow-shutdown`: the worker asks, the master lets running builds finish, starts no new
//! one and then stops the worker.

use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::worker_support::{InProcessWorker, WorkerProcess, eventually, options};

const HOLD: &str = "touch ../../started; while [ ! -e ../../go ]; do sleep 0.05; done";

#[tokio::test]
async fn touching_the_shutdown_stamp_finishes_the_running_build_then_stops_the_worker()
-> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &[HOLD])])).await?;
    let mut options = options(&sandbox, "w1");
    options.allow_shutdown = Some(ferrobot_worker::AllowShutdown::File);
    let worker = InProcessWorker::start(options)?;
    sandbox.wait_worker_connected("w1").await?;
    let running = sandbox.force("b").await?;
    let started = worker.basedir.join("started");
    eventually("the build runs", || started.exists()).await?;
    std::fs::write(worker.basedir.join(ferrobot_worker::SHUTDOWN_STAMP), "")?;
    sandbox
        .wait_until(
            &ferrobot_bus::Pattern::parse("workers.*.state_updated", '.'),
            || async {
                let workers = sandbox.get("/workers?name=w1").await?;
                Ok(workers["workers"][0]["graceful"] == json!(true))
            },
        )
        .await?;
    let waiting = sandbox.force("b").await?;
    std::fs::write(worker.basedir.join("go"), "")?;
    let build = sandbox.wait_request_done(running).await?;
    assert_eq!(
        build["results"],
        json!(0),
        "the running build finishes: {build}"
    );
    worker
        .finished()
        .await?
        .map_err(|e| anyhow::anyhow!("the worker should stop cleanly: {e}"))?;
    let builds = sandbox
        .get(&format!("/builds?buildrequestid={waiting}"))
        .await?;
    assert_eq!(
        builds["builds"],
        json!([]),
        "no new build on a stopping worker"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn sighup_makes_a_worker_process_with_allow_shutdown_signal_exit_gracefully()
-> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &["true"])])).await?;
    let mut worker = WorkerProcess::spawn(&sandbox, "w1", &["--allow-shutdown", "signal"]).await?;
    sandbox.wait_worker_connected("w1").await?;
    let pid = worker.pid()?.to_string();
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()?;
    assert!(sent.success());
    let status = worker.exited().await?;
    assert!(status.success(), "{status:?}: {}", worker.log());
    let log = worker.log();
    assert!(
        log.contains("asking the master for a graceful shutdown"),
        "{log}"
    );
    assert!(
        log.contains("worker stopped at the master's request"),
        "{log}"
    );
    sandbox.stop().await;
    Ok(())
}
