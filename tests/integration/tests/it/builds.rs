//! Forced builds end to end: results, steps, logs and properties through REST.

use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::shell_builders;

#[tokio::test]
async fn forced_build_runs_on_the_worker_and_its_log_reads_back() -> anyhow::Result<()> {
    let cfg = shell_builders(&[(
        "hello",
        &["echo hello-from-test", "printf 'line-%d\\n' 1 2 3"],
    )]);
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;

    let brid = sandbox.force("hello").await?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(0), "build: {build}");
    assert_eq!(build["number"], json!(1));
    assert_eq!(build["state_string"], json!("build successful"));

    let buildid = build["buildid"].as_i64().expect("buildid");
    let steps = sandbox.get(&format!("/builds/{buildid}/steps")).await?;
    let names: Vec<&str> = steps["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["worker_preparation", "s0", "s1"]);
    assert!(
        steps["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|s| s["results"] == json!(0))
    );

    let text = sandbox.build_log_text(buildid).await?;
    assert!(text.contains("hello-from-test"), "log: {text}");
    assert!(text.contains("line-1\nline-2\nline-3\n"), "log: {text}");

    let properties = sandbox
        .get(&format!("/builds/{buildid}/properties"))
        .await?;
    let props = &properties["properties"][0];
    assert_eq!(props["buildername"][0], json!("hello"));
    assert_eq!(props["workername"][0], json!("w1"));
    assert_eq!(props["buildnumber"][0], json!(1));
    assert_eq!(props["scheduler"][0], json!("force"));

    let second = sandbox.force("hello").await?;
    let build = sandbox.wait_request_done(second).await?;
    assert_eq!(
        build["number"],
        json!(2),
        "build numbers count up per builder"
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_failing_step_fails_the_build_and_later_steps_still_run_unless_halted()
-> anyhow::Result<()> {
    let body = r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="fails", command="echo before; exit 3"))
f.addStep(steps.ShellCommand(name="after", command=["echo", "still-ran"]))
h = util.BuildFactory()
h.addStep(steps.ShellCommand(name="halts", command="exit 1", haltOnFailure=True))
h.addStep(steps.ShellCommand(name="skipped", command=["echo", "never"]))
h.addStep(steps.ShellCommand(name="cleanup", command=["echo", "cleanup"], alwaysRun=True))
w = util.BuildFactory()
w.addStep(steps.ShellCommand(name="lenient", command="exit 1", flunkOnFailure=False, warnOnFailure=True))
c['builders'] = [
    util.BuilderConfig(name="failing", workernames=["w1"], factory=f),
    util.BuilderConfig(name="halting", workernames=["w1"], factory=h),
    util.BuilderConfig(name="warning", workernames=["w1"], factory=w),
]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["failing", "halting", "warning"])]
"#;
    let sandbox = Sandbox::start(&crate::config(body)).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;

    let failing = sandbox
        .wait_request_done(sandbox.force("failing").await?)
        .await?;
    assert_eq!(failing["results"], json!(2), "FAILURE: {failing}");
    let steps = sandbox
        .get(&format!("/builds/{}/steps", failing["buildid"]))
        .await?;
    let steps = steps["steps"].as_array().expect("steps");
    assert_eq!(
        steps.len(),
        3,
        "the step after a failure without haltOnFailure runs"
    );
    assert_eq!(steps[1]["results"], json!(2));
    assert_eq!(steps[2]["results"], json!(0));

    let halting = sandbox
        .wait_request_done(sandbox.force("halting").await?)
        .await?;
    assert_eq!(halting["results"], json!(2));
    let steps = sandbox
        .get(&format!("/builds/{}/steps", halting["buildid"]))
        .await?;
    let names: Vec<&str> = steps["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["worker_preparation", "halts", "cleanup"],
        "halt skips all but alwaysRun steps"
    );

    let warning = sandbox
        .wait_request_done(sandbox.force("warning").await?)
        .await?;
    assert_eq!(warning["results"], json!(1), "warnOnFailure makes WARNINGS");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn stopping_a_running_build_cancels_it() -> anyhow::Result<()> {
    let cfg = shell_builders(&[("slow", &["echo started; sleep 600"])]);
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let brid = sandbox.force("slow").await?;
    let buildid = sandbox.wait_build_log(brid, "started").await?;
    sandbox.stop_build(buildid).await?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(6), "CANCELLED: {build}");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn cancelling_a_pending_request_completes_it_cancelled_without_a_build() -> anyhow::Result<()>
{
    let cfg = shell_builders(&[("idle", &["echo never"])]);
    let sandbox = Sandbox::start(&cfg).await?;
    // No worker: the request stays pending until it is cancelled.
    let brid = sandbox.force("idle").await?;
    let (status, reply) = sandbox
        .rpc(
            &format!("/buildrequests/{brid}"),
            "cancel",
            json!({"reason": "not needed"}),
        )
        .await?;
    assert_eq!(status, 200, "cancel reply: {reply}");
    let pattern = ferrobot_bus::Pattern::parse("buildrequests.*.complete", '.');
    sandbox
        .wait_until(&pattern, || async {
            let request = sandbox.get(&format!("/buildrequests/{brid}")).await?;
            Ok(request["buildrequests"][0]["complete"] == json!(true))
        })
        .await?;
    let request = sandbox.get(&format!("/buildrequests/{brid}")).await?;
    assert_eq!(
        request["buildrequests"][0]["results"],
        json!(6),
        "CANCELLED: {request}"
    );
    let builds = sandbox
        .get(&format!("/builds?buildrequestid={brid}"))
        .await?;
    assert_eq!(builds["builds"], json!([]), "no build ran");
    // The buildset completes after its last request, as in Buildbot.
    let bsid = request["buildrequests"][0]["buildsetid"].clone();
    let pattern = ferrobot_bus::Pattern::parse("buildsets.*.complete", '.');
    sandbox
        .wait_until(&pattern, || async {
            let buildset = sandbox.get(&format!("/buildsets/{bsid}")).await?;
            Ok(buildset["buildsets"][0]["complete"] == json!(true))
        })
        .await?;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn reconfig_adds_a_builder_without_disturbing_a_running_build() -> anyhow::Result<()> {
    let waiting = "echo waiting; while [ ! -e ../../go ]; do sleep 0.05; done; echo released";
    let sandbox = Sandbox::start(&shell_builders(&[("first", &[waiting])])).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let brid = sandbox.force("first").await?;
    sandbox.wait_build_log(brid, "waiting").await?;

    let bigger = shell_builders(&[("first", &[waiting]), ("second", &["echo second"])]);
    let config =
        ferrobot_config::load_str("master.cfg", &bigger).map_err(|e| anyhow::anyhow!("{e}"))?;
    sandbox
        .master()
        .reconfig(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let builders = sandbox.get("/builders").await?;
    let names: Vec<&str> = builders["builders"]
        .as_array()
        .expect("builders")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(names.contains(&"second"), "{names:?}");

    std::fs::write(worker.basedir.join("go"), "")?;
    let first = sandbox.wait_request_done(brid).await?;
    assert_eq!(
        first["results"],
        json!(0),
        "the running build survived the reconfig: {first}"
    );
    let second = sandbox
        .wait_request_done(sandbox.force("second").await?)
        .await?;
    assert_eq!(second["results"], json!(0));
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
