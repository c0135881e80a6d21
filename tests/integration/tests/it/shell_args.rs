//! `steps.ShellCommand`'s process arguments from master.cfg through the worker: `usePTY`,
//! `initialStdin`, `decodeRC`, `logfiles`, `interruptSignal` with `sigtermTime`.

use ferrobot_integration_tests::Sandbox;
use serde_json::json;

fn config() -> String {
    crate::config(
        r#"
def builder(name, step):
    f = util.BuildFactory()
    f.addStep(step)
    return util.BuilderConfig(name=name, workernames=["w1"], factory=f)

c['builders'] = [
    builder("pty", steps.ShellCommand(name="tty", usePTY=True,
        command="test -t 1 && echo stdout-is-a-tty; echo to-stderr >&2")),
    builder("stdin", steps.ShellCommand(name="cat", command=["cat"], initialStdin="fed on stdin\n")),
    builder("rc", steps.ShellCommand(name="three", command="exit 3",
        decodeRC={0: util.SUCCESS, 3: util.WARNINGS})),
    builder("files", steps.ShellCommand(name="write", command="echo one > out.txt; echo two >> out.txt",
        logfiles={"report": "out.txt"})),
    builder("term", steps.ShellCommand(name="trap", interruptSignal="TERM", sigtermTime=5,
        command="trap 'echo got-sigterm; exit 0' TERM; echo ready; while true; do sleep 0.1; done")),
]
c['schedulers'] = [schedulers.ForceScheduler(name="force",
    builderNames=["pty", "stdin", "rc", "files", "term"])]
"#,
    )
}

#[tokio::test]
async fn shell_command_process_arguments_reach_the_worker() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&config()).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;

    let build = sandbox
        .wait_request_done(sandbox.force("pty").await?)
        .await?;
    let text = sandbox
        .build_log_text(build["buildid"].as_i64().expect("id"))
        .await?;
    assert!(text.contains("stdout-is-a-tty"), "{text}");
    assert!(text.contains("to-stderr"), "{text}");

    let build = sandbox
        .wait_request_done(sandbox.force("stdin").await?)
        .await?;
    let text = sandbox
        .build_log_text(build["buildid"].as_i64().expect("id"))
        .await?;
    assert!(text.contains("fed on stdin"), "{text}");

    let build = sandbox
        .wait_request_done(sandbox.force("rc").await?)
        .await?;
    let steps = sandbox
        .get(&format!("/builds/{}/steps/three", build["buildid"]))
        .await?;
    // The step is WARNINGS; the build stays SUCCESS, as warnOnWarnings is off by default.
    assert_eq!(
        steps["steps"][0]["results"],
        json!(1),
        "exit 3 decodes to WARNINGS: {steps}"
    );
    assert_eq!(build["results"], json!(0), "{build}");

    let build = sandbox
        .wait_request_done(sandbox.force("files").await?)
        .await?;
    let buildid = build["buildid"].as_i64().expect("id");
    let (status, report) = sandbox
        .get_raw(&format!("/builds/{buildid}/steps/write/logs/report/raw"))
        .await?;
    assert_eq!(status, 200, "{report}");
    // A stdio-type log's raw text starts with Buildbot's header block.
    assert_eq!(
        report,
        "Builder: files\nBuild number: 1\nWorker name: w1\none\ntwo\n"
    );

    let brid = sandbox.force("term").await?;
    let buildid = sandbox.wait_build_log(brid, "ready").await?;
    sandbox.stop_build(buildid).await?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(6), "stopped: CANCELLED: {build}");
    let text = sandbox.build_log_text(buildid).await?;
    assert!(
        text.contains("got-sigterm"),
        "the trap ran on SIGTERM: {text}"
    );

    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
