//! Reading what an [`Endpoint`] names from the store, as entity JSON for the query engine.

use ferrobot_model::Properties;
use ferrobot_store::{BuildRequestFilter, ListQuery, Listed};
use serde::Serialize;
use serde_json::Value;

use crate::context::Context;
use crate::www::listing::{Listing, push_down, restricted_to};
use crate::www::paths::Endpoint;
use crate::www::query::Query;
use crate::www::{forcesched, resolve};
use crate::{Error, Result};

/// What an endpoint returned, before the query engine.
#[derive(Debug)]
pub enum Data {
    /// A collection, in the store's order.
    Collection(Vec<Value>),
    /// A page the store already filtered, ordered and paged, with the total before paging.
    Page {
        /// The page's entities.
        items: Vec<Value>,
        /// How many passed the filters.
        total: usize,
    },
    /// One resource.
    Single(Value),
}

/// Collections listed at `/api/v2`, alphabetically.
const ROOT_LINKS: [&str; 13] = [
    "builders",
    "buildrequests",
    "builds",
    "buildsets",
    "changes",
    "changesources",
    "forceschedulers",
    "masters",
    "projects",
    "schedulers",
    "sourcestamps",
    "test_result_sets",
    "workers",
];

/// Entity JSON of anything serialisable.
pub fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("entity to JSON: {e}")))
}

fn list<T: Serialize>(items: &[T]) -> Result<Data> {
    Ok(Data::Collection(
        items.iter().map(to_json).collect::<Result<_>>()?,
    ))
}

fn page<T: Serialize>(listed: Listed<T>) -> Result<Data> {
    Ok(Data::Page {
        items: listed.items.iter().map(to_json).collect::<Result<_>>()?,
        total: usize::try_from(listed.total).unwrap_or(0),
    })
}

fn single<T: Serialize>(item: Option<T>, what: impl FnOnce() -> String) -> Result<Data> {
    match item {
        Some(item) => Ok(Data::Single(to_json(&item)?)),
        None => Err(Error::NotFound(format!("{} not found", what()))),
    }
}

async fn check_master(ctx: &Context, masterid: i64) -> Result<()> {
    match ctx.store.master(masterid).await? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("master {masterid} not found"))),
    }
}

/// Reads the data of an endpoint; `query` supplies filters the store can apply itself.
pub async fn fetch(ctx: &Context, endpoint: &Endpoint, query: &Query) -> Result<Data> {
    use Endpoint as E;
    let store = &ctx.store;
    match endpoint {
        E::Root => Ok(Data::Collection(
            ROOT_LINKS
                .iter()
                .map(|name| serde_json::json!({ "name": name }))
                .collect(),
        )),
        E::Builders { master, worker } => {
            let mut builders = store.builders().await?;
            if let Some(masterid) = master {
                check_master(ctx, *masterid).await?;
                builders.retain(|b| b.masterids.contains(masterid));
            }
            if let Some(worker_ref) = worker {
                let found = resolve::worker(ctx, worker_ref).await?;
                builders.retain(|b| {
                    found
                        .configured_on
                        .iter()
                        .any(|c| c.builderid == b.builderid)
                });
            }
            list(&builders)
        }
        E::Builder(builder_ref) => Ok(Data::Single(to_json(
            &resolve::builder(ctx, builder_ref).await?,
        )?)),
        E::Builds {
            builder,
            buildrequest,
            worker,
        } => {
            // The path's restriction is added to the query's own filters.
            let mut restrictions = Vec::new();
            if let Some(builder_ref) = builder {
                let builderid = resolve::builder(ctx, builder_ref).await?.builderid;
                restrictions.push(restricted_to("builderid", builderid));
            }
            if let Some(brid) = buildrequest {
                if store.buildrequest(*brid).await?.is_none() {
                    return Err(Error::NotFound(format!("buildrequest {brid} not found")));
                }
                restrictions.push(restricted_to("buildrequestid", *brid));
            }
            if let Some(worker_ref) = worker {
                let workerid = resolve::worker(ctx, worker_ref).await?.workerid;
                restrictions.push(restricted_to("workerid", workerid));
            }
            match push_down(Listing::Builds, query, restrictions.clone()) {
                Some(listing) => page(store.list_builds(&listing).await?),
                None => {
                    let mut listing = ListQuery {
                        conditions: restrictions,
                        ..ListQuery::default()
                    };
                    // Cheap equalities still narrow what is read; the engine runs them again.
                    for field in ["builderid", "buildrequestid", "workerid", "masterid"] {
                        if let Some(value) = query.eq_integer(field) {
                            listing.conditions.push(restricted_to(field, value));
                        }
                    }
                    if let Some(complete) = query.eq_boolean("complete") {
                        listing
                            .conditions
                            .push(restricted_to("complete", i64::from(complete)));
                    }
                    list(&store.list_builds(&listing).await?.items)
                }
            }
        }
        E::Build(build_ref) => Ok(Data::Single(to_json(
            &resolve::build(ctx, build_ref).await?,
        )?)),
        E::BuildProperties(build_ref) => {
            let build = resolve::build(ctx, build_ref).await?;
            Ok(Data::Single(to_json(
                &store.build_properties(build.buildid).await?,
            )?))
        }
        E::BuildChanges(build_ref) => {
            let build = resolve::build(ctx, build_ref).await?;
            list(&store.changes_for_build(build.buildid).await?)
        }
        E::Steps(build_ref) => {
            let build = resolve::build(ctx, build_ref).await?;
            list(&store.steps(build.buildid).await?)
        }
        E::Step(step_ref) => Ok(Data::Single(to_json(&resolve::step(ctx, step_ref).await?)?)),
        E::Logs(step_ref) => {
            let step = resolve::step(ctx, step_ref).await?;
            list(&store.logs(step.stepid).await?)
        }
        E::Log(log_ref) => Ok(Data::Single(to_json(&resolve::log(ctx, log_ref).await?)?)),
        E::LogData(..) => Err(Error::Internal(
            "log contents are served by the logs module".into(),
        )),
        E::BuildRequests { builder } => {
            let builderid = match builder {
                Some(builder_ref) => Some(resolve::builder(ctx, builder_ref).await?.builderid),
                None => None,
            };
            let restrictions = builderid
                .map(|id| vec![restricted_to("builderid", id)])
                .unwrap_or_default();
            if let Some(listing) = push_down(Listing::BuildRequests, query, restrictions) {
                return page(store.list_buildrequests(&listing).await?);
            }
            let mut filter = BuildRequestFilter {
                builderid: query.eq_integer("builderid"),
                buildsetid: query.eq_integer("buildsetid"),
                complete: query.eq_boolean("complete"),
                claimed: query.eq_boolean("claimed"),
                claimed_by_masterid: query.eq_integer("claimed_by_masterid"),
            };
            if builderid.is_some() {
                filter.builderid = builderid;
            }
            list(&store.buildrequests(&filter).await?)
        }
        E::BuildRequest(brid) => single(store.buildrequest(*brid).await?, || {
            format!("buildrequest {brid}")
        }),
        E::Buildsets => list(&store.buildsets(query.eq_boolean("complete")).await?),
        E::Buildset(bsid) => single(store.buildset(*bsid).await?, || format!("buildset {bsid}")),
        E::BuildsetSourcestamps(bsid) => match store.buildset(*bsid).await? {
            Some(buildset) => list(&buildset.sourcestamps),
            None => Err(Error::NotFound(format!("buildset {bsid} not found"))),
        },
        E::Sourcestamps => list(&store.sourcestamps().await?),
        E::Sourcestamp(ssid) => single(store.sourcestamp(*ssid).await?, || {
            format!("sourcestamp {ssid}")
        }),
        E::SourcestampChanges(ssid) => {
            if store.sourcestamp(*ssid).await?.is_none() {
                return Err(Error::NotFound(format!("sourcestamp {ssid} not found")));
            }
            let mut changes = store.changes(None).await?;
            changes.retain(|c| c.sourcestamp.ssid == *ssid);
            list(&changes)
        }
        E::Changes => match push_down(Listing::Changes, query, Vec::new()) {
            Some(listing) => page(store.list_changes(&listing).await?),
            // Buildbot lists changes by id; `changes()` is newest first.
            None => list(&store.list_changes(&ListQuery::default()).await?.items),
        },
        E::Change(id) => single(store.change(*id).await?, || format!("change {id}")),
        E::Workers { master, builder } => {
            let mut workers = store.workers().await?;
            if let Some(masterid) = master {
                check_master(ctx, *masterid).await?;
                for worker in &mut workers {
                    worker.connected_to.retain(|c| c.masterid == *masterid);
                    worker.configured_on.retain(|c| c.masterid == *masterid);
                }
                workers.retain(|w| !w.connected_to.is_empty() || !w.configured_on.is_empty());
            }
            if let Some(builder_ref) = builder {
                let builderid = resolve::builder(ctx, builder_ref).await?.builderid;
                for worker in &mut workers {
                    worker.configured_on.retain(|c| c.builderid == builderid);
                }
                workers.retain(|w| !w.configured_on.is_empty());
            }
            list(&workers)
        }
        E::Worker(worker_ref) => Ok(Data::Single(to_json(
            &resolve::worker(ctx, worker_ref).await?,
        )?)),
        E::Masters { builder } => {
            let mut masters = store.masters().await?;
            if let Some(builder_ref) = builder {
                let found = resolve::builder(ctx, builder_ref).await?;
                masters.retain(|m| found.masterids.contains(&m.masterid));
            }
            list(&masters)
        }
        E::Master(id) => single(store.master(*id).await?, || format!("master {id}")),
        E::Schedulers { master } => {
            let mut schedulers = store.schedulers().await?;
            if let Some(masterid) = master {
                check_master(ctx, *masterid).await?;
                schedulers.retain(|s| s.master.as_ref().is_some_and(|m| m.masterid == *masterid));
            }
            list(&schedulers)
        }
        E::Scheduler(id) => {
            let found = store
                .schedulers()
                .await?
                .into_iter()
                .find(|s| s.schedulerid == *id);
            single(found, || format!("scheduler {id}"))
        }
        E::ChangeSources { master } => {
            let mut sources = store.changesources().await?;
            if let Some(masterid) = master {
                check_master(ctx, *masterid).await?;
                sources.retain(|s| s.master.as_ref().is_some_and(|m| m.masterid == *masterid));
            }
            list(&sources)
        }
        E::ChangeSource(id) => {
            let found = store
                .changesources()
                .await?
                .into_iter()
                .find(|s| s.changesourceid == *id);
            single(found, || format!("changesource {id}"))
        }
        E::ForceSchedulers { builder } => {
            let config = ctx.config();
            let mut schedulers = forcesched::configured(&config);
            if let Some(builder_ref) = builder {
                let found = resolve::builder(ctx, builder_ref).await?;
                schedulers.retain(|s| s.builder_names.contains(&found.name));
            }
            Ok(Data::Collection(
                schedulers.into_iter().map(forcesched::to_json).collect(),
            ))
        }
        E::More(more) => crate::www::fetch_more::fetch(ctx, more, query).await,
        E::ForceScheduler(name) => {
            let config = ctx.config();
            let found = forcesched::configured(&config)
                .into_iter()
                .find(|s| s.name == *name);
            match found {
                Some(scheduler) => Ok(Data::Single(forcesched::to_json(scheduler))),
                None => Err(Error::NotFound(format!(
                    "forcescheduler '{name}' not found"
                ))),
            }
        }
    }
}

/// Fills in the `properties` of builds and build requests asked for with `property=`
/// (Buildbot leaves them empty otherwise, to spare the database).
pub async fn fill_properties(
    ctx: &Context,
    endpoint: &Endpoint,
    query: &Query,
    items: &mut [Value],
) -> Result<()> {
    if !query.wants_properties() {
        return Ok(());
    }
    let is_build = matches!(endpoint, Endpoint::Builds { .. } | Endpoint::Build(_));
    let is_request = matches!(
        endpoint,
        Endpoint::BuildRequests { .. } | Endpoint::BuildRequest(_)
    );
    for item in items {
        let properties = if is_build {
            let Some(buildid) = item.get("buildid").and_then(Value::as_i64) else {
                continue;
            };
            selected(query, ctx.store.build_properties(buildid).await?)
        } else if is_request {
            let Some(bsid) = item.get("buildsetid").and_then(Value::as_i64) else {
                continue;
            };
            let properties = selected(query, ctx.store.buildset_properties(bsid).await?);
            // Buildbot leaves a request's properties null when none of the asked ones exist.
            if properties.is_empty() {
                continue;
            }
            properties
        } else {
            return Ok(());
        };
        if let Value::Object(map) = item {
            map.insert("properties".into(), to_json(&properties)?);
        }
    }
    Ok(())
}

fn selected(query: &Query, mut properties: Properties) -> Properties {
    properties.retain(|name, _| query.wants_property(name));
    properties
}
