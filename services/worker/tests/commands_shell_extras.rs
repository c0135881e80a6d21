//! The shell command's extras: list-valued `env` and followed `logfiles`.

mod common;

use std::collections::HashMap;

use common::{Run, run, shell, start};
use ferrobot_protocol::v1::{EnvList, LogFileSpec, ShellCommand, start_command::Command};
use ferrobot_worker::commands::Batching;

fn logfiles(specs: &[(&str, &str, bool)]) -> HashMap<String, LogFileSpec> {
    specs
        .iter()
        .map(|(name, filename, follow)| {
            let spec = LogFileSpec {
                filename: (*filename).into(),
                follow: *follow,
            };
            ((*name).to_owned(), spec)
        })
        .collect()
}

#[tokio::test]
async fn list_env_values_are_joined_with_colons_before_expansion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = shell("echo \"$PATH|$EMPTYLIST|$PLAIN\"");
    command.env_lists = HashMap::from([
        (
            "PATH".to_owned(),
            EnvList {
                values: vec!["/opt/a/bin".into(), "${PATH}".into()],
            },
        ),
        ("EMPTYLIST".to_owned(), EnvList { values: vec![] }),
    ]);
    command.env = HashMap::from([("PLAIN".to_owned(), "p".to_owned())]);
    let worker_path = std::env::var("PATH").expect("the test runs with a PATH");

    let done = run(dir.path(), start(Command::Shell(command))).await;

    assert_eq!(done.rc(), 0, "{}", done.header());
    assert_eq!(done.stdout(), format!("/opt/a/bin:{worker_path}||p\n"));
}

#[tokio::test]
async fn logfiles_are_streamed_under_their_names_while_the_command_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let build = dir.path().join("build");
    // The command writes a first line, waits until the test has seen it arrive (so it must have
    // been followed while running), then writes a second one and ends.
    let mut command: ShellCommand = shell(
        "echo first >> logs/test.log; echo started; \
         while [ ! -e go ]; do sleep 0.05; done; echo second >> logs/test.log",
    );
    command.logfiles = logfiles(&[("test", "logs/test.log", false)]);
    std::fs::create_dir_all(build.join("logs")).expect("mkdir");

    let mut running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(Command::Shell(command)),
    );
    running.wait_for_log("test", "first\n").await;
    std::fs::write(build.join("go"), "").expect("signal the command");
    let done = running.finish().await;

    assert_eq!(done.rc(), 0, "{}", done.header());
    assert_eq!(done.log("test"), "first\nsecond\n");
    assert_eq!(done.stdout(), "started\n", "logfile content is not stdout");
    assert!(
        done.header()
            .contains(" watching logfiles {'test': 'logs/test.log'}\n"),
        "{}",
        done.header()
    );
}

#[tokio::test]
async fn a_stale_logfile_is_not_sent_and_follow_sends_only_what_is_appended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let build = dir.path().join("build");
    std::fs::create_dir_all(&build).expect("mkdir");
    std::fs::write(build.join("stale.log"), "from an earlier build\n").expect("write");
    std::fs::write(build.join("grow.log"), "old line\n").expect("write");
    let mut command = shell("echo new line >> grow.log; echo later > created.log");
    command.logfiles = logfiles(&[
        ("stale", "stale.log", false),
        ("grow", "grow.log", true),
        ("created", "created.log", false),
    ]);

    let done = run(dir.path(), start(Command::Shell(command))).await;

    assert_eq!(done.rc(), 0, "{}", done.header());
    assert_eq!(
        done.log("stale"),
        "",
        "an untouched file is not this build's"
    );
    assert_eq!(done.log("grow"), "new line\n");
    assert_eq!(done.log("created"), "later\n");
}

#[tokio::test]
async fn a_logfile_outside_the_base_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = shell("echo should not run");
    command.logfiles = logfiles(&[("passwd", "../../../../etc/passwd", false)]);
    let done = run(dir.path(), start(Command::Shell(command))).await;
    assert_eq!(done.rc(), 1);
    assert!(
        done.complete
            .error
            .contains("outside the worker's base directory"),
        "{}",
        done.complete.error
    );
    assert_eq!(done.stdout(), "");
    assert_eq!(done.log("passwd"), "");
}

#[tokio::test]
async fn use_pty_gives_the_command_a_terminal_with_both_streams_merged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "test -t 1 && echo stdout-is-a-tty; test -t 2 && echo err-to-tty >&2; test -t 0 || echo stdin-stays";
    let mut command = shell(script);
    command.use_pty = true;
    let done = run(dir.path(), start(Command::Shell(command))).await;
    assert_eq!(done.rc(), 0, "{}", done.header());
    assert_eq!(
        done.stdout(),
        "stdout-is-a-tty\nerr-to-tty\nstdin-stays\n",
        "lines end in \\n, stderr arrives as stdout"
    );
    assert_eq!(done.stderr(), "");
    assert!(
        done.header().contains("using PTY: True"),
        "{}",
        done.header()
    );

    let plain = run(dir.path(), start(Command::Shell(shell(script)))).await;
    assert_eq!(plain.stdout(), "stdin-stays\n");
}
