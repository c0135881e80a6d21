//! The `ferrobot-worker` binary: create-worker, start, stop, signals and exit codes.

mod fake_master;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use fake_master::{FakeMaster, WAIT};
use ferrobot_protocol::v1::worker_message::Body as ToMaster;
use ferrobot_worker::DEFAULT_ADMIN;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ferrobot-worker");

async fn worker(args: &[&str]) -> Output {
    let run = Command::new(BIN).args(args).output();
    tokio::time::timeout(WAIT, run)
        .await
        .expect("the command returns in time")
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn settings(dir: &Path) -> serde_json::Value {
    let raw = std::fs::read_to_string(dir.join("worker.json")).expect("worker.json");
    serde_json::from_str(&raw).expect("worker.json is JSON")
}

#[tokio::test]
async fn create_worker_writes_settings_and_info_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("w");
    let d = dir.to_str().expect("utf-8");
    let out = worker(&[
        "create-worker",
        "--keepalive",
        "120",
        "--umask",
        "022",
        "--maxretries",
        "5",
        d,
        "master.example:9989",
        "w1",
        "secret",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = settings(&dir);
    assert_eq!(json["master"], "master.example:9989");
    assert_eq!(json["name"], "w1");
    assert_eq!(json["password"], "secret");
    assert_eq!(json["keepalive_s"], 120);
    assert_eq!(json["maxdelay_s"], 300);
    assert_eq!(json["maxretries"], 5);
    assert_eq!(json["umask"], "0o022");
    let mode = std::fs::metadata(dir.join("worker.json"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the password is readable by the worker's account only"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("info/admin")).expect("admin"),
        format!("{DEFAULT_ADMIN}\n")
    );
    let host = std::fs::read_to_string(dir.join("info/host")).expect("host");
    assert!(host.trim().len() > 5, "{host:?}");
}

#[tokio::test]
async fn create_worker_refuses_a_configured_dir_unless_forced() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let d = tmp.path().to_str().expect("utf-8");
    assert!(
        worker(&["create-worker", d, "one:9989", "w1", "pw"])
            .await
            .status
            .success()
    );
    std::fs::write(tmp.path().join("info/admin"), "Jane <jane@example.org>\n").expect("edit admin");

    let refused = worker(&["create-worker", d, "two:9989", "w1", "pw"]).await;
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("already holds a configured worker") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        settings(tmp.path())["master"],
        "one:9989",
        "nothing changed"
    );

    let forced = worker(&["create-worker", "--force", d, "two:9989", "w1", "pw"]).await;
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_eq!(settings(tmp.path())["master"], "two:9989");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("info/admin")).expect("admin"),
        "Jane <jane@example.org>\n"
    );
}

#[tokio::test]
async fn bad_arguments_are_explained() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let d = tmp.path().join("w");
    let d = d.to_str().expect("utf-8");
    let umask = worker(&["create-worker", "--umask", "0o99", d, "m:9989", "w1", "pw"]).await;
    assert!(!umask.status.success());
    assert!(
        text(&umask.stderr).contains("bad umask \"0o99\""),
        "{}",
        text(&umask.stderr)
    );
    let master = worker(&["create-worker", d, "no-port", "w1", "pw"]).await;
    assert!(!master.status.success());
    assert!(
        text(&master.stderr).contains("expected HOST:PORT"),
        "{}",
        text(&master.stderr)
    );
    assert!(
        !tmp.path().join("w").exists(),
        "nothing created on bad input"
    );

    let start = worker(&["start", tmp.path().to_str().expect("utf-8")]).await;
    assert!(!start.status.success());
    assert!(
        text(&start.stderr).contains("is not a worker directory"),
        "{}",
        text(&start.stderr)
    );
    let stop = worker(&["stop", tmp.path().to_str().expect("utf-8")]).await;
    assert!(!stop.status.success());
    assert!(
        text(&stop.stderr).contains("no worker is running"),
        "{}",
        text(&stop.stderr)
    );
}

#[tokio::test]
async fn every_subcommand_has_help() {
    for (sub, option) in [
        ("create-worker", "--maxdelay"),
        ("start", "DIR"),
        ("stop", "--timeout"),
    ] {
        let out = worker(&[sub, "--help"]).await;
        assert!(out.status.success(), "{sub}");
        assert!(
            text(&out.stdout).contains(option),
            "{sub}: {}",
            text(&out.stdout)
        );
    }
}

/// Starts the binary against `master` and waits until it logs that it is connected.
async fn started(
    master: &mut FakeMaster,
    dir: &Path,
) -> (tokio::process::Child, fake_master::Session) {
    use tokio::io::AsyncBufReadExt;
    let d = dir.to_str().expect("utf-8");
    let created = worker(&[
        "create-worker",
        "--maxdelay",
        "1",
        d,
        &master.addr.to_string(),
        "w1",
        "pw",
    ])
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let mut child = Command::new(BIN)
        .args(["start", d])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start");
    let session = master.session().await;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let connected = async {
        while let Some(line) = lines.next_line().await.expect("read the worker's stdout") {
            if line.contains("connected to master fake-master") {
                return true;
            }
        }
        false
    };
    assert!(
        tokio::time::timeout(WAIT, connected)
            .await
            .expect("connected in time"),
        "the worker logs its connection"
    );
    // Keep draining, so that the worker never blocks on a full stdout pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_runs_in_the_foreground_and_stop_ends_it_cleanly() {
    let mut master = FakeMaster::start("pw");
    let tmp = tempfile::tempdir().expect("temp dir");
    let (mut child, mut session) = started(&mut master, tmp.path()).await;
    let pid =
        std::fs::read_to_string(tmp.path().join("worker.pid")).expect("pid file while running");
    assert_eq!(pid.trim().parse::<u32>().ok(), child.id());

    let stop = worker(&["stop", tmp.path().to_str().expect("utf-8")]).await;
    assert!(stop.status.success(), "{}", text(&stop.stderr));
    assert!(
        text(&stop.stdout).contains("stopped"),
        "{}",
        text(&stop.stdout)
    );
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exited")
        .expect("status");
    assert_eq!(status.code(), Some(0));
    while let Some(message) = session.recv().await {
        assert!(matches!(message, ToMaster::Keepalive(_)), "{message:?}");
    }
    assert!(
        !tmp.path().join("worker.pid").exists(),
        "the pid file is removed on exit"
    );
    let log = std::fs::read_to_string(tmp.path().join("worker.log")).expect("worker.log");
    assert!(log.contains("connected to master fake-master"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_zero_and_a_second_start_is_refused_meanwhile() {
    let mut master = FakeMaster::start("pw");
    let tmp = tempfile::tempdir().expect("temp dir");
    let (mut child, _session) = started(&mut master, tmp.path()).await;

    let second = worker(&["start", tmp.path().to_str().expect("utf-8")]).await;
    assert!(!second.status.success());
    assert!(
        text(&second.stderr).contains("is already running"),
        "{}",
        text(&second.stderr)
    );

    let pid = i32::try_from(child.id().expect("running")).expect("pid");
    kill(Pid::from_raw(pid), Signal::SIGINT).expect("signal");
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exited")
        .expect("status");
    assert_eq!(status.code(), Some(0));
    assert!(!tmp.path().join("worker.pid").exists());
}
