//! The worker against an in-test fake master over real gRPC on 127.0.0.1.

mod fake_master;

use std::time::Duration;

use fake_master::{FakeMaster, Session, WAIT};
use ferrobot_protocol::v1::{
    InterruptCommand, ShellCommand, StartCommand, Stream, command_update::Update,
    master_message::Body as FromMaster, start_command::Command, worker_message::Body as ToMaster,
};
use ferrobot_protocol::{COMMAND_VERSION, COMMANDS, PROTOCOL_VERSION};
use ferrobot_worker::{DEFAULT_ADMIN, Error, WorkerOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Worker {
    _dir: tempfile::TempDir,
    basedir: std::path::PathBuf,
    shutdown: CancellationToken,
    task: JoinHandle<ferrobot_worker::Result<()>>,
}

fn options(dir: &std::path::Path, master: &str, password: &str) -> WorkerOptions {
    let mut options = WorkerOptions::new(dir, master, "w1", password);
    options.maxdelay = Duration::from_millis(100);
    options
}

fn start_worker(master: &str, password: &str, tweak: impl FnOnce(&mut WorkerOptions)) -> Worker {
    start_worker_prepared(master, password, tweak, |_| {})
}

/// `prepare` runs on the created worker directory before the worker starts.
fn start_worker_prepared(
    master: &str,
    password: &str,
    tweak: impl FnOnce(&mut WorkerOptions),
    prepare: impl FnOnce(&std::path::Path),
) -> Worker {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = options(dir.path(), master, password);
    tweak(&mut options);
    ferrobot_worker::create_worker(&options, false).expect("create worker");
    prepare(dir.path());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(ferrobot_worker::run(options, shutdown.clone()));
    Worker {
        basedir: dir.path().to_path_buf(),
        _dir: dir,
        shutdown,
        task,
    }
}

impl Worker {
    async fn stop(self) -> ferrobot_worker::Result<()> {
        self.shutdown.cancel();
        self.finished().await
    }

    async fn finished(self) -> ferrobot_worker::Result<()> {
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("run() returns in time")
            .expect("run() does not panic")
    }
}

fn shell_start(id: &str, script: &str) -> FromMaster {
    FromMaster::StartCommand(StartCommand {
        command_id: id.into(),
        builder_name: "b".into(),
        command: Some(Command::Shell(ShellCommand {
            workdir: "build".into(),
            shell: Some(script.into()),
            want_stdout: true,
            want_stderr: true,
            ..ShellCommand::default()
        })),
    })
}

/// Reads until `id` completes; returns its stdout, header, rc and completion error.
async fn until_complete(session: &mut Session, id: &str) -> (String, String, Vec<i32>, String) {
    let (mut stdout, mut header, mut rcs) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        match session
            .recv()
            .await
            .expect("the stream stays open until the command completes")
        {
            ToMaster::Updates(updates) if updates.command_id == id => {
                for update in updates.updates.into_iter().filter_map(|u| u.update) {
                    match update {
                        Update::Output(o) if o.stream == Stream::Stdout as i32 => {
                            stdout.extend(o.data)
                        }
                        Update::Output(o) if o.stream == Stream::Header as i32 => {
                            header.extend(o.data)
                        }
                        Update::Rc(rc) => rcs.push(rc),
                        _ => {}
                    }
                }
            }
            ToMaster::Complete(complete) if complete.command_id == id => {
                let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
                return (text(stdout), text(header), rcs, complete.error);
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_tells_the_master_who_the_worker_is() {
    let mut master = FakeMaster::start("pass");
    let worker = start_worker_prepared(
        &master.addr.to_string(),
        "pass",
        |_| {},
        |dir| {
            std::fs::write(dir.join("info/access_uri"), "ssh://builder\n").expect("write");
            std::fs::write(dir.join("info/admin~"), "editor backup").expect("write");
        },
    );
    let session = master.session().await;
    let hello = &session.hello;
    assert_eq!(hello.name, "w1");
    assert_eq!(hello.password, "pass");
    assert_eq!(hello.protocol_version, PROTOCOL_VERSION);
    let basedir = worker.basedir.display().to_string();
    assert_eq!(hello.basedir, basedir);
    assert!(worker.basedir.is_absolute());
    let info = &hello.info;
    assert_eq!(info.get("admin").map(String::as_str), Some(DEFAULT_ADMIN));
    assert!(
        info.get("host")
            .is_some_and(|h| !h.is_empty() && !h.ends_with('\n')),
        "{info:?}"
    );
    assert_eq!(
        info.get("access_uri").map(String::as_str),
        Some("ssh://builder")
    );
    assert!(!info.contains_key("admin~"), "editor backups are not sent");
    assert_eq!(info.get("system").map(String::as_str), Some("posix"));
    assert_eq!(info.get("basedir"), Some(&basedir));
    assert_eq!(
        info.get("version").map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(
        info.get("numcpus")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 1)
    );
    for key in [
        "os_id",
        "os_id_like",
        "os_version_id",
        "os_version_codename",
    ] {
        assert!(info.contains_key(key), "{key} always present: {info:?}");
    }
    for command in COMMANDS {
        assert_eq!(
            hello.commands.get(*command).map(String::as_str),
            Some(COMMAND_VERSION),
            "{command}"
        );
    }
    assert_eq!(worker.stop().await.ok(), Some(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_worker_retries_then_gives_up_after_maxretries() {
    let mut master = FakeMaster::start("the-real-password");
    let worker = start_worker(&master.addr.to_string(), "wrong", |o| {
        o.maxretries = Some(3)
    });
    for _ in 0..3 {
        let session = master.session().await;
        assert_eq!(session.hello.password, "wrong");
        assert!(session.to_worker.is_none(), "refused");
    }
    let error = worker.finished().await.expect_err("maxretries exhausted");
    assert!(
        matches!(error, Error::RetriesExhausted { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("master refused this worker: wrong password"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_master_listening_exhausts_maxretries() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = free.local_addr().expect("addr");
    drop(free);
    let worker = start_worker(&addr.to_string(), "pass", |o| o.maxretries = Some(2));
    let error = worker.finished().await.expect_err("nothing listens");
    assert!(
        matches!(error, Error::RetriesExhausted { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("cannot connect to master"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_commands_run_and_interrupts_are_routed() {
    let mut master = FakeMaster::start("pass");
    let worker = start_worker(&master.addr.to_string(), "pass", |_| {});
    let mut session = master.session().await;
    session.send(shell_start("one", "echo hello from the worker"));
    let (stdout, header, rcs, error) = until_complete(&mut session, "one").await;
    assert_eq!(stdout, "hello from the worker\n");
    assert_eq!(rcs, [0]);
    assert_eq!(error, "");
    assert!(
        header.contains(&format!(
            " in dir {}\n",
            worker.basedir.join("build").display()
        )),
        "{header}"
    );

    session.send(shell_start("two", "sleep 100"));
    session.send(FromMaster::InterruptCommand(InterruptCommand {
        command_id: "two".into(),
        why: "cancelled".into(),
    }));
    let (_, header, rcs, _) = until_complete(&mut session, "two").await;
    assert_eq!(rcs, [-1]);
    assert!(
        header.contains("command interrupted (cancelled)"),
        "{header}"
    );
    assert_eq!(worker.stop().await.ok(), Some(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalives_are_sent_at_the_configured_interval() {
    let mut master = FakeMaster::start("pass");
    let worker = start_worker(&master.addr.to_string(), "pass", |o| {
        o.keepalive = Duration::from_millis(100)
    });
    let mut session = master.session().await;
    for _ in 0..2 {
        assert!(matches!(session.recv().await, Some(ToMaster::Keepalive(_))));
    }
    assert_eq!(worker.stop().await.ok(), Some(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reconnects_after_the_master_restarts() {
    let mut master = FakeMaster::start("pass");
    let worker = start_worker(&master.addr.to_string(), "pass", |_| {});
    let first = master.session().await;
    let addr = master.kill();
    drop(first);
    let mut restarted = FakeMaster::restart_on(addr, "pass");
    let mut session = restarted.session().await;
    assert_eq!(session.hello.name, "w1");
    session.send(shell_start("after", "echo still here"));
    let (stdout, ..) = until_complete(&mut session, "after").await;
    assert_eq!(stdout, "still here\n");
    assert_eq!(worker.stop().await.ok(), Some(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_kills_running_commands_and_closes_the_stream_without_completing_them() {
    let mut master = FakeMaster::start("pass");
    let worker = start_worker(&master.addr.to_string(), "pass", |_| {});
    let mut session = master.session().await;
    session.send(shell_start("long", "echo started; sleep 100"));
    let mut seen = String::new();
    while !seen.contains("started") {
        if let Some(ToMaster::Updates(updates)) = session.recv().await {
            for update in updates.updates.into_iter().filter_map(|u| u.update) {
                if let Update::Output(o) = update {
                    seen.push_str(&String::from_utf8_lossy(&o.data));
                }
            }
        }
    }
    worker.shutdown.cancel();
    // The master must see the session end with the command unfinished (it then retries the
    // build), not a normal completion.
    while let Some(message) = session.recv().await {
        assert!(
            !matches!(message, ToMaster::Complete(_)),
            "no completion is reported for a command killed by a worker shutdown"
        );
    }
    assert_eq!(worker.finished().await.ok(), Some(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_can_shut_the_worker_down() {
    let mut master = FakeMaster::start("pass");
    let worker = start_worker(&master.addr.to_string(), "pass", |_| {});
    let mut session = master.session().await;
    session.send(FromMaster::Shutdown(ferrobot_protocol::v1::Shutdown {
        graceful: true,
    }));
    assert!(session.recv().await.is_none());
    assert_eq!(
        worker.finished().await.ok(),
        Some(()),
        "run() returns without being cancelled"
    );
}
