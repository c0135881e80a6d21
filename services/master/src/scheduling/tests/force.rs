//! ForceScheduler: what the force dialog creates.

use std::collections::BTreeMap;

use ferrobot_config::{
    ChangeFilter, ChangeSchedulerConfig, ForceSchedulerConfig, MasterConfig, SchedulerConfig,
};
use serde_json::{Value, json};

use crate::Error;
use crate::scheduling::test_support::{TestMaster, next_event, subscribe, test_master};
use crate::scheduling::{ForceRequest, force};

fn config() -> MasterConfig {
    MasterConfig {
        schedulers: vec![
            SchedulerConfig::Force(ForceSchedulerConfig {
                name: "force".into(),
                builder_names: vec!["linux".into(), "mac".into()],
                button_name: "Force".into(),
                label: "Force a build".into(),
                reason_string: "A build was forced by '%(owner)s': %(reason)s".into(),
                properties: BTreeMap::from([("level".into(), json!(1))]),
                parameters: Vec::new(),
            }),
            SchedulerConfig::SingleBranch(ChangeSchedulerConfig {
                name: "on-main".into(),
                builder_names: vec!["linux".into()],
                change_filter: ChangeFilter::default(),
                tree_stable_timer_s: None,
                properties: BTreeMap::new(),
                reason: None,
                priority: 0,
            }),
        ],
        ..Default::default()
    }
}

async fn master_with_builders(names: &[&str]) -> anyhow::Result<TestMaster> {
    let master = test_master(config()).await?;
    for name in names {
        master
            .ctx
            .store
            .find_or_create_builder(name, None, &[])
            .await?;
    }
    Ok(master)
}

fn prop(value: Value, source: &str) -> (Value, String) {
    (value, source.to_owned())
}

#[tokio::test]
async fn force_creates_one_buildset_with_the_form_properties_reason_and_sourcestamp()
-> anyhow::Result<()> {
    let master = master_with_builders(&["linux", "mac"]).await?;
    let ctx = &master.ctx;
    let mut buildsets = subscribe(ctx, "buildsets.*.new").await?;
    let mut requests = subscribe(ctx, "buildrequests.*.new").await?;

    let request = ForceRequest {
        builder_names: vec!["mac".into()],
        reason: Some("release check".into()),
        owner: Some("alice <alice@example.com>".into()),
        branch: Some("main".into()),
        revision: Some(String::new()),
        repository: Some("https://example.com/repo.git".into()),
        project: None,
        priority: Some(5),
        properties: BTreeMap::from([("extra".into(), json!("x"))]),
    };
    let (bsid, brids) = force(ctx, "force", request).await?;

    let mac = ctx.store.builder_by_name("mac").await?.map(|b| b.builderid);
    assert_eq!(
        brids.keys().copied().collect::<Vec<_>>(),
        mac.into_iter().collect::<Vec<_>>()
    );
    let buildset = ctx
        .store
        .buildset(bsid)
        .await?
        .expect("the forced buildset is stored");
    assert_eq!(
        buildset.reason,
        "A build was forced by 'alice <alice@example.com>': release check"
    );
    assert_eq!(buildset.sourcestamps.len(), 1);
    let stamp = &buildset.sourcestamps[0];
    assert_eq!(stamp.branch.as_deref(), Some("main"));
    assert_eq!(stamp.revision, None, "an empty revision means the latest");
    assert_eq!(stamp.repository, "https://example.com/repo.git");
    assert_eq!((stamp.project.as_str(), stamp.codebase.as_str()), ("", ""));

    let properties = ctx.store.buildset_properties(bsid).await?;
    let form = "Force Build Form";
    assert_eq!(
        properties.get("reason"),
        Some(&prop(json!("release check"), form))
    );
    assert_eq!(
        properties.get("owner"),
        Some(&prop(json!("alice <alice@example.com>"), form))
    );
    assert_eq!(
        properties.get("scheduler"),
        Some(&prop(json!("force"), "Scheduler"))
    );
    assert_eq!(properties.get("level"), Some(&prop(json!(1), form)));
    assert_eq!(properties.get("extra"), Some(&prop(json!("x"), form)));

    let event = next_event(&mut buildsets).await?;
    assert_eq!(event.topic.0, ["buildsets", &bsid.to_string(), "new"]);
    assert_eq!(event.payload["scheduler"], "force");
    let event = next_event(&mut requests).await?;
    let brid = brids.values().next().copied().unwrap_or_default();
    assert_eq!(event.topic.0, ["buildrequests", &brid.to_string(), "new"]);
    assert_eq!(event.payload["priority"], 5);
    Ok(())
}

#[tokio::test]
async fn an_empty_form_builds_every_builder_as_anonymous() -> anyhow::Result<()> {
    let master = master_with_builders(&["linux", "mac"]).await?;
    let ctx = &master.ctx;
    let (bsid, brids) = force(ctx, "force", ForceRequest::default()).await?;
    assert_eq!(brids.len(), 2);
    let buildset = ctx
        .store
        .buildset(bsid)
        .await?
        .expect("the forced buildset is stored");
    assert_eq!(
        buildset.reason,
        "A build was forced by 'anonymous': force build"
    );
    let stamp = &buildset.sourcestamps[0];
    assert_eq!(
        (stamp.branch.as_deref(), stamp.revision.as_deref()),
        (None, None)
    );
    let properties = ctx.store.buildset_properties(bsid).await?;
    assert_eq!(
        properties.get("owner").map(|p| &p.0),
        Some(&json!("anonymous"))
    );
    Ok(())
}

#[tokio::test]
async fn forcing_an_unknown_scheduler_names_it() -> anyhow::Result<()> {
    let master = master_with_builders(&["linux", "mac"]).await?;
    for name in ["nope", "on-main"] {
        match force(&master.ctx, name, ForceRequest::default()).await {
            Err(Error::NotFound(message)) => assert!(message.contains(name), "{message}"),
            other => panic!("forcing {name:?} gave {other:?}"),
        }
    }
    assert!(master.ctx.store.buildsets(None).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn forcing_a_builder_the_scheduler_lacks_names_it_and_builds_nothing() -> anyhow::Result<()> {
    let master = master_with_builders(&["linux", "mac", "windows"]).await?;
    let request = ForceRequest {
        builder_names: vec!["linux".into(), "windows".into()],
        ..Default::default()
    };
    match force(&master.ctx, "force", request).await {
        Err(Error::BadRequest(message)) => assert!(message.contains("windows"), "{message}"),
        other => panic!("forcing windows gave {other:?}"),
    }
    assert!(master.ctx.store.buildsets(None).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn forcing_a_builder_missing_from_the_store_names_it() -> anyhow::Result<()> {
    let master = master_with_builders(&["linux"]).await?;
    match force(&master.ctx, "force", ForceRequest::default()).await {
        Err(Error::BadRequest(message)) => assert!(message.contains("mac"), "{message}"),
        other => panic!("forcing with mac unknown to the store gave {other:?}"),
    }
    assert!(master.ctx.store.buildsets(None).await?.is_empty());
    Ok(())
}
