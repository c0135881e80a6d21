//! The typed, validated configuration that master.cfg produces. `ferrobot checkconfig --dump`
//! prints it as JSON; the master consumes nothing else.

mod file_steps;
mod force_params;
mod reporters;
mod steps;
mod timed;
mod www_auth;
pub use file_steps::*;
pub use force_params::*;
pub use reporters::*;
pub use steps::*;
pub use timed::*;
pub use www_auth::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::cluster::{CoordinationConfig, MqConfig};

/// Everything a master.cfg configures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterConfig {
    /// `c['title']`.
    pub title: String,
    /// `c['titleURL']`.
    pub title_url: Option<String>,
    /// `c['buildbotURL']`, always ending in `/`.
    pub buildbot_url: String,
    /// `c['www']`.
    pub www: WwwConfig,
    /// `c['db']['db_url']`: `sqlite:///state.sqlite` (relative to the master directory) by
    /// default, or `postgresql://...`.
    pub db_url: String,
    /// The worker (gRPC) port from `c['protocols']` (`{'pb': {'port': 9989}}` accepted as is).
    pub worker_port: u16,
    /// Interface the worker port binds, from a Twisted `tcp:9989:interface=...` string.
    pub worker_interface: Option<String>,
    /// TLS for the worker port (`ssl:9989:privateKey=...:certKey=...`, or `'tls'` in the dict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_tls: Option<WorkerTlsConfig>,
    /// `c['workers']`.
    pub workers: Vec<WorkerConfig>,
    /// `c['change_source']`.
    pub change_sources: Vec<ChangeSourceConfig>,
    /// `c['schedulers']`.
    pub schedulers: Vec<SchedulerConfig>,
    /// `c['builders']`.
    pub builders: Vec<BuilderConfig>,
    /// `c['properties']`: global properties.
    pub properties: BTreeMap<String, Value>,
    /// `c['multiMaster']`.
    pub multi_master: bool,
    /// `c['mq']`: how masters wake each other up.
    pub mq: MqConfig,
    /// `c['coordination']`: where leases and elections live.
    pub coordination: CoordinationConfig,
    /// `c['services']`: the reporters.
    #[serde(default)]
    pub reporters: Vec<ReporterConfig>,
    /// Problems that do not stop the master (e.g. a builder naming an unknown worker).
    pub warnings: Vec<String>,
}

impl Default for MasterConfig {
    /// Buildbot's defaults, with the web port and URL of a modern Buildbot master.
    fn default() -> Self {
        MasterConfig {
            title: "Buildbot".to_owned(),
            title_url: Some("http://buildbot.net".to_owned()),
            buildbot_url: "http://localhost:8010/".to_owned(),
            www: WwwConfig::default(),
            db_url: "sqlite:///state.sqlite".to_owned(),
            worker_port: 9989,
            worker_interface: None,
            worker_tls: None,
            workers: Vec::new(),
            change_sources: Vec::new(),
            schedulers: Vec::new(),
            builders: Vec::new(),
            properties: BTreeMap::new(),
            multi_master: false,
            mq: MqConfig::default(),
            coordination: CoordinationConfig::default(),
            reporters: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The certificate and key the master serves the worker port with (PEM files; relative paths
/// are relative to the master directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerTlsConfig {
    /// The certificate chain, leaf first.
    pub certificate: String,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub private_key: String,
}

/// `c['www']`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WwwConfig {
    /// HTTP port (default 8010). `"tcp:8010:interface=127.0.0.1"` strings are accepted.
    pub port: u16,
    /// Interface to bind (default all; from a Twisted `interface=` string when given).
    pub interface: Option<String>,
    /// `plugins`: accepted and recorded; Ferrobot's own dashboard replaces them.
    pub plugins: BTreeMap<String, Value>,
    /// `auth`: how web users log in.
    #[serde(default)]
    pub auth: WwwAuthConfig,
    /// `authz`: which roles may do what.
    #[serde(default)]
    pub authz: AuthzConfig,
}

impl Default for WwwConfig {
    fn default() -> Self {
        WwwConfig {
            port: 8010,
            interface: None,
            plugins: BTreeMap::new(),
            auth: WwwAuthConfig::default(),
            authz: AuthzConfig::default(),
        }
    }
}

/// `worker.Worker(name, password, max_builds=..., properties=...)`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// Name.
    pub name: String,
    /// Password (redacted in `Debug` and in the JSON dump).
    #[serde(serialize_with = "redact")]
    pub password: String,
    /// Concurrent builds across builders (None = no limit).
    pub max_builds: Option<u32>,
    /// Worker properties (source "Worker").
    pub properties: BTreeMap<String, Value>,
}

fn redact<S: serde::Serializer>(_: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<redacted>")
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("max_builds", &self.max_builds)
            .field("properties", &self.properties)
            .finish()
    }
}

/// A change source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ChangeSourceConfig {
    /// `changes.GitPoller(repourl, branches=... | branch=..., pollInterval=600, workdir=...)`.
    GitPoller(GitPollerConfig),
}

/// `changes.GitPoller`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitPollerConfig {
    /// Repository URL or local path.
    pub repourl: String,
    /// Branches to follow (`branch='master'` becomes `["master"]`; default `["master"]`).
    pub branches: BranchSelection,
    /// Seconds between polls (default 600).
    pub poll_interval_s: u64,
    /// Poll at start-up rather than after one interval (default false).
    pub poll_at_launch: bool,
    /// Bare repository directory, relative to the master directory (default `gitpoller-work`).
    pub workdir: String,
    /// Project of the changes.
    pub project: String,
    /// Category of the changes.
    pub category: Option<String>,
    /// Codebase of the changes.
    pub codebase: String,
    /// The unique name used to own the poller in a cluster (`GitPoller:<repourl>`).
    pub name: String,
}

/// Which branches a poller follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchSelection {
    /// These branch names (short names, e.g. `master`).
    Named(Vec<String>),
    /// Every head (`branches=True`).
    All,
}

/// A scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SchedulerConfig {
    /// `schedulers.SingleBranchScheduler`.
    SingleBranch(ChangeSchedulerConfig),
    /// `schedulers.AnyBranchScheduler`.
    AnyBranch(ChangeSchedulerConfig),
    /// `schedulers.ForceScheduler`.
    Force(ForceSchedulerConfig),
    /// `schedulers.Periodic`.
    Periodic(TimedSchedulerConfig),
    /// `schedulers.Nightly`.
    Nightly(TimedSchedulerConfig),
}

impl SchedulerConfig {
    /// The scheduler's unique name.
    pub fn name(&self) -> &str {
        match self {
            SchedulerConfig::SingleBranch(c) | SchedulerConfig::AnyBranch(c) => &c.name,
            SchedulerConfig::Force(c) => &c.name,
            SchedulerConfig::Periodic(c) | SchedulerConfig::Nightly(c) => &c.name,
        }
    }

    /// The builders it starts.
    pub fn builder_names(&self) -> &[String] {
        match self {
            SchedulerConfig::SingleBranch(c) | SchedulerConfig::AnyBranch(c) => &c.builder_names,
            SchedulerConfig::Force(c) => &c.builder_names,
            SchedulerConfig::Periodic(c) | SchedulerConfig::Nightly(c) => &c.builder_names,
        }
    }
}

/// A scheduler fed by changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSchedulerConfig {
    /// Unique name; also the `scheduler` build property.
    pub name: String,
    /// Builders to start.
    pub builder_names: Vec<String>,
    /// Which changes count.
    pub change_filter: ChangeFilter,
    /// Seconds the tree must be quiet before building (None = build every change at once).
    pub tree_stable_timer_s: Option<u64>,
    /// Buildset properties (source "Scheduler").
    pub properties: BTreeMap<String, Value>,
    /// Reason shown on the buildset (default Buildbot's text).
    pub reason: Option<String>,
    /// Priority of the requests.
    pub priority: i64,
}

/// `util.ChangeFilter(...)`: all conditions are ANDed. A field that is `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeFilter {
    /// Branch must be one of these. `Some(vec![None])` means the default branch
    /// (`branch=None`, distinct from not filtering).
    pub branch: Option<Vec<Option<String>>>,
    /// Branch must match this regular expression (anchored at the start, as Python's re.match).
    pub branch_re: Option<String>,
    /// Project must be one of these.
    pub project: Option<Vec<String>>,
    /// Repository must be one of these.
    pub repository: Option<Vec<String>>,
    /// Category must be one of these.
    pub category: Option<Vec<String>>,
    /// Codebase must be one of these.
    pub codebase: Option<Vec<String>>,
}

/// `schedulers.ForceScheduler(name, builderNames, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceSchedulerConfig {
    /// Unique name (an identifier).
    pub name: String,
    /// Builders it may start.
    pub builder_names: Vec<String>,
    /// Button label (default: the name).
    pub button_name: String,
    /// Dialog label.
    pub label: String,
    /// Template of the reason (`A build was forced by '%(owner)s': %(reason)s`).
    pub reason_string: String,
    /// Buildset properties (source "Force Build Form").
    pub properties: BTreeMap<String, Value>,
    /// The form's own fields (`properties=[util.StringParameter(...), ...]`), each setting the
    /// build property of its name.
    #[serde(default)]
    pub parameters: Vec<ForceParameter>,
}

/// `util.BuilderConfig(name, workernames | workername, factory, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuilderConfig {
    /// Unique name; also the worker's build directory name.
    pub name: String,
    /// Workers that may run it.
    pub worker_names: Vec<String>,
    /// Its steps, in order.
    pub steps: Vec<StepConfig>,
    /// Directory under the worker's base directory (default: the name, made filesystem-safe).
    pub builddir: String,
    /// Free text.
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Builder properties (source "Builder").
    pub properties: BTreeMap<String, Value>,
}
