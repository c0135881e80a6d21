//! Data most cases start from.

use ferrobot_model::{
    BuildId, BuildRequestId, BuilderId, BuildsetId, MasterId, Properties, Results, WorkerId,
};
use ferrobot_store::{Claimant, NewBuildset, NewChange, NewSourceStamp, Store};
use serde_json::json;

/// Epoch seconds used as "now" throughout, so stored times can be compared exactly.
pub const NOW: i64 = 1_700_000_000;

/// Two masters, a builder and a worker.
pub struct World {
    pub master: MasterId,
    pub other_master: MasterId,
    pub builder: BuilderId,
    pub worker: WorkerId,
}

impl World {
    /// The world's master as a claimant (lease epoch 1).
    pub fn claimant(&self) -> Claimant {
        Claimant {
            masterid: self.master,
            epoch: 1,
        }
    }

    /// The other master as a claimant (lease epoch 1).
    pub fn other_claimant(&self) -> Claimant {
        Claimant {
            masterid: self.other_master,
            epoch: 1,
        }
    }
}

pub async fn world(store: &dyn Store) -> anyhow::Result<World> {
    Ok(World {
        master: store.find_or_create_master("host1:/srv/master").await?,
        other_master: store.find_or_create_master("host2:/srv/master").await?,
        builder: store.find_or_create_builder("runtests", None, &[]).await?,
        worker: store.find_or_create_worker("worker1").await?,
    })
}

/// A buildset of one request per builder, from the scheduler "force".
pub fn new_buildset(builderids: &[BuilderId]) -> NewBuildset {
    let mut properties = Properties::new();
    properties.insert("scheduler".into(), (json!("force"), "Scheduler".into()));
    NewBuildset {
        reason: "forced".into(),
        properties,
        sourcestamps: vec![NewSourceStamp {
            branch: Some("main".into()),
            revision: Some("abc123".into()),
            repository: "https://example.org/repo.git".into(),
            project: "proj".into(),
            codebase: String::new(),
        }],
        builderids: builderids.to_vec(),
        submitted_at: NOW,
        ..NewBuildset::default()
    }
}

/// Adds a buildset with one request on `builder` and returns both ids.
pub async fn one_request(
    store: &dyn Store,
    builder: BuilderId,
) -> anyhow::Result<(BuildsetId, BuildRequestId)> {
    let (bsid, requests) = store.add_buildset(&new_buildset(&[builder])).await?;
    Ok((bsid, requests[0].1))
}

/// A build that is running: its request claimed by the world's master.
pub async fn running_build(store: &dyn Store, world: &World) -> anyhow::Result<BuildId> {
    let (_, brid) = one_request(store, world.builder).await?;
    anyhow::ensure!(
        store
            .claim_buildrequest(brid, world.claimant(), NOW)
            .await?,
        "claim refused"
    );
    let (buildid, _) = store
        .add_build(
            world.builder,
            brid,
            world.worker,
            world.claimant(),
            "building",
            NOW,
        )
        .await?;
    Ok(buildid)
}

/// Completes requests as the world's master, claiming those not claimed yet (completion needs
/// the claim, as in Buildbot).
pub async fn claim_and_complete(
    store: &dyn Store,
    world: &World,
    brids: &[BuildRequestId],
    results: Results,
    now: i64,
) -> anyhow::Result<Vec<BuildRequestId>> {
    for &brid in brids {
        store
            .claim_buildrequest(brid, world.claimant(), now)
            .await?;
    }
    Ok(store
        .complete_buildrequests(brids, results, world.claimant(), now)
        .await?)
}

/// A change on `branch` of the example repository.
pub fn change_on(branch: Option<&str>, revision: &str) -> NewChange {
    NewChange {
        author: "Jane Doe <jane@example.org>".into(),
        comments: format!("commit {revision}"),
        revision: Some(revision.into()),
        when_timestamp: NOW,
        branch: branch.map(str::to_owned),
        repository: "https://example.org/repo.git".into(),
        project: "proj".into(),
        ..NewChange::default()
    }
}
