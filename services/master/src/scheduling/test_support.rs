//! A master context over a real SQLite store and the in-process bus, for the scheduler and
//! change source tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use ferrobot_bus::{Event, InProcessBus, Pattern, Subscription};
use ferrobot_config::MasterConfig;
use ferrobot_model::Change;
use ferrobot_store::NewChange;
use tempfile::TempDir;
use tokio::sync::watch;

use crate::context::Context;
use crate::events::Events;

/// How long a test waits for something that should happen quickly.
pub const WAIT: Duration = Duration::from_secs(20);

/// A context and the directory that holds its database.
pub struct TestMaster {
    /// The context.
    pub ctx: Arc<Context>,
    /// The master directory; removed on drop.
    pub dir: TempDir,
    _config: watch::Sender<Arc<MasterConfig>>,
}

/// A fresh master directory and store, with this config.
pub async fn test_master(config: MasterConfig) -> anyhow::Result<TestMaster> {
    let dir = tempfile::tempdir()?;
    let store = ferrobot_store::open("sqlite:///state.sqlite", dir.path()).await?;
    let masterid = store.find_or_create_master("test-master").await?;
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let ctx = Context {
        store,
        events: Events::new(Arc::new(InProcessBus::new())),
        config: config_rx,
        masterid,
        lease_epoch: 1,
        master_name: "test-master".into(),
        basedir: dir.path().to_path_buf(),
    };
    Ok(TestMaster {
        ctx: Arc::new(ctx),
        dir,
        _config: config_tx,
    })
}

/// Subscribes to a `.`-separated pattern.
pub async fn subscribe(ctx: &Context, pattern: &str) -> anyhow::Result<Subscription> {
    Ok(ctx
        .events
        .bus()
        .subscribe(&Pattern::parse(pattern, '.'))
        .await?)
}

/// The next event of the subscription, failing after [`WAIT`].
pub async fn next_event(subscription: &mut Subscription) -> anyhow::Result<Event> {
    next_event_within(subscription, WAIT).await
}

/// The next event of the subscription, failing after `wait` (virtual time when paused).
pub async fn next_event_within(
    subscription: &mut Subscription,
    wait: Duration,
) -> anyhow::Result<Event> {
    let event = tokio::time::timeout(wait, subscription.next())
        .await
        .context("no event in time")?
        .context("bus closed")??;
    Ok(event)
}

static NEXT_REVISION: AtomicU64 = AtomicU64::new(1);

/// Stores a change on `branch`; publishes its event only when `publish` is set.
pub async fn add_change(
    ctx: &Context,
    branch: Option<&str>,
    publish: bool,
) -> anyhow::Result<Change> {
    let change = ctx
        .store
        .add_change(&NewChange {
            author: "A U Thor <author@example.com>".into(),
            comments: "a change".into(),
            // Distinct revisions give each change its own source stamp.
            revision: Some(format!(
                "rev-{}",
                NEXT_REVISION.fetch_add(1, Ordering::Relaxed)
            )),
            when_timestamp: 1_700_000_000,
            branch: branch.map(str::to_owned),
            repository: "https://example.com/repo.git".into(),
            ..Default::default()
        })
        .await?;
    if publish {
        ctx.events.change(&change).await;
    }
    Ok(change)
}
