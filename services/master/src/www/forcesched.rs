//! The `forceschedulers` resource: each configured ForceScheduler with the parameter specs its
//! dialog shows. Ferrobot's ForceScheduler takes no custom parameters yet, so `all_fields` is
//! always Buildbot's default form (buildbot `schedulers/forcesched.py` `getSpec()`): one
//! anonymous group with username, reason and priority, and one group for codebase `''` with
//! branch, project, repository and revision (sorted by name, as Buildbot sorts them).

use ferrobot_config::{ForceSchedulerConfig, MasterConfig, SchedulerConfig};
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
    json!({
        "name": scheduler.name,
        "button_name": scheduler.button_name,
        "label": scheduler.label,
        "builder_names": scheduler.builder_names,
        "enabled": true,
        "all_fields": [top, codebase],
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

/// An anonymous group (name `''`, so its fullName is null and its children keep their names).
fn nested(fields: Vec<Value>, columns: u32) -> Value {
    let mut spec = base("", Value::Null, "", "nested", json!(""));
    spec.insert("layout".into(), json!("vertical"));
    spec.insert("columns".into(), json!(columns));
    spec.insert("fields".into(), Value::Array(fields));
    Value::Object(spec)
}
