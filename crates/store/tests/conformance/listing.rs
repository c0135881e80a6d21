//! Paged listings done by the database (`list_builds`, `list_changes`) and the once-only state
//! the web's session secret lives in.

use ferrobot_store::{Cmp, Condition, ListQuery, SortKey, SqlValue};
use serde_json::json;

use crate::fixtures::{change_on, running_build, world};
use crate::harness::Ctx;

fn key(field: &str, descending: bool) -> SortKey {
    SortKey {
        field: field.into(),
        descending,
    }
}

fn cond(field: &str, cmp: Cmp, values: Vec<SqlValue>) -> Condition {
    Condition {
        field: field.into(),
        cmp,
        values,
    }
}

pub async fn builds_are_paged_ordered_and_counted_by_the_database(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(running_build(store, &w).await?);
    }
    let newest_three = store
        .list_builds(&ListQuery {
            order: vec![key("buildid", true)],
            limit: Some(3),
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(newest_three.total, 7);
    let got: Vec<i64> = newest_three.items.iter().map(|b| b.buildid).collect();
    assert_eq!(got, vec![ids[6], ids[5], ids[4]]);

    let page = store
        .list_builds(&ListQuery {
            conditions: vec![cond("number", Cmp::Ge, vec![SqlValue::Integer(3)])],
            order: vec![key("number", false)],
            limit: Some(2),
            offset: 1,
        })
        .await?;
    assert_eq!(page.total, 5, "numbers 3..=7 pass");
    let numbers: Vec<i64> = page.items.iter().map(|b| b.number).collect();
    assert_eq!(numbers, vec![4, 5]);

    let some = store
        .list_builds(&ListQuery {
            conditions: vec![
                cond(
                    "number",
                    Cmp::Ne,
                    vec![SqlValue::Integer(1), SqlValue::Integer(2)],
                ),
                cond("complete", Cmp::Eq, vec![SqlValue::Integer(0)]),
                cond("builderid", Cmp::Eq, vec![SqlValue::Integer(w.builder)]),
            ],
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(some.total, 5);
    assert_eq!(some.items.first().map(|b| b.number), Some(3), "id order");

    let unknown = store
        .list_builds(&ListQuery {
            order: vec![key("properties", false)],
            ..ListQuery::default()
        })
        .await;
    assert!(unknown.is_err(), "unknown fields are refused: {unknown:?}");
    assert!(!ferrobot_store::builds_can_list(["properties"].into_iter()));
    assert!(ferrobot_store::builds_can_list(
        ["buildid", "complete"].into_iter()
    ));
    Ok(())
}

pub async fn changes_are_listed_with_the_engines_null_rules(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let a = store.add_change(&change_on(Some("main"), "a1")).await?;
    let b = store.add_change(&change_on(None, "b1")).await?;
    let c = store.add_change(&change_on(Some("dev"), "c1")).await?;
    let ids = |listed: &ferrobot_store::Listed<ferrobot_model::Change>| {
        listed.items.iter().map(|c| c.changeid).collect::<Vec<_>>()
    };
    // Null sorts first ascending, last descending, on both databases.
    let ascending = store
        .list_changes(&ListQuery {
            order: vec![key("branch", false)],
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(ids(&ascending), vec![b.changeid, c.changeid, a.changeid]);
    let descending = store
        .list_changes(&ListQuery {
            order: vec![key("branch", true)],
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(ids(&descending), vec![a.changeid, c.changeid, b.changeid]);
    // `ne` lets null through; `eq null` finds it; ordering comparisons never match null.
    let not_main = store
        .list_changes(&ListQuery {
            conditions: vec![cond("branch", Cmp::Ne, vec![SqlValue::Text("main".into())])],
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(ids(&not_main), vec![b.changeid, c.changeid]);
    let null_branch = store
        .list_changes(&ListQuery {
            conditions: vec![cond("branch", Cmp::Eq, vec![SqlValue::Null])],
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(ids(&null_branch), vec![b.changeid]);
    let after_d = store
        .list_changes(&ListQuery {
            conditions: vec![cond("branch", Cmp::Gt, vec![SqlValue::Text("d".into())])],
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(after_d.total, 2, "dev and main, not null");
    assert_eq!(after_d.items[0].files, a.files, "whole changes come back");
    Ok(())
}

pub async fn state_created_once_keeps_the_first_value(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_state_once("www", "WWWService", "session_secret", &json!(i))
                    .await
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await??);
    }
    assert!(
        seen.iter().all(|v| *v == seen[0]),
        "every racer gets the winner's value: {seen:?}"
    );
    let again = store
        .create_state_once("www", "WWWService", "session_secret", &json!("later"))
        .await?;
    assert_eq!(again, seen[0]);
    assert_eq!(
        store
            .get_state("www", "WWWService", "session_secret")
            .await?,
        Some(seen[0].clone())
    );
    Ok(())
}

pub async fn build_requests_are_paged_and_counted_by_the_database(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let mut brids = Vec::new();
    for _ in 0..6 {
        brids.push(crate::fixtures::one_request(store, w.builder).await?.1);
    }
    crate::fixtures::claim_and_complete(
        store,
        &w,
        &brids[..2],
        ferrobot_model::Results::Success,
        crate::fixtures::NOW,
    )
    .await?;
    let newest = store
        .list_buildrequests(&ListQuery {
            order: vec![key("buildrequestid", true)],
            limit: Some(2),
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(newest.total, 6);
    let got: Vec<i64> = newest.items.iter().map(|r| r.buildrequestid).collect();
    assert_eq!(got, vec![brids[5], brids[4]]);

    let pending = store
        .list_buildrequests(&ListQuery {
            conditions: vec![cond("complete", Cmp::Eq, vec![SqlValue::Integer(0)])],
            limit: Some(3),
            offset: 1,
            ..ListQuery::default()
        })
        .await?;
    assert_eq!(pending.total, 4, "four still pending");
    let got: Vec<i64> = pending.items.iter().map(|r| r.buildrequestid).collect();
    assert_eq!(got, brids[3..6].to_vec(), "in id order, after the first");
    assert!(pending.items.iter().all(|r| !r.complete && !r.claimed));
    assert!(ferrobot_store::buildrequests_can_list(
        ["builderid", "complete"].into_iter()
    ));
    assert!(!ferrobot_store::buildrequests_can_list(
        ["claimed"].into_iter()
    ));
    Ok(())
}
