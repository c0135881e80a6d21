//! Reading the endpoints of [`More`]. Ferrobot stores no projects, test results or build
//! data yet (master.cfg cannot create them), so those collections are empty with Buildbot's
//! shape, and their single resources are 404s.

use ferrobot_model::Properties;
use serde_json::{Value, json};

use crate::context::Context;
use crate::www::fetch::{self, Data, to_json};
use crate::www::paths::{BuilderRef, Endpoint, More, PropertyOwner, TestScope};
use crate::www::query::Query;
use crate::www::resources::{self as res, ResourceType};
use crate::www::{resolve, resources_extra as extra};
use crate::{Error, Result};

fn empty() -> Result<Data> {
    Ok(Data::Collection(Vec::new()))
}

fn missing(what: String) -> Error {
    Error::NotFound(format!("{what} not found"))
}

/// One item of a main collection endpoint, picked by a field.
async fn pick(
    ctx: &Context,
    collection: Endpoint,
    query: &Query,
    field: &str,
    wanted: &BuilderRef,
    what: String,
) -> Result<Data> {
    let Data::Collection(items) = Box::pin(fetch::fetch(ctx, &collection, query)).await? else {
        return Err(Error::Internal(
            "a collection endpoint returned one item".into(),
        ));
    };
    let found = items.into_iter().find(|item| match wanted {
        BuilderRef::Id(id) => item.get(field).and_then(Value::as_i64) == Some(*id),
        BuilderRef::Name(name) => item.get("name").and_then(Value::as_str) == Some(name),
    });
    found.map(Data::Single).ok_or_else(|| missing(what))
}

fn property_entries(properties: Properties) -> Result<Data> {
    let mut entries = Vec::new();
    for (name, (value, source)) in properties {
        let text = serde_json::to_string(&value)
            .map_err(|e| Error::Internal(format!("property {name} to JSON: {e}")))?;
        entries.push(json!({ "name": name, "source": source, "value": text }));
    }
    Ok(Data::Collection(entries))
}

/// Reads one of [`More`]'s endpoints.
pub async fn fetch(ctx: &Context, more: &More, query: &Query) -> Result<Data> {
    use More as M;
    let store = &ctx.store;
    match more {
        M::Projects => empty(),
        M::Project(p) | M::ProjectBuilders(p) => Err(missing(format!("project {}", describe(p)))),
        M::TestResultSets(scope) => {
            match scope {
                TestScope::All => {}
                TestScope::Builder(b) => {
                    resolve::builder(ctx, b).await?;
                }
                TestScope::Build(b) => {
                    resolve::build(ctx, b).await?;
                }
                TestScope::Step(s) => {
                    resolve::step(ctx, s).await?;
                }
            }
            empty()
        }
        M::TestResultSet(n) | M::TestResults(n) => Err(missing(format!("test_result_set {n}"))),
        M::Spec => Ok(Data::Collection(spec())),
        M::BuildData(b) => {
            resolve::build(ctx, b).await?;
            empty()
        }
        M::PropertyList(owner) => match owner {
            PropertyOwner::Build(b) => {
                let build = resolve::build(ctx, b).await?;
                property_entries(store.build_properties(build.buildid).await?)
            }
            PropertyOwner::Buildset(bsid) => {
                if store.buildset(*bsid).await?.is_none() {
                    return Err(missing(format!("buildset {bsid}")));
                }
                property_entries(store.buildset_properties(*bsid).await?)
            }
            PropertyOwner::Change(id) => match store.change(*id).await? {
                Some(change) => property_entries(change.properties),
                None => Err(missing(format!("change {id}"))),
            },
        },
        M::BuildsetProperties(bsid) => {
            if store.buildset(*bsid).await?.is_none() {
                return Err(missing(format!("buildset {bsid}")));
            }
            Ok(Data::Single(to_json(
                &store.buildset_properties(*bsid).await?,
            )?))
        }
        M::MasterScheduler(m, n) => {
            let all = Endpoint::Schedulers { master: Some(*m) };
            let what = format!("scheduler {n} of master {m}");
            pick(ctx, all, query, "schedulerid", &BuilderRef::Id(*n), what).await
        }
        M::MasterChangeSource(m, n) => {
            let all = Endpoint::ChangeSources { master: Some(*m) };
            let what = format!("changesource {n} of master {m}");
            pick(ctx, all, query, "changesourceid", &BuilderRef::Id(*n), what).await
        }
        M::MasterBuilder(m, b) => {
            let all = Endpoint::Builders {
                master: Some(*m),
                worker: None,
            };
            let what = format!("builder {} of master {m}", describe(b));
            pick(ctx, all, query, "builderid", b, what).await
        }
        M::BuilderMaster(b, n) => {
            let all = Endpoint::Masters {
                builder: Some(b.clone()),
            };
            let what = format!("master {n} of builder {}", describe(b));
            pick(ctx, all, query, "masterid", &BuilderRef::Id(*n), what).await
        }
        M::MasterWorker(m, w) => {
            let all = Endpoint::Workers {
                master: Some(*m),
                builder: None,
            };
            let what = format!("worker {} of master {m}", describe(w));
            pick(ctx, all, query, "workerid", w, what).await
        }
        M::BuilderWorker(b, w) => {
            let all = Endpoint::Workers {
                master: None,
                builder: Some(b.clone()),
            };
            let what = format!("worker {} of builder {}", describe(w), describe(b));
            pick(ctx, all, query, "workerid", w, what).await
        }
        M::MasterBuilderWorkers(m, b) | M::MasterBuilderWorker(m, b, _) => {
            let builderid = resolve::builder(ctx, b).await?.builderid;
            let all = Endpoint::Workers {
                master: Some(*m),
                builder: None,
            };
            let Data::Collection(mut workers) = Box::pin(fetch::fetch(ctx, &all, query)).await?
            else {
                return Err(Error::Internal("workers returned one item".into()));
            };
            // Only this builder's configurations on this master, as Buildbot restricts them.
            for worker in &mut workers {
                if let Some(Value::Array(on)) = worker.get_mut("configured_on") {
                    on.retain(|c| c.get("builderid").and_then(Value::as_i64) == Some(builderid));
                }
            }
            workers.retain(|w| {
                w.get("configured_on")
                    .and_then(Value::as_array)
                    .is_some_and(|on| !on.is_empty())
            });
            match more {
                M::MasterBuilderWorker(_, _, w) => {
                    let found = workers.into_iter().find(|item| match w {
                        BuilderRef::Id(id) => item["workerid"].as_i64() == Some(*id),
                        BuilderRef::Name(name) => item["name"].as_str() == Some(name),
                    });
                    found.map(Data::Single).ok_or_else(|| {
                        missing(format!(
                            "worker {} of builder {} on master {m}",
                            describe(w),
                            describe(b)
                        ))
                    })
                }
                _ => Ok(Data::Collection(workers)),
            }
        }
    }
}

fn describe(r: &BuilderRef) -> String {
    match r {
        BuilderRef::Id(id) => id.to_string(),
        BuilderRef::Name(name) => format!("'{name}'"),
    }
}

/// The endpoints Ferrobot serves, as `/application.spec` lists them (Buildbot's path syntax:
/// `n:` integer, `i:` identifier, `s:` string).
const SPEC_PATHS: &[(&str, &ResourceType)] = &[
    ("builders", &res::BUILDER),
    ("builders/n:builderid", &res::BUILDER),
    ("builders/s:buildername", &res::BUILDER),
    ("masters/n:masterid/builders", &res::BUILDER),
    ("masters/n:masterid/builders/n:builderid", &res::BUILDER),
    ("workers/n:workerid/builders", &res::BUILDER),
    ("builds", &res::BUILD),
    ("builds/n:buildid", &res::BUILD),
    ("builders/n:builderid/builds", &res::BUILD),
    ("builders/n:builderid/builds/n:number", &res::BUILD),
    ("buildrequests/n:buildrequestid/builds", &res::BUILD),
    ("workers/n:workerid/builds", &res::BUILD),
    ("builds/n:buildid/properties", &res::PROPERTIES),
    ("builds/n:buildid/property_list", &extra::PROPERTY_ENTRY),
    ("builds/n:buildid/data", &extra::BUILD_DATA),
    ("builds/n:buildid/changes", &res::CHANGE),
    ("builds/n:buildid/steps", &res::STEP),
    ("builds/n:buildid/steps/i:step_name", &res::STEP),
    ("builds/n:buildid/steps/n:step_number", &res::STEP),
    ("steps/n:stepid", &res::STEP),
    ("steps/n:stepid/logs", &res::LOG),
    ("steps/n:stepid/logs/i:log_slug", &res::LOG),
    ("logs/n:logid", &res::LOG),
    ("logs/n:logid/contents", &res::LOGCHUNK),
    ("logs/n:logid/raw", &res::LOGCHUNK),
    ("logs/n:logid/raw_inline", &res::LOGCHUNK),
    ("buildrequests", &res::BUILDREQUEST),
    ("buildrequests/n:buildrequestid", &res::BUILDREQUEST),
    ("builders/n:builderid/buildrequests", &res::BUILDREQUEST),
    ("buildsets", &res::BUILDSET),
    ("buildsets/n:bsid", &res::BUILDSET),
    ("buildsets/n:bsid/properties", &res::PROPERTIES),
    ("buildsets/n:bsid/properties_list", &extra::PROPERTY_ENTRY),
    ("buildsets/n:bsid/sourcestamps", &res::SOURCESTAMP),
    ("sourcestamps", &res::SOURCESTAMP),
    ("sourcestamps/n:ssid", &res::SOURCESTAMP),
    ("sourcestamps/n:ssid/changes", &res::CHANGE),
    ("changes", &res::CHANGE),
    ("changes/n:changeid", &res::CHANGE),
    ("changes/n:changeid/properties_list", &extra::PROPERTY_ENTRY),
    ("changesources", &res::CHANGESOURCE),
    ("changesources/n:changesourceid", &res::CHANGESOURCE),
    ("masters/n:masterid/changesources", &res::CHANGESOURCE),
    (
        "masters/n:masterid/changesources/n:changesourceid",
        &res::CHANGESOURCE,
    ),
    ("schedulers", &res::SCHEDULER),
    ("schedulers/n:schedulerid", &res::SCHEDULER),
    ("masters/n:masterid/schedulers", &res::SCHEDULER),
    (
        "masters/n:masterid/schedulers/n:schedulerid",
        &res::SCHEDULER,
    ),
    ("forceschedulers", &res::FORCESCHEDULER),
    ("forceschedulers/i:schedulername", &res::FORCESCHEDULER),
    ("builders/n:builderid/forceschedulers", &res::FORCESCHEDULER),
    ("masters", &res::MASTER),
    ("masters/n:masterid", &res::MASTER),
    ("builders/n:builderid/masters", &res::MASTER),
    ("builders/n:builderid/masters/n:masterid", &res::MASTER),
    ("workers", &res::WORKER),
    ("workers/n:workerid", &res::WORKER),
    ("workers/i:name", &res::WORKER),
    ("masters/n:masterid/workers", &res::WORKER),
    ("masters/n:masterid/workers/n:workerid", &res::WORKER),
    ("builders/n:builderid/workers", &res::WORKER),
    ("builders/n:builderid/workers/n:workerid", &res::WORKER),
    (
        "masters/n:masterid/builders/n:builderid/workers",
        &res::WORKER,
    ),
    ("projects", &extra::PROJECT),
    ("projects/n:projectid", &extra::PROJECT),
    ("projects/n:projectid/builders", &res::BUILDER),
    ("test_result_sets", &extra::TEST_RESULT_SET),
    (
        "test_result_sets/n:test_result_setid",
        &extra::TEST_RESULT_SET,
    ),
    (
        "builders/n:builderid/test_result_sets",
        &extra::TEST_RESULT_SET,
    ),
    ("builds/n:buildid/test_result_sets", &extra::TEST_RESULT_SET),
    ("steps/n:stepid/test_result_sets", &extra::TEST_RESULT_SET),
    (
        "test_result_sets/n:test_result_setid/results",
        &extra::TEST_RESULT,
    ),
];

fn spec() -> Vec<Value> {
    SPEC_PATHS
        .iter()
        .map(|(path, rtype)| {
            let fields: Vec<Value> = rtype
                .fields
                .iter()
                .map(|field| {
                    let kind = field.kind.describe();
                    json!({ "name": field.name, "type": kind, "nullable": field.nullable })
                })
                .collect();
            json!({
                "path": path,
                "type": rtype.name,
                "plural": rtype.plural,
                "type_spec": { "name": rtype.name, "fields": fields },
            })
        })
        .collect()
}
