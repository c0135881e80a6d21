//! Cancelling build requests (`control.buildrequests.<id>.cancel`), as Buildbot's botmaster does:
//! a master that can claim the request completes it CANCELLED; a master running a build for it
//! stops that build.

use std::sync::Arc;

use ferrobot_bus::Event;
use ferrobot_model::{Results, now_epoch};
use ferrobot_store::BuildFilter;
use tokio_util::sync::CancellationToken;

use crate::Result;
use crate::context::Context;

/// Handles cancel requests until shutdown.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    let bus = ctx.events.bus().clone();
    crate::events::consume(&bus, "control.buildrequests.*.cancel", shutdown, |event| {
        let ctx = ctx.clone();
        async move { cancel(&ctx, &event).await }
    })
    .await;
}

async fn cancel(ctx: &Context, event: &Event) -> Result<()> {
    let Some(brid) = event.topic.0.get(2).and_then(|id| id.parse::<i64>().ok()) else {
        return Ok(());
    };
    let reason = event.payload["reason"]
        .as_str()
        .unwrap_or("cancelled")
        .to_owned();
    let store = &ctx.store;
    let now = now_epoch();
    if store.claim_buildrequest(brid, ctx.claimant(), now).await? {
        store
            .complete_buildrequests(&[brid], Results::Cancelled, ctx.claimant(), now)
            .await?;
        tracing::info!(brid, %reason, "build request cancelled");
        if let Some(request) = store.buildrequest(brid).await? {
            ctx.events.buildrequest(&request, "cancel").await;
            ctx.events.buildrequest(&request, "complete").await;
            if store
                .maybe_complete_buildset(request.buildsetid, now)
                .await?
                .is_some()
                && let Some(buildset) = store.buildset(request.buildsetid).await?
            {
                ctx.events.buildset(&buildset, "complete", None).await;
            }
        }
        return Ok(());
    }
    let running = store
        .builds(&BuildFilter {
            buildrequestid: Some(brid),
            masterid: Some(ctx.masterid),
            complete: Some(false),
            ..Default::default()
        })
        .await?;
    for build in running {
        ctx.events.stop_build(build.buildid, &reason).await;
    }
    Ok(())
}
