//! `reporters.GitLabStatusPush`: a commit status per built commit, through GitLab's
//! `POST /api/v4/projects/{url-encoded path}/statuses/{sha}`.

use ferrobot_config::CommitStatusPushConfig;
use ferrobot_model::Results;
use serde_json::json;

use super::github::{
    commits_to_report, context, description, repository_of, repository_path, results_so_far,
};
use super::http::{BuildState, Push, StatusPush};

/// `reporters.GitLabStatusPush`.
#[derive(Debug, Clone)]
pub struct GitLabStatusPush {
    config: CommitStatusPushConfig,
}

impl GitLabStatusPush {
    /// A reporter for `config`.
    pub fn new(config: CommitStatusPushConfig) -> Self {
        GitLabStatusPush { config }
    }
}

/// GitLab's state for a build: `running` while it runs, then by its result as Buildbot maps it.
pub fn commit_state(results: Option<Results>) -> &'static str {
    match results {
        None => "running",
        Some(Results::Retry) => "pending",
        Some(Results::Success | Results::Warnings | Results::Skipped) => "success",
        Some(Results::Failure | Results::Exception) => "failed",
        Some(Results::Cancelled) => "canceled",
    }
}

/// `path` with every byte but RFC 3986's unreserved ones percent-encoded (`/` too), as
/// GitLab wants a project path in one URL segment.
pub fn encode_segment(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

impl StatusPush for GitLabStatusPush {
    fn name(&self) -> &'static str {
        "GitLabStatusPush"
    }

    fn pushes(&self, state: &BuildState) -> Vec<Push> {
        let results = results_so_far(state);
        commits_to_report(state, "GitLab")
            .into_iter()
            .filter_map(|commit| {
                let path = repository_of(&commit, "GitLab", repository_path)?;
                let mut body = json!({
                    "state": commit_state(results),
                    "target_url": state.url,
                    "name": context(&self.config, state),
                    "description": description(state),
                });
                if let Some(branch) = commit.branch {
                    body["ref"] = json!(branch);
                }
                Some(Push {
                    url: format!(
                        "{}/api/v4/projects/{}/statuses/{}",
                        self.config.base_url,
                        encode_segment(&path),
                        commit.sha
                    ),
                    body,
                    headers: vec![(
                        "PRIVATE-TOKEN".into(),
                        self.config.token.expose().to_owned(),
                    )],
                    basic_auth: None,
                })
            })
            .collect()
    }

    fn debug(&self) -> bool {
        self.config.debug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_are_one_encoded_segment() {
        assert_eq!(encode_segment("group/sub/widgets"), "group%2Fsub%2Fwidgets");
    }

    #[test]
    fn states_follow_buildbots_mapping() {
        assert_eq!(commit_state(None), "running");
        assert_eq!(commit_state(Some(Results::Success)), "success");
        assert_eq!(commit_state(Some(Results::Failure)), "failed");
        assert_eq!(commit_state(Some(Results::Exception)), "failed");
        assert_eq!(commit_state(Some(Results::Cancelled)), "canceled");
    }
}
