//! The `BuildmasterConfig` dict, key by key, into a [`MasterConfig`], followed by Buildbot's
//! cross-checks (see [`crate::validate`]).

use starlark::values::{Value, ValueLike};

use crate::args::{seq, type_name};
use crate::keys::{Reader, db_url, entries, plain_dict, port, string};
use crate::types::{
    BuilderConfig, ChangeSourceConfig, MasterConfig, SchedulerConfig, WorkerConfig,
};
use crate::values::{Builtin, Item, Loc, Obj, steps_of};

/// Buildbot keys Ferrobot accepts and ignores for now (each a warning).
const NOT_YET: &[&str] = &[
    "buildCacheSize",
    "changeCacheSize",
    "caches",
    "buildHorizon",
    "changeHorizon",
    "eventHorizon",
    "logHorizon",
    "logCompressionLimit",
    "logCompressionMethod",
    "logEncoding",
    "logMaxSize",
    "logMaxTailSize",
    "collapseRequests",
    "prioritizeBuilders",
    "codebaseGenerator",
    "revlink",
    "validation",
    "manhole",
    "metrics",
    "user_managers",
    "configurators",
    "debugPassword",
];

/// Where each configured object was written, index for index with the config's lists.
#[derive(Debug, Default)]
pub(crate) struct Locations {
    pub workers: Vec<Loc>,
    pub change_sources: Vec<Loc>,
    pub schedulers: Vec<Loc>,
    pub builders: Vec<Loc>,
}

/// The result of reading the dict: the config (warnings included) and every error found.
pub(crate) struct Read {
    pub config: MasterConfig,
    pub locations: Locations,
    pub errors: Vec<String>,
}

/// Reads the `BuildmasterConfig` dict. Errors that concern one key do not stop the others
/// from being read, so the user sees them all at once (as Buildbot does).
pub(crate) fn read(c: Value, filename: &str) -> Read {
    let mut config = MasterConfig::default();
    let mut locations = Locations::default();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let items = match entries(c, "BuildmasterConfig") {
        Ok(items) => items,
        Err(e) => {
            return Read {
                config,
                locations,
                errors: vec![format!("{filename}: {e}")],
            };
        }
    };
    let has = |k: &str| items.iter().any(|(key, _)| key == k);
    // Secrets are looked up once the whole dict is read, wherever the key stands in it.
    let secrets_providers = match items.iter().find(|(k, _)| k == "secretsProviders") {
        Some((_, v)) => crate::ctors::secrets::providers(*v, "c['secretsProviders']")
            .unwrap_or_else(|e| {
                errors.push(format!("{filename}: {e}"));
                Vec::new()
            }),
        None => Vec::new(),
    };
    for (key, v) in &items {
        let v = *v;
        let result = read_key(
            key,
            v,
            &mut config,
            &mut locations,
            &mut warnings,
            (has("db"), has("protocols")),
        );
        if let Err(e) = result {
            errors.push(format!("{filename}: {e}"));
        }
    }
    config.warnings = warnings
        .into_iter()
        .map(|w| format!("{filename}: {w}"))
        .collect();
    let config_dir = std::path::Path::new(filename)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    errors.extend(crate::ctors::secrets::resolve(
        &mut config,
        &secrets_providers,
        config_dir,
    ));
    Read {
        config,
        locations,
        errors,
    }
}

fn read_key(
    key: &str,
    v: Value,
    config: &mut MasterConfig,
    locations: &mut Locations,
    warnings: &mut Vec<String>,
    (has_db, has_protocols): (bool, bool),
) -> Result<(), String> {
    let what = format!("c['{key}']");
    match key {
        "title" | "projectName" => config.title = string(v, &what)?,
        "titleURL" | "projectURL" => {
            config.title_url = if v.is_none() {
                None
            } else {
                Some(string(v, &what)?)
            }
        }
        "buildbotURL" => {
            let mut url = string(v, &what)?;
            if !url.ends_with('/') {
                url.push('/');
            }
            config.buildbot_url = url;
        }
        "www" => config.www = Reader { warnings }.www(v)?,
        "db" => {
            if let Some(url) = (Reader { warnings }).db(v)? {
                config.db_url = url;
            }
        }
        // The legacy spelling; c['db'] wins when both are given, as in Buildbot.
        "db_url" if !has_db => config.db_url = db_url(v, &what)?,
        "db_url" => {}
        "protocols" => {
            if let Some(endpoint) = (Reader { warnings }).protocols(v)? {
                config.worker_port = endpoint.port;
                config.worker_interface = endpoint.interface;
                config.worker_tls = endpoint.tls;
            }
        }
        "slavePortnum" => {
            if has_protocols {
                return Err(
                    "give only c['protocols']['pb']['port'], not also the old c['slavePortnum']"
                        .to_owned(),
                );
            }
            warnings.push(
                "c['slavePortnum'] is deprecated: use c['protocols'] = {'pb': {'port': ...}}"
                    .to_owned(),
            );
            (config.worker_port, config.worker_interface) = port(v, &what)?;
        }
        "mq" => config.mq = Reader { warnings }.mq(v)?,
        "coordination" => config.coordination = Reader { warnings }.coordination(v)?,
        "multiMaster" => {
            config.multi_master = v
                .unpack_bool()
                .ok_or_else(|| format!("{what} must be True or False, not {}", type_name(v)))?
        }
        "properties" => config.properties = plain_dict(v, &what)?,
        "workers" => {
            for (i, (loc, item)) in objects(v, &what, false)?.into_iter().enumerate() {
                match item {
                    Item::Worker(w) => {
                        config.workers.push(WorkerConfig::clone(w));
                        locations.workers.push(loc);
                    }
                    _ => return Err(wrong_item(&what, i, "worker.Worker", v)),
                }
            }
        }
        "change_source" => {
            for (i, (loc, item)) in objects(v, &what, true)?.into_iter().enumerate() {
                match item {
                    Item::ChangeSource(cs) => {
                        config.change_sources.push(ChangeSourceConfig::clone(cs));
                        locations.change_sources.push(loc);
                    }
                    _ => return Err(wrong_item(&what, i, "change source", v)),
                }
            }
        }
        "schedulers" => {
            for (i, (loc, item)) in objects(v, &what, false)?.into_iter().enumerate() {
                match item {
                    Item::Scheduler(s) => {
                        config.schedulers.push(SchedulerConfig::clone(s));
                        locations.schedulers.push(loc);
                    }
                    _ => return Err(wrong_item(&what, i, "scheduler", v)),
                }
            }
        }
        "builders" => {
            for (i, (loc, item)) in objects(v, &what, false)?.into_iter().enumerate() {
                match item {
                    Item::Builder(b, steps) => {
                        let mut b = BuilderConfig::clone(b);
                        b.steps = steps_of(steps).clone();
                        config.builders.push(b);
                        locations.builders.push(loc);
                    }
                    _ => return Err(wrong_item(&what, i, "util.BuilderConfig", v)),
                }
            }
        }
        "services" => {
            for (i, (_, item)) in objects(v, &what, false)?.into_iter().enumerate() {
                match item {
                    Item::Reporter(r) => config.reporters.push(r.clone()),
                    _ => return Err(wrong_item(&what, i, "reporter", v)),
                }
            }
        }
        "status" => {
            return Err(format!(
                "{what} was removed in Buildbot 0.9: reporters go in c['services']"
            ));
        }
        "slaves" => return Err(format!("{what} is Buildbot's old name: use c['workers']")),
        // Buildbot's usage-data reporting; Ferrobot never phones home, so nothing to warn about.
        "buildbotNetUsageData" => {}
        // Read by `read` before the other keys.
        "secretsProviders" => {}
        k if NOT_YET.contains(&k) => {
            warnings.push(format!("{what} is not supported yet and is ignored"))
        }
        _ => warnings.push(format!("unknown key {what} is ignored")),
    }
    Ok(())
}

/// The Ferrobot objects of a list value (or of a single object when `single_ok`).
fn objects<'v>(v: Value<'v>, what: &str, single_ok: bool) -> Result<Vec<(Loc, &'v Item)>, String> {
    let items = match seq(v) {
        Some(items) => items,
        None if single_ok && v.downcast_ref::<Obj>().is_some() => vec![v],
        None => return Err(format!("{what} must be a list, not {}", type_name(v))),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item.downcast_ref::<Obj>() {
            Some(o) => Ok((o.loc.clone(), &o.item)),
            None => Err(match item.downcast_ref::<Builtin>() {
                Some(b) => format!("{what}[{i}]: {}", b.misuse_message()),
                None => format!(
                    "{what}[{i}] must be a Buildbot object, not {}",
                    type_name(item)
                ),
            }),
        })
        .collect()
}

fn wrong_item(what: &str, i: usize, expected: &str, list: Value) -> String {
    let got = seq(list)
        .and_then(|items| items.get(i).copied())
        .map_or_else(|| type_name(list), type_name);
    format!("{what}[{i}] must be a {expected}, not {got}")
}
