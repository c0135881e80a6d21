//! `util.ChangeFilter`, `util.BuildFactory` (with `addStep` / `addSteps`) and
//! `util.BuilderConfig`.

use std::sync::{Arc, Mutex};

use starlark::eval::{Arguments, Evaluator};
use starlark::values::{Value, ValueLike};

use crate::args::{Args, Spec, err, seq};
use crate::types::{BuilderConfig, ChangeFilter, StepConfig};
use crate::values::{Builtin, FactoryMethod, Item, Loc, Obj, steps_of};

/// `util.ChangeFilter(branch=..., branch_re=..., project=..., ...)`.
pub(crate) static CHANGE_FILTER: Spec = Spec {
    qualname: "util.ChangeFilter",
    params: &[
        "filter_fn",
        "project",
        "repository",
        "branch",
        "category",
        "codebase",
        "branch_re",
    ],
    positional: 1,
    unsupported: &[
        "project_not_eq",
        "project_re",
        "project_not_re",
        "project_fn",
        "repository_not_eq",
        "repository_re",
        "repository_not_re",
        "repository_fn",
        "branch_not_eq",
        "branch_not_re",
        "branch_fn",
        "category_not_eq",
        "category_re",
        "category_not_re",
        "category_fn",
        "codebase_not_eq",
        "codebase_re",
        "codebase_not_re",
        "codebase_fn",
        "property_eq",
        "property_not_eq",
        "property_re",
        "property_not_re",
    ],
    ignored: &[],
};

/// `util.BuildFactory(steps=None)`.
pub(crate) static BUILD_FACTORY: Spec = Spec {
    qualname: "util.BuildFactory",
    params: &["steps"],
    positional: 1,
    unsupported: &[],
    ignored: &[],
};

static ADD_STEP: Spec = Spec {
    qualname: "util.BuildFactory.addStep",
    params: &["step"],
    positional: 1,
    unsupported: &[],
    ignored: &[],
};

static ADD_STEPS: Spec = Spec {
    qualname: "util.BuildFactory.addSteps",
    params: &["steps"],
    positional: 1,
    unsupported: &["withSecrets"],
    ignored: &[],
};

/// `util.BuilderConfig(name, workername, workernames, builddir, factory=..., ...)`.
pub(crate) static BUILDER_CONFIG: Spec = Spec {
    qualname: "util.BuilderConfig",
    params: &[
        "name",
        "workername",
        "workernames",
        "builddir",
        "factory",
        "tags",
        "properties",
        "description",
    ],
    positional: 4,
    unsupported: &[
        "workerbuilddir",
        "nextWorker",
        "nextBuild",
        "locks",
        "env",
        "collapseRequests",
        "canStartBuild",
        "defaultProperties",
        "project",
        "do_build_if",
        "description_format",
    ],
    ignored: &[],
};

pub(crate) fn change_filter(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    if a.given("filter_fn").is_some() {
        return Err(a.invalid("filter_fn", "is not supported yet"));
    }
    // `branch=None` means "the default branch", unlike leaving branch out.
    let branch = match a.raw("branch") {
        None => None,
        Some(v) if v.is_none() => Some(vec![None]),
        Some(v) => match v.unpack_str() {
            Some(s) => Some(vec![Some(s.to_owned())]),
            None => {
                let items =
                    seq(v).ok_or_else(|| a.wrong("branch", "a string, None or a list", v))?;
                let mut names = Vec::new();
                for item in items {
                    if item.is_none() {
                        names.push(None);
                    } else if let Some(s) = item.unpack_str() {
                        names.push(Some(s.to_owned()));
                    } else {
                        return Err(a.wrong("branch", "a list of strings (or None)", item));
                    }
                }
                Some(names)
            }
        },
    };
    // Python's re.match anchors each alternative at the start, so joining keeps the meaning.
    let branch_re = a.str_or_list("branch_re")?.map(|res| {
        if res.len() == 1 {
            res[0].clone()
        } else {
            res.iter()
                .map(|r| format!("(?:{r})"))
                .collect::<Vec<_>>()
                .join("|")
        }
    });
    Ok(Item::ChangeFilter(ChangeFilter {
        branch,
        branch_re,
        project: a.str_or_list("project")?,
        repository: a.str_or_list("repository")?,
        category: a.str_or_list("category")?,
        codebase: a.str_or_list("codebase")?,
    }))
}

pub(crate) fn build_factory(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let mut steps = Vec::new();
    for v in a.list("steps")? {
        steps.push(step_of(a.qualname(), "steps", v)?);
    }
    Ok(Item::Factory(Arc::new(Mutex::new(steps))))
}

/// `factory.addStep(step)` / `factory.addSteps([...])`.
pub(crate) fn add_steps<'v>(
    method: &FactoryMethod,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> starlark::Result<Value<'v>> {
    let loc = Loc::here(eval);
    let spec = if method.many { &ADD_STEPS } else { &ADD_STEP };
    let a = Args::bind(spec, args, eval.heap())?;
    let new_steps = if method.many {
        let mut out = Vec::new();
        for v in a.list("steps")? {
            out.push(step_of(spec.qualname, "steps", v)?);
        }
        out
    } else {
        let v = a.given("step").ok_or_else(|| a.missing("step"))?;
        vec![step_of(spec.qualname, "step", v)?]
    };
    steps_of(&method.steps).extend(new_steps);
    super::record(eval, &loc, a.ignored.clone());
    Ok(Value::new_none())
}

/// The step config a value stands for, or an error naming what was given instead.
fn step_of(qualname: &str, arg: &str, v: Value) -> starlark::Result<StepConfig> {
    if let Some(o) = v.downcast_ref::<Obj>()
        && let Item::Step(s) = &o.item
    {
        return Ok(s.clone());
    }
    if let Some(b) = v.downcast_ref::<Builtin>() {
        return Err(err(b.misuse_message()));
    }
    Err(err(format!(
        "{qualname}() argument '{arg}' must be a build step (e.g. steps.ShellCommand(...)), not {}",
        crate::args::type_name(v)
    )))
}

pub(crate) fn builder_config(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let name = a.req_str("name")?;
    if name.is_empty() {
        return Err(a.invalid("name", "must not be empty"));
    }
    if name.starts_with('_') {
        return Err(a.invalid(
            "name",
            format!("must not start with an underscore: {name:?}"),
        ));
    }
    let mut worker_names = a.str_or_list("workernames")?.unwrap_or_default();
    if let Some(w) = a.str("workername")? {
        worker_names.push(w);
    }
    if worker_names.is_empty() {
        return Err(err(format!(
            "{}() builder '{name}': at least one workername is required",
            a.qualname()
        )));
    }
    let factory = a.given("factory").ok_or_else(|| {
        err(format!(
            "{}() builder '{name}' has no factory (give factory=util.BuildFactory(...))",
            a.qualname()
        ))
    })?;
    let steps = match factory.downcast_ref::<Obj>().map(|o| &o.item) {
        Some(Item::Factory(steps)) => steps.clone(),
        _ => return Err(a.wrong("factory", "a util.BuildFactory", factory)),
    };
    let tags = a.str_list("tags")?;
    for (i, t) in tags.iter().enumerate() {
        if tags[..i].contains(t) {
            return Err(a.invalid("tags", format!("lists tag {t:?} twice")));
        }
    }
    Ok(Item::Builder(
        BuilderConfig {
            worker_names,
            steps: Vec::new(),
            builddir: a.str("builddir")?.unwrap_or_else(|| safe_translate(&name)),
            description: a.str("description")?,
            tags,
            properties: a.json_dict("properties")?,
            name,
        },
        steps,
    ))
}

/// Buildbot's `safeTranslate`: a builder name made safe as a directory name (every byte
/// outside `[A-Za-z0-9_.-]` becomes `_`).
pub(crate) fn safe_translate(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                b as char
            } else {
                '_'
            }
        })
        .collect()
}
