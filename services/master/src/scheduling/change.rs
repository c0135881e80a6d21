//! SingleBranchScheduler and AnyBranchScheduler (reference/buildbot.md §7.1, §7.2).
//!
//! The bus only wakes a scheduler up (design invariant 1): every wake, and a sweep every
//! [`SWEEP_INTERVAL`], reads the changes newer than the last one it processed, in id order.
//! That cursor lives in `object_state`, so a lost message, a restart or a failover never
//! loses a change and never builds one twice.

use std::sync::Arc;
use std::time::Duration;

use ferrobot_bus::{Event, Pattern, Subscription};
use ferrobot_config::ChangeSchedulerConfig;
use ferrobot_model::{Change, ChangeId, SchedulerId};
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::buildset::build_for_changes;
use super::filter::CompiledFilter;
use super::stable::{StableTimers, TimerKey};
use crate::Result;
use crate::context::Context;

/// How often the store is swept for changes whose bus message never arrived.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(2);
/// The `object_state` key of the last change a scheduler processed.
pub const CURSOR_KEY: &str = "last_changeid";

/// The two change-driven scheduler classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `schedulers.SingleBranchScheduler`: one treeStableTimer for everything it accepts.
    SingleBranch,
    /// `schedulers.AnyBranchScheduler`: one treeStableTimer per branch (and codebase,
    /// project, repository).
    AnyBranch,
}

impl Kind {
    /// Buildbot's class name: the `object_state` class and part of the default reason.
    pub fn class_name(self) -> &'static str {
        match self {
            Kind::SingleBranch => "SingleBranchScheduler",
            Kind::AnyBranch => "AnyBranchScheduler",
        }
    }

    fn timer_key(self, change: &Change) -> TimerKey {
        match self {
            Kind::SingleBranch => TimerKey::default(),
            Kind::AnyBranch => TimerKey::of_change(change),
        }
    }
}

/// Runs one scheduler until `cancel` fires, retrying its activation while the store is down.
pub(super) async fn run(
    ctx: Arc<Context>,
    kind: Kind,
    config: ChangeSchedulerConfig,
    cancel: CancellationToken,
) {
    let scheduler = loop {
        match ChangeScheduler::activate(ctx.clone(), kind, config.clone()).await {
            Ok(scheduler) => break scheduler,
            Err(error) => {
                tracing::warn!(scheduler = %config.name, %error, "scheduler activation failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
                }
            }
        }
    };
    scheduler.run(cancel).await;
}

/// An active change-driven scheduler.
pub(super) struct ChangeScheduler {
    ctx: Arc<Context>,
    kind: Kind,
    config: ChangeSchedulerConfig,
    filter: CompiledFilter,
    schedulerid: SchedulerId,
    last_changeid: ChangeId,
    /// None when treeStableTimer is None: every accepted change builds at once.
    timers: Option<StableTimers>,
    subscription: Option<Subscription>,
}

impl ChangeScheduler {
    /// Registers the scheduler as run by this master, subscribes to new changes, loads its
    /// cursor and restarts the timers of changes classified before a restart or failover.
    pub(super) async fn activate(
        ctx: Arc<Context>,
        kind: Kind,
        config: ChangeSchedulerConfig,
    ) -> Result<ChangeScheduler> {
        let schedulerid = ctx.store.find_or_create_scheduler(&config.name).await?;
        ctx.store
            .set_scheduler_master(schedulerid, Some(ctx.masterid))
            .await?;
        // Subscribed before the cursor is read, so no change falls between the two.
        let subscription = subscribe(&ctx, &config.name).await;
        let state = ctx
            .store
            .get_state(&config.name, kind.class_name(), CURSOR_KEY)
            .await?;
        let last_changeid = match state.as_ref().and_then(Value::as_i64) {
            Some(last) => last,
            None => {
                // A new scheduler starts from now: history already in the store builds nothing.
                let newest = newest_changeid(&ctx).await?.unwrap_or(0);
                ctx.store
                    .set_state(
                        &config.name,
                        kind.class_name(),
                        CURSOR_KEY,
                        &Value::from(newest),
                    )
                    .await?;
                newest
            }
        };
        let mut scheduler = ChangeScheduler {
            filter: CompiledFilter::new(&config.change_filter),
            timers: config
                .tree_stable_timer_s
                .map(|s| StableTimers::new(Duration::from_secs(s))),
            ctx,
            kind,
            config,
            schedulerid,
            last_changeid,
            subscription,
        };
        scheduler.resume_classified().await?;
        tracing::info!(
            scheduler = %scheduler.config.name,
            class = kind.class_name(),
            last_changeid,
            "scheduler active"
        );
        Ok(scheduler)
    }

    /// Processes changes until `cancel` fires.
    pub(super) async fn run(mut self, cancel: CancellationToken) {
        let mut sweep_tick = tokio::time::interval(SWEEP_INTERVAL);
        sweep_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.timers.as_ref().and_then(StableTimers::next_deadline);
            tokio::select! {
                _ = cancel.cancelled() => break,
                event = next_event(&mut self.subscription) => {
                    if event.is_none() {
                        tracing::warn!(scheduler = %self.config.name, "change subscription closed");
                        self.subscription = None;
                    }
                    self.sweep().await;
                }
                _ = sweep_tick.tick() => {
                    if self.subscription.is_none() {
                        self.subscription = subscribe(&self.ctx, &self.config.name).await;
                    }
                    self.sweep().await;
                }
                _ = sleep_until(deadline) => self.fire_due_timers().await,
            }
        }
        tracing::debug!(scheduler = %self.config.name, "scheduler stopped");
    }

    /// On activation: Buildbot restarts the timers of stored classifications, or forgets them
    /// when the scheduler no longer has a treeStableTimer.
    async fn resume_classified(&mut self) -> Result<()> {
        let classified = self.ctx.store.classified_changes(self.schedulerid).await?;
        let Some(timers) = self.timers.as_mut() else {
            if let Some((newest, _)) = classified.last() {
                self.ctx
                    .store
                    .flush_classified_changes(self.schedulerid, *newest)
                    .await?;
            }
            return Ok(());
        };
        let now = Instant::now();
        for (changeid, _) in classified {
            if let Some(change) = self.ctx.store.change(changeid).await? {
                timers.restart(self.kind.timer_key(&change), now);
            }
        }
        Ok(())
    }

    async fn sweep(&mut self) {
        if let Err(error) = self.try_sweep().await {
            tracing::warn!(scheduler = %self.config.name, %error, "change sweep failed; retrying at the next wake");
        }
    }

    async fn try_sweep(&mut self) -> Result<()> {
        let Some(newest) = newest_changeid(&self.ctx).await? else {
            return Ok(());
        };
        if newest <= self.last_changeid {
            return Ok(());
        }
        let enabled = self.enabled().await?;
        // Ids may have gaps (rolled-back inserts); a missing id is simply passed over.
        for changeid in self.last_changeid + 1..=newest {
            let change = self.ctx.store.change(changeid).await?;
            let accepted = match &change {
                Some(change) if enabled && self.filter.matches(change) => {
                    self.accept(change).await?;
                    true
                }
                _ => false,
            };
            self.last_changeid = changeid;
            // Saved after every accepted change so a crash re-offers at most filtered-out ones.
            if accepted {
                self.save_cursor().await?;
            }
        }
        self.save_cursor().await
    }

    async fn save_cursor(&self) -> Result<()> {
        let value = Value::from(self.last_changeid);
        let class = self.kind.class_name();
        Ok(self
            .ctx
            .store
            .set_state(&self.config.name, class, CURSOR_KEY, &value)
            .await?)
    }

    /// A scheduler disabled through the REST API lets changes pass unbuilt, as Buildbot's does.
    async fn enabled(&self) -> Result<bool> {
        let schedulers = self.ctx.store.schedulers().await?;
        Ok(schedulers
            .iter()
            .find(|s| s.schedulerid == self.schedulerid)
            .is_none_or(|s| s.enabled))
    }

    async fn accept(&mut self, change: &Change) -> Result<()> {
        tracing::debug!(scheduler = %self.config.name, changeid = change.changeid, "change accepted");
        let Some(timers) = self.timers.as_mut() else {
            return self.build(std::slice::from_ref(change)).await;
        };
        // Every change is important until fileIsImportant is supported.
        self.ctx
            .store
            .classify_change(self.schedulerid, change.changeid, true)
            .await?;
        timers.restart(self.kind.timer_key(change), Instant::now());
        Ok(())
    }

    async fn fire_due_timers(&mut self) {
        let due = match self.timers.as_mut() {
            Some(timers) => timers.take_due(Instant::now()),
            None => return,
        };
        for key in due {
            if let Err(error) = self.fire(&key).await {
                tracing::warn!(scheduler = %self.config.name, %error, "tree-stable build failed; retrying later");
                if let Some(timers) = self.timers.as_mut() {
                    timers.restart(key, Instant::now());
                }
            }
        }
    }

    async fn build(&self, changes: &[Change]) -> Result<()> {
        build_for_changes(&self.ctx, self.kind, &self.config, changes).await
    }

    /// The tree has been quiet: one buildset for every change classified under this timer.
    pub(super) async fn fire(&mut self, key: &TimerKey) -> Result<()> {
        let classified = self.ctx.store.classified_changes(self.schedulerid).await?;
        let mut mine = Vec::new();
        let mut others = Vec::new();
        for (changeid, important) in classified {
            match self.ctx.store.change(changeid).await? {
                Some(change) if self.kind.timer_key(&change) == *key => {
                    mine.push((change, important))
                }
                Some(_) => others.push((changeid, important)),
                None => {}
            }
        }
        let Some(up_to) = mine.iter().map(|(change, _)| change.changeid).max() else {
            return Ok(());
        };
        if mine.iter().any(|(_, important)| *important) {
            let changes: Vec<Change> = mine.into_iter().map(|(change, _)| change).collect();
            self.build(&changes).await?;
        }
        self.ctx
            .store
            .flush_classified_changes(self.schedulerid, up_to)
            .await?;
        // The flush goes by id, so it also dropped other timers' older changes: put them back.
        for (changeid, important) in others.into_iter().filter(|(id, _)| *id <= up_to) {
            self.ctx
                .store
                .classify_change(self.schedulerid, changeid, important)
                .await?;
        }
        Ok(())
    }
}

async fn newest_changeid(ctx: &Context) -> Result<Option<ChangeId>> {
    Ok(ctx
        .store
        .changes(Some(1))
        .await?
        .first()
        .map(|c| c.changeid))
}

/// A failed subscription is logged and retried at the next sweep; sweeps alone still work.
async fn subscribe(ctx: &Context, scheduler: &str) -> Option<Subscription> {
    match ctx
        .events
        .bus()
        .subscribe(&Pattern::new(["changes", "*", "new"]))
        .await
    {
        Ok(subscription) => Some(subscription),
        Err(error) => {
            tracing::warn!(scheduler, %error, "change subscription failed; sweeping only");
            None
        }
    }
}

/// The next bus event, or never when there is no subscription.
async fn next_event(
    subscription: &mut Option<Subscription>,
) -> Option<ferrobot_bus::Result<Event>> {
    match subscription {
        Some(subscription) => subscription.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
