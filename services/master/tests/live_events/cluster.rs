//! Design invariant 7 with the real program: two `ferrobot start` masters on one PostgreSQL
//! database and one NATS server, as behind a round-robin balancer. A client listens for SSE
//! on master A while its `add` and `remove` requests land on master B; events start and stop
//! accordingly.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::WAIT;

/// Kills the master on drop so a failing test leaves nothing behind.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A fresh database on the test server; returns its URL and a statement that drops it.
pub(crate) async fn fresh_database() -> Result<(String, String, String)> {
    use sqlx::Connection as _;
    let server = std::env::var("FERROBOT_TEST_DATABASE_URL").context(
        "FERROBOT_TEST_DATABASE_URL is not set: run scripts/test.sh, which starts PostgreSQL",
    )?;
    let name = format!("ferrobot_sse_{}", uuid::Uuid::new_v4().simple());
    let mut connection = sqlx::PgConnection::connect(&server).await?;
    // The name is our own uuid, never input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await?;
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    Ok((url, server, name))
}

pub(crate) async fn drop_database(server: &str, name: &str) -> Result<()> {
    use sqlx::Connection as _;
    let mut connection = sqlx::PgConnection::connect(server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut connection)
    .await?;
    Ok(())
}

pub(crate) fn master_cfg(
    db_url: &str,
    nats_url: &str,
    prefix: &str,
    www: u16,
    workers: u16,
) -> String {
    format!(
        r#"from buildbot.plugins import *
c = BuildmasterConfig = {{}}
c['multiMaster'] = True
c['db'] = {{'db_url': {db_url:?}}}
c['mq'] = {{'type': 'nats', 'url': {nats_url:?}, 'prefix': {prefix:?}}}
c['protocols'] = {{'pb': {{'port': {workers}}}}}
c['workers'] = [worker.Worker("w1", "secret")]
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="greet", command="true"))
c['builders'] = [util.BuilderConfig(name="linux", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["linux"])]
c['www'] = dict(port={www})
c['buildbotURL'] = "http://127.0.0.1:{www}/"
"#
    )
}

/// Starts `ferrobot start` with the www and scheduler roles in `dir`.
pub(crate) fn start_master(dir: &Path, name: &str, config: &str) -> Result<Running> {
    // Measurements point FERROBOT_BENCH_BIN at a release build; tests use this build's.
    let program = std::env::var("FERROBOT_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ferrobot").to_owned());
    let created = Command::new(&program)
        .args(["create-master", dir.to_str().context("utf-8 path")?])
        .output()?;
    anyhow::ensure!(created.status.success(), "create-master: {created:?}");
    std::fs::write(dir.join("master.cfg"), config)?;
    let child = Command::new(&program)
        .args(["start", dir.to_str().context("utf-8 path")?])
        .args(["--name", name, "--roles", "www,scheduler"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Running(child))
}

/// Waits for a master's REST API to answer (a process gives no event to wait on).
pub(crate) async fn wait_for_api(client: &reqwest::Client, base: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT * 6;
    loop {
        if let Ok(response) = client.get(format!("{base}/api/v2/builders")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{base} did not start serving");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// One SSE response read event by event.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn next(&mut self) -> Result<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim_start().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = v.trim_start().to_owned();
                    }
                }
                if !event.is_empty() {
                    return Ok((event, data));
                }
                continue;
            }
            match tokio::time::timeout(WAIT, self.response.chunk()).await?? {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes)?),
                None => bail!("the event stream ended"),
            }
        }
    }

    async fn event(&mut self) -> Result<Value> {
        let (event, data) = self.next().await?;
        anyhow::ensure!(event == "event", "expected an event, got {event}: {data}");
        Ok(serde_json::from_str(&data)?)
    }
}

async fn force(client: &reqwest::Client, base: &str) -> Result<i64> {
    let call = json!({"jsonrpc": "2.0", "method": "force", "id": 1,
                      "params": {"builderNames": ["linux"], "reason": "sse test"}});
    let reply: Value = client
        .post(format!("{base}/api/v2/forceschedulers/force"))
        .json(&call)
        .send()
        .await?
        .json()
        .await?;
    reply["result"][0]
        .as_i64()
        .with_context(|| format!("force failed: {reply}"))
}

async fn control(
    client: &reqwest::Client,
    base: &str,
    action: &str,
    uuid: &str,
    path: &str,
) -> Result<()> {
    let response = client
        .get(format!("{base}/sse/{action}/{uuid}/{path}"))
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    anyhow::ensure!(
        status.is_success() && body == "ok",
        "{action} {path}: {status} {body}"
    );
    Ok(())
}

#[tokio::test]
async fn sse_add_and_remove_sent_to_another_master_take_effect() -> Result<()> {
    let nats_url = std::env::var("FERROBOT_TEST_NATS_URL")
        .context("FERROBOT_TEST_NATS_URL is not set: run scripts/test.sh, which starts NATS")?;
    let (db_url, server, database) = fresh_database().await?;
    let prefix = format!("sse{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let dirs = tempfile::tempdir()?;
    let (www_a, www_b) = (free_port()?, free_port()?);
    let (a_dir, b_dir) = (dirs.path().join("a"), dirs.path().join("b"));
    let config_a = master_cfg(&db_url, &nats_url, &prefix, www_a, free_port()?);
    let config_b = master_cfg(&db_url, &nats_url, &prefix, www_b, free_port()?);
    let outcome = async {
        // One after the other: both would create the schema at once otherwise.
        let _master_a = start_master(&a_dir, "a", &config_a)?;
        let client = crate::http_client();
        let (a, b) = (
            format!("http://127.0.0.1:{www_a}"),
            format!("http://127.0.0.1:{www_b}"),
        );
        wait_for_api(&client, &a).await?;
        let _master_b = start_master(&b_dir, "b", &config_b)?;
        wait_for_api(&client, &b).await?;

        let response = client.get(format!("{a}/sse/listen")).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "listen: {}",
            response.status()
        );
        let mut stream = Events {
            response,
            buffer: String::new(),
        };
        let (kind, uuid) = stream.next().await?;
        anyhow::ensure!(kind == "handshake", "first event {kind}");

        // Added on B, the session on A receives buildsets forced on B.
        control(&client, &b, "add", &uuid, "buildsets/*/new").await?;
        let first = force(&client, &b).await?;
        let event = stream.event().await?;
        assert_eq!(event["key"], json!(["buildsets", first.to_string(), "new"]));
        assert_eq!(event["message"]["bsid"], json!(first));

        // Removed on B: buildsets no longer arrive; requests (added on B too) do.
        control(&client, &b, "remove", &uuid, "buildsets/*/new").await?;
        control(&client, &b, "add", &uuid, "buildrequests/*/new").await?;
        let second = force(&client, &b).await?;
        let event = stream.event().await?;
        assert_eq!(event["key"][0], json!("buildrequests"), "{event}");
        assert_eq!(event["message"]["buildsetid"], json!(second));
        // The buildset event of `second` was published before its request's; had the remove
        // not taken effect it would be queued by now, ahead of the third force's request.
        let third = force(&client, &b).await?;
        let event = stream.event().await?;
        assert_eq!(event["key"][0], json!("buildrequests"), "{event}");
        assert_eq!(event["message"]["buildsetid"], json!(third));

        // A uuid no master holds is refused by B after asking the cluster.
        let missing = client
            .get(format!("{b}/sse/add/{}/builds/*/*", uuid::Uuid::new_v4()))
            .send()
            .await?;
        assert_eq!(missing.status(), reqwest::StatusCode::BAD_REQUEST);
        Ok::<_, anyhow::Error>(())
    }
    .await;
    drop_database(&server, &database).await?;
    outcome
}
