//! Running git for the poller, and reading its output.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::{Error, Result};

/// How long one git command may run before it is killed and the poll counted as failed.
pub const GIT_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs git commands inside the poller's bare repository.
#[derive(Debug, Clone)]
pub struct Git {
    repo: PathBuf,
    timeout: Duration,
}

impl Git {
    /// Commands run in `repo` (a bare repository, created by [`Git::init_bare`]).
    pub fn new(repo: PathBuf, timeout: Duration) -> Git {
        Git { repo, timeout }
    }

    /// Creates the bare repository unless it exists.
    pub async fn init_bare(&self) -> Result<()> {
        if self.repo.join("HEAD").is_file() {
            return Ok(());
        }
        tokio::fs::create_dir_all(&self.repo)
            .await
            .map_err(|e| Error::io(format!("creating {}", self.repo.display()), e))?;
        self.run(&["init", "--bare", "--quiet"]).await.map(drop)
    }

    /// Runs `git <args>` and returns its standard output. A non-zero exit, or running past the
    /// timeout, is an error carrying git's standard error.
    pub async fn run(&self, args: &[&str]) -> Result<String> {
        let mut command = tokio::process::Command::new("git");
        command
            .args(["-c", "core.quotePath=false"])
            .args(args)
            .current_dir(&self.repo)
            // A poller has no one to answer a password prompt: fail instead of hanging.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let what = format!("git {}", args.join(" "));
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting {what}"), e))?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| Error::Internal(format!("{what} timed out after {:?}", self.timeout)))?
            .map_err(|e| Error::io(format!("running {what}"), e))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(Error::Internal(format!(
                "{what} failed ({}): {}",
                output.status,
                stderr.trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// The heads of `git ls-remote --heads` output, as `(short branch name, sha)`.
pub fn parse_ls_remote_heads(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let (sha, refname) = line.split_once('\t')?;
            let branch = refname.trim().strip_prefix("refs/heads/")?;
            Some((branch.to_owned(), sha.trim().to_owned()))
        })
        .collect()
}

/// `git for-each-ref --format=%(objectname) %(refname)` output, as `(refname, sha)`.
pub fn parse_for_each_ref(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let (sha, refname) = line.split_once(' ')?;
            Some((refname.trim().to_owned(), sha.to_owned()))
        })
        .collect()
}

/// The `--format` that [`parse_commit`] reads: author, committer, commit time and message,
/// separated by NUL bytes, which no name or message contains.
pub const COMMIT_FORMAT: &str = "%aN <%aE>%x00%cN <%cE>%x00%ct%x00%B";

/// One commit's details, as a change needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// `Name <email>` of the author.
    pub author: String,
    /// `Name <email>` of the committer.
    pub committer: String,
    /// Commit time, epoch seconds.
    pub timestamp: i64,
    /// The full message as written, without surrounding blank lines.
    pub comments: String,
}

/// Reads `git log -1 --format=COMMIT_FORMAT` output.
pub fn parse_commit(output: &str) -> Result<CommitInfo> {
    let mut fields = output.splitn(4, '\0');
    let mut next = |what: &str| {
        fields
            .next()
            .ok_or_else(|| Error::Internal(format!("git log output lacks the {what}: {output:?}")))
    };
    let author = next("author")?.trim().to_owned();
    let committer = next("committer")?.trim().to_owned();
    let timestamp = next("commit time")?;
    let timestamp = timestamp
        .trim()
        .parse()
        .map_err(|_| Error::Internal(format!("git log gave a bad commit time {timestamp:?}")))?;
    let comments = next("message")?.trim().to_owned();
    Ok(CommitInfo {
        author,
        committer,
        timestamp,
        comments,
    })
}

/// Reads `git log -1 -z --name-only --format=` output: NUL-separated paths.
pub fn parse_files(output: &str) -> Vec<String> {
    output
        .split('\0')
        .map(|path| path.trim_matches('\n'))
        .filter(|path| !path.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The private ref namespace for one remote: a stable hash keeps any URL a valid ref name and
/// keeps two pollers of different repositories apart in one work directory.
pub fn private_ref_prefix(repourl: &str) -> String {
    // FNV-1a: tiny and stable across Rust releases, unlike the std hasher.
    let hash = repourl
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("refs/buildbot/{hash:016x}/heads/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_heads_give_short_branch_names() {
        let output = "1111\trefs/heads/main\n2222\trefs/heads/feature/x\n3333\trefs/tags/v1\n";
        assert_eq!(
            parse_ls_remote_heads(output),
            vec![
                ("main".into(), "1111".into()),
                ("feature/x".into(), "2222".into())
            ]
        );
    }

    #[test]
    fn for_each_ref_lines_give_ref_and_sha() {
        let output = "aaaa refs/buildbot/x/heads/main\nbbbb refs/buildbot/x/heads/dev\n";
        assert_eq!(
            parse_for_each_ref(output),
            vec![
                ("refs/buildbot/x/heads/main".into(), "aaaa".into()),
                ("refs/buildbot/x/heads/dev".into(), "bbbb".into())
            ]
        );
    }

    #[test]
    fn a_commit_is_read_with_its_whole_message() {
        let output = "A U Thor <a@example.com>\0C O Mitter <c@example.com>\x001700000000\0fix: it\n\nbody line\n\n";
        let commit = parse_commit(output).ok();
        assert_eq!(
            commit,
            Some(CommitInfo {
                author: "A U Thor <a@example.com>".into(),
                committer: "C O Mitter <c@example.com>".into(),
                timestamp: 1_700_000_000,
                comments: "fix: it\n\nbody line".into(),
            })
        );
    }

    #[test]
    fn truncated_commit_output_is_an_error() {
        assert!(parse_commit("A <a@b>\0C <c@d>").is_err());
        assert!(parse_commit("A <a@b>\0C <c@d>\0soon\0msg").is_err());
    }

    #[test]
    fn file_lists_keep_spaces_and_unicode() {
        assert_eq!(
            parse_files("d/\u{fc}.txt\0sp ace.txt\0"),
            vec!["d/\u{fc}.txt", "sp ace.txt"]
        );
        assert!(parse_files("").is_empty());
    }

    #[test]
    fn private_refs_differ_per_repository_and_are_stable() {
        let a = private_ref_prefix("https://example.com/a.git");
        assert_eq!(a, private_ref_prefix("https://example.com/a.git"));
        assert_ne!(a, private_ref_prefix("https://example.com/b.git"));
        assert!(a.starts_with("refs/buildbot/") && a.ends_with("/heads/"));
    }
}
