//! The actions that create buildsets: `force` on `/forceschedulers/<name>` (JSON-RPC params →
//! [`ForceRequest`]) and `rebuild` on a build.

use axum::http::StatusCode;
use ferrobot_config::ForceSchedulerConfig;
use ferrobot_model::{Build, BuildRequestId, BuilderId, BuildsetId, now_epoch};
use ferrobot_store::{BuildFilter, NewBuildset};
use serde_json::{Map, Value, json};

use crate::Error;
use crate::context::Context;
use crate::scheduling::{self, ForceRequest};
use crate::www::rpc::{RpcError, codes};

/// Parameters with a meaning of their own; every other one becomes a property.
const KNOWN: [&str; 10] = [
    "builderNames",
    "builderid",
    "reason",
    "owner",
    "username",
    "branch",
    "revision",
    "repository",
    "project",
    "priority",
];

/// An integer given as a JSON number or as the text the web form sends.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A text field; the form sends `""` for a field left empty, which means "not given".
fn text(params: &Map<String, Value>, name: &str) -> Result<Option<String>, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RpcError::invalid_params(format!(
            "'{name}' must be a string"
        ))),
    }
}

/// Checks the builders asked for and forces the build; returns `[bsid, {builderid: brid}]`.
pub async fn force(
    ctx: &Context,
    scheduler: &ForceSchedulerConfig,
    params: Map<String, Value>,
) -> Result<Value, RpcError> {
    let mut builder_names = match params.get("builderNames") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| n.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| RpcError::invalid_params("'builderNames' must be a list of strings"))?,
        Some(_) => {
            return Err(RpcError::invalid_params(
                "'builderNames' must be a list of strings",
            ));
        }
    };
    if let Some(value) = params.get("builderid").filter(|v| !v.is_null()) {
        let builderid = integer(value)
            .ok_or_else(|| RpcError::invalid_params("'builderid' must be an integer"))?;
        let builder = ctx.store.builder(builderid).await?.ok_or_else(|| {
            RpcError::new(
                StatusCode::NOT_FOUND,
                codes::INVALID_PARAMS,
                format!("builder {builderid} not found"),
            )
        })?;
        builder_names.push(builder.name);
    }
    if let Some(name) = builder_names
        .iter()
        .find(|n| !scheduler.builder_names.contains(n))
    {
        return Err(RpcError::invalid_params(format!(
            "builder '{name}' is not a builder of forcescheduler '{}'",
            scheduler.name
        )));
    }
    let priority = match params.get("priority") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(value) => Some(
            integer(value)
                .ok_or_else(|| RpcError::invalid_params("'priority' must be an integer"))?,
        ),
    };
    // With no authentication every caller is anonymous, so the name typed in the form is the
    // best owner there is (Buildbot does the same).
    let owner = text(&params, "username")?
        .or(text(&params, "owner")?)
        .unwrap_or_else(|| "anonymous".to_owned());
    let request = ForceRequest {
        builder_names,
        reason: text(&params, "reason")?,
        owner: Some(owner),
        branch: text(&params, "branch")?,
        revision: text(&params, "revision")?,
        repository: text(&params, "repository")?,
        project: text(&params, "project")?,
        priority,
        properties: form_properties(scheduler, &params)?,
    };
    let (bsid, brids) = scheduling::force(ctx, &scheduler.name, request).await?;
    Ok(submitted(bsid, brids))
}

/// The properties the form sets: the scheduler's declared fields, validated; without declared
/// fields, every parameter without a meaning of its own, as given.
fn form_properties(
    scheduler: &ForceSchedulerConfig,
    params: &Map<String, Value>,
) -> Result<std::collections::BTreeMap<String, Value>, RpcError> {
    if scheduler.parameters.is_empty() {
        return Ok(params
            .iter()
            .filter(|(name, _)| !KNOWN.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect());
    }
    scheduling::force_params::collect(&scheduler.parameters, params)
        .map_err(RpcError::invalid_params)
}

/// Buildbot's answer to force and rebuild: `[bsid, {"<builderid>": brid}]`.
fn submitted(
    bsid: BuildsetId,
    brids: impl IntoIterator<Item = (BuilderId, BuildRequestId)>,
) -> Value {
    let brids: Map<String, Value> = brids
        .into_iter()
        .map(|(builderid, brid)| (builderid.to_string(), json!(brid)))
        .collect();
    json!([bsid, brids])
}

/// `rebuild`: a copy of the build's buildset (properties, source stamps, parent) for its
/// builder alone, after Buildbot's `rebuildBuildrequest`. `rebuilt_buildid` names the first
/// build of the original, so rebuilding a rebuild still points at the original build.
pub async fn rebuild(ctx: &Context, build: &Build) -> Result<Value, RpcError> {
    let brid = build.buildrequestid;
    let request = ctx
        .store
        .buildrequest(brid)
        .await?
        .ok_or_else(|| Error::NotFound(format!("buildrequest {brid} not found")))?;
    let bsid = request.buildsetid;
    let buildset = ctx
        .store
        .buildset(bsid)
        .await?
        .ok_or_else(|| Error::NotFound(format!("buildset {bsid} not found")))?;
    let first_build = ctx
        .store
        .builds(&BuildFilter {
            buildrequestid: Some(brid),
            ..BuildFilter::default()
        })
        .await?
        .first()
        .map(|b| b.buildid);
    let copy = NewBuildset {
        reason: "rebuild".to_owned(),
        external_idstring: buildset.external_idstring.clone(),
        properties: ctx.store.buildset_properties(bsid).await?,
        sourcestamp_ids: buildset.sourcestamps.iter().map(|s| s.ssid).collect(),
        builderids: vec![request.builderid],
        // Buildbot resets the priority to 0; keeping it spares users a rebuild that waits
        // behind the queue its original jumped.
        priority: request.priority,
        parent_buildid: buildset.parent_buildid,
        rebuilt_buildid: buildset.rebuilt_buildid.or(first_build),
        submitted_at: now_epoch(),
        ..NewBuildset::default()
    };
    let (new_bsid, brids) = scheduling::submit_buildset(ctx, copy, "rebuild").await?;
    tracing::info!(buildid = build.buildid, bsid = new_bsid, "build rebuilt");
    Ok(submitted(new_bsid, brids))
}
