//! `reporters.BuildStatusGenerator` and `reporters.BuildStartEndStatusGenerator`: which builds
//! and which moments a reporter reports, and with which formatter.

use starlark::values::ValueLike;

use crate::args::{Args, Spec, seq};
use crate::types::{GeneratorConfig, GeneratorKind, LogSelection, MessageFormatterConfig};
use crate::values::{Item, Obj};

use super::reporters::{DEFAULT_MODE, modes};

/// `reporters.BuildStatusGenerator(mode=..., tags=..., builders=..., ...)`.
pub(crate) static BUILD_STATUS_GENERATOR: Spec = Spec {
    qualname: "reporters.BuildStatusGenerator",
    params: &[
        "mode",
        "tags",
        "builders",
        "schedulers",
        "branches",
        "subject",
        "add_logs",
        "add_patch",
        "report_new",
        "message_formatter",
    ],
    positional: 0,
    unsupported: &["_want_previous_build"],
    ignored: &[],
};

/// `reporters.BuildStartEndStatusGenerator(tags=..., builders=..., start_formatter=..., ...)`.
pub(crate) static BUILD_START_END_STATUS_GENERATOR: Spec = Spec {
    qualname: "reporters.BuildStartEndStatusGenerator",
    params: &[
        "tags",
        "builders",
        "schedulers",
        "branches",
        "add_logs",
        "add_patch",
        "start_formatter",
        "end_formatter",
    ],
    positional: 0,
    unsupported: &[],
    ignored: &[],
};

pub(crate) fn build_status_generator(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    Ok(Item::Generator(GeneratorConfig {
        kind: GeneratorKind::BuildStatus,
        mode: match a.given("mode") {
            None => DEFAULT_MODE.to_vec(),
            Some(_) => modes(a, "mode")?,
        },
        builders: a.str_list("builders")?,
        tags: a.str_list("tags")?,
        schedulers: a.str_list("schedulers")?,
        branches: a.str_list("branches")?,
        report_new: a.bool("report_new", false)?,
        subject: a.str("subject")?,
        message_formatter: formatter_arg(a, "message_formatter")?.unwrap_or_else(default_formatter),
        start_formatter: None,
        add_logs: log_selection(a, "add_logs")?,
        add_patch: a.bool("add_patch", false)?,
    }))
}

pub(crate) fn build_start_end_status_generator(
    a: &Args,
    _w: &mut Vec<String>,
) -> starlark::Result<Item> {
    Ok(Item::Generator(GeneratorConfig {
        kind: GeneratorKind::BuildStartEnd,
        mode: Vec::new(),
        builders: a.str_list("builders")?,
        tags: a.str_list("tags")?,
        schedulers: a.str_list("schedulers")?,
        branches: a.str_list("branches")?,
        report_new: true,
        subject: None,
        message_formatter: formatter_arg(a, "end_formatter")?.unwrap_or_else(default_formatter),
        start_formatter: formatter_arg(a, "start_formatter")?,
        add_logs: log_selection(a, "add_logs")?,
        add_patch: a.bool("add_patch", false)?,
    }))
}

/// `reporters.BuildStatusGenerator(report_new=report_new)` with every other argument at its
/// default.
pub(crate) fn default_build_status_generator(report_new: bool) -> GeneratorConfig {
    GeneratorConfig {
        kind: GeneratorKind::BuildStatus,
        mode: DEFAULT_MODE.to_vec(),
        builders: Vec::new(),
        tags: Vec::new(),
        schedulers: Vec::new(),
        branches: Vec::new(),
        report_new,
        subject: None,
        message_formatter: default_formatter(),
        start_formatter: None,
        add_logs: LogSelection::None,
        add_patch: false,
    }
}

/// Buildbot's `MessageFormatter()` defaults.
pub(crate) fn default_formatter() -> MessageFormatterConfig {
    MessageFormatterConfig {
        want_properties: true,
        ..MessageFormatterConfig::default()
    }
}

/// A `reporters.MessageFormatter(...)` argument.
pub(crate) fn formatter_arg(
    a: &Args,
    name: &str,
) -> starlark::Result<Option<MessageFormatterConfig>> {
    let Some(v) = a.given(name) else {
        return Ok(None);
    };
    match v.downcast_ref::<Obj>().map(|o| &o.item) {
        Some(Item::MessageFormatter(f)) => Ok(Some(f.clone())),
        _ => Err(a.wrong(name, "a reporters.MessageFormatter", v)),
    }
}

/// `add_logs` / `addLogs` / `want_logs_content`: True (all), False/None, or a list of names
/// (`log` or `step.log`).
pub(crate) fn log_selection(a: &Args, name: &str) -> starlark::Result<LogSelection> {
    let Some(v) = a.given(name) else {
        return Ok(LogSelection::None);
    };
    if let Some(all) = v.unpack_bool() {
        return Ok(if all {
            LogSelection::All
        } else {
            LogSelection::None
        });
    }
    if seq(v).is_none() {
        return Err(a.wrong(name, "True, False or a list of log names", v));
    }
    let names = a.str_list(name)?;
    Ok(if names.is_empty() {
        LogSelection::None
    } else {
        LogSelection::Named(names)
    })
}

/// The `generators=[...]` argument of a reporter: each a generator object.
pub(crate) fn generators_arg(a: &Args) -> starlark::Result<Vec<GeneratorConfig>> {
    let mut generators = Vec::new();
    for (i, v) in a.list("generators")?.into_iter().enumerate() {
        match v.downcast_ref::<Obj>().map(|o| &o.item) {
            Some(Item::Generator(g)) => generators.push(g.clone()),
            _ => {
                return Err(a.invalid(
                    "generators",
                    format!(
                        "must hold reporters.BuildStatusGenerator(...) or \
                         reporters.BuildStartEndStatusGenerator(...) objects, not {} at [{i}]",
                        crate::args::type_name(v)
                    ),
                ));
            }
        }
    }
    Ok(generators)
}
