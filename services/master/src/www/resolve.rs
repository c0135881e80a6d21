//! Looking up the entities a path names; a missing one is a 404 naming it.

use ferrobot_model::{Build, Builder, Log, Step, Worker};

use crate::context::Context;
use crate::www::paths::{BuildRef, BuilderRef, LogRef, StepRef, WorkerRef};
use crate::{Error, Result};

fn missing(what: String) -> Error {
    Error::NotFound(format!("{what} not found"))
}

/// The builder a path names.
pub async fn builder(ctx: &Context, builder: &BuilderRef) -> Result<Builder> {
    match builder {
        BuilderRef::Id(id) => ctx
            .store
            .builder(*id)
            .await?
            .ok_or_else(|| missing(format!("builder {id}"))),
        BuilderRef::Name(name) => ctx
            .store
            .builder_by_name(name)
            .await?
            .ok_or_else(|| missing(format!("builder '{name}'"))),
    }
}

/// The worker a path names.
pub async fn worker(ctx: &Context, worker: &WorkerRef) -> Result<Worker> {
    match worker {
        BuilderRef::Id(id) => ctx
            .store
            .worker(*id)
            .await?
            .ok_or_else(|| missing(format!("worker {id}"))),
        BuilderRef::Name(name) => ctx
            .store
            .worker_by_name(name)
            .await?
            .ok_or_else(|| missing(format!("worker '{name}'"))),
    }
}

/// The build a path names.
pub async fn build(ctx: &Context, build: &BuildRef) -> Result<Build> {
    match build {
        BuildRef::Id(id) => ctx
            .store
            .build(*id)
            .await?
            .ok_or_else(|| missing(format!("build {id}"))),
        BuildRef::Number(builder_ref, number) => {
            let found = builder(ctx, builder_ref).await?;
            ctx.store
                .build_by_number(found.builderid, *number)
                .await?
                .ok_or_else(|| {
                    missing(format!("build number {number} of builder '{}'", found.name))
                })
        }
    }
}

/// The step a path names.
pub async fn step(ctx: &Context, step: &StepRef) -> Result<Step> {
    let (build_ref, which) = match step {
        StepRef::Id(id) => {
            return ctx
                .store
                .step(*id)
                .await?
                .ok_or_else(|| missing(format!("step {id}")));
        }
        StepRef::Number(build_ref, number) => (build_ref, format!("step number {number}")),
        StepRef::Name(build_ref, name) => (build_ref, format!("step '{name}'")),
    };
    let found = build(ctx, build_ref).await?;
    let steps = ctx.store.steps(found.buildid).await?;
    steps
        .into_iter()
        .find(|s| match step {
            StepRef::Number(_, number) => s.number == *number,
            StepRef::Name(_, name) => s.name == *name,
            StepRef::Id(id) => s.stepid == *id,
        })
        .ok_or_else(|| missing(format!("{which} of build {}", found.buildid)))
}

/// The log a path names.
pub async fn log(ctx: &Context, log: &LogRef) -> Result<Log> {
    match log {
        LogRef::Id(id) => ctx
            .store
            .log(*id)
            .await?
            .ok_or_else(|| missing(format!("log {id}"))),
        LogRef::Slug(step_ref, slug) => {
            let found = step(ctx, step_ref).await?;
            let logs = ctx.store.logs(found.stepid).await?;
            logs.into_iter()
                .find(|l| l.slug == *slug)
                .ok_or_else(|| missing(format!("log '{slug}' of step {}", found.stepid)))
        }
    }
}
