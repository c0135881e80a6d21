//! Change sources: pollers that find new commits and store them as changes
//! (reference/buildbot.md §8).

mod git;
pub mod gitpoller;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use ferrobot_config::ChangeSourceConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Result;
use crate::cluster::Membership;
use crate::cluster::duties::run_duty;
use crate::context::Context;

pub use gitpoller::run_git_poller;

/// Starts one task per change source of the current config, each running (and registered as
/// run by this master) only while this master owns the duty `changesource:<name>`. They run
/// until `cancel` fires; on reconfig the caller cancels and calls this again.
pub fn spawn_change_sources(
    ctx: Arc<Context>,
    membership: &Arc<Membership>,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    for source in &ctx.config().change_sources {
        match source {
            ChangeSourceConfig::GitPoller(config) => {
                let (ctx, config) = (ctx.clone(), config.clone());
                let duty = format!("changesource:{}", config.name);
                tracker.spawn(run_duty(
                    membership.clone(),
                    duty,
                    cancel.clone(),
                    move |token| async move {
                        // Polling matters more than the listing: an unregistered poller still
                        // polls.
                        if let Err(error) = register(&ctx, &config.name).await {
                            tracing::warn!(poller = %config.name, %error, "change source not registered");
                        }
                        run_git_poller(ctx, config, token).await;
                    },
                ));
            }
        }
    }
}

async fn register(ctx: &Context, name: &str) -> Result<()> {
    let changesourceid = ctx.store.find_or_create_changesource(name).await?;
    ctx.store
        .set_changesource_master(changesourceid, Some(ctx.masterid))
        .await?;
    Ok(())
}
