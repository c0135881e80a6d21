//! Worker options seen end to end: info files in the REST API, `--umask` on files a step
//! creates, `--delete-leftover-dirs`, `--max-builds`.

use std::os::unix::fs::PermissionsExt;

use ferrobot_bus::Pattern;
use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::worker_support::{InProcessWorker, eventually, options};

#[tokio::test]
async fn info_files_reach_the_rest_api_as_workerinfo() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &["true"])])).await?;
    let options = options(&sandbox, "w1");
    ferrobot_worker::create_worker(&options, true).map_err(|e| anyhow::anyhow!("{e}"))?;
    let info = options.basedir.join("info");
    std::fs::write(info.join("admin"), "Ops Team <ops@ci.example>\n")?;
    std::fs::write(info.join("host"), "rack 4, 64 GiB, Debian 13\n")?;
    std::fs::write(info.join("access_uri"), "ssh://build-04.ci.example\n")?;
    let worker = InProcessWorker::start_created(options);
    sandbox.wait_worker_connected("w1").await?;
    let workers = sandbox.get("/workers?name=w1").await?;
    let workerinfo = &workers["workers"][0]["workerinfo"];
    assert_eq!(workerinfo["admin"], json!("Ops Team <ops@ci.example>"));
    assert_eq!(workerinfo["host"], json!("rack 4, 64 GiB, Debian 13"));
    assert_eq!(workerinfo["access_uri"], json!("ssh://build-04.ci.example"));
    assert_eq!(workerinfo["version"], json!(env!("CARGO_PKG_VERSION")));
    assert!(workerinfo["os_id"].is_string(), "{workerinfo}");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_umask_applies_to_files_a_shell_step_creates() -> anyhow::Result<()> {
    let cfg = crate::shell_builders(&[("b", &["touch made-by-step && mkdir dir-by-step"])]);
    let sandbox = Sandbox::start(&cfg).await?;
    let mut options = options(&sandbox, "w1");
    options.umask = Some(0o027);
    let worker = InProcessWorker::start(options)?;
    sandbox.wait_worker_connected("w1").await?;
    let build = sandbox.wait_request_done(sandbox.force("b").await?).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    let workdir = worker.basedir.join("b/build");
    let mode = |name: &str| -> anyhow::Result<u32> {
        Ok(std::fs::metadata(workdir.join(name))?.permissions().mode() & 0o777)
    };
    assert_eq!(mode("made-by-step")?, 0o640);
    assert_eq!(mode("dir-by-step")?, 0o750);
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn leftover_directories_are_removed_only_with_delete_leftover_dirs() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &["true"])])).await?;
    let mut options = options(&sandbox, "w1");
    ferrobot_worker::create_worker(&options, true).map_err(|e| anyhow::anyhow!("{e}"))?;
    for dir in ["old-builder/build", "b/build"] {
        std::fs::create_dir_all(options.basedir.join(dir))?;
    }
    // Without the option the leftover is only logged: still there after a whole build.
    let worker = InProcessWorker::start_created(options.clone());
    sandbox.wait_worker_connected("w1").await?;
    let build = sandbox.wait_request_done(sandbox.force("b").await?).await?;
    assert_eq!(build["results"], json!(0));
    assert!(options.basedir.join("old-builder").exists());
    worker.stop().await;

    options.delete_leftover_dirs = true;
    let worker = InProcessWorker::start_created(options.clone());
    let leftover = options.basedir.join("old-builder");
    eventually("the leftover directory is removed", || !leftover.exists()).await?;
    assert!(
        options.basedir.join("b/build").is_dir(),
        "builder dirs stay"
    );
    assert!(options.basedir.join("info/admin").is_file(), "info stays");
    assert!(options.basedir.join("worker.json").is_file(), "files stay");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn max_builds_keeps_builds_on_the_worker_from_overlapping() -> anyhow::Result<()> {
    // Each build holds a lock directory until `go` exists; a second build running at the same
    // time would find the lock taken and fail.
    let hold = "mkdir ../../lock || exit 3; while [ ! -e ../../go ]; do sleep 0.05; done; rmdir ../../lock";
    let cfg = crate::shell_builders(&[("a", &[hold]), ("b", &[hold])]);
    let sandbox = Sandbox::start(&cfg).await?;
    let mut options = options(&sandbox, "w1");
    options.max_builds = Some(1);
    let worker = InProcessWorker::start(options)?;
    sandbox.wait_worker_connected("w1").await?;
    let first = sandbox.force("a").await?;
    let second = sandbox.force("b").await?;
    let lock = worker.basedir.join("lock");
    sandbox
        .wait_until(&Pattern::parse("steps.*.*", '.'), || async {
            Ok(lock.exists())
        })
        .await?;
    // With one build running, the other request stays unclaimed for the distributor's next
    // sweeps; it is checked after a build-started event of the first.
    let builds = sandbox.get("/builds").await?;
    assert_eq!(
        builds["builds"].as_array().map(Vec::len),
        Some(1),
        "only one build may have started: {builds}"
    );
    std::fs::write(worker.basedir.join("go"), "")?;
    for brid in [first, second] {
        let build = sandbox.wait_request_done(brid).await?;
        assert_eq!(build["results"], json!(0), "{build}");
    }
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
