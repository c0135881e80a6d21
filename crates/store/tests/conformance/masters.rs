//! Masters and builders.

use ferrobot_store::Error;

use crate::fixtures::{NOW, world};
use crate::harness::Ctx;

pub async fn masters_are_found_by_name_and_start_inactive(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let first = store.find_or_create_master("host1:/srv/master").await?;
    let again = store.find_or_create_master("host1:/srv/master").await?;
    let second = store.find_or_create_master("host2:/srv/master").await?;
    assert_eq!(first, again);
    assert_ne!(first, second);

    let master = store.master(first).await?.expect("the master exists");
    assert_eq!(master.name, "host1:/srv/master");
    assert!(!master.active);
    let names: Vec<String> = store.masters().await?.into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["host1:/srv/master", "host2:/srv/master"]);
    assert_eq!(store.master(second + 100).await?, None);
    Ok(())
}

pub async fn master_activity_reports_only_real_flips(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let id = store.find_or_create_master("host1:/srv/master").await?;
    assert!(
        store.set_master_active(id, true, NOW).await?,
        "inactive -> active flips"
    );
    assert!(
        !store.set_master_active(id, true, NOW + 60).await?,
        "a heartbeat is no flip"
    );
    let master = store.master(id).await?.expect("the master exists");
    assert!(master.active);
    assert_eq!(master.last_active, NOW + 60, "a heartbeat records its time");
    assert!(store.set_master_active(id, false, NOW + 120).await?);
    assert!(!store.master(id).await?.expect("exists").active);
    assert!(matches!(
        store.set_master_active(id + 100, true, NOW).await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

pub async fn a_stopped_master_no_longer_runs_schedulers(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let scheduler = store.find_or_create_scheduler("nightly").await?;
    store.set_master_active(w.master, true, NOW).await?;
    store
        .set_scheduler_master(scheduler, Some(w.master))
        .await?;
    store.set_master_active(w.master, false, NOW).await?;
    let schedulers = store.schedulers().await?;
    assert_eq!(schedulers[0].master, None);
    Ok(())
}

pub async fn builders_carry_description_tags_and_masters(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let tags = vec!["linux".to_owned(), "fast".to_owned()];
    let id = store
        .find_or_create_builder("docs", Some("Builds the docs"), &tags)
        .await?;
    let builder = store.builder(id).await?.expect("the builder exists");
    assert_eq!(builder.name, "docs");
    assert_eq!(builder.description.as_deref(), Some("Builds the docs"));
    assert_eq!(builder.tags, tags);
    assert!(builder.masterids.is_empty());

    // A reconfig with other settings updates the same builder.
    let again = store
        .find_or_create_builder("docs", None, &["slow".to_owned()])
        .await?;
    assert_eq!(again, id);
    let builder = store.builder_by_name("docs").await?.expect("found by name");
    assert_eq!(builder.description, None);
    assert_eq!(builder.tags, ["slow"]);

    store
        .set_master_builders(w.master, &[id, w.builder])
        .await?;
    store.set_master_builders(w.other_master, &[id]).await?;
    let docs = store.builder(id).await?.expect("exists");
    assert_eq!(docs.masterids, [w.master, w.other_master]);

    // Replacing one master's builders leaves the other master's alone.
    store.set_master_builders(w.master, &[w.builder]).await?;
    let docs = store.builder(id).await?.expect("exists");
    assert_eq!(docs.masterids, [w.other_master]);
    let all = store.builders().await?;
    let names: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["runtests", "docs"]);
    assert_eq!(all[0].masterids, [w.master]);
    assert_eq!(store.builder_by_name("nope").await?, None);
    Ok(())
}
