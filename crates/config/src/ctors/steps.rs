//! `steps.ShellCommand` and `steps.Git`, with the parameters every Buildbot step shares.

use std::collections::BTreeMap;

use starlark::values::Value;
use starlark::values::dict::DictRef;

use crate::args::{Args, Spec, number, seq, type_name};
use crate::types::{
    Command, CommonStepConfig, GitMethod, GitMode, GitStepConfig, ShellCommandConfig, StepConfig,
};
use crate::values::Item;

/// Buildbot's default seconds without output before a command is killed.
const DEFAULT_TIMEOUT_S: f64 = 1200.0;
/// Step names are stored in a 50-character column in Buildbot.
const MAX_STEP_NAME: usize = 50;

/// `steps.ShellCommand(command=..., ...)`: keyword arguments only, as in Buildbot.
pub(crate) static SHELL_COMMAND: Spec = Spec {
    qualname: "steps.ShellCommand",
    params: &[
        "command",
        "env",
        "timeout",
        "maxTime",
        "want_stdout",
        "want_stderr",
        "name",
        "workdir",
        "haltOnFailure",
        "flunkOnFailure",
        "flunkOnWarnings",
        "warnOnFailure",
        "warnOnWarnings",
        "alwaysRun",
        "description",
        "descriptionDone",
    ],
    positional: 0,
    unsupported: &[
        "doStepIf",
        "hideStepIf",
        "locks",
        "descriptionSuffix",
        "updateBuildSummaryPolicy",
        "logfiles",
        "lazylogfiles",
        "usePTY",
        "decodeRC",
        "sigtermTime",
        "interruptSignal",
        "initialStdin",
        "max_lines",
    ],
    ignored: &["logEnviron", "logEncoding"],
};

/// `steps.Git(repourl, branch='HEAD', mode='incremental', method=None, ...)`.
pub(crate) static GIT: Spec = Spec {
    qualname: "steps.Git",
    params: &[
        "repourl",
        "branch",
        "mode",
        "method",
        "timeout",
        "name",
        "workdir",
        "haltOnFailure",
        "flunkOnFailure",
        "flunkOnWarnings",
        "warnOnFailure",
        "warnOnWarnings",
        "alwaysRun",
        "description",
        "descriptionDone",
    ],
    positional: 4,
    unsupported: &[
        "doStepIf",
        "hideStepIf",
        "locks",
        "descriptionSuffix",
        "updateBuildSummaryPolicy",
        "reference",
        "submodules",
        "shallow",
        "retryFetch",
        "clobberOnFailure",
        "getDescription",
        "config",
        "origin",
        "sshPrivateKey",
        "sshHostKey",
        "sshKnownHosts",
        "tags",
        "filters",
        "codebase",
        "alwaysUseLatest",
        "retry",
        "env",
        "auth_credentials",
        "git_credentials",
        "repository",
    ],
    ignored: &["progress", "logEnviron", "logEncoding"],
};

/// The shared parameters; `default_name` and `halt` are the step class's own defaults.
pub(super) fn common(
    a: &Args,
    default_name: &str,
    halt: bool,
) -> starlark::Result<CommonStepConfig> {
    let name = a.str("name")?.unwrap_or_else(|| default_name.to_owned());
    if name.is_empty() {
        return Err(a.invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_STEP_NAME {
        return Err(a.invalid(
            "name",
            format!("must be at most {MAX_STEP_NAME} characters: {name:?}"),
        ));
    }
    Ok(CommonStepConfig {
        name,
        halt_on_failure: a.bool("haltOnFailure", halt)?,
        flunk_on_failure: a.bool("flunkOnFailure", true)?,
        flunk_on_warnings: a.bool("flunkOnWarnings", false)?,
        warn_on_failure: a.bool("warnOnFailure", false)?,
        warn_on_warnings: a.bool("warnOnWarnings", false)?,
        always_run: a.bool("alwaysRun", false)?,
        description: words(a, "description")?,
        description_done: words(a, "descriptionDone")?,
        workdir: a.str("workdir")?,
    })
}

/// A description: a string, or Buildbot's older list of words.
fn words(a: &Args, name: &str) -> starlark::Result<Option<String>> {
    Ok(a.str_or_list(name)?.map(|w| w.join(" ")))
}

/// `timeout=`: absent means Buildbot's default, an explicit None means never.
pub(super) fn timeout(a: &Args) -> starlark::Result<Option<f64>> {
    match a.raw("timeout") {
        None => Ok(Some(DEFAULT_TIMEOUT_S)),
        Some(v) if v.is_none() => Ok(None),
        Some(_) => a.seconds("timeout"),
    }
}

pub(crate) fn shell_command(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let command = command(a)?;
    Ok(Item::Step(StepConfig::ShellCommand(ShellCommandConfig {
        common: common(a, "shell", false)?,
        command,
        env: env(a)?,
        timeout_s: timeout(a)?,
        max_time_s: a.seconds("maxTime")?,
        want_stdout: a.bool("want_stdout", true)?,
        want_stderr: a.bool("want_stderr", true)?,
    })))
}

/// `command=`: a string runs through the shell; a list is exec'd (nested lists are
/// flattened and numbers written out, as Buildbot does).
pub(super) fn command(a: &Args) -> starlark::Result<Command> {
    let v = a.given("command").ok_or_else(|| a.missing("command"))?;
    if let Some(s) = v.unpack_str() {
        if s.trim().is_empty() {
            return Err(a.invalid("command", "must not be empty"));
        }
        return Ok(Command::Shell(s.to_owned()));
    }
    let items = seq(v).ok_or_else(|| a.wrong("command", "a string or a list of strings", v))?;
    let mut argv = Vec::new();
    flatten(a, items, &mut argv)?;
    if argv.is_empty() {
        return Err(a.invalid("command", "must not be empty"));
    }
    Ok(Command::Argv(argv))
}

fn flatten<'v>(a: &Args<'v>, items: Vec<Value<'v>>, out: &mut Vec<String>) -> starlark::Result<()> {
    for item in items {
        if let Some(s) = item.unpack_str() {
            out.push(s.to_owned());
        } else if let Some(nested) = seq(item) {
            flatten(a, nested, out)?;
        } else if number(item).is_some() {
            out.push(item.to_str());
        } else {
            return Err(a.wrong("command", "a list of strings", item));
        }
    }
    Ok(())
}

/// `env=`: string values, None (unset the variable) or a list (joined with `:`, as Buildbot
/// joins path lists on POSIX workers).
pub(super) fn env(a: &Args) -> starlark::Result<BTreeMap<String, Option<String>>> {
    let Some(v) = a.given("env") else {
        return Ok(BTreeMap::new());
    };
    let dict = DictRef::from_value(v).ok_or_else(|| a.wrong("env", "a dict", v))?;
    let mut out = BTreeMap::new();
    for (k, val) in dict.iter() {
        let key = k.unpack_str().ok_or_else(|| {
            a.invalid("env", format!("keys must be strings, not {}", type_name(k)))
        })?;
        let value = if val.is_none() {
            None
        } else if let Some(s) = val.unpack_str() {
            Some(s.to_owned())
        } else if let Some(items) = seq(val) {
            let mut parts = Vec::new();
            for item in items {
                parts.push(item.unpack_str().map(str::to_owned).ok_or_else(|| {
                    a.invalid(
                        "env",
                        format!(
                            "{key:?}: list items must be strings, not {}",
                            type_name(item)
                        ),
                    )
                })?);
            }
            Some(parts.join(":"))
        } else {
            return Err(a.invalid(
                "env",
                format!(
                    "{key:?} must be a string, a list of strings or None, not {}",
                    type_name(val)
                ),
            ));
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

pub(crate) fn git(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let repourl = a.req_str("repourl")?;
    if repourl.is_empty() {
        return Err(a.invalid("repourl", "must not be empty"));
    }
    let mode = match a.str("mode")?.as_deref() {
        None | Some("incremental") => GitMode::Incremental,
        Some("full") => GitMode::Full,
        Some(other) => {
            return Err(a.invalid(
                "mode",
                format!("must be 'incremental' or 'full', got {other:?}"),
            ));
        }
    };
    // Buildbot only reads the method in full mode; fresh is its default there.
    let method = match a.str("method")?.as_deref() {
        None | Some("fresh") => GitMethod::Fresh,
        Some("clobber") => GitMethod::Clobber,
        Some("clean") => GitMethod::Clean,
        Some("copy") => GitMethod::Copy,
        Some(other) => {
            return Err(a.invalid(
                "method",
                format!("must be 'clobber', 'fresh', 'clean' or 'copy', got {other:?}"),
            ));
        }
    };
    Ok(Item::Step(StepConfig::Git(GitStepConfig {
        common: common(a, "git", true)?,
        repourl,
        branch: a.str("branch")?.unwrap_or_else(|| "HEAD".to_owned()),
        mode,
        method,
        timeout_s: timeout(a)?,
    })))
}
