//! `init` installs a process-wide subscriber, so each scenario runs in a child process: this
//! test binary re-runs itself with only the ignored `child` test selected.

use std::path::Path;
use std::process::{Command, Output};

use ferrobot_telemetry::{Error, Options, init};

const FILE_VAR: &str = "FERROBOT_TELEMETRY_TEST_FILE";
const JSON_VAR: &str = "FERROBOT_TELEMETRY_TEST_JSON";

#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let options = Options {
        log_file: std::env::var_os(FILE_VAR).map(Into::into),
        json: std::env::var_os(JSON_VAR).is_some(),
        ..Options::default()
    };
    let guard = init(&options).expect("first init succeeds");
    tracing::info!(build = 7, "build finished marker");
    tracing::debug!("hidden debug marker");
    let again = init(&options);
    assert!(
        matches!(again, Err(Error::AlreadyInitialized(_))),
        "second init: {again:?}"
    );
    tracing::warn!("still logging after the refused init");
    drop(guard);
}

fn run_child(log_file: &Path, json: bool, rust_log: Option<&str>) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    command
        .args([
            "child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(FILE_VAR, log_file)
        .env_remove(JSON_VAR)
        .env_remove("RUST_LOG");
    if json {
        command.env(JSON_VAR, "1");
    }
    if let Some(directive) = rust_log {
        command.env("RUST_LOG", directive);
    }
    let output = command.output().expect("child test runs");
    assert!(
        output.status.success(),
        "child failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn lines_go_to_stdout_and_are_appended_to_the_log_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log_file = dir.path().join("ferrobot.log");
    std::fs::write(&log_file, "line from an earlier run\n").expect("seed log file");

    let output = run_child(&log_file, false, None);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("build finished marker"),
        "stdout:\n{stdout}"
    );
    let log = std::fs::read_to_string(&log_file).expect("log file readable");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"line from an earlier run"),
        "log:\n{log}"
    );
    let finished = lines
        .iter()
        .find(|line| line.contains("build finished marker"))
        .unwrap_or_else(|| panic!("no event line in log:\n{log}"));
    assert!(
        finished.contains("INFO") && finished.contains("build=7"),
        "{finished}"
    );
    assert!(
        log.contains("still logging after the refused init"),
        "log:\n{log}"
    );
    assert!(
        !log.contains("hidden debug marker"),
        "debug passed the info filter:\n{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in the log file:\n{log}"
    );
}

#[test]
fn json_mode_writes_one_object_per_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log_file = dir.path().join("worker.log");

    run_child(&log_file, true, None);

    let log = std::fs::read_to_string(&log_file).expect("log file readable");
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let finished = events
        .iter()
        .find(|event| event["fields"]["message"] == "build finished marker")
        .unwrap_or_else(|| panic!("no event in log:\n{log}"));
    assert_eq!(finished["level"], "INFO");
    assert_eq!(finished["fields"]["build"], 7);
}

#[test]
fn rust_log_overrides_the_configured_filter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log_file = dir.path().join("ferrobot.log");

    run_child(&log_file, false, Some("debug"));

    let log = std::fs::read_to_string(&log_file).expect("log file readable");
    assert!(
        log.contains("hidden debug marker"),
        "RUST_LOG=debug ignored:\n{log}"
    );
}
