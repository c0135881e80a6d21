//! Router tests: a real listener on port 0 serving [`crate::www::router`] over the SQLite store
//! and the in-process bus, with data seeded through the `Store` trait.

mod auth_tests;
mod logs_tests;
mod more_tests;
mod pages_tests;
mod resources_tests;
mod rest_tests;
mod rpc_tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use ferrobot_bus::{Bus, Event, InProcessBus, Pattern};
use ferrobot_config::{ForceSchedulerConfig, MasterConfig, SchedulerConfig};
use ferrobot_model::{BuildId, BuildRequestId, BuilderId, BuildsetId, Results, StepId, WorkerId};
use ferrobot_model::{LogId, MasterId, Properties};
use ferrobot_store::{NewBuildset, NewChange, NewSourceStamp, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::Context;
use crate::events::Events;

/// A master's HTTP side on a real socket.
pub struct Server {
    pub ctx: Arc<Context>,
    pub bus: Arc<dyn Bus>,
    pub url: String,
    pub client: reqwest::Client,
    pub seed: Seed,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

/// Ids of what [`seed`] stored.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub masterid: MasterId,
    pub linux: BuilderId,
    pub windows: BuilderId,
    pub docs: BuilderId,
    pub worker: WorkerId,
    pub changeid: i64,
    pub ssid: i64,
    /// Finished buildset: one request for linux, built as linux #1.
    pub done_bsid: BuildsetId,
    pub done_brid: BuildRequestId,
    pub done_build: BuildId,
    pub step: StepId,
    pub log: LogId,
    /// Pending buildset: one unclaimed request for windows.
    pub pending_bsid: BuildsetId,
    pub pending_brid: BuildRequestId,
    /// Claimed request running as linux #2.
    pub running_brid: BuildRequestId,
    pub running_build: BuildId,
    /// The `force` scheduler, run by the master.
    pub scheduler: i64,
}

pub const NOW: i64 = 1_700_000_000;

fn config() -> MasterConfig {
    MasterConfig {
        title: "Ferrobot test".into(),
        buildbot_url: "http://ci.example.org/".into(),
        schedulers: vec![SchedulerConfig::Force(ForceSchedulerConfig {
            name: "force".into(),
            builder_names: vec!["linux".into(), "windows".into()],
            button_name: "Force Build".into(),
            label: "Force a build".into(),
            reason_string: "A build was forced by '%(owner)s': %(reason)s".into(),
            properties: BTreeMap::new(),
            parameters: Vec::new(),
        })],
        ..MasterConfig::default()
    }
}

fn props(entries: &[(&str, Value, &str)]) -> Properties {
    entries
        .iter()
        .map(|(k, v, s)| ((*k).to_owned(), (v.clone(), (*s).to_owned())))
        .collect()
}

async fn seed(store: &dyn Store, masterid: MasterId) -> Result<Seed> {
    let mut seed = Seed {
        masterid,
        ..Seed::default()
    };
    store.set_master_active(masterid, true, NOW).await?;
    seed.linux = store
        .find_or_create_builder("linux", Some("Linux x86"), &["fast".into()])
        .await?;
    seed.windows = store.find_or_create_builder("windows", None, &[]).await?;
    seed.docs = store
        .find_or_create_builder("docs", None, &["docs".into()])
        .await?;
    store
        .set_master_builders(masterid, &[seed.linux, seed.windows])
        .await?;
    seed.worker = store.find_or_create_worker("w1").await?;
    store
        .set_configured_workers(masterid, &[(seed.linux, seed.worker)])
        .await?;
    let info = BTreeMap::from([("host".to_owned(), json!("box1"))]);
    store.worker_connected(seed.worker, masterid, &info).await?;

    let change = store
        .add_change(&NewChange {
            author: "Alice <alice@example.org>".into(),
            files: vec!["src/main.rs".into()],
            comments: "fix the build".into(),
            revision: Some("abc123".into()),
            when_timestamp: NOW,
            branch: Some("main".into()),
            repository: "https://example.org/repo.git".into(),
            ..NewChange::default()
        })
        .await?;
    seed.changeid = change.changeid;
    seed.ssid = change.sourcestamp.ssid;

    let (bsid, requests) = store
        .add_buildset(&NewBuildset {
            reason: "change".into(),
            properties: props(&[
                ("scheduler", json!("all"), "Scheduler"),
                ("branch", json!("main"), "Build"),
            ]),
            sourcestamp_ids: vec![seed.ssid],
            builderids: vec![seed.linux],
            submitted_at: NOW,
            ..NewBuildset::default()
        })
        .await?;
    seed.done_bsid = bsid;
    seed.done_brid = requests.first().context("a request")?.1;
    let me = ferrobot_store::Claimant { masterid, epoch: 1 };
    store.claim_buildrequest(seed.done_brid, me, NOW).await?;
    let (buildid, _) = store
        .add_build(seed.linux, seed.done_brid, seed.worker, me, "building", NOW)
        .await?;
    seed.done_build = buildid;
    store
        .set_build_property(buildid, "owner", &json!("alice"), "Force Build Form", me)
        .await?;
    store
        .set_build_property(buildid, "got_revision", &json!("abc123"), "Git", me)
        .await?;
    let (stepid, _, _) = store.add_step(buildid, "compile", "compiling", me).await?;
    seed.step = stepid;
    store.start_step(stepid, me, NOW).await?;
    seed.log = store.add_log(stepid, "stdio", "s", me).await?;
    store
        .append_log(seed.log, "ohello\neoops\nhheader\n", me)
        .await?;
    store.finish_log(seed.log, me).await?;
    store
        .finish_step(stepid, Results::Success, false, me, NOW + 5)
        .await?;
    store.add_step(buildid, "test", "testing", me).await?;
    store
        .set_build_state_string(buildid, "build successful", me)
        .await?;
    store
        .finish_build(buildid, Results::Success, me, NOW + 10)
        .await?;
    store
        .complete_buildrequests(&[seed.done_brid], Results::Success, me, NOW + 10)
        .await?;
    store.maybe_complete_buildset(bsid, NOW + 10).await?;

    let (bsid, requests) = store
        .add_buildset(&NewBuildset {
            reason: "forced".into(),
            properties: props(&[("scheduler", json!("force"), "Scheduler")]),
            sourcestamps: vec![NewSourceStamp {
                repository: "https://example.org/repo.git".into(),
                codebase: String::new(),
                ..NewSourceStamp::default()
            }],
            builderids: vec![seed.windows, seed.linux],
            priority: 5,
            submitted_at: NOW + 20,
            ..NewBuildset::default()
        })
        .await?;
    seed.pending_bsid = bsid;
    let brid = |builder| {
        requests
            .iter()
            .find(|(b, _)| *b == builder)
            .map(|(_, r)| *r)
    };
    seed.pending_brid = brid(seed.windows).context("windows request")?;
    seed.running_brid = brid(seed.linux).context("linux request")?;
    store
        .claim_buildrequest(seed.running_brid, me, NOW + 21)
        .await?;
    let (buildid, _) = store
        .add_build(
            seed.linux,
            seed.running_brid,
            seed.worker,
            me,
            "building",
            NOW + 21,
        )
        .await?;
    seed.running_build = buildid;

    let scheduler = store.find_or_create_scheduler("force").await?;
    seed.scheduler = scheduler;
    store
        .set_scheduler_master(scheduler, Some(masterid))
        .await?;
    store.find_or_create_scheduler("nightly").await?;
    let source = store.find_or_create_changesource("GitPoller:repo").await?;
    store
        .set_changesource_master(source, Some(masterid))
        .await?;
    Ok(seed)
}

impl Server {
    /// Starts a server over a freshly seeded store.
    pub async fn start() -> Result<Server> {
        Server::start_with(config()).await
    }

    /// The test configuration, for tests that change it before [`Server::start_with`].
    pub fn config() -> MasterConfig {
        config()
    }

    /// Starts a server with this configuration over a freshly seeded store.
    pub async fn start_with(config: MasterConfig) -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let store = ferrobot_store::open("sqlite:///state.sqlite", dir.path()).await?;
        let masterid = store.find_or_create_master("test:/master").await?;
        let seed = seed(store.as_ref(), masterid).await?;
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
        let (_config_tx, config_rx) = tokio::sync::watch::channel(Arc::new(config));
        let ctx = Arc::new(Context {
            store,
            events: Events::new(bus.clone()),
            config: config_rx,
            masterid,
            lease_epoch: 1,
            master_name: "test:/master".into(),
            basedir: dir.path().to_owned(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = crate::www::router(ctx.clone());
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "test server stopped");
            }
        });
        let client = http_client();
        Ok(Server {
            ctx,
            bus,
            url,
            client,
            seed,
            _dir: dir,
            _task: task,
        })
    }

    /// GETs a path, asking for compact JSON; returns the status and the parsed body.
    pub async fn get(&self, path: &str) -> Result<(StatusCode, Value)> {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .header("accept", "application/json")
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        let value = serde_json::from_str(&body).with_context(|| format!("{path}: {body}"))?;
        Ok((status, value))
    }

    /// GETs a path that must succeed.
    pub async fn ok(&self, path: &str) -> Result<Value> {
        let (status, body) = self.get(path).await?;
        anyhow::ensure!(status == StatusCode::OK, "{path}: {status} {body}");
        Ok(body)
    }

    /// The error message of a GET that must fail with `status`.
    pub async fn error(&self, path: &str, status: StatusCode) -> Result<String> {
        let (got, body) = self.get(path).await?;
        anyhow::ensure!(got == status, "{path}: expected {status}, got {got} {body}");
        body["error"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{path}: {body}"))
    }

    /// POSTs a JSON-RPC call; returns the status and the reply.
    pub async fn call(
        &self,
        path: &str,
        method: &str,
        params: Value,
    ) -> Result<(StatusCode, Value)> {
        let request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 7});
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .json(&request)
            .send()
            .await?;
        Ok((response.status(), response.json().await?))
    }

    /// Another master's web server over the same store and bus: it has its own session
    /// state, so only what is in the database is shared.
    pub async fn second_master(&self) -> Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = crate::www::router(self.ctx.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "second test server stopped");
            }
        });
        Ok(url)
    }

    /// Subscribes to a bus pattern written with dots.
    pub async fn subscribe(&self, pattern: &str) -> Result<ferrobot_bus::Subscription> {
        Ok(self.bus.subscribe(&Pattern::parse(pattern, '.')).await?)
    }
}

/// An HTTP client for the tests.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::new()
}

/// The next event of a subscription, waiting at most a few seconds.
pub async fn next_event(subscription: &mut ferrobot_bus::Subscription) -> Result<Event> {
    let event = tokio::time::timeout(Duration::from_secs(5), subscription.next())
        .await
        .context("no event within 5 s")?
        .context("bus closed")??;
    Ok(event)
}

/// The entities of an envelope.
pub fn items<'a>(body: &'a Value, plural: &str) -> Vec<&'a Value> {
    body[plural]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// One field of each entity of an envelope.
pub fn column(body: &Value, plural: &str, field: &str) -> Vec<Value> {
    items(body, plural)
        .iter()
        .map(|item| item[field].clone())
        .collect()
}
