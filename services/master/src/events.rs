//! Publishing entity events under every routing key Buildbot uses for them
//! (reference/buildbot.md §4.2), so `/ws` clients and internal consumers see the same topics.
//!
//! The store is the truth: callers publish only after the change committed, and a failed
//! publish is logged, never returned, because consumers recover through their sweeps.

use std::sync::Arc;

use ferrobot_bus::{Bus, Event, Pattern, Topic};
use ferrobot_model::*;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Publishes entity and control events on the bus.
#[derive(Clone)]
pub struct Events {
    bus: Arc<dyn Bus>,
}

impl Events {
    /// Events published on this bus.
    pub fn new(bus: Arc<dyn Bus>) -> Events {
        Events { bus }
    }

    /// The bus itself, for subscribing.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    async fn send(&self, keys: &[Vec<String>], payload: &Value) {
        for key in keys {
            let topic = Topic(key.clone());
            if let Err(error) = self.bus.publish(&topic, payload).await {
                tracing::warn!(topic = %topic.to_path(), %error, "event not published");
            }
        }
    }

    async fn entity<T: Serialize>(&self, keys: &[Vec<String>], entity: &T) {
        match serde_json::to_value(entity) {
            Ok(payload) => self.send(keys, &payload).await,
            Err(error) => tracing::error!(%error, "event payload not serializable"),
        }
    }

    /// `masters.<id>.<event>` (started, stopped).
    pub async fn master(&self, master: &Master, event: &str) {
        self.entity(&[k(&["masters", &s(master.masterid), event])], master)
            .await;
    }

    /// `builders.<id>.<event>` (started, stopped, update).
    pub async fn builder(&self, builder: &Builder, event: &str) {
        self.entity(&[k(&["builders", &s(builder.builderid), event])], builder)
            .await;
    }

    /// `workers.<id>.<event>` (connected, disconnected, state_updated, missing).
    pub async fn worker(&self, worker: &Worker, event: &str) {
        self.entity(&[k(&["workers", &s(worker.workerid), event])], worker)
            .await;
    }

    /// `schedulers.<id>.updated` (e.g. enabled or disabled).
    pub async fn scheduler(&self, scheduler: &Scheduler) {
        self.entity(
            &[k(&["schedulers", &s(scheduler.schedulerid), "updated"])],
            scheduler,
        )
        .await;
    }

    /// `changes.<id>.new`.
    pub async fn change(&self, change: &Change) {
        self.entity(&[k(&["changes", &s(change.changeid), "new"])], change)
            .await;
    }

    /// `buildsets.<bsid>.<event>` (new, complete); `scheduler` is added to `new` payloads.
    pub async fn buildset(&self, buildset: &Buildset, event: &str, scheduler: Option<&str>) {
        let mut payload = serde_json::to_value(buildset).unwrap_or(Value::Null);
        if let (Some(name), Value::Object(map)) = (scheduler, &mut payload) {
            map.insert("scheduler".into(), Value::String(name.into()));
        }
        self.send(&[k(&["buildsets", &s(buildset.bsid), event])], &payload)
            .await;
    }

    /// A build request under its three keys (new, claimed, unclaimed, complete, cancel).
    pub async fn buildrequest(&self, request: &BuildRequest, event: &str) {
        let (bsid, builderid, brid) = (
            s(request.buildsetid),
            s(request.builderid),
            s(request.buildrequestid),
        );
        let keys = [
            k(&[
                "buildsets",
                &bsid,
                "builders",
                &builderid,
                "buildrequests",
                &brid,
                event,
            ]),
            k(&["buildrequests", &brid, event]),
            k(&["builders", &builderid, "buildrequests", &brid, event]),
        ];
        self.entity(&keys, request).await;
    }

    /// A build under its three keys (new, update, finished).
    pub async fn build(&self, build: &Build, event: &str) {
        let (builderid, number, buildid) = (s(build.builderid), s(build.number), s(build.buildid));
        let mut keys = vec![
            k(&["builders", &builderid, "builds", &number, event]),
            k(&["builds", &buildid, event]),
        ];
        if let Some(workerid) = build.workerid {
            keys.push(k(&["workers", &s(workerid), "builds", &buildid, event]));
        }
        self.entity(&keys, build).await;
    }

    /// `builds.<id>.properties.update` with only the changed properties.
    pub async fn build_properties(&self, buildid: BuildId, changed: &Properties) {
        self.entity(
            &[k(&["builds", &s(buildid), "properties", "update"])],
            changed,
        )
        .await;
    }

    /// A step under its two keys (new, started, updated, finished).
    pub async fn step(&self, step: &Step, event: &str) {
        let (buildid, stepid) = (s(step.buildid), s(step.stepid));
        let keys = [
            k(&["builds", &buildid, "steps", &stepid, event]),
            k(&["steps", &stepid, event]),
        ];
        self.entity(&keys, step).await;
    }

    /// A log under its two keys (new, append, finished).
    pub async fn log(&self, log: &Log, event: &str) {
        let keys = [
            k(&["logs", &s(log.logid), event]),
            k(&["steps", &s(log.stepid), "logs", &log.slug, event]),
        ];
        self.entity(&keys, log).await;
    }

    /// `control.builds.<id>.stop`: routed to whichever master runs the build.
    pub async fn stop_build(&self, buildid: BuildId, reason: &str) {
        let payload = serde_json::json!({ "reason": reason });
        self.send(&[k(&["control", "builds", &s(buildid), "stop"])], &payload)
            .await;
    }

    /// `control.buildrequests.<id>.cancel`.
    pub async fn cancel_buildrequest(&self, brid: BuildRequestId, reason: &str) {
        let payload = serde_json::json!({ "reason": reason });
        self.send(
            &[k(&["control", "buildrequests", &s(brid), "cancel"])],
            &payload,
        )
        .await;
    }

    /// `control.worker.<id>.<action>` (stop, kill, pause, unpause).
    pub async fn worker_control(&self, workerid: WorkerId, action: &str, reason: &str) {
        let payload = serde_json::json!({ "reason": reason });
        self.send(&[k(&["control", "worker", &s(workerid), action])], &payload)
            .await;
    }
}

fn k(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

fn s(id: i64) -> String {
    id.to_string()
}

/// Runs `handle` for each event matching `pattern` (e.g. `control.worker.*.*`) until shutdown.
/// A failed handling is logged, not fatal: the next event is handled as usual.
pub async fn consume<F, Fut>(
    bus: &Arc<dyn Bus>,
    pattern: &str,
    shutdown: CancellationToken,
    mut handle: F,
) where
    F: FnMut(Event) -> Fut,
    Fut: std::future::Future<Output = crate::Result<()>>,
{
    let mut subscription = match bus.subscribe(&Pattern::parse(pattern, '.')).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%error, pattern, "cannot subscribe");
            return;
        }
    };
    loop {
        let event = tokio::select! {
            event = subscription.next() => event,
            () = shutdown.cancelled() => return,
        };
        match event {
            Some(Ok(event)) => {
                let topic = event.topic.to_path();
                if let Err(error) = handle(event).await {
                    tracing::warn!(%error, %topic, "event not handled");
                }
            }
            Some(Err(error)) => tracing::warn!(%error, pattern, "events may have been missed"),
            None => return,
        }
    }
}
