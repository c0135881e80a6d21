//! GitPoller → SingleBranchScheduler → Git step: each new commit builds exactly once.

use ferrobot_bus::Pattern;
use ferrobot_integration_tests::{Sandbox, commit, git_repo};
use serde_json::json;

#[tokio::test]
async fn each_new_commit_in_a_polled_repository_triggers_exactly_one_build() -> anyhow::Result<()> {
    let repos = tempfile::tempdir()?;
    let repo = repos.path().join("project");
    git_repo(&repo)?;
    let body = format!(
        r#"
c['change_source'] = changes.GitPoller({repo:?}, branch='main', pollInterval=1, pollAtLaunch=True)
c['schedulers'] = [
    schedulers.SingleBranchScheduler(name="on-main", change_filter=util.ChangeFilter(branch='main'),
                                     treeStableTimer=None, builderNames=["checkout"]),
]
f = util.BuildFactory()
f.addStep(steps.Git(repourl={repo:?}, branch='main', mode='incremental'))
f.addStep(steps.ShellCommand(name="show", command=["cat", "second.txt"]))
c['builders'] = [util.BuilderConfig(name="checkout", workernames=["w1"], factory=f)]
"#,
        repo = repo.display().to_string()
    );
    let sandbox = Sandbox::start(&crate::config(&body)).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    // The first poll records the existing commit (its lastRev state) without building it.
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
    assert_eq!(
        sandbox.get("/changes").await?["changes"],
        json!([]),
        "the existing commit is not a change"
    );

    let revision = commit(&repo, "second.txt", "second commit")?;
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
        .wait_until(&Pattern::parse("builds.*.finished", '.'), finished(1))
        .await?;
    let changes = sandbox.get("/changes").await?;
    let changes = changes["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "one change for one commit: {changes:?}");
    assert_eq!(changes[0]["revision"], json!(revision));
    assert_eq!(changes[0]["branch"], json!("main"));
    assert_eq!(changes[0]["comments"], json!("second commit"));
    assert_eq!(
        changes[0]["author"],
        json!("Test Author <author@example.invalid>")
    );
    assert_eq!(changes[0]["files"], json!(["second.txt"]));

    let third = commit(&repo, "third.txt", "third commit")?;
    sandbox
        .wait_until(&Pattern::parse("builds.*.finished", '.'), finished(2))
        .await?;
    let builds = sandbox.get("/builds?property=got_revision").await?;
    let builds = builds["builds"].as_array().expect("builds");
    assert_eq!(builds.len(), 2, "exactly one build per commit: {builds:?}");
    assert!(
        builds.iter().all(|b| b["results"] == json!(0)),
        "{builds:?}"
    );
    assert_eq!(builds[0]["properties"]["got_revision"][0], json!(revision));
    assert_eq!(builds[1]["properties"]["got_revision"][0], json!(third));
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
