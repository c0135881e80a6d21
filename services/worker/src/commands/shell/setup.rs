//! Preparing a shell command: its argv, its environment and the header Buildbot's worker prints.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::path::Path;

use ferrobot_protocol::v1::ShellCommand;

/// The program and arguments to exec: `argv` as given, or `/bin/sh -c <shell>`.
pub(super) fn argv(command: &ShellCommand) -> Result<Vec<String>, String> {
    match &command.shell {
        Some(script) => Ok(vec!["/bin/sh".into(), "-c".into(), script.clone()]),
        None if command.argv.is_empty() => Err("shell command has neither argv nor shell".into()),
        None => Ok(command.argv.clone()),
    }
}

/// The variables the master sets: `env`, plus each list of `env_lists` joined with ':' (Buildbot
/// joins every list value with `os.pathsep`, which makes `PATH`-like lists work).
pub(super) fn requested_env(command: &ShellCommand) -> HashMap<String, String> {
    let mut set = command.env.clone();
    for (key, list) in &command.env_lists {
        set.insert(key.clone(), list.values.join(":"));
    }
    set
}

/// The child's environment: the worker's, with `set` applied and `unset` removed.
///
/// As in Buildbot, `${NAME}` in a value expands to the worker's own variable (empty when unset),
/// so `PATH=/opt/bin:${PATH}` works, and a PYTHONPATH given is prepended to the worker's.
pub(super) fn environment(
    worker_env: impl IntoIterator<Item = (OsString, OsString)>,
    set: &HashMap<String, String>,
    unset: &[String],
    workdir: &Path,
) -> BTreeMap<OsString, OsString> {
    let worker_env: BTreeMap<OsString, OsString> = worker_env.into_iter().collect();
    let mut env = worker_env.clone();
    for (key, value) in set {
        let value = if key == "PYTHONPATH" {
            format!("{value}:${{PYTHONPATH}}")
        } else {
            value.clone()
        };
        env.insert(key.into(), expand(&value, &worker_env).into());
    }
    for key in unset {
        env.remove(OsStr::new(key));
    }
    // Programs trust $PWD; it must name the directory the command really runs in.
    env.insert("PWD".into(), workdir.as_os_str().to_owned());
    env
}

/// Expands `${NAME}` (NAME of letters, digits and `_`) from the worker's environment.
fn expand(value: &str, worker_env: &BTreeMap<OsString, OsString>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        match name_len {
            Some(len) if after[len..].starts_with('}') => {
                let name = &after[..len];
                if let Some(found) = worker_env.get(OsStr::new(name)) {
                    out.push_str(&found.to_string_lossy());
                }
                rest = &after[len + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What the header shows before the command runs, line for line as Buildbot's worker.
pub(super) struct HeaderInput<'a> {
    pub command: &'a ShellCommand,
    pub argv: &'a [String],
    pub workdir: &'a Path,
    pub env: &'a BTreeMap<OsString, OsString>,
    /// The logfiles, already formatted as a Python dict.
    pub logfiles: &'a str,
}

pub(super) fn header(input: &HeaderInput<'_>) -> String {
    let command = input.command;
    let mut text = String::new();
    let display = match &command.shell {
        Some(script) => script.clone(),
        None => shell_quote(input.argv),
    };
    text.push_str(&display);
    text.push('\n');
    let _ = write!(text, " in dir {}", input.workdir.display());
    if command.timeout_s > 0.0 {
        let _ = write!(text, " (timeout {})", seconds(command.timeout_s));
    }
    if command.max_time_s > 0.0 {
        let _ = write!(text, " (maxTime {})", seconds(command.max_time_s));
    }
    text.push('\n');
    let _ = writeln!(text, " watching logfiles {}", input.logfiles);
    let _ = writeln!(text, " argv: {}", python_list(input.argv));
    if command.log_environ {
        text.push_str(" environment:\n");
        for (key, value) in input.env {
            let _ = writeln!(
                text,
                "  {}={}",
                key.to_string_lossy(),
                value.to_string_lossy()
            );
        }
    }
    if !command.initial_stdin.is_empty() {
        let _ = writeln!(
            text,
            " writing {} bytes to stdin",
            command.initial_stdin.len()
        );
    }
    text.push_str(if command.use_pty {
        " using PTY: True\n"
    } else {
        " using PTY: False\n"
    });
    text
}

/// `1200 secs`, `1 sec`, `0.5 secs`: whole numbers print without a fraction, as Python's ints.
pub(super) fn seconds(value: f64) -> String {
    let unit = if value == 1.0 { "sec" } else { "secs" };
    format!("{} {unit}", number(value))
}

pub(super) fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// Quotes argv so that a POSIX shell reads it back (the first header line).
fn shell_quote(argv: &[String]) -> String {
    let quote = |arg: &String| -> String {
        if arg.is_empty() {
            return "\"\"".into();
        }
        let safe = arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
        if safe {
            arg.clone()
        } else {
            format!("'{}'", arg.replace('\'', "'\"'\"'"))
        }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// argv as a Python list literal, the unambiguous form Buildbot prints after ` argv:`.
pub(super) fn python_list(argv: &[String]) -> String {
    let items: Vec<String> = argv.iter().map(|arg| python_str(arg)).collect();
    format!("[{}]", items.join(", "))
}

fn python_str(value: &str) -> String {
    let quote = if value.contains('\'') && !value.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(value.len() + 2);
    out.push(quote);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn environment_expands_worker_variables_and_unsets() {
        let set = HashMap::from([
            ("PATH".to_owned(), "/opt/bin:${PATH}".to_owned()),
            ("NEW".to_owned(), "${MISSING}x${".to_owned()),
        ]);
        let env = environment(
            os(&[("PATH", "/usr/bin"), ("HOME", "/home/w"), ("SECRET", "s")]),
            &set,
            &["SECRET".to_owned()],
            Path::new("/srv/w/build"),
        );
        assert_eq!(
            env.get(OsStr::new("PATH")),
            Some(&OsString::from("/opt/bin:/usr/bin"))
        );
        assert_eq!(env.get(OsStr::new("NEW")), Some(&OsString::from("x${")));
        assert_eq!(
            env.get(OsStr::new("HOME")),
            Some(&OsString::from("/home/w"))
        );
        assert_eq!(
            env.get(OsStr::new("PWD")),
            Some(&OsString::from("/srv/w/build"))
        );
        assert!(!env.contains_key(OsStr::new("SECRET")));
    }

    #[test]
    fn argv_is_quoted_for_the_shell_and_listed_like_python() {
        let argv = vec![
            "echo".to_owned(),
            "it's".to_owned(),
            String::new(),
            "a b".to_owned(),
        ];
        assert_eq!(shell_quote(&argv), r#"echo 'it'"'"'s' "" 'a b'"#);
        assert_eq!(python_list(&argv), r#"['echo', "it's", '', 'a b']"#);
    }

    #[test]
    fn durations_print_like_buildbot() {
        assert_eq!(seconds(1200.0), "1200 secs");
        assert_eq!(seconds(1.0), "1 sec");
        assert_eq!(seconds(0.5), "0.5 secs");
    }
}
