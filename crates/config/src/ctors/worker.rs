//! `worker.Worker`.

use crate::args::{Args, Spec};
use crate::types::WorkerConfig;
use crate::values::Item;

/// `worker.Worker(name, password, max_builds=None, properties=None, ...)`.
pub(crate) static WORKER: Spec = Spec {
    qualname: "worker.Worker",
    params: &["name", "password", "max_builds", "properties"],
    positional: 3,
    unsupported: &["defaultProperties", "locks", "machine_name"],
    ignored: &["keepalive_interval", "notify_on_missing", "missing_timeout"],
};

pub(crate) fn worker(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    let name = a.req_str("name")?;
    if name.is_empty() {
        return Err(a.invalid("name", "must not be empty"));
    }
    let password = a.req_str("password")?;
    let max_builds = match a.int("max_builds")? {
        None => None,
        Some(n) if n >= 1 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
        Some(n) => {
            return Err(a.invalid(
                "max_builds",
                format!("must be at least 1 (or None for no limit), got {n}"),
            ));
        }
    };
    Ok(Item::Worker(WorkerConfig {
        name,
        password,
        max_builds,
        properties: a.json_dict("properties")?,
    }))
}
