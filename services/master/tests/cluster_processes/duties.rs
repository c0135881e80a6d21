//! Singleton duties across processes: the GitPoller and the scheduler run on one master, and
//! after a `kill -9` of that master another takes them over; each commit still makes exactly one
//! buildset.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{Cluster, all, get, wait_for};

fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .output()
        .expect("git");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn commit(repo: &Path, file: &str) -> String {
    std::fs::write(repo.join(file), file).expect("write");
    git(repo, &["add", file]);
    git(repo, &["commit", "-q", "-m", file]);
    git(repo, &["rev-parse", "HEAD"])
}

/// Whether the poller has recorded where the branches are (its first poll).
fn poller_has_polled(db_url: &str) -> bool {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            use sqlx::Connection as _;
            let mut connection = sqlx::PgConnection::connect(db_url).await.ok()?;
            let found: Option<i64> =
                sqlx::query_scalar("SELECT objectid FROM object_state WHERE name = 'lastRev'")
                    .fetch_optional(&mut connection)
                    .await
                    .ok()?;
            found
        })
        .is_some()
}

/// The name of the master a scheduler or change source is linked to.
fn owner(api: &str, collection: &str) -> Option<String> {
    let items = get(&format!("{api}/{collection}"))?;
    let masterid = items[collection][0]["master"]["masterid"].as_i64()?;
    let masters = get(&format!("{api}/masters"))?;
    masters["masters"]
        .as_array()?
        .iter()
        .find(|m| m["masterid"] == json!(masterid) && m["active"] == json!(true))
        .and_then(|m| m["name"].as_str().map(str::to_owned))
}

/// Waits for the change of `revision` and returns the buildsets made from it.
fn buildsets_of(api: &str, revision: &str) -> Vec<Value> {
    let change = wait_for(&format!("the change of {revision}"), || {
        all(api, "changes", "")
            .into_iter()
            .find(|c| c["revision"] == json!(revision))
    });
    let ssid = change["sourcestamp"]["ssid"].clone();
    let made = || {
        all(api, "buildsets", "")
            .into_iter()
            .filter(|bs| {
                bs["sourcestamps"]
                    .as_array()
                    .is_some_and(|stamps| stamps.iter().any(|s| s["ssid"] == ssid))
            })
            .collect::<Vec<Value>>()
    };
    wait_for(&format!("a buildset for {revision}"), || {
        let sets = made();
        (!sets.is_empty()).then_some(())
    });
    // Every buildset for it is complete once its build is, so a duplicate would show by then.
    wait_for(&format!("the buildsets of {revision} to complete"), || {
        let sets = made();
        sets.iter()
            .all(|bs| bs["complete"] == json!(true))
            .then_some(sets)
    })
}

#[test]
fn a_killed_scheduler_owner_hands_poller_and_scheduler_over_and_commits_build_once() {
    let repos = tempfile::tempdir().expect("tempdir");
    let repo = repos.path().join("project");
    std::fs::create_dir_all(&repo).expect("repo dir");
    git(&repo, &["init", "-q", "-b", "main"]);
    commit(&repo, "first");
    let repo_path = repo.display().to_string();
    let mut cluster = Cluster::new(&format!(
        "c['change_source'] = changes.GitPoller({repo_path:?}, branch='main', pollInterval=1, pollAtLaunch=True)\n\
         c['schedulers'] = [schedulers.SingleBranchScheduler(name='on-main', \
         change_filter=util.ChangeFilter(branch='main'), treeStableTimer=None, builderNames=['b'])]\n\
         f = util.BuildFactory()\n\
         f.addStep(steps.ShellCommand(name='run', command=['true']))\n\
         c['builders'] = [util.BuilderConfig(name='b', workernames=['w0'], factory=f)]\n"
    ));
    cluster.start_master("sched1", "www,scheduler");
    cluster.start_master("sched2", "www,scheduler");
    cluster.start_master("builder1", "builder");
    cluster.wait_until_up();
    cluster.start_worker("w0", 2);
    let apis: Vec<String> = cluster.www_masters().iter().map(|m| m.api()).collect();
    let db_url = cluster.db.url.clone();
    wait_for("the first poll", || {
        poller_has_polled(&db_url).then_some(())
    });

    let second = commit(&repo, "second");
    assert_eq!(buildsets_of(&apis[0], &second).len(), 1, "one buildset");

    let scheduler_owner = wait_for("the scheduler's owner", || owner(&apis[0], "schedulers"));
    let index = cluster
        .masters
        .iter()
        .position(|m| m.name == scheduler_owner)
        .expect("the owner is one of ours");
    let survivor = apis[1 - index].clone();
    cluster.masters[index].process.kill9();
    wait_for("the scheduler to move", || {
        owner(&survivor, "schedulers").filter(|o| *o != scheduler_owner)
    });
    wait_for("the poller to move", || {
        owner(&survivor, "changesources").filter(|o| *o != scheduler_owner)
    });

    let third = commit(&repo, "third");
    assert_eq!(
        buildsets_of(&survivor, &third).len(),
        1,
        "one buildset after the takeover"
    );
    assert_eq!(
        buildsets_of(&survivor, &second).len(),
        1,
        "and still one before"
    );
}
