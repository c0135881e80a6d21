//! GitPoller against real git repositories in a temporary directory.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, ensure};
use ferrobot_config::{BranchSelection, GitPollerConfig, MasterConfig};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::gitpoller::{GitPoller, STATE_CLASS, STATE_KEY, run_polls};
use crate::scheduling::test_support::{TestMaster, WAIT, next_event, subscribe, test_master};

/// Runs git in `dir` with a fixed identity, returning its trimmed output.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Jane Doe")
        .env("GIT_AUTHOR_EMAIL", "jane@example.com")
        .env("GIT_COMMITTER_NAME", "Build Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.com")
        .env("GIT_COMMITTER_DATE", "1700000000 +0000")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()?;
    ensure!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// An upstream repository with one commit on `main`.
fn upstream(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    git(dir, &["init", "--quiet", "--initial-branch=main"])?;
    commit(dir, "initial commit", &[("README", "hello\n")])?;
    Ok(())
}

/// Commits these files with this message; returns the new revision.
fn commit(dir: &Path, message: &str, files: &[(&str, &str)]) -> anyhow::Result<String> {
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    git(dir, &["add", "--all"])?;
    git(dir, &["commit", "--quiet", "-m", message])?;
    git(dir, &["rev-parse", "HEAD"])
}

fn poller_config(repourl: &Path, branches: BranchSelection) -> GitPollerConfig {
    let repourl = repourl.display().to_string();
    GitPollerConfig {
        name: format!("GitPoller:{repourl}"),
        repourl,
        branches,
        poll_interval_s: 1,
        poll_at_launch: true,
        workdir: "gitpoller-work".into(),
        project: "proj".into(),
        category: Some("ci".into()),
        codebase: "".into(),
    }
}

fn main_only() -> BranchSelection {
    BranchSelection::Named(vec!["main".into()])
}

async fn master() -> anyhow::Result<TestMaster> {
    test_master(MasterConfig::default()).await
}

#[tokio::test]
async fn the_first_poll_records_the_branches_and_adds_no_change() -> anyhow::Result<()> {
    let master = master().await?;
    let repo = master.dir.path().join("upstream");
    upstream(&repo)?;
    let config = poller_config(&repo, main_only());
    let poller = GitPoller::new(master.ctx.clone(), config.clone());

    assert_eq!(poller.poll().await?, 0);
    assert!(master.ctx.store.changes(None).await?.is_empty());
    let state = master
        .ctx
        .store
        .get_state(&config.name, STATE_CLASS, STATE_KEY)
        .await?;
    assert_eq!(
        state,
        Some(json!({ "main": git(&repo, &["rev-parse", "HEAD"])? }))
    );
    Ok(())
}

#[tokio::test]
async fn one_new_commit_becomes_one_change_with_its_details() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    let repo = master.dir.path().join("upstream");
    upstream(&repo)?;
    let config = poller_config(&repo, main_only());
    let poller = GitPoller::new(ctx.clone(), config.clone());
    poller.poll().await?;

    let files = [
        ("src/lib.rs", "fn main() {}\n"),
        ("docs/read me.md", "words\n"),
    ];
    let revision = commit(&repo, "Add the library\n\nIt does things.", &files)?;
    let mut events = subscribe(ctx, "changes.*.new").await?;
    assert_eq!(poller.poll().await?, 1);

    let changes = ctx.store.changes(None).await?;
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!(change.author, "Jane Doe <jane@example.com>");
    assert_eq!(
        change.committer.as_deref(),
        Some("Build Bot <bot@example.com>")
    );
    assert_eq!(change.comments, "Add the library\n\nIt does things.");
    let mut stored_files = change.files.clone();
    stored_files.sort();
    assert_eq!(stored_files, vec!["docs/read me.md", "src/lib.rs"]);
    assert_eq!(change.revision.as_deref(), Some(revision.as_str()));
    assert_eq!(change.branch.as_deref(), Some("main"));
    assert_eq!(change.when_timestamp, 1_700_000_000);
    assert_eq!(change.repository, config.repourl);
    assert_eq!(
        (change.project.as_str(), change.category.as_deref()),
        ("proj", Some("ci"))
    );
    let event = next_event(&mut events).await?;
    assert_eq!(
        event.topic.0,
        ["changes", &change.changeid.to_string(), "new"]
    );

    assert_eq!(poller.poll().await?, 0, "an unchanged branch adds nothing");
    Ok(())
}

#[tokio::test]
async fn two_new_commits_become_two_changes_oldest_first() -> anyhow::Result<()> {
    let master = master().await?;
    let repo = master.dir.path().join("upstream");
    upstream(&repo)?;
    let poller = GitPoller::new(master.ctx.clone(), poller_config(&repo, main_only()));
    poller.poll().await?;

    let older = commit(&repo, "first", &[("a", "1\n")])?;
    let newer = commit(&repo, "second", &[("b", "2\n")])?;
    assert_eq!(poller.poll().await?, 2);
    let mut changes = master.ctx.store.changes(None).await?;
    changes.sort_by_key(|c| c.changeid);
    let revisions: Vec<_> = changes
        .iter()
        .map(|c| c.revision.clone().unwrap_or_default())
        .collect();
    assert_eq!(revisions, vec![older, newer]);
    assert_eq!(changes[0].files, vec!["a"]);
    Ok(())
}

#[tokio::test]
async fn a_new_branch_brings_only_its_own_commits() -> anyhow::Result<()> {
    let master = master().await?;
    let repo = master.dir.path().join("upstream");
    upstream(&repo)?;
    let poller = GitPoller::new(
        master.ctx.clone(),
        poller_config(&repo, BranchSelection::All),
    );
    poller.poll().await?;

    git(&repo, &["checkout", "--quiet", "-b", "feature/x"])?;
    let revision = commit(&repo, "feature work", &[("f", "x\n")])?;
    assert_eq!(poller.poll().await?, 1);
    let changes = master.ctx.store.changes(None).await?;
    assert_eq!(changes[0].revision.as_deref(), Some(revision.as_str()));
    assert_eq!(changes[0].branch.as_deref(), Some("feature/x"));
    Ok(())
}

#[tokio::test]
async fn an_unreachable_repository_is_logged_and_polled_again() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = master.ctx.clone();
    let repo = master.dir.path().join("not-yet-there");
    let (outcomes_tx, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    tokio::spawn(run_polls(
        ctx.clone(),
        poller_config(&repo, main_only()),
        cancel,
        move |outcome| {
            let _ = outcomes_tx.send(outcome.as_ref().copied().map_err(|e| e.to_string()));
        },
    ));
    let mut next_outcome = async || {
        tokio::time::timeout(WAIT, outcomes.recv())
            .await
            .context("no poll in time")?
            .context("poller gone")
    };

    let failure = next_outcome().await?;
    let error = failure
        .err()
        .context("polling a missing repository must fail")?;
    assert!(error.contains("not-yet-there"), "{error}");

    // Built aside and moved in whole, so no poll sees a repository without its commit.
    let staging = master.dir.path().join("staging");
    upstream(&staging)?;
    std::fs::rename(&staging, &repo)?;
    // Polls go on; the first that reaches the repository records it.
    while next_outcome().await?.is_err() {}
    let revision = commit(&repo, "after the outage", &[("c", "3\n")])?;
    loop {
        match next_outcome().await? {
            Ok(0) => continue,
            Ok(added) => {
                assert_eq!(added, 1);
                break;
            }
            Err(error) => anyhow::bail!("the repository exists now but polling failed: {error}"),
        }
    }
    let changes = ctx.store.changes(None).await?;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].revision.as_deref(), Some(revision.as_str()));
    Ok(())
}
