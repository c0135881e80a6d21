//! What every part of a running master shares.

use std::path::PathBuf;
use std::sync::Arc;

use ferrobot_config::MasterConfig;
use ferrobot_model::MasterId;
use ferrobot_store::Store;
use tokio::sync::watch;

use crate::events::Events;

/// Shared state of a running master, handed around as `Arc<Context>`.
pub struct Context {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Event publishing (and the bus, for subscribing).
    pub events: Events,
    /// The current configuration; replaced on reconfig.
    pub config: watch::Receiver<Arc<MasterConfig>>,
    /// This master's id in the store.
    pub masterid: MasterId,
    /// This master's name.
    pub master_name: String,
    /// The master directory (holds master.cfg, state.sqlite, poller work directories).
    pub basedir: PathBuf,
}

impl Context {
    /// The configuration in force now.
    pub fn config(&self) -> Arc<MasterConfig> {
        self.config.borrow().clone()
    }
}
