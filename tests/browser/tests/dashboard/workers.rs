//! The workers page: a connected worker with its master and info, paused and unpaused there.

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use serde_json::json;

use crate::{config, dashboard, open, start};

const STATE: &str =
    "return document.querySelector(\"tr[data-worker='w1'] .state\")?.textContent.trim()";

#[tokio::test]
async fn a_worker_is_paused_and_unpaused_from_the_workers_page() -> Result<()> {
    let sandbox = start(&config("", &[])).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;
    open(&browser, &base, "#/workers").await?;

    let row = browser.find("tr[data-worker='w1']").await?.text().await?;
    assert!(
        row.contains("connected") && row.contains("sandbox"),
        "{row}"
    );
    assert!(row.contains("version: "), "worker info is shown: {row}");
    browser
        .find("tr[data-worker='w1'] button.pause")
        .await?
        .click()
        .await?;
    browser
        .wait_for(
            "w1 to show paused",
            &format!("{STATE}.startsWith('paused')"),
        )
        .await?;
    let paused = sandbox.get("/workers/w1").await?;
    assert_eq!(paused["workers"][0]["paused"], json!(true));
    browser
        .find("tr[data-worker='w1'] button.unpause")
        .await?
        .click()
        .await?;
    browser
        .wait_for(
            "w1 to show connected again",
            &format!("{STATE} === 'connected'"),
        )
        .await?;
    let unpaused = sandbox.get("/workers/w1").await?;
    assert_eq!(unpaused["workers"][0]["paused"], json!(false));

    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
