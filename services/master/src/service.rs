//! Wiring a master together: store, bus, worker server, web server, schedulers, change sources
//! and the build engine, on listeners the caller binds (so tests use port 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_bus::{Bus, InProcessBus, NatsBus};
use ferrobot_config::{MasterConfig, MqConfig};
use ferrobot_model::now_epoch;
use ferrobot_protocol::v1::worker_service_server::WorkerServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::building::Distributor;
use crate::cluster::{Membership, housekeeping};
use crate::context::Context;
use crate::events::Events;
use crate::roles::Roles;
use crate::workers::{WorkerRegistry, WorkerServer};
use crate::{Error, Result};

/// How long reconfig waits for the old schedulers and change sources to stop.
const SERVICES_STOP: Duration = Duration::from_secs(30);

/// What a master needs to start.
pub struct MasterOptions {
    /// The master directory.
    pub basedir: PathBuf,
    /// The loaded master.cfg.
    pub config: MasterConfig,
    /// The master's name (default `hostname:basedir`, as Buildbot).
    pub name: Option<String>,
    /// The parts of a master this process runs.
    pub roles: Roles,
    /// Where the web server (REST API, dashboard) accepts connections; needed for `www`.
    pub www_listener: Option<TcpListener>,
    /// Where workers connect (gRPC); needed for `builder`.
    pub worker_listener: Option<TcpListener>,
}

/// Timings a test may shorten; production uses [`Tuning::default`].
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// TTL of the master's lease: a dead master is noticed after about this long (plus one
    /// housekeeping interval), and a master that cannot renew fences itself a third earlier.
    pub lease_ttl: Duration,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            lease_ttl: crate::cluster::DEFAULT_LEASE_TTL,
        }
    }
}

/// A started master. Dropping it does not stop it: call [`RunningMaster::shutdown`].
pub struct RunningMaster {
    /// Shared state (store, bus, config).
    pub ctx: Arc<Context>,
    /// Connected workers.
    pub registry: Arc<WorkerRegistry>,
    /// The roles it runs.
    pub roles: Roles,
    /// Address of the web server (with the `www` role).
    pub www_addr: Option<SocketAddr>,
    /// Address of the worker server (with the `builder` role).
    pub worker_addr: Option<SocketAddr>,
    /// The master's lease and the cluster's coordinator.
    pub membership: Arc<Membership>,
    config_tx: watch::Sender<Arc<MasterConfig>>,
    /// The schedulers' and change sources' generation: reconfig cancels it and waits for its
    /// tasks (so their duties are resigned) before campaigning again.
    services: std::sync::Mutex<(CancellationToken, TaskTracker)>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

/// The default master name: `hostname:basedir`.
pub fn default_master_name(basedir: &std::path::Path) -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    let dir = std::fs::canonicalize(basedir).unwrap_or_else(|_| basedir.to_path_buf());
    format!("{host}:{}", dir.display())
}

/// Refuses shapes that cannot work, before anything is opened.
fn check_shape(config: &MasterConfig, roles: Roles) -> Result<()> {
    if ferrobot_store::is_sqlite(&config.db_url) && (config.multi_master || !roles.is_all()) {
        return Err(Error::BadRequest(format!(
            "the SQLite database {} cannot be shared by several masters: a cluster (c['multiMaster'] = \
             True or roles other than www,scheduler,builder; here {roles}) needs c['db'] = \
             {{'db_url': 'postgresql://...'}}",
            config.db_url
        )));
    }
    if config.multi_master && config.mq == MqConfig::Simple {
        tracing::warn!(
            "c['multiMaster'] with the in-process bus: other masters learn of this one's work only \
             through the database sweeps, and stop/cancel reach only builds running here; set \
             c['mq'] = {{'type': 'nats', 'url': ...}}"
        );
    }
    Ok(())
}

async fn open_bus(config: &MasterConfig) -> Result<Arc<dyn Bus>> {
    Ok(match &config.mq {
        MqConfig::Simple => Arc::new(InProcessBus::new()),
        MqConfig::Nats { url, prefix } => Arc::new(NatsBus::connect(url, prefix).await?),
    })
}

fn require<T>(listener: Option<T>, role: &str, what: &str) -> Result<T> {
    listener.ok_or_else(|| Error::Internal(format!("the {role} role needs a listener for {what}")))
}

/// Opens the store and the bus, registers the master and starts its roles. Returns once serving.
pub async fn start(options: MasterOptions, cancel: CancellationToken) -> Result<RunningMaster> {
    start_tuned(options, Tuning::default(), cancel).await
}

/// [`start`] with other timings (tests use a short lease TTL).
pub async fn start_tuned(
    options: MasterOptions,
    tuning: Tuning,
    cancel: CancellationToken,
) -> Result<RunningMaster> {
    let MasterOptions {
        basedir,
        config,
        name,
        roles,
        www_listener,
        worker_listener,
    } = options;
    check_shape(&config, roles)?;
    let store = ferrobot_store::open(&config.db_url, &basedir).await?;
    let events = Events::new(open_bus(&config).await?);
    let master_name = name.unwrap_or_else(|| default_master_name(&basedir));
    let masterid = store.find_or_create_master(&master_name).await?;
    // The lease comes before the master is marked active, so the others never take an active
    // master without a lease for dead (see housekeeping::recover_dead_masters).
    let membership = Arc::new(Membership::join(&config, &master_name, tuning.lease_ttl).await?);
    housekeeping::release_leftovers(store.as_ref(), &events, masterid).await?;
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let ctx = Arc::new(Context {
        store,
        events,
        config: config_rx,
        masterid,
        lease_epoch: i64::try_from(membership.lease().epoch())
            .map_err(|_| Error::Internal("lease epoch out of range".into()))?,
        master_name,
        basedir,
    });
    sync_config(&ctx, roles).await?;
    ctx.store
        .set_master_active(masterid, true, now_epoch())
        .await?;
    if let Some(master) = ctx.store.master(masterid).await? {
        ctx.events.master(&master, "started").await;
    }

    let tracker = TaskTracker::new();
    let registry = Arc::new(WorkerRegistry::new());
    let mut worker_addr = None;
    if roles.builder {
        let listener = require(worker_listener, "builder", "workers")?;
        worker_addr = Some(
            listener
                .local_addr()
                .map_err(|e| Error::io("worker listener", e))?,
        );
        let grpc = WorkerServiceServer::new(WorkerServer::new(ctx.clone(), registry.clone()));
        let tls = match &ctx.config().worker_tls {
            Some(tls) => Some(crate::workers::listen::tls_acceptor(&ctx.basedir, tls)?),
            None => None,
        };
        let grpc_cancel = cancel.clone();
        tracker.spawn(async move {
            let served = crate::workers::listen::serve(listener, tls, grpc, grpc_cancel).await;
            if let Err(error) = served {
                tracing::error!(%error, "worker server stopped");
            }
        });
        let distributor = Distributor::new(
            ctx.clone(),
            registry.clone(),
            tracker.clone(),
            crate::cluster::self_fence(&membership, &tracker, &cancel),
        );
        tracker.spawn(distributor.run());
        tracker.spawn(crate::building::cancel::run(ctx.clone(), cancel.clone()));
        tracker.spawn(crate::workers::control::run(
            ctx.clone(),
            registry.clone(),
            cancel.clone(),
        ));
    }
    let mut www_addr = None;
    if roles.www {
        let listener = require(www_listener, "www", "the web server")?;
        www_addr = Some(
            listener
                .local_addr()
                .map_err(|e| Error::io("web listener", e))?,
        );
        let app = crate::www::router_until(ctx.clone(), cancel.clone());
        let www_cancel = cancel.clone();
        tracker.spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { www_cancel.cancelled().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "web server stopped");
            }
        });
    }
    // Every master campaigns for housekeeping, so any survivor recovers a dead master.
    tracker.spawn(crate::cluster::duties::run_duty(
        membership.clone(),
        housekeeping::DUTY.to_owned(),
        cancel.clone(),
        {
            let (ctx, membership) = (ctx.clone(), membership.clone());
            move |token| housekeeping::run(ctx, membership, token)
        },
    ));
    let services = cancel.child_token();
    let generation = if roles.scheduler {
        spawn_config_services(&ctx, &membership, &tracker, services.clone())
    } else {
        TaskTracker::new()
    };
    tracing::info!(www = ?www_addr, workers = ?worker_addr, %roles, master = %ctx.master_name, "master started");
    Ok(RunningMaster {
        ctx,
        registry,
        roles,
        www_addr,
        worker_addr,
        membership,
        config_tx,
        services: std::sync::Mutex::new((services, generation)),
        tracker,
        cancel,
    })
}

/// Reporters, schedulers and change sources follow the configuration, so reconfig restarts
/// them. They run on a tracker of their own (returned, closed), which `tracker` waits for at
/// shutdown.
fn spawn_config_services(
    ctx: &Arc<Context>,
    membership: &Arc<Membership>,
    tracker: &TaskTracker,
    token: CancellationToken,
) -> TaskTracker {
    let generation = TaskTracker::new();
    crate::reporters::spawn_reporters(ctx.clone(), membership, &generation, token.clone());
    crate::scheduling::spawn_schedulers(ctx.clone(), membership, &generation, token.clone());
    crate::changes::spawn_change_sources(ctx.clone(), membership, &generation, token);
    generation.close();
    let waited = generation.clone();
    tracker.spawn(async move { waited.wait().await });
    generation
}

impl RunningMaster {
    /// Replaces the configuration without touching running builds. Ports and the database
    /// cannot change on reconfig; such a change is refused and the old config stays.
    pub async fn reconfig(&self, config: MasterConfig) -> Result<()> {
        let old = self.ctx.config();
        if old.db_url != config.db_url {
            return Err(Error::BadRequest(
                "c['db'] cannot change on reconfig; restart the master".into(),
            ));
        }
        if old.www.port != config.www.port || old.worker_port != config.worker_port {
            tracing::warn!("port changes take effect at the next restart");
        }
        self.config_tx.send_replace(Arc::new(config));
        sync_config(&self.ctx, self.roles).await?;
        let (previous, previous_tasks) = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        previous.cancel();
        // The old tasks resign their duties first; otherwise a resignation could free a duty
        // that the new generation of this same lease has just taken again.
        if tokio::time::timeout(SERVICES_STOP, previous_tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("old schedulers or change sources did not stop within 30 s");
        }
        let fresh = self.cancel.child_token();
        let generation = if self.roles.scheduler {
            spawn_config_services(&self.ctx, &self.membership, &self.tracker, fresh.clone())
        } else {
            TaskTracker::new()
        };
        *self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (fresh, generation);
        tracing::info!("reconfig complete");
        Ok(())
    }

    /// Stops serving, ends running builds with RETRY, marks the master inactive.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(std::time::Duration::from_secs(30), self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within 30 s");
        }
        let ctx = &self.ctx;
        for connection in self.registry.all() {
            connection.close();
            let _ = ctx
                .store
                .worker_disconnected(connection.workerid, ctx.masterid)
                .await;
        }
        let _ = ctx
            .store
            .set_master_active(ctx.masterid, false, now_epoch())
            .await;
        if let Ok(Some(master)) = ctx.store.master(ctx.masterid).await {
            ctx.events.master(&master, "stopped").await;
        }
        // Last, so that the others never see this master active without a lease.
        if let Err(error) = self.membership.lease().revoke().await {
            tracing::warn!(%error, "revoking the master lease failed; it runs out with its TTL");
        }
        tracing::info!("master stopped");
    }
}

/// Records the configured builders and workers in the store, and which of them this master runs
/// (only a `builder` master configures builders: the REST API shows where they run).
async fn sync_config(ctx: &Context, roles: Roles) -> Result<()> {
    let config = ctx.config();
    let store = &ctx.store;
    let mut builderids = Vec::new();
    let mut pairs = Vec::new();
    for builder in &config.builders {
        let id = store
            .find_or_create_builder(&builder.name, builder.description.as_deref(), &builder.tags)
            .await?;
        builderids.push(id);
        for worker in &builder.worker_names {
            pairs.push((id, store.find_or_create_worker(worker).await?));
        }
    }
    for worker in &config.workers {
        store.find_or_create_worker(&worker.name).await?;
    }
    if !roles.builder {
        builderids.clear();
        pairs.clear();
    }
    store.set_master_builders(ctx.masterid, &builderids).await?;
    store.set_configured_workers(ctx.masterid, &pairs).await?;
    Ok(())
}
