//! [`Store`] for [`SqlStore`]: each method runs the implementation in the module of its topic
//! (masters, workers, changes, services, buildsets, builds, steps, logs).

use std::collections::BTreeMap;

use async_trait::async_trait;
use ferrobot_model::*;
use serde_json::Value;

use crate::db::SqlStore;
use crate::{
    AppendedLines, BuildFilter, BuildRequestFilter, Claimant, ListQuery, Listed, NewBuildset,
    NewChange, ReleasedWork, Result, Store,
};

#[async_trait]
impl Store for SqlStore {
    async fn find_or_create_master(&self, name: &str) -> Result<MasterId> {
        self.find_or_create_master_impl(name).await
    }

    async fn set_master_active(&self, masterid: MasterId, active: bool, now: i64) -> Result<bool> {
        self.set_master_active_impl(masterid, active, now).await
    }

    async fn masters(&self) -> Result<Vec<Master>> {
        self.masters_impl().await
    }

    async fn master(&self, masterid: MasterId) -> Result<Option<Master>> {
        self.master_impl(masterid).await
    }

    async fn find_or_create_builder(
        &self,
        name: &str,
        description: Option<&str>,
        tags: &[String],
    ) -> Result<BuilderId> {
        self.find_or_create_builder_impl(name, description, tags)
            .await
    }

    async fn set_master_builders(
        &self,
        masterid: MasterId,
        builderids: &[BuilderId],
    ) -> Result<()> {
        self.set_master_builders_impl(masterid, builderids).await
    }

    async fn builders(&self) -> Result<Vec<Builder>> {
        self.builders_impl().await
    }

    async fn builder(&self, builderid: BuilderId) -> Result<Option<Builder>> {
        self.builder_impl(builderid).await
    }

    async fn builder_by_name(&self, name: &str) -> Result<Option<Builder>> {
        self.builder_by_name_impl(name).await
    }

    async fn find_or_create_worker(&self, name: &str) -> Result<WorkerId> {
        self.find_or_create_worker_impl(name).await
    }

    async fn set_configured_workers(
        &self,
        masterid: MasterId,
        pairs: &[(BuilderId, WorkerId)],
    ) -> Result<()> {
        self.set_configured_workers_impl(masterid, pairs).await
    }

    async fn worker_connected(
        &self,
        workerid: WorkerId,
        masterid: MasterId,
        info: &BTreeMap<String, Value>,
    ) -> Result<()> {
        self.worker_connected_impl(workerid, masterid, info).await
    }

    async fn worker_disconnected(&self, workerid: WorkerId, masterid: MasterId) -> Result<()> {
        self.worker_disconnected_impl(workerid, masterid).await
    }

    async fn set_worker_paused(
        &self,
        workerid: WorkerId,
        paused: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        self.set_worker_paused_impl(workerid, paused, reason).await
    }

    async fn set_worker_graceful(&self, workerid: WorkerId, graceful: bool) -> Result<()> {
        self.set_worker_graceful_impl(workerid, graceful).await
    }

    async fn workers(&self) -> Result<Vec<Worker>> {
        self.workers_impl().await
    }

    async fn worker(&self, workerid: WorkerId) -> Result<Option<Worker>> {
        self.worker_impl(workerid).await
    }

    async fn worker_by_name(&self, name: &str) -> Result<Option<Worker>> {
        self.worker_by_name_impl(name).await
    }

    async fn add_change(&self, change: &NewChange) -> Result<Change> {
        self.add_change_impl(change).await
    }

    async fn change(&self, changeid: ChangeId) -> Result<Option<Change>> {
        self.change_impl(changeid).await
    }

    async fn changes(&self, limit: Option<i64>) -> Result<Vec<Change>> {
        self.changes_impl(limit).await
    }

    async fn changes_for_build(&self, buildid: BuildId) -> Result<Vec<Change>> {
        self.changes_for_build_impl(buildid).await
    }

    async fn sourcestamp(&self, ssid: SourceStampId) -> Result<Option<SourceStamp>> {
        self.sourcestamp_impl(ssid).await
    }

    async fn sourcestamps(&self) -> Result<Vec<SourceStamp>> {
        self.sourcestamps_impl().await
    }

    async fn find_or_create_scheduler(&self, name: &str) -> Result<SchedulerId> {
        self.find_or_create_scheduler_impl(name).await
    }

    async fn set_scheduler_enabled(&self, schedulerid: SchedulerId, enabled: bool) -> Result<()> {
        self.set_scheduler_enabled_impl(schedulerid, enabled).await
    }

    async fn set_scheduler_master(
        &self,
        schedulerid: SchedulerId,
        masterid: Option<MasterId>,
    ) -> Result<()> {
        self.set_scheduler_master_impl(schedulerid, masterid).await
    }

    async fn schedulers(&self) -> Result<Vec<Scheduler>> {
        self.schedulers_impl().await
    }

    async fn classify_change(
        &self,
        schedulerid: SchedulerId,
        changeid: ChangeId,
        important: bool,
    ) -> Result<()> {
        self.classify_change_impl(schedulerid, changeid, important)
            .await
    }

    async fn classified_changes(&self, schedulerid: SchedulerId) -> Result<Vec<(ChangeId, bool)>> {
        self.classified_changes_impl(schedulerid).await
    }

    async fn flush_classified_changes(
        &self,
        schedulerid: SchedulerId,
        up_to: ChangeId,
    ) -> Result<()> {
        self.flush_classified_changes_impl(schedulerid, up_to).await
    }

    async fn find_or_create_changesource(&self, name: &str) -> Result<ChangeSourceId> {
        self.find_or_create_changesource_impl(name).await
    }

    async fn set_changesource_master(
        &self,
        changesourceid: ChangeSourceId,
        masterid: Option<MasterId>,
    ) -> Result<()> {
        self.set_changesource_master_impl(changesourceid, masterid)
            .await
    }

    async fn changesources(&self) -> Result<Vec<ChangeSource>> {
        self.changesources_impl().await
    }

    async fn get_state(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
    ) -> Result<Option<Value>> {
        self.get_state_impl(object_name, class_name, key).await
    }

    async fn create_state_once(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
        value: &Value,
    ) -> Result<Value> {
        self.create_state_once_impl(object_name, class_name, key, value)
            .await
    }

    async fn list_builds(&self, query: &ListQuery) -> Result<Listed<Build>> {
        self.list_builds_impl(query).await
    }

    async fn list_buildrequests(&self, query: &ListQuery) -> Result<Listed<BuildRequest>> {
        self.list_buildrequests_impl(query).await
    }

    async fn list_changes(&self, query: &ListQuery) -> Result<Listed<Change>> {
        self.list_changes_impl(query).await
    }

    async fn set_state(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
        value: &Value,
    ) -> Result<()> {
        self.set_state_impl(object_name, class_name, key, value)
            .await
    }

    async fn add_buildset(
        &self,
        buildset: &NewBuildset,
    ) -> Result<(BuildsetId, Vec<(BuilderId, BuildRequestId)>)> {
        self.add_buildset_impl(buildset).await
    }

    async fn buildset(&self, bsid: BuildsetId) -> Result<Option<Buildset>> {
        self.buildset_impl(bsid).await
    }

    async fn buildsets(&self, complete: Option<bool>) -> Result<Vec<Buildset>> {
        self.buildsets_impl(complete).await
    }

    async fn buildset_properties(&self, bsid: BuildsetId) -> Result<Properties> {
        self.buildset_properties_impl(bsid).await
    }

    async fn maybe_complete_buildset(&self, bsid: BuildsetId, now: i64) -> Result<Option<Results>> {
        self.maybe_complete_buildset_impl(bsid, now).await
    }

    async fn buildrequest(&self, brid: BuildRequestId) -> Result<Option<BuildRequest>> {
        self.buildrequest_impl(brid).await
    }

    async fn buildrequests(&self, filter: &BuildRequestFilter) -> Result<Vec<BuildRequest>> {
        self.buildrequests_impl(filter).await
    }

    async fn claim_buildrequest(
        &self,
        brid: BuildRequestId,
        claimant: Claimant,
        now: i64,
    ) -> Result<bool> {
        self.claim_buildrequest_impl(brid, claimant, now).await
    }

    async fn unclaim_buildrequests(
        &self,
        brids: &[BuildRequestId],
        claimant: Claimant,
    ) -> Result<()> {
        self.unclaim_buildrequests_impl(brids, claimant).await
    }

    async fn complete_buildrequests(
        &self,
        brids: &[BuildRequestId],
        results: Results,
        claimant: Claimant,
        now: i64,
    ) -> Result<Vec<BuildRequestId>> {
        self.complete_buildrequests_impl(brids, results, claimant, now)
            .await
    }

    async fn release_master_work(&self, masterid: MasterId, now: i64) -> Result<ReleasedWork> {
        self.release_master_work_impl(masterid, now).await
    }

    async fn set_buildrequest_priority(&self, brid: BuildRequestId, priority: i64) -> Result<()> {
        self.set_buildrequest_priority_impl(brid, priority).await
    }

    async fn add_build(
        &self,
        builderid: BuilderId,
        buildrequestid: BuildRequestId,
        workerid: WorkerId,
        claimant: Claimant,
        state_string: &str,
        now: i64,
    ) -> Result<(BuildId, i64)> {
        self.add_build_impl(
            builderid,
            buildrequestid,
            workerid,
            claimant,
            state_string,
            now,
        )
        .await
    }

    async fn set_build_state_string(
        &self,
        buildid: BuildId,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<()> {
        self.set_build_state_string_impl(buildid, state_string, claimant)
            .await
    }

    async fn finish_build(
        &self,
        buildid: BuildId,
        results: Results,
        claimant: Claimant,
        now: i64,
    ) -> Result<()> {
        self.finish_build_impl(buildid, results, claimant, now)
            .await
    }

    async fn build(&self, buildid: BuildId) -> Result<Option<Build>> {
        self.build_impl(buildid).await
    }

    async fn build_by_number(&self, builderid: BuilderId, number: i64) -> Result<Option<Build>> {
        self.build_by_number_impl(builderid, number).await
    }

    async fn builds(&self, filter: &BuildFilter) -> Result<Vec<Build>> {
        self.builds_impl(filter).await
    }

    async fn set_build_property(
        &self,
        buildid: BuildId,
        name: &str,
        value: &Value,
        source: &str,
        claimant: Claimant,
    ) -> Result<()> {
        self.set_build_property_impl(buildid, name, value, source, claimant)
            .await
    }

    async fn build_properties(&self, buildid: BuildId) -> Result<Properties> {
        self.build_properties_impl(buildid).await
    }

    async fn add_step(
        &self,
        buildid: BuildId,
        name: &str,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<(StepId, i64, String)> {
        self.add_step_impl(buildid, name, state_string, claimant)
            .await
    }

    async fn start_step(&self, stepid: StepId, claimant: Claimant, now: i64) -> Result<()> {
        self.start_step_impl(stepid, claimant, now).await
    }

    async fn set_step_state_string(
        &self,
        stepid: StepId,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<()> {
        self.set_step_state_string_impl(stepid, state_string, claimant)
            .await
    }

    async fn add_step_url(
        &self,
        stepid: StepId,
        name: &str,
        url: &str,
        claimant: Claimant,
    ) -> Result<()> {
        self.add_step_url_impl(stepid, name, url, claimant).await
    }

    async fn finish_step(
        &self,
        stepid: StepId,
        results: Results,
        hidden: bool,
        claimant: Claimant,
        now: i64,
    ) -> Result<()> {
        self.finish_step_impl(stepid, results, hidden, claimant, now)
            .await
    }

    async fn step(&self, stepid: StepId) -> Result<Option<Step>> {
        self.step_impl(stepid).await
    }

    async fn steps(&self, buildid: BuildId) -> Result<Vec<Step>> {
        self.steps_impl(buildid).await
    }

    async fn add_log(
        &self,
        stepid: StepId,
        name: &str,
        log_type: &str,
        claimant: Claimant,
    ) -> Result<LogId> {
        self.add_log_impl(stepid, name, log_type, claimant).await
    }

    async fn append_log(
        &self,
        logid: LogId,
        content: &str,
        claimant: Claimant,
    ) -> Result<AppendedLines> {
        self.append_log_impl(logid, content, claimant).await
    }

    async fn finish_log(&self, logid: LogId, claimant: Claimant) -> Result<()> {
        self.finish_log_impl(logid, claimant).await
    }

    async fn log(&self, logid: LogId) -> Result<Option<Log>> {
        self.log_impl(logid).await
    }

    async fn logs(&self, stepid: StepId) -> Result<Vec<Log>> {
        self.logs_impl(stepid).await
    }

    async fn log_lines(&self, logid: LogId, first: i64, last: i64) -> Result<String> {
        self.log_lines_impl(logid, first, last).await
    }

    async fn enqueue_build_reports(
        &self,
        reporter: &str,
        events: &[crate::OutboxEvent],
        since: i64,
        now: i64,
    ) -> Result<u64> {
        self.enqueue_build_reports_impl(reporter, events, since, now)
            .await
    }

    async fn claim_report(
        &self,
        reporter: &str,
        masterid: MasterId,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Option<crate::OutboxItem>> {
        self.claim_report_impl(reporter, masterid, now, lease_seconds)
            .await
    }

    async fn settle_report(
        &self,
        id: i64,
        masterid: MasterId,
        outcome: &crate::OutboxOutcome,
        now: i64,
    ) -> Result<bool> {
        self.settle_report_impl(id, masterid, outcome, now).await
    }

    async fn outbox(&self, reporter: &str) -> Result<Vec<crate::OutboxItem>> {
        self.outbox_impl(reporter).await
    }
}
