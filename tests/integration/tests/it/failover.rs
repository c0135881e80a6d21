//! Master failure in a cluster on PostgreSQL and NATS (issue 3 items 4 and 6): a scheduler runs
//! on exactly one master and moves when that master leaves, and a crashed builder master's
//! build ends RETRY and runs again on the surviving master.

use std::time::Duration;

use anyhow::Context as _;
use ferrobot_bus::Pattern;
use ferrobot_integration_tests::{ClusterServices, Roles, Sandbox, SandboxWorker};
use ferrobot_store::NewChange;
use serde_json::{Value, json};

/// Short enough that a test notices a dead master within seconds.
const LEASE_TTL: Duration = Duration::from_millis(1500);

const SCHEDULER_ONLY: Roles = Roles {
    www: true,
    scheduler: true,
    builder: false,
};

/// Adds a change on `master`'s store and announces it, as a change source would.
async fn add_change(master: &Sandbox, revision: &str) -> anyhow::Result<i64> {
    let ctx = &master.master().ctx;
    let change = ctx
        .store
        .add_change(&NewChange {
            author: "A U Thor <author@example.com>".into(),
            comments: format!("change {revision}"),
            revision: Some(revision.into()),
            when_timestamp: 1_700_000_000,
            branch: Some("main".into()),
            repository: "https://example.com/repo.git".into(),
            ..Default::default()
        })
        .await?;
    ctx.events.change(&change).await;
    Ok(change.changeid)
}

/// The scheduler `on-main` as the REST API shows it.
async fn scheduler(api: &Sandbox) -> anyhow::Result<Value> {
    let schedulers = api.get("/schedulers").await?;
    Ok(schedulers["schedulers"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == json!("on-main")).cloned())
        .unwrap_or(Value::Null))
}

async fn buildset_count(api: &Sandbox) -> anyhow::Result<usize> {
    Ok(api.get("/buildsets").await?["buildsets"]
        .as_array()
        .map_or(0, Vec::len))
}

#[tokio::test]
async fn a_scheduler_runs_on_one_master_and_moves_when_it_leaves() -> anyhow::Result<()> {
    let services = ClusterServices::create().await?;
    let mut cfg = crate::shell_builders(&[("quick", &["true"])]);
    cfg.push_str(
        "c['schedulers'].append(schedulers.SingleBranchScheduler(name='on-main', \
         change_filter=util.ChangeFilter(branch='main'), treeStableTimer=None, \
         builderNames=['quick']))\n",
    );
    cfg.push_str(&services.config_lines());
    let first = Sandbox::start_crashable(
        tempfile::tempdir()?,
        &cfg,
        "sched-1",
        SCHEDULER_ONLY,
        LEASE_TTL,
    )
    .await?;
    let second = Sandbox::start_crashable(
        tempfile::tempdir()?,
        &cfg,
        "sched-2",
        SCHEDULER_ONLY,
        LEASE_TTL,
    )
    .await?;
    let any_scheduler = Pattern::parse("*.*.*", '.');
    second
        .wait_until(&any_scheduler, || async {
            Ok(!scheduler(&second).await?["master"].is_null())
        })
        .await?;
    let leader_id = scheduler(&second).await?["master"]["masterid"].clone();
    let (leader, follower) = if leader_id == json!(first.master().ctx.masterid) {
        (first, second)
    } else {
        (second, first)
    };
    let new_buildset = Pattern::parse("buildsets.*.new", '.');

    add_change(&follower, "rev-1").await?;
    follower
        .wait_until(&new_buildset, || async {
            Ok(buildset_count(&follower).await? >= 1)
        })
        .await?;

    let follower_id = json!(follower.master().ctx.masterid);
    leader.stop().await;
    follower
        .wait_until(&any_scheduler, || async {
            Ok(scheduler(&follower).await?["master"]["masterid"] == follower_id)
        })
        .await?;
    add_change(&follower, "rev-2").await?;
    follower
        .wait_until(&new_buildset, || async {
            Ok(buildset_count(&follower).await? >= 2)
        })
        .await?;
    let buildsets = follower.get("/buildsets").await?;
    let buildsets = buildsets["buildsets"].as_array().expect("buildsets");
    assert_eq!(
        buildsets.len(),
        2,
        "each change yields exactly one buildset, before and after the takeover: {buildsets:?}"
    );
    let mut revisions: Vec<String> = buildsets
        .iter()
        .map(|b| {
            b["sourcestamps"][0]["revision"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    revisions.sort();
    assert_eq!(revisions, ["rev-1", "rev-2"], "{buildsets:?}");

    follower.stop().await;
    services.drop_database().await
}

/// Two builder masters on one cluster with a build of `slow` running on the doomed one, whose
/// worker `w1` holds it until the hold file goes; the survivor (all roles) has `w2` idle.
struct Takeover {
    services: ClusterServices,
    _hold_dir: tempfile::TempDir,
    hold: std::path::PathBuf,
    doomed: Option<Sandbox>,
    doomed_id: i64,
    survivor: Sandbox,
    workers: Vec<SandboxWorker>,
    brid: i64,
}

impl Takeover {
    async fn start() -> anyhow::Result<Takeover> {
        let services = ClusterServices::create().await?;
        let hold_dir = tempfile::tempdir()?;
        let hold = hold_dir.path().join("hold");
        std::fs::write(&hold, "")?;
        let command = format!(
            "echo started; while [ -e {} ]; do sleep 0.1; done; echo finished",
            hold.display()
        );
        let mut cfg = crate::shell_builders(&[("slow", &[command.as_str()])])
            .replace("workernames=[\"w1\"]", "workernames=[\"w1\", \"w2\"]");
        cfg.push_str("c['workers'].append(worker.Worker('w2', 'pw'))\n");
        cfg.push_str(&services.config_lines());
        let builder_only = Roles {
            www: false,
            scheduler: false,
            builder: true,
        };
        let dir = tempfile::tempdir()?;
        let doomed =
            Sandbox::start_crashable(dir, &cfg, "builder-a", builder_only, LEASE_TTL).await?;
        let dir = tempfile::tempdir()?;
        let survivor =
            Sandbox::start_crashable(dir, &cfg, "builder-b", Roles::ALL, LEASE_TTL).await?;
        let w1 = doomed.add_worker("w1", "pw").await?;
        survivor.wait_worker_connected("w1").await?;

        let brid = survivor.force("slow").await?;
        survivor.wait_build_log(brid, "started").await?;
        let first = builds_of(&survivor, brid).await?;
        assert_eq!(
            first[0]["masterid"],
            json!(doomed.master().ctx.masterid),
            "{first}"
        );
        // From now on only the survivor has a worker free.
        let w2 = survivor.add_worker("w2", "pw").await?;
        survivor.wait_worker_connected("w2").await?;
        Ok(Takeover {
            services,
            _hold_dir: hold_dir,
            hold,
            doomed_id: doomed.master().ctx.masterid,
            doomed: Some(doomed),
            survivor,
            workers: vec![w1, w2],
            brid,
        })
    }

    fn doomed(&self) -> &Sandbox {
        self.doomed.as_ref().expect("doomed master not crashed")
    }

    /// Checks that the doomed master's try ends RETRY (while it could not have succeeded), that
    /// the request then completes SUCCESS on the survivor, and that the doomed master ends up
    /// inactive with its worker connection gone.
    async fn assert_rerun_on_survivor(&self) -> anyhow::Result<()> {
        let (survivor, doomed_id) = (&self.survivor, self.doomed_id);
        survivor
            .wait_until(&Pattern::parse("builds.*.finished", '.'), || async {
                anyhow::Ok(builds_of(survivor, self.brid).await?[0]["complete"] == json!(true))
            })
            .await
            .context("the doomed master's try never ended")?;
        let first = builds_of(survivor, self.brid).await?;
        assert_eq!(
            first[0]["results"],
            json!(5),
            "the first try ends RETRY: {first}"
        );
        std::fs::remove_file(&self.hold)?;
        let done = survivor.wait_request_done(self.brid).await?;
        assert_eq!(done["results"], json!(0), "the second try succeeds: {done}");
        assert_eq!(
            done["masterid"],
            json!(survivor.master().ctx.masterid),
            "{done}"
        );
        let builds = builds_of(survivor, self.brid).await?;
        let builds = builds.as_array().expect("builds");
        assert_eq!(builds.len(), 2, "one try per master: {builds:?}");
        assert_eq!(builds[0]["masterid"], json!(doomed_id), "{builds:?}");
        assert_eq!(
            builds[0]["results"],
            json!(5),
            "the first try ends RETRY: {builds:?}"
        );
        // Recovery marks the master inactive last, after releasing its work.
        survivor
            .wait_until(&Pattern::parse("masters.*.stopped", '.'), || async {
                let masters = survivor.get("/masters").await?;
                let dead = masters["masters"]
                    .as_array()
                    .and_then(|all| {
                        all.iter()
                            .find(|m| m["masterid"] == json!(doomed_id))
                            .cloned()
                    })
                    .expect("the dead master is listed");
                anyhow::Ok(dead["active"] == json!(false))
            })
            .await
            .context("the dead master never showed inactive")?;
        let workers = survivor.get("/workers?name=w1").await?;
        assert_eq!(
            workers["workers"][0]["connected_to"],
            json!([]),
            "the dead master's worker connection is gone: {workers}"
        );
        Ok(())
    }

    async fn finish(self) -> anyhow::Result<()> {
        for worker in self.workers {
            worker.stop().await;
        }
        self.survivor.stop().await;
        if let Some(doomed) = self.doomed {
            doomed.stop().await;
        }
        self.services.drop_database().await
    }
}

async fn builds_of(api: &Sandbox, brid: i64) -> anyhow::Result<Value> {
    Ok(api.get(&format!("/builds?buildrequestid={brid}")).await?["builds"].clone())
}

#[tokio::test]
async fn a_crashed_builder_masters_build_ends_retry_and_runs_again_on_another_master()
-> anyhow::Result<()> {
    let mut takeover = Takeover::start().await?;
    // Crash it as kill -9 would: nothing of the doomed master cleans up.
    let _dir = takeover.doomed.take().expect("doomed").crash();
    takeover.assert_rerun_on_survivor().await?;
    takeover.finish().await
}

#[tokio::test]
async fn a_master_cut_off_from_the_coordinator_fences_itself_and_another_runs_its_request()
-> anyhow::Result<()> {
    let takeover = Takeover::start().await?;
    // Renewals fail from now on while the master keeps running: it must interrupt its build
    // (RETRY) and stop claiming on its own, and the survivor then takes over.
    takeover
        .doomed()
        .master()
        .membership
        .lease()
        .simulate_partition();
    takeover.assert_rerun_on_survivor().await?;
    takeover.finish().await
}
