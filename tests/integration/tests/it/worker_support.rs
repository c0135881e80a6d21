//! What the worker tests share: in-process workers with any options, real `ferrobot-worker`
//! processes, certificates made with rcgen, and small TCP helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use ferrobot_integration_tests::{Sandbox, TIMEOUT};
use ferrobot_worker::WorkerOptions;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Options for a worker `name` of `sandbox` (base directory `worker-NAME` in its directory).
pub fn options(sandbox: &Sandbox, name: &str) -> WorkerOptions {
    let basedir = sandbox.dir.path().join(format!("worker-{name}"));
    let addr = sandbox.master().worker_addr.expect("builder master");
    let mut options = WorkerOptions::new(basedir, addr.to_string(), name, "pw");
    options.maxdelay = Duration::from_millis(500);
    options
}

/// A worker running in this process; [`InProcessWorker::finished`] waits for it to end.
pub struct InProcessWorker {
    pub basedir: PathBuf,
    pub cancel: CancellationToken,
    task: JoinHandle<ferrobot_worker::Result<()>>,
}

impl InProcessWorker {
    /// Writes the worker directory (settings and `info/`) and starts the worker.
    pub fn start(options: WorkerOptions) -> anyhow::Result<Self> {
        ferrobot_worker::create_worker(&options, true).map_err(|e| anyhow!("{e}"))?;
        Ok(Self::start_created(options))
    }

    /// Starts a worker whose directory exists already.
    pub fn start_created(options: WorkerOptions) -> Self {
        let cancel = CancellationToken::new();
        let basedir = options.basedir.clone();
        let task = tokio::spawn(ferrobot_worker::run(options, cancel.clone()));
        Self {
            basedir,
            cancel,
            task,
        }
    }

    /// Waits (bounded) for the worker to end by itself and returns how it ended.
    pub async fn finished(self) -> anyhow::Result<ferrobot_worker::Result<()>> {
        tokio::time::timeout(TIMEOUT, self.task)
            .await
            .context("the worker did not stop")?
            .context("the worker task panicked")
    }

    /// Stops the worker as SIGTERM would.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(TIMEOUT, self.task).await;
    }
}

/// The `ferrobot-worker` program built beside this test (`cargo build -p ferrobot-worker`, or
/// any workspace test run, builds it).
pub fn worker_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("no target directory above {}", exe.display()))?;
    let path = dir.join("ferrobot-worker");
    if !path.exists() {
        return Err(anyhow!(
            "{} is missing: build it first with `cargo build -p ferrobot-worker` (a workspace \
             test run builds it)",
            path.display()
        ));
    }
    Ok(path)
}

/// A real `ferrobot-worker start DIR` process, killed (SIGKILL) when dropped.
pub struct WorkerProcess {
    pub child: tokio::process::Child,
    pub basedir: PathBuf,
}

impl WorkerProcess {
    /// `create-worker` with `extra` options, then `start`.
    pub async fn spawn(sandbox: &Sandbox, name: &str, extra: &[&str]) -> anyhow::Result<Self> {
        let options = options(sandbox, name);
        let binary = worker_binary()?;
        let created = tokio::process::Command::new(&binary)
            .arg("create-worker")
            .args(["--maxdelay", "1"])
            .args(extra)
            .arg(&options.basedir)
            .arg(&options.master)
            .arg(name)
            .arg("pw")
            .output()
            .await?;
        if !created.status.success() {
            return Err(anyhow!("create-worker failed: {created:?}"));
        }
        let child = tokio::process::Command::new(&binary)
            .arg("start")
            .arg(&options.basedir)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        Ok(Self {
            child,
            basedir: options.basedir,
        })
    }

    /// The process id.
    pub fn pid(&self) -> anyhow::Result<i32> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| anyhow!("the worker exited"))?;
        Ok(i32::try_from(pid)?)
    }

    /// Waits (bounded) for the process to exit by itself.
    pub async fn exited(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        tokio::time::timeout(TIMEOUT, self.child.wait())
            .await
            .context("the worker process did not exit")?
            .context("cannot wait for the worker process")
    }

    /// What the worker logged so far (`DIR/worker.log`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.basedir.join("worker.log")).unwrap_or_default()
    }
}

/// A CA, and a certificate for `localhost` it signed, as PEM files in `dir`.
pub struct Certificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes a CA and a `localhost` certificate signed by it; `prefix` names the files.
pub fn certificates(dir: &Path, prefix: &str) -> anyhow::Result<Certificates> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    // Distinct names, so that a certificate of one CA is "unknown issuer" to the other.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{prefix} test CA"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate()?;
    let server_cert =
        CertificateParams::new(vec!["localhost".into()])?.signed_by(&server_key, &issuer)?;
    let files = Certificates {
        ca: dir.join(format!("{prefix}-ca.pem")),
        cert: dir.join(format!("{prefix}-cert.pem")),
        key: dir.join(format!("{prefix}-key.pem")),
    };
    std::fs::write(&files.ca, ca_cert.pem())?;
    std::fs::write(&files.cert, server_cert.pem())?;
    std::fs::write(&files.key, server_key.serialize_pem())?;
    Ok(files)
}

/// Polls `check` until it is true, failing after [`TIMEOUT`] with `what`.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !check() {
        if tokio::time::Instant::now() >= deadline {
            return Err(anyhow!("timed out waiting until {what}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
