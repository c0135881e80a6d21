//! The programs under test: Ferrobot's release binaries from this checkout (built if needed)
//! and Buildbot 4.3 from PyPI in a virtualenv of the harness's own (created if missing).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The Buildbot release series the harness compares against.
pub const BUILDBOT_SERIES: &str = "4.3";

/// The workspace root (the harness lives in `bench/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Where the `ferrobot` and `ferrobot-worker` programs are: `explicit` if given (they must be
/// there), else `target/release` of this checkout after `cargo build --release` of the two (a
/// no-op when they are up to date, so a run never measures stale binaries).
pub fn ferrobot_binaries(explicit: Option<&Path>) -> Result<PathBuf> {
    let dir = match explicit {
        Some(dir) => dir.to_owned(),
        None => {
            let root = workspace_root();
            eprintln!("building the release binaries ferrobot and ferrobot-worker...");
            let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args([
                    "build",
                    "--release",
                    "--bin",
                    "ferrobot",
                    "--bin",
                    "ferrobot-worker",
                ])
                .current_dir(&root)
                .status()
                .context("running cargo build --release")?;
            if !status.success() {
                bail!(
                    "cargo build --release --bin ferrobot --bin ferrobot-worker failed ({status})"
                );
            }
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| root.join("target"), PathBuf::from)
                .join("release")
        }
    };
    // Absolute, because the programs are started in the masters' and workers' directories.
    let dir =
        std::fs::canonicalize(&dir).with_context(|| format!("no directory {}", dir.display()))?;
    for program in ["ferrobot", "ferrobot-worker"] {
        if !dir.join(program).is_file() {
            bail!(
                "{program} is not in {}: build it with `cargo build --bin {program}`",
                dir.display()
            );
        }
    }
    Ok(dir)
}

/// A virtualenv at `venv` with buildbot, buildbot-worker and buildbot-www of
/// [`BUILDBOT_SERIES`], created with `python3 -m venv` and pip if missing.
pub fn buildbot_venv(venv: &Path) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    let check = || -> Result<Option<String>> {
        if !python.is_file() {
            return Ok(None);
        }
        let out = Command::new(&python)
            .args([
                "-c",
                "import buildbot, buildbot_worker, buildbot_www; print(buildbot.version)",
            ])
            .output()?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(
            (out.status.success() && version.starts_with(&format!("{BUILDBOT_SERIES}.")))
                .then_some(version),
        )
    };
    if let Some(version) = check()? {
        eprintln!("using Buildbot {version} from {}", venv.display());
        return Ok(venv.to_owned());
    }
    eprintln!(
        "installing Buildbot {BUILDBOT_SERIES} from PyPI into {}...",
        venv.display()
    );
    run(
        Command::new("python3").arg("-m").arg("venv").arg(venv),
        "python3 -m venv",
    )?;
    let series = format!("=={BUILDBOT_SERIES}.*");
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet"])
            .args(["buildbot", "buildbot-worker", "buildbot-www"].map(|p| format!("{p}{series}"))),
        "pip install buildbot buildbot-worker buildbot-www",
    )?;
    let version = check()?.with_context(|| {
        format!(
            "{} has no Buildbot {BUILDBOT_SERIES} after pip install",
            venv.display()
        )
    })?;
    eprintln!("installed Buildbot {version}");
    Ok(venv.to_owned())
}

/// Runs a set-up command, failing with its output.
pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let out = command
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
