//! A builder with 1,000 builds: its page, the waterfall and the home page load one page of
//! them, and paging walks back through history.

use anyhow::{Context as _, Result};
use ferrobot_browser_tests::Browser;
use ferrobot_integration_tests::Sandbox;
use ferrobot_model::Results;
use ferrobot_store::NewBuildset;
use serde_json::json;

use crate::{builderid, config, dashboard, open, start};

const HISTORY: i64 = 1000;

/// Stores `HISTORY` finished builds of `busy` on worker `ghost` (which never connects, so the
/// master itself never claims them), one a minute, every seventh a failure.
async fn seed_history(sandbox: &Sandbox, busy: i64) -> Result<()> {
    let ghost = sandbox.get("/workers/ghost").await?["workers"][0]["workerid"]
        .as_i64()
        .context("worker ghost is configured")?;
    let ctx = &sandbox.master().ctx;
    let (store, me) = (&ctx.store, ctx.claimant());
    let start = ferrobot_model::now_epoch() - HISTORY * 60;
    for i in 0..HISTORY {
        let at = start + i * 60;
        let (_, requests) = store
            .add_buildset(&NewBuildset {
                reason: "history".into(),
                builderids: vec![busy],
                submitted_at: at,
                ..NewBuildset::default()
            })
            .await?;
        let brid = requests.first().context("a request")?.1;
        store.claim_buildrequest(brid, me, at).await?;
        let (buildid, _) = store
            .add_build(busy, brid, ghost, me, "building", at)
            .await?;
        let results = if i % 7 == 6 {
            Results::Failure
        } else {
            Results::Success
        };
        store.finish_build(buildid, results, me, at + 45).await?;
        store
            .complete_buildrequests(&[brid], results, me, at + 45)
            .await?;
    }
    Ok(())
}

const ROWS: &str = "return [...document.querySelectorAll('.build-list tbody tr')].map((r) => r.dataset.number).filter(Boolean).map(Number)";

#[tokio::test]
async fn a_thousand_builds_are_paged_on_the_builder_page_and_the_waterfall() -> Result<()> {
    let body = r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command="echo hello"))
c['builders'] = [util.BuilderConfig(name="busy", workernames=["ghost"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["busy"])]
"#;
    let sandbox = start(&config(body, &["ghost"])).await?;
    let busy = builderid(&sandbox, "busy").await?;
    seed_history(&sandbox, busy).await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;

    open(&browser, &base, &format!("#/builders/{busy}")).await?;
    // The page is ready once its first page of builds is drawn.
    let first: Vec<i64> = (976..=1000).rev().collect();
    let rows = browser.eval(ROWS, json!([])).await?;
    assert_eq!(rows, json!(first));
    let pager = browser.find(".pager span").await?.text().await?;
    assert_eq!(pager, "1–25 of 1000");
    browser.find(".pager a.next").await?.click().await?;
    browser
        .wait_for(
            "the next page",
            "return document.querySelector('.build-list tbody tr')?.dataset.number === '975'",
        )
        .await?;
    let rows = browser.eval(ROWS, json!([])).await?;
    assert_eq!(rows, json!((951..=975).rev().collect::<Vec<i64>>()));

    // The page asked for builds, and never without a limit.
    let requests = browser
        .eval(
            "const urls = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => /api\\/v2\\/.*builds(\\?|$)/.test(u));
             return {asked: urls.length, unbounded: urls.filter((u) => !u.includes('limit='))}",
            json!([]),
        )
        .await?;
    assert!(requests["asked"].as_i64() > Some(0), "{requests}");
    assert_eq!(requests["unbounded"], json!([]), "{requests}");

    open(&browser, &base, "#/waterfall").await?;
    let boxes = browser
        .eval(
            "return document.querySelectorAll('.wf-column .build').length",
            json!([]),
        )
        .await?;
    assert_eq!(boxes, json!(100), "the waterfall draws the newest 100");
    let summary = browser
        .find(".waterfall-wrap .pager span")
        .await?
        .text()
        .await?;
    assert_eq!(summary, "100 builds of 1000");

    browser.close().await;
    sandbox.stop().await;
    Ok(())
}
