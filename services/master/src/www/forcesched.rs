//! The `forceschedulers` resource: each configured ForceScheduler with the parameter specs its
//! dialog shows (buildbot `schedulers/forcesched.py` `getSpec()`): one anonymous group with
//! username, reason and priority, one group for codebase `''` with branch, project, repository
//! and revision (sorted by name, as Buildbot sorts them), then the scheduler's own
//! `properties=[...]` fields.

use ferrobot_config::{
    ForceParameter, ForceParameterKind, ForceSchedulerConfig, MasterConfig, SchedulerConfig,
};
use serde_json::{Map, Value, json};

/// The ForceSchedulers of a configuration, in configuration order.
pub fn configured(config: &MasterConfig) -> Vec<&ForceSchedulerConfig> {
    config
        .schedulers
        .iter()
        .filter_map(|s| match s {
            SchedulerConfig::Force(force) => Some(force),
            _ => None,
        })
        .collect()
}

/// The REST entity of a ForceScheduler.
pub fn to_json(scheduler: &ForceSchedulerConfig) -> Value {
    let top = nested(
        vec![
            username(),
            text("reason", "reason", "force build", 20),
            priority(),
        ],
        1,
    );
    let codebase_fields: Vec<Value> = ["branch", "project", "repository", "revision"]
        .iter()
        .map(|name| text(name, &format!("{}:", capitalize(name)), "", 10))
        .collect();
    // Buildbot gives a group of four or more visible fields two columns.
    let codebase = nested(codebase_fields, 2);
    let mut all_fields = vec![top, codebase];
    all_fields.extend(scheduler.parameters.iter().map(|p| parameter(p, None)));
    json!({
        "name": scheduler.name,
        "button_name": scheduler.button_name,
        "label": scheduler.label,
        "builder_names": scheduler.builder_names,
        "enabled": true,
        "all_fields": all_fields,
    })
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The attributes every parameter spec carries (`BaseParameter.spec_attributes`).
fn base(
    name: &str,
    full_name: Value,
    label: &str,
    kind: &str,
    default: Value,
) -> Map<String, Value> {
    let spec = json!({
        "name": name,
        "fullName": full_name,
        "label": label,
        "tablabel": label,
        "type": kind,
        "default": default,
        "required": false,
        "multiple": false,
        "regex": null,
        "hide": false,
        "maxsize": null,
        "autopopulate": null,
        "tooltip": "",
    });
    match spec {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn text(name: &str, label: &str, default: &str, size: u32) -> Value {
    let mut spec = base(name, json!(name), label, "text", json!(default));
    spec.insert("size".into(), json!(size));
    Value::Object(spec)
}

fn username() -> Value {
    let mut spec = base(
        "username",
        json!("username"),
        "Your name:",
        "username",
        json!(""),
    );
    spec.insert("size".into(), json!(30));
    spec.insert("need_email".into(), json!(true));
    Value::Object(spec)
}

fn priority() -> Value {
    let mut spec = base("priority", json!("priority"), "priority", "int", json!(0));
    spec.insert("size".into(), json!(10));
    Value::Object(spec)
}

/// The spec of a declared field; `parent` is its group's full name (children of a named group
/// are posted as `<group>_<name>`).
fn parameter(p: &ForceParameter, parent: Option<&str>) -> Value {
    let full_name = match parent {
        Some(parent) => format!("{parent}_{}", p.name),
        None => p.name.clone(),
    };
    let full = if full_name.is_empty() {
        Value::Null
    } else {
        json!(full_name)
    };
    let mut spec = base(
        &p.name,
        full,
        &p.label,
        p.kind.type_name(),
        p.default.clone(),
    );
    spec.insert("required".into(), json!(p.required));
    spec.insert("regex".into(), json!(p.regex));
    spec.insert("hide".into(), json!(p.hide));
    spec.insert("maxsize".into(), json!(p.maxsize));
    spec.insert("tooltip".into(), json!(p.tooltip));
    match &p.kind {
        ForceParameterKind::String { size } | ForceParameterKind::Int { size } => {
            spec.insert("size".into(), json!(size));
        }
        ForceParameterKind::Text { cols, rows } => {
            spec.insert("cols".into(), json!(cols));
            spec.insert("rows".into(), json!(rows));
        }
        ForceParameterKind::Choice {
            choices,
            strict,
            multiple,
        } => {
            spec.insert("choices".into(), json!(choices));
            spec.insert("strict".into(), json!(strict));
            spec.insert("multiple".into(), json!(multiple));
        }
        ForceParameterKind::Nested {
            fields,
            layout,
            columns,
        } => {
            let group = (!full_name.is_empty()).then_some(full_name.as_str());
            let children: Vec<Value> = fields.iter().map(|f| parameter(f, group)).collect();
            // Buildbot: one column, or two for four or more visible fields.
            let visible = fields.iter().filter(|f| !f.hide).count();
            let columns = columns.unwrap_or(if visible >= 4 { 2 } else { 1 });
            spec.insert("layout".into(), json!(layout));
            spec.insert("columns".into(), json!(columns));
            spec.insert("fields".into(), Value::Array(children));
        }
        ForceParameterKind::Bool | ForceParameterKind::Fixed => {}
    }
    Value::Object(spec)
}

/// An anonymous group (name `''`, so its fullName is null and its children keep their names).
fn nested(fields: Vec<Value>, columns: u32) -> Value {
    let mut spec = base("", Value::Null, "", "nested", json!(""));
    spec.insert("layout".into(), json!("vertical"));
    spec.insert("columns".into(), json!(columns));
    spec.insert("fields".into(), Value::Array(fields));
    Value::Object(spec)
}
