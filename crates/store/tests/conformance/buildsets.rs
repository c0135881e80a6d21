//! Buildsets and build requests: creation, claims, completion.

use ferrobot_model::{BuildRequestId, Results};
use ferrobot_store::{BuildRequestFilter, Error, NewSourceStamp};
use serde_json::json;

use crate::fixtures::{NOW, change_on, claim_and_complete, new_buildset, one_request, world};
use crate::harness::Ctx;

pub async fn buildsets_store_requests_properties_and_stamps(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let docs = store.find_or_create_builder("docs", None, &[]).await?;
    let change = store.add_change(&change_on(Some("main"), "r1")).await?;
    let mut new = new_buildset(&[docs, w.builder]);
    new.sourcestamp_ids = vec![change.sourcestamp.ssid];
    new.external_idstring = Some("ext-1".into());
    new.priority = 5;
    new.properties.insert(
        "reason".into(),
        (json!({"why": "test"}), "Force Build Form".into()),
    );

    let (bsid, requests) = store.add_buildset(&new).await?;
    assert_eq!(
        requests.iter().map(|r| r.0).collect::<Vec<_>>(),
        [docs, w.builder]
    );
    let buildset = store.buildset(bsid).await?.expect("the buildset exists");
    assert_eq!(buildset.reason, "forced");
    assert_eq!(buildset.external_idstring.as_deref(), Some("ext-1"));
    assert_eq!(buildset.submitted_at, NOW);
    assert!(!buildset.complete);
    assert_eq!((buildset.results, buildset.complete_at), (None, None));
    let stamps: Vec<Option<&str>> = buildset
        .sourcestamps
        .iter()
        .map(|s| s.revision.as_deref())
        .collect();
    assert_eq!(
        stamps,
        [Some("r1"), Some("abc123")],
        "by id first, then the new ones"
    );
    assert_eq!(store.buildset_properties(bsid).await?, new.properties);

    for (builderid, brid) in &requests {
        let request = store
            .buildrequest(*brid)
            .await?
            .expect("the request exists");
        assert_eq!(request.buildsetid, bsid);
        assert_eq!(request.builderid, *builderid);
        assert_eq!(request.priority, 5);
        assert_eq!(request.submitted_at, NOW);
        assert!(!request.claimed && !request.complete);
        assert_eq!(request.results, -1, "Buildbot shows -1 while pending");
        assert_eq!(
            (
                request.claimed_at,
                request.claimed_by_masterid,
                request.complete_at
            ),
            (None, None, None)
        );
    }
    assert_eq!(store.buildset(bsid + 100).await?, None);
    Ok(())
}

pub async fn buildsets_are_listed_newest_first_by_completion(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (done, done_brid) = one_request(store, w.builder).await?;
    let (pending, _) = one_request(store, w.builder).await?;
    let mut default_stamp = new_buildset(&[w.builder]);
    default_stamp.sourcestamps = vec![NewSourceStamp::default()];
    let (newest, _) = store.add_buildset(&default_stamp).await?;
    claim_and_complete(store, &w, &[done_brid], Results::Success, NOW).await?;
    store.maybe_complete_buildset(done, NOW).await?;

    let ids =
        |sets: Vec<ferrobot_model::Buildset>| sets.into_iter().map(|b| b.bsid).collect::<Vec<_>>();
    assert_eq!(ids(store.buildsets(None).await?), [newest, pending, done]);
    assert_eq!(ids(store.buildsets(Some(true)).await?), [done]);
    assert_eq!(ids(store.buildsets(Some(false)).await?), [newest, pending]);
    let listed = store.buildsets(None).await?;
    assert!(
        listed.iter().all(|b| b.sourcestamps.len() == 1),
        "listed buildsets carry stamps"
    );
    Ok(())
}

pub async fn racing_masters_claim_each_request_exactly_once(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let w = world(store.as_ref()).await?;
    let new = new_buildset(&vec![w.builder; 200]);
    let (_, requests) = store.add_buildset(&new).await?;
    let brids: Vec<BuildRequestId> = requests.iter().map(|r| r.1).collect();

    let claimer = |claimant, order: Vec<BuildRequestId>| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut won = Vec::new();
            for brid in order {
                if store.claim_buildrequest(brid, claimant, NOW).await? {
                    won.push(brid);
                }
            }
            anyhow::Ok(won)
        })
    };
    let forward = claimer(w.claimant(), brids.clone());
    let backward = claimer(w.other_claimant(), brids.iter().rev().copied().collect());
    let (first, second) = (forward.await??, backward.await??);

    let mut all: Vec<BuildRequestId> = first.iter().chain(&second).copied().collect();
    all.sort_unstable();
    assert_eq!(all, brids, "every request claimed, none twice");
    for brid in &first {
        let request = store.buildrequest(*brid).await?.expect("exists");
        assert!(request.claimed);
        assert_eq!(request.claimed_by_masterid, Some(w.master));
        assert_eq!(request.claimed_at, Some(NOW));
    }
    let by_other = BuildRequestFilter {
        claimed_by_masterid: Some(w.other_master),
        ..Default::default()
    };
    let listed: Vec<_> = store
        .buildrequests(&by_other)
        .await?
        .into_iter()
        .map(|r| r.buildrequestid)
        .collect();
    let mut expected = second.clone();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    Ok(())
}

pub async fn complete_or_claimed_requests_cannot_be_claimed(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (_, done) = one_request(store, w.builder).await?;
    claim_and_complete(store, &w, &[done], Results::Cancelled, NOW).await?;
    store.unclaim_buildrequests(&[done], w.claimant()).await?;
    assert!(
        !store
            .claim_buildrequest(done, w.other_claimant(), NOW)
            .await?,
        "complete: refused"
    );
    assert!(!store.buildrequest(done).await?.expect("exists").claimed);

    let (_, brid) = one_request(store, w.builder).await?;
    assert!(store.claim_buildrequest(brid, w.claimant(), NOW).await?);
    assert!(
        !store.claim_buildrequest(brid, w.claimant(), NOW).await?,
        "already ours"
    );
    assert!(
        !store
            .claim_buildrequest(brid, w.other_claimant(), NOW)
            .await?,
        "already taken"
    );
    assert!(
        !store
            .claim_buildrequest(brid + 100, w.claimant(), NOW)
            .await?,
        "unknown request"
    );
    Ok(())
}

pub async fn unclaiming_releases_only_this_masters_claims(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (_, mine) = one_request(store, w.builder).await?;
    let (_, theirs) = one_request(store, w.builder).await?;
    store.claim_buildrequest(mine, w.claimant(), NOW).await?;
    store
        .claim_buildrequest(theirs, w.other_claimant(), NOW)
        .await?;

    store
        .unclaim_buildrequests(&[mine, theirs], w.claimant())
        .await?;
    assert!(!store.buildrequest(mine).await?.expect("exists").claimed);
    let kept = store.buildrequest(theirs).await?.expect("exists");
    assert_eq!(
        kept.claimed_by_masterid,
        Some(w.other_master),
        "another master's claim stays"
    );
    assert!(
        store
            .claim_buildrequest(mine, w.other_claimant(), NOW + 1)
            .await?,
        "free again"
    );
    Ok(())
}

pub async fn completing_requests_skips_finished_ones_and_refuses_retry(
    ctx: Ctx,
) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (_, requests) = store
        .add_buildset(&new_buildset(&[w.builder, w.builder]))
        .await?;
    let (first, second) = (requests[0].1, requests[1].1);
    assert_eq!(
        claim_and_complete(store, &w, &[first], Results::Failure, NOW).await?,
        [first]
    );
    let done = claim_and_complete(store, &w, &[first, second], Results::Success, NOW + 5).await?;
    assert_eq!(done, [second], "the finished one is left as it was");

    let first = store.buildrequest(first).await?.expect("exists");
    assert!(first.complete);
    assert_eq!(
        (first.results, first.complete_at),
        (Results::Failure.code().into(), Some(NOW))
    );

    let (_, pending) = one_request(store, w.builder).await?;
    let retry = store
        .complete_buildrequests(&[pending], Results::Retry, w.claimant(), NOW)
        .await;
    assert!(matches!(retry, Err(Error::Invalid(_))), "{retry:?}");
    assert!(!store.buildrequest(pending).await?.expect("exists").complete);
    Ok(())
}

pub async fn buildsets_complete_once_with_the_worst_result(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (bsid, requests) = store.add_buildset(&new_buildset(&[w.builder; 3])).await?;
    let brids: Vec<_> = requests.iter().map(|r| r.1).collect();
    claim_and_complete(store, &w, &brids[..1], Results::Warnings, NOW).await?;
    assert_eq!(
        store.maybe_complete_buildset(bsid, NOW).await?,
        None,
        "two still pending"
    );
    claim_and_complete(store, &w, &brids[1..2], Results::Failure, NOW).await?;
    claim_and_complete(store, &w, &brids[2..], Results::Skipped, NOW).await?;
    assert_eq!(
        store.maybe_complete_buildset(bsid, NOW + 9).await?,
        Some(Results::Failure)
    );
    assert_eq!(
        store.maybe_complete_buildset(bsid, NOW + 10).await?,
        None,
        "only once"
    );

    let buildset = store.buildset(bsid).await?.expect("exists");
    assert!(buildset.complete);
    assert_eq!(
        (buildset.results, buildset.complete_at),
        (Some(Results::Failure), Some(NOW + 9))
    );

    // All skipped counts as success, as in Buildbot (worst starts from SUCCESS).
    let (skipped, brid) = one_request(store, w.builder).await?;
    claim_and_complete(store, &w, &[brid], Results::Skipped, NOW).await?;
    assert_eq!(
        store.maybe_complete_buildset(skipped, NOW).await?,
        Some(Results::Success)
    );
    assert!(matches!(
        store.maybe_complete_buildset(bsid + 100, NOW).await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

pub async fn build_requests_filter_by_builder_set_and_state(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let docs = store.find_or_create_builder("docs", None, &[]).await?;
    let (bs1, r1) = store
        .add_buildset(&new_buildset(&[w.builder, docs]))
        .await?;
    let (_, r2) = store.add_buildset(&new_buildset(&[w.builder])).await?;
    let (a, b, c) = (r1[0].1, r1[1].1, r2[0].1);
    store.claim_buildrequest(a, w.claimant(), NOW).await?;
    store.claim_buildrequest(b, w.other_claimant(), NOW).await?;
    store
        .complete_buildrequests(&[b], Results::Success, w.other_claimant(), NOW)
        .await?;

    let ids = |filter: BuildRequestFilter| async move {
        let listed = store.buildrequests(&filter).await?;
        anyhow::Ok(
            listed
                .into_iter()
                .map(|r| r.buildrequestid)
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(BuildRequestFilter::default()).await?, [a, b, c]);
    assert_eq!(
        ids(BuildRequestFilter {
            builderid: Some(w.builder),
            ..Default::default()
        })
        .await?,
        [a, c]
    );
    assert_eq!(
        ids(BuildRequestFilter {
            buildsetid: Some(bs1),
            ..Default::default()
        })
        .await?,
        [a, b]
    );
    assert_eq!(
        ids(BuildRequestFilter {
            complete: Some(true),
            ..Default::default()
        })
        .await?,
        [b]
    );
    assert_eq!(
        ids(BuildRequestFilter {
            complete: Some(false),
            ..Default::default()
        })
        .await?,
        [a, c]
    );
    assert_eq!(
        ids(BuildRequestFilter {
            claimed: Some(true),
            ..Default::default()
        })
        .await?,
        [a, b]
    );
    assert_eq!(
        ids(BuildRequestFilter {
            claimed: Some(false),
            ..Default::default()
        })
        .await?,
        [c]
    );
    let mine = BuildRequestFilter {
        claimed_by_masterid: Some(w.master),
        ..Default::default()
    };
    assert_eq!(ids(mine).await?, [a]);
    let pending_docs = BuildRequestFilter {
        builderid: Some(docs),
        complete: Some(false),
        ..Default::default()
    };
    assert!(ids(pending_docs).await?.is_empty());
    Ok(())
}

pub async fn only_pending_requests_change_priority(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let (_, brid) = one_request(store, w.builder).await?;
    store.set_buildrequest_priority(brid, 42).await?;
    assert_eq!(
        store.buildrequest(brid).await?.expect("exists").priority,
        42
    );
    claim_and_complete(store, &w, &[brid], Results::Success, NOW).await?;
    assert!(matches!(
        store.set_buildrequest_priority(brid, 1).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        store.buildrequest(brid).await?.expect("exists").priority,
        42
    );
    assert!(matches!(
        store.set_buildrequest_priority(brid + 100, 1).await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}
