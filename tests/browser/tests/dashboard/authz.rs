//! Logging in through the account corner, and a Force the authz rules refuse.

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use serde_json::json;

use crate::{builderid, config, dashboard, open, start};

/// Only alice (role `admins`) may force.
const GUARDED: &str = r#"
c['www']['auth'] = util.UserPasswordAuth({"alice": "wonderland", "bob": "builder"})
c['www']['authz'] = util.Authz(
    allowRules=[util.ForceBuildEndpointMatcher(role="admins")],
    roleMatchers=[util.RolesFromUsername(roles=["admins"], usernames=["alice"])],
)
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command="echo hello"))
c['builders'] = [util.BuilderConfig(name="guarded", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["guarded"])]
"#;

async fn log_in(browser: &Browser, user: &str, password: &str) -> Result<()> {
    browser
        .find("#login input[name='username']")
        .await?
        .type_text(user)
        .await?;
    browser
        .find("#login input[name='password']")
        .await?
        .type_text(password)
        .await?;
    browser.find("#login button").await?.click().await?;
    browser
        .wait_for(
            &format!("{user} to be logged in"),
            &format!("return document.querySelector('#account .user')?.textContent === {user:?}"),
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_user_without_the_role_is_refused_the_force_and_an_admin_is_not() -> Result<()> {
    let sandbox = start(&config(GUARDED, &[])).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let guarded = builderid(&sandbox, "guarded").await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;
    open(&browser, &base, &format!("#/builders/{guarded}")).await?;

    log_in(&browser, "bob", "builder").await?;
    browser.find(".force-button").await?.click().await?;
    browser.find("dialog button.start").await?.click().await?;
    let refusal = browser
        .wait_for(
            "the refusal",
            "const e = document.querySelector('dialog .force-error'); return e && !e.hidden && e.textContent",
        )
        .await?;
    let refusal = refusal.as_str().unwrap_or_default().to_owned();
    assert!(refusal.starts_with("Refused: "), "{refusal}");
    assert!(
        refusal.contains("admins"),
        "the refusal names the role: {refusal}"
    );
    let requests = sandbox.get("/buildrequests").await?;
    assert_eq!(requests["meta"]["total"], json!(0), "nothing was forced");
    browser.find("dialog button.cancel").await?.click().await?;

    browser.find("#logout").await?.click().await?;
    log_in(&browser, "alice", "wonderland").await?;
    browser.find(".force-button").await?.click().await?;
    browser.find("dialog button.start").await?.click().await?;
    browser
        .wait_for(
            "alice's build page",
            &format!("return location.hash === '#/builders/{guarded}/builds/1'"),
        )
        .await?;

    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
