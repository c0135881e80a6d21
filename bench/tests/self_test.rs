//! The harness's own check, part of the test suite: W1 with a few builds on Ferrobot only,
//! with the debug programs of this checkout, run as a user runs the harness. It asserts what
//! the harness reports (builds counted, all SUCCESS, a JSON file), never how fast they were.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The directory of the `ferrobot` and `ferrobot-worker` debug programs: next to this test's
/// `deps/` directory, built with cargo when one is missing.
fn ferrobot_binaries() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug")
        .to_owned();
    if !(dir.join("ferrobot").is_file() && dir.join("ferrobot-worker").is_file()) {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--bin", "ferrobot", "--bin", "ferrobot-worker"])
            .current_dir(root)
            .status()
            .expect("run cargo build");
        assert!(
            status.success(),
            "cargo build --bin ferrobot --bin ferrobot-worker failed"
        );
    }
    dir
}

#[test]
fn w1_on_ferrobot_runs_three_successful_builds_and_writes_the_results() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let results = tmp.path().join("results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_ferrobot-bench"))
        .args(["w1", "--builds", "3", "--ferrobot-only", "--binaries"])
        .arg(ferrobot_binaries())
        .arg("--results")
        .arg(&results)
        .output()
        .expect("run ferrobot-bench");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "ferrobot-bench failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("W1 force→complete median (ms)"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("results file"))
            .expect("JSON");
    let median = json["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["id"] == "w1.median_ms")
        .expect("the W1 median");
    assert!(
        median["ferrobot"].as_f64().is_some_and(|ms| ms > 0.0),
        "{median}"
    );
    assert!(
        median["buildbot"].is_null(),
        "Buildbot ran although --ferrobot-only was given: {median}"
    );
    assert_eq!(json["details"]["W1.ferrobot"]["builds"], 3, "{json}");
    assert_eq!(
        json["run"]["machine"]["cores"].as_u64().map(|c| c > 0),
        Some(true),
        "{json}"
    );
}

#[test]
fn an_unknown_workload_is_refused_with_the_valid_names() {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrobot-bench"))
        .arg("w9")
        .output()
        .expect("run ferrobot-bench");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("w9") && stderr.contains("w1") && stderr.contains("all"),
        "{stderr}"
    );
}
