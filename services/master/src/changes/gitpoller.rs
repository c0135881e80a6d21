//! GitPoller (reference/buildbot.md §8.2): polls a remote repository into a private bare
//! repository and turns each new commit on a followed branch into a change.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_config::{BranchSelection, GitPollerConfig};
use ferrobot_store::NewChange;
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::git::{self, COMMIT_FORMAT, GIT_TIMEOUT, Git};
use crate::context::Context;
use crate::{Error, Result};

/// The `object_state` class of pollers' state, as Buildbot names it.
pub const STATE_CLASS: &str = "GitPoller";
/// The `object_state` key of the last revision seen per branch: `{branch: sha}`.
pub const STATE_KEY: &str = "lastRev";

/// Polls until `cancel` fires: at launch when `poll_at_launch`, then every `poll_interval_s`.
/// A failed poll is logged with git's error and tried again at the next interval.
pub async fn run_git_poller(ctx: Arc<Context>, config: GitPollerConfig, cancel: CancellationToken) {
    run_polls(ctx, config, cancel, |_| {}).await;
}

/// [`run_git_poller`], telling `on_poll` each poll's outcome (the number of changes added).
pub(crate) async fn run_polls(
    ctx: Arc<Context>,
    config: GitPollerConfig,
    cancel: CancellationToken,
    mut on_poll: impl FnMut(&Result<usize>),
) {
    // A zero interval would make tokio's interval panic; Buildbot refuses it in config anyway.
    let period = Duration::from_secs(config.poll_interval_s.max(1));
    let first = if config.poll_at_launch {
        Instant::now()
    } else {
        Instant::now() + period
    };
    let mut ticks = tokio::time::interval_at(first, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let poller = GitPoller::new(ctx, config);
    tracing::info!(poller = %poller.config.name, repourl = %poller.config.repourl, "git poller started");
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticks.tick() => {}
        }
        // Dropping a poll mid-way kills its git child (kill_on_drop); state stays consistent
        // because lastRev is saved after each change.
        let outcome = tokio::select! {
            _ = cancel.cancelled() => break,
            outcome = poller.poll() => outcome,
        };
        match &outcome {
            Ok(changes) => tracing::debug!(poller = %poller.config.name, changes, "git poll done"),
            Err(error) => tracing::warn!(
                poller = %poller.config.name,
                repourl = %poller.config.repourl,
                %error,
                "git poll failed; retrying at the next interval"
            ),
        }
        on_poll(&outcome);
    }
    tracing::debug!(poller = %poller.config.name, "git poller stopped");
}

/// One configured GitPoller.
pub(crate) struct GitPoller {
    ctx: Arc<Context>,
    config: GitPollerConfig,
    git: Git,
    ref_prefix: String,
}

impl GitPoller {
    /// A poller working in `<master dir>/<workdir>`.
    pub(crate) fn new(ctx: Arc<Context>, config: GitPollerConfig) -> GitPoller {
        let git = Git::new(ctx.basedir.join(&config.workdir), GIT_TIMEOUT);
        let ref_prefix = git::private_ref_prefix(&config.repourl);
        GitPoller {
            ctx,
            config,
            git,
            ref_prefix,
        }
    }

    /// Fetches the followed branches and adds a change per new commit, oldest first per
    /// branch. The very first poll only records where the branches are. Returns how many
    /// changes were added.
    pub(crate) async fn poll(&self) -> Result<usize> {
        self.git.init_bare().await?;
        let current = self.fetch().await?;
        let name = &self.config.name;
        let stored = self
            .ctx
            .store
            .get_state(name, STATE_CLASS, STATE_KEY)
            .await?;
        let last_rev = decode_last_rev(stored.as_ref());
        if last_rev.is_empty() {
            // Buildbot's rule: a poller that has never run does not replay the history.
            if !current.is_empty() {
                self.save(&current).await?;
                tracing::info!(poller = %name, branches = current.len(), "git poller initialised");
            }
            return Ok(0);
        }
        let exclude: Vec<String> = last_rev.values().map(|sha| format!("^{sha}")).collect();
        // Branches deleted upstream are forgotten; the rest keep their revision until polled.
        let mut saved: BTreeMap<String, String> = last_rev
            .iter()
            .filter(|(branch, _)| current.contains_key(*branch))
            .map(clone_pair)
            .collect();
        let mut added = 0;
        for (branch, sha) in &current {
            if last_rev.get(branch) == Some(sha) {
                continue;
            }
            for revision in self.new_commits(sha, &exclude).await? {
                self.add_change(branch, &revision).await?;
                added += 1;
                // Saved per change: a crash re-polls from here and never adds a change twice.
                saved.insert(branch.clone(), revision);
                self.save(&saved).await?;
            }
            saved.insert(branch.clone(), sha.clone());
            self.save(&saved).await?;
        }
        Ok(added)
    }

    /// Fetches the followed branches that exist upstream into the private refs and returns
    /// `{branch: sha}` as fetched.
    async fn fetch(&self) -> Result<BTreeMap<String, String>> {
        let repourl = self.config.repourl.as_str();
        let remote =
            git::parse_ls_remote_heads(&self.git.run(&["ls-remote", "--heads", repourl]).await?);
        let branches: Vec<String> = match &self.config.branches {
            BranchSelection::All => remote.into_iter().map(|(branch, _)| branch).collect(),
            BranchSelection::Named(wanted) => wanted
                .iter()
                .map(|b| b.strip_prefix("refs/heads/").unwrap_or(b))
                .filter(|b| remote.iter().any(|(branch, _)| branch == b))
                .map(str::to_owned)
                .collect(),
        };
        if branches.is_empty() {
            tracing::debug!(poller = %self.config.name, "no followed branch exists upstream yet");
            return Ok(BTreeMap::new());
        }
        let refspecs: Vec<String> = branches
            .iter()
            .map(|b| format!("+refs/heads/{b}:{}{b}", self.ref_prefix))
            .collect();
        // No FETCH_HEAD: pollers sharing a work directory would overwrite each other's.
        let mut args = vec![
            "fetch",
            "--quiet",
            "--prune",
            "--no-tags",
            "--no-write-fetch-head",
            repourl,
        ];
        args.extend(refspecs.iter().map(String::as_str));
        self.git.run(&args).await?;
        let format = "--format=%(objectname) %(refname)";
        let refs = self
            .git
            .run(&["for-each-ref", format, &self.ref_prefix])
            .await?;
        Ok(git::parse_for_each_ref(&refs)
            .into_iter()
            .filter_map(|(refname, sha)| {
                let branch = refname.strip_prefix(&self.ref_prefix)?;
                branches
                    .iter()
                    .any(|b| b == branch)
                    .then(|| (branch.to_owned(), sha))
            })
            .collect())
    }

    /// Commits reachable from `sha` along first parents and from no known revision, oldest first.
    async fn new_commits(&self, sha: &str, exclude: &[String]) -> Result<Vec<String>> {
        let mut args = vec![
            "log",
            "--first-parent",
            "--reverse",
            "--ignore-missing",
            "--format=%H",
            sha,
        ];
        args.extend(exclude.iter().map(String::as_str));
        args.push("--");
        let output = self.git.run(&args).await?;
        Ok(output
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    async fn add_change(&self, branch: &str, revision: &str) -> Result<()> {
        let format = format!("--format={COMMIT_FORMAT}");
        let info = git::parse_commit(
            &self
                .git
                .run(&["log", "-1", &format, revision, "--"])
                .await?,
        )?;
        let files_args = [
            "log",
            "-1",
            "-z",
            "--name-only",
            "--format=",
            "-m",
            "--first-parent",
            revision,
            "--",
        ];
        let files = git::parse_files(&self.git.run(&files_args).await?);
        let change = self
            .ctx
            .store
            .add_change(&NewChange {
                author: info.author,
                committer: Some(info.committer),
                files,
                comments: info.comments,
                revision: Some(revision.to_owned()),
                when_timestamp: info.timestamp,
                branch: Some(branch.to_owned()),
                category: self.config.category.clone(),
                repository: self.config.repourl.clone(),
                project: self.config.project.clone(),
                codebase: self.config.codebase.clone(),
                ..Default::default()
            })
            .await?;
        tracing::info!(poller = %self.config.name, changeid = change.changeid, branch, revision, "change added");
        self.ctx.events.change(&change).await;
        Ok(())
    }

    async fn save(&self, last_rev: &BTreeMap<String, String>) -> Result<()> {
        let value = serde_json::to_value(last_rev).map_err(|e| Error::Internal(e.to_string()))?;
        self.ctx
            .store
            .set_state(&self.config.name, STATE_CLASS, STATE_KEY, &value)
            .await?;
        Ok(())
    }
}

/// `lastRev` as stored; anything unreadable counts as no state, as on a first run.
fn decode_last_rev(stored: Option<&Value>) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = stored else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(branch, sha)| Some((branch.clone(), sha.as_str()?.to_owned())))
        .collect()
}

fn clone_pair((a, b): (&String, &String)) -> (String, String) {
    (a.clone(), b.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_rev_is_read_from_its_json_object() {
        let stored = serde_json::json!({"main": "aaaa", "dev": "bbbb", "bad": 3});
        let last_rev = decode_last_rev(Some(&stored));
        assert_eq!(last_rev.len(), 2);
        assert_eq!(last_rev["main"], "aaaa");
        assert!(decode_last_rev(None).is_empty());
        assert!(decode_last_rev(Some(&serde_json::json!([1, 2]))).is_empty());
    }
}
