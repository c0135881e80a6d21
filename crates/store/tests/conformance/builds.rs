//! Builds, their properties and their steps.

use ferrobot_model::{Results, StepUrl};
use ferrobot_store::{BuildFilter, Error};
use serde_json::json;

use crate::fixtures::{NOW, one_request, running_build, world};
use crate::harness::Ctx;

pub async fn build_numbers_count_from_one_per_builder(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let docs = store.find_or_create_builder("docs", None, &[]).await?;
    let (_, brid) = one_request(store, w.builder).await?;
    let (_, docs_brid) = one_request(store, docs).await?;
    store.claim_buildrequest(brid, w.claimant(), NOW).await?;
    store
        .claim_buildrequest(docs_brid, w.claimant(), NOW)
        .await?;
    let (b1, n1) = store
        .add_build(w.builder, brid, w.worker, w.claimant(), "starting", NOW)
        .await?;
    // A retried request gets a second build with the next number.
    let (_, n2) = store
        .add_build(w.builder, brid, w.worker, w.claimant(), "starting", NOW)
        .await?;
    let (_, d1) = store
        .add_build(docs, docs_brid, w.worker, w.claimant(), "starting", NOW)
        .await?;
    assert_eq!((n1, n2, d1), (1, 2, 1));

    let build = store.build(b1).await?.expect("the build exists");
    assert_eq!(
        (build.number, build.builderid, build.buildrequestid),
        (1, w.builder, brid)
    );
    assert_eq!((build.workerid, build.masterid), (Some(w.worker), w.master));
    assert_eq!(
        (build.started_at, build.state_string.as_str()),
        (NOW, "starting")
    );
    assert!(!build.complete);
    assert_eq!(
        (build.complete_at, build.results, build.locks_duration_s),
        (None, None, 0)
    );
    assert_eq!(store.build_by_number(w.builder, 1).await?, Some(build));
    assert_eq!(store.build_by_number(docs, 2).await?, None);
    assert!(matches!(
        store
            .add_build(w.builder + 100, brid, w.worker, w.claimant(), "", NOW)
            .await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

pub async fn concurrent_builds_get_distinct_numbers(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.clone();
    let w = world(store.as_ref()).await?;
    // One request per build, claimed alternately by the two masters, which then race.
    let mut claimed = Vec::new();
    for i in 0..40 {
        let (_, brid) = one_request(store.as_ref(), w.builder).await?;
        let claimant = if i % 2 == 0 {
            w.claimant()
        } else {
            w.other_claimant()
        };
        store.claim_buildrequest(brid, claimant, NOW).await?;
        claimed.push((brid, claimant));
    }
    let tasks: Vec<_> = claimed
        .into_iter()
        .map(|(brid, claimant)| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add_build(w.builder, brid, w.worker, claimant, "", NOW)
                    .await
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await??.1);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=40).collect::<Vec<i64>>());
    Ok(())
}

pub async fn builds_filter_and_list_the_newest_ascending(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let worker2 = store.find_or_create_worker("worker2").await?;
    let (_, brid) = one_request(store, w.builder).await?;
    let (_, other_brid) = one_request(store, w.builder).await?;
    store.claim_buildrequest(brid, w.claimant(), NOW).await?;
    store
        .claim_buildrequest(other_brid, w.other_claimant(), NOW)
        .await?;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (worker, brid, claimant) = if i < 3 {
            (w.worker, brid, w.claimant())
        } else {
            (worker2, other_brid, w.other_claimant())
        };
        ids.push(
            store
                .add_build(w.builder, brid, worker, claimant, "", NOW)
                .await?
                .0,
        );
    }
    store
        .finish_build(ids[0], Results::Success, w.claimant(), NOW + 1)
        .await?;
    store
        .finish_build(ids[3], Results::Failure, w.other_claimant(), NOW + 1)
        .await?;

    let listed = |filter: BuildFilter| async move {
        let builds = store.builds(&filter).await?;
        anyhow::Ok(builds.into_iter().map(|b| b.buildid).collect::<Vec<_>>())
    };
    assert_eq!(listed(BuildFilter::default()).await?, ids);
    assert_eq!(
        listed(BuildFilter {
            newest: Some(2),
            ..Default::default()
        })
        .await?,
        ids[3..]
    );
    assert_eq!(
        listed(BuildFilter {
            complete: Some(true),
            ..Default::default()
        })
        .await?,
        [ids[0], ids[3]]
    );
    assert_eq!(
        listed(BuildFilter {
            complete: Some(false),
            newest: Some(2),
            ..Default::default()
        })
        .await?,
        [ids[2], ids[4]]
    );
    assert_eq!(
        listed(BuildFilter {
            workerid: Some(worker2),
            ..Default::default()
        })
        .await?,
        ids[3..]
    );
    assert_eq!(
        listed(BuildFilter {
            masterid: Some(w.master),
            ..Default::default()
        })
        .await?,
        ids[..3]
    );
    assert_eq!(
        listed(BuildFilter {
            buildrequestid: Some(brid),
            ..Default::default()
        })
        .await?,
        ids[..3]
    );
    assert!(
        listed(BuildFilter {
            builderid: Some(w.builder + 100),
            ..Default::default()
        })
        .await?
        .is_empty()
    );
    Ok(())
}

pub async fn finished_builds_show_results_and_state(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let buildid = running_build(store, &w).await?;
    store
        .set_build_state_string(buildid, "compiling", w.claimant())
        .await?;
    assert_eq!(
        store.build(buildid).await?.expect("exists").state_string,
        "compiling"
    );
    store
        .finish_build(buildid, Results::Warnings, w.claimant(), NOW + 30)
        .await?;
    let build = store.build(buildid).await?.expect("exists");
    assert!(build.complete);
    assert_eq!(
        (build.complete_at, build.results),
        (Some(NOW + 30), Some(Results::Warnings))
    );
    assert!(matches!(
        store
            .finish_build(buildid + 100, Results::Success, w.claimant(), NOW)
            .await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

pub async fn build_properties_are_set_and_replaced(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let buildid = running_build(store, &w).await?;
    assert!(store.build_properties(buildid).await?.is_empty());
    store
        .set_build_property(buildid, "buildnumber", &json!(1), "Build", w.claimant())
        .await?;
    store
        .set_build_property(buildid, "got_revision", &json!("abc"), "Git", w.claimant())
        .await?;
    store
        .set_build_property(
            buildid,
            "got_revision",
            &json!({"app": "def"}),
            "Git 2",
            w.claimant(),
        )
        .await?;
    let properties = store.build_properties(buildid).await?;
    assert_eq!(properties.len(), 2);
    assert_eq!(properties["buildnumber"], (json!(1), "Build".to_owned()));
    assert_eq!(
        properties["got_revision"],
        (json!({"app": "def"}), "Git 2".to_owned())
    );
    assert!(
        store
            .build(buildid)
            .await?
            .expect("exists")
            .properties
            .is_empty()
    );
    Ok(())
}

pub async fn steps_number_from_zero_with_unique_names(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let buildid = running_build(store, &w).await?;
    let other_build = running_build(store, &w).await?;
    let mut added = Vec::new();
    for name in ["git", "compile", "compile", "test", "compile"] {
        let (_, number, unique) = store
            .add_step(buildid, name, "pending", w.claimant())
            .await?;
        added.push((number, unique));
    }
    let expected = [
        (0, "git"),
        (1, "compile"),
        (2, "compile_1"),
        (3, "test"),
        (4, "compile_2"),
    ];
    let expected: Vec<(i64, String)> = expected.iter().map(|(n, s)| (*n, s.to_string())).collect();
    assert_eq!(added, expected, "duplicates get Buildbot's _1, _2 suffixes");
    let (_, number, name) = store
        .add_step(other_build, "compile", "pending", w.claimant())
        .await?;
    assert_eq!(
        (number, name.as_str()),
        (0, "compile"),
        "names are unique per build only"
    );

    let names: Vec<String> = store
        .steps(buildid)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["git", "compile", "compile_1", "test", "compile_2"]);
    Ok(())
}

pub async fn steps_start_link_and_finish(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let buildid = running_build(store, &w).await?;
    let (stepid, _, _) = store
        .add_step(buildid, "test", "pending", w.claimant())
        .await?;
    let fresh = store.step(stepid).await?.expect("the step exists");
    assert_eq!(
        (fresh.buildid, fresh.state_string.as_str()),
        (buildid, "pending")
    );
    assert_eq!(
        (fresh.started_at, fresh.complete, fresh.results),
        (None, false, None)
    );
    assert!(fresh.urls.is_empty() && !fresh.hidden);

    store.start_step(stepid, w.claimant(), NOW).await?;
    store
        .set_step_state_string(stepid, "running tests", w.claimant())
        .await?;
    store
        .add_step_url(
            stepid,
            "coverage",
            "https://ci.example.org/cov",
            w.claimant(),
        )
        .await?;
    store
        .add_step_url(
            stepid,
            "coverage",
            "https://ci.example.org/cov",
            w.claimant(),
        )
        .await?;
    store
        .add_step_url(
            stepid,
            "report",
            "https://ci.example.org/report",
            w.claimant(),
        )
        .await?;
    store
        .finish_step(stepid, Results::Failure, true, w.claimant(), NOW + 7)
        .await?;

    let step = store.step(stepid).await?.expect("exists");
    assert_eq!(step.started_at, Some(NOW));
    assert_eq!(step.state_string, "running tests");
    let url = |name: &str, url: &str| StepUrl {
        name: name.into(),
        url: url.into(),
    };
    assert_eq!(
        step.urls,
        [
            url("coverage", "https://ci.example.org/cov"),
            url("report", "https://ci.example.org/report")
        ]
    );
    assert!(step.complete && step.hidden);
    assert_eq!(
        (step.complete_at, step.results),
        (Some(NOW + 7), Some(Results::Failure))
    );
    assert!(matches!(
        store.start_step(stepid + 100, w.claimant(), NOW).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .add_step_url(stepid + 100, "a", "b", w.claimant())
            .await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}
