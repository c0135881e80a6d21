//! Cancelling build requests (`control.buildrequests.<id>.cancel`), as Buildbot's botmaster does:
//! a master that can claim the request completes it CANCELLED; a master running a build for it
//! stops that build.

use std::sync::Arc;

use ferrobot_bus::{Event, Pattern};
use ferrobot_model::{Results, now_epoch};
use ferrobot_store::BuildFilter;
use tokio_util::sync::CancellationToken;

use crate::Result;
use crate::context::Context;

/// Handles cancel requests until shutdown.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    let pattern = Pattern::parse("control.buildrequests.*.cancel", '.');
    let mut subscription = match ctx.events.bus().subscribe(&pattern).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%error, "cannot subscribe to build request cancellations");
            return;
        }
    };
    loop {
        let event = tokio::select! {
            event = subscription.next() => event,
            () = shutdown.cancelled() => return,
        };
        match event {
            Some(Ok(event)) => {
                if let Err(error) = cancel(&ctx, &event).await {
                    tracing::warn!(%error, "build request not cancelled");
                }
            }
            Some(Err(error)) => tracing::warn!(%error, "cancel requests may have been missed"),
            None => return,
        }
    }
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
    if store.claim_buildrequest(brid, ctx.masterid, now).await? {
        store
            .complete_buildrequests(&[brid], Results::Cancelled, now)
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
