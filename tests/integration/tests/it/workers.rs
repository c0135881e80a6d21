//! Worker sessions: authentication, and a worker lost in the middle of a build.

use ferrobot_bus::Pattern;
use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::shell_builders;

#[tokio::test]
async fn a_worker_with_a_wrong_password_or_name_is_refused_and_the_master_keeps_serving()
-> anyhow::Result<()> {
    let cfg = shell_builders(&[("hello", &["echo hi"])]);
    let sandbox = Sandbox::start(&cfg).await?;
    let impostor = sandbox.add_worker("w1", "wrong").await?;
    let stranger = sandbox.add_worker("nobody", "pw").await?;
    // The master must keep serving and count neither as connected; a good worker still gets in.
    let good = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let workers = sandbox.get("/workers").await?;
    let names: Vec<&str> = workers["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert!(
        !names.contains(&"nobody"),
        "an unknown worker is not recorded: {names:?}"
    );
    let build = sandbox
        .wait_request_done(sandbox.force("hello").await?)
        .await?;
    assert_eq!(build["results"], json!(0));
    impostor.stop().await;
    stranger.stop().await;
    good.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_worker_lost_mid_build_ends_it_retry_and_the_request_runs_again() -> anyhow::Result<()> {
    // The first attempt leaves a marker and hangs; the second sees the marker and succeeds.
    let cfg = shell_builders(&[(
        "flaky",
        &[
            "if [ -e ../../marker ]; then echo second-attempt; else touch ../../marker; echo first-attempt; sleep 600; fi",
        ],
    )]);
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let brid = sandbox.force("flaky").await?;
    let marker = worker.basedir.join("marker");
    sandbox
        .wait_until(&Pattern::parse("logs.*.append", '.'), || async {
            Ok(marker.exists())
        })
        .await?;
    worker.stop().await;

    sandbox
        .wait_until(
            &Pattern::parse("buildrequests.*.unclaimed", '.'),
            || async {
                let builds = sandbox
                    .get(&format!("/builds?buildrequestid={brid}"))
                    .await?;
                Ok(builds["builds"][0]["results"] == json!(5))
            },
        )
        .await?;
    let request = sandbox.get(&format!("/buildrequests/{brid}")).await?;
    assert_eq!(
        request["buildrequests"][0]["complete"],
        json!(false),
        "a RETRY leaves the request pending"
    );

    let worker = sandbox.add_worker("w1", "pw").await?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(0), "second build: {build}");
    let builds = sandbox
        .get(&format!("/builds?buildrequestid={brid}"))
        .await?;
    let results: Vec<_> = builds["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .map(|b| b["results"].clone())
        .collect();
    assert_eq!(
        results,
        [json!(5), json!(0)],
        "one RETRY build, then one SUCCESS"
    );
    assert!(
        sandbox
            .build_log_text(build["buildid"].as_i64().expect("id"))
            .await?
            .contains("second-attempt")
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_paused_worker_takes_no_builds_until_unpaused() -> anyhow::Result<()> {
    let body = r#"
c['workers'] = [worker.Worker("w1", "pw"), worker.Worker("w2", "pw")]
one = util.BuildFactory()
one.addStep(steps.ShellCommand(name="s", command=["echo", "on-w1"]))
two = util.BuildFactory()
two.addStep(steps.ShellCommand(name="s", command=["echo", "on-w2"]))
c['builders'] = [
    util.BuilderConfig(name="on-w1", workernames=["w1"], factory=one),
    util.BuilderConfig(name="on-w2", workernames=["w2"], factory=two),
]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["on-w1", "on-w2"])]
"#;
    let sandbox = Sandbox::start(&crate::config(body)).await?;
    let w1 = sandbox.add_worker("w1", "pw").await?;
    let w2 = sandbox.add_worker("w2", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    sandbox.wait_worker_connected("w2").await?;

    let (status, reply) = sandbox
        .rpc("/workers/w1", "pause", json!({"reason": "maintenance"}))
        .await?;
    assert_eq!(status, 200, "pause: {reply}");
    sandbox
        .wait_until(&Pattern::parse("workers.*.state_updated", '.'), || async {
            Ok(sandbox.get("/workers/w1").await?["workers"][0]["paused"] == json!(true))
        })
        .await?;
    let held = sandbox.force("on-w1").await?;
    // A later request on another worker completing proves a distribution pass saw the first one.
    let other = sandbox
        .wait_request_done(sandbox.force("on-w2").await?)
        .await?;
    assert_eq!(other["results"], json!(0));
    let request = sandbox.get(&format!("/buildrequests/{held}")).await?;
    assert_eq!(
        request["buildrequests"][0]["claimed"],
        json!(false),
        "a paused worker is not used: {request}"
    );
    assert_eq!(
        sandbox.get("/workers/w1").await?["workers"][0]["pause_reason"],
        json!("maintenance")
    );

    let (status, reply) = sandbox.rpc("/workers/w1", "unpause", json!({})).await?;
    assert_eq!(status, 200, "unpause: {reply}");
    let build = sandbox.wait_request_done(held).await?;
    assert_eq!(build["results"], json!(0));
    w1.stop().await;
    w2.stop().await;
    sandbox.stop().await;
    Ok(())
}
