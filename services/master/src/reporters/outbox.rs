//! The delivery loop every reporter runs on every master with the scheduler role, over the
//! store's outbox (`ferrobot_store::Store::enqueue_build_reports` and friends).
//!
//! Each pass records a row for every build that started or finished since the reporter was
//! first configured (idempotent, so all masters may do it), then claims due rows one at a
//! time and hands each to the [`Reporter`]. The claim is the only thing that makes a report go
//! out once: masters race for rows and exactly one wins each. A failed attempt is retried
//! after a doubling backoff, as a row, so it never holds up other reports or builds; after
//! [`RetryPolicy::attempts`] the row is settled `failed` with the error. A master that dies
//! mid-attempt leaves its claim, which another master takes once the claim expires or once
//! housekeeping has marked the dead master inactive.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferrobot_bus::Pattern;
use ferrobot_store::{OutboxEvent, OutboxItem, OutboxOutcome};
use tokio_util::sync::CancellationToken;

use crate::context::Context;

/// How often the store is looked at even without an event (invariant 1: a lost event only
/// delays a report).
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);
/// How far back each pass looks beyond the previous one, in seconds: covers builds whose
/// finish was committed late or stamped by a master whose clock is behind.
const LOOK_BACK_SECONDS: i64 = 300;
/// The object state holding when a reporter was first configured.
const STATE_CLASS: &str = "ferrobot.reporters.Outbox";

/// What one attempt at a report came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered.
    Sent,
    /// Nothing to deliver (modes, filters, no recipient, no commit to report on).
    Skipped,
    /// Not delivered; worth trying again.
    Failed(String),
}

/// One reporter as the outbox drives it.
#[async_trait]
pub trait Reporter: Send + Sync + 'static {
    /// The Buildbot class name, for logs.
    fn class(&self) -> &'static str;
    /// The moments it reports.
    fn events(&self) -> Vec<OutboxEvent>;
    /// One attempt at reporting `item` (one try; the outbox retries).
    async fn deliver(&self, ctx: &Context, item: &OutboxItem) -> Delivery;
}

/// How failed attempts are retried and how long a claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before a report is given up.
    pub attempts: i64,
    /// Seconds before the second attempt; doubled before each further one.
    pub first_delay_seconds: i64,
    /// Seconds a claim holds; longer than one attempt can take (SMTP and HTTP time out at 30 s).
    pub lease_seconds: i64,
}

impl Default for RetryPolicy {
    /// 5 attempts, 2 s then 4, 8 and 16 s apart; claims of 90 s.
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_delay_seconds: 2,
            lease_seconds: 90,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`th failure (1-based).
    pub fn delay_after(&self, attempt: i64) -> i64 {
        let doublings = u32::try_from((attempt - 1).clamp(0, 16)).unwrap_or(16);
        self.first_delay_seconds.saturating_mul(1 << doublings)
    }
}

/// Runs `reporter` under the outbox name `name` until `shutdown`.
pub async fn run(
    ctx: Arc<Context>,
    name: String,
    reporter: Arc<dyn Reporter>,
    policy: RetryPolicy,
    shutdown: CancellationToken,
) {
    let class = reporter.class();
    let mut subscription = match ctx
        .events
        .bus()
        .subscribe(&Pattern::parse("builds.*.*", '.'))
        .await
    {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%error, reporter = %name, "reporter cannot follow builds");
            return;
        }
    };
    // Builds from before the reporter was first configured are not reported: the first master
    // to start it records when that was, and every master uses the same time.
    let first_seen = serde_json::json!(ferrobot_model::now_epoch());
    let mut since = match ctx
        .store
        .create_state_once(&name, STATE_CLASS, "since", &first_seen)
        .await
    {
        Ok(value) => value.as_i64().unwrap_or_else(ferrobot_model::now_epoch),
        Err(error) => {
            tracing::warn!(%error, reporter = %name, "reporter start time not stored; reporting from now");
            ferrobot_model::now_epoch()
        }
    };
    let events = reporter.events();
    tracing::info!(reporter = %name, class, "reporter started");
    loop {
        let now = ferrobot_model::now_epoch();
        match ctx
            .store
            .enqueue_build_reports(&name, &events, since, now)
            .await
        {
            Ok(_) => since = since.max(now - LOOK_BACK_SECONDS),
            Err(error) => {
                tracing::warn!(%error, reporter = %name, "builds not recorded for reporting")
            }
        }
        drain(&ctx, &name, reporter.as_ref(), policy, &shutdown).await;
        tokio::select! {
            event = subscription.next() => match event {
                Some(Ok(_)) => {}
                Some(Err(error)) => tracing::debug!(%error, "build events lagged; the store is read anyway"),
                None => return,
            },
            () = tokio::time::sleep(SWEEP_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Claims and delivers due reports until none is left.
async fn drain(
    ctx: &Context,
    name: &str,
    reporter: &dyn Reporter,
    policy: RetryPolicy,
    shutdown: &CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let now = ferrobot_model::now_epoch();
        let item = match ctx
            .store
            .claim_report(name, ctx.masterid, now, policy.lease_seconds)
            .await
        {
            Ok(Some(item)) => item,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, reporter = %name, "no report claimed");
                return;
            }
        };
        let delivery = tokio::select! {
            delivery = reporter.deliver(ctx, &item) => delivery,
            () = shutdown.cancelled() => {
                release(ctx, name, &item).await;
                return;
            }
        };
        settle(ctx, name, &item, delivery, policy).await;
    }
}

/// Gives back the claim on `item` when the reporter stops mid-delivery (reconfig or
/// shutdown), so that the next generation of this master, or another master, can take the
/// report at once instead of after the claim's expiry. (A master that dies cannot do this;
/// its claims lapse when it is found out.)
async fn release(ctx: &Context, name: &str, item: &OutboxItem) {
    let now = ferrobot_model::now_epoch();
    let outcome = OutboxOutcome::Retry {
        next_attempt_at: now,
        error: "interrupted: the reporter stopped during the delivery".into(),
    };
    if let Err(error) = ctx
        .store
        .settle_report(item.id, ctx.masterid, &outcome, now)
        .await
    {
        tracing::warn!(%error, reporter = %name, buildid = item.buildid, "report claim not given back; it lapses later");
    }
}

/// Records how the attempt on `item` ended, logging failures.
async fn settle(
    ctx: &Context,
    name: &str,
    item: &OutboxItem,
    delivery: Delivery,
    policy: RetryPolicy,
) {
    let now = ferrobot_model::now_epoch();
    let (buildid, event, attempt) = (item.buildid, item.event.as_str(), item.attempts);
    let outcome = match delivery {
        Delivery::Sent => {
            tracing::info!(reporter = %name, buildid, event, attempt, "report delivered");
            OutboxOutcome::Sent
        }
        Delivery::Skipped => OutboxOutcome::Skipped,
        Delivery::Failed(error) if attempt < policy.attempts => {
            let retry_in = policy.delay_after(attempt);
            tracing::warn!(reporter = %name, buildid, event, attempt, retry_in_seconds = retry_in, %error, "report not delivered, will retry");
            OutboxOutcome::Retry {
                next_attempt_at: now + retry_in,
                error,
            }
        }
        Delivery::Failed(error) => {
            tracing::error!(reporter = %name, buildid, event, attempts = attempt, %error, "report given up");
            OutboxOutcome::Failed { error }
        }
    };
    match ctx
        .store
        .settle_report(item.id, ctx.masterid, &outcome, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(reporter = %name, buildid, event, "report claim was taken over by another master before it was settled")
        }
        Err(error) => {
            tracing::warn!(%error, reporter = %name, buildid, event, "report outcome not stored; its claim will lapse and it is retried")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_first_delay() {
        let policy = RetryPolicy::default();
        let delays: Vec<i64> = (1..=4).map(|a| policy.delay_after(a)).collect();
        assert_eq!(delays, [2, 4, 8, 16]);
    }
}
