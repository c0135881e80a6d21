//! Worker actions from the REST API (`control.worker.<id>.<action>`): pause and unpause are
//! store writes any master may make; stop (graceful) and kill reach the worker through the master
//! holding its connection.

use std::sync::Arc;

use ferrobot_bus::Event;
use tokio_util::sync::CancellationToken;

use super::WorkerRegistry;
use crate::Result;
use crate::context::Context;

/// Handles worker actions until shutdown.
pub async fn run(ctx: Arc<Context>, registry: Arc<WorkerRegistry>, shutdown: CancellationToken) {
    let bus = ctx.events.bus().clone();
    crate::events::consume(&bus, "control.worker.*.*", shutdown, |event| {
        let (ctx, registry) = (ctx.clone(), registry.clone());
        async move { act(&ctx, &registry, &event).await }
    })
    .await;
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
                connection.shutdown_when_idle();
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
