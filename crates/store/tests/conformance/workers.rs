//! Workers.

use std::collections::BTreeMap;

use ferrobot_model::{ConfiguredOn, ConnectedTo};
use ferrobot_store::Error;
use serde_json::json;

use crate::fixtures::world;
use crate::harness::Ctx;

pub async fn workers_show_their_connections_and_info(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    assert_eq!(store.find_or_create_worker("worker1").await?, w.worker);
    let fresh = store.worker(w.worker).await?.expect("the worker exists");
    assert_eq!(fresh.name, "worker1");
    assert!(fresh.workerinfo.is_empty() && fresh.connected_to.is_empty());
    assert!(!fresh.paused && !fresh.graceful);

    let info: BTreeMap<_, _> = [
        ("admin".to_owned(), json!("Jane")),
        ("host".to_owned(), json!("box1")),
    ]
    .into();
    store.worker_connected(w.worker, w.master, &info).await?;
    store.worker_connected(w.worker, w.master, &info).await?; // a reconnect is no second row
    store
        .worker_connected(w.worker, w.other_master, &info)
        .await?;
    let worker = store
        .worker_by_name("worker1")
        .await?
        .expect("found by name");
    assert_eq!(worker.workerinfo, info);
    assert_eq!(
        worker.connected_to,
        [
            ConnectedTo { masterid: w.master },
            ConnectedTo {
                masterid: w.other_master
            }
        ]
    );

    store.worker_disconnected(w.worker, w.master).await?;
    let worker = store.worker(w.worker).await?.expect("exists");
    assert_eq!(
        worker.connected_to,
        [ConnectedTo {
            masterid: w.other_master
        }]
    );
    store.worker_disconnected(w.worker, w.other_master).await?;
    assert!(store.workers().await?[0].connected_to.is_empty());

    let unknown = store
        .worker_connected(w.worker + 100, w.master, &info)
        .await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );
    assert_eq!(store.worker_by_name("nobody").await?, None);
    Ok(())
}

pub async fn workers_are_configured_on_their_masters_builders(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    let docs = store.find_or_create_builder("docs", None, &[]).await?;
    let worker2 = store.find_or_create_worker("worker2").await?;
    store
        .set_master_builders(w.master, &[w.builder, docs])
        .await?;
    store
        .set_master_builders(w.other_master, &[w.builder])
        .await?;
    store
        .set_configured_workers(
            w.master,
            &[(w.builder, w.worker), (docs, w.worker), (docs, worker2)],
        )
        .await?;
    store
        .set_configured_workers(w.other_master, &[(w.builder, w.worker)])
        .await?;

    let worker = store.worker(w.worker).await?.expect("exists");
    assert_eq!(
        worker.configured_on,
        [
            ConfiguredOn {
                builderid: w.builder,
                masterid: w.master
            },
            ConfiguredOn {
                builderid: w.builder,
                masterid: w.other_master
            },
            ConfiguredOn {
                builderid: docs,
                masterid: w.master
            },
        ]
    );

    // A reconfig replaces this master's pairs only.
    store
        .set_configured_workers(w.master, &[(docs, worker2)])
        .await?;
    let worker = store.worker(w.worker).await?.expect("exists");
    assert_eq!(
        worker.configured_on,
        [ConfiguredOn {
            builderid: w.builder,
            masterid: w.other_master
        }]
    );

    // A builder the master drops takes its workers' configuration with it.
    store.set_master_builders(w.master, &[w.builder]).await?;
    let worker2 = store.worker(worker2).await?.expect("exists");
    assert!(
        worker2.configured_on.is_empty(),
        "{:?}",
        worker2.configured_on
    );
    Ok(())
}

pub async fn workers_can_be_paused_and_drained(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let w = world(store).await?;
    store
        .set_worker_paused(w.worker, true, Some("disk full"))
        .await?;
    store.set_worker_graceful(w.worker, true).await?;
    let worker = store.worker(w.worker).await?.expect("exists");
    assert!(worker.paused && worker.graceful);
    assert_eq!(worker.pause_reason.as_deref(), Some("disk full"));

    store.set_worker_paused(w.worker, false, None).await?;
    store.set_worker_graceful(w.worker, false).await?;
    let worker = store.worker(w.worker).await?.expect("exists");
    assert!(!worker.paused && !worker.graceful);
    assert_eq!(worker.pause_reason, None);
    assert!(matches!(
        store.set_worker_paused(w.worker + 100, true, None).await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}
