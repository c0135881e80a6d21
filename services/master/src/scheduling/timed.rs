//! `schedulers.Periodic` and `schedulers.Nightly` (reference/buildbot.md §7.5): each is a
//! cluster duty (`scheduler:<name>`), so one master fires it, and its `last_build` lives in
//! `object_state`, so a restart or a failover neither repeats a build nor forgets one: a time
//! missed while no master ran the scheduler builds at once, then the schedule goes on.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Local, TimeZone, Timelike};
use ferrobot_config::{CronSchedule, TimedSchedule, TimedSchedulerConfig};
use ferrobot_model::{SchedulerId, now_epoch};
use ferrobot_store::{NewBuildset, NewSourceStamp};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::buildset::{known_builders, scheduler_properties};
use super::submit_buildset;
use crate::Result;
use crate::context::Context;

/// The `object_state` key of the last time the scheduler fired (epoch seconds).
pub const LAST_BUILD_KEY: &str = "last_build";
/// How long to wait before trying again after the store failed.
const RETRY: Duration = Duration::from_secs(2);

/// Runs one timed scheduler until `cancel` fires: registers it as run by this master once,
/// then waits for and fires each time in turn, retrying after a store failure.
pub(super) async fn run(
    ctx: Arc<Context>,
    config: TimedSchedulerConfig,
    cancel: CancellationToken,
) {
    let schedulerid = loop {
        match activate(&ctx, &config.name).await {
            Ok(id) => break id,
            Err(error) => {
                tracing::warn!(scheduler = %config.name, %error, "timed scheduler activation failed; retrying");
                if !pause(&cancel).await {
                    return;
                }
            }
        }
    };
    tracing::info!(scheduler = %config.name, class = config.class_name(), "timed scheduler active");
    loop {
        let outcome = async {
            let at = next_fire(&ctx, &config).await?;
            let wait = u64::try_from(at - now_epoch()).unwrap_or(0);
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(Duration::from_secs(wait)) => {}
            }
            fire(&ctx, &config, schedulerid, at).await
        };
        if let Err(error) = outcome.await {
            tracing::warn!(scheduler = %config.name, %error, "timed scheduler failed; retrying");
            if !pause(&cancel).await {
                return;
            }
        }
        if cancel.is_cancelled() {
            return;
        }
    }
}

/// Registers the scheduler as run by this master; returns its id.
async fn activate(ctx: &Context, name: &str) -> Result<SchedulerId> {
    let schedulerid = ctx.store.find_or_create_scheduler(name).await?;
    ctx.store
        .set_scheduler_master(schedulerid, Some(ctx.masterid))
        .await?;
    Ok(schedulerid)
}

/// Waits [`RETRY`]; false when `cancel` fired meanwhile.
async fn pause(cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep(RETRY) => true,
    }
}

/// When the scheduler fires next: Periodic at once the first time, then every period; Nightly
/// at the next matching minute after the last build (or after now, the first time). A time
/// already past fires now.
async fn next_fire(ctx: &Context, config: &TimedSchedulerConfig) -> Result<i64> {
    let last = ctx
        .store
        .get_state(&config.name, config.class_name(), LAST_BUILD_KEY)
        .await?
        .and_then(|v| v.as_i64());
    let now = now_epoch();
    let next = match (&config.schedule, last) {
        (TimedSchedule::Every { .. }, None) => now,
        (TimedSchedule::Every { seconds }, Some(last)) => {
            last.saturating_add(i64::try_from(*seconds).unwrap_or(i64::MAX))
        }
        (TimedSchedule::Cron(cron), last) => {
            next_cron_time(cron, last.unwrap_or(now)).ok_or_else(|| {
                crate::Error::BadRequest(format!(
                    "scheduler '{}': its cron fields match no time in the next four years",
                    config.name
                ))
            })?
        }
    };
    Ok(next.max(now))
}

/// Records the firing, then submits the buildset (unless the scheduler is disabled). The record
/// comes first: should the master die in between, the tick is lost rather than built twice.
async fn fire(
    ctx: &Context,
    config: &TimedSchedulerConfig,
    schedulerid: SchedulerId,
    at: i64,
) -> Result<()> {
    ctx.store
        .set_state(
            &config.name,
            config.class_name(),
            LAST_BUILD_KEY,
            &Value::from(at),
        )
        .await?;
    let enabled = ctx
        .store
        .schedulers()
        .await?
        .iter()
        .find(|s| s.schedulerid == schedulerid)
        .is_none_or(|s| s.enabled);
    if !enabled {
        tracing::info!(scheduler = %config.name, "scheduler disabled; no build this time");
        return Ok(());
    }
    let builderids = known_builders(ctx, &config.name, &config.builder_names).await?;
    if builderids.is_empty() {
        tracing::warn!(scheduler = %config.name, "no known builder to start");
        return Ok(());
    }
    let buildset = NewBuildset {
        reason: config.reason.clone(),
        properties: scheduler_properties(&config.name, &config.properties),
        sourcestamps: vec![NewSourceStamp {
            branch: config.branch.clone(),
            ..NewSourceStamp::default()
        }],
        builderids,
        priority: config.priority,
        submitted_at: now_epoch(),
        ..NewBuildset::default()
    };
    submit_buildset(ctx, buildset, &config.name).await?;
    Ok(())
}

/// The first minute after `after` (epoch seconds) that the schedule matches, in the master's
/// local time, within four years (so that `dayOfMonth=29, month=2` is found).
pub fn next_cron_time(cron: &CronSchedule, after: i64) -> Option<i64> {
    const LIMIT: i64 = (4 * 366 + 1) * 24 * 60;
    let mut minute = after.div_euclid(60) + 1;
    let end = minute + LIMIT;
    while minute < end {
        let at = minute * 60;
        let local = Local.timestamp_opt(at, 0).single()?;
        let (hour, min) = (local.hour(), local.minute());
        let weekday = local.weekday().num_days_from_monday();
        if !cron.matches(min, hour, local.day(), local.month(), weekday) {
            let day_ok = cron.matches(
                cron.minutes[0],
                cron.hours[0],
                local.day(),
                local.month(),
                weekday,
            );
            minute += if !day_ok && hour < 22 {
                // Jump to late in the day; 22:00 stays within the day even across DST.
                i64::from((22 - hour) * 60 - min)
            } else if !cron.hours.contains(&hour) {
                i64::from(60 - min)
            } else {
                1
            };
            continue;
        }
        return Some(at);
    }
    None
}

#[cfg(test)]
#[path = "timed_tests.rs"]
mod tests;
