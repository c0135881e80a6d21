//! Forcing from the builder page, the log following live, stopping a build.

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use serde_json::json;

use crate::{builderid, config, dashboard, open, start};

/// A builder whose step prints `starting`, waits for `flag` to exist, then prints a green
/// `live-marker` and keeps running.
fn waiting_builder(flag: &std::path::Path) -> String {
    let command = format!(
        "echo starting; while [ ! -e {flag} ]; do sleep 0.1; done; printf '\\033[32mlive-marker\\033[0m\\n'; sleep 120",
        flag = flag.display()
    );
    config(
        &format!(
            r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="wait-for-flag", command={command:?}))
c['builders'] = [util.BuilderConfig(name="slow", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["slow"])]
"#
        ),
        &[],
    )
}

#[tokio::test]
async fn forcing_from_the_builder_page_shows_the_build_and_its_log_lines_as_they_come() -> Result<()>
{
    let scratch = tempfile::tempdir()?;
    let flag = scratch.path().join("go");
    let sandbox = start(&waiting_builder(&flag)).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let slow = builderid(&sandbox, "slow").await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;

    open(&browser, &base, &format!("#/builders/{slow}")).await?;
    browser.find(".force-button").await?.click().await?;
    // The dialog is generated from the ForceScheduler's parameters.
    let dialog = browser.find("dialog.force-dialog").await?.text().await?;
    for label in ["Your name:", "reason", "priority", "Branch:", "Revision:"] {
        assert!(dialog.contains(label), "dialog lacks {label}: {dialog}");
    }
    browser
        .find("dialog input[data-name='username']")
        .await?
        .type_text("Browser Test <browser@example.invalid>")
        .await?;
    browser.find("dialog button.start").await?.click().await?;

    // The request's page hands over to the build's page once the build starts.
    browser
        .wait_for(
            "the build page",
            &format!("return location.hash === '#/builders/{slow}/builds/1'"),
        )
        .await?;
    browser
        .wait_for(
            "the first log line",
            "return [...document.querySelectorAll('pre.log')].some((p) => p.textContent.includes('starting'))",
        )
        .await?;
    let marker_now = "return [...document.querySelectorAll('pre.log .line')].some((l) => l.textContent === 'live-marker')";
    assert_eq!(browser.eval(marker_now, json!([])).await?, json!(false));

    // The worker prints the next line only now; the open page must show it without a reload.
    std::fs::write(&flag, "")?;
    browser.wait_for("the live log line", marker_now).await?;
    let colour = browser
        .eval(
            "return [...document.querySelectorAll('pre.log .ansi-fg-2')].map((s) => s.textContent)",
            json!([]),
        )
        .await?;
    assert_eq!(
        colour,
        json!(["live-marker"]),
        "ANSI green becomes a coloured span"
    );
    let build = sandbox.get(&format!("/builders/{slow}/builds/1")).await?;
    assert_eq!(
        build["builds"][0]["complete"],
        json!(false),
        "the line came while the build ran"
    );
    let properties = sandbox
        .get(&format!(
            "/builds/{}/properties",
            build["builds"][0]["buildid"]
        ))
        .await?;
    assert_eq!(
        properties["properties"][0]["owner"][0],
        json!("Browser Test <browser@example.invalid>"),
        "the name typed in the dialog is the owner"
    );

    sandbox
        .stop_build(build["builds"][0]["buildid"].as_i64().unwrap_or_default())
        .await?;
    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_stop_button_cancels_a_running_build() -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let sandbox = start(&waiting_builder(&scratch.path().join("never"))).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let slow = builderid(&sandbox, "slow").await?;
    let brid = sandbox.force("slow").await?;
    sandbox.wait_build_log(brid, "starting").await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;

    open(&browser, &base, &format!("#/builders/{slow}/builds/1")).await?;
    let head = browser
        .find(".build-head .result-bar")
        .await?
        .text()
        .await?;
    assert!(head.contains("running"), "head: {head}");
    browser
        .find(".build-head button.stop")
        .await?
        .click()
        .await?;
    browser
        .wait_for(
            "the build to show cancelled",
            "return document.querySelector('.build-head .result-bar')?.textContent.includes('cancelled')",
        )
        .await?;
    // Once stopped, the page offers a rebuild instead.
    browser.find(".build-head button.rebuild").await?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(6), "CANCELLED: {build}");

    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
