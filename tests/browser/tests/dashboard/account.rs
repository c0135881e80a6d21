//! The account corner with the default NoAuth: no login form, nothing to log out of.

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use serde_json::json;

use crate::{config, dashboard, open, start};

#[tokio::test]
async fn with_no_auth_there_is_no_login_form_and_the_socket_is_live() -> Result<()> {
    let sandbox = start(&config("", &[])).await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;
    open(&browser, &base, "#/").await?;
    let account = browser
        .eval(
            "return document.getElementById('account').innerHTML",
            json!([]),
        )
        .await?;
    assert_eq!(account, json!(""));
    browser
        .wait_for(
            "the live indicator",
            "return document.getElementById('live').textContent === 'live'",
        )
        .await?;
    assert_eq!(
        browser.eval("return document.title", json!([])).await?,
        json!("Ferrobot CI")
    );
    browser.close().await;
    sandbox.stop().await;
    Ok(())
}
