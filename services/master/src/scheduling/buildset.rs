//! The buildset a change-driven scheduler creates (reference/buildbot.md §7.1).

use std::collections::BTreeMap;

use ferrobot_config::ChangeSchedulerConfig;
use ferrobot_model::{BuilderId, Change, Properties, now_epoch};
use ferrobot_store::NewBuildset;
use serde_json::Value;

use super::Kind;
use super::submit_buildset;
use crate::Result;
use crate::context::Context;

/// Submits one buildset for these changes: the newest change's source stamp per codebase,
/// every configured builder the store knows (unknown ones are logged and skipped).
pub(super) async fn build_for_changes(
    ctx: &Context,
    kind: Kind,
    config: &ChangeSchedulerConfig,
    changes: &[Change],
) -> Result<()> {
    let mut newest_by_codebase: BTreeMap<&str, &Change> = BTreeMap::new();
    for change in changes {
        let slot = newest_by_codebase
            .entry(change.codebase.as_str())
            .or_insert(change);
        if change.changeid > slot.changeid {
            *slot = change;
        }
    }
    let builderids = known_builders(ctx, &config.name, &config.builder_names).await?;
    if builderids.is_empty() {
        // A buildset without requests would never complete.
        tracing::warn!(scheduler = %config.name, "no known builder to build the changes");
        return Ok(());
    }
    let buildset = NewBuildset {
        reason: reason(kind, config),
        properties: scheduler_properties(&config.name, &config.properties),
        sourcestamp_ids: newest_by_codebase
            .values()
            .map(|c| c.sourcestamp.ssid)
            .collect(),
        builderids,
        priority: config.priority,
        submitted_at: now_epoch(),
        ..Default::default()
    };
    submit_buildset(ctx, buildset, &config.name).await?;
    Ok(())
}

/// The configured reason, or Buildbot's default naming the class and the scheduler.
fn reason(kind: Kind, config: &ChangeSchedulerConfig) -> String {
    config.reason.clone().unwrap_or_else(|| {
        format!(
            "The {} scheduler named '{}' triggered this build",
            kind.class_name(),
            config.name
        )
    })
}

/// The ids of the scheduler's builders the store knows; unknown ones are logged and skipped.
pub(super) async fn known_builders(
    ctx: &Context,
    scheduler: &str,
    names: &[String],
) -> Result<Vec<BuilderId>> {
    let mut builderids = Vec::new();
    for name in names {
        match ctx.store.builder_by_name(name).await? {
            Some(builder) => builderids.push(builder.builderid),
            None => tracing::warn!(scheduler, builder = %name, "unknown builder skipped"),
        }
    }
    Ok(builderids)
}

/// The scheduler's properties and `scheduler` itself, all with source "Scheduler".
pub(super) fn scheduler_properties(
    scheduler: &str,
    configured: &BTreeMap<String, Value>,
) -> Properties {
    let source = || "Scheduler".to_owned();
    let mut properties: Properties = configured
        .iter()
        .map(|(name, value)| (name.clone(), (value.clone(), source())))
        .collect();
    properties.insert("scheduler".into(), (Value::from(scheduler), source()));
    properties
}
