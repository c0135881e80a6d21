//! `cargo nextest run -p ferrobot-browser-tests --run-ignored only -E 'test(screenshots)'`
//! refreshes the screenshots in `docs/images/` from a master with real builds: changes polled
//! from a git repository, successes, a failure, a running build and a pending request.

use std::path::{Path, PathBuf};

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use ferrobot_bus::Pattern;
use ferrobot_integration_tests::{Sandbox, commit, git_repo};
use serde_json::json;

use crate::{builderid, config, dashboard, open, start};

fn images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/images")
}

fn setup(repo: &Path, flag: &Path) -> String {
    let repo = repo.display().to_string();
    let flag = flag.display();
    let compile = "printf '\\033[1mcompiling\\033[0m ferrobot v0.1.0\\n'; for m in store bus config master worker; do printf '   \\033[32mCompiling\\033[0m %s\\n' $m; done; echo 'warning: unused variable' >&2; printf '    \\033[32mFinished\\033[0m dev profile\\n'";
    let test = "for t in alpha beta gamma delta; do echo \"test $t ... ok\"; done; echo 'test result: ok. 4 passed'";
    let docs = format!(
        "echo 'building the manual'; if [ -e {flag} ]; then sleep 120; else sleep 6; fi; echo done"
    );
    config(
        &format!(
            r#"
c['change_source'] = changes.GitPoller({repo:?}, branch='main', pollInterval=1, pollAtLaunch=True)
c['schedulers'] = [
    schedulers.SingleBranchScheduler(name="on-main", change_filter=util.ChangeFilter(branch='main'),
                                     treeStableTimer=None, builderNames=["linux", "lint"]),
    schedulers.ForceScheduler(name="force", builderNames=["linux", "lint", "docs", "macos"],
        buttonName="Force build", label="Force a build",
        properties=[
            util.ChoiceStringParameter(name="profile", label="Profile", choices=["dev", "release"], default="dev"),
            util.IntParameter(name="jobs", label="Parallel jobs", default=2),
            util.BooleanParameter(name="clean", label="Clean checkout", default=False),
        ]),
]
linux = util.BuildFactory()
linux.addStep(steps.ShellCommand(name="compile", command={compile:?}))
linux.addStep(steps.ShellCommand(name="test", command={test:?}))
lint = util.BuildFactory()
lint.addStep(steps.ShellCommand(name="clippy", command="echo 'error: this could be simpler' >&2; exit 1"))
docs = util.BuildFactory()
docs.addStep(steps.ShellCommand(name="manual", command={docs:?}))
c['builders'] = [
    util.BuilderConfig(name="linux", workernames=["w1"], factory=linux, tags=["rust", "tier-1"]),
    util.BuilderConfig(name="lint", workernames=["w1"], factory=lint, tags=["rust"]),
    util.BuilderConfig(name="docs", workernames=["w1"], factory=docs, tags=["docs"]),
    util.BuilderConfig(name="macos", workernames=["mac-mini"], factory=linux, tags=["tier-2"]),
]
"#
        ),
        &["mac-mini"],
    )
}

async fn wait_idle(sandbox: &Sandbox, finished: i64) -> Result<()> {
    sandbox
        .wait_until(&Pattern::parse("builds.*.finished", '.'), || async {
            let done = sandbox.get("/builds?complete=true&limit=1").await?;
            Ok(done["meta"]["total"].as_i64() >= Some(finished))
        })
        .await
}

async fn shoot(browser: &Browser, base: &str, route: &str, name: &str) -> Result<()> {
    open(browser, base, route).await?;
    save(browser, name).await
}

async fn save(browser: &Browser, name: &str) -> Result<()> {
    let png = browser.screenshot().await?;
    std::fs::create_dir_all(images())?;
    std::fs::write(images().join(format!("{name}.png")), png)?;
    Ok(())
}

#[tokio::test]
#[ignore = "refreshes docs/images; run by hand"]
async fn screenshots() -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let repo = scratch.path().join("ferrobot");
    let flag = scratch.path().join("slow-docs");
    git_repo(&repo)?;
    let sandbox = start(&setup(&repo, &flag)).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let poller = format!("GitPoller:{}", repo.display());
    let store = sandbox.master().ctx.store.clone();
    sandbox
        .wait_until(&Pattern::parse("changesources.*.*", '.'), || async {
            Ok(store
                .get_state(&poller, "GitPoller", "lastRev")
                .await?
                .is_some())
        })
        .await?;
    let messages = [
        "store: claim build requests in one statement",
        "www: live log over /ws",
        "worker: reconnect with jitter",
    ];
    for (i, message) in messages.iter().enumerate() {
        commit(&repo, &format!("file{i}.txt"), message)?;
        let wanted = i64::try_from(2 * (i + 1))?;
        wait_idle(&sandbox, wanted).await?;
    }
    for branch in ["release-1.0", "release-1.0"] {
        sandbox
            .rpc(
                "/forceschedulers/force",
                "force",
                json!({"builderNames": ["linux"], "branch": branch}),
            )
            .await?;
    }
    sandbox
        .rpc(
            "/forceschedulers/force",
            "force",
            json!({"builderNames": ["docs"]}),
        )
        .await?;
    wait_idle(&sandbox, 9).await?;
    std::fs::write(&flag, "")?;
    let docs = sandbox.force("docs").await?;
    sandbox.force("macos").await?;
    sandbox.wait_build_log(docs, "building the manual").await?;

    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;
    shoot(&browser, &base, "#/", "home").await?;
    let docs_id = builderid(&sandbox, "docs").await?;
    shoot(
        &browser,
        &base,
        &format!("#/builders/{docs_id}/builds/2"),
        "build-running",
    )
    .await?;
    let linux = builderid(&sandbox, "linux").await?;
    open(&browser, &base, &format!("#/builders/{linux}/builds/1")).await?;
    // The compile step (after worker_preparation), whose output is in colour.
    browser
        .find("li.step:nth-child(2) .step-head")
        .await?
        .click()
        .await?;
    browser.find("li.step:nth-child(2) pre.log .line").await?;
    save(&browser, "build").await?;
    let lint = builderid(&sandbox, "lint").await?;
    open(&browser, &base, &format!("#/builders/{lint}/builds/1")).await?;
    browser.find("pre.log .line").await?;
    save(&browser, "build-failed").await?;
    shoot(&browser, &base, &format!("#/builders/{linux}"), "builder").await?;
    browser.find(".force-button").await?.click().await?;
    browser.find("dialog.force-dialog").await?;
    save(&browser, "force").await?;
    for (route, name) in [
        ("#/builders", "builders"),
        ("#/waterfall", "waterfall"),
        ("#/console", "console"),
        ("#/grid", "grid"),
        ("#/workers", "workers"),
        ("#/changes", "changes"),
        ("#/masters", "masters"),
    ] {
        shoot(&browser, &base, route, name).await?;
    }
    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
