//! The waterfall with 50 finished builds on two builders.

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use ferrobot_bus::Pattern;
use serde_json::json;

use crate::{builderid, config, dashboard, open, start};

const BUILDS_PER_BUILDER: usize = 25;

#[tokio::test]
async fn the_waterfall_draws_fifty_builds_in_their_builders_columns() -> Result<()> {
    let cfg = config(
        r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="quick", command="echo done"))
c['builders'] = [
    util.BuilderConfig(name="alpha", workernames=["w1"], factory=f),
    util.BuilderConfig(name="beta", workernames=["w1"], factory=f),
]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["alpha", "beta"])]
"#,
        &[],
    );
    let sandbox = start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    for _ in 0..BUILDS_PER_BUILDER {
        sandbox.force("alpha").await?;
        sandbox.force("beta").await?;
    }
    let total = 2 * BUILDS_PER_BUILDER;
    sandbox
        .wait_until(&Pattern::parse("builds.*.finished", '.'), || async {
            let done = sandbox.get("/builds?complete=true&limit=1").await?;
            Ok(done["meta"]["total"] == json!(total))
        })
        .await?;
    let (alpha, beta) = (
        builderid(&sandbox, "alpha").await?,
        builderid(&sandbox, "beta").await?,
    );
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;

    open(&browser, &base, "#/waterfall").await?;
    browser
        .wait_for(
            "50 build boxes",
            "return document.querySelectorAll('.wf-column .build').length === 50",
        )
        .await?;
    let per_column = browser
        .eval(
            "return [...document.querySelectorAll('.wf-column')].map((c) => [Number(c.dataset.builderid), c.querySelectorAll('.build.r-success').length])",
            json!([]),
        )
        .await?;
    assert_eq!(
        per_column,
        json!([[alpha, BUILDS_PER_BUILDER], [beta, BUILDS_PER_BUILDER]])
    );
    // Newest at the top: in each column, higher build numbers sit higher up.
    let ordered = browser
        .eval(
            "return [...document.querySelectorAll('.wf-column')].every((c) => {
               const tops = [...c.querySelectorAll('.build')].map((b) => [parseInt(b.textContent.slice(1)), b.offsetTop]);
               tops.sort((a, b) => b[0] - a[0]);
               return tops.every((t, i) => i === 0 || tops[i - 1][1] <= t[1]);
             })",
            json!([]),
        )
        .await?;
    assert_eq!(ordered, json!(true));
    // A box leads to its build's page.
    browser
        .find(&format!(".wf-column[data-builderid='{beta}'] .build"))
        .await?
        .click()
        .await?;
    browser
        .wait_for(
            "the build page",
            &format!("return location.hash === '#/builders/{beta}/builds/{BUILDS_PER_BUILDER}'"),
        )
        .await?;

    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
