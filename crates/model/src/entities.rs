//! The entities of Buildbot's data API, in the JSON shapes of REST API v2 and the bus payloads
//! (reference/buildbot.md §5.3). Timestamps are UNIX epoch seconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Results;

/// Database id of a master.
pub type MasterId = i64;
/// Database id of a builder.
pub type BuilderId = i64;
/// Database id of a worker.
pub type WorkerId = i64;
/// Database id of a change.
pub type ChangeId = i64;
/// Database id of a source stamp.
pub type SourceStampId = i64;
/// Database id of a buildset.
pub type BuildsetId = i64;
/// Database id of a build request.
pub type BuildRequestId = i64;
/// Database id of a build.
pub type BuildId = i64;
/// Database id of a step.
pub type StepId = i64;
/// Database id of a log.
pub type LogId = i64;
/// Database id of a scheduler.
pub type SchedulerId = i64;
/// Database id of a change source.
pub type ChangeSourceId = i64;

/// Properties as Buildbot serialises them: `{name: [value, source]}`.
pub type Properties = BTreeMap<String, (Value, String)>;

/// A master process of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Master {
    /// Id.
    pub masterid: MasterId,
    /// Unique name (default `hostname:basedir`).
    pub name: String,
    /// Whether it is running.
    pub active: bool,
    /// Last heartbeat.
    pub last_active: i64,
}

/// A builder, as configured on one or more masters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    /// Id.
    pub builderid: BuilderId,
    /// Unique name.
    pub name: String,
    /// Masters that currently configure it.
    pub masterids: Vec<MasterId>,
    /// Free text.
    pub description: Option<String>,
    /// Format of the description (`markdown` or null).
    pub description_format: Option<String>,
    /// The description rendered to HTML.
    pub description_html: Option<String>,
    /// Project, if any.
    pub projectid: Option<i64>,
    /// Tags.
    pub tags: Vec<String>,
}

/// A worker known to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    /// Id.
    pub workerid: WorkerId,
    /// Unique name.
    pub name: String,
    /// What the worker said about itself (`admin`, `host`, `access_uri`, `version`, ...).
    pub workerinfo: BTreeMap<String, Value>,
    /// Paused by a user: takes no new builds.
    pub paused: bool,
    /// Why it was paused.
    pub pause_reason: Option<String>,
    /// Finishing its builds before shutting down.
    pub graceful: bool,
    /// Masters it is connected to: `[{masterid}]`.
    pub connected_to: Vec<ConnectedTo>,
    /// Builders it is configured for: `[{builderid, masterid}]`.
    pub configured_on: Vec<ConfiguredOn>,
}

/// One entry of [`Worker::connected_to`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedTo {
    /// The master holding the connection.
    pub masterid: MasterId,
}

/// One entry of [`Worker::configured_on`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfiguredOn {
    /// The builder.
    pub builderid: BuilderId,
    /// The master configuring it.
    pub masterid: MasterId,
}

/// A patch attached to a source stamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// Id.
    pub patchid: i64,
    /// The patch text (base64 in the database).
    pub body: String,
    /// `-p` level.
    pub level: i64,
    /// Subdirectory it applies to.
    pub subdir: Option<String>,
    /// Author.
    pub author: String,
    /// Comment.
    pub comment: String,
}

/// A source stamp: which code a build used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStamp {
    /// Id.
    pub ssid: SourceStampId,
    /// Revision, or null for the latest.
    pub revision: Option<String>,
    /// Branch, or null for the default branch.
    pub branch: Option<String>,
    /// Repository URL.
    pub repository: String,
    /// Project.
    pub project: String,
    /// Codebase.
    pub codebase: String,
    /// Patch, if any.
    pub patch: Option<Patch>,
    /// Creation time.
    pub created_at: i64,
}

/// A change: one commit seen by a change source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Id.
    pub changeid: ChangeId,
    /// Earlier changes on the same branch/repository/project/codebase.
    pub parent_changeids: Vec<ChangeId>,
    /// Author (`Name <email>`).
    pub author: String,
    /// Committer.
    pub committer: Option<String>,
    /// Files touched.
    pub files: Vec<String>,
    /// Commit message.
    pub comments: String,
    /// Revision.
    pub revision: Option<String>,
    /// Commit time.
    pub when_timestamp: i64,
    /// Branch, or null for the default branch.
    pub branch: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Link to the revision.
    pub revlink: Option<String>,
    /// Change properties: `{name: [value, "Change"]}`.
    pub properties: Properties,
    /// Repository URL.
    pub repository: String,
    /// Project.
    pub project: String,
    /// Codebase.
    pub codebase: String,
    /// Its source stamp.
    pub sourcestamp: SourceStamp,
}

/// A set of build requests created together by a scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Buildset {
    /// Id.
    pub bsid: BuildsetId,
    /// External id.
    pub external_idstring: Option<String>,
    /// Why it was created.
    pub reason: String,
    /// The build this one rebuilds.
    pub rebuilt_buildid: Option<BuildId>,
    /// Submission time.
    pub submitted_at: i64,
    /// All its requests are complete.
    pub complete: bool,
    /// Completion time.
    pub complete_at: Option<i64>,
    /// Worst result of its requests (null while running).
    pub results: Option<Results>,
    /// Its source stamps.
    pub sourcestamps: Vec<SourceStamp>,
    /// Build that triggered it.
    pub parent_buildid: Option<BuildId>,
    /// Relationship to the parent.
    pub parent_relationship: Option<String>,
}

/// A request for one builder to build a buildset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRequest {
    /// Id.
    pub buildrequestid: BuildRequestId,
    /// Its buildset.
    pub buildsetid: BuildsetId,
    /// The builder it is for.
    pub builderid: BuilderId,
    /// Higher runs first.
    pub priority: i64,
    /// A master has claimed it.
    pub claimed: bool,
    /// When it was claimed.
    pub claimed_at: Option<i64>,
    /// Which master claimed it.
    pub claimed_by_masterid: Option<MasterId>,
    /// It is finished.
    pub complete: bool,
    /// Result; -1 while pending (Buildbot's REST shape).
    pub results: i64,
    /// Submission time.
    pub submitted_at: i64,
    /// Completion time.
    pub complete_at: Option<i64>,
    /// A Trigger step waits for it.
    pub waited_for: bool,
    /// Buildset properties, only when asked for with `property=`.
    pub properties: Option<Properties>,
}

/// A build: one run of a builder's steps on a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    /// Id.
    pub buildid: BuildId,
    /// Number within its builder, from 1.
    pub number: i64,
    /// Builder.
    pub builderid: BuilderId,
    /// The request it serves.
    pub buildrequestid: BuildRequestId,
    /// Worker it runs on.
    pub workerid: Option<WorkerId>,
    /// Master running it.
    pub masterid: MasterId,
    /// Start time.
    pub started_at: i64,
    /// Finished.
    pub complete: bool,
    /// End time.
    pub complete_at: Option<i64>,
    /// Seconds spent waiting for locks.
    pub locks_duration_s: i64,
    /// Result (null while running).
    pub results: Option<Results>,
    /// Human-readable state.
    pub state_string: String,
    /// Properties, only when asked for with `property=`.
    pub properties: Properties,
}

/// A URL attached to a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepUrl {
    /// Label.
    pub name: String,
    /// Target.
    pub url: String,
}

/// One step of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Id.
    pub stepid: StepId,
    /// Position in the build, from 0.
    pub number: i64,
    /// Name, unique within the build.
    pub name: String,
    /// Build.
    pub buildid: BuildId,
    /// Start time.
    pub started_at: Option<i64>,
    /// When its locks were acquired.
    pub locks_acquired_at: Option<i64>,
    /// Finished.
    pub complete: bool,
    /// End time.
    pub complete_at: Option<i64>,
    /// Result (null while running).
    pub results: Option<Results>,
    /// Human-readable state.
    pub state_string: String,
    /// Links.
    pub urls: Vec<StepUrl>,
    /// Hidden in the UI.
    pub hidden: bool,
}

/// A log of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Log {
    /// Id.
    pub logid: LogId,
    /// Name.
    pub name: String,
    /// URL-safe name, unique within the step.
    pub slug: String,
    /// Step.
    pub stepid: StepId,
    /// No more lines will come.
    pub complete: bool,
    /// Lines stored so far.
    pub num_lines: i64,
    /// `s` stdio, `t` text, `h` html.
    #[serde(rename = "type")]
    pub log_type: String,
}

/// A run of lines of a log (`logchunks` in REST).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogChunk {
    /// Log.
    pub logid: LogId,
    /// First line number (0-based).
    pub firstline: i64,
    /// The lines, each ending in a newline; stdio lines start with `o`, `e` or `h`.
    pub content: String,
}

/// A scheduler known to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheduler {
    /// Id.
    pub schedulerid: SchedulerId,
    /// Unique name.
    pub name: String,
    /// Creates buildsets when true.
    pub enabled: bool,
    /// The master running it, if any.
    pub master: Option<Master>,
}

/// A change source known to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSource {
    /// Id.
    pub changesourceid: ChangeSourceId,
    /// Unique name.
    pub name: String,
    /// The master running it, if any.
    pub master: Option<Master>,
}
