//! `create-worker` takes every option of Buildbot's worker (seed 003) plus Ferrobot's own,
//! stores them, lists them in `--help` and explains bad values.

use std::path::Path;
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_ferrobot-worker");

fn worker(args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn settings(dir: &Path) -> serde_json::Value {
    let raw = std::fs::read_to_string(dir.join("worker.json")).expect("worker.json");
    serde_json::from_str(&raw).expect("worker.json is JSON")
}

/// Buildbot's create-worker options (docs "Worker Options") and Ferrobot's additions.
const OPTIONS: &[&str] = &[
    "--protocol",
    "--no-logrotate",
    "--umask",
    "--keepalive",
    "--maxdelay",
    "--maxretries",
    "--log-size",
    "--log-count",
    "--allow-shutdown",
    "--use-tls",
    "--delete-leftover-dirs",
    "--connection-string",
    "--proxy-connection-string",
    "--ca-certs",
    "--max-builds",
    "--nameserver",
];

#[test]
fn help_lists_every_option() {
    let out = worker(&["create-worker", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for option in OPTIONS {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn every_option_is_accepted_and_stored() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("w");
    let d = dir.to_str().expect("utf-8");
    let out = worker(&[
        "create-worker",
        "--protocol=pb",
        "--umask=0o22",
        "--keepalive=120",
        "--maxdelay=60",
        "--maxretries=3",
        "--log-size=1000000",
        "--log-count=None",
        "--allow-shutdown=file",
        "--use-tls",
        "--ca-certs=cas",
        "--delete-leftover-dirs",
        "--connection-string=tls:master.example:9989:trustRoots=/etc/ci-cas",
        "--proxy-connection-string=tcp:host=proxy.example:port=3128",
        "--max-builds=2",
        d,
        "master.example:9989",
        "w1",
        "pw",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = settings(&dir);
    assert_eq!(json["umask"], "0o022");
    assert_eq!(json["log_size"], 1_000_000);
    assert_eq!(json["log_count"], serde_json::Value::Null);
    assert_eq!(json["allow_shutdown"], "file");
    assert_eq!(json["use_tls"], true);
    assert_eq!(json["ca_certs"], "cas");
    assert_eq!(json["delete_leftover_dirs"], true);
    assert_eq!(
        json["connection_string"],
        "tls:master.example:9989:trustRoots=/etc/ci-cas"
    );
    assert_eq!(
        json["proxy_connection_string"],
        "tcp:host=proxy.example:port=3128"
    );
    assert_eq!(json["max_builds"], 2);
    let loaded = ferrobot_worker::WorkerOptions::load(&dir).expect("loads back");
    assert_eq!(
        loaded.allow_shutdown,
        Some(ferrobot_worker::AllowShutdown::File)
    );
    assert_eq!(loaded.log_count, None);

    let no_rotate = tmp.path().join("n");
    let out = worker(&[
        "create-worker",
        "--no-logrotate",
        "--protocol",
        "msgpack_experimental_v7",
        no_rotate.to_str().expect("utf-8"),
        "m:9989",
        "w1",
        "pw",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(settings(&no_rotate)["no_logrotate"], true);
}

#[test]
fn bad_option_values_are_explained() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let d = tmp.path().join("w");
    let d = d.to_str().expect("utf-8");
    for (option, expected) in [
        ("--allow-shutdown=always", "expected 'signal' or 'file'"),
        (
            "--connection-string=unix:/tmp/s",
            "\"unix\" is not supported",
        ),
        (
            "--connection-string=tcp:m:9989:bindAddress=x",
            "tls:HOST:PORT",
        ),
        ("--proxy-connection-string=tcp:p", "no port"),
        ("--max-builds=0", "--max-builds"),
        ("--log-count=many", "not a number or None"),
        ("--protocol=http", "--protocol"),
    ] {
        let out = worker(&["create-worker", option, d, "m:9989", "w1", "pw"]);
        assert!(!out.status.success(), "{option} was accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{option}: {stderr}");
    }
    assert!(
        !tmp.path().join("w").exists(),
        "nothing is written on bad input"
    );
}

#[test]
fn worker_log_rotates_at_log_size_keeping_log_count_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("w");
    let d = dir.to_str().expect("utf-8");
    // Nothing listens on port 1: every attempt fails and is logged, then the worker gives up.
    let out = worker(&[
        "create-worker",
        "--log-size=2000",
        "--log-count=2",
        "--maxretries=30",
        "--maxdelay=0",
        d,
        "127.0.0.1:1",
        "w1",
        "pw",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = worker(&["start", d]);
    assert!(
        !run.status.success(),
        "maxretries ends the worker with an error"
    );
    assert!(
        text(&run.stderr).contains("giving up after 30"),
        "{}",
        text(&run.stderr)
    );
    for file in ["worker.log", "worker.log.1", "worker.log.2"] {
        let size = std::fs::metadata(dir.join(file)).expect(file).len();
        assert!(size > 0 && size <= 2000, "{file}: {size} bytes");
    }
    assert!(
        !dir.join("worker.log.3").exists(),
        "only 2 rotated logs are kept"
    );
    let newest = std::fs::read_to_string(dir.join("worker.log")).expect("log");
    assert!(newest.contains("giving up on the master"), "{newest}");
}
