//! Singleton duties (design §3 invariant 4): a scheduler, a change source or housekeeping runs
//! only on the master whose lease owns the duty, and moves when that master goes away.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Membership;

/// How long to wait before campaigning again after the coordinator could not be reached.
const CAMPAIGN_RETRY: Duration = Duration::from_secs(1);

/// Campaigns for `duty`, then runs `work` with a token cancelled when the duty is lost or
/// `cancel` fires; returns once `work` has stopped. The duty is resigned when `work` stops for
/// any reason but its loss (reconfig, shutdown), so another master takes it at once.
pub async fn run_duty<F, Fut>(
    membership: Arc<Membership>,
    duty: String,
    cancel: CancellationToken,
    work: F,
) where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = ()>,
{
    let coordinator = membership.coordinator().clone();
    let leadership = loop {
        let campaign = coordinator.campaign(&duty, membership.lease());
        let outcome = tokio::select! {
            outcome = campaign => outcome,
            () = cancel.cancelled() => return,
        };
        match outcome {
            Ok(leadership) => break leadership,
            Err(ferrobot_coord::Error::LeaseLost { .. }) => {
                tracing::warn!(%duty, "master lease lost; not campaigning for the duty");
                return;
            }
            Err(error) => {
                tracing::warn!(%duty, %error, "campaign failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(CAMPAIGN_RETRY) => {}
                    () = cancel.cancelled() => return,
                }
            }
        }
    };
    tracing::info!(%duty, epoch = leadership.epoch(), "duty taken");
    let token = cancel.child_token();
    let lost = leadership.lost_token();
    let stopper = {
        let token = token.clone();
        async move {
            tokio::select! {
                () = lost.cancelled() => token.cancel(),
                () = token.cancelled() => {}
            }
        }
    };
    // The stopper only translates the loss into the work's token; the work stops on its own.
    let ((), ()) = tokio::join!(
        async {
            work(token.clone()).await;
            token.cancel();
        },
        stopper
    );
    if leadership.is_lost() {
        tracing::warn!(%duty, "duty lost with the master lease; its work stopped");
    } else if let Err(error) = leadership.resign().await {
        tracing::warn!(%duty, %error, "resigning the duty failed; it frees with the lease");
    }
}
