//! A sandbox that runs a master and workers in-process on port-0 listeners, and the helpers
//! the integration tests share: REST calls, forcing builds, waiting on bus events.
#![warn(missing_docs)]

mod cluster;

pub use cluster::ClusterServices;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use ferrobot_bus::Pattern;
pub use ferrobot_master::roles::Roles;
use ferrobot_master::service::{MasterOptions, RunningMaster, Tuning};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where a sandbox master listens for workers unless told otherwise.
const LOOPBACK_ANY_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// How long any wait in a test may take before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A worker running in-process.
pub struct SandboxWorker {
    /// Its name.
    pub name: String,
    /// Its base directory.
    pub basedir: PathBuf,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl SandboxWorker {
    /// Stops the worker as a SIGTERM would: running commands are killed, the session closes.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(TIMEOUT, self.task).await;
    }
}

/// A master with its directory, plus workers, all in this process.
pub struct Sandbox {
    /// The master directory (a temporary directory).
    pub dir: tempfile::TempDir,
    /// The running master.
    pub master: Option<RunningMaster>,
    /// `http://127.0.0.1:PORT/api/v2`.
    pub api: String,
    /// HTTP client.
    pub http: reqwest::Client,
    cancel: CancellationToken,
    /// The master's own runtime, for a sandbox that may [`Sandbox::crash`].
    runtime: Option<OwnRuntime>,
}

/// A runtime that may be dropped inside another one (a failing test drops its sandboxes there,
/// where a plain runtime's drop would panic).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn get(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("runtime present until dropped")
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Sandbox {
    /// Writes `cfg` as master.cfg in a fresh directory and starts a master on it.
    pub async fn start(cfg: &str) -> Result<Sandbox> {
        let dir = tempfile::tempdir()?;
        Self::start_in(dir, cfg).await
    }

    /// Starts a master in an existing directory (e.g. to restart on the same database).
    pub async fn start_in(dir: tempfile::TempDir, cfg: &str) -> Result<Sandbox> {
        Self::start_with(dir, cfg, "sandbox", Roles::ALL).await
    }

    /// Starts a master with a name and roles (for cluster tests: several sandboxes, one database).
    pub async fn start_with(
        dir: tempfile::TempDir,
        cfg: &str,
        name: &str,
        roles: Roles,
    ) -> Result<Sandbox> {
        Self::launch(
            dir,
            cfg,
            name,
            roles,
            Tuning::default(),
            None,
            LOOPBACK_ANY_PORT,
        )
        .await
    }

    /// Starts a cluster master with a lease of `lease_ttl` on a runtime of its own, so that
    /// [`Sandbox::crash`] can end it the way `kill -9` would.
    pub async fn start_crashable(
        dir: tempfile::TempDir,
        cfg: &str,
        name: &str,
        roles: Roles,
        lease_ttl: Duration,
    ) -> Result<Sandbox> {
        Self::start_crashable_listening(dir, cfg, name, roles, lease_ttl, LOOPBACK_ANY_PORT).await
    }

    /// [`Sandbox::start_crashable`] with the worker port bound to `worker_listen`, as
    /// `ferrobot start --worker-listen ADDR:PORT` does (e.g. several builder masters on one
    /// port at 127.0.0.2, 127.0.0.3, ...).
    pub async fn start_crashable_listening(
        dir: tempfile::TempDir,
        cfg: &str,
        name: &str,
        roles: Roles,
        lease_ttl: Duration,
        worker_listen: SocketAddr,
    ) -> Result<Sandbox> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("master-{name}"))
            .enable_all()
            .build()?;
        let runtime = OwnRuntime(Some(runtime));
        let tuning = Tuning { lease_ttl };
        Self::launch(dir, cfg, name, roles, tuning, Some(runtime), worker_listen).await
    }

    async fn launch(
        dir: tempfile::TempDir,
        cfg: &str,
        name: &str,
        roles: Roles,
        tuning: Tuning,
        runtime: Option<OwnRuntime>,
        worker_listen: SocketAddr,
    ) -> Result<Sandbox> {
        // The master's log goes to the test's output (shown when a test fails); one per process.
        let _ = ferrobot_telemetry::init(&ferrobot_telemetry::Options::default());
        let path = dir.path().join("master.cfg");
        std::fs::write(&path, cfg)?;
        let config = ferrobot_config::load(&path).map_err(|e| anyhow!("{e}"))?;
        let options = MasterOptions {
            basedir: dir.path().to_path_buf(),
            config,
            name: Some(name.into()),
            roles,
            www_listener: Some(TcpListener::bind("127.0.0.1:0").await?),
            worker_listener: Some(
                TcpListener::bind(worker_listen)
                    .await
                    .with_context(|| format!("cannot listen for workers on {worker_listen}"))?,
            ),
        };
        let cancel = CancellationToken::new();
        let starting = ferrobot_master::service::start_tuned(options, tuning, cancel.clone());
        let started = match &runtime {
            // Everything the master spawns then lives on its runtime and dies with it.
            Some(runtime) => runtime.get().spawn(starting).await?,
            None => starting.await,
        };
        let master = started.map_err(|e| anyhow!("master did not start: {e}"))?;
        // A master without the www role has no API of its own; tests then ask another master.
        let api = master
            .www_addr
            .map(|addr| format!("http://{addr}/api/v2"))
            .unwrap_or_default();
        Ok(Sandbox {
            dir,
            master: Some(master),
            api,
            http: reqwest::Client::new(),
            cancel,
            runtime,
        })
    }

    /// The running master.
    pub fn master(&self) -> &RunningMaster {
        self.master.as_ref().expect("master running")
    }

    /// Starts a worker connected to this master, with its own base directory.
    pub async fn add_worker(&self, name: &str, password: &str) -> Result<SandboxWorker> {
        let basedir = self.dir.path().join(format!("worker-{name}"));
        let address = self
            .master()
            .worker_addr
            .ok_or_else(|| anyhow!("this master has no builder role"))?
            .to_string();
        let mut options = ferrobot_worker::WorkerOptions::new(&basedir, address, name, password);
        options.maxdelay = Duration::from_secs(1);
        ferrobot_worker::create_worker(&options, true)
            .map_err(|e| anyhow!("create_worker: {e}"))?;
        let cancel = CancellationToken::new();
        let task = tokio::spawn({
            let cancel = cancel.clone();
            async move {
                if let Err(error) = ferrobot_worker::run(options, cancel).await {
                    eprintln!("sandbox worker ended: {error}");
                }
            }
        });
        Ok(SandboxWorker {
            name: name.into(),
            basedir,
            cancel,
            task,
        })
    }

    /// Waits until the named worker shows as connected in the REST API.
    pub async fn wait_worker_connected(&self, name: &str) -> Result<()> {
        let pattern = Pattern::parse("workers.*.connected", '.');
        self.wait_until(&pattern, || async {
            let workers = self.get(&format!("/workers/{name}")).await?;
            Ok(workers["workers"][0]["connected_to"]
                .as_array()
                .is_some_and(|c| !c.is_empty()))
        })
        .await
        .with_context(|| format!("worker {name} never connected"))
    }

    /// GET on the REST API; fails unless 200.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let response = self.http.get(format!("{}{path}", self.api)).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("GET {path} -> {status}: {body}");
        }
        Ok(body)
    }

    /// GET returning the raw status and body text.
    pub async fn get_raw(&self, path: &str) -> Result<(u16, String)> {
        let response = self.http.get(format!("{}{path}", self.api)).send().await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    /// A JSON-RPC call on a REST path; returns the whole reply and the HTTP status.
    pub async fn rpc(&self, path: &str, method: &str, params: Value) -> Result<(u16, Value)> {
        let body = json!({"jsonrpc": "2.0", "method": method, "id": 1, "params": params});
        let response = self
            .http
            .post(format!("{}{path}", self.api))
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Forces `builder` through the ForceScheduler `force`; returns the request id.
    pub async fn force(&self, builder: &str) -> Result<i64> {
        let (status, reply) = self
            .rpc(
                "/forceschedulers/force",
                "force",
                json!({"builderNames": [builder]}),
            )
            .await?;
        let brid = reply["result"][1]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(Value::as_i64);
        brid.ok_or_else(|| anyhow!("force failed: HTTP {status} {reply}"))
    }

    /// Waits (bounded) until `check` holds, re-checking after every event matching `pattern`
    /// and, in case an event was missed, once a second.
    pub async fn wait_until<F, Fut>(&self, pattern: &Pattern, check: F) -> Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let mut subscription = self.master().ctx.events.bus().subscribe(pattern).await?;
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            if check().await.unwrap_or(false) {
                return Ok(());
            }
            tokio::select! {
                _ = subscription.next() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = tokio::time::sleep_until(deadline) => bail!("timed out after {TIMEOUT:?}"),
            }
        }
    }

    /// Waits until a build request is complete and returns its last build.
    pub async fn wait_request_done(&self, brid: i64) -> Result<Value> {
        let pattern = Pattern::parse("buildrequests.*.complete", '.');
        self.wait_until(&pattern, || async {
            let requests = self.get(&format!("/buildrequests/{brid}")).await?;
            Ok(requests["buildrequests"][0]["complete"] == json!(true))
        })
        .await
        .with_context(|| format!("build request {brid} never completed"))?;
        let builds = self.get(&format!("/builds?buildrequestid={brid}")).await?;
        builds["builds"]
            .as_array()
            .and_then(|b| b.last().cloned())
            .ok_or_else(|| anyhow!("request {brid} completed without a build"))
    }

    /// Waits until the newest build of a request has `text` in its logs; returns its id.
    pub async fn wait_build_log(&self, brid: i64, text: &str) -> Result<i64> {
        let pattern = Pattern::parse("logs.*.append", '.');
        let newest_build = || async {
            let builds = self.get(&format!("/builds?buildrequestid={brid}")).await?;
            Ok::<_, anyhow::Error>(
                builds["builds"]
                    .as_array()
                    .and_then(|b| b.last()?["buildid"].as_i64()),
            )
        };
        self.wait_until(&pattern, || async {
            let Some(buildid) = newest_build().await? else {
                return Ok(false);
            };
            Ok(self.build_log_text(buildid).await?.contains(text))
        })
        .await
        .with_context(|| format!("the build of request {brid} never logged {text:?}"))?;
        newest_build()
            .await?
            .ok_or_else(|| anyhow!("request {brid} has no build"))
    }

    /// Stops a build through the REST API's JSON-RPC `stop`.
    pub async fn stop_build(&self, buildid: i64) -> Result<()> {
        let (status, reply) = self
            .rpc(
                &format!("/builds/{buildid}"),
                "stop",
                json!({"reason": "test"}),
            )
            .await?;
        if status != 200 {
            bail!("stop of build {buildid}: HTTP {status} {reply}");
        }
        Ok(())
    }

    /// The text of every log of a build, as `/raw` serves it.
    pub async fn build_log_text(&self, buildid: i64) -> Result<String> {
        let mut text = String::new();
        let steps = self.get(&format!("/builds/{buildid}/steps")).await?;
        for step in steps["steps"].as_array().into_iter().flatten() {
            let logs = self.get(&format!("/steps/{}/logs", step["stepid"])).await?;
            for log in logs["logs"].as_array().into_iter().flatten() {
                let (_, body) = self.get_raw(&format!("/logs/{}/raw", log["logid"])).await?;
                text.push_str(&body);
            }
        }
        Ok(text)
    }

    /// Stops the master (running builds end RETRY).
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(master) = self.master.take() {
            master.shutdown().await;
        }
        self.cancel.cancel();
        drop(self.runtime.take());
        self.dir
    }

    /// Ends a master started with [`Sandbox::start_crashable`] as `kill -9` would: its tasks
    /// stop where they are, nothing is cleaned up, its lease is no longer renewed and its
    /// workers lose their connection. The database still shows it active.
    pub fn crash(mut self) -> tempfile::TempDir {
        let runtime = self
            .runtime
            .take()
            .expect("only a sandbox from start_crashable can crash");
        drop(runtime);
        // Dropped after its runtime, so no clean-up of it can run.
        drop(self.master.take());
        self.dir
    }
}

/// A git repository in a directory, with one commit on `main`.
pub fn git_repo(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path)?;
    git(path, &["init", "-q", "-b", "main"])?;
    commit(path, "first.txt", "first commit")?;
    Ok(())
}

/// Adds a file and commits it; returns the new revision.
pub fn commit(repo: &Path, file: &str, message: &str) -> Result<String> {
    std::fs::write(repo.join(file), message)?;
    git(repo, &["add", file])?;
    git(repo, &["commit", "-q", "-m", message])?;
    git(repo, &["rev-parse", "HEAD"])
}

/// Runs git in a directory with a fixed identity; returns its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .output()?;
    if !output.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
