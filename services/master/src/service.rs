//! Wiring a master together: store, bus, worker server, web server, schedulers, change sources
//! and the build engine, on listeners the caller binds (so tests use port 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ferrobot_bus::{Bus, InProcessBus, NatsBus};
use ferrobot_config::{MasterConfig, MqConfig};
use ferrobot_model::{Results, now_epoch};
use ferrobot_protocol::v1::worker_service_server::WorkerServiceServer;
use ferrobot_store::{BuildFilter, BuildRequestFilter, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::building::Distributor;
use crate::context::Context;
use crate::events::Events;
use crate::roles::Roles;
use crate::workers::{WorkerRegistry, WorkerServer};
use crate::{Error, Result};

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
    config_tx: watch::Sender<Arc<MasterConfig>>,
    services: std::sync::Mutex<CancellationToken>,
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
    housekeep_own_leftovers(store.as_ref(), &events, masterid).await?;
    let (config_tx, config_rx) = watch::channel(Arc::new(config));
    let ctx = Arc::new(Context {
        store,
        events,
        config: config_rx,
        masterid,
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
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let grpc_cancel = cancel.clone();
        tracker.spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(grpc)
                .serve_with_incoming_shutdown(incoming, grpc_cancel.cancelled())
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "worker server stopped");
            }
        });
        let distributor = Distributor::new(
            ctx.clone(),
            registry.clone(),
            tracker.clone(),
            cancel.clone(),
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
    let services = cancel.child_token();
    if roles.scheduler {
        spawn_config_services(&ctx, &tracker, services.clone());
    }
    tracing::info!(www = ?www_addr, workers = ?worker_addr, %roles, master = %ctx.master_name, "master started");
    Ok(RunningMaster {
        ctx,
        registry,
        roles,
        www_addr,
        worker_addr,
        config_tx,
        services: std::sync::Mutex::new(services),
        tracker,
        cancel,
    })
}

/// Schedulers and change sources follow the configuration, so reconfig restarts them.
fn spawn_config_services(ctx: &Arc<Context>, tracker: &TaskTracker, token: CancellationToken) {
    crate::scheduling::spawn_schedulers(ctx.clone(), tracker, token.clone());
    crate::changes::spawn_change_sources(ctx.clone(), tracker, token);
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
        let fresh = self.cancel.child_token();
        let previous = std::mem::replace(
            &mut *self
                .services
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            fresh.clone(),
        );
        previous.cancel();
        if self.roles.scheduler {
            spawn_config_services(&self.ctx, &self.tracker, fresh);
        }
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

/// A master that crashed left builds running and requests claimed: end those builds RETRY and
/// release the claims so the requests run again (Buildbot does this at start-up too).
async fn housekeep_own_leftovers(store: &dyn Store, events: &Events, masterid: i64) -> Result<()> {
    let now = now_epoch();
    let running = store
        .builds(&BuildFilter {
            masterid: Some(masterid),
            complete: Some(false),
            ..Default::default()
        })
        .await?;
    for build in running {
        for step in store.steps(build.buildid).await? {
            if !step.complete {
                store
                    .finish_step(step.stepid, Results::Retry, false, now)
                    .await?;
            }
        }
        store
            .finish_build(build.buildid, Results::Retry, now)
            .await?;
        tracing::info!(
            buildid = build.buildid,
            "build left running by a previous run ended RETRY"
        );
    }
    let claimed = store
        .buildrequests(&BuildRequestFilter {
            complete: Some(false),
            claimed_by_masterid: Some(masterid),
            ..Default::default()
        })
        .await?;
    let brids: Vec<i64> = claimed.iter().map(|r| r.buildrequestid).collect();
    if !brids.is_empty() {
        store.unclaim_buildrequests(&brids, masterid).await?;
        for brid in &brids {
            if let Some(request) = store.buildrequest(*brid).await? {
                events.buildrequest(&request, "unclaimed").await;
            }
        }
    }
    Ok(())
}
