//! Buildbot's BuildRequestDistributor: claims pending requests for this master's builders when
//! one of their workers is idle here, and starts the builds.
//!
//! It is woken by bus events (new or released requests, worker changes, finished builds) and
//! also sweeps every few seconds, so a lost message only delays a build (design invariant 1).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ferrobot_bus::Pattern;
use ferrobot_model::{BuildRequest, now_epoch};
use ferrobot_store::BuildRequestFilter;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::build::BuildJob;
use crate::Result;
use crate::context::Context;
use crate::workers::WorkerRegistry;

/// How often pending requests are looked at even without a wake-up.
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);

/// Claims and starts builds for this master.
pub struct Distributor {
    ctx: Arc<Context>,
    registry: Arc<WorkerRegistry>,
    wake: Arc<Notify>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Distributor {
    /// A distributor whose builds run on `tracker` and end RETRY when `shutdown` is cancelled.
    pub fn new(
        ctx: Arc<Context>,
        registry: Arc<WorkerRegistry>,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Distributor {
        Distributor {
            ctx,
            registry,
            wake: Arc::new(Notify::new()),
            tracker,
            shutdown,
        }
    }

    /// Runs until shutdown.
    pub async fn run(self) {
        for pattern in [
            "buildrequests.*.new",
            "buildrequests.*.unclaimed",
            "workers.*.state_updated",
            "builds.*.finished",
        ] {
            self.wake_on(Pattern::parse(pattern, '.')).await;
        }
        loop {
            if let Err(error) = self.distribute().await {
                tracing::warn!(%error, "distributing build requests failed; retrying");
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = self.registry.changed() => {}
                () = tokio::time::sleep(SWEEP_INTERVAL) => {}
                () = self.shutdown.cancelled() => return,
            }
        }
    }

    async fn wake_on(&self, pattern: Pattern) {
        let subscription = match self.ctx.events.bus().subscribe(&pattern).await {
            Ok(subscription) => subscription,
            Err(error) => {
                tracing::warn!(%error, "distributor subscription failed; relying on the sweep");
                return;
            }
        };
        let wake = self.wake.clone();
        let shutdown = self.shutdown.clone();
        self.tracker.spawn(async move {
            let mut subscription = subscription;
            loop {
                tokio::select! {
                    event = subscription.next() => match event {
                        Some(_) => wake.notify_one(),
                        None => return,
                    },
                    () = shutdown.cancelled() => return,
                }
            }
        });
    }

    /// One pass: for each builder, start as many pending requests as it has idle workers.
    async fn distribute(&self) -> Result<()> {
        if self.shutdown.is_cancelled() {
            return Ok(());
        }
        let config = self.ctx.config();
        let store = &self.ctx.store;
        let pending = store
            .buildrequests(&BuildRequestFilter {
                complete: Some(false),
                claimed: Some(false),
                ..Default::default()
            })
            .await?;
        if pending.is_empty() {
            return Ok(());
        }
        let mut by_builder: HashMap<i64, Vec<BuildRequest>> = HashMap::new();
        for request in pending {
            by_builder
                .entry(request.builderid)
                .or_default()
                .push(request);
        }
        let paused: HashSet<String> = store
            .workers()
            .await?
            .into_iter()
            .filter(|w| w.paused || w.graceful)
            .map(|w| w.name)
            .collect();
        let ids: HashMap<String, i64> = store
            .builders()
            .await?
            .into_iter()
            .map(|b| (b.name, b.builderid))
            .collect();
        // Builders whose oldest request waits longest go first, as Buildbot's default sorter.
        let mut builders: Vec<_> = config
            .builders
            .iter()
            .filter_map(|b| Some((b, by_builder.remove(ids.get(&b.name)?)?)))
            .collect();
        builders.sort_by_key(|(_, requests)| requests.iter().map(|r| r.submitted_at).min());
        for (builder, mut requests) in builders {
            requests.sort_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then(a.buildrequestid.cmp(&b.buildrequestid))
            });
            for request in requests {
                let Some(worker) = builder
                    .worker_names
                    .iter()
                    .filter(|name| !paused.contains(*name))
                    .filter_map(|name| self.registry.get(name))
                    .find(|connection| connection.try_reserve(&builder.name))
                else {
                    break;
                };
                let brid = request.buildrequestid;
                if !store
                    .claim_buildrequest(brid, self.ctx.claimant(), now_epoch())
                    .await?
                {
                    worker.release(&builder.name);
                    continue;
                }
                if let Some(claimed) = store.buildrequest(brid).await? {
                    self.ctx.events.buildrequest(&claimed, "claimed").await;
                }
                let job = BuildJob {
                    ctx: self.ctx.clone(),
                    worker,
                    builder: builder.clone(),
                    builderid: request.builderid,
                    request,
                    shutdown: self.shutdown.clone(),
                };
                let wake = self.wake.clone();
                self.tracker.spawn(async move {
                    job.run().await;
                    wake.notify_one();
                });
            }
        }
        Ok(())
    }
}
