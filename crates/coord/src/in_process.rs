//! The single-node coordinator: leases and duties in memory, on tokio's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::leadership::DutyBackend;
use crate::lease::{LeaseBackend, check_grant, check_name};
use crate::{Coordinator, Error, Leadership, Lease, Result};

/// Leases and elections inside one process (the single-node shape). Clones share the state.
#[derive(Clone, Default)]
pub struct InProcessCoordinator {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Bumped on every change that may free a duty, so campaigners look again.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    next_epoch: u64,
    leases: HashMap<i64, LeaseRow>,
    /// Duty name → the id of the lease that owns it.
    duties: HashMap<String, i64>,
}

struct LeaseRow {
    owner: String,
    ttl: Duration,
    expires_at: Instant,
}

impl State {
    fn live_owner(&self, lease_id: i64, now: Instant) -> Option<&str> {
        self.leases
            .get(&lease_id)
            .filter(|row| row.expires_at > now)
            .map(|row| row.owner.as_str())
    }
}

impl InProcessCoordinator {
    /// An empty coordinator.
    pub fn new() -> InProcessCoordinator {
        InProcessCoordinator::default()
    }

    /// Forgets a lease and its duties as if an operator had removed it (the conformance suite
    /// takes leases away behind their owners' backs with it).
    pub fn remove_lease(&self, lease_id: i64) {
        self.shared.remove(lease_id);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves consistent maps behind.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|version| *version += 1);
    }

    fn remove(&self, lease_id: i64) {
        {
            let mut state = self.lock();
            state.leases.remove(&lease_id);
            state.duties.retain(|_, owner| *owner != lease_id);
        }
        self.bump();
    }
}

struct InProcessLease {
    shared: Arc<Shared>,
    id: i64,
    owner: String,
    epoch: u64,
}

#[async_trait]
impl LeaseBackend for InProcessLease {
    async fn renew(&self) -> Result<()> {
        let now = Instant::now();
        let mut state = self.shared.lock();
        match state.leases.get_mut(&self.id) {
            Some(row) if row.expires_at > now => {
                row.expires_at = now + row.ttl;
                Ok(())
            }
            _ => Err(Error::LeaseLost {
                owner: self.owner.clone(),
                epoch: self.epoch,
            }),
        }
    }

    async fn revoke(&self) -> Result<()> {
        self.shared.remove(self.id);
        Ok(())
    }
}

struct InProcessDuty {
    shared: Arc<Shared>,
    duty: String,
    lease_id: i64,
}

#[async_trait]
impl DutyBackend for InProcessDuty {
    async fn resign(&self) -> Result<()> {
        {
            let mut state = self.shared.lock();
            if state.duties.get(&self.duty) == Some(&self.lease_id) {
                state.duties.remove(&self.duty);
            }
        }
        self.shared.bump();
        Ok(())
    }
}

/// What a campaigner found: the duty is its own now, or it must wait until this instant (the
/// holder's expiry) or a change.
enum Attempt {
    Won,
    WaitUntil(Instant),
}

impl InProcessCoordinator {
    fn try_take(&self, duty: &str, lease: &Lease) -> Result<Attempt> {
        let now = Instant::now();
        let mut state = self.shared.lock();
        if state.live_owner(lease.id(), now).is_none() {
            return Err(lease.lost_error());
        }
        if let Some(&holder) = state.duties.get(duty)
            && holder != lease.id()
            && let Some(row) = state.leases.get(&holder)
            && row.expires_at > now
        {
            return Ok(Attempt::WaitUntil(row.expires_at));
        }
        state.duties.insert(duty.to_owned(), lease.id());
        Ok(Attempt::Won)
    }
}

#[async_trait]
impl Coordinator for InProcessCoordinator {
    async fn grant_lease(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        check_grant(owner, ttl)?;
        let now = Instant::now();
        let (id, epoch) = {
            let mut state = self.shared.lock();
            // Leases of owners that died without revoking are forgotten once a new one comes.
            state.leases.retain(|_, row| row.expires_at > now);
            let State { leases, duties, .. } = &mut *state;
            duties.retain(|_, holder| leases.contains_key(holder));
            state.next_epoch += 1;
            let epoch = state.next_epoch;
            let id = i64::try_from(epoch).map_err(|_| Error::Invalid("epochs ran out".into()))?;
            state.leases.insert(
                id,
                LeaseRow {
                    owner: owner.to_owned(),
                    ttl,
                    expires_at: now + ttl,
                },
            );
            (id, epoch)
        };
        let backend = Arc::new(InProcessLease {
            shared: self.shared.clone(),
            id,
            owner: owner.to_owned(),
            epoch,
        });
        tracing::info!(owner, epoch, ?ttl, "lease granted");
        Ok(Lease::start(backend, id, epoch, owner, ttl, now))
    }

    async fn campaign(&self, duty: &str, lease: &Lease) -> Result<Leadership> {
        check_name("duty", duty)?;
        let mut changes = self.shared.changed.subscribe();
        loop {
            changes.borrow_and_update();
            let wait_until = match self.try_take(duty, lease)? {
                Attempt::Won => break,
                Attempt::WaitUntil(instant) => instant,
            };
            tokio::select! {
                _ = lease.lost() => return Err(lease.lost_error()),
                _ = changes.changed() => {}
                _ = tokio::time::sleep_until(wait_until) => {}
            }
        }
        tracing::info!(
            duty,
            owner = lease.owner(),
            epoch = lease.epoch(),
            "duty won"
        );
        let backend = Arc::new(InProcessDuty {
            shared: self.shared.clone(),
            duty: duty.to_owned(),
            lease_id: lease.id(),
        });
        Ok(Leadership::new(duty, lease, backend))
    }

    async fn leader(&self, duty: &str) -> Result<Option<String>> {
        let now = Instant::now();
        let state = self.shared.lock();
        Ok(state
            .duties
            .get(duty)
            .and_then(|&holder| state.live_owner(holder, now))
            .map(str::to_owned))
    }

    async fn live_owners(&self) -> Result<Vec<String>> {
        let now = Instant::now();
        let state = self.shared.lock();
        let mut owners: Vec<String> = state
            .leases
            .values()
            .filter(|row| row.expires_at > now)
            .map(|row| row.owner.clone())
            .collect();
        owners.sort();
        owners.dedup();
        Ok(owners)
    }
}
