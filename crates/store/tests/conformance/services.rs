//! Schedulers, change sources and object state.

use serde_json::json;

use crate::fixtures::{change_on, world};
use crate::harness::Ctx;

pub async fn schedulers_start_enabled_and_record_their_master(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let nightly = store.find_or_create_scheduler("nightly").await?;
    assert_eq!(store.find_or_create_scheduler("nightly").await?, nightly);
    let force = store.find_or_create_scheduler("force").await?;

    let listed = store.schedulers().await?;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| s.enabled && s.master.is_none()));

    store.set_scheduler_enabled(nightly, false).await?;
    store.set_scheduler_master(nightly, Some(w.master)).await?;
    let listed = store.schedulers().await?;
    let nightly_row = listed
        .iter()
        .find(|s| s.schedulerid == nightly)
        .expect("listed");
    assert!(!nightly_row.enabled);
    let master = nightly_row.master.as_ref().expect("linked");
    assert_eq!(
        (master.masterid, master.name.as_str()),
        (w.master, "host1:/srv/master")
    );

    // The scheduler moves to another master, then stops running anywhere.
    store
        .set_scheduler_master(nightly, Some(w.other_master))
        .await?;
    let listed = store.schedulers().await?;
    let moved = listed
        .iter()
        .find(|s| s.schedulerid == nightly)
        .expect("listed");
    assert_eq!(
        moved.master.as_ref().map(|m| m.masterid),
        Some(w.other_master)
    );
    store.set_scheduler_master(nightly, None).await?;
    assert!(store.schedulers().await?.iter().all(|s| s.master.is_none()));
    assert!(
        store
            .schedulers()
            .await?
            .iter()
            .any(|s| s.schedulerid == force)
    );
    Ok(())
}

pub async fn classified_changes_stay_until_flushed(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let scheduler = store.find_or_create_scheduler("tree-stable").await?;
    let other = store.find_or_create_scheduler("other").await?;
    let c1 = store
        .add_change(&change_on(Some("main"), "r1"))
        .await?
        .changeid;
    let c2 = store
        .add_change(&change_on(Some("main"), "r2"))
        .await?
        .changeid;
    let c3 = store
        .add_change(&change_on(Some("main"), "r3"))
        .await?
        .changeid;
    store.classify_change(scheduler, c2, false).await?;
    store.classify_change(scheduler, c1, true).await?;
    store.classify_change(scheduler, c3, true).await?;
    store.classify_change(scheduler, c2, true).await?; // reclassified
    store.classify_change(other, c1, false).await?;

    assert_eq!(
        store.classified_changes(scheduler).await?,
        [(c1, true), (c2, true), (c3, true)]
    );
    store.flush_classified_changes(scheduler, c2).await?;
    assert_eq!(store.classified_changes(scheduler).await?, [(c3, true)]);
    assert_eq!(
        store.classified_changes(other).await?,
        [(c1, false)],
        "per scheduler"
    );
    Ok(())
}

pub async fn change_sources_record_their_master(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let poller = store
        .find_or_create_changesource("GitPoller:https://example.org/repo.git")
        .await?;
    assert_eq!(
        store
            .find_or_create_changesource("GitPoller:https://example.org/repo.git")
            .await?,
        poller
    );
    assert_eq!(store.changesources().await?[0].master, None);
    store
        .set_changesource_master(poller, Some(w.master))
        .await?;
    let listed = store.changesources().await?;
    assert_eq!(listed[0].name, "GitPoller:https://example.org/repo.git");
    assert_eq!(
        listed[0].master.as_ref().map(|m| m.masterid),
        Some(w.master)
    );
    store.set_changesource_master(poller, None).await?;
    assert_eq!(store.changesources().await?[0].master, None);
    Ok(())
}

pub async fn object_state_round_trips(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let (poller, class) = ("repo-poller", "GitPoller");
    assert_eq!(store.get_state(poller, class, "lastRev").await?, None);
    let revs = json!({"main": "abc", "dev": "def"});
    store.set_state(poller, class, "lastRev", &revs).await?;
    assert_eq!(store.get_state(poller, class, "lastRev").await?, Some(revs));
    let newer = json!({"main": "123"});
    store.set_state(poller, class, "lastRev", &newer).await?;
    assert_eq!(
        store.get_state(poller, class, "lastRev").await?,
        Some(newer.clone())
    );

    store.set_state(poller, class, "count", &json!(7)).await?;
    store
        .set_state(poller, "OtherClass", "lastRev", &json!(null))
        .await?;
    assert_eq!(
        store.get_state(poller, class, "count").await?,
        Some(json!(7))
    );
    assert_eq!(
        store.get_state(poller, "OtherClass", "lastRev").await?,
        Some(json!(null))
    );
    assert_eq!(
        store.get_state(poller, class, "lastRev").await?,
        Some(newer)
    );
    assert_eq!(store.get_state("another", class, "lastRev").await?, None);
    Ok(())
}
