//! Schedulers: turn changes and force requests into buildsets with one build request per
//! builder (reference/buildbot.md §7).

mod buildset;
mod change;
pub mod filter;
mod force;
pub mod force_params;
pub mod stable;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
pub mod timed;

use std::collections::BTreeMap;
use std::sync::Arc;

use ferrobot_config::SchedulerConfig;
use ferrobot_model::{BuildRequestId, BuilderId, BuildsetId};
use ferrobot_store::NewBuildset;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Result;
use crate::cluster::Membership;
use crate::cluster::duties::run_duty;
use crate::context::Context;

pub use change::Kind;
pub use force::force;

/// A force request as the REST API's JSON-RPC `force` receives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForceRequest {
    /// Builders to build (must belong to the scheduler); empty = all of the scheduler's.
    pub builder_names: Vec<String>,
    /// The reason typed in the dialog.
    pub reason: Option<String>,
    /// Who asked (the session user or "anonymous").
    pub owner: Option<String>,
    /// Codebase fields of the default codebase.
    pub branch: Option<String>,
    /// Revision to build.
    pub revision: Option<String>,
    /// Repository.
    pub repository: Option<String>,
    /// Project.
    pub project: Option<String>,
    /// Request priority.
    pub priority: Option<i64>,
    /// Other parameters, set as properties with source "Force Build Form".
    pub properties: BTreeMap<String, Value>,
}

/// Stores a buildset with its requests, then announces it: `buildsets.<id>.new` (naming the
/// scheduler) and each request's `new` events. Returns the buildset id and each builder's
/// request id.
pub async fn submit_buildset(
    ctx: &Context,
    buildset: NewBuildset,
    scheduler_name: &str,
) -> Result<(BuildsetId, BTreeMap<BuilderId, BuildRequestId>)> {
    let (bsid, pairs) = ctx.store.add_buildset(&buildset).await?;
    let requests: BTreeMap<BuilderId, BuildRequestId> = pairs.iter().copied().collect();
    tracing::info!(
        bsid,
        scheduler = scheduler_name,
        requests = requests.len(),
        "buildset added"
    );
    // From here the buildset is committed: a failed read only costs its events, which the
    // consumers' sweeps make up for, so it is logged rather than returned.
    match ctx.store.buildset(bsid).await {
        Ok(Some(stored)) => {
            ctx.events
                .buildset(&stored, "new", Some(scheduler_name))
                .await
        }
        Ok(None) => tracing::warn!(bsid, "new buildset not found; event not published"),
        Err(error) => {
            tracing::warn!(bsid, %error, "new buildset not readable; event not published")
        }
    }
    for (_, brid) in &pairs {
        match ctx.store.buildrequest(*brid).await {
            Ok(Some(request)) => ctx.events.buildrequest(&request, "new").await,
            Ok(None) => tracing::warn!(brid, "new build request not found; event not published"),
            Err(error) => {
                tracing::warn!(brid, %error, "new build request not readable; event not published")
            }
        }
    }
    Ok((bsid, requests))
}

/// Starts one task per SingleBranchScheduler, AnyBranchScheduler, Periodic and Nightly of the
/// current config, each running only while this master owns the duty `scheduler:<name>` (one
/// master in the cluster runs each). They run until `cancel` fires; on reconfig the caller cancels and calls
/// this again.
pub fn spawn_schedulers(
    ctx: Arc<Context>,
    membership: &Arc<Membership>,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    let config = ctx.config();
    for scheduler in &config.schedulers {
        let (kind, scheduler_config) = match scheduler {
            SchedulerConfig::SingleBranch(c) => (Kind::SingleBranch, c.clone()),
            SchedulerConfig::AnyBranch(c) => (Kind::AnyBranch, c.clone()),
            SchedulerConfig::Force(c) => {
                // Force schedulers act only through `force`; they are registered so the
                // REST API lists them, as Buildbot's are.
                tracker.spawn(register(ctx.clone(), c.name.clone()));
                continue;
            }
            SchedulerConfig::Periodic(c) | SchedulerConfig::Nightly(c) => {
                let (ctx, timed_config) = (ctx.clone(), c.clone());
                tracker.spawn(run_duty(
                    membership.clone(),
                    format!("scheduler:{}", c.name),
                    cancel.clone(),
                    move |token| timed::run(ctx, timed_config, token),
                ));
                continue;
            }
        };
        let duty = format!("scheduler:{}", scheduler_config.name);
        let ctx = ctx.clone();
        tracker.spawn(run_duty(
            membership.clone(),
            duty,
            cancel.clone(),
            move |token| change::run(ctx, kind, scheduler_config, token),
        ));
    }
}

async fn register(ctx: Arc<Context>, name: String) {
    let registered = async {
        let schedulerid = ctx.store.find_or_create_scheduler(&name).await?;
        ctx.store
            .set_scheduler_master(schedulerid, Some(ctx.masterid))
            .await
    };
    if let Err(error) = registered.await {
        tracing::warn!(scheduler = %name, %error, "force scheduler not registered");
    }
}
