//! `reporters.GitHubStatusPush`: a commit status per built commit, through GitHub's
//! `POST /repos/{owner}/{repo}/statuses/{sha}`.

use ferrobot_config::CommitStatusPushConfig;
use ferrobot_model::Results;
use serde_json::json;

use super::http::{BuildState, Commit, Push, StatusPush};

/// `reporters.GitHubStatusPush`.
#[derive(Debug, Clone)]
pub struct GitHubStatusPush {
    config: CommitStatusPushConfig,
}

impl GitHubStatusPush {
    /// A reporter for `config`.
    pub fn new(config: CommitStatusPushConfig) -> Self {
        GitHubStatusPush { config }
    }
}

/// GitHub's state for a build: `pending` while it runs, then by its result as Buildbot maps it.
pub fn commit_state(results: Option<Results>) -> &'static str {
    match results {
        None | Some(Results::Retry) => "pending",
        Some(Results::Success | Results::Warnings | Results::Skipped) => "success",
        Some(Results::Failure) => "failure",
        Some(Results::Exception | Results::Cancelled) => "error",
    }
}

/// The build's result, or None while it runs.
pub fn results_so_far(state: &BuildState) -> Option<Results> {
    state
        .build
        .complete
        .then_some(state.build.results)
        .flatten()
}

/// The commits a commit-status service is told about (none is worth a debug line).
pub fn commits_to_report(state: &BuildState, service: &str) -> Vec<Commit> {
    let commits = state.commits();
    if commits.is_empty() {
        tracing::debug!(
            buildid = state.build.buildid,
            service,
            "no revision to report"
        );
    }
    commits
}

/// Where a commit lives on the service, by `parse` of its repository URL; None (logged) if the
/// URL is not one of the service's.
pub fn repository_of<T>(
    commit: &Commit,
    service: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let parsed = parse(&commit.repository);
    if parsed.is_none() {
        tracing::debug!(repository = %commit.repository, service, "not a repository URL of this service; no status pushed");
    }
    parsed
}

/// Buildbot's descriptions of the two moments.
pub fn description(state: &BuildState) -> &'static str {
    if state.build.complete {
        "Build done."
    } else {
        "Build started."
    }
}

/// The `context` (or the status name): the configured one, else `buildbot/<buildername>`.
pub fn context(config: &CommitStatusPushConfig, state: &BuildState) -> String {
    config
        .context
        .clone()
        .unwrap_or_else(|| format!("buildbot/{}", state.builder.name))
}

impl StatusPush for GitHubStatusPush {
    fn name(&self) -> &'static str {
        "GitHubStatusPush"
    }

    fn pushes(&self, state: &BuildState) -> Vec<Push> {
        let results = results_so_far(state);
        commits_to_report(state, "GitHub")
            .into_iter()
            .filter_map(|commit| {
                let (owner, repo) = repository_of(&commit, "GitHub", owner_and_repo)?;
                Some(Push {
                    url: format!(
                        "{}/repos/{owner}/{repo}/statuses/{}",
                        self.config.base_url, commit.sha
                    ),
                    body: json!({
                        "state": commit_state(results),
                        "target_url": state.url,
                        "description": description(state),
                        "context": context(&self.config, state),
                    }),
                    headers: vec![
                        (
                            "Authorization".into(),
                            format!("token {}", self.config.token.expose()),
                        ),
                        ("Accept".into(), "application/vnd.github+json".into()),
                    ],
                    basic_auth: None,
                })
            })
            .collect()
    }

    fn debug(&self) -> bool {
        self.config.debug
    }
}

/// The path of a repository URL without its host and `.git`:
/// `https://github.com/o/r.git`, `git@github.com:o/r.git` and `ssh://git@host:22/o/r` all
/// give `o/r`; nested groups are kept (`g/sub/r`).
pub fn repository_path(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else {
        // scp-like: [user@]host:path
        url.split_once(':')?.1
    };
    let path = path.trim_start_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    (path.contains('/') && !path.split('/').any(str::is_empty)).then(|| path.to_owned())
}

/// `(owner, repo)`: the last two segments of [`repository_path`].
pub fn owner_and_repo(url: &str) -> Option<(String, String)> {
    let path = repository_path(url)?;
    let (owner_path, repo) = path.rsplit_once('/')?;
    let owner = owner_path.rsplit('/').next()?;
    Some((owner.to_owned(), repo.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_repo_come_from_https_scp_and_ssh_urls() {
        for url in [
            "https://github.com/octo/widgets.git",
            "https://github.com/octo/widgets",
            "git@github.com:octo/widgets.git",
            "ssh://git@github.com:22/octo/widgets.git",
        ] {
            assert_eq!(
                owner_and_repo(url),
                Some(("octo".into(), "widgets".into())),
                "{url}"
            );
        }
        assert_eq!(owner_and_repo("/srv/repos/widgets"), None);
        assert_eq!(
            repository_path("https://gitlab.com/group/sub/widgets.git").as_deref(),
            Some("group/sub/widgets")
        );
    }

    #[test]
    fn states_follow_buildbots_mapping() {
        assert_eq!(commit_state(None), "pending");
        assert_eq!(commit_state(Some(Results::Success)), "success");
        assert_eq!(commit_state(Some(Results::Warnings)), "success");
        assert_eq!(commit_state(Some(Results::Failure)), "failure");
        assert_eq!(commit_state(Some(Results::Exception)), "error");
        assert_eq!(commit_state(Some(Results::Cancelled)), "error");
    }
}
