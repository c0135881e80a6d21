//! The conformance cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::{Fixture, MARGIN, WAIT, campaign, grant, leader, live_owners, resign, revoke, within};
use crate::{Error, MIN_TTL};

/// A granted lease is live, listed among the live owners and not lost.
pub async fn a_granted_lease_is_live_and_listed(fixture: &Fixture) {
    let lease = grant(fixture, "master-a").await;
    assert!(lease.epoch() > 0, "epochs start above zero");
    assert_eq!(lease.owner(), "master-a");
    assert!(!lease.is_lost(), "a fresh lease is not lost");
    assert_eq!(live_owners(fixture).await, ["master-a"]);
    let other = grant(fixture, "master-b").await;
    assert_eq!(live_owners(fixture).await, ["master-a", "master-b"]);
    revoke(&other).await;
    revoke(&lease).await;
}

/// Renewals keep a lease and its duty well past the TTL.
pub async fn a_renewed_lease_outlives_its_ttl(fixture: &Fixture) {
    let lease = grant(fixture, "master-a").await;
    let duty = campaign(fixture, "scheduler/nightly", &lease).await;
    let quiet = tokio::time::timeout(fixture.ttl * 5 / 2, lease.lost()).await;
    assert!(quiet.is_err(), "a renewing lease was lost");
    assert!(!duty.is_lost(), "the duty of a renewing lease was lost");
    assert_eq!(live_owners(fixture).await, ["master-a"]);
    assert_eq!(
        leader(fixture, "scheduler/nightly").await.as_deref(),
        Some("master-a")
    );
    revoke(&lease).await;
}

/// Revoking a lease removes it and frees its duties at once.
pub async fn a_revoked_lease_disappears_at_once(fixture: &Fixture) {
    let lease = grant(fixture, "master-a").await;
    let kept = grant(fixture, "master-b").await;
    let duty = campaign(fixture, "housekeeping", &lease).await;
    assert_eq!(
        leader(fixture, "housekeeping").await.as_deref(),
        Some("master-a")
    );
    revoke(&lease).await;
    assert!(lease.is_lost(), "a revoked lease reports itself lost");
    assert!(
        duty.is_lost(),
        "the duty of a revoked lease reports itself lost"
    );
    assert_eq!(live_owners(fixture).await, ["master-b"]);
    assert_eq!(leader(fixture, "housekeeping").await, None);
    let taken = within(
        MARGIN,
        "taking a revoked lease's duty",
        fixture.coordinator.campaign("housekeeping", &kept),
    )
    .await
    .expect("the freed duty can be taken");
    assert_eq!(taken.owner(), "master-b");
    let again = fixture.coordinator.campaign("housekeeping", &lease).await;
    assert!(
        matches!(again, Err(Error::LeaseLost { .. })),
        "a revoked lease campaigned: {again:?}"
    );
    revoke(&kept).await;
}

/// A master that dies (stops renewing without revoking) loses its lease after the TTL, not
/// before, and its duty goes to a campaigner on another lease.
pub async fn a_crashed_owners_duty_moves_after_its_ttl(fixture: &Fixture) {
    let dead = grant(fixture, "master-dead").await;
    let dead_duty = campaign(fixture, "poller/repo", &dead).await;
    let heir = Arc::new(grant(fixture, "master-heir").await);
    let waiting = spawn_campaign(fixture, "poller/repo", heir.clone());
    drop(dead_duty);
    let crashed_at = Instant::now();
    drop(dead);
    let won = within(
        fixture.expiry_bound(),
        "the dead master's duty moving",
        waiting,
    )
    .await
    .expect("the campaign task ends")
    .expect("the heir wins the duty");
    let took = crashed_at.elapsed();
    assert!(
        took >= fixture.ttl / 2,
        "the duty moved {took:?} after the crash, before the dead lease could have expired"
    );
    assert_eq!(won.owner(), "master-heir");
    assert_eq!(
        leader(fixture, "poller/repo").await.as_deref(),
        Some("master-heir")
    );
    assert_eq!(live_owners(fixture).await, ["master-heir"]);
    revoke(&heir).await;
}

/// Four campaigners on four leases race for one duty, repeatedly: never two leaders at once,
/// and every campaigner gets its turns.
pub async fn only_one_leader_per_duty_under_concurrent_campaigns(fixture: &Fixture) {
    const CAMPAIGNERS: usize = 4;
    const ROUNDS: usize = 5;
    let holders = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for index in 0..CAMPAIGNERS {
        let owner = format!("master-{index}");
        let lease = grant(fixture, &owner).await;
        let coordinator = fixture.coordinator.clone();
        let holders = holders.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let leadership = coordinator
                    .campaign("scheduler/contended", &lease)
                    .await
                    .unwrap_or_else(|error| panic!("{owner} round {round}: {error}"));
                let others = holders.fetch_add(1, Ordering::SeqCst);
                assert_eq!(others, 0, "{owner} won while another leader held the duty");
                let seen = coordinator
                    .leader("scheduler/contended")
                    .await
                    .expect("asking for the leader");
                assert_eq!(seen.as_deref(), Some(owner.as_str()));
                assert!(!leadership.is_lost());
                holders.fetch_sub(1, Ordering::SeqCst);
                leadership.resign().await.expect("resigning");
            }
            lease.revoke().await.expect("revoking");
        }));
    }
    for task in tasks {
        within(WAIT * 2, "the contended campaigns", task)
            .await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    }
    assert_eq!(leader(fixture, "scheduler/contended").await, None);
}

/// Resigning hands the duty to a waiting campaigner at once, and the resigner keeps its lease.
pub async fn resigning_hands_the_duty_over(fixture: &Fixture) {
    let first = grant(fixture, "master-a").await;
    let second = Arc::new(grant(fixture, "master-b").await);
    let leadership = campaign(fixture, "reporter/mail", &first).await;
    let waiting = spawn_campaign(fixture, "reporter/mail", second.clone());
    assert_eq!(
        leader(fixture, "reporter/mail").await.as_deref(),
        Some("master-a")
    );
    resign(leadership).await;
    let won = within(fixture.ttl / 2, "handing over after a resignation", waiting)
        .await
        .expect("the campaign task ends")
        .expect("the waiting campaigner wins");
    assert_eq!(won.owner(), "master-b");
    assert_eq!(
        leader(fixture, "reporter/mail").await.as_deref(),
        Some("master-b")
    );
    assert!(!first.is_lost(), "resigning a duty does not lose the lease");
    assert_eq!(live_owners(fixture).await, ["master-a", "master-b"]);
    revoke(&first).await;
    revoke(&second).await;
}

/// Every new lease has a greater epoch than all before it, even when granted concurrently.
pub async fn epochs_strictly_increase(fixture: &Fixture) {
    let mut epochs = Vec::new();
    let mut leases = Vec::new();
    for index in 0..5 {
        let lease = grant(fixture, &format!("master-{index}")).await;
        epochs.push(lease.epoch());
        leases.push(lease);
    }
    assert!(
        epochs.windows(2).all(|pair| pair[0] < pair[1]),
        "epochs of successive leases: {epochs:?}"
    );
    let newest = epochs.last().copied().unwrap_or_default();
    let concurrent = futures_join(fixture, 6).await;
    let mut concurrent_epochs: Vec<u64> = concurrent.iter().map(|lease| lease.epoch()).collect();
    concurrent_epochs.sort_unstable();
    concurrent_epochs.dedup();
    assert_eq!(
        concurrent_epochs.len(),
        6,
        "concurrent grants shared epochs"
    );
    assert!(concurrent_epochs.iter().all(|&epoch| epoch > newest));
    for lease in leases.iter().chain(&concurrent) {
        revoke(lease).await;
    }
}

/// A master whose renewals fail (a partition: the backend still holds its lease) learns that
/// its lease is lost before another master can take its duty, and the duty then moves.
pub async fn a_lease_whose_renewals_fail_is_lost_before_another_owner_gets_in(fixture: &Fixture) {
    let cut_off = grant(fixture, "master-cut-off").await;
    let duty = campaign(fixture, "scheduler/hourly", &cut_off).await;
    let heir = Arc::new(grant(fixture, "master-heir").await);
    let mut waiting = spawn_campaign(fixture, "scheduler/hourly", heir.clone());
    let cut_at = Instant::now();
    cut_off.simulate_partition();
    tokio::select! {
        biased;
        won = &mut waiting => panic!(
            "another master got the duty before the cut-off one knew its lease was lost: {won:?}"
        ),
        _ = cut_off.lost() => {}
        _ = tokio::time::sleep(fixture.ttl + MARGIN) => panic!("the cut-off lease was never lost"),
    }
    let noticed = cut_at.elapsed();
    assert!(
        noticed < fixture.ttl,
        "the lease was declared lost {noticed:?} after renewals stopped, not within its ttl"
    );
    assert!(
        duty.is_lost(),
        "the cut-off master's duty reports itself lost"
    );
    assert_eq!(
        leader(fixture, "scheduler/hourly").await.as_deref(),
        Some("master-cut-off"),
        "the duty moved before the cut-off lease expired on the backend"
    );
    let won = within(fixture.expiry_bound(), "the duty moving", waiting)
        .await
        .expect("the campaign task ends")
        .expect("the heir wins the duty");
    assert_eq!(won.owner(), "master-heir");
    assert_eq!(live_owners(fixture).await, ["master-heir"]);
    revoke(&heir).await;
}

/// A lease removed on the backend behind its owner's back is reported lost within its TTL.
pub async fn a_lease_removed_behind_its_owners_back_is_lost_within_its_ttl(fixture: &Fixture) {
    let lease = grant(fixture, "master-a").await;
    let duty = campaign(fixture, "housekeeping", &lease).await;
    let removed_at = Instant::now();
    within(
        WAIT,
        "removing the lease",
        (fixture.remove_lease)(lease.id()),
    )
    .await;
    within(
        fixture.ttl,
        "the owner noticing its lease was removed",
        lease.lost(),
    )
    .await;
    let noticed = removed_at.elapsed();
    assert!(
        duty.is_lost(),
        "the duty of a removed lease reports itself lost"
    );
    assert_eq!(live_owners(fixture).await, Vec::<String>::new());
    assert_eq!(leader(fixture, "housekeeping").await, None);
    tracing::info!(?noticed, "removed lease noticed");
}

/// A campaign ends with `LeaseLost` when its lease is lost, and neither it nor a campaign
/// whose future was dropped wins the duty later.
pub async fn an_abandoned_campaign_never_wins_later(fixture: &Fixture) {
    let holder = grant(fixture, "master-holder").await;
    let leadership = campaign(fixture, "poller/abandoned", &holder).await;
    let revoked = Arc::new(grant(fixture, "master-revoked").await);
    let waiting = spawn_campaign(fixture, "poller/abandoned", revoked.clone());
    let dropped = grant(fixture, "master-dropped").await;
    let gave_up = tokio::time::timeout(
        fixture.ttl / 4,
        fixture.coordinator.campaign("poller/abandoned", &dropped),
    )
    .await;
    assert!(gave_up.is_err(), "a campaign won a held duty: {gave_up:?}");
    revoke(&revoked).await;
    let ended = within(WAIT, "the campaign of a revoked lease ending", waiting)
        .await
        .expect("the campaign task ends");
    assert!(
        matches!(ended, Err(Error::LeaseLost { .. })),
        "the campaign of a revoked lease ended with {ended:?}"
    );
    resign(leadership).await;
    assert_eq!(
        leader(fixture, "poller/abandoned").await,
        None,
        "an abandoned campaign took the duty"
    );
    revoke(&dropped).await;
    revoke(&holder).await;
}

/// Different duties have different owners; campaigning for a duty already owned returns at once.
pub async fn duties_are_independent_and_campaigning_twice_is_harmless(fixture: &Fixture) {
    let first = grant(fixture, "master-a").await;
    let second = grant(fixture, "master-b").await;
    let _one = campaign(fixture, "scheduler/one", &first).await;
    let _two = within(
        MARGIN,
        "taking a free duty",
        fixture.coordinator.campaign("scheduler/two", &second),
    )
    .await
    .expect("a free duty is taken at once");
    let _again = within(
        MARGIN,
        "campaigning for an owned duty",
        fixture.coordinator.campaign("scheduler/one", &first),
    )
    .await
    .expect("campaigning again for an owned duty succeeds");
    assert_eq!(
        leader(fixture, "scheduler/one").await.as_deref(),
        Some("master-a")
    );
    assert_eq!(
        leader(fixture, "scheduler/two").await.as_deref(),
        Some("master-b")
    );
    assert_eq!(leader(fixture, "scheduler/none").await, None);
    revoke(&first).await;
    revoke(&second).await;
}

/// Empty names and TTLs out of range are refused and grant nothing.
pub async fn bad_names_and_ttls_are_refused(fixture: &Fixture) {
    let coordinator = &fixture.coordinator;
    let empty_owner = coordinator.grant_lease("", fixture.ttl).await;
    assert!(
        matches!(empty_owner, Err(Error::Invalid(_))),
        "{empty_owner:?}"
    );
    let short = coordinator.grant_lease("master-a", MIN_TTL / 2).await;
    assert!(matches!(short, Err(Error::Invalid(_))), "{short:?}");
    let zero = coordinator.grant_lease("master-a", Duration::ZERO).await;
    assert!(matches!(zero, Err(Error::Invalid(_))), "{zero:?}");
    assert_eq!(live_owners(fixture).await, Vec::<String>::new());
    let lease = grant(fixture, "master-a").await;
    let empty_duty = coordinator.campaign("", &lease).await;
    assert!(
        matches!(empty_duty, Err(Error::Invalid(_))),
        "{empty_duty:?}"
    );
    revoke(&lease).await;
}

fn spawn_campaign(
    fixture: &Fixture,
    duty: &str,
    lease: Arc<crate::Lease>,
) -> tokio::task::JoinHandle<crate::Result<crate::Leadership>> {
    let coordinator = fixture.coordinator.clone();
    let duty = duty.to_owned();
    tokio::spawn(async move { coordinator.campaign(&duty, &lease).await })
}

async fn futures_join(fixture: &Fixture, count: usize) -> Vec<crate::Lease> {
    let mut tasks = Vec::new();
    for index in 0..count {
        let coordinator = fixture.coordinator.clone();
        let ttl = fixture.ttl;
        tasks.push(tokio::spawn(async move {
            coordinator
                .grant_lease(&format!("concurrent-{index}"), ttl)
                .await
        }));
    }
    let mut leases = Vec::new();
    for task in tasks {
        let lease = within(WAIT, "a concurrent grant", task)
            .await
            .expect("the grant task ends")
            .unwrap_or_else(|error| panic!("a concurrent grant failed: {error}"));
        leases.push(lease);
    }
    leases
}
