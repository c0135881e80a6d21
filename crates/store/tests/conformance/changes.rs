//! Changes and source stamps.

use ferrobot_model::Properties;
use ferrobot_store::{NewChange, NewSourceStamp};
use serde_json::json;

use crate::fixtures::{NOW, World, change_on, new_buildset, world};
use crate::harness::Ctx;

pub async fn added_changes_come_back_whole(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let new = NewChange {
        author: "Jane Doe <jane@example.org>".into(),
        committer: Some("CI Bot <ci@example.org>".into()),
        files: vec!["src/main.rs".into(), "README.md".into(), "a/b.txt".into()],
        comments: "Fix the frobnicator".into(),
        revision: Some("0123abcd".into()),
        when_timestamp: NOW,
        branch: Some("main".into()),
        category: Some("push".into()),
        revlink: Some("https://example.org/commit/0123abcd".into()),
        properties: [
            ("event".to_owned(), json!("push")),
            ("n".to_owned(), json!([1, 2])),
        ]
        .into(),
        repository: "https://example.org/repo.git".into(),
        project: "proj".into(),
        codebase: "app".into(),
    };
    let change = store.add_change(&new).await?;
    assert_eq!(change.author, new.author);
    assert_eq!(change.committer, new.committer);
    assert_eq!(change.files, new.files, "files keep their order");
    assert_eq!(change.comments, new.comments);
    assert_eq!(change.revision, new.revision);
    assert_eq!(change.when_timestamp, NOW);
    assert_eq!(change.branch, new.branch);
    assert_eq!(change.category, new.category);
    assert_eq!(change.revlink, new.revlink);
    assert_eq!(
        (change.repository.as_str(), change.project.as_str()),
        ("https://example.org/repo.git", "proj")
    );
    assert_eq!(change.codebase, "app");
    let mut expected = Properties::new();
    expected.insert("event".into(), (json!("push"), "Change".into()));
    expected.insert("n".into(), (json!([1, 2]), "Change".into()));
    assert_eq!(change.properties, expected);
    assert!(change.parent_changeids.is_empty());
    let stamp = &change.sourcestamp;
    assert_eq!(stamp.branch.as_deref(), Some("main"));
    assert_eq!(stamp.revision.as_deref(), Some("0123abcd"));
    assert_eq!(
        (
            stamp.repository.as_str(),
            stamp.project.as_str(),
            stamp.codebase.as_str()
        ),
        ("https://example.org/repo.git", "proj", "app")
    );
    assert_eq!(stamp.patch, None);

    assert_eq!(store.change(change.changeid).await?, Some(change.clone()));
    assert_eq!(store.sourcestamp(stamp.ssid).await?.as_ref(), Some(stamp));
    assert_eq!(store.change(change.changeid + 100).await?, None);
    Ok(())
}

pub async fn changes_link_to_the_previous_change_on_their_branch(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let main1 = store.add_change(&change_on(Some("main"), "r1")).await?;
    let main2 = store.add_change(&change_on(Some("main"), "r2")).await?;
    let dev1 = store.add_change(&change_on(Some("dev"), "r3")).await?;
    let default1 = store.add_change(&change_on(None, "r4")).await?;
    let default2 = store.add_change(&change_on(None, "r5")).await?;
    let main3 = store.add_change(&change_on(Some("main"), "r6")).await?;
    let mut elsewhere = change_on(Some("main"), "r7");
    elsewhere.repository = "https://example.org/other.git".into();
    let elsewhere = store.add_change(&elsewhere).await?;

    assert!(main1.parent_changeids.is_empty());
    assert_eq!(main2.parent_changeids, [main1.changeid]);
    assert!(
        dev1.parent_changeids.is_empty(),
        "another branch is another line"
    );
    assert!(default1.parent_changeids.is_empty());
    assert_eq!(
        default2.parent_changeids,
        [default1.changeid],
        "the default branch links too"
    );
    assert_eq!(
        main3.parent_changeids,
        [main2.changeid],
        "the newest on the branch"
    );
    assert!(
        elsewhere.parent_changeids.is_empty(),
        "another repository is another line"
    );
    Ok(())
}

pub async fn identical_source_stamps_are_stored_once(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let first = store.add_change(&change_on(Some("main"), "r1")).await?;
    let same = store.add_change(&change_on(Some("main"), "r1")).await?;
    let mut other_codebase = change_on(Some("main"), "r1");
    other_codebase.codebase = "lib".into();
    let other_codebase = store.add_change(&other_codebase).await?;
    let no_branch = store.add_change(&change_on(None, "r1")).await?;
    let mut empty_branch = change_on(None, "r1");
    empty_branch.branch = Some(String::new());
    let empty_branch = store.add_change(&empty_branch).await?;

    assert_eq!(first.sourcestamp.ssid, same.sourcestamp.ssid);
    assert_ne!(first.sourcestamp.ssid, other_codebase.sourcestamp.ssid);
    assert_ne!(
        no_branch.sourcestamp.ssid, empty_branch.sourcestamp.ssid,
        "null is not empty"
    );

    // A buildset naming the same stamp finds it rather than making another.
    let mut buildset = new_buildset(&[]);
    buildset.sourcestamps = vec![NewSourceStamp {
        branch: Some("main".into()),
        revision: Some("r1".into()),
        repository: "https://example.org/repo.git".into(),
        project: "proj".into(),
        codebase: String::new(),
    }];
    let (bsid, _) = store.add_buildset(&buildset).await?;
    let stamps = store.buildset(bsid).await?.expect("exists").sourcestamps;
    assert_eq!(stamps.len(), 1);
    assert_eq!(stamps[0].ssid, first.sourcestamp.ssid);

    let listed: Vec<i64> = store
        .sourcestamps()
        .await?
        .into_iter()
        .map(|s| s.ssid)
        .collect();
    let mut expected = vec![
        first.sourcestamp.ssid,
        other_codebase.sourcestamp.ssid,
        no_branch.sourcestamp.ssid,
        empty_branch.sourcestamp.ssid,
    ];
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(listed, expected, "each stamp once, newest first");
    Ok(())
}

pub async fn changes_are_listed_newest_first(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            store
                .add_change(&change_on(Some("main"), &format!("r{n}")))
                .await?
                .changeid,
        );
    }
    ids.reverse();
    let all: Vec<i64> = store
        .changes(None)
        .await?
        .into_iter()
        .map(|c| c.changeid)
        .collect();
    assert_eq!(all, ids);
    let two: Vec<i64> = store
        .changes(Some(2))
        .await?
        .into_iter()
        .map(|c| c.changeid)
        .collect();
    assert_eq!(two, ids[..2]);
    assert!(store.changes(Some(0)).await?.is_empty());
    let listed = store.changes(Some(1)).await?;
    assert_eq!(listed[0].comments, "commit r4", "listed changes are whole");
    Ok(())
}

pub async fn a_builds_changes_are_those_of_its_source_stamps(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w: World = world(store).await?;
    let built = store.add_change(&change_on(Some("main"), "r1")).await?;
    let also = store.add_change(&change_on(Some("main"), "r1")).await?; // same stamp
    let unrelated = store.add_change(&change_on(Some("dev"), "r2")).await?;

    let mut buildset = new_buildset(&[w.builder]);
    buildset.sourcestamps.clear();
    buildset.sourcestamp_ids = vec![built.sourcestamp.ssid];
    let (_, requests) = store.add_buildset(&buildset).await?;
    let brid = requests[0].1;
    store.claim_buildrequest(brid, w.claimant(), NOW).await?;
    let (buildid, _) = store
        .add_build(w.builder, brid, w.worker, w.claimant(), "", NOW)
        .await?;

    let ids: Vec<i64> = store
        .changes_for_build(buildid)
        .await?
        .into_iter()
        .map(|c| c.changeid)
        .collect();
    assert_eq!(ids, [built.changeid, also.changeid]);
    assert!(!ids.contains(&unrelated.changeid));
    assert!(store.changes_for_build(buildid + 100).await?.is_empty());
    Ok(())
}
