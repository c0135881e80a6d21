//! A cluster of real `ferrobot` and `ferrobot-worker` processes on a PostgreSQL database of its
//! own and a NATS server of its own (so a test can stop and restart it), all on loopback.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any one wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(120);

pub fn ferrobot() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferrobot"))
}

fn ferrobot_worker() -> PathBuf {
    let path = ferrobot().with_file_name("ferrobot-worker");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --bins`",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Polls a condition until it holds, failing after [`TIMEOUT`] (processes give no events to
/// wait on).
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed (SIGKILL) on drop, so a failing test leaves nothing behind.
pub struct Process(Option<Child>);

impl Process {
    fn spawn(command: &mut Command, log: &Path) -> Process {
        let log = std::fs::File::create(log).expect("log file");
        let child = command
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn");
        Process(Some(child))
    }

    /// `kill -9`: no clean-up of any kind.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A database of its own on the server of `FERROBOT_TEST_DATABASE_URL`, dropped at the end.
pub struct Database {
    pub url: String,
    server_url: String,
    name: String,
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

impl Database {
    pub fn create() -> Database {
        use sqlx::Connection as _;
        let server_url = std::env::var("FERROBOT_TEST_DATABASE_URL").expect(
            "FERROBOT_TEST_DATABASE_URL is not set: run scripts/test.sh, which starts PostgreSQL",
        );
        let name = format!("ferrobot_proc_{}", uuid::Uuid::new_v4().simple());
        block_on(async {
            let mut connection = sqlx::PgConnection::connect(&server_url).await?;
            // The name is our own uuid, never input.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut connection)
                .await
        })
        .expect("create database");
        let base = server_url
            .rsplit_once('/')
            .map_or(server_url.as_str(), |(base, _)| base);
        Database {
            url: format!("{base}/{name}"),
            server_url: server_url.clone(),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        use sqlx::Connection as _;
        let _ = block_on(async {
            let mut connection = sqlx::PgConnection::connect(&self.server_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut connection)
            .await
        });
    }
}

/// A `nats-server` of the test's own on a fixed port, so it can be restarted where the
/// masters expect it.
pub struct Nats {
    pub port: u16,
    dir: PathBuf,
    starts: u32,
    process: Process,
}

impl Nats {
    pub fn start(dir: &Path) -> Nats {
        let port = free_port();
        let mut nats = Nats {
            port,
            dir: dir.to_owned(),
            starts: 0,
            process: Process(None),
        };
        nats.restart();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        self.process.kill9();
    }

    pub fn restart(&mut self) {
        let binary = which("nats-server").expect(
            "nats-server is not installed: run scripts/test.sh, which installs it (Debian package \
             nats-server)",
        );
        self.starts += 1;
        self.process = Process::spawn(
            Command::new(binary).args(["-a", "127.0.0.1", "-p", &self.port.to_string()]),
            &self.dir.join(format!("nats-{}.log", self.starts)),
        );
        let port = self.port;
        wait_for("nats-server to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.exists())
}

/// One master process of the cluster.
pub struct Master {
    pub name: String,
    pub www_port: Option<u16>,
    pub worker_port: Option<u16>,
    pub process: Process,
}

impl Master {
    pub fn api(&self) -> String {
        format!(
            "http://127.0.0.1:{}/api/v2",
            self.www_port.expect("a www master")
        )
    }
}

/// The whole cluster: the masters' shared master.cfg, their directories and the workers.
pub struct Cluster {
    pub tmp: tempfile::TempDir,
    pub db: Database,
    pub nats: Nats,
    pub masters: Vec<Master>,
    pub workers: Vec<Process>,
    config: String,
}

impl Cluster {
    /// A database, a NATS server and `c[...]` lines after the shared ones (`c['workers']` has
    /// `w0`..`w15` with password `pw`).
    pub fn new(extra_config: &str) -> Cluster {
        let mut tmp = tempfile::tempdir().expect("tempdir");
        // FERROBOT_TEST_KEEP=1 (as scripts/test.sh) keeps the master and worker logs.
        if std::env::var_os("FERROBOT_TEST_KEEP").is_some_and(|v| v == "1") {
            tmp.disable_cleanup(true);
            eprintln!("cluster directory kept: {}", tmp.path().display());
        }
        let db = Database::create();
        let nats = Nats::start(tmp.path());
        let config = format!(
            "from buildbot.plugins import *\n\
             c = BuildmasterConfig = {{}}\n\
             c['multiMaster'] = True\n\
             c['db'] = {{'db_url': {db:?}}}\n\
             c['mq'] = {{'type': 'nats', 'url': {nats:?}, 'prefix': 'proc'}}\n\
             c['workers'] = [worker.Worker('w%d' % i, 'pw') for i in range(16)]\n\
             c['protocols'] = {{'pb': {{'port': 9989}}}}\n\
             c['www'] = dict(port=8010)\n\
             {extra_config}\n",
            db = db.url,
            nats = nats.url(),
        );
        Cluster {
            tmp,
            db,
            nats,
            masters: Vec::new(),
            workers: Vec::new(),
            config,
        }
    }

    /// Starts `ferrobot start` with these roles; returns its index in `masters`.
    pub fn start_master(&mut self, name: &str, roles: &str) -> usize {
        let dir = self.tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("master dir");
        std::fs::write(dir.join("master.cfg"), &self.config).expect("master.cfg");
        let www_port = roles.contains("www").then(free_port);
        let worker_port = roles.contains("builder").then(free_port);
        let mut command = Command::new(ferrobot());
        command
            .args(["start", dir.to_str().expect("utf-8"), "--roles", roles])
            .args(["--name", name])
            .env("RUST_LOG", "info");
        if let Some(port) = www_port {
            command.args(["--www-port", &port.to_string()]);
        }
        if let Some(port) = worker_port {
            command.args(["--worker-port", &port.to_string()]);
        }
        let process = Process::spawn(&mut command, &dir.join("stdout.log"));
        self.masters.push(Master {
            name: name.to_owned(),
            www_port,
            worker_port,
            process,
        });
        self.masters.len() - 1
    }

    /// The REST API of the first `www` master.
    pub fn api(&self) -> String {
        self.www_masters()[0].api()
    }

    pub fn www_masters(&self) -> Vec<&Master> {
        self.masters
            .iter()
            .filter(|m| m.www_port.is_some())
            .collect()
    }

    /// Waits until every `www` master answers and the store lists every master active.
    pub fn wait_until_up(&self) {
        for master in self.www_masters() {
            wait_for(&format!("{} to serve", master.name), || {
                get(&format!("{}/masters", master.api()))
            });
        }
        let expected = self.masters.len();
        wait_for("every master active", || {
            let masters = get(&format!("{}/masters", self.api()))?;
            let active = masters["masters"]
                .as_array()?
                .iter()
                .filter(|m| m["active"] == json!(true))
                .count();
            (active == expected).then_some(())
        });
    }

    /// Creates and starts worker `name` connected to the builder master `master`.
    pub fn start_worker(&mut self, name: &str, master: usize) {
        let dir = self.tmp.path().join(format!("worker-{name}"));
        let port = self.masters[master].worker_port.expect("a builder master");
        let address = format!("127.0.0.1:{port}");
        let created = Command::new(ferrobot_worker())
            .args([
                "create-worker",
                dir.to_str().expect("utf-8"),
                &address,
                name,
                "pw",
            ])
            .args(["--maxdelay", "1"])
            .output()
            .expect("create-worker");
        assert!(created.status.success(), "create-worker: {created:?}");
        let process = Process::spawn(
            Command::new(ferrobot_worker()).args(["start", dir.to_str().expect("utf-8")]),
            &dir.join("stdout.log"),
        );
        self.workers.push(process);
        let api = self.api();
        wait_for(&format!("worker {name} to connect"), || {
            let workers = get(&format!("{api}/workers/{name}"))?;
            workers["workers"][0]["connected_to"]
                .as_array()
                .filter(|c| !c.is_empty())
                .map(|_| ())
        });
    }

    /// The masterid the store gave master `name`.
    pub fn masterid(&self, name: &str) -> i64 {
        let masters = get(&format!("{}/masters", self.api())).expect("masters");
        masters["masters"]
            .as_array()
            .and_then(|all| all.iter().find(|m| m["name"] == json!(name)))
            .and_then(|m| m["masterid"].as_i64())
            .unwrap_or_else(|| panic!("no master {name} in {masters}"))
    }
}

/// One HTTP client for the whole test.
fn client() -> &'static reqwest::blocking::Client {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::blocking::Client::new)
}

pub fn get(url: &str) -> Option<Value> {
    let response = client().get(url).send().ok()?;
    response
        .status()
        .is_success()
        .then(|| response.json().ok())
        .flatten()
}

/// A JSON-RPC call; returns its `result`, failing the test on an error reply.
pub fn rpc(url: &str, method: &str, params: Value) -> Value {
    let reply: Value = client()
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "method": method, "id": 1, "params": params}))
        .send()
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("{method} at {url}: {e}"));
    assert!(reply.get("error").is_none(), "{method} at {url}: {reply}");
    reply["result"].clone()
}

/// Forces builder `builder` through the `force` scheduler of `api`; returns the request id.
pub fn force(api: &str, builder: &str) -> i64 {
    let result = rpc(
        &format!("{api}/forceschedulers/force"),
        "force",
        json!({"builderNames": [builder]}),
    );
    result[1]
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("force result: {result}"))
}

/// Every item of a collection (`/builds`, `/buildrequests`, ...), through pages of 1000.
pub fn all(api: &str, collection: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    loop {
        let url = format!(
            "{api}/{collection}?{query}&limit=1000&offset={}",
            items.len()
        );
        let page = get(&url).unwrap_or_else(|| panic!("GET {url}"));
        let batch = page[collection].as_array().cloned().unwrap_or_default();
        let done = batch.len() < 1000;
        items.extend(batch);
        if done {
            return items;
        }
    }
}
