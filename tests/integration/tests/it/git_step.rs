//! `steps.Git` modes and methods: what survives between two builds in the same workdir.

use ferrobot_integration_tests::{Sandbox, git_repo};
use serde_json::json;

#[tokio::test]
async fn git_modes_keep_or_clean_the_previous_checkout_as_buildbot_does() -> anyhow::Result<()> {
    let repos = tempfile::tempdir()?;
    let repo = repos.path().join("project");
    git_repo(&repo)?;
    let repo = repo.display().to_string();
    // Each build reports whether the untracked file of the previous build is still there, then
    // leaves one behind.
    // The words are assembled at run time so the command echoed in the log header cannot match.
    let probe = "echo junk-$(if [ -e junk ]; then echo kept; else echo gone; fi); touch junk; test -e first.txt";
    let mut body = String::new();
    let modes = [
        ("incremental", "mode='incremental'"),
        ("fresh", "mode='full', method='fresh'"),
        ("clean", "mode='full', method='clean'"),
        ("clobber", "mode='full', method='clobber'"),
    ];
    for (name, args) in modes {
        body.push_str(&format!(
            "f_{name} = util.BuildFactory()\n\
             f_{name}.addStep(steps.Git(repourl={repo:?}, branch='main', {args}))\n\
             f_{name}.addStep(steps.ShellCommand(name='probe', command={probe:?}))\n\
             c.setdefault('builders', []).append(util.BuilderConfig(name={name:?}, workernames=['w1'], factory=f_{name}))\n"
        ));
    }
    body.push_str("c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['incremental', 'fresh', 'clean', 'clobber'])]\n");
    let sandbox = Sandbox::start(&crate::config(&body)).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let head =
        ferrobot_integration_tests::git(std::path::Path::new(&repo), &["rev-parse", "HEAD"])?;
    for (name, _) in modes {
        let first = sandbox
            .wait_request_done(sandbox.force(name).await?)
            .await?;
        assert_eq!(first["results"], json!(0), "{name} first build: {first}");
        let second = sandbox
            .wait_request_done(sandbox.force(name).await?)
            .await?;
        assert_eq!(second["results"], json!(0), "{name} second build: {second}");
        let buildid = second["buildid"].as_i64().expect("buildid");
        let log = sandbox.build_log_text(buildid).await?;
        // `git clean -d -f -f` without -x also removes untracked files; only incremental keeps them.
        let expected = if name == "incremental" {
            "junk-kept"
        } else {
            "junk-gone"
        };
        assert!(
            log.contains(expected),
            "{name}: expected {expected} in {log}"
        );
        let properties = sandbox
            .get(&format!("/builds/{buildid}/properties"))
            .await?;
        assert_eq!(
            properties["properties"][0]["got_revision"][0],
            json!(head),
            "{name}"
        );
    }
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
