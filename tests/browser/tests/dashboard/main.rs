//! The dashboard in headless Chromium against an in-process master and worker: forcing from
//! the builder page with the log following live, stopping a build, the waterfall, the account
//! corner; `screenshots` (ignored) refreshes `docs/images/`.

mod account;
mod authz;
mod force;
mod history;
mod live;
mod screenshots;
mod waterfall;
mod workers;

use anyhow::{Result, anyhow};
use ferrobot_browser_tests::Browser;
use ferrobot_integration_tests::Sandbox;

/// A master.cfg with workers `w1` (password `pw`) plus `extra_workers`, and `body`.
pub fn config(body: &str, extra_workers: &[&str]) -> String {
    let extra: String = extra_workers
        .iter()
        .map(|w| format!(", worker.Worker({w:?}, \"pw\")"))
        .collect();
    format!(
        r#"from buildbot.plugins import *
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker("w1", "pw"){extra}]
c['protocols'] = {{'pb': {{'port': 0}}}}
c['www'] = dict(port=0, plugins=dict())
c['db'] = {{'db_url': "sqlite:///state.sqlite"}}
c['title'] = "Ferrobot CI"
c['buildbotURL'] = "http://localhost/"
{body}
"#
    )
}

/// Starts a sandbox master on `cfg`.
pub async fn start(cfg: &str) -> Result<Sandbox> {
    Sandbox::start(cfg).await
}

/// The dashboard's address on a sandbox master, e.g. `http://127.0.0.1:PORT/`.
pub fn dashboard(sandbox: &Sandbox) -> Result<String> {
    let addr = sandbox
        .master()
        .www_addr
        .ok_or_else(|| anyhow!("the sandbox master serves no web"))?;
    Ok(format!("http://{addr}/"))
}

/// The id of a builder by name.
pub async fn builderid(sandbox: &Sandbox, name: &str) -> Result<i64> {
    let builders = sandbox.get(&format!("/builders/{name}")).await?;
    builders["builders"][0]["builderid"]
        .as_i64()
        .ok_or_else(|| anyhow!("no builder {name}: {builders}"))
}

/// Opens `route` (a hash route such as `#/waterfall`) and waits until its page has rendered.
pub async fn open(browser: &Browser, base: &str, route: &str) -> Result<()> {
    browser.goto(&format!("{base}{route}")).await?;
    browser
        .wait_for(
            &format!("the page {route} to render"),
            "return document.querySelector('#page .view')?.dataset.ready === 'true'",
        )
        .await?;
    Ok(())
}
