//! `ferrobot quickstart`: a sample git repository, a master polling it and a local worker, all
//! running in this process, so a fresh machine has a working CI in one command.

use std::path::{Path, PathBuf};
use std::process::Command;

use tokio_util::sync::CancellationToken;

use super::master_dir::log_path;
use super::start::bind;
use crate::service::MasterOptions;
use crate::{Error, Result};

const TEMPLATE: &str = include_str!("templates/quickstart.cfg");
const WORKER_NAME: &str = "local-worker";

fn git(repo: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Ferrobot Quickstart")
        .env("GIT_AUTHOR_EMAIL", "quickstart@ferrobot.invalid")
        .env("GIT_COMMITTER_NAME", "Ferrobot Quickstart")
        .env("GIT_COMMITTER_EMAIL", "quickstart@ferrobot.invalid")
        .output()
        .map_err(|e| Error::io("running git (is git installed?)", e))?;
    if !output.status.success() {
        return Err(Error::Internal(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// The sample repository with one commit on `main`.
fn create_sample_repo(repo: &Path) -> Result<()> {
    if repo.join(".git").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(repo).map_err(|e| Error::io("creating the sample repository", e))?;
    git(repo, &["init", "-q", "-b", "main"])?;
    write(
        &repo.join("build.sh"),
        "#!/bin/sh\necho \"building $(git rev-parse --short HEAD)\"\nls -l\n",
    )?;
    write(
        &repo.join("README"),
        "A sample repository for Ferrobot's quickstart. Commit here to start a build.\n",
    )?;
    git(repo, &["add", "."])?;
    git(repo, &["commit", "-q", "-m", "Initial commit"])
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(format!("resolving {}", path.display()), e))
}

fn config_port(master: &crate::service::RunningMaster) -> u16 {
    master
        .www_addr
        .map_or(master.ctx.config().www.port, |addr| addr.port())
}

/// Creates what is missing under DIR, then runs master and worker until Ctrl-C.
pub async fn quickstart(dir: &Path, www_port: u16, worker_port: u16) -> Result<()> {
    let dir = absolute(dir)?;
    let repo = dir.join("sample-repo");
    let master_dir = dir.join("master");
    let worker_dir = dir.join("worker");
    create_sample_repo(&repo)?;
    std::fs::create_dir_all(&master_dir)
        .map_err(|e| Error::io("creating the master directory", e))?;
    let password = format!("qs-{}", uuid::Uuid::new_v4().simple());
    let cfg_path = master_dir.join("master.cfg");
    if !cfg_path.exists() {
        let text = TEMPLATE
            .replace("{password}", &password)
            .replace("{repo}", &repo.display().to_string())
            .replace("{www_port}", &www_port.to_string())
            .replace("{worker_port}", &worker_port.to_string());
        write(&cfg_path, &text)?;
    }
    let config = ferrobot_config::load(&cfg_path)?;
    let password = config
        .workers
        .iter()
        .find(|w| w.name == WORKER_NAME)
        .map(|w| w.password.clone())
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "{} has no worker {WORKER_NAME:?}",
                cfg_path.display()
            ))
        })?;
    let _telemetry = ferrobot_telemetry::init(&ferrobot_telemetry::Options {
        log_file: Some(log_path(&master_dir, None)),
        ..Default::default()
    })
    .map_err(|e| Error::Internal(format!("logging set-up failed: {e}")))?;

    let www_listener = bind(Some("127.0.0.1"), config.www.port, "the web server").await?;
    let worker_listener = bind(Some("127.0.0.1"), config.worker_port, "workers").await?;
    let worker_address = format!("127.0.0.1:{}", config.worker_port);
    let cancel = CancellationToken::new();
    let options = MasterOptions {
        basedir: master_dir.clone(),
        config,
        name: None,
        roles: crate::roles::Roles::ALL,
        www_listener: Some(www_listener),
        worker_listener: Some(worker_listener),
    };
    let master = crate::service::start(options, cancel.clone()).await?;

    let worker_options =
        ferrobot_worker::WorkerOptions::new(&worker_dir, worker_address, WORKER_NAME, password);
    ferrobot_worker::create_worker(&worker_options, true)
        .map_err(|e| Error::Internal(format!("creating the worker: {e}")))?;
    let worker_cancel = CancellationToken::new();
    let worker = tokio::spawn(ferrobot_worker::run(worker_options, worker_cancel.clone()));

    let url = format!("http://localhost:{}/", config_port(&master));
    println!();
    println!("Ferrobot is running at {url}");
    println!(
        "  master:  {} (log: {})",
        master_dir.display(),
        log_path(&master_dir, None).display()
    );
    println!("  worker:  {}", worker_dir.display());
    println!("  sample repository: {}", repo.display());
    println!("A commit to the sample repository starts a build within seconds; try:");
    println!(
        "  cd {} && echo change >> README && git commit -qam change",
        repo.display()
    );
    println!("Force a build:");
    println!(
        "  curl -s -X POST -H 'Content-Type: application/json' {url}api/v2/forceschedulers/force \\\n    \
         -d '{{\"jsonrpc\":\"2.0\",\"method\":\"force\",\"id\":1,\"params\":{{\"builderNames\":[\"sample\"]}}}}'"
    );
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    worker_cancel.cancel();
    let _ = worker.await;
    master.shutdown().await;
    Ok(())
}
