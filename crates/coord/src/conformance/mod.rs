//! The behaviour every [`Coordinator`] must show, written once and run against each
//! implementation through [`coord_conformance_suite!`](crate::coord_conformance_suite).
//!
//! Each case panics with a message naming what a user (a master) would notice. Every wait is
//! bounded; waits for an event that must not come are bounded by the time the rule allows.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::{Coordinator, Leadership, Lease};

mod cases;

pub use cases::*;

/// The longest any single step may take before a case fails.
pub const WAIT: Duration = Duration::from_secs(20);
/// Slack allowed on top of a TTL for scheduling, polling and round trips.
pub const MARGIN: Duration = Duration::from_millis(1000);

/// Takes a lease away on the backend behind its owner's back (by lease id).
pub type RemoveLease = Box<dyn Fn(i64) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What a case needs to know about the coordinator under test.
pub struct Fixture {
    /// The coordinator, fresh and empty; cases may clone it into tasks.
    pub coordinator: Arc<dyn Coordinator>,
    /// The TTL cases grant leases with (1-2 s).
    pub ttl: Duration,
    /// How much later than its TTL the backend may notice an expiry (etcd rounds TTLs up to
    /// whole seconds and checks expiries in steps).
    pub expiry_slack: Duration,
    /// Removes a lease behind its owner's back, as an operator or a backend failure would.
    pub remove_lease: RemoveLease,
}

impl Fixture {
    /// How long after its owner stops renewing a lease must be gone, at the most.
    pub fn expiry_bound(&self) -> Duration {
        self.ttl + self.expiry_slack + MARGIN
    }
}

/// Expands to one `#[tokio::test]` per conformance case. The argument is the path of an async
/// function `run(case)` that builds a fresh [`Fixture`], awaits `case(fixture)` and cleans up
/// (a database dropped, a key prefix deleted). The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! coord_conformance_suite {
    ($runner:path) => {
        $crate::coord_conformance_suite!(@cases $runner;
            a_granted_lease_is_live_and_listed,
            a_renewed_lease_outlives_its_ttl,
            a_revoked_lease_disappears_at_once,
            a_crashed_owners_duty_moves_after_its_ttl,
            only_one_leader_per_duty_under_concurrent_campaigns,
            resigning_hands_the_duty_over,
            epochs_strictly_increase,
            a_lease_whose_renewals_fail_is_lost_before_another_owner_gets_in,
            a_lease_removed_behind_its_owners_back_is_lost_within_its_ttl,
            an_abandoned_campaign_never_wins_later,
            duties_are_independent_and_campaigning_twice_is_harmless,
            bad_names_and_ttls_are_refused,
        );
    };
    (@cases $runner:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $runner(|fixture: $crate::conformance::Fixture| async move {
                    $crate::conformance::$case(&fixture).await;
                })
                .await;
            }
        )*
    };
}

/// Runs `future`, panicking with `what` if it takes longer than `limit`.
pub async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {limit:?}"))
}

pub(crate) async fn grant(fixture: &Fixture, owner: &str) -> Lease {
    within(WAIT, "granting a lease", async {
        fixture.coordinator.grant_lease(owner, fixture.ttl).await
    })
    .await
    .unwrap_or_else(|error| panic!("granting a lease to {owner} failed: {error}"))
}

pub(crate) async fn campaign(fixture: &Fixture, duty: &str, lease: &Lease) -> Leadership {
    within(
        WAIT,
        "campaigning",
        fixture.coordinator.campaign(duty, lease),
    )
    .await
    .unwrap_or_else(|error| panic!("{} campaigning for {duty} failed: {error}", lease.owner()))
}

pub(crate) async fn leader(fixture: &Fixture, duty: &str) -> Option<String> {
    within(
        WAIT,
        "asking for the leader",
        fixture.coordinator.leader(duty),
    )
    .await
    .unwrap_or_else(|error| panic!("asking for the leader of {duty} failed: {error}"))
}

pub(crate) async fn live_owners(fixture: &Fixture) -> Vec<String> {
    within(
        WAIT,
        "listing live owners",
        fixture.coordinator.live_owners(),
    )
    .await
    .unwrap_or_else(|error| panic!("listing live owners failed: {error}"))
}

pub(crate) async fn revoke(lease: &Lease) {
    within(WAIT, "revoking", lease.revoke())
        .await
        .unwrap_or_else(|error| panic!("revoking {}'s lease failed: {error}", lease.owner()));
}

pub(crate) async fn resign(leadership: Leadership) {
    let duty = leadership.duty().to_owned();
    within(WAIT, "resigning", leadership.resign())
        .await
        .unwrap_or_else(|error| panic!("resigning {duty} failed: {error}"));
}
