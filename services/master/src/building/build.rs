//! Running one build: properties, steps with Buildbot's result rules, and the request's fate.

use std::sync::Arc;

use ferrobot_bus::Pattern;
use ferrobot_config::{BuilderConfig, StepConfig};
use ferrobot_model::{BuildRequest, BuilderId, Properties, ResultFlags, Results, now_epoch};
use ferrobot_protocol::v1::{PathsCommand, start_command};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::log_writer::LogWriter;
use super::steps::{self, StepContext};
use crate::context::Context;
use crate::workers::WorkerConnection;
use crate::{Error, Result};

/// A claimed request, a reserved worker, and the builder to run.
pub struct BuildJob {
    /// The master.
    pub ctx: Arc<Context>,
    /// The worker, reserved for this builder by the distributor.
    pub worker: Arc<WorkerConnection>,
    /// The builder's configuration at claim time (a reconfig does not change a running build).
    pub builder: BuilderConfig,
    /// The builder's id.
    pub builderid: BuilderId,
    /// The claimed request.
    pub request: BuildRequest,
    /// Cancelled when the master shuts down: the build ends RETRY and the request runs again.
    pub shutdown: CancellationToken,
}

impl BuildJob {
    /// Runs the build to its end and completes (or, on RETRY, releases) the request.
    pub async fn run(self) {
        let brid = self.request.buildrequestid;
        // One span per build (exported as an OpenTelemetry trace when OTLP export is on),
        // with a child span per step.
        let span = tracing::info_span!(
            "build",
            builder = %self.builder.name,
            buildrequestid = brid,
            worker = %self.worker.name,
            results = tracing::field::Empty,
        );
        let outcome = self.run_build().instrument(span.clone()).await;
        self.worker.release(&self.builder.name);
        let results = match outcome {
            Ok(results) => results,
            // Another master took the request back (this master's lease lapsed): the build is
            // no longer ours to finish or settle.
            Err(Error::Store(ferrobot_store::Error::Fenced(reason))) => {
                tracing::error!(builder = %self.builder.name, brid, %reason, "build abandoned: fenced");
                return;
            }
            Err(error) => {
                tracing::error!(builder = %self.builder.name, brid, %error, "build failed to run");
                Results::Exception
            }
        };
        span.record("results", results.name());
        if let Err(error) = self.settle_request(results).instrument(span).await {
            tracing::error!(brid, %error, "build request not settled; the sweep will retry it");
        }
    }

    async fn run_build(&self) -> Result<Results> {
        let ctx = &self.ctx;
        let store = &ctx.store;
        let (buildid, number) = store
            .add_build(
                self.builderid,
                self.request.buildrequestid,
                self.worker.workerid,
                ctx.claimant(),
                "starting",
                now_epoch(),
            )
            .await?;
        tracing::info!(builder = %self.builder.name, number, worker = %self.worker.name, "build started");
        self.publish_build(buildid, "new").await;

        let stop = self.shutdown.child_token();
        let user_stop = CancellationToken::new();
        let watcher = self
            .watch_stop(buildid, user_stop.clone(), stop.clone())
            .await;
        let mut properties = self.initial_properties(buildid, number).await?;
        for (name, (value, source)) in &properties {
            store
                .set_build_property(buildid, name, value, source, ctx.claimant())
                .await?;
        }
        ctx.events.build_properties(buildid, &properties).await;
        store
            .set_build_state_string(buildid, "building", ctx.claimant())
            .await?;
        self.publish_build(buildid, "update").await;

        let mut results = self
            .worker_preparation(buildid, &mut properties, &stop)
            .await?;
        let mut terminated = results != Results::Success;
        let mut failed_step: Option<String> = None;
        for step in &self.builder.steps {
            let common = step.common();
            if (terminated || stop.is_cancelled()) && !common.always_run {
                continue;
            }
            let step_results = self.run_step(buildid, step, &mut properties, &stop).await?;
            let flags = ResultFlags {
                halt_on_failure: common.halt_on_failure,
                flunk_on_failure: common.flunk_on_failure,
                flunk_on_warnings: common.flunk_on_warnings,
                warn_on_failure: common.warn_on_failure,
                warn_on_warnings: common.warn_on_warnings,
            };
            let (new_results, terminate) = flags.apply(results, step_results);
            if new_results != results && failed_step.is_none() && new_results != Results::Success {
                failed_step = Some(common.name.clone());
            }
            results = new_results;
            terminated |= terminate;
        }
        if user_stop.is_cancelled() {
            results = results.worst(Results::Cancelled);
        } else if self.shutdown.is_cancelled() {
            // Not `worst`: the interrupted step reports CANCELLED, which would complete the
            // request instead of releasing it to run again (Buildbot's stopBuild(RETRY)).
            results = Results::Retry;
        }
        watcher.abort();
        let state = match (results, &failed_step) {
            (Results::Success, _) => "build successful".to_owned(),
            (Results::Warnings, _) => "build successful (warnings)".to_owned(),
            (Results::Failure, Some(step)) => format!("failed {step}"),
            (other, _) => other.name().to_owned(),
        };
        store
            .set_build_state_string(buildid, &state, ctx.claimant())
            .await?;
        store
            .finish_build(buildid, results, ctx.claimant(), now_epoch())
            .await?;
        self.publish_build(buildid, "finished").await;
        tracing::info!(builder = %self.builder.name, number, results = %results, "build finished");
        Ok(results)
    }

    /// Subscribes to `control.builds.<id>.stop`; a stop cancels `user_stop` and `stop`.
    async fn watch_stop(
        &self,
        buildid: i64,
        user_stop: CancellationToken,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let pattern = Pattern::new(["control", "builds", &buildid.to_string(), "stop"]);
        let subscription = self.ctx.events.bus().subscribe(&pattern).await;
        tokio::spawn(async move {
            let Ok(mut subscription) = subscription else {
                return;
            };
            while let Some(event) = subscription.next().await {
                if event.is_ok() {
                    tracing::info!(buildid, "build stop requested");
                    user_stop.cancel();
                    stop.cancel();
                    return;
                }
            }
        })
    }

    async fn initial_properties(&self, buildid: i64, number: i64) -> Result<Properties> {
        let ctx = &self.ctx;
        let config = ctx.config();
        let mut properties = Properties::new();
        let mut set = |name: &str, value: Value, source: &str| {
            properties.insert(name.to_owned(), (value, source.to_owned()));
        };
        for (name, value) in &config.properties {
            set(name, value.clone(), "master.cfg");
        }
        let buildset = ctx.store.buildset(self.request.buildsetid).await?;
        if let Some(buildset) = &buildset {
            for change in ctx.store.changes_for_build(buildid).await? {
                for (name, (value, source)) in change.properties {
                    set(&name, value, &source);
                }
            }
            for (name, (value, source)) in ctx.store.buildset_properties(buildset.bsid).await? {
                set(&name, value, &source);
            }
        }
        for (name, value) in &self.builder.properties {
            set(name, value.clone(), "Builder");
        }
        if let Some(worker) = config.workers.iter().find(|w| w.name == self.worker.name) {
            for (name, value) in &worker.properties {
                set(name, value.clone(), "Worker");
            }
        }
        set("buildnumber", Value::from(number), "Build");
        if let Some(stamp) = buildset.as_ref().and_then(|b| b.sourcestamps.first()) {
            let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
            set("branch", opt(&stamp.branch), "Build");
            set("revision", opt(&stamp.revision), "Build");
            set(
                "repository",
                Value::String(stamp.repository.clone()),
                "Build",
            );
            set("codebase", Value::String(stamp.codebase.clone()), "Build");
            set("project", Value::String(stamp.project.clone()), "Build");
        }
        set(
            "buildername",
            Value::String(self.builder.name.clone()),
            "Builder",
        );
        set("builderid", Value::from(self.builderid), "Builder");
        set(
            "workername",
            Value::String(self.worker.name.clone()),
            "Worker",
        );
        if let Some(basedir) = self.worker.info.get("basedir") {
            set("basedir", Value::String(basedir.clone()), "Worker");
            let builddir = format!("{basedir}/{}", self.builder.builddir);
            set("builddir", Value::String(builddir), "Worker");
        }
        Ok(properties)
    }

    /// Buildbot's first step: makes sure the builder's directory exists on the worker.
    async fn worker_preparation(
        &self,
        buildid: i64,
        properties: &mut Properties,
        stop: &CancellationToken,
    ) -> Result<Results> {
        let stepid = self
            .begin_step(buildid, "worker_preparation", "preparing worker")
            .await?;
        let mut log = LogWriter::create(self.ctx.clone(), stepid, "stdio").await?;
        let sc = StepContext {
            ctx: &self.ctx,
            worker: &self.worker,
            builder_name: &self.builder.name,
            builddir: &self.builder.builddir,
            buildid,
            stepid,
            properties,
            stop,
        };
        let mkdir = start_command::Command::Mkdir(PathsCommand {
            paths: vec![sc.workdir(None)],
        });
        let outcome = steps::run_remote(&sc, &mut log, mkdir, false).await?;
        log.finish().await?;
        let results = outcome.results();
        let state = format!(
            "worker {} ready{}",
            self.worker.name,
            steps::result_suffix(results)
        );
        self.end_step(stepid, results, &state).await?;
        Ok(results)
    }

    async fn run_step(
        &self,
        buildid: i64,
        step: &StepConfig,
        properties: &mut Properties,
        stop: &CancellationToken,
    ) -> Result<Results> {
        let description = steps::running_description(step);
        let stepid = self
            .begin_step(buildid, &step.common().name, &description)
            .await?;
        let mut sc = StepContext {
            ctx: &self.ctx,
            worker: &self.worker,
            builder_name: &self.builder.name,
            builddir: &self.builder.builddir,
            buildid,
            stepid,
            properties,
            stop,
        };
        let span = tracing::info_span!("step", name = %step.common().name, stepid);
        let (results, state) = match steps::run_step(&mut sc, step).instrument(span).await {
            Ok(done) => done,
            Err(error) => {
                tracing::error!(buildid, step = %step.common().name, %error, "step failed to run");
                (Results::Exception, format!("{description} (exception)"))
            }
        };
        self.end_step(stepid, results, &state).await?;
        Ok(results)
    }

    async fn begin_step(&self, buildid: i64, name: &str, state: &str) -> Result<i64> {
        let (store, claimant) = (&self.ctx.store, self.ctx.claimant());
        let (stepid, _, _) = store.add_step(buildid, name, state, claimant).await?;
        self.publish_step(stepid, "new").await;
        store.start_step(stepid, claimant, now_epoch()).await?;
        self.publish_step(stepid, "started").await;
        Ok(stepid)
    }

    async fn end_step(&self, stepid: i64, results: Results, state: &str) -> Result<()> {
        let (store, claimant) = (&self.ctx.store, self.ctx.claimant());
        store.set_step_state_string(stepid, state, claimant).await?;
        store
            .finish_step(stepid, results, false, claimant, now_epoch())
            .await?;
        self.publish_step(stepid, "finished").await;
        Ok(())
    }

    async fn publish_step(&self, stepid: i64, event: &str) {
        if let Ok(Some(step)) = self.ctx.store.step(stepid).await {
            self.ctx.events.step(&step, event).await;
        }
    }

    async fn publish_build(&self, buildid: i64, event: &str) {
        if let Ok(Some(build)) = self.ctx.store.build(buildid).await {
            self.ctx.events.build(&build, event).await;
        }
    }

    /// RETRY releases the request for another try; any other result completes it and, when it
    /// was the last one, its buildset.
    async fn settle_request(&self, results: Results) -> Result<()> {
        let ctx = &self.ctx;
        let store = &ctx.store;
        let brid = self.request.buildrequestid;
        if results == Results::Retry {
            store.unclaim_buildrequests(&[brid], ctx.claimant()).await?;
            if let Some(request) = store.buildrequest(brid).await? {
                ctx.events.buildrequest(&request, "unclaimed").await;
            }
            return Ok(());
        }
        let now = now_epoch();
        store
            .complete_buildrequests(&[brid], results, ctx.claimant(), now)
            .await?;
        if let Some(request) = store.buildrequest(brid).await? {
            ctx.events.buildrequest(&request, "complete").await;
        }
        if store
            .maybe_complete_buildset(self.request.buildsetid, now)
            .await?
            .is_some()
            && let Some(buildset) = store.buildset(self.request.buildsetid).await?
        {
            ctx.events.buildset(&buildset, "complete", None).await;
        }
        Ok(())
    }
}
