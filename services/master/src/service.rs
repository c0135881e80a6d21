//! Wiring a master together: store, bus, worker server, web server, schedulers, change sources
//! and the build engine, on listeners the caller binds (so tests use port 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ferrobot_bus::InProcessBus;
use ferrobot_config::MasterConfig;
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
    /// Where the web server (REST API, dashboard) accepts connections.
    pub www_listener: TcpListener,
    /// Where workers connect (gRPC).
    pub worker_listener: TcpListener,
}

/// A started master. Dropping it does not stop it: call [`RunningMaster::shutdown`].
pub struct RunningMaster {
    /// Shared state (store, bus, config).
    pub ctx: Arc<Context>,
    /// Connected workers.
    pub registry: Arc<WorkerRegistry>,
    /// Address of the web server.
    pub www_addr: SocketAddr,
    /// Address of the worker server.
    pub worker_addr: SocketAddr,
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

/// Opens the store, registers the master and starts every role. Returns once serving.
pub async fn start(options: MasterOptions, cancel: CancellationToken) -> Result<RunningMaster> {
    let MasterOptions {
        basedir,
        config,
        name,
        www_listener,
        worker_listener,
    } = options;
    let store = ferrobot_store::open(&config.db_url, &basedir).await?;
    let events = Events::new(Arc::new(InProcessBus::new()));
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
    sync_config(&ctx).await?;
    ctx.store
        .set_master_active(masterid, true, now_epoch())
        .await?;
    if let Some(master) = ctx.store.master(masterid).await? {
        ctx.events.master(&master, "started").await;
    }

    let tracker = TaskTracker::new();
    let registry = Arc::new(WorkerRegistry::new());
    let www_addr = www_listener
        .local_addr()
        .map_err(|e| Error::io("web listener", e))?;
    let worker_addr = worker_listener
        .local_addr()
        .map_err(|e| Error::io("worker listener", e))?;

    let grpc = WorkerServiceServer::new(WorkerServer::new(ctx.clone(), registry.clone()));
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(worker_listener);
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

    let app = crate::www::router(ctx.clone());
    let www_cancel = cancel.clone();
    tracker.spawn(async move {
        let served = axum::serve(www_listener, app)
            .with_graceful_shutdown(async move { www_cancel.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "web server stopped");
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
    tracker.spawn(crate::workers::control::run(ctx.clone(), registry.clone(), cancel.clone()));

    let services = cancel.child_token();
    spawn_config_services(&ctx, &tracker, services.clone());
    tracing::info!(%www_addr, %worker_addr, master = %ctx.master_name, "master started");
    Ok(RunningMaster {
        ctx,
        registry,
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
        sync_config(&self.ctx).await?;
        let fresh = self.cancel.child_token();
        let previous = std::mem::replace(
            &mut *self
                .services
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            fresh.clone(),
        );
        previous.cancel();
        spawn_config_services(&self.ctx, &self.tracker, fresh);
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

/// Records this master's builders and workers in the store.
async fn sync_config(ctx: &Context) -> Result<()> {
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
