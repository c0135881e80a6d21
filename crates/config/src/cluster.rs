//! The keys that shape a cluster: `c['mq']` and `c['coordination']`.

use serde::{Deserialize, Serialize};

/// `c['mq']` (Buildbot's `{'type': 'simple'}` by default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MqConfig {
    /// In-process (`'simple'`): one master, or masters that only share the database.
    #[default]
    Simple,
    /// `{'type': 'nats', 'url': 'nats://host:4222', 'prefix': 'ferrobot'}`.
    Nats {
        /// Server URL.
        url: String,
        /// Subject prefix (default `ferrobot`).
        prefix: String,
    },
}

/// `c['coordination']`: a Ferrobot key (Buildbot has no equivalent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CoordinationConfig {
    /// Leases in the database (in-process for SQLite): `{'type': 'database'}`, the default.
    #[default]
    Database,
    /// `{'type': 'etcd', 'endpoints': ['http://127.0.0.1:2379']}`.
    Etcd {
        /// Endpoint URLs.
        endpoints: Vec<String>,
    },
}
