//! A lease and the background task that renews it.
//!
//! The task renews every `ttl / 3` and declares the lease lost when no renewal has succeeded
//! for `2 * ttl / 3`, measured from the moment the last good renewal was *sent*. The server
//! starts its TTL when it receives the renewal, which is later, so the owner learns of the loss
//! at least `ttl / 3` before anyone else may take over (self-fencing, design §3 invariant 3).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::{Error, Result};

/// The shortest TTL accepted: renewals run at a third of it.
pub const MIN_TTL: Duration = Duration::from_millis(300);
/// The longest TTL accepted.
pub const MAX_TTL: Duration = Duration::from_secs(300);

/// What a backend does for one lease.
#[async_trait]
pub(crate) trait LeaseBackend: Send + Sync + 'static {
    /// Extends the lease by its TTL; [`Error::LeaseLost`] when the server no longer has it.
    async fn renew(&self) -> Result<()>;
    /// Removes the lease and every duty it owns.
    async fn revoke(&self) -> Result<()>;
}

/// A lease held by one owner (a master). It renews itself in the background until it is
/// revoked or dropped. Dropping it without [`Lease::revoke`] stops the renewals, as a crash
/// would: the server-side lease and its duties then run out after the TTL.
pub struct Lease {
    id: i64,
    epoch: u64,
    owner: String,
    ttl: Duration,
    lost: CancellationToken,
    stop: CancellationToken,
    partitioned: Arc<AtomicBool>,
    backend: Arc<dyn LeaseBackend>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("id", &self.id)
            .field("epoch", &self.epoch)
            .field("owner", &self.owner)
            .field("ttl", &self.ttl)
            .field("lost", &self.lost.is_cancelled())
            .finish()
    }
}

impl Lease {
    /// Starts the renewal task for a lease the backend just granted. `requested_at` is when the
    /// grant request was sent: the server's TTL cannot have started earlier.
    pub(crate) fn start(
        backend: Arc<dyn LeaseBackend>,
        id: i64,
        epoch: u64,
        owner: &str,
        ttl: Duration,
        requested_at: Instant,
    ) -> Lease {
        let lease = Lease {
            id,
            epoch,
            owner: owner.to_owned(),
            ttl,
            lost: CancellationToken::new(),
            stop: CancellationToken::new(),
            partitioned: Arc::new(AtomicBool::new(false)),
            backend,
        };
        let renewer = Renewer {
            backend: lease.backend.clone(),
            owner: lease.owner.clone(),
            epoch,
            ttl,
            lost: lease.lost.clone(),
            stop: lease.stop.clone(),
            partitioned: lease.partitioned.clone(),
        };
        tokio::spawn(renewer.run(requested_at));
        lease
    }

    /// The backend's identifier of the lease (a row id, an etcd lease id).
    pub fn id(&self) -> i64 {
        self.id
    }

    /// A number that strictly increases with every lease granted by the same backend: writes
    /// fenced by it can refuse a lease holder that was superseded.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Who holds the lease.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The TTL it was granted with.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Resolves when the lease is lost: revoked, dropped, removed on the server, or not renewed
    /// for two thirds of its TTL. It resolves before the TTL lets another owner in.
    pub fn lost(&self) -> WaitForCancellationFutureOwned {
        self.lost.clone().cancelled_owned()
    }

    /// Whether the lease is already lost.
    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    /// A token cancelled when the lease is lost, for tasks that must stop with it. Cancelling
    /// this token does not affect the lease.
    pub fn lost_token(&self) -> CancellationToken {
        self.lost.child_token()
    }

    /// [`Error::LeaseLost`] for this lease.
    pub fn lost_error(&self) -> Error {
        Error::LeaseLost {
            owner: self.owner.clone(),
            epoch: self.epoch,
        }
    }

    /// Gives the lease up: stops renewing, removes it on the server (its duties become free at
    /// once) and fires [`Lease::lost`].
    pub async fn revoke(&self) -> Result<()> {
        self.stop.cancel();
        self.lost.cancel();
        self.backend.revoke().await?;
        tracing::info!(owner = %self.owner, epoch = self.epoch, "lease revoked");
        Ok(())
    }

    /// Test hook: from now on every renewal fails as if the backend were unreachable, while
    /// the server still holds the lease until its TTL runs out (a network partition).
    pub fn simulate_partition(&self) {
        self.partitioned.store(true, Ordering::SeqCst);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.cancel();
        self.lost.cancel();
    }
}

struct Renewer {
    backend: Arc<dyn LeaseBackend>,
    owner: String,
    epoch: u64,
    ttl: Duration,
    lost: CancellationToken,
    stop: CancellationToken,
    partitioned: Arc<AtomicBool>,
}

impl Renewer {
    async fn run(self, requested_at: Instant) {
        let interval = self.ttl / 3;
        let fence_after = self.ttl * 2 / 3;
        // A failed renewal is retried a few times within its fencing window.
        let retry = self.ttl / 12;
        let mut last_sent_ok = requested_at;
        let mut next_attempt = requested_at + interval;
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep_until(next_attempt) => {}
            }
            let deadline = last_sent_ok + fence_after;
            let sent = Instant::now();
            if sent >= deadline {
                return self.fence("no renewal succeeded within two thirds of the ttl");
            }
            let outcome = if self.partitioned.load(Ordering::SeqCst) {
                Err(Error::Backend(
                    "renewals are cut off by the test hook".into(),
                ))
            } else {
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    outcome = tokio::time::timeout_at(deadline, self.backend.renew()) => {
                        match outcome {
                            Ok(outcome) => outcome,
                            Err(_) => {
                                return self.fence("a renewal did not answer before the fencing deadline");
                            }
                        }
                    }
                }
            };
            match outcome {
                Ok(()) => {
                    last_sent_ok = sent;
                    next_attempt = sent + interval;
                }
                Err(Error::LeaseLost { .. }) => {
                    return self.fence("the backend no longer holds the lease");
                }
                Err(error) => {
                    tracing::warn!(owner = %self.owner, epoch = self.epoch, %error, "lease renewal failed");
                    next_attempt = (Instant::now() + retry).min(deadline);
                }
            }
        }
    }

    fn fence(&self, reason: &str) {
        tracing::error!(owner = %self.owner, epoch = self.epoch, reason, "lease lost");
        self.lost.cancel();
    }
}

/// Fails with [`Error::Invalid`] for an empty name or a TTL outside [`MIN_TTL`]..=[`MAX_TTL`].
pub(crate) fn check_grant(owner: &str, ttl: Duration) -> Result<()> {
    check_name("owner", owner)?;
    if !(MIN_TTL..=MAX_TTL).contains(&ttl) {
        return Err(Error::Invalid(format!(
            "a lease ttl must be between {MIN_TTL:?} and {MAX_TTL:?}, not {ttl:?}"
        )));
    }
    Ok(())
}

/// Fails with [`Error::Invalid`] for an empty name.
pub(crate) fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Invalid(format!("the {what} name is empty")));
    }
    Ok(())
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
