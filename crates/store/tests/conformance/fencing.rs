//! Fencing (design invariant 2): writes for a claimed request or its build are refused unless
//! the writer still holds the claim under the lease epoch it claimed with; a dead master's work
//! is taken back in one transaction; racing claimers never both win a request.

use std::collections::BTreeSet;

use ferrobot_model::{BuildRequestId, Results};
use ferrobot_store::{BuildFilter, Claimant, Error, Store};

use crate::fixtures::{NOW, World, new_buildset, one_request, running_build, world};
use crate::harness::Ctx;

fn is_fenced<T: std::fmt::Debug>(result: ferrobot_store::Result<T>) -> bool {
    matches!(result, Err(Error::Fenced(_)))
}

/// The build, a running step and its log, all written by the world's master.
async fn build_with_log(store: &dyn Store, w: &World) -> anyhow::Result<(i64, i64, i64)> {
    let buildid = running_build(store, w).await?;
    let (stepid, _, _) = store.add_step(buildid, "shell", "", w.claimant()).await?;
    store.start_step(stepid, w.claimant(), NOW).await?;
    let logid = store.add_log(stepid, "stdio", "s", w.claimant()).await?;
    store.append_log(logid, "ofirst\n", w.claimant()).await?;
    Ok((buildid, stepid, logid))
}

pub async fn writes_under_another_epoch_or_master_are_fenced(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (buildid, stepid, logid) = build_with_log(store, &w).await?;
    let brid = store.build(buildid).await?.expect("exists").buildrequestid;
    // The same master restarted under a newer lease, and another master: neither holds it.
    let newer = Claimant {
        masterid: w.master,
        epoch: 2,
    };
    for stranger in [newer, w.other_claimant()] {
        assert!(is_fenced(
            store.append_log(logid, "ostray\n", stranger).await
        ));
        assert!(is_fenced(store.finish_log(logid, stranger).await));
        assert!(is_fenced(
            store.add_step(buildid, "more", "", stranger).await
        ));
        assert!(is_fenced(
            store
                .finish_step(stepid, Results::Failure, false, stranger, NOW)
                .await
        ));
        assert!(is_fenced(
            store
                .set_build_property(buildid, "p", &serde_json::json!(1), "x", stranger)
                .await
        ));
        assert!(is_fenced(
            store
                .finish_build(buildid, Results::Failure, stranger, NOW)
                .await
        ));
        assert!(is_fenced(
            store
                .complete_buildrequests(&[brid], Results::Failure, stranger, NOW)
                .await
        ));
        assert!(is_fenced(
            store
                .add_build(w.builder, brid, w.worker, stranger, "", NOW)
                .await
        ));
        // Releasing someone else's claim is a no-op.
        store.unclaim_buildrequests(&[brid], stranger).await?;
    }
    // Nothing the strangers tried changed anything.
    assert_eq!(store.log_lines(logid, 0, 10).await?, "ofirst\n");
    assert_eq!(store.steps(buildid).await?.len(), 1);
    assert!(!store.build(buildid).await?.expect("exists").complete);
    let request = store.buildrequest(brid).await?.expect("exists");
    assert!(!request.complete);
    assert_eq!(request.claimed_by_masterid, Some(w.master));
    assert!(store.build_properties(buildid).await?.is_empty());
    Ok(())
}

pub async fn released_work_ends_retry_and_fences_the_old_claimant(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (buildid, stepid, logid) = build_with_log(store, &w).await?;
    let brid = store.build(buildid).await?.expect("exists").buildrequestid;
    // A request this master finished keeps its claim; another master's running build is not
    // touched.
    let (_, done) = one_request(store, w.builder).await?;
    store.claim_buildrequest(done, w.claimant(), NOW).await?;
    store
        .complete_buildrequests(&[done], Results::Success, w.claimant(), NOW)
        .await?;
    let (_, theirs) = one_request(store, w.builder).await?;
    store
        .claim_buildrequest(theirs, w.other_claimant(), NOW)
        .await?;
    let (their_build, _) = store
        .add_build(w.builder, theirs, w.worker, w.other_claimant(), "", NOW)
        .await?;

    let released = store.release_master_work(w.master, NOW + 5).await?;
    assert_eq!(released.builds, [buildid]);
    assert_eq!(released.buildrequests, [brid]);

    let build = store.build(buildid).await?.expect("exists");
    assert_eq!(
        (build.results, build.complete_at),
        (Some(Results::Retry), Some(NOW + 5))
    );
    let step = store.step(stepid).await?.expect("exists");
    assert_eq!(step.results, Some(Results::Retry));
    let request = store.buildrequest(brid).await?.expect("exists");
    assert!(!request.claimed && !request.complete, "free to run again");
    assert_eq!(
        store
            .buildrequest(done)
            .await?
            .expect("exists")
            .claimed_by_masterid,
        Some(w.master)
    );
    assert!(!store.build(their_build).await?.expect("exists").complete);

    // The old claimant, still running somewhere, can no longer write.
    assert!(is_fenced(
        store.append_log(logid, "olate\n", w.claimant()).await
    ));
    assert!(is_fenced(
        store
            .finish_build(buildid, Results::Success, w.claimant(), NOW + 6)
            .await
    ));
    assert!(is_fenced(
        store
            .complete_buildrequests(&[brid], Results::Success, w.claimant(), NOW + 6)
            .await
    ));
    assert_eq!(store.log_lines(logid, 0, 10).await?, "ofirst\n");
    assert_eq!(
        store.build(buildid).await?.expect("exists").results,
        Some(Results::Retry)
    );
    // Someone else may claim it now.
    assert!(
        store
            .claim_buildrequest(brid, w.other_claimant(), NOW + 7)
            .await?
    );
    Ok(())
}

pub async fn four_claimers_race_over_a_thousand_requests_without_a_double_claim(
    ctx: Ctx,
) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let w = world(store.as_ref()).await?;
    let mut brids: Vec<BuildRequestId> = Vec::new();
    for _ in 0..10 {
        let (_, requests) = store
            .add_buildset(&new_buildset(&vec![w.builder; 100]))
            .await?;
        brids.extend(requests.iter().map(|r| r.1));
    }
    let mut claimants = Vec::new();
    for i in 0..4 {
        let masterid = store
            .find_or_create_master(&format!("claimer{i}:/srv/master"))
            .await?;
        claimants.push(Claimant { masterid, epoch: 1 });
    }
    // Each claimer walks the requests from a different starting point, so they collide.
    let tasks: Vec<_> = claimants
        .iter()
        .enumerate()
        .map(|(i, &claimant)| {
            let store = store.clone();
            let mut order = brids.clone();
            order.rotate_left(i * brids.len() / 4);
            tokio::spawn(async move {
                let mut won = Vec::new();
                for brid in order {
                    if store.claim_buildrequest(brid, claimant, NOW).await? {
                        // A winner starts its build at once, as the distributor does.
                        store
                            .add_build(w.builder, brid, w.worker, claimant, "", NOW)
                            .await?;
                        won.push(brid);
                    }
                }
                anyhow::Ok(won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.push(task.await??);
    }
    let all: Vec<BuildRequestId> = winners.iter().flatten().copied().collect();
    let distinct: BTreeSet<BuildRequestId> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "no request won twice");
    assert_eq!(distinct.len(), brids.len(), "every request won once");
    for (claimant, won) in claimants.iter().zip(&winners) {
        let builds = store
            .builds(&BuildFilter {
                masterid: Some(claimant.masterid),
                ..Default::default()
            })
            .await?;
        assert_eq!(builds.len(), won.len(), "one build per won claim");
    }
    Ok(())
}
