//! Buildbot's cross-checks between the parts of a configuration (`config/master.py`
//! `check_*`): unique names, schedulers naming real builders, builders naming real workers.

use std::collections::BTreeMap;

use crate::master::Locations;
use crate::types::{ChangeSourceConfig, MasterConfig};
use crate::values::Loc;

/// Returns the errors; adds warnings to `config.warnings`.
pub(crate) fn check(config: &mut MasterConfig, locs: &Locations) -> Vec<String> {
    let mut errors = Vec::new();

    let workers = unique(
        config.workers.iter().map(|w| w.name.as_str()),
        &locs.workers,
        "worker",
        &mut errors,
    );
    unique(
        config.change_sources.iter().map(|c| match c {
            ChangeSourceConfig::GitPoller(g) => g.name.as_str(),
        }),
        &locs.change_sources,
        "change source",
        &mut errors,
    );
    unique(
        config.schedulers.iter().map(|s| s.name()),
        &locs.schedulers,
        "scheduler",
        &mut errors,
    );
    let builders = unique(
        config.builders.iter().map(|b| b.name.as_str()),
        &locs.builders,
        "builder",
        &mut errors,
    );
    let mut builddirs: BTreeMap<&str, &str> = BTreeMap::new();
    for (b, loc) in config.builders.iter().zip(&locs.builders) {
        if let Some(other) = builddirs.insert(&b.builddir, &b.name)
            && other != b.name
        {
            errors.push(format!(
                "{loc}: builders '{other}' and '{}' use the same builddir '{}'",
                b.name, b.builddir
            ));
        }
    }

    for (s, loc) in config.schedulers.iter().zip(&locs.schedulers) {
        for name in s.builder_names() {
            if !builders.contains_key(name.as_str()) {
                errors.push(format!(
                    "{loc}: scheduler '{}' names unknown builder '{name}'",
                    s.name()
                ));
            }
        }
    }

    for (b, loc) in config.builders.iter().zip(&locs.builders) {
        for w in &b.worker_names {
            if !workers.contains_key(w.as_str()) {
                config.warnings.push(format!(
                    "{loc}: builder '{}' uses unknown worker '{w}' (not in c['workers']); \
                     it will not run until such a worker is configured",
                    b.name
                ));
            }
        }
    }
    errors
}

/// Reports duplicate names; returns each name with where it was first defined.
fn unique<'a>(
    names: impl Iterator<Item = &'a str>,
    locs: &'a [Loc],
    what: &str,
    errors: &mut Vec<String>,
) -> BTreeMap<&'a str, &'a Loc> {
    let mut seen: BTreeMap<&str, &Loc> = BTreeMap::new();
    for (name, loc) in names.zip(locs) {
        if let Some(first) = seen.get(name) {
            errors.push(format!(
                "{loc}: duplicate {what} name '{name}' (first defined at {first})"
            ));
        } else {
            seen.insert(name, loc);
        }
    }
    seen
}
