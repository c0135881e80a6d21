//! Measurements for docs/performance.md ("web"), ignored by default; run with
//! `cargo nextest run -p ferrobot-master --test live_events --run-ignored only -E 'test(/bench::/)'
//! --no-capture` (and the usual `--features`). Each prints its figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use ferrobot_bus::{Bus, InProcessBus};
use ferrobot_config::MasterConfig;
use ferrobot_master::context::Context;
use ferrobot_master::events::Events;
use ferrobot_store::{NewBuildset, NewSourceStamp, Store};
use sqlx::Connection as _;
use tokio::sync::watch;

/// Builds (and changes) stored before timing.
const ROWS: i64 = 100_000;
/// Timed requests per URL.
const SAMPLES: usize = 100;

/// Inserts ROWS builds and ROWS changes in bulk (the Store API would take minutes).
async fn fill(store: &dyn Store, sqlx_url: &str) -> Result<()> {
    let master = store.find_or_create_master("bench:/master").await?;
    let builder = store.find_or_create_builder("linux", None, &[]).await?;
    let worker = store.find_or_create_worker("w1").await?;
    let (_, requests) = store
        .add_buildset(&NewBuildset {
            reason: "bench".into(),
            sourcestamps: vec![NewSourceStamp {
                repository: "https://example.org/repo.git".into(),
                ..NewSourceStamp::default()
            }],
            builderids: vec![builder],
            submitted_at: 1_700_000_000,
            ..NewBuildset::default()
        })
        .await?;
    let brid = requests[0].1;
    let ssid: i64 = {
        let mut connection = sqlx::AnyConnection::connect(sqlx_url).await?;
        let ssid = sqlx::query_scalar("SELECT MIN(id) FROM sourcestamps")
            .fetch_one(&mut connection)
            .await?;
        // Our own integers, never input.
        let builds = format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {ROWS}) \
             INSERT INTO builds (number, builderid, buildrequestid, workerid, masterid, \
             started_at, complete_at, locks_duration_s, state_string, results) \
             SELECT n, {builder}, {brid}, {worker}, {master}, 1700000000 + n, \
             1700000060 + n, 0, 'finished', n % 3 FROM seq"
        );
        sqlx::query(sqlx::AssertSqlSafe(builds))
            .execute(&mut connection)
            .await?;
        let changes = format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {ROWS}) \
             INSERT INTO changes (author, comments, branch, revision, when_timestamp, \
             repository, codebase, project, sourcestampid) \
             SELECT 'dev <dev@example.org>', 'commit', 'main', 'rev', 1700000000 + n, \
             'https://example.org/repo.git', '', '', {ssid} FROM seq"
        );
        sqlx::query(sqlx::AssertSqlSafe(changes))
            .execute(&mut connection)
            .await?;
        ssid
    };
    anyhow::ensure!(ssid > 0, "no source stamp");
    Ok(())
}

/// Serves the web side of a master over `store` on 127.0.0.1:0.
async fn serve(store: Arc<dyn Store>, dir: &std::path::Path) -> Result<String> {
    let masterid = store.find_or_create_master("bench:/master").await?;
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let (config_tx, config) = watch::channel(Arc::new(MasterConfig::default()));
    std::mem::forget(config_tx);
    let ctx = Arc::new(Context {
        store,
        events: Events::new(bus),
        config,
        masterid,
        lease_epoch: 1,
        master_name: "bench:/master".into(),
        basedir: dir.to_owned(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = format!("http://{}", listener.local_addr()?);
    let app = ferrobot_master::www::router(ctx);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// Percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn time_urls(database: &str, base: &str) -> Result<()> {
    let client = crate::http_client();
    for path in [
        "/api/v2/builds?limit=50&order=-buildid",
        "/api/v2/builds?limit=50&order=-buildid&complete=true&results__ne=2",
        "/api/v2/builders/1/builds?limit=50&offset=5000&order=-number",
        "/api/v2/changes?limit=50&order=-changeid",
        // A substring filter needs the in-memory engine: every row is read.
        "/api/v2/builds?limit=50&order=-buildid&state_string__contains=fin",
    ] {
        let url = format!("{base}{path}");
        let first: serde_json::Value = client.get(&url).send().await?.json().await?;
        let total = first["meta"]["total"].as_i64().context("a total")?;
        anyhow::ensure!(total > 0, "{path}: {first}");
        let samples = if path.contains("contains") {
            10
        } else {
            SAMPLES
        };
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            let response = client.get(&url).send().await?;
            anyhow::ensure!(response.status().is_success(), "{path}");
            response.bytes().await?;
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "{database}: GET {path} (total {total}): p50 {:.1} ms, p99 {:.1} ms over {samples}",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on purpose"]
async fn builds_page_latency_with_100k_builds_on_sqlite() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = ferrobot_store::open("sqlite:///state.sqlite", dir.path()).await?;
    let sqlx_url = format!("sqlite://{}", dir.path().join("state.sqlite").display());
    fill(store.as_ref(), &sqlx_url).await?;
    let base = serve(store, dir.path()).await?;
    time_urls("SQLite", &base).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on purpose"]
async fn builds_page_latency_with_100k_builds_on_postgres() -> Result<()> {
    let (url, server, name) = crate::cluster::fresh_database().await?;
    let dir = tempfile::tempdir()?;
    let outcome = async {
        let store = ferrobot_store::open(&url, dir.path()).await?;
        fill(store.as_ref(), &url).await?;
        let base = serve(store, dir.path()).await?;
        time_urls("PostgreSQL", &base).await
    }
    .await;
    crate::cluster::drop_database(&server, &name).await?;
    outcome
}

/// WebSocket clients of the fan-out measurement.
const CLIENTS: usize = 1000;
/// Log append events published, and how fast.
const EVENTS: usize = 300;
const EVENTS_PER_SECOND: u64 = 20;

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")
}

/// One WebSocket client: consumes `logs/*/append` and records each event's delay since the
/// publisher stamped it (same process, same clock).
async fn ws_client(
    url: String,
    epoch: Instant,
    ready: Arc<tokio::sync::Semaphore>,
    mut done: watch::Receiver<bool>,
) -> Result<Vec<Duration>> {
    use futures::{SinkExt, StreamExt};
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await?;
    let start = r#"{"cmd":"startConsuming","path":"logs/*/append","_id":1}"#;
    socket.send(start.into()).await?;
    let ack = tokio::time::timeout(crate::WAIT * 6, socket.next())
        .await?
        .context("closed before the ack")??;
    anyhow::ensure!(ack.to_text()?.contains("\"code\":200"), "{ack:?}");
    ready.add_permits(1);
    let mut delays = Vec::with_capacity(EVENTS);
    // Until the last event: a client that lags loses events (the master never waits for it),
    // and the count of those shows in the figures.
    loop {
        let frame = tokio::select! {
            frame = socket.next() => frame.context("closed mid-stream")??,
            _ = done.wait_for(|done| *done) => break,
        };
        let received = epoch.elapsed();
        let frame: serde_json::Value = serde_json::from_str(frame.to_text()?)?;
        let Some(sent) = frame["m"]["sent_ns"].as_u64() else {
            continue;
        };
        delays.push(received.saturating_sub(Duration::from_nanos(sent)));
        if frame["m"]["num_lines"].as_u64() == Some(EVENTS as u64) {
            break;
        }
    }
    Ok(delays)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on purpose"]
async fn a_thousand_websocket_clients_follow_streaming_logs() -> Result<()> {
    let nats_url = std::env::var("FERROBOT_TEST_NATS_URL")
        .context("FERROBOT_TEST_NATS_URL is not set: run scripts/test.sh, which starts NATS")?;
    let (db_url, server, database) = crate::cluster::fresh_database().await?;
    let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let dir = tempfile::tempdir()?;
    let www = crate::cluster::free_port()?;
    let config = crate::cluster::master_cfg(
        &db_url,
        &nats_url,
        &prefix,
        www,
        crate::cluster::free_port()?,
    );
    let outcome = async {
        let master = crate::cluster::start_master(&dir.path().join("m"), "bench", &config)?;
        let base = format!("http://127.0.0.1:{www}");
        crate::cluster::wait_for_api(&crate::http_client(), &base).await?;
        let pid = master.0.id();
        let idle = rss_kib(pid)?;

        let epoch = Instant::now();
        let ready = Arc::new(tokio::sync::Semaphore::new(0));
        let (done_tx, done) = watch::channel(false);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let url = format!("ws://127.0.0.1:{www}/ws");
                tokio::spawn(ws_client(url, epoch, ready.clone(), done.clone()))
            })
            .collect();
        let all = u32::try_from(CLIENTS)?;
        tokio::time::timeout(crate::WAIT * 12, ready.acquire_many(all))
            .await
            .context("clients did not all subscribe")??
            .forget();
        let subscribed = rss_kib(pid)?;

        let bus = ferrobot_bus::NatsBus::connect(&nats_url, &prefix).await?;
        let topic = ferrobot_bus::Topic::new(["logs", "1", "append"]);
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / EVENTS_PER_SECOND));
        let mut peak = subscribed;
        for line in 0..EVENTS {
            tick.tick().await;
            let sent = u64::try_from(epoch.elapsed().as_nanos())?;
            let payload = serde_json::json!({
                "logid": 1, "stepid": 1, "name": "stdio", "slug": "stdio", "complete": false,
                "num_lines": line + 1, "type": "s", "sent_ns": sent,
            });
            bus.publish(&topic, &payload).await?;
            if line % 100 == 0 {
                peak = peak.max(rss_kib(pid)?);
            }
        }
        // Clients that lost the last event stop after a grace period, with what they got.
        tokio::spawn(async move {
            tokio::time::sleep(crate::WAIT).await;
            let _ = done_tx.send(true);
        });
        let mut delays = Vec::with_capacity(CLIENTS * EVENTS);
        for client in clients {
            delays.extend(client.await??);
        }
        delays.sort();
        let lost = CLIENTS * EVENTS - delays.len();
        let per_client = subscribed.saturating_sub(idle) as f64 / CLIENTS as f64;
        println!(
            "{CLIENTS} WS clients x {EVENTS} log events at {EVENTS_PER_SECOND}/s over NATS: \
             delivery p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {lost} of {} deliveries lost; master RSS idle {} MiB, \
             subscribed {} MiB ({per_client:.1} KiB per client), peak while streaming {} MiB",
            percentile(&delays, 0.5).as_secs_f64() * 1e3,
            percentile(&delays, 0.99).as_secs_f64() * 1e3,
            delays.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            CLIENTS * EVENTS,
            idle / 1024,
            subscribed / 1024,
            peak / 1024,
        );
        drop(master);
        Ok::<_, anyhow::Error>(())
    }
    .await;
    crate::cluster::drop_database(&server, &database).await?;
    outcome
}
