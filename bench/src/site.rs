//! One master with its workers, of either system, in a directory of its own on free loopback
//! ports: created, started, restarted and stopped the same way for Ferrobot and Buildbot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::api::{Api, poll};
use crate::cfg::{self, Shape};
use crate::procs::{self, Proc};
use crate::tools::run;

/// The password of every benchmark worker.
const PASSWORD: &str = "bench-pw";

/// Which system a site runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// This checkout's `ferrobot` and `ferrobot-worker`.
    Ferrobot,
    /// Buildbot from the harness's virtualenv.
    Buildbot,
}

impl Kind {
    /// The lower-case name used in directories and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ferrobot => "ferrobot",
            Kind::Buildbot => "buildbot",
        }
    }
}

/// Where the programs of both systems are.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Directory holding `ferrobot` and `ferrobot-worker`.
    pub ferrobot_bins: PathBuf,
    /// The Buildbot virtualenv, when Buildbot is measured.
    pub buildbot_venv: Option<PathBuf>,
}

impl Tools {
    fn program(&self, kind: Kind, name: &str) -> Result<PathBuf> {
        match kind {
            Kind::Ferrobot => Ok(self.ferrobot_bins.join(name)),
            Kind::Buildbot => Ok(self
                .buildbot_venv
                .as_ref()
                .context("Buildbot is not set up (--ferrobot-only was given)")?
                .join("bin")
                .join(name)),
        }
    }
}

/// A master (and its workers) of one system.
#[derive(Debug)]
pub struct Site {
    /// The system.
    pub kind: Kind,
    /// Its REST API.
    pub api: Api,
    worker_port: u16,
    dir: PathBuf,
    master_dir: PathBuf,
    tools: Tools,
    // Workers are declared first so they are dropped (stopped) before the master.
    workers: Vec<Proc>,
    master: Option<Proc>,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Site {
    /// Creates the master directory `<parent>/<label>-<kind>/master` with the rendered master.cfg.
    pub fn create(
        kind: Kind,
        tools: &Tools,
        parent: &Path,
        label: &str,
        shape: &Shape,
    ) -> Result<Site> {
        let dir = parent.join(format!("{label}-{}", kind.name()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let master_dir = dir.join("master");
        let (www_port, worker_port) = (free_port()?, free_port()?);
        let m = master_dir
            .to_str()
            .context("the temporary directory is not UTF-8")?;
        match kind {
            Kind::Ferrobot => run(
                Command::new(tools.program(kind, "ferrobot")?).args(["create-master", m]),
                "ferrobot create-master",
            )?,
            Kind::Buildbot => run(
                Command::new(tools.program(kind, "buildbot")?).args(["create-master", "-r", m]),
                "buildbot create-master",
            )?,
        }
        std::fs::write(
            master_dir.join("master.cfg"),
            cfg::render(shape, www_port, worker_port),
        )?;
        Ok(Site {
            kind,
            api: Api::new(www_port)?,
            worker_port,
            dir,
            master_dir,
            tools: tools.clone(),
            workers: Vec::new(),
            master: None,
        })
    }

    /// Starts the master; returns the time from process start until its REST API answers.
    pub async fn start_master(&mut self) -> Result<Duration> {
        let log = self.dir.join("master.out");
        let m = self
            .master_dir
            .to_str()
            .context("the temporary directory is not UTF-8")?;
        let started = Instant::now();
        let proc = match self.kind {
            Kind::Ferrobot => Proc::spawn(
                "ferrobot master",
                &self.tools.program(self.kind, "ferrobot")?,
                &["start", m],
                &self.master_dir,
                &log,
            )?,
            Kind::Buildbot => Proc::spawn(
                "buildbot master",
                &self.tools.program(self.kind, "buildbot")?,
                &["start", "--nodaemon", m],
                &self.master_dir,
                &log,
            )?,
        };
        let master = self.master.insert(proc);
        let api = self.api.clone();
        let start = Instant::now();
        loop {
            if api.get_text("builders").await.is_ok() {
                return Ok(started.elapsed());
            }
            master.check_running()?;
            if start.elapsed() > Duration::from_secs(180) {
                bail!(
                    "{} master's REST API did not answer within 180 s; see {}",
                    self.kind.name(),
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the master (SIGTERM, waiting for it to exit).
    pub fn stop_master(&mut self) {
        if let Some(mut master) = self.master.take() {
            master.stop();
        }
    }

    /// The master's process id.
    pub fn master_pid(&self) -> Result<i32> {
        self.master
            .as_ref()
            .map(Proc::pid)
            .context("the master is not running")
    }

    /// The workers' process ids.
    pub fn worker_pids(&self) -> Vec<i32> {
        self.workers.iter().map(Proc::pid).collect()
    }

    /// Creates and starts one worker process per name.
    pub fn start_workers(&mut self, names: &[String]) -> Result<()> {
        let address = format!("127.0.0.1:{}", self.worker_port);
        let mut template: Option<(PathBuf, String)> = None;
        for name in names {
            let dir = self.dir.join(format!("worker-{name}"));
            let d = dir
                .to_str()
                .context("the temporary directory is not UTF-8")?;
            let log = self.dir.join(format!("worker-{name}.out"));
            let proc = match self.kind {
                Kind::Ferrobot => {
                    let program = self.tools.program(self.kind, "ferrobot-worker")?;
                    run(
                        Command::new(&program).args(["create-worker", d, &address, name, PASSWORD]),
                        "ferrobot-worker create-worker",
                    )?;
                    Proc::spawn(
                        &format!("ferrobot-worker {name}"),
                        &program,
                        &["start", d],
                        &dir,
                        &log,
                    )?
                }
                Kind::Buildbot => {
                    match &template {
                        // Python starts slowly: create-worker once, then copy its buildbot.tac.
                        None => {
                            let program = self.tools.program(self.kind, "buildbot-worker")?;
                            run(
                                Command::new(&program).args([
                                    "create-worker",
                                    d,
                                    &address,
                                    name,
                                    PASSWORD,
                                ]),
                                "buildbot-worker create-worker",
                            )?;
                            template = Some((dir.clone(), name.clone()));
                        }
                        Some((first_dir, first_name)) => {
                            copy_buildbot_worker(first_dir, first_name, &dir, name)?
                        }
                    }
                    let program = self.tools.program(self.kind, "buildbot-worker")?;
                    Proc::spawn(
                        &format!("buildbot-worker {name}"),
                        &program,
                        &["start", "--nodaemon", d],
                        &dir,
                        &log,
                    )?
                }
            };
            self.workers.push(proc);
        }
        Ok(())
    }

    /// Waits until `count` workers are connected to the master.
    pub async fn wait_workers(&mut self, count: usize, timeout: Duration) -> Result<()> {
        let api = self.api.clone();
        let what = format!("{count} {} workers to connect", self.kind.name());
        let result = poll(&what, timeout, Duration::from_millis(200), || {
            let api = api.clone();
            async move { Ok((api.connected_workers().await? >= count).then_some(())) }
        })
        .await;
        if result.is_err() {
            self.check_running()?;
        }
        result
    }

    /// Fails, naming the log, if the master or a worker has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(master) = self.master.as_mut() {
            master.check_running()?;
        }
        for worker in &mut self.workers {
            worker.check_running()?;
        }
        Ok(())
    }

    /// Stops the workers (all at once) and then the master.
    pub fn stop(&mut self) {
        procs::stop_all(&mut self.workers);
        self.workers.clear();
        self.stop_master();
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes `dir` a copy of the Buildbot worker directory `first_dir`, for worker `name`.
fn copy_buildbot_worker(first_dir: &Path, first_name: &str, dir: &Path, name: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("info"))?;
    for file in ["info/admin", "info/host"] {
        std::fs::copy(first_dir.join(file), dir.join(file))?;
    }
    let tac = std::fs::read_to_string(first_dir.join("buildbot.tac"))?;
    let (from_dir, to_dir) = (
        format!("'{}'", first_dir.display()),
        format!("'{}'", dir.display()),
    );
    let (from_name, to_name) = (format!("'{first_name}'"), format!("'{name}'"));
    if !tac.contains(&from_dir) || !tac.contains(&from_name) {
        bail!(
            "{}/buildbot.tac does not name its directory and worker as expected",
            first_dir.display()
        );
    }
    std::fs::write(
        dir.join("buildbot.tac"),
        tac.replace(&from_dir, &to_dir)
            .replace(&from_name, &to_name),
    )?;
    Ok(())
}
