//! Leases and per-duty elections between masters (design §3 invariants 3 and 4).
//!
//! A master holds a [`Lease`] with a short TTL that renews itself in the background; when it
//! cannot renew, [`Lease::lost`] fires before the TTL would let another master in, so the
//! master can stop its work first (self-fencing). Every singleton duty (a scheduler, a poller,
//! housekeeping) is owned by one lease at a time through [`Coordinator::campaign`], and moves to
//! another campaigner when its owner's lease ends. Implementations: [`InProcessCoordinator`]
//! (single node), [`PostgresCoordinator`] (heartbeat rows judged by the database clock) and,
//! with the `etcd` feature, `EtcdCoordinator` (etcd leases and elections); one conformance
//! suite proves them alike.
#![warn(missing_docs)]

#[cfg(feature = "testsuite")]
pub mod conformance;
mod error;
#[cfg(feature = "etcd")]
mod etcd;
mod in_process;
mod leadership;
mod lease;
mod postgres;

use std::time::Duration;

use async_trait::async_trait;

pub use error::{Error, Result};
#[cfg(feature = "etcd")]
pub use etcd::EtcdCoordinator;
pub use in_process::InProcessCoordinator;
pub use leadership::Leadership;
pub use lease::{Lease, MAX_TTL, MIN_TTL};
pub use postgres::PostgresCoordinator;

/// Leases and elections shared by the masters of one cluster.
#[async_trait]
pub trait Coordinator: Send + Sync + 'static {
    /// Grants `owner` a new lease with this TTL (between [`MIN_TTL`] and [`MAX_TTL`]). Its
    /// epoch is greater than every epoch granted before. It renews itself until revoked,
    /// dropped or lost.
    async fn grant_lease(&self, owner: &str, ttl: Duration) -> Result<Lease>;

    /// Waits until `lease` owns `duty` (one election per duty name) and returns the proof.
    /// Fails with [`Error::LeaseLost`] if the lease is lost first; a campaign given up this way
    /// or by dropping the future never wins later. Campaigning for a duty the lease already
    /// owns returns at once. Fails with [`Error::Backend`] when the backend cannot be reached;
    /// the caller may campaign again.
    async fn campaign(&self, duty: &str, lease: &Lease) -> Result<Leadership>;

    /// The owner whose live lease owns `duty`, if any.
    async fn leader(&self, duty: &str) -> Result<Option<String>>;

    /// The owners of all unexpired leases, sorted and without repeats: a master not listed is
    /// dead, and its leftovers may be recovered.
    async fn live_owners(&self) -> Result<Vec<String>>;
}
