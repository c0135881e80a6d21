//! Worker actions from the REST API (`control.worker.<id>.<action>`): pause and unpause are
//! store writes any master may make; stop (graceful) and kill reach the worker through the master
//! holding its connection.

use std::sync::Arc;

use ferrobot_bus::{Event, Pattern};
use tokio_util::sync::CancellationToken;

use super::WorkerRegistry;
use crate::Result;
use crate::context::Context;

/// Handles worker actions until shutdown.
pub async fn run(ctx: Arc<Context>, registry: Arc<WorkerRegistry>, shutdown: CancellationToken) {
    let pattern = Pattern::parse("control.worker.*.*", '.');
    let mut subscription = match ctx.events.bus().subscribe(&pattern).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%error, "cannot subscribe to worker actions");
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
                if let Err(error) = act(&ctx, &registry, &event).await {
                    tracing::warn!(%error, topic = %event.topic, "worker action failed");
                }
            }
            Some(Err(error)) => tracing::warn!(%error, "worker actions may have been missed"),
            None => return,
        }
    }
}

async fn act(ctx: &Context, registry: &WorkerRegistry, event: &Event) -> Result<()> {
    let (Some(workerid), Some(action)) = (
        event.topic.0.get(2).and_then(|id| id.parse::<i64>().ok()),
        event.topic.0.get(3).map(String::as_str),
    ) else {
        return Ok(());
    };
    let reason = event.payload["reason"].as_str();
    let store = &ctx.store;
    let Some(worker) = store.worker(workerid).await? else {
        return Ok(());
    };
    let connection = registry.get(&worker.name);
    match action {
        "pause" | "unpause" => {
            store
                .set_worker_paused(workerid, action == "pause", reason)
                .await?;
            tracing::info!(worker = %worker.name, action, "worker state changed");
        }
        "stop" => {
            store.set_worker_graceful(workerid, true).await?;
            if let Some(connection) = &connection {
                connection.shutdown(true).await;
            }
        }
        "kill" => {
            if let Some(connection) = &connection {
                connection.shutdown(false).await;
                connection.close();
            }
        }
        _ => return Ok(()),
    }
    if let Some(updated) = store.worker(workerid).await? {
        ctx.events.worker(&updated, "state_updated").await;
    }
    Ok(())
}
