//! Recovery of dead masters' work (design §3 invariant 3), run as the `housekeeping` duty, and
//! of this master's own leftovers at start-up.

use std::sync::Arc;
use std::time::Duration;

use ferrobot_model::{Master, MasterId, now_epoch};
use ferrobot_store::Store;
use tokio_util::sync::CancellationToken;

use super::Membership;
use crate::Result;
use crate::context::Context;
use crate::events::Events;

/// The duty name of housekeeping.
pub const DUTY: &str = "housekeeping";

/// How often the housekeeping owner looks for dead masters; with the lease TTL this bounds how
/// long a dead master's requests wait.
pub const INTERVAL: Duration = Duration::from_secs(2);

/// Looks for dead masters every [`INTERVAL`] until `cancel` fires (run it through
/// [`super::duties::run_duty`] so one master in the cluster does it).
pub async fn run(ctx: Arc<Context>, membership: Arc<Membership>, cancel: CancellationToken) {
    loop {
        if let Err(error) = recover_dead_masters(&ctx, &membership).await {
            tracing::warn!(%error, "dead master recovery failed; retrying");
        }
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            () = cancel.cancelled() => return,
        }
    }
}

/// One pass: every master marked active whose lease is gone is recovered.
pub async fn recover_dead_masters(ctx: &Context, membership: &Membership) -> Result<()> {
    if membership.lease().is_lost() {
        // Our own view is stale: leave the judging to a master that still holds its lease.
        return Ok(());
    }
    // Masters first, leases second: a master marks itself active only after its lease is
    // granted, so one starting in between is never taken for dead.
    let masters = ctx.store.masters().await?;
    let live = membership
        .coordinator()
        .live_owners()
        .await
        .map_err(|e| crate::Error::Internal(format!("listing live masters: {e}")))?;
    for master in masters {
        if master.active && master.masterid != ctx.masterid && !live.contains(&master.name) {
            recover_master(ctx, &master).await?;
        }
    }
    Ok(())
}

/// Ends a dead master's builds RETRY, releases all its claims, drops its worker connections,
/// unlinks its schedulers and change sources and marks it inactive.
pub async fn recover_master(ctx: &Context, master: &Master) -> Result<()> {
    let store = ctx.store.as_ref();
    let masterid = master.masterid;
    tracing::warn!(master = %master.name, masterid, "master lease expired; recovering its work");
    release_leftovers(store, &ctx.events, masterid).await?;
    for worker in store.workers().await? {
        if worker.connected_to.iter().any(|c| c.masterid == masterid) {
            store.worker_disconnected(worker.workerid, masterid).await?;
        }
    }
    for source in store.changesources().await? {
        if source
            .master
            .as_ref()
            .is_some_and(|m| m.masterid == masterid)
        {
            store
                .set_changesource_master(source.changesourceid, None)
                .await?;
        }
    }
    // Marking it inactive also unlinks the schedulers it ran.
    store
        .set_master_active(masterid, false, now_epoch())
        .await?;
    if let Some(master) = store.master(masterid).await? {
        ctx.events.master(&master, "stopped").await;
    }
    tracing::info!(master = %master.name, masterid, "dead master recovered");
    Ok(())
}

/// Ends the builds a master left running RETRY (steps too) and releases its claims, publishing
/// `unclaimed` so the requests run again. Used for a dead master and, at start-up, for the
/// leftovers of this master's previous run (Buildbot does the latter too).
pub async fn release_leftovers(
    store: &dyn Store,
    events: &Events,
    masterid: MasterId,
) -> Result<()> {
    let released = store.release_master_work(masterid, now_epoch()).await?;
    for buildid in released.builds {
        tracing::info!(buildid, masterid, "build left running ended RETRY");
        if let Some(build) = store.build(buildid).await? {
            events.build(&build, "finished").await;
        }
    }
    for brid in released.buildrequests {
        if let Some(request) = store.buildrequest(brid).await? {
            events.buildrequest(&request, "unclaimed").await;
        }
    }
    Ok(())
}
