//! What every part of a running master shares.

use std::path::PathBuf;
use std::sync::Arc;

use ferrobot_config::MasterConfig;
use ferrobot_model::MasterId;
use ferrobot_store::{Claimant, Store};
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
    /// The epoch of this master's coordinator lease: with `masterid`, the claimant its claims
    /// and build writes present to the store (fencing).
    pub lease_epoch: i64,
    /// This master's name.
    pub master_name: String,
    /// The master directory (holds master.cfg, state.sqlite, poller work directories).
    pub basedir: PathBuf,
}

impl Context {
    /// Who this master is when it claims requests and writes their builds.
    pub fn claimant(&self) -> Claimant {
        Claimant {
            masterid: self.masterid,
            epoch: self.lease_epoch,
        }
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<MasterConfig> {
        self.config.borrow().clone()
    }
}
