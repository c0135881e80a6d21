//! The master's persistent state: Buildbot's data model (reference/buildbot.md §1) in SQLite
//! (single node) or PostgreSQL (cluster), behind the [`Store`] trait.
//!
//! The database is the truth (design invariant 1): every state change is committed here before
//! its event is published on the bus.
#![warn(missing_docs)]

mod builds;
mod buildsets;
mod changes;
mod claims;
mod db;
mod error;
mod fence;
mod listing;
mod logs;
mod logtext;
mod masters;
mod open;
mod outbox;
mod services;
mod steps;
mod store_impl;
mod workers;

use async_trait::async_trait;
use ferrobot_model::*;
use serde_json::Value;

pub use error::{Error, Result};
pub use fence::Claimant;
pub use listing::{
    Cmp, Condition, ListQuery, Listed, SortKey, SqlValue, buildrequests_can_list, builds_can_list,
    changes_can_list,
};
pub use open::{is_sqlite, open, upgrade};
pub use outbox::{OutboxEvent, OutboxItem, OutboxOutcome, OutboxState};

/// A change as a change source reports it, before it has an id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewChange {
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
    /// Commit time (epoch seconds).
    pub when_timestamp: i64,
    /// Branch (None = default branch).
    pub branch: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Link to the revision.
    pub revlink: Option<String>,
    /// Properties; stored with source "Change".
    pub properties: std::collections::BTreeMap<String, Value>,
    /// Repository URL.
    pub repository: String,
    /// Project.
    pub project: String,
    /// Codebase.
    pub codebase: String,
}

/// A source stamp to find or create (deduplicated on all its fields, as Buildbot's `ss_hash`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSourceStamp {
    /// Branch.
    pub branch: Option<String>,
    /// Revision.
    pub revision: Option<String>,
    /// Repository.
    pub repository: String,
    /// Project.
    pub project: String,
    /// Codebase.
    pub codebase: String,
}

/// A buildset to create, with one build request per builder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewBuildset {
    /// Why (shown in the UI).
    pub reason: String,
    /// External id.
    pub external_idstring: Option<String>,
    /// Buildset properties `{name: (value, source)}`; `scheduler` is among them.
    pub properties: Properties,
    /// Source stamps by id (from changes) ...
    pub sourcestamp_ids: Vec<SourceStampId>,
    /// ... and source stamps to find or create.
    pub sourcestamps: Vec<NewSourceStamp>,
    /// One request per builder, in this order.
    pub builderids: Vec<BuilderId>,
    /// Priority of the requests.
    pub priority: i64,
    /// The build that triggered it.
    pub parent_buildid: Option<BuildId>,
    /// The build it rebuilds.
    pub rebuilt_buildid: Option<BuildId>,
    /// Submission time.
    pub submitted_at: i64,
}

/// Which build requests to list. `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRequestFilter {
    /// Only this builder's.
    pub builderid: Option<BuilderId>,
    /// Only this buildset's.
    pub buildsetid: Option<BuildsetId>,
    /// Only complete (true) or incomplete (false) ones.
    pub complete: Option<bool>,
    /// Only claimed (true: a claim exists) or unclaimed (false: no claim and still pending, as
    /// Buildbot) ones.
    pub claimed: Option<bool>,
    /// Only those claimed by this master.
    pub claimed_by_masterid: Option<MasterId>,
}

/// Which builds to list. `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildFilter {
    /// Only this builder's.
    pub builderid: Option<BuilderId>,
    /// Only those serving this request.
    pub buildrequestid: Option<BuildRequestId>,
    /// Only those run on this worker.
    pub workerid: Option<WorkerId>,
    /// Only those run by this master.
    pub masterid: Option<MasterId>,
    /// Only complete (true) or running (false) ones.
    pub complete: Option<bool>,
    /// At most this many, newest first, when set (for "recent builds" pages).
    pub newest: Option<i64>,
}

/// Where appended log text landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendedLines {
    /// First new line (0-based).
    pub first_line: i64,
    /// Last new line (0-based, inclusive).
    pub last_line: i64,
}

/// What [`Store::release_master_work`] took back from a master.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleasedWork {
    /// Its builds that were running and now ended RETRY.
    pub builds: Vec<BuildId>,
    /// The incomplete requests whose claims were released.
    pub buildrequests: Vec<BuildRequestId>,
}

/// The master's persistent state. Every method is one transaction; a method that returns `Ok`
/// has committed. Implementations: SQLite and PostgreSQL, proved alike by one conformance suite.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- masters ---
    /// Finds the master by name or creates it inactive; returns its id.
    async fn find_or_create_master(&self, name: &str) -> Result<MasterId>;
    /// Marks a master active (with a heartbeat time) or inactive. Returns true if the state flipped.
    /// Marking it inactive also unlinks the schedulers it ran (`scheduler_masters`), as Buildbot.
    async fn set_master_active(&self, masterid: MasterId, active: bool, now: i64) -> Result<bool>;
    /// All masters.
    async fn masters(&self) -> Result<Vec<Master>>;
    /// One master.
    async fn master(&self, masterid: MasterId) -> Result<Option<Master>>;

    // --- builders ---
    /// Finds the builder by name or creates it; updates description and tags; returns its id.
    async fn find_or_create_builder(
        &self,
        name: &str,
        description: Option<&str>,
        tags: &[String],
    ) -> Result<BuilderId>;
    /// Replaces the set of builders this master configures (`builder_masters`).
    async fn set_master_builders(&self, masterid: MasterId, builderids: &[BuilderId])
    -> Result<()>;
    /// All builders, with `masterids` and `tags`.
    async fn builders(&self) -> Result<Vec<Builder>>;
    /// One builder.
    async fn builder(&self, builderid: BuilderId) -> Result<Option<Builder>>;
    /// One builder by name.
    async fn builder_by_name(&self, name: &str) -> Result<Option<Builder>>;

    // --- workers ---
    /// Finds the worker by name or creates it; returns its id.
    async fn find_or_create_worker(&self, name: &str) -> Result<WorkerId>;
    /// Replaces the (builder, worker) pairs this master configures (`configured_workers`). Pairs
    /// whose builder this master does not configure (`set_master_builders`) are ignored, as in
    /// Buildbot.
    async fn set_configured_workers(
        &self,
        masterid: MasterId,
        pairs: &[(BuilderId, WorkerId)],
    ) -> Result<()>;
    /// Records a connection of a worker to a master, with the info it sent.
    async fn worker_connected(
        &self,
        workerid: WorkerId,
        masterid: MasterId,
        info: &std::collections::BTreeMap<String, Value>,
    ) -> Result<()>;
    /// Removes a connection of a worker to a master.
    async fn worker_disconnected(&self, workerid: WorkerId, masterid: MasterId) -> Result<()>;
    /// Sets the paused flag and reason.
    async fn set_worker_paused(
        &self,
        workerid: WorkerId,
        paused: bool,
        reason: Option<&str>,
    ) -> Result<()>;
    /// Sets the graceful-shutdown flag.
    async fn set_worker_graceful(&self, workerid: WorkerId, graceful: bool) -> Result<()>;
    /// All workers, with `connected_to` and `configured_on`.
    async fn workers(&self) -> Result<Vec<Worker>>;
    /// One worker.
    async fn worker(&self, workerid: WorkerId) -> Result<Option<Worker>>;
    /// One worker by name.
    async fn worker_by_name(&self, name: &str) -> Result<Option<Worker>>;

    // --- changes and source stamps ---
    /// Stores a change (finding or creating its source stamp, linking its parent) and returns it.
    async fn add_change(&self, change: &NewChange) -> Result<Change>;
    /// One change.
    async fn change(&self, changeid: ChangeId) -> Result<Option<Change>>;
    /// Changes, newest first, at most `limit` when given.
    async fn changes(&self, limit: Option<i64>) -> Result<Vec<Change>>;
    /// One page of changes by conditions, order, offset and limit, with the total, done by the
    /// database ([`changes_can_list`] says which fields it knows).
    async fn list_changes(&self, query: &ListQuery) -> Result<Listed<Change>>;
    /// The changes whose source stamp is one of a build's buildset's source stamps.
    async fn changes_for_build(&self, buildid: BuildId) -> Result<Vec<Change>>;
    /// One source stamp.
    async fn sourcestamp(&self, ssid: SourceStampId) -> Result<Option<SourceStamp>>;
    /// All source stamps, newest first.
    async fn sourcestamps(&self) -> Result<Vec<SourceStamp>>;

    // --- schedulers, change sources, state ---
    /// Finds the scheduler by name or creates it enabled; returns its id.
    async fn find_or_create_scheduler(&self, name: &str) -> Result<SchedulerId>;
    /// Enables or disables a scheduler.
    async fn set_scheduler_enabled(&self, schedulerid: SchedulerId, enabled: bool) -> Result<()>;
    /// Links a scheduler to the master running it, replacing any other link (None unlinks).
    async fn set_scheduler_master(
        &self,
        schedulerid: SchedulerId,
        masterid: Option<MasterId>,
    ) -> Result<()>;
    /// All schedulers.
    async fn schedulers(&self) -> Result<Vec<Scheduler>>;
    /// Records that a scheduler saw a change (`scheduler_changes`, for treeStableTimer).
    async fn classify_change(
        &self,
        schedulerid: SchedulerId,
        changeid: ChangeId,
        important: bool,
    ) -> Result<()>;
    /// The changes a scheduler has classified and not yet flushed: `(changeid, important)`, by id.
    async fn classified_changes(&self, schedulerid: SchedulerId) -> Result<Vec<(ChangeId, bool)>>;
    /// Forgets classifications with `changeid <= up_to`.
    async fn flush_classified_changes(
        &self,
        schedulerid: SchedulerId,
        up_to: ChangeId,
    ) -> Result<()>;
    /// Finds the change source by name or creates it; returns its id.
    async fn find_or_create_changesource(&self, name: &str) -> Result<ChangeSourceId>;
    /// Links a change source to the master running it, replacing any other link (None unlinks).
    async fn set_changesource_master(
        &self,
        changesourceid: ChangeSourceId,
        masterid: Option<MasterId>,
    ) -> Result<()>;
    /// All change sources.
    async fn changesources(&self) -> Result<Vec<ChangeSource>>;
    /// Reads a persisted value of an object (`object_state`), e.g. a poller's `lastRev`.
    async fn get_state(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
    ) -> Result<Option<Value>>;
    /// Stores a value of an object only if it has none yet, and returns the stored value
    /// (Buildbot's `atomicCreateState`): of masters racing to create it, all get the winner's.
    async fn create_state_once(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
        value: &Value,
    ) -> Result<Value>;
    /// Writes a persisted value of an object.
    async fn set_state(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
        value: &Value,
    ) -> Result<()>;

    // --- buildsets and build requests ---
    /// Creates a buildset and its requests; returns the buildset id and `(builderid, brid)` pairs.
    async fn add_buildset(
        &self,
        buildset: &NewBuildset,
    ) -> Result<(BuildsetId, Vec<(BuilderId, BuildRequestId)>)>;
    /// One buildset, with its source stamps.
    async fn buildset(&self, bsid: BuildsetId) -> Result<Option<Buildset>>;
    /// Buildsets, newest first; only complete or incomplete ones when `complete` is given.
    async fn buildsets(&self, complete: Option<bool>) -> Result<Vec<Buildset>>;
    /// Buildset properties `{name: (value, source)}`.
    async fn buildset_properties(&self, bsid: BuildsetId) -> Result<Properties>;
    /// Completes the buildset if none of its requests is pending: returns its results then, or
    /// None if requests remain or another caller completed it first.
    async fn maybe_complete_buildset(&self, bsid: BuildsetId, now: i64) -> Result<Option<Results>>;
    /// One build request.
    async fn buildrequest(&self, brid: BuildRequestId) -> Result<Option<BuildRequest>>;
    /// Build requests by filter, by id ascending.
    async fn buildrequests(&self, filter: &BuildRequestFilter) -> Result<Vec<BuildRequest>>;
    /// Atomically claims a pending, unclaimed request for a master under its lease epoch. False
    /// if someone else has it or it is complete (design invariant 2).
    async fn claim_buildrequest(
        &self,
        brid: BuildRequestId,
        claimant: Claimant,
        now: i64,
    ) -> Result<bool>;
    /// Releases the claimant's claims on these requests (others' claims, and claims made under
    /// another epoch, are left alone).
    async fn unclaim_buildrequests(
        &self,
        brids: &[BuildRequestId],
        claimant: Claimant,
    ) -> Result<()>;
    /// Completes requests the claimant holds with a result (not RETRY: [`Error::Invalid`]).
    /// Returns the ids that were still incomplete; the others are left as they were. A request
    /// not claimed by the claimant is [`Error::Fenced`], and then nothing changes.
    async fn complete_buildrequests(
        &self,
        brids: &[BuildRequestId],
        results: Results,
        claimant: Claimant,
        now: i64,
    ) -> Result<Vec<BuildRequestId>>;
    /// Takes back everything a master left behind (it died, or this is its own start-up): in one
    /// transaction its running builds and their running steps end RETRY and its claims on
    /// incomplete requests are released, whatever their epoch.
    async fn release_master_work(&self, masterid: MasterId, now: i64) -> Result<ReleasedWork>;
    /// One page of build requests by conditions, order, offset and limit, with the total,
    /// done by the database ([`buildrequests_can_list`] says which fields it knows).
    async fn list_buildrequests(&self, query: &ListQuery) -> Result<Listed<BuildRequest>>;
    /// Sets the priority of an incomplete request ([`Error::Conflict`] if it is complete).
    async fn set_buildrequest_priority(&self, brid: BuildRequestId, priority: i64) -> Result<()>;

    // --- builds ---
    // Every write for a build, its steps and logs presents the claimant of the build's request
    // and fails with [`Error::Fenced`], changing nothing, once that claim is no longer its own.

    /// Creates a build of a request the claimant holds, with the next number of its builder
    /// (from 1); returns `(buildid, number)`.
    async fn add_build(
        &self,
        builderid: BuilderId,
        buildrequestid: BuildRequestId,
        workerid: WorkerId,
        claimant: Claimant,
        state_string: &str,
        now: i64,
    ) -> Result<(BuildId, i64)>;
    /// Sets a build's state string.
    async fn set_build_state_string(
        &self,
        buildid: BuildId,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<()>;
    /// Finishes a build.
    async fn finish_build(
        &self,
        buildid: BuildId,
        results: Results,
        claimant: Claimant,
        now: i64,
    ) -> Result<()>;
    /// One build (properties left empty).
    async fn build(&self, buildid: BuildId) -> Result<Option<Build>>;
    /// One build by builder and number.
    async fn build_by_number(&self, builderid: BuilderId, number: i64) -> Result<Option<Build>>;
    /// Builds by filter, by id ascending (or the newest N, still ascending, with `newest`).
    async fn builds(&self, filter: &BuildFilter) -> Result<Vec<Build>>;
    /// One page of builds by conditions, order, offset and limit, with the total that pass
    /// the conditions, done by the database ([`builds_can_list`] says which fields it knows).
    async fn list_builds(&self, query: &ListQuery) -> Result<Listed<Build>>;
    /// Sets (inserts or replaces) a build property.
    async fn set_build_property(
        &self,
        buildid: BuildId,
        name: &str,
        value: &Value,
        source: &str,
        claimant: Claimant,
    ) -> Result<()>;
    /// A build's properties `{name: (value, source)}`.
    async fn build_properties(&self, buildid: BuildId) -> Result<Properties>;

    // --- steps ---
    /// Adds a step numbered from 0, making its name unique within the build as Buildbot does
    /// (`name_1`, `name_2`, ..., within 50 characters); returns `(stepid, number, name)`.
    async fn add_step(
        &self,
        buildid: BuildId,
        name: &str,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<(StepId, i64, String)>;
    /// Marks a step started (steps take no locks yet, so `locks_acquired_at` is set too).
    async fn start_step(&self, stepid: StepId, claimant: Claimant, now: i64) -> Result<()>;
    /// Sets a step's state string.
    async fn set_step_state_string(
        &self,
        stepid: StepId,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<()>;
    /// Adds a URL to a step.
    async fn add_step_url(
        &self,
        stepid: StepId,
        name: &str,
        url: &str,
        claimant: Claimant,
    ) -> Result<()>;
    /// Finishes a step.
    async fn finish_step(
        &self,
        stepid: StepId,
        results: Results,
        hidden: bool,
        claimant: Claimant,
        now: i64,
    ) -> Result<()>;
    /// One step.
    async fn step(&self, stepid: StepId) -> Result<Option<Step>>;
    /// A build's steps, by number.
    async fn steps(&self, buildid: BuildId) -> Result<Vec<Step>>;

    // --- logs ---
    /// Adds a log of type `s` (stdio), `t` (text) or `h` (html) to a step; returns its id. The
    /// slug is Buildbot's: the name with characters outside `[a-zA-Z0-9_-]` (and a leading digit)
    /// replaced by `_`, within 50 characters, then `_2`, `_3`, ... if taken in the step.
    async fn add_log(
        &self,
        stepid: StepId,
        name: &str,
        log_type: &str,
        claimant: Claimant,
    ) -> Result<LogId>;
    /// Appends text to a log. `content` is whole lines, each ending in `\n` (for stdio logs each
    /// line starts with its stream letter `o`, `e` or `h`). Lines longer than the store's limit
    /// are split, never dropped (design invariant 6). Chunks are compressed when that pays.
    /// A missing final newline is added; empty content appends nothing and returns
    /// `last_line = first_line - 1`.
    async fn append_log(
        &self,
        logid: LogId,
        content: &str,
        claimant: Claimant,
    ) -> Result<AppendedLines>;
    /// Marks a log complete.
    async fn finish_log(&self, logid: LogId, claimant: Claimant) -> Result<()>;
    /// One log.
    async fn log(&self, logid: LogId) -> Result<Option<Log>>;
    /// A step's logs, by id.
    async fn logs(&self, stepid: StepId) -> Result<Vec<Log>>;
    /// Lines `first..=last` (0-based) of a log, concatenated, each ending in `\n`.
    async fn log_lines(&self, logid: LogId, first: i64, last: i64) -> Result<String>;

    // --- reporters' outbox (outbox.rs)

    /// Records a pending report of `reporter` for every build that started (for
    /// [`OutboxEvent::Started`]) or finished (for [`OutboxEvent::Finished`]) at or after
    /// `since` and has none yet; returns how many rows were added. Idempotent.
    async fn enqueue_build_reports(
        &self,
        reporter: &str,
        events: &[OutboxEvent],
        since: i64,
        now: i64,
    ) -> Result<u64>;
    /// Claims the oldest due pending report of `reporter` for `masterid` until
    /// `now + lease_seconds`, counting one attempt; `None` when nothing is claimable. Of
    /// masters racing for a row exactly one gets it.
    async fn claim_report(
        &self,
        reporter: &str,
        masterid: MasterId,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Option<OutboxItem>>;
    /// Ends the attempt on report `id` held by `masterid` with `outcome`; `false` (nothing
    /// changed) when the claim is no longer this master's.
    async fn settle_report(
        &self,
        id: i64,
        masterid: MasterId,
        outcome: &OutboxOutcome,
        now: i64,
    ) -> Result<bool>;
    /// Every report of `reporter`, oldest first.
    async fn outbox(&self, reporter: &str) -> Result<Vec<OutboxItem>>;
}
