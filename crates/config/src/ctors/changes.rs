//! `changes.GitPoller`.

use crate::args::{Args, Spec, err};
use crate::types::{BranchSelection, ChangeSourceConfig, GitPollerConfig};
use crate::values::Item;

/// Buildbot's default poll interval, seconds.
const DEFAULT_POLL_INTERVAL_S: u64 = 600;
/// Buildbot's default bare-repository directory, relative to the master directory.
const DEFAULT_WORKDIR: &str = "gitpoller-work";

/// `changes.GitPoller(repourl, branches=None, branch=None, workdir=None, pollInterval=600, ...)`.
pub(crate) static GIT_POLLER: Spec = Spec {
    qualname: "changes.GitPoller",
    params: &[
        "repourl",
        "branches",
        "branch",
        "workdir",
        "pollInterval",
        "pollAtLaunch",
        "project",
        "category",
        "codebase",
        "name",
        "pollinterval",
    ],
    positional: 5,
    unsupported: &[
        "only_tags",
        "buildPushesWithNoCommits",
        "sshPrivateKey",
        "sshHostKey",
        "sshKnownHosts",
        "auth_credentials",
        "git_credentials",
        "fetch_refspec",
        "pollRandomDelayMin",
        "pollRandomDelayMax",
    ],
    ignored: &["gitbin", "usetimestamps", "encoding"],
};

pub(crate) fn git_poller(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    let repourl = a.req_str("repourl")?;
    if repourl.is_empty() {
        return Err(a.invalid("repourl", "must not be empty"));
    }
    let branches = branches(a)?;
    // `pollinterval` is Buildbot's old spelling; both at once is ambiguous.
    let interval_arg = match (a.given("pollInterval"), a.given("pollinterval")) {
        (Some(_), Some(_)) => {
            return Err(err(format!(
                "{}() got both 'pollInterval' and its old spelling 'pollinterval'",
                a.qualname()
            )));
        }
        (None, Some(_)) => "pollinterval",
        _ => "pollInterval",
    };
    let poll_interval_s = match a.seconds(interval_arg)? {
        None => DEFAULT_POLL_INTERVAL_S,
        Some(s) if s > 0.0 => s.ceil() as u64,
        Some(_) => return Err(a.invalid(interval_arg, "must be more than 0 seconds")),
    };
    let name = a
        .str("name")?
        .unwrap_or_else(|| format!("GitPoller:{repourl}"));
    Ok(Item::ChangeSource(ChangeSourceConfig::GitPoller(
        GitPollerConfig {
            branches,
            poll_interval_s,
            poll_at_launch: a.bool("pollAtLaunch", false)?,
            workdir: a
                .str("workdir")?
                .unwrap_or_else(|| DEFAULT_WORKDIR.to_owned()),
            project: a.str("project")?.unwrap_or_default(),
            category: a.str("category")?,
            codebase: a.str("codebase")?.unwrap_or_default(),
            name,
            repourl,
        },
    )))
}

/// `branches=[...]`, `branches=True`, `branch='x'`, or Buildbot's default `['master']`.
fn branches(a: &Args) -> starlark::Result<BranchSelection> {
    let branch = a.str("branch")?;
    let branches = a.given("branches");
    if branch.is_some() && branches.is_some() {
        return Err(err(format!(
            "{}() can't take both 'branch' and 'branches'",
            a.qualname()
        )));
    }
    if let Some(b) = branch {
        return Ok(BranchSelection::Named(vec![short(&b)]));
    }
    match branches {
        None => Ok(BranchSelection::Named(vec!["master".to_owned()])),
        Some(v) => match v.unpack_bool() {
            Some(true) => Ok(BranchSelection::All),
            Some(false) => Ok(BranchSelection::Named(vec!["master".to_owned()])),
            None if v.get_type() == "function" => Err(a.invalid(
                "branches",
                "as a function is not supported yet (give a list of names or True)",
            )),
            None => {
                let names = a.str_list("branches")?;
                if names.is_empty() {
                    Ok(BranchSelection::Named(vec!["master".to_owned()]))
                } else {
                    Ok(BranchSelection::Named(
                        names.iter().map(|n| short(n)).collect(),
                    ))
                }
            }
        },
    }
}

/// `refs/heads/main` → `main`: the poller follows heads by short name.
fn short(branch: &str) -> String {
    branch
        .strip_prefix("refs/heads/")
        .unwrap_or(branch)
        .to_owned()
}
