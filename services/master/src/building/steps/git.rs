//! `steps.Git`: a checkout on the worker, run as git commands there, that sets `got_revision`.

use ferrobot_config::{Command, GitMethod, GitMode, GitStepConfig};
use ferrobot_model::Results;
use ferrobot_protocol::v1::{PathCommand, PathsCommand, start_command};

use super::{
    ShellOutcome, StepContext, result_suffix, run_remote, run_remote_shell, shell_command,
};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// Checks out the build's branch and revision (or the step's defaults) into the workdir.
pub async fn run(sc: &mut StepContext<'_>, config: &GitStepConfig) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let outcome = checkout(sc, &mut log, config).await?;
    let results = match outcome {
        Ok(revision) => {
            sc.set_property("got_revision", serde_json::Value::String(revision), "Git")
                .await?;
            Results::Success
        }
        Err(failed) => failed.results(),
    };
    log.finish().await?;
    Ok((results, format!("update{}", result_suffix(results))))
}

fn property<'a>(sc: &'a StepContext<'_>, name: &str) -> Option<&'a str> {
    sc.properties
        .get(name)
        .and_then(|(value, _)| value.as_str())
        .filter(|text| !text.is_empty())
}

/// The sequence of git commands; Ok is the checked-out revision, Err the outcome that failed.
async fn checkout(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    config: &GitStepConfig,
) -> Result<Result<String, ShellOutcome>> {
    let workdir = sc.workdir(config.common.workdir.as_deref());
    let branch = property(sc, "branch").unwrap_or(&config.branch).to_owned();
    let revision = property(sc, "revision").map(str::to_owned);
    let run = |argv: Vec<String>| {
        shell_command(
            workdir.clone(),
            &Command::Argv(argv),
            &Default::default(),
            config.timeout_s,
            None,
        )
    };
    let git = |args: &[&str]| {
        run(std::iter::once("git")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect())
    };

    if config.mode == GitMode::Full && config.method == GitMethod::Clobber {
        let rmdir = start_command::Command::Rmdir(PathsCommand {
            paths: vec![workdir.clone()],
        });
        let outcome = run_remote(sc, log, rmdir, false).await?;
        if outcome.results() != Results::Success {
            return Ok(Err(outcome));
        }
    }
    let stat = start_command::Command::Stat(PathCommand {
        path: format!("{workdir}/.git"),
    });
    let probe = run_remote(sc, log, stat, false).await?;
    if probe.lost || probe.interrupted {
        return Ok(Err(probe));
    }
    let mut commands: Vec<Vec<String>> = Vec::new();
    let owned = |args: &[&str]| {
        args.iter()
            .map(|a| (*a).to_owned())
            .collect::<Vec<String>>()
    };
    if probe.rc == Some(0) {
        match (config.mode, config.method) {
            (GitMode::Full, GitMethod::Fresh | GitMethod::Copy) => {
                commands.push(owned(&["clean", "-f", "-f", "-d", "-x"]))
            }
            (GitMode::Full, GitMethod::Clean) => commands.push(owned(&["clean", "-f", "-f", "-d"])),
            _ => {}
        }
        commands.push(owned(&["fetch", "-f", "-t", &config.repourl, &branch]));
        commands.push(owned(&[
            "reset",
            "--hard",
            revision.as_deref().unwrap_or("FETCH_HEAD"),
            "--",
        ]));
    } else {
        let mut clone = owned(&["clone"]);
        if branch != "HEAD" {
            clone.extend(owned(&["--branch", &branch]));
        }
        clone.extend(owned(&[&config.repourl, "."]));
        commands.push(clone);
        if let Some(revision) = &revision {
            commands.push(owned(&["reset", "--hard", revision, "--"]));
        }
    }
    if branch != "HEAD" {
        commands.push(owned(&["checkout", "-B", &branch]));
    }
    for args in commands {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let outcome = run_remote_shell(sc, log, git(&refs), false).await?;
        if outcome.results() != Results::Success {
            return Ok(Err(outcome));
        }
    }
    let outcome = run_remote_shell(sc, log, git(&["rev-parse", "HEAD"]), true).await?;
    if outcome.results() != Results::Success {
        return Ok(Err(outcome));
    }
    Ok(Ok(outcome.stdout.trim().to_owned()))
}
