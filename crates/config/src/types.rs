//! The typed, validated configuration that master.cfg produces. `ferrobot checkconfig --dump`
//! prints it as JSON; the master consumes nothing else.

mod file_steps;
mod reporters;
pub use file_steps::*;
pub use reporters::*;

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

/// `c['www']`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WwwConfig {
    /// HTTP port (default 8010). `"tcp:8010:interface=127.0.0.1"` strings are accepted.
    pub port: u16,
    /// Interface to bind (default all; from a Twisted `interface=` string when given).
    pub interface: Option<String>,
    /// `plugins`: accepted and recorded; Ferrobot's own dashboard replaces them.
    pub plugins: BTreeMap<String, Value>,
}

impl Default for WwwConfig {
    fn default() -> Self {
        WwwConfig {
            port: 8010,
            interface: None,
            plugins: BTreeMap::new(),
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
}

impl SchedulerConfig {
    /// The scheduler's unique name.
    pub fn name(&self) -> &str {
        match self {
            SchedulerConfig::SingleBranch(c) | SchedulerConfig::AnyBranch(c) => &c.name,
            SchedulerConfig::Force(c) => &c.name,
        }
    }

    /// The builders it starts.
    pub fn builder_names(&self) -> &[String] {
        match self {
            SchedulerConfig::SingleBranch(c) | SchedulerConfig::AnyBranch(c) => &c.builder_names,
            SchedulerConfig::Force(c) => &c.builder_names,
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

/// What every step shares (reference/buildbot.md §6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonStepConfig {
    /// Name, unique within the build after numbering.
    pub name: String,
    /// Stop the build after a failure.
    pub halt_on_failure: bool,
    /// A failure fails the build (default true).
    pub flunk_on_failure: bool,
    /// Warnings fail the build.
    pub flunk_on_warnings: bool,
    /// A failure makes the build WARNINGS.
    pub warn_on_failure: bool,
    /// Warnings make the build WARNINGS.
    pub warn_on_warnings: bool,
    /// Runs even after the build was halted or stopped.
    pub always_run: bool,
    /// Description while running.
    pub description: Option<String>,
    /// Description when done.
    pub description_done: Option<String>,
    /// Working directory relative to the builder's directory (default `build`).
    pub workdir: Option<String>,
}

/// A step of a BuildFactory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StepConfig {
    /// `steps.ShellCommand`.
    ShellCommand(ShellCommandConfig),
    /// `steps.Git`.
    Git(GitStepConfig),
    /// `steps.RemoveDirectory`.
    RemoveDirectory(DirectoryStepConfig),
    /// `steps.MakeDirectory`.
    MakeDirectory(DirectoryStepConfig),
    /// `steps.SetPropertyFromCommand`.
    SetPropertyFromCommand(SetPropertyFromCommandConfig),
    /// `steps.MasterShellCommand`.
    MasterShellCommand(MasterShellCommandConfig),
    /// `steps.StringDownload`.
    StringDownload(StringDownloadConfig),
    /// `steps.FileDownload`.
    FileDownload(FileDownloadConfig),
    /// `steps.FileUpload`.
    FileUpload(FileUploadConfig),
    /// `steps.DirectoryUpload`.
    DirectoryUpload(DirectoryUploadConfig),
}

impl StepConfig {
    /// The parts every step has.
    pub fn common(&self) -> &CommonStepConfig {
        match self {
            StepConfig::ShellCommand(s) => &s.common,
            StepConfig::Git(s) => &s.common,
            StepConfig::RemoveDirectory(s) | StepConfig::MakeDirectory(s) => &s.common,
            StepConfig::SetPropertyFromCommand(s) => &s.common,
            StepConfig::MasterShellCommand(s) => &s.common,
            StepConfig::StringDownload(s) => &s.common,
            StepConfig::FileDownload(s) => &s.common,
            StepConfig::FileUpload(s) => &s.common,
            StepConfig::DirectoryUpload(s) => &s.common,
        }
    }
}

/// A command as Buildbot takes it: a list (exec) or a string (`/bin/sh -c`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Exec form.
    Argv(Vec<String>),
    /// Shell form.
    Shell(String),
}

/// `steps.ShellCommand(command, env, workdir, timeout, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellCommandConfig {
    /// Name, flags, workdir.
    pub common: CommonStepConfig,
    /// What to run.
    pub command: Command,
    /// Environment; a `None` value unsets the variable.
    pub env: BTreeMap<String, Option<String>>,
    /// Seconds without output before the command is killed (default 1200; None = never).
    pub timeout_s: Option<f64>,
    /// Seconds of total run time before it is killed (default none).
    pub max_time_s: Option<f64>,
    /// Keep stdout.
    pub want_stdout: bool,
    /// Keep stderr.
    pub want_stderr: bool,
}

/// `steps.Git(repourl, branch, mode, method)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitStepConfig {
    /// Name (default `git`), flags, workdir.
    pub common: CommonStepConfig,
    /// Repository URL or path.
    pub repourl: String,
    /// Branch to check out when the build's source stamp names none (default `HEAD`).
    pub branch: String,
    /// `incremental` (default) or `full`.
    pub mode: GitMode,
    /// With `full`: `fresh` (default), `clobber`, `clean` or `copy`.
    pub method: GitMethod,
    /// Seconds without output before a git command is killed (default 1200).
    pub timeout_s: Option<f64>,
}

/// `mode=` of a source step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitMode {
    /// Update the existing checkout.
    Incremental,
    /// Rebuild the checkout according to the method.
    Full,
}

/// `method=` of a source step in full mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitMethod {
    /// `git clean -f -f -d -x`, then update.
    Fresh,
    /// Remove the directory and clone again.
    Clobber,
    /// `git clean -f -f -d`, then update.
    Clean,
    /// Update a copy kept beside the build and copy it over.
    Copy,
}
