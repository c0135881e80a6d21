//! Timed schedulers: a Periodic scheduler builds on its own every period, remembers when it
//! last fired across a restart, and builds nothing while disabled.

use ferrobot_bus::Pattern;
use ferrobot_integration_tests::Sandbox;
use serde_json::{Value, json};

fn config() -> String {
    crate::config(
        r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="tick", command="true"))
c['builders'] = [util.BuilderConfig(name="b", workernames=["w1"], factory=f)]
c['schedulers'] = [
    schedulers.Periodic(name="every-second", builderNames=["b"], periodicBuildTimer=1,
                        properties={"kind": "periodic"}),
    schedulers.Nightly(name="nightly", builderNames=["b"], hour=3, minute=15),
]
"#,
    )
}

async fn buildsets(sandbox: &Sandbox) -> anyhow::Result<Vec<Value>> {
    Ok(sandbox.get("/buildsets").await?["buildsets"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

#[tokio::test]
async fn a_periodic_scheduler_builds_every_period_and_not_while_disabled() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&config()).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let finished = |count: usize| {
        let sandbox = &sandbox;
        move || async move {
            let builds = sandbox.get("/builds?complete=true").await?;
            Ok(builds["builds"]
                .as_array()
                .is_some_and(|b| b.len() >= count))
        }
    };
    sandbox
        .wait_until(&Pattern::parse("builds.*.finished", '.'), finished(3))
        .await?;
    let sets = buildsets(&sandbox).await?;
    assert!(
        sets.iter().all(|bs| bs["reason"]
            == json!("The Periodic scheduler named 'every-second' triggered this build")),
        "{sets:?}"
    );
    let builds = sandbox
        .get("/builds?property=kind&property=scheduler")
        .await?;
    let first = &builds["builds"][0]["properties"];
    assert_eq!(first["kind"], json!(["periodic", "Scheduler"]));
    assert_eq!(first["scheduler"], json!(["every-second", "Scheduler"]));
    // The Nightly one is due at 03:15 only.
    assert!(
        sets.len() >= 3
            && builds["builds"].as_array().is_some_and(|b| b
                .iter()
                .all(|b| b["properties"]["scheduler"][0] == json!("every-second"))),
        "{builds}"
    );

    let schedulers = sandbox.get("/schedulers").await?;
    let schedulerid = schedulers["schedulers"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == json!("every-second")))
        .and_then(|s| s["schedulerid"].as_i64())
        .expect("the scheduler is listed");
    let (status, reply) = sandbox
        .rpc(
            &format!("/schedulers/{schedulerid}"),
            "enable",
            json!({"enabled": false}),
        )
        .await?;
    assert_eq!(status, 200, "{reply}");
    // Once disabled, ticks pass (the Periodic state moves on) without new buildsets.
    let store = sandbox.master().ctx.store.clone();
    let tick = || async {
        store
            .get_state("every-second", "Periodic", "last_build")
            .await
            .map(|v| v.and_then(|v| v.as_i64()).unwrap_or(0))
    };
    let disabled_at = tick().await?;
    let count_then = buildsets(&sandbox).await?.len();
    sandbox
        .wait_until(&Pattern::parse("nothing.ever", '.'), || async {
            Ok(tick().await? >= disabled_at + 2)
        })
        .await?;
    // At most one buildset was already on its way when the flag flipped.
    assert!(buildsets(&sandbox).await?.len() <= count_then + 1);
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
