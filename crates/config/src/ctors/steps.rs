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
        "logfiles",
        "usePTY",
        "decodeRC",
        "sigtermTime",
        "interruptSignal",
        "initialStdin",
    ],
    positional: 0,
    unsupported: &[
        "doStepIf",
        "hideStepIf",
        "locks",
        "descriptionSuffix",
        "updateBuildSummaryPolicy",
        "lazylogfiles",
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
        use_pty: use_pty(a)?,
        initial_stdin: a.str("initialStdin")?,
        sigterm_time_s: a.seconds("sigtermTime")?,
        interrupt_signal: interrupt_signal(a)?,
        decode_rc: decode_rc(a)?,
        logfiles: logfiles(a)?,
    })))
}

/// `usePTY`: True or False; Buildbot's old default `'slave-config'` means no.
fn use_pty(a: &Args) -> starlark::Result<bool> {
    match a.given("usePTY") {
        Some(v) if v.unpack_str() == Some("slave-config") => Ok(false),
        _ => a.bool("usePTY", false),
    }
}

/// The signals a worker can send (`interruptSignal`), without the `SIG` prefix.
const SIGNALS: &[&str] = &[
    "KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "ABRT", "ALRM",
];

fn interrupt_signal(a: &Args) -> starlark::Result<String> {
    let Some(name) = a.str("interruptSignal")? else {
        return Ok(crate::types::default_interrupt_signal());
    };
    let bare = name
        .strip_prefix("SIG")
        .unwrap_or(&name)
        .to_ascii_uppercase();
    if SIGNALS.contains(&bare.as_str()) {
        Ok(bare)
    } else {
        Err(a.invalid(
            "interruptSignal",
            format!("{name:?} is not one of {}", SIGNALS.join(", ")),
        ))
    }
}

/// `decodeRC={0: SUCCESS, 1: WARNINGS}`: exit codes to result codes.
fn decode_rc(a: &Args) -> starlark::Result<BTreeMap<i64, ferrobot_model::Results>> {
    let Some(v) = a.given("decodeRC") else {
        return Ok(crate::types::default_decode_rc());
    };
    let dict = DictRef::from_value(v).ok_or_else(|| a.wrong("decodeRC", "a dict", v))?;
    let mut out = BTreeMap::new();
    for (rc, result) in dict.iter() {
        let code = rc
            .unpack_i32()
            .ok_or_else(|| a.invalid("decodeRC", format!("keys must be exit codes, not {rc}")))?;
        let result = result
            .unpack_i32()
            .and_then(|r| ferrobot_model::Results::from_code(i64::from(r)))
            .ok_or_else(|| {
                a.invalid(
                    "decodeRC",
                    format!("{code}: {result} is not a result (util.SUCCESS, util.FAILURE, ...)"),
                )
            })?;
        out.insert(i64::from(code), result);
    }
    Ok(out)
}

/// `logfiles={'name': 'file'}` or `{'name': {'filename': 'file', 'follow': True}}`.
fn logfiles(a: &Args) -> starlark::Result<BTreeMap<String, crate::types::LogFileConfig>> {
    let Some(v) = a.given("logfiles") else {
        return Ok(BTreeMap::new());
    };
    let dict = DictRef::from_value(v).ok_or_else(|| a.wrong("logfiles", "a dict", v))?;
    let mut out = BTreeMap::new();
    for (name, spec) in dict.iter() {
        let name = name
            .unpack_str()
            .ok_or_else(|| a.invalid("logfiles", format!("names must be strings, not {name}")))?;
        let entry = if let Some(file) = spec.unpack_str() {
            crate::types::LogFileConfig {
                filename: file.to_owned(),
                follow: false,
            }
        } else if let Some(fields) = DictRef::from_value(spec) {
            let field = |key: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k.unpack_str() == Some(key))
                    .map(|(_, v)| v)
            };
            let filename = field("filename")
                .and_then(|f| f.unpack_str())
                .ok_or_else(|| a.invalid("logfiles", format!("{name:?} needs a 'filename'")))?;
            let follow = match field("follow") {
                None => false,
                Some(f) => f.unpack_bool().ok_or_else(|| {
                    a.invalid(
                        "logfiles",
                        format!("{name:?}: 'follow' must be True or False"),
                    )
                })?,
            };
            crate::types::LogFileConfig {
                filename: filename.to_owned(),
                follow,
            }
        } else {
            return Err(a.invalid(
                "logfiles",
                format!("{name:?} must be a file name or a dict with 'filename'"),
            ));
        };
        out.insert(name.to_owned(), entry);
    }
    Ok(out)
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
