//! SingleBranchScheduler and AnyBranchScheduler: which changes build, and how often.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferrobot_config::{ChangeFilter, ChangeSchedulerConfig, MasterConfig};
use ferrobot_model::{Buildset, BuildsetId, Change};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::scheduling::Kind;
use crate::scheduling::change::{CURSOR_KEY, ChangeScheduler};
use crate::scheduling::stable::TimerKey;
use crate::scheduling::test_support::{TestMaster, add_change, next_event, subscribe, test_master};

fn scheduler_config(
    tree_stable_timer_s: Option<u64>,
    change_filter: ChangeFilter,
) -> ChangeSchedulerConfig {
    ChangeSchedulerConfig {
        name: "sched".into(),
        builder_names: vec!["linux".into(), "not-in-store".into()],
        change_filter,
        tree_stable_timer_s,
        properties: BTreeMap::from([("flavour".into(), json!("debug"))]),
        reason: None,
        priority: 3,
    }
}

fn main_only() -> ChangeFilter {
    ChangeFilter {
        branch: Some(vec![Some("main".into())]),
        ..Default::default()
    }
}

async fn master() -> anyhow::Result<TestMaster> {
    let master = test_master(MasterConfig::default()).await?;
    master
        .ctx
        .store
        .find_or_create_builder("linux", None, &[])
        .await?;
    Ok(master)
}

/// Activates the scheduler (so it is subscribed and has its cursor) and runs it in the
/// background until the returned token is cancelled.
async fn start(
    ctx: &Arc<Context>,
    kind: Kind,
    config: ChangeSchedulerConfig,
) -> anyhow::Result<CancellationToken> {
    let scheduler = ChangeScheduler::activate(ctx.clone(), kind, config).await?;
    let cancel = CancellationToken::new();
    tokio::spawn(scheduler.run(cancel.clone()));
    Ok(cancel)
}

/// The buildset announced by the next `buildsets.*.new` event.
async fn next_buildset(
    ctx: &Context,
    events: &mut ferrobot_bus::Subscription,
) -> anyhow::Result<Buildset> {
    buildset_of(ctx, next_event(events).await?).await
}

async fn buildset_of(ctx: &Context, event: ferrobot_bus::Event) -> anyhow::Result<Buildset> {
    let bsid: BuildsetId = event.topic.0[1].parse()?;
    Ok(ctx
        .store
        .buildset(bsid)
        .await?
        .expect("an announced buildset is stored"))
}

fn stamp_ids(buildset: &Buildset) -> Vec<i64> {
    buildset.sourcestamps.iter().map(|s| s.ssid).collect()
}

#[tokio::test]
async fn single_branch_builds_each_matching_change_once_and_skips_other_branches()
-> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    let mut events = subscribe(ctx, "buildsets.*.new").await?;
    let _running = start(ctx, Kind::SingleBranch, scheduler_config(None, main_only()))
        .await?
        .drop_guard();

    let first = add_change(ctx, Some("main"), true).await?;
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(stamp_ids(&buildset), vec![first.sourcestamp.ssid]);
    assert_eq!(
        buildset.reason,
        "The SingleBranchScheduler scheduler named 'sched' triggered this build"
    );
    let properties = ctx.store.buildset_properties(buildset.bsid).await?;
    assert_eq!(
        properties.get("scheduler"),
        Some(&(json!("sched"), "Scheduler".to_owned()))
    );
    assert_eq!(
        properties.get("flavour"),
        Some(&(json!("debug"), "Scheduler".to_owned()))
    );
    let requests = ctx
        .store
        .buildrequests(&ferrobot_store::BuildRequestFilter {
            buildsetid: Some(buildset.bsid),
            ..Default::default()
        })
        .await?;
    assert_eq!(
        requests.len(),
        1,
        "the builder missing from the store is skipped"
    );
    assert_eq!(requests[0].priority, 3);

    add_change(ctx, Some("feature"), true).await?;
    let third = add_change(ctx, Some("main"), true).await?;
    // Changes are handled in id order, so the feature change was judged before this one.
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(stamp_ids(&buildset), vec![third.sourcestamp.ssid]);
    assert_eq!(ctx.store.buildsets(None).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_new_scheduler_does_not_build_changes_from_before_it_started() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    add_change(ctx, Some("main"), true).await?;
    let mut events = subscribe(ctx, "buildsets.*.new").await?;
    let _running = start(
        ctx,
        Kind::AnyBranch,
        scheduler_config(None, ChangeFilter::default()),
    )
    .await?
    .drop_guard();

    let fresh = add_change(ctx, Some("dev"), true).await?;
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(stamp_ids(&buildset), vec![fresh.sourcestamp.ssid]);
    assert_eq!(
        buildset.reason,
        "The AnyBranchScheduler scheduler named 'sched' triggered this build"
    );
    assert_eq!(ctx.store.buildsets(None).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_change_whose_event_was_lost_is_built_once_by_the_sweep() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    let mut events = subscribe(ctx, "buildsets.*.new").await?;
    let _running = start(ctx, Kind::SingleBranch, scheduler_config(None, main_only()))
        .await?
        .drop_guard();

    let unannounced = add_change(ctx, Some("main"), false).await?;
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(stamp_ids(&buildset), vec![unannounced.sourcestamp.ssid]);

    // A late duplicate of the lost message must not build it again.
    ctx.events.change(&unannounced).await;
    let next = add_change(ctx, Some("main"), true).await?;
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(stamp_ids(&buildset), vec![next.sourcestamp.ssid]);
    assert_eq!(ctx.store.buildsets(None).await?.len(), 2);
    Ok(())
}

/// Makes the scheduler's next activation start from the beginning, so changes stored now are
/// all seen by its first sweep.
async fn rewind(ctx: &Context, kind: Kind) -> anyhow::Result<()> {
    ctx.store
        .set_state("sched", kind.class_name(), CURSOR_KEY, &Value::from(0))
        .await?;
    Ok(())
}

#[tokio::test]
async fn tree_stable_timer_groups_quick_changes_into_one_buildset() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    rewind(ctx, Kind::SingleBranch).await?;
    add_change(ctx, Some("main"), false).await?;
    let newest = add_change(ctx, Some("main"), false).await?;
    let mut events = subscribe(ctx, "buildsets.*.new").await?;

    let _running = start(
        ctx,
        Kind::SingleBranch,
        scheduler_config(Some(1), main_only()),
    )
    .await?
    .drop_guard();
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(
        stamp_ids(&buildset),
        vec![newest.sourcestamp.ssid],
        "the newest change's stamp"
    );
    assert_eq!(ctx.store.buildsets(None).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn any_branch_tree_stable_timer_builds_each_branch_separately() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    rewind(ctx, Kind::AnyBranch).await?;
    let on_b = add_change(ctx, Some("b"), false).await?;
    let on_a = add_change(ctx, Some("a"), false).await?;
    let mut events = subscribe(ctx, "buildsets.*.new").await?;

    let _running = start(
        ctx,
        Kind::AnyBranch,
        scheduler_config(Some(1), ChangeFilter::default()),
    )
    .await?
    .drop_guard();
    let mut built: Vec<Vec<i64>> = vec![
        stamp_ids(&next_buildset(ctx, &mut events).await?),
        stamp_ids(&next_buildset(ctx, &mut events).await?),
    ];
    built.sort();
    let mut expected = vec![vec![on_b.sourcestamp.ssid], vec![on_a.sourcestamp.ssid]];
    expected.sort();
    assert_eq!(built, expected);
    Ok(())
}

#[tokio::test]
async fn changes_classified_before_a_restart_are_built_after_it() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    let change: Change = add_change(ctx, Some("main"), false).await?;
    // What a scheduler that stopped mid-timer leaves behind: the change classified and the
    // cursor past it.
    let schedulerid = ctx.store.find_or_create_scheduler("sched").await?;
    ctx.store
        .classify_change(schedulerid, change.changeid, true)
        .await?;
    let class = Kind::SingleBranch.class_name();
    ctx.store
        .set_state("sched", class, CURSOR_KEY, &Value::from(change.changeid))
        .await?;
    let mut events = subscribe(ctx, "buildsets.*.new").await?;

    let _running = start(
        ctx,
        Kind::SingleBranch,
        scheduler_config(Some(1), main_only()),
    )
    .await?
    .drop_guard();
    let buildset = next_buildset(ctx, &mut events).await?;
    assert_eq!(stamp_ids(&buildset), vec![change.sourcestamp.ssid]);
    Ok(())
}

#[tokio::test]
async fn an_any_branch_timer_flushes_only_its_own_branch() -> anyhow::Result<()> {
    let master = master().await?;
    let ctx = &master.ctx;
    let on_b = add_change(ctx, Some("b"), false).await?;
    let on_a = add_change(ctx, Some("a"), false).await?;
    let schedulerid = ctx.store.find_or_create_scheduler("sched").await?;
    for change in [&on_b, &on_a] {
        ctx.store
            .classify_change(schedulerid, change.changeid, true)
            .await?;
    }
    let class = Kind::AnyBranch.class_name();
    ctx.store
        .set_state("sched", class, CURSOR_KEY, &Value::from(on_a.changeid))
        .await?;
    let config = scheduler_config(Some(1), ChangeFilter::default());
    let mut scheduler = ChangeScheduler::activate(ctx.clone(), Kind::AnyBranch, config).await?;

    // Branch a's timer fires first although its change is the newer one.
    scheduler.fire(&TimerKey::of_change(&on_a)).await?;
    let pending = ctx.store.classified_changes(schedulerid).await?;
    assert_eq!(
        pending,
        vec![(on_b.changeid, true)],
        "branch b's change still waits"
    );
    scheduler.fire(&TimerKey::of_change(&on_b)).await?;
    assert!(ctx.store.classified_changes(schedulerid).await?.is_empty());

    let mut built: Vec<Vec<i64>> = ctx
        .store
        .buildsets(None)
        .await?
        .iter()
        .map(stamp_ids)
        .collect();
    built.sort();
    let mut expected = vec![vec![on_a.sourcestamp.ssid], vec![on_b.sourcestamp.ssid]];
    expected.sort();
    assert_eq!(built, expected);
    Ok(())
}
