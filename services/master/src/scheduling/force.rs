//! ForceScheduler (reference/buildbot.md §7.7): a buildset on demand, from the web form or
//! the JSON-RPC `force` action.

use std::collections::BTreeMap;

use ferrobot_config::{ForceSchedulerConfig, SchedulerConfig};
use ferrobot_model::{BuildRequestId, BuilderId, BuildsetId, Properties, now_epoch};
use ferrobot_store::{NewBuildset, NewSourceStamp};
use serde_json::Value;

use super::{ForceRequest, submit_buildset};
use crate::context::Context;
use crate::{Error, Result};

/// The source Buildbot gives properties that come from the force dialog.
const FORCE_SOURCE: &str = "Force Build Form";
/// Buildbot's defaults for an empty dialog.
const DEFAULT_OWNER: &str = "anonymous";
const DEFAULT_REASON: &str = "force build";

/// Forces a build through the named ForceScheduler: returns the buildset id and the request id
/// of each builder. Unknown scheduler: [`crate::Error::NotFound`]; a builder the scheduler does
/// not have: [`crate::Error::BadRequest`] naming it.
pub async fn force(
    ctx: &Context,
    scheduler: &str,
    request: ForceRequest,
) -> Result<(BuildsetId, BTreeMap<BuilderId, BuildRequestId>)> {
    let config = ctx.config();
    let force_config = config
        .schedulers
        .iter()
        .find_map(|s| match s {
            SchedulerConfig::Force(c) if c.name == scheduler => Some(c),
            _ => None,
        })
        .ok_or_else(|| Error::NotFound(format!("no force scheduler named '{scheduler}'")))?;

    let builder_names = chosen_builders(force_config, &request.builder_names)?;
    let mut builderids = Vec::with_capacity(builder_names.len());
    for name in &builder_names {
        let builder = ctx.store.builder_by_name(name).await?.ok_or_else(|| {
            Error::BadRequest(format!("builder '{name}' is not known to the master yet"))
        })?;
        builderids.push(builder.builderid);
    }

    let owner = non_empty(request.owner.as_deref())
        .unwrap_or(DEFAULT_OWNER)
        .to_owned();
    let reason = non_empty(request.reason.as_deref())
        .unwrap_or(DEFAULT_REASON)
        .to_owned();
    let buildset = NewBuildset {
        reason: render_reason(&force_config.reason_string, &owner, &reason),
        properties: force_properties(force_config, &request, &owner, &reason),
        sourcestamps: vec![NewSourceStamp {
            branch: non_empty(request.branch.as_deref()).map(str::to_owned),
            revision: non_empty(request.revision.as_deref()).map(str::to_owned),
            repository: request.repository.clone().unwrap_or_default(),
            project: request.project.clone().unwrap_or_default(),
            codebase: String::new(),
        }],
        builderids,
        priority: request.priority.unwrap_or(0),
        submitted_at: now_epoch(),
        ..Default::default()
    };
    tracing::info!(scheduler, owner = %owner, builders = ?builder_names, "build forced");
    submit_buildset(ctx, buildset, scheduler).await
}

/// The requested builders, checked against the scheduler's; none requested means all of them.
fn chosen_builders(config: &ForceSchedulerConfig, requested: &[String]) -> Result<Vec<String>> {
    if requested.is_empty() {
        return Ok(config.builder_names.clone());
    }
    for name in requested {
        if !config.builder_names.contains(name) {
            return Err(Error::BadRequest(format!(
                "force scheduler '{}' has no builder '{name}'",
                config.name
            )));
        }
    }
    Ok(requested.to_vec())
}

/// Later entries win: configured defaults, then the dialog's fields, then `reason` and
/// `owner`, and `scheduler` last, as Buildbot lets the scheduler's own property override.
fn force_properties(
    config: &ForceSchedulerConfig,
    request: &ForceRequest,
    owner: &str,
    reason: &str,
) -> Properties {
    let mut properties = Properties::new();
    for (name, value) in config.properties.iter().chain(&request.properties) {
        properties.insert(name.clone(), (value.clone(), FORCE_SOURCE.to_owned()));
    }
    properties.insert(
        "reason".into(),
        (Value::from(reason), FORCE_SOURCE.to_owned()),
    );
    properties.insert(
        "owner".into(),
        (Value::from(owner), FORCE_SOURCE.to_owned()),
    );
    properties.insert(
        "scheduler".into(),
        (Value::from(config.name.as_str()), "Scheduler".into()),
    );
    properties
}

/// Fills Buildbot's `%(owner)s` and `%(reason)s` placeholders of `reasonString`.
fn render_reason(template: &str, owner: &str, reason: &str) -> String {
    template
        .replace("%(owner)s", owner)
        .replace("%(reason)s", reason)
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ForceSchedulerConfig {
        ForceSchedulerConfig {
            name: "force".into(),
            builder_names: vec!["a".into(), "b".into()],
            button_name: "force".into(),
            label: "force".into(),
            reason_string: "A build was forced by '%(owner)s': %(reason)s".into(),
            properties: BTreeMap::from([("level".into(), Value::from(1))]),
            parameters: Vec::new(),
        }
    }

    #[test]
    fn the_reason_template_gets_owner_and_reason() {
        assert_eq!(
            render_reason(&config().reason_string, "alice", "nightly check"),
            "A build was forced by 'alice': nightly check"
        );
    }

    #[test]
    fn no_builders_requested_means_all_of_the_schedulers() {
        assert_eq!(
            chosen_builders(&config(), &[]).ok(),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            chosen_builders(&config(), &["b".into()]).ok(),
            Some(vec!["b".into()])
        );
    }

    #[test]
    fn a_builder_outside_the_scheduler_is_refused_by_name() {
        let error = chosen_builders(&config(), &["a".into(), "zzz".into()]).err();
        assert!(
            matches!(&error, Some(Error::BadRequest(m)) if m.contains("'zzz'")),
            "{error:?}"
        );
    }

    #[test]
    fn dialog_fields_override_defaults_but_not_the_scheduler_name() {
        let request = ForceRequest {
            properties: BTreeMap::from([
                ("level".into(), Value::from(2)),
                ("scheduler".into(), Value::from("spoofed")),
            ]),
            ..Default::default()
        };
        let properties = force_properties(&config(), &request, "bob", "why");
        assert_eq!(
            properties["level"],
            (Value::from(2), FORCE_SOURCE.to_owned())
        );
        assert_eq!(
            properties["scheduler"],
            (Value::from("force"), "Scheduler".to_owned())
        );
        assert_eq!(
            properties["owner"],
            (Value::from("bob"), FORCE_SOURCE.to_owned())
        );
        assert_eq!(
            properties["reason"],
            (Value::from("why"), FORCE_SOURCE.to_owned())
        );
    }
}
