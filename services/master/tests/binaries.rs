//! The real `ferrobot` and `ferrobot-worker` programs, as a user runs them: create-master,
//! checkconfig, start, create-worker, a forced build through REST, its log, reconfig, stop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

fn ferrobot() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferrobot"))
}

/// `ferrobot-worker` is built by the same `cargo test --workspace` / nextest run.
fn ferrobot_worker() -> PathBuf {
    let path = ferrobot().with_file_name("ferrobot-worker");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --bins`",
        path.display()
    );
    path
}

fn run(program: &Path, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("spawn")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Kills the process on drop so a failing test leaves nothing behind.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(url: &str) -> Option<Value> {
    let response = reqwest::blocking::get(url).ok()?;
    response
        .status()
        .is_success()
        .then(|| response.json().ok())
        .flatten()
}

/// Polls a condition until it holds, failing after TIMEOUT (processes give no events to wait on).
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn master_cfg(www: u16, workers: u16, command: &str) -> String {
    format!(
        r#"from buildbot.plugins import *
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker("w1", "secret")]
c['protocols'] = {{'pb': {{'port': {workers}}}}}
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="greet", command={command:?}))
c['builders'] = [util.BuilderConfig(name="greeter", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["greeter"])]
c['www'] = dict(port={www})
c['buildbotURL'] = "http://127.0.0.1:{www}/"
"#
    )
}

#[test]
fn the_programs_run_a_forced_build_and_serve_its_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let master_dir = tmp.path().join("master");
    let worker_dir = tmp.path().join("worker");
    let (www, workers) = (free_port(), free_port());
    let m = master_dir.to_str().expect("utf-8 path");

    let created = run(&ferrobot(), &["create-master", m]);
    assert!(created.status.success(), "create-master: {created:?}");
    assert!(master_dir.join("master.cfg.sample").exists());
    std::fs::write(
        master_dir.join("master.cfg"),
        master_cfg(www, workers, "echo hello from the binaries"),
    )
    .expect("write cfg");
    let checked = run(&ferrobot(), &["checkconfig", m]);
    assert!(checked.status.success(), "checkconfig: {checked:?}");

    let master = Guard(
        Command::new(ferrobot())
            .args(["start", m])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start"),
    );
    let api = format!("http://127.0.0.1:{www}/api/v2");
    wait_for("the REST API", || get(&format!("{api}/builders")));

    let w = worker_dir.to_str().expect("utf-8 path");
    let address = format!("127.0.0.1:{workers}");
    let created = run(
        &ferrobot_worker(),
        &["create-worker", w, &address, "w1", "secret"],
    );
    assert!(created.status.success(), "create-worker: {created:?}");
    let worker = Guard(
        Command::new(ferrobot_worker())
            .args(["start", w])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("worker"),
    );
    wait_for("the worker to connect", || {
        let workers = get(&format!("{api}/workers/w1"))?;
        workers["workers"][0]["connected_to"]
            .as_array()
            .filter(|c| !c.is_empty())
            .map(|_| ())
    });

    let client = reqwest::blocking::Client::new();
    let reply: Value = client
        .post(format!("{api}/forceschedulers/force"))
        .json(&json!({"jsonrpc": "2.0", "method": "force", "id": 1, "params": {"builderNames": ["greeter"]}}))
        .send()
        .and_then(|r| r.json())
        .expect("force");
    let brid = reply["result"][1]
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(Value::as_i64);
    let brid = brid.unwrap_or_else(|| panic!("force reply: {reply}"));
    let build = wait_for("the build", || {
        let builds = get(&format!("{api}/builds?buildrequestid={brid}&complete=true"))?;
        builds["builds"].as_array()?.first().cloned()
    });
    assert_eq!(build["results"], json!(0), "{build}");
    let steps = get(&format!(
        "{api}/builds/{}/steps/greet/logs/stdio/raw",
        build["buildid"]
    ));
    assert!(steps.is_none(), "raw logs are text, not JSON");
    let raw = client
        .get(format!(
            "{api}/builds/{}/steps/greet/logs/stdio/raw",
            build["buildid"]
        ))
        .send()
        .and_then(|r| r.text())
        .expect("raw log");
    assert!(raw.contains("hello from the binaries"), "log: {raw}");

    // A broken master.cfg is refused by reconfig and the master keeps serving the old one.
    std::fs::write(
        master_dir.join("master.cfg"),
        "c['workers'] = [worker.Worker(\"w1\")]\n",
    )
    .expect("write");
    let refused = run(&ferrobot(), &["reconfig", m]);
    assert!(
        !refused.status.success(),
        "reconfig of a broken file must fail: {refused:?}"
    );
    assert!(
        get(&format!("{api}/builders")).is_some(),
        "the master still serves"
    );

    let stopped = run(&ferrobot_worker(), &["stop", w]);
    assert!(stopped.status.success(), "worker stop: {stopped:?}");
    let stopped = run(&ferrobot(), &["stop", m]);
    assert!(stopped.status.success(), "master stop: {stopped:?}");
    assert!(
        master_dir.join("ferrobot.log").exists(),
        "the master logs to DIR/ferrobot.log"
    );
    drop(worker);
    drop(master);
}

#[test]
fn checkconfig_names_the_file_line_and_column_of_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = tmp.path().join("master.cfg");
    std::fs::write(&cfg, "c['workers'] = []\nc['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=[], bogus=1)]\n")
        .expect("write");
    let output = run(
        &ferrobot(),
        &["checkconfig", tmp.path().to_str().expect("path")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("master.cfg:2:"), "stderr: {stderr}");
    assert!(stderr.contains("bogus"), "stderr: {stderr}");
}

#[test]
fn every_command_has_help() {
    for command in [
        vec!["--help"],
        vec!["create-master", "--help"],
        vec!["start", "--help"],
        vec!["stop", "--help"],
        vec!["reconfig", "--help"],
        vec!["checkconfig", "--help"],
        vec!["upgrade-master", "--help"],
        vec!["quickstart", "--help"],
    ] {
        let output = run(&ferrobot(), &command);
        assert!(output.status.success(), "ferrobot {command:?}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "ferrobot {command:?}"
        );
    }
    for command in [
        vec!["--help"],
        vec!["create-worker", "--help"],
        vec!["start", "--help"],
        vec!["stop", "--help"],
    ] {
        let output = run(&ferrobot_worker(), &command);
        assert!(
            output.status.success(),
            "ferrobot-worker {command:?}: {output:?}"
        );
    }
}

#[test]
fn upgrade_master_creates_the_database_and_refuses_a_missing_config() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("path");
    let refused = run(&ferrobot(), &["upgrade-master", dir]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("master.cfg does not exist"),
        "{refused:?}"
    );
    std::fs::write(
        tmp.path().join("master.cfg"),
        master_cfg(free_port(), free_port(), "true"),
    )
    .expect("write");
    let upgraded = run(&ferrobot(), &["upgrade-master", dir]);
    assert!(upgraded.status.success(), "{upgraded:?}");
    assert!(tmp.path().join("state.sqlite").exists());
}

/// The README's run command: a commit to the sample repository builds by itself; a force builds too.
#[test]
fn quickstart_builds_on_commit_and_on_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("qs");
    let (www, workers) = (free_port(), free_port());
    let child = Command::new(ferrobot())
        .args(["quickstart", dir.to_str().expect("path")])
        .args([
            "--www-port",
            &www.to_string(),
            "--worker-port",
            &workers.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("quickstart");
    let quickstart = Guard(child);
    let api = format!("http://127.0.0.1:{www}/api/v2");
    wait_for("the quickstart worker", || {
        let workers = get(&format!("{api}/workers/local-worker"))?;
        workers["workers"][0]["connected_to"]
            .as_array()
            .filter(|c| !c.is_empty())
            .map(|_| ())
    });
    // The poller must have seen the initial commit before a new one counts as new.
    wait_for("the poller's first look", || {
        let sources = get(&format!("{api}/changesources"))?;
        sources["changesources"]
            .as_array()
            .filter(|s| !s.is_empty())
            .map(|_| ())
    });
    wait_for("the first poll", || {
        master_log_mentions(&dir.join("master"), "git poller initialised")
    });

    let repo = dir.join("sample-repo");
    std::fs::write(repo.join("README"), "changed\n").expect("edit");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["commit", "-qam", "a change"]);
    let build = wait_for("the build of the commit", || {
        let builds = get(&format!("{api}/builds?complete=true"))?;
        builds["builds"].as_array()?.first().cloned()
    });
    assert_eq!(build["results"], json!(0), "{build}");

    let reply: Value = reqwest::blocking::Client::new()
        .post(format!("{api}/forceschedulers/force"))
        .json(&json!({"jsonrpc": "2.0", "method": "force", "id": 1, "params": {"builderNames": ["sample"]}}))
        .send()
        .and_then(|r| r.json())
        .expect("force");
    assert!(reply["result"].is_array(), "force: {reply}");
    wait_for("the forced build", || {
        let builds = get(&format!("{api}/builds?complete=true"))?;
        (builds["builds"].as_array()?.len() >= 2).then_some(())
    });
    let changes = get(&format!("{api}/changes")).expect("changes");
    assert_eq!(
        changes["changes"].as_array().map(Vec::len),
        Some(1),
        "one change for one commit"
    );
    nix_interrupt(&quickstart.0);
}

fn master_log_mentions(master_dir: &Path, needle: &str) -> Option<()> {
    let log = std::fs::read_to_string(master_dir.join("ferrobot.log")).ok()?;
    log.to_lowercase().contains(needle).then_some(())
}

fn nix_interrupt(child: &Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
}
