//! The force-form parameters: `util.StringParameter`, `util.TextParameter`, `util.IntParameter`,
//! `util.BooleanParameter`, `util.ChoiceStringParameter`, `util.FixedParameter` and
//! `util.NestedParameter`, each with Buildbot's arguments and defaults.

use serde_json::{Value, json};
use starlark::values::ValueLike;

use crate::args::{Args, Spec, to_json};
use crate::types::{ForceParameter, ForceParameterKind};
use crate::values::{Item, Obj};

/// The arguments every parameter takes (`BaseParameter`).
macro_rules! base_params {
    ($($extra:literal),* $(,)?) => {
        &["name", "label", "default", "required", "regex", "hide", "maxsize", "tooltip", $($extra),*]
    };
}

/// Arguments Buildbot's parameters have that Ferrobot does not implement.
const UNSUPPORTED: &[&str] = &["autopopulate", "multiple"];
/// Arguments that only change how Buildbot's own UI lays a field out.
const IGNORED: &[&str] = &["tablabel"];

/// `util.StringParameter(name, label=None, default='', size=10, ...)`.
pub(crate) static STRING: Spec = Spec {
    qualname: "util.StringParameter",
    params: base_params!("size"),
    positional: 1,
    unsupported: UNSUPPORTED,
    ignored: IGNORED,
};

/// `util.TextParameter(name, cols=80, rows=20, ...)`.
pub(crate) static TEXT: Spec = Spec {
    qualname: "util.TextParameter",
    params: base_params!("cols", "rows"),
    positional: 1,
    unsupported: UNSUPPORTED,
    ignored: IGNORED,
};

/// `util.IntParameter(name, default=0, ...)`.
pub(crate) static INT: Spec = Spec {
    qualname: "util.IntParameter",
    params: base_params!("size"),
    positional: 1,
    unsupported: UNSUPPORTED,
    ignored: IGNORED,
};

/// `util.BooleanParameter(name, default=False, ...)`.
pub(crate) static BOOL: Spec = Spec {
    qualname: "util.BooleanParameter",
    params: base_params!(),
    positional: 1,
    unsupported: UNSUPPORTED,
    ignored: IGNORED,
};

/// `util.ChoiceStringParameter(name, choices=[...], strict=True, multiple=False, ...)`.
pub(crate) static CHOICE: Spec = Spec {
    qualname: "util.ChoiceStringParameter",
    params: base_params!("choices", "strict", "multiple"),
    positional: 1,
    unsupported: &["autopopulate"],
    ignored: IGNORED,
};

/// `util.FixedParameter(name, default=...)`.
pub(crate) static FIXED: Spec = Spec {
    qualname: "util.FixedParameter",
    params: base_params!(),
    positional: 1,
    unsupported: UNSUPPORTED,
    ignored: IGNORED,
};

/// `util.NestedParameter(name, fields, layout='vertical', columns=None, ...)`.
pub(crate) static NESTED: Spec = Spec {
    qualname: "util.NestedParameter",
    params: base_params!("fields", "layout", "columns"),
    positional: 1,
    unsupported: UNSUPPORTED,
    ignored: IGNORED,
};

fn size(a: &Args, name: &str, default: u32) -> starlark::Result<u32> {
    match a.int(name)? {
        None => Ok(default),
        Some(n) => {
            u32::try_from(n).map_err(|_| a.invalid(name, format!("must be positive, got {n}")))
        }
    }
}

/// The arguments of `BaseParameter`, with the kind's own default value.
fn parameter(a: &Args, kind: ForceParameterKind, default: Value) -> starlark::Result<Item> {
    let name = a.req_str("name")?;
    let default = match a.given("default") {
        None => default,
        Some(v) => to_json(v).map_err(|why| a.invalid("default", why))?,
    };
    let regex = a.str("regex")?;
    if let Some(pattern) = &regex
        && let Err(error) = regex_syntax_check(pattern)
    {
        return Err(a.invalid(
            "regex",
            format!("is not a valid regular expression: {error}"),
        ));
    }
    let maxsize = match a.int("maxsize")? {
        None => None,
        Some(n) => {
            Some(u64::try_from(n).map_err(|_| a.invalid("maxsize", "must not be negative"))?)
        }
    };
    Ok(Item::ForceParameter(ForceParameter {
        label: a.str("label")?.unwrap_or_else(|| name.clone()),
        name,
        kind,
        default,
        required: a.bool("required", false)?,
        regex,
        hide: a.bool("hide", false)?,
        maxsize,
        tooltip: a.str("tooltip")?.unwrap_or_default(),
    }))
}

fn regex_syntax_check(pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(drop)
        .map_err(|e| e.to_string())
}

pub(crate) fn string(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let kind = ForceParameterKind::String {
        size: size(a, "size", 10)?,
    };
    parameter(a, kind, json!(""))
}

pub(crate) fn text(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let kind = ForceParameterKind::Text {
        cols: size(a, "cols", 80)?,
        rows: size(a, "rows", 20)?,
    };
    parameter(a, kind, json!(""))
}

pub(crate) fn int(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    if let Some(v) = a.given("default")
        && a.int("default").is_err()
    {
        return Err(a.wrong("default", "an int", v));
    }
    let kind = ForceParameterKind::Int {
        size: size(a, "size", 10)?,
    };
    parameter(a, kind, json!(0))
}

pub(crate) fn boolean(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    a.bool("default", false)?;
    parameter(a, ForceParameterKind::Bool, json!(false))
}

pub(crate) fn choice(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let choices = a.str_list("choices")?;
    let strict = a.bool("strict", true)?;
    let multiple = a.bool("multiple", false)?;
    // Buildbot's default is "", which a strict list refuses; the first choice is what its form
    // shows selected, so Ferrobot takes that.
    let first = if multiple {
        json!([])
    } else {
        json!(choices.first().cloned().unwrap_or_default())
    };
    let item = parameter(
        a,
        ForceParameterKind::Choice {
            choices,
            strict,
            multiple,
        },
        first,
    )?;
    if let Item::ForceParameter(p) = &item
        && let ForceParameterKind::Choice { choices, .. } = &p.kind
        && strict
    {
        let defaults: Vec<&Value> = match &p.default {
            Value::Array(values) => values.iter().collect(),
            other => vec![other],
        };
        if let Some(bad) = defaults
            .iter()
            .find(|d| !d.as_str().is_some_and(|s| choices.iter().any(|c| c == s)))
        {
            return Err(a.invalid(
                "default",
                format!("{bad} is not one of the choices {choices:?}"),
            ));
        }
    }
    Ok(item)
}

pub(crate) fn fixed(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    parameter(a, ForceParameterKind::Fixed, json!(""))
}

pub(crate) fn nested(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let fields = parameters_of(a, "fields")?;
    let layout = a.str("layout")?.unwrap_or_else(|| "vertical".to_owned());
    if !["vertical", "horizontal", "tabs"].contains(&layout.as_str()) {
        return Err(a.invalid(
            "layout",
            format!("must be 'vertical', 'horizontal' or 'tabs', got {layout:?}"),
        ));
    }
    let columns = match a.int("columns")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| a.invalid("columns", "must be positive"))?),
    };
    parameter(
        a,
        ForceParameterKind::Nested {
            fields,
            layout,
            columns,
        },
        json!(""),
    )
}

/// A list argument whose items must all be force parameters (`fields=`, and the
/// ForceScheduler's `properties=`).
pub(crate) fn parameters_of(a: &Args, name: &str) -> starlark::Result<Vec<ForceParameter>> {
    a.list(name)?
        .into_iter()
        .map(|v| match v.downcast_ref::<Obj>().map(|o| &o.item) {
            Some(Item::ForceParameter(p)) => Ok(p.clone()),
            _ => Err(a.wrong(
                name,
                "a list of force parameters (util.StringParameter(...), ...)",
                v,
            )),
        })
        .collect()
}
