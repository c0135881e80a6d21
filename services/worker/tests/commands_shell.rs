//! The shell command against real processes in temporary directories.

mod common;

use std::time::Duration;

use common::{Run, WAIT, env, exec, run, shell, start, wait_until_dead};
use ferrobot_protocol::v1::start_command::Command;
use ferrobot_worker::commands::Batching;

fn basedir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[tokio::test]
async fn exit_code_stdout_and_stderr_are_reported_separately() {
    let dir = basedir();
    let done = run(
        dir.path(),
        start(Command::Shell(shell("echo out; echo err >&2; exit 3"))),
    )
    .await;
    assert_eq!(done.stdout(), "out\n");
    assert_eq!(done.stderr(), "err\n");
    assert_eq!(done.rc(), 3);
    assert_eq!(
        done.complete.error, "",
        "a command that ran is not an error"
    );
    let header = done.header();
    assert!(
        header.starts_with("echo out; echo err >&2; exit 3\n"),
        "{header}"
    );
    assert!(
        header.contains(" argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']\n"),
        "{header}"
    );
    assert!(header.contains(" using PTY: False\n"), "{header}");
    assert!(
        header.contains("program finished with exit code 3\n"),
        "{header}"
    );
    assert!(header.contains("\nelapsedTime="), "{header}");
    assert!(done.elapsed().is_some_and(|e| e >= 0.0));
}

#[tokio::test]
async fn argv_form_runs_without_a_shell() {
    let dir = basedir();
    let done = run(
        dir.path(),
        start(Command::Shell(exec(&["echo", "$HOME", "a b", "it's"]))),
    )
    .await;
    assert_eq!(
        done.stdout(),
        "$HOME a b it's\n",
        "no shell expansion in exec form"
    );
    assert_eq!(done.rc(), 0);
    let header = done.header();
    assert!(
        header.starts_with("echo '$HOME' 'a b' 'it'\"'\"'s'\n"),
        "{header}"
    );
    assert!(
        header.contains(" argv: ['echo', '$HOME', 'a b', \"it's\"]\n"),
        "{header}"
    );
}

#[tokio::test]
async fn workdir_is_created_inside_basedir_and_used() {
    let dir = basedir();
    let mut command = shell("pwd; echo \"PWD=$PWD\"");
    command.workdir = "wb/build".into();
    let done = run(dir.path(), start(Command::Shell(command))).await;
    let workdir = dir.path().join("wb/build");
    assert!(workdir.is_dir());
    let expected = workdir.display().to_string();
    assert_eq!(done.stdout(), format!("{expected}\nPWD={expected}\n"));
    assert!(
        done.header().contains(&format!("\n in dir {expected}\n")),
        "{}",
        done.header()
    );
}

#[tokio::test]
async fn environment_is_set_expanded_and_unset() {
    let dir = basedir();
    let mut command = shell("echo \"FOO=$FOO\"; echo \"HOME=${HOME-unset}\"; echo \"PATH=$PATH\"");
    command.env = env(&[("FOO", "bar"), ("PATH", "/custom/bin:${PATH}")]);
    command.unset_env = vec!["HOME".into()];
    command.log_environ = true;
    let done = run(dir.path(), start(Command::Shell(command))).await;
    let worker_path = std::env::var("PATH").expect("tests run with a PATH");
    assert_eq!(
        done.stdout(),
        format!("FOO=bar\nHOME=unset\nPATH=/custom/bin:{worker_path}\n")
    );
    let header = done.header();
    assert!(header.contains(" environment:\n"), "{header}");
    assert!(header.contains("\n  FOO=bar\n"), "{header}");
    assert!(
        !header.contains("\n  HOME="),
        "an unset variable is not listed: {header}"
    );
}

#[tokio::test]
async fn environment_is_not_logged_unless_asked() {
    let dir = basedir();
    let done = run(dir.path(), start(Command::Shell(shell("true")))).await;
    assert!(!done.header().contains("environment:"), "{}", done.header());
}

#[tokio::test]
async fn initial_stdin_is_written_then_closed_and_absent_stdin_is_empty() {
    let dir = basedir();
    let mut command = exec(&["cat"]);
    command.initial_stdin = b"hello\nworld".to_vec();
    let done = run(dir.path(), start(Command::Shell(command))).await;
    assert_eq!(done.stdout(), "hello\nworld");
    assert!(
        done.header().contains(" writing 11 bytes to stdin\n"),
        "{}",
        done.header()
    );

    let done = run(dir.path(), start(Command::Shell(exec(&["cat"])))).await;
    assert_eq!(done.stdout(), "", "cat sees end of file at once");
    assert_eq!(done.rc(), 0);
}

#[tokio::test]
async fn unwanted_streams_are_not_sent() {
    let dir = basedir();
    let mut command = shell("echo out; echo err >&2");
    command.want_stdout = false;
    let done = run(dir.path(), start(Command::Shell(command))).await;
    assert_eq!(done.stdout(), "");
    assert_eq!(done.stderr(), "err\n");
    assert_eq!(done.rc(), 0);
}

#[tokio::test]
async fn a_program_that_cannot_start_completes_with_an_error() {
    let dir = basedir();
    let done = run(
        dir.path(),
        start(Command::Shell(exec(&["/nonexistent/program"]))),
    )
    .await;
    assert_ne!(done.rc(), 0);
    assert!(
        done.complete
            .error
            .contains("cannot run \"/nonexistent/program\""),
        "{}",
        done.complete.error
    );
    assert!(done.header().contains("cannot run"), "{}", done.header());
}

#[tokio::test]
async fn a_workdir_outside_basedir_is_refused() {
    let dir = basedir();
    let mut command = shell("touch escaped");
    command.workdir = "../outside".into();
    let done = run(dir.path(), start(Command::Shell(command))).await;
    assert_eq!(done.rc(), 1);
    assert!(
        done.complete
            .error
            .contains("outside the worker's base directory"),
        "{}",
        done.complete.error
    );
    assert!(
        !dir.path()
            .parent()
            .expect("parent")
            .join("outside")
            .exists()
    );
}

#[tokio::test]
async fn no_output_timeout_kills_the_whole_process_group() {
    let dir = basedir();
    let mut command = shell("sleep 100 & echo $! > grandchild.pid; sleep 100");
    command.timeout_s = 1.0;
    let done = tokio::time::timeout(WAIT, run(dir.path(), start(Command::Shell(command))))
        .await
        .expect("the timed-out command must end (the grandchild holds its stdout until killed)");
    assert_eq!(done.failure_reasons(), ["timeout_without_output"]);
    assert_eq!(done.rc(), -1);
    let header = done.header();
    assert!(
        header.contains("\ncommand timed out: 1 seconds without output running ['/bin/sh', '-c', "),
        "{header}"
    );
    assert!(header.contains(", attempting to kill\n"), "{header}");
    assert!(header.contains("process killed by signal 9\n"), "{header}");
    let pid_text =
        std::fs::read_to_string(dir.path().join("build/grandchild.pid")).expect("pid file");
    let grandchild: i32 = pid_text.trim().parse().expect("pid");
    assert!(
        wait_until_dead(grandchild).await,
        "grandchild {grandchild} survived the kill"
    );
}

#[tokio::test]
async fn max_time_kills_a_command_that_keeps_printing() {
    let dir = basedir();
    let mut command = shell("while true; do echo tick; sleep 0.05; done");
    command.max_time_s = 1.0;
    command.timeout_s = 60.0;
    let done = run(dir.path(), start(Command::Shell(command))).await;
    assert_eq!(done.failure_reasons(), ["timeout"]);
    assert_eq!(done.rc(), -1);
    assert!(done.stdout().starts_with("tick\n"));
    let header = done.header();
    assert!(
        header.contains(" (timeout 60 secs) (maxTime 1 sec)\n"),
        "{header}"
    );
    assert!(
        header.contains("command timed out: 1 seconds elapsed running"),
        "{header}"
    );
    assert!(
        done.elapsed().is_some_and(|e| (1.0..20.0).contains(&e)),
        "{:?}",
        done.elapsed()
    );
}

#[tokio::test]
async fn interrupt_kills_the_command_with_the_default_signal() {
    let dir = basedir();
    let mut running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(Command::Shell(shell("echo ready; sleep 100"))),
    );
    running.wait_for_stdout("ready").await;
    running.interrupt("stop requested").await;
    let done = running.finish().await;
    assert_eq!(done.rc(), -1);
    assert!(
        done.header()
            .contains("\ncommand interrupted (stop requested), attempting to kill\n"),
        "{}",
        done.header()
    );
    assert!(
        done.header().contains("process killed by signal 9\n"),
        "{}",
        done.header()
    );
    assert!(done.failure_reasons().is_empty());
}

#[tokio::test]
async fn interrupt_sends_sigterm_first_when_sigterm_time_is_set() {
    let dir = basedir();
    let mut command =
        shell("trap 'echo got term; exit 7' TERM; echo ready; while true; do sleep 0.1; done");
    command.sigterm_time_s = 30.0;
    let mut running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(Command::Shell(command)),
    );
    running.wait_for_stdout("ready").await;
    running.interrupt("").await;
    let done = running.finish().await;
    assert!(done.stdout().contains("got term\n"), "{}", done.stdout());
    assert_eq!(done.rc(), 7, "the command's own exit code after SIGTERM");
}

#[tokio::test]
async fn interrupt_signal_follows_when_sigterm_is_ignored() {
    let dir = basedir();
    let mut command = shell("trap '' TERM; echo ready; while true; do sleep 0.1; done");
    command.sigterm_time_s = 0.5;
    command.interrupt_signal = "KILL".into();
    let mut running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(Command::Shell(command)),
    );
    running.wait_for_stdout("ready").await;
    running.interrupt("").await;
    let done = running.finish().await;
    assert_eq!(done.rc(), -1);
    assert!(
        done.header().contains("process killed by signal 9\n"),
        "{}",
        done.header()
    );
}

#[tokio::test]
async fn many_small_writes_arrive_in_few_messages() {
    let dir = basedir();
    let batching = Batching {
        buffer_size: 64 * 1024,
        buffer_timeout: Duration::from_millis(200),
    };
    let script = "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done";
    let done = Run::spawn(dir.path(), batching, start(Command::Shell(shell(script))))
        .finish()
        .await;
    let expected: String = (0..2000).map(|i| format!("line{i}\n")).collect();
    assert_eq!(done.stdout(), expected, "every line, in order");
    assert!(
        done.updates.len() < 100,
        "2000 writes took {} messages",
        done.updates.len()
    );
}

#[tokio::test]
async fn a_big_burst_is_split_at_buffer_size_and_nothing_is_lost() {
    let dir = basedir();
    let batching = Batching {
        buffer_size: 4096,
        buffer_timeout: Duration::from_millis(100),
    };
    let total = 3_000_000;
    let command = shell(&format!("head -c {total} /dev/zero"));
    let done = Run::spawn_with_capacity(dir.path(), batching, start(Command::Shell(command)), 2)
        .finish()
        .await;
    let sizes = done.message_sizes();
    assert!(
        sizes.iter().all(|s| *s <= 4096),
        "largest message {:?}",
        sizes.iter().max()
    );
    assert_eq!(done.stdout_bytes().len(), total);
    assert!(sizes.len() >= total / 4096, "{} messages", sizes.len());
    assert_eq!(done.rc(), 0);
}

#[tokio::test]
async fn a_lost_session_kills_the_command_and_sends_nothing_more() {
    let dir = basedir();
    let command = shell("echo $$ > pid; echo ready; sleep 100");
    let mut running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(Command::Shell(command)),
    );
    running.wait_for_stdout("ready").await;
    let pid: i32 = std::fs::read_to_string(dir.path().join("build/pid"))
        .expect("pid written before ready")
        .trim()
        .parse()
        .expect("pid");
    running.lost.cancel();
    // The command's task ends and drops its sender; a completion cannot reach a lost session.
    while let Some(message) = running.recv_raw().await {
        assert!(
            !matches!(
                message.body,
                Some(ferrobot_protocol::v1::worker_message::Body::Complete(_))
            ),
            "no completion after the session was lost"
        );
    }
    assert!(wait_until_dead(pid).await, "the shell {pid} survived");
}
