//! `schedulers.SingleBranchScheduler`, `schedulers.AnyBranchScheduler`,
//! `schedulers.ForceScheduler`.

use crate::args::{Args, Spec, err, seq};
use crate::types::{ChangeFilter, ChangeSchedulerConfig, ForceSchedulerConfig, SchedulerConfig};
use crate::values::Item;

/// Buildbot's reason template for forced builds.
const FORCE_REASON_STRING: &str = "A build was forced by '%(owner)s': %(reason)s";

/// Arguments of the change-driven schedulers Buildbot has that Ferrobot does not implement.
const CHANGE_UNSUPPORTED: &[&str] = &[
    "fileIsImportant",
    "onlyImportant",
    "codebases",
    "createAbsoluteSourceStamps",
    "categories",
];

/// `schedulers.SingleBranchScheduler(name, builderNames, change_filter, treeStableTimer, ...)`.
pub(crate) static SINGLE_BRANCH: Spec = Spec {
    qualname: "schedulers.SingleBranchScheduler",
    params: &[
        "name",
        "builderNames",
        "change_filter",
        "treeStableTimer",
        "properties",
        "reason",
        "priority",
        "branch",
        "branches",
    ],
    positional: 1,
    unsupported: CHANGE_UNSUPPORTED,
    ignored: &[],
};

/// `schedulers.AnyBranchScheduler(name, builderNames, change_filter, treeStableTimer, ...)`.
pub(crate) static ANY_BRANCH: Spec = Spec {
    qualname: "schedulers.AnyBranchScheduler",
    params: &[
        "name",
        "builderNames",
        "change_filter",
        "treeStableTimer",
        "properties",
        "reason",
        "priority",
        "branches",
    ],
    positional: 1,
    unsupported: CHANGE_UNSUPPORTED,
    ignored: &[],
};

/// `schedulers.ForceScheduler(name, builderNames, buttonName=None, label=None, ...)`.
pub(crate) static FORCE: Spec = Spec {
    qualname: "schedulers.ForceScheduler",
    params: &[
        "name",
        "builderNames",
        "buttonName",
        "label",
        "reasonString",
        "properties",
    ],
    positional: 2,
    unsupported: &["username", "codebases", "priority"],
    ignored: &["reason"],
};

pub(crate) fn single_branch(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    if a.given("branches").is_some() {
        return Err(err(format!(
            "{}() does not take 'branches' (use change_filter=util.ChangeFilter(branch=[...]))",
            a.qualname()
        )));
    }
    let filter = match (filter_arg(a)?, a.raw("branch")) {
        (Some(_), Some(_)) => {
            return Err(err(format!(
                "{}() can't take both 'change_filter' and 'branch'",
                a.qualname()
            )));
        }
        (Some(f), None) => f,
        // The deprecated `branch=` is a one-branch filter (None: the default branch).
        (None, Some(b)) => ChangeFilter {
            branch: Some(vec![b.unpack_str().map(str::to_owned)]),
            ..ChangeFilter::default()
        },
        (None, None) => {
            return Err(err(format!(
                "{}() needs change_filter=util.ChangeFilter(...) (or the deprecated branch=)",
                a.qualname()
            )));
        }
    };
    if let Some(b) = a.given("branch")
        && b.unpack_str().is_none()
    {
        return Err(a.wrong("branch", "a string or None", b));
    }
    Ok(Item::Scheduler(SchedulerConfig::SingleBranch(
        change_scheduler(a, filter, "SingleBranchScheduler")?,
    )))
}

pub(crate) fn any_branch(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let from_branches = match a.given("branches") {
        None => None,
        Some(v) => {
            let items = seq(v).ok_or_else(|| a.wrong("branches", "a list", v))?;
            let mut names = Vec::new();
            for item in items {
                if item.is_none() {
                    names.push(None);
                } else if let Some(s) = item.unpack_str() {
                    names.push(Some(s.to_owned()));
                } else {
                    return Err(a.wrong("branches", "a list of strings", item));
                }
            }
            Some(ChangeFilter {
                branch: Some(names),
                ..ChangeFilter::default()
            })
        }
    };
    let filter = match (filter_arg(a)?, from_branches) {
        (Some(_), Some(_)) => {
            return Err(err(format!(
                "{}() can't take both 'change_filter' and 'branches'",
                a.qualname()
            )));
        }
        (Some(f), None) | (None, Some(f)) => f,
        (None, None) => ChangeFilter::default(),
    };
    Ok(Item::Scheduler(SchedulerConfig::AnyBranch(
        change_scheduler(a, filter, "AnyBranchScheduler")?,
    )))
}

fn filter_arg(a: &Args) -> starlark::Result<Option<ChangeFilter>> {
    let Some(v) = a.given("change_filter") else {
        return Ok(None);
    };
    match a.obj("change_filter") {
        Some((_, obj)) => match &obj.item {
            Item::ChangeFilter(f) => Ok(Some(f.clone())),
            _ => Err(a.wrong("change_filter", "a util.ChangeFilter", v)),
        },
        None => Err(a.wrong("change_filter", "a util.ChangeFilter", v)),
    }
}

fn change_scheduler(
    a: &Args,
    change_filter: ChangeFilter,
    class: &str,
) -> starlark::Result<ChangeSchedulerConfig> {
    let name = scheduler_name(a)?;
    let tree_stable_timer_s = a.seconds("treeStableTimer")?.map(|s| s.ceil() as u64);
    let reason = a
        .str("reason")?
        .unwrap_or_else(|| format!("The {class} scheduler named '{name}' triggered this build"));
    Ok(ChangeSchedulerConfig {
        builder_names: builder_names(a)?,
        change_filter,
        tree_stable_timer_s,
        properties: a.json_dict("properties")?,
        reason: Some(reason),
        priority: a.int("priority")?.unwrap_or(0),
        name,
    })
}

pub(crate) fn force(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let name = scheduler_name(a)?;
    if !is_identifier(&name) {
        return Err(a.invalid(
            "name",
            format!("must be an identifier (letters, digits, '_' and '-'): {name:?}"),
        ));
    }
    let parameters = super::force_params::parameters_of(a, "properties")?;
    Ok(Item::Scheduler(SchedulerConfig::Force(
        ForceSchedulerConfig {
            builder_names: builder_names(a)?,
            button_name: a.str("buttonName")?.unwrap_or_else(|| name.clone()),
            label: a.str("label")?.unwrap_or_else(|| name.clone()),
            reason_string: a
                .str("reasonString")?
                .unwrap_or_else(|| FORCE_REASON_STRING.to_owned()),
            properties: Default::default(),
            parameters,
            name,
        },
    )))
}

fn scheduler_name(a: &Args) -> starlark::Result<String> {
    let name = a.req_str("name")?;
    if name.is_empty() {
        return Err(a.invalid("name", "must not be empty"));
    }
    Ok(name)
}

fn builder_names(a: &Args) -> starlark::Result<Vec<String>> {
    if a.given("builderNames").is_none() {
        return Err(a.missing("builderNames"));
    }
    a.str_list("builderNames")
}

/// Buildbot's identifier rule (`util.identifiers.ident_re`).
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let ok = |c: char, first: bool| {
        c == '_'
            || c == '-'
            || !c.is_ascii()
            || c.is_ascii_alphabetic()
            || (!first && c.is_ascii_digit())
    };
    ok(first, true) && chars.all(|c| ok(c, false))
}
