//! The reporters' outbox: rows recorded once per (reporter, build, event), claimed by exactly
//! one master, retried after their backoff, taken over from dead or expired claims.

use std::collections::BTreeSet;

use ferrobot_model::{BuildId, Results};
use ferrobot_store::{OutboxEvent, OutboxOutcome, OutboxState, Store};

use crate::fixtures::{NOW, World, running_build, world};
use crate::harness::Ctx;

const MAIL: &str = "reporter:0:MailNotifier";
const LEASE: i64 = 60;

/// A world whose two masters are active, with `n` builds finished at `NOW`.
async fn finished_builds(store: &dyn Store, n: usize) -> anyhow::Result<(World, Vec<BuildId>)> {
    let w = world(store).await?;
    store.set_master_active(w.master, true, NOW).await?;
    store.set_master_active(w.other_master, true, NOW).await?;
    let mut builds = Vec::new();
    for _ in 0..n {
        let buildid = running_build(store, &w).await?;
        store
            .finish_build(buildid, Results::Success, w.claimant(), NOW)
            .await?;
        builds.push(buildid);
    }
    Ok((w, builds))
}

pub async fn reports_are_recorded_once_per_build_and_event(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let (w, builds) = finished_builds(store, 2).await?;
    let running = running_build(store, &w).await?;
    let both = [OutboxEvent::Finished, OutboxEvent::Started];
    assert_eq!(store.enqueue_build_reports(MAIL, &both, NOW, NOW).await?, 5);
    assert_eq!(
        store
            .enqueue_build_reports(MAIL, &both, NOW, NOW + 1)
            .await?,
        0,
        "a second pass adds nothing"
    );
    assert_eq!(
        store
            .enqueue_build_reports(MAIL, &[OutboxEvent::Finished], NOW + 1, NOW + 1)
            .await?,
        0,
        "builds before `since` are not reported"
    );
    let rows = store.outbox(MAIL).await?;
    let keys: Vec<(BuildId, OutboxEvent)> = rows.iter().map(|r| (r.buildid, r.event)).collect();
    // Starts are recorded before ends.
    assert_eq!(
        keys,
        [
            (builds[0], OutboxEvent::Started),
            (builds[1], OutboxEvent::Started),
            (running, OutboxEvent::Started),
            (builds[0], OutboxEvent::Finished),
            (builds[1], OutboxEvent::Finished),
        ]
    );
    let first = &rows[0];
    assert_eq!(first.state, OutboxState::Pending);
    assert_eq!((first.attempts, first.claimed_by), (0, None));
    assert_eq!((first.created_at, first.next_attempt_at), (NOW, NOW));
    assert!(store.outbox("reporter:1:HttpStatusPush").await?.is_empty());
    Ok(())
}

pub async fn racing_masters_claim_each_report_exactly_once(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let (w, builds) = finished_builds(store.as_ref(), 40).await?;
    store
        .enqueue_build_reports(MAIL, &[OutboxEvent::Finished], NOW, NOW)
        .await?;
    let sender = |masterid| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut sent = Vec::new();
            while let Some(item) = store.claim_report(MAIL, masterid, NOW, LEASE).await? {
                anyhow::ensure!(
                    store
                        .settle_report(item.id, masterid, &OutboxOutcome::Sent, NOW)
                        .await?,
                    "a fresh claim could not be settled"
                );
                sent.push(item.buildid);
            }
            anyhow::Ok(sent)
        })
    };
    let (a, b) = (sender(w.master), sender(w.other_master));
    let (a, b) = (a.await??, b.await??);
    let mut all: Vec<BuildId> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, builds, "every report sent, none twice");
    let rows = store.outbox(MAIL).await?;
    assert!(rows.iter().all(|r| r.state == OutboxState::Sent
        && r.attempts == 1
        && r.settled_at == Some(NOW)
        && r.claimed_by.is_none()));
    Ok(())
}

pub async fn claims_lapse_with_their_master_or_their_expiry(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let (w, _) = finished_builds(store, 1).await?;
    store
        .enqueue_build_reports(MAIL, &[OutboxEvent::Finished], NOW, NOW)
        .await?;
    let claimed = store
        .claim_report(MAIL, w.master, NOW, LEASE)
        .await?
        .expect("claimable");
    assert_eq!(claimed.claimed_by, Some(w.master));
    assert_eq!(claimed.claim_expires_at, Some(NOW + LEASE));
    assert_eq!(claimed.attempts, 1);
    assert_eq!(
        store.claim_report(MAIL, w.other_master, NOW, LEASE).await?,
        None,
        "a live claim is respected"
    );
    // The claim expires: the other master takes it over, and the first one can no longer
    // settle it.
    let taken = store
        .claim_report(MAIL, w.other_master, NOW + LEASE + 1, LEASE)
        .await?
        .expect("an expired claim is claimable");
    assert_eq!((taken.id, taken.attempts), (claimed.id, 2));
    assert!(
        !store
            .settle_report(claimed.id, w.master, &OutboxOutcome::Sent, NOW)
            .await?
    );
    // Its new holder stops (marked inactive, as housekeeping does for a dead master): the
    // claim lapses at once.
    store
        .set_master_active(w.other_master, false, NOW + LEASE + 2)
        .await?;
    let again = store
        .claim_report(MAIL, w.master, NOW + LEASE + 2, LEASE)
        .await?
        .expect("a dead master's claim is claimable");
    assert_eq!((again.id, again.attempts), (claimed.id, 3));
    Ok(())
}

pub async fn failed_attempts_wait_for_their_backoff_then_fail_for_good(
    ctx: Ctx,
) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let (w, _) = finished_builds(store, 1).await?;
    store
        .enqueue_build_reports(MAIL, &[OutboxEvent::Finished], NOW, NOW)
        .await?;
    let item = store.claim_report(MAIL, w.master, NOW, LEASE).await?;
    let item = item.expect("claimable");
    let retry = OutboxOutcome::Retry {
        next_attempt_at: NOW + 10,
        error: "421 try again later".into(),
    };
    assert!(store.settle_report(item.id, w.master, &retry, NOW).await?);
    assert_eq!(
        store
            .claim_report(MAIL, w.other_master, NOW + 9, LEASE)
            .await?,
        None,
        "not before its backoff"
    );
    let item = store
        .claim_report(MAIL, w.other_master, NOW + 10, LEASE)
        .await?
        .expect("due again");
    assert_eq!(item.attempts, 2);
    assert_eq!(item.last_error.as_deref(), Some("421 try again later"));
    let failed = OutboxOutcome::Failed {
        error: "550 no such user".into(),
    };
    assert!(
        store
            .settle_report(item.id, w.other_master, &failed, NOW + 11)
            .await?
    );
    let [row] = store.outbox(MAIL).await?.try_into().expect("one row");
    assert_eq!(row.state, OutboxState::Failed);
    assert_eq!(row.last_error.as_deref(), Some("550 no such user"));
    assert_eq!(row.settled_at, Some(NOW + 11));
    assert_eq!(
        store.claim_report(MAIL, w.master, NOW + 100, LEASE).await?,
        None,
        "settled rows are never claimed again"
    );
    Ok(())
}

pub async fn a_builds_end_waits_for_its_start_to_be_reported(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let (w, builds) = finished_builds(store, 2).await?;
    let push = "reporter:1:GitHubStatusPush";
    let both = [OutboxEvent::Started, OutboxEvent::Finished];
    store.enqueue_build_reports(push, &both, NOW, NOW).await?;
    let mut claimed = Vec::new();
    while let Some(item) = store.claim_report(push, w.master, NOW, LEASE).await? {
        claimed.push((item.buildid, item.event));
    }
    // Both starts are claimed; neither end while its start is unsettled.
    assert_eq!(
        claimed,
        [
            (builds[0], OutboxEvent::Started),
            (builds[1], OutboxEvent::Started)
        ]
    );
    let rows = store.outbox(push).await?;
    let start = rows.iter().find(|r| r.buildid == builds[0]).expect("row");
    store
        .settle_report(start.id, w.master, &OutboxOutcome::Skipped, NOW)
        .await?;
    let next = store.claim_report(push, w.master, NOW, LEASE).await?;
    let next = next.expect("the first build's end is claimable now");
    assert_eq!(
        (next.buildid, next.event),
        (builds[0], OutboxEvent::Finished)
    );
    let seen: BTreeSet<_> = store
        .outbox(push)
        .await?
        .iter()
        .map(|r| r.state.as_str())
        .collect();
    assert_eq!(seen, BTreeSet::from(["pending", "skipped"]));
    Ok(())
}
