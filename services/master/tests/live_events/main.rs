//! `/ws` and `/sse` on a real listener: a master's web side over the SQLite store and an
//! in-process bus that counts live subscriptions, so tests can prove none leak.

mod bench;
mod cluster;
mod sse;
mod ws;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use async_trait::async_trait;
use ferrobot_bus::{Bus, InProcessBus, Pattern, Subscription, Topic};
use ferrobot_config::{ForceSchedulerConfig, MasterConfig, SchedulerConfig};
use ferrobot_master::context::Context;
use ferrobot_master::events::Events;
use ferrobot_model::{Build, BuilderId};
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// An HTTP client for the tests.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::new()
}

/// How long any wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// The in-process bus, publishing how many subscriptions are alive.
struct CountingBus {
    inner: InProcessBus,
    live: Arc<watch::Sender<usize>>,
}

#[async_trait]
impl Bus for CountingBus {
    async fn publish(&self, topic: &Topic, payload: &Value) -> ferrobot_bus::Result<()> {
        self.inner.publish(topic, payload).await
    }

    async fn subscribe(&self, pattern: &Pattern) -> ferrobot_bus::Result<Subscription> {
        let subscription = self.inner.subscribe(pattern).await?;
        self.live.send_modify(|count| *count += 1);
        let live = self.live.clone();
        Ok(subscription.on_drop(move || live.send_modify(|count| *count -= 1)))
    }
}

/// A master's web side on 127.0.0.1:0.
pub struct Master {
    pub ctx: Arc<Context>,
    /// `127.0.0.1:port`.
    pub addr: String,
    pub client: reqwest::Client,
    /// The builder the `force` scheduler builds.
    pub builderid: BuilderId,
    live: watch::Receiver<usize>,
    /// Stops the server gracefully, as the master's shutdown does.
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Master {
    /// A master whose bus holds the default number of undelivered events per subscription.
    pub async fn start() -> Result<Master> {
        Master::with_queue_capacity(ferrobot_bus::DEFAULT_QUEUE_CAPACITY).await
    }

    /// A master whose bus subscriptions hold `capacity` undelivered events each.
    pub async fn with_queue_capacity(capacity: usize) -> Result<Master> {
        let dir = tempfile::tempdir()?;
        let store = ferrobot_store::open("sqlite:///state.sqlite", dir.path()).await?;
        let masterid = store.find_or_create_master("test:/live").await?;
        let builderid = store.find_or_create_builder("linux", None, &[]).await?;
        let (live_tx, live) = watch::channel(0);
        let bus = CountingBus {
            inner: InProcessBus::with_queue_capacity(capacity),
            live: Arc::new(live_tx),
        };
        let config = MasterConfig {
            schedulers: vec![SchedulerConfig::Force(ForceSchedulerConfig {
                name: "force".into(),
                builder_names: vec!["linux".into()],
                button_name: "Force".into(),
                label: "Force".into(),
                reason_string: "forced: %(reason)s".into(),
                properties: BTreeMap::new(),
                parameters: Vec::new(),
            })],
            ..MasterConfig::default()
        };
        let (_config_tx, config) = watch::channel(Arc::new(config));
        let ctx = Arc::new(Context {
            store,
            events: Events::new(Arc::new(bus)),
            config,
            masterid,
            lease_epoch: 1,
            master_name: "test:/live".into(),
            basedir: dir.path().to_owned(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let shutdown = CancellationToken::new();
        let app = ferrobot_master::www::router_until(ctx.clone(), shutdown.clone());
        let stop = shutdown.clone().cancelled_owned();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                eprintln!("test server stopped: {error}");
            }
        });
        Ok(Master {
            ctx,
            addr,
            client: http_client(),
            builderid,
            live,
            shutdown,
            server,
            _dir: dir,
        })
    }

    /// Shuts the server down gracefully; fails unless it stops within [`WAIT`].
    pub async fn shut_down(self) -> Result<()> {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.server)
            .await
            .context("the web server did not stop")??;
        Ok(())
    }

    /// How many bus subscriptions are alive now.
    pub fn subscriptions(&self) -> usize {
        *self.live.borrow()
    }

    /// Waits until exactly `count` bus subscriptions are alive.
    pub async fn wait_for_subscriptions(&self, count: usize) -> Result<()> {
        let mut live = self.live.clone();
        tokio::time::timeout(WAIT, live.wait_for(|now| *now == count))
            .await
            .with_context(|| {
                format!(
                    "expected {count} live subscriptions, still {} after {WAIT:?}",
                    self.subscriptions()
                )
            })??;
        Ok(())
    }

    /// Publishes a build event under all of its keys, as the engine does.
    pub async fn publish_build(&self, buildid: i64, number: i64, event: &str) {
        self.ctx
            .events
            .build(&build(buildid, number, self.builderid), event)
            .await;
    }

    /// GETs a path; returns the status and the body text.
    pub async fn get_text(&self, path: &str) -> Result<(reqwest::StatusCode, String)> {
        let response = self
            .client
            .get(format!("http://{}{path}", self.addr))
            .send()
            .await?;
        Ok((response.status(), response.text().await?))
    }
}

#[tokio::test]
async fn open_live_streams_do_not_hold_up_a_graceful_shutdown() -> Result<()> {
    let master = Master::start().await?;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", master.addr)).await?;
    let start = r#"{"cmd":"startConsuming","path":"builds/*/*","_id":1}"#;
    futures::SinkExt::send(&mut socket, start.into()).await?;
    let ack = tokio::time::timeout(WAIT, futures::StreamExt::next(&mut socket)).await?;
    anyhow::ensure!(ack.is_some(), "no ack");
    let sse = master
        .client
        .get(format!("http://{}/sse/listen/builds/*/*", master.addr))
        .send()
        .await?;
    anyhow::ensure!(sse.status() == reqwest::StatusCode::OK, "{}", sse.status());
    master.wait_for_subscriptions(3).await?;
    let mut live = master.live.clone();
    master.shut_down().await?;
    // Sockets are detached from the server once upgraded; they end on the same signal.
    tokio::time::timeout(WAIT, live.wait_for(|count| *count == 0))
        .await
        .context("subscriptions left after shutdown")??;
    drop((socket, sse));
    Ok(())
}

/// A running build of `builderid`.
pub fn build(buildid: i64, number: i64, builderid: BuilderId) -> Build {
    Build {
        buildid,
        number,
        builderid,
        buildrequestid: 1,
        workerid: None,
        masterid: 1,
        started_at: 1_700_000_000,
        complete: false,
        complete_at: None,
        locks_duration_s: 0,
        results: None,
        state_string: "building".into(),
        properties: Default::default(),
    }
}
