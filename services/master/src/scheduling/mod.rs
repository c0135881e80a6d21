//! Schedulers: turn changes and force requests into buildsets with one build request per
//! builder (reference/buildbot.md §7).

use std::collections::BTreeMap;

use ferrobot_model::{BuildRequestId, BuilderId, BuildsetId};
use serde_json::Value;

use crate::Result;
use crate::context::Context;

/// A force request as the REST API's JSON-RPC `force` receives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForceRequest {
    /// Builders to build (must belong to the scheduler); empty = all of the scheduler's.
    pub builder_names: Vec<String>,
    /// The reason typed in the dialog.
    pub reason: Option<String>,
    /// Who asked (the session user or "anonymous").
    pub owner: Option<String>,
    /// Codebase fields of the default codebase.
    pub branch: Option<String>,
    /// Revision to build.
    pub revision: Option<String>,
    /// Repository.
    pub repository: Option<String>,
    /// Project.
    pub project: Option<String>,
    /// Request priority.
    pub priority: Option<i64>,
    /// Other parameters, set as properties with source "Force Build Form".
    pub properties: BTreeMap<String, Value>,
}

/// Forces a build through the named ForceScheduler: returns the buildset id and the request id
/// of each builder. Unknown scheduler: [`crate::Error::NotFound`]; a builder the scheduler does
/// not have: [`crate::Error::BadRequest`] naming it.
pub async fn force(
    ctx: &Context,
    scheduler: &str,
    request: ForceRequest,
) -> Result<(BuildsetId, BTreeMap<BuilderId, BuildRequestId>)> {
    let _ = (ctx, scheduler, request);
    Err(crate::Error::Internal("force is not implemented yet".into()))
}
