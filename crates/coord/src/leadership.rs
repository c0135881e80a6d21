//! Ownership of one singleton duty through a lease.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::Result;

/// What a backend does to give a duty up.
#[async_trait]
pub(crate) trait DutyBackend: Send + Sync + 'static {
    /// Releases the duty if this lease still owns it.
    async fn resign(&self) -> Result<()>;
}

/// Proof that a lease owns a duty. The duty stays owned while the lease lives: dropping this
/// value does not give it up (call [`Leadership::resign`]), and losing the lease loses it.
pub struct Leadership {
    duty: String,
    owner: String,
    epoch: u64,
    lost: CancellationToken,
    backend: Arc<dyn DutyBackend>,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("duty", &self.duty)
            .field("owner", &self.owner)
            .field("epoch", &self.epoch)
            .field("lost", &self.lost.is_cancelled())
            .finish()
    }
}

impl Leadership {
    /// A leadership whose loss follows the lease's.
    pub(crate) fn new(
        duty: &str,
        lease: &crate::Lease,
        backend: Arc<dyn DutyBackend>,
    ) -> Leadership {
        Leadership {
            duty: duty.to_owned(),
            owner: lease.owner().to_owned(),
            epoch: lease.epoch(),
            lost: lease.lost_token(),
            backend,
        }
    }

    /// The duty owned.
    pub fn duty(&self) -> &str {
        &self.duty
    }

    /// The owner of the lease that owns it.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The epoch of that lease, to fence the duty's writes with.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Resolves when the duty is no longer owned through this value: its lease is lost or it
    /// resigned. The duty's work must stop then.
    pub fn lost(&self) -> WaitForCancellationFutureOwned {
        self.lost.clone().cancelled_owned()
    }

    /// Whether the duty is already lost.
    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    /// A token cancelled when the duty is lost; cancelling it does not resign.
    pub fn lost_token(&self) -> CancellationToken {
        self.lost.child_token()
    }

    /// Gives the duty up so that another campaigner gets it at once; the lease stays.
    pub async fn resign(self) -> Result<()> {
        self.lost.cancel();
        self.backend.resign().await?;
        tracing::info!(duty = %self.duty, owner = %self.owner, epoch = self.epoch, "duty resigned");
        Ok(())
    }
}
