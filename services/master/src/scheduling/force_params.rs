//! Reads a ForceScheduler's form fields from the `force` call's parameters and turns them into
//! build properties, with Buildbot's rules (`BaseParameter.getFromKwargs` / `updateFromKwargs`):
//! a field is found under its full name (nested names joined with `_`), a blank value counts as
//! not given, a missing one takes the default unless it is required, and the property is named
//! after the field's own name (a named group's fields make one dict-valued property).

use std::collections::BTreeMap;

use ferrobot_config::{ForceParameter, ForceParameterKind};
use serde_json::{Map, Value};

/// The properties the form's fields set, or what is wrong with the first bad field.
pub fn collect(
    parameters: &[ForceParameter],
    params: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, String> {
    let mut properties = Map::new();
    for parameter in parameters {
        collect_one(parameter, None, params, &mut properties)?;
    }
    Ok(properties.into_iter().collect())
}

fn collect_one(
    parameter: &ForceParameter,
    parent: Option<&str>,
    params: &Map<String, Value>,
    into: &mut Map<String, Value>,
) -> Result<(), String> {
    let full_name = match parent {
        Some(parent) if !parent.is_empty() => format!("{parent}_{}", parameter.name),
        _ => parameter.name.clone(),
    };
    if let ForceParameterKind::Nested { fields, .. } = &parameter.kind {
        let mut group = Map::new();
        for field in fields {
            collect_one(field, Some(&full_name), params, &mut group)?;
        }
        if parameter.name.is_empty() {
            into.extend(group);
        } else {
            into.insert(parameter.name.clone(), Value::Object(group));
        }
        return Ok(());
    }
    let value = value_of(parameter, params.get(&full_name))?;
    into.insert(parameter.name.clone(), value);
    Ok(())
}

/// Blank strings, empty lists and null are "not given", as the form sends them for empty
/// fields.
fn given(raw: Option<&Value>) -> Option<&Value> {
    raw.filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    })
}

fn value_of(parameter: &ForceParameter, raw: Option<&Value>) -> Result<Value, String> {
    let label = &parameter.label;
    if parameter.kind == ForceParameterKind::Fixed {
        return Ok(parameter.default.clone());
    }
    let Some(raw) = given(raw) else {
        if parameter.required {
            return Err(format!("'{label}' needs to be specified"));
        }
        return Ok(parameter.default.clone());
    };
    match &parameter.kind {
        ForceParameterKind::String { .. } | ForceParameterKind::Text { .. } => {
            let text = match raw {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(format!("'{label}' must be text, got {other}")),
            };
            check_text(parameter, &text)?;
            Ok(Value::String(text))
        }
        ForceParameterKind::Int { .. } => {
            let number = match raw {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => {
                    check_text(parameter, s)?;
                    s.trim().parse().ok()
                }
                _ => None,
            };
            number
                .map(Value::from)
                .ok_or_else(|| format!("'{label}' must be an integer, got {raw}"))
        }
        ForceParameterKind::Bool => match raw {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => match s.trim() {
                "true" | "True" | "on" | "1" => Ok(Value::Bool(true)),
                "false" | "False" | "off" | "0" => Ok(Value::Bool(false)),
                other => Err(format!("'{label}' must be true or false, got {other:?}")),
            },
            Value::Number(n) => Ok(Value::Bool(n.as_f64() != Some(0.0))),
            other => Err(format!("'{label}' must be true or false, got {other}")),
        },
        ForceParameterKind::Choice {
            choices,
            strict,
            multiple,
        } => {
            let chosen: Vec<&Value> = match raw {
                Value::Array(items) if *multiple => items.iter().collect(),
                Value::Array(_) => return Err(format!("'{label}' takes one choice")),
                one => vec![one],
            };
            let mut values = Vec::new();
            for choice in chosen {
                let Some(text) = choice.as_str() else {
                    return Err(format!("'{label}' must be text, got {choice}"));
                };
                if *strict && !choices.iter().any(|c| c == text) {
                    return Err(format!(
                        "'{text}' does not belong to list of available choices '{choices:?}'"
                    ));
                }
                check_text(parameter, text)?;
                values.push(Value::String(text.to_owned()));
            }
            Ok(if *multiple {
                Value::Array(values)
            } else {
                values.pop().unwrap_or_default()
            })
        }
        ForceParameterKind::Fixed | ForceParameterKind::Nested { .. } => {
            Ok(parameter.default.clone())
        }
    }
}

/// `regex` (matched from the start, as Python's `re.match`) and `maxsize`.
fn check_text(parameter: &ForceParameter, text: &str) -> Result<(), String> {
    let label = &parameter.label;
    if let Some(pattern) = &parameter.regex {
        let anchored = regex::Regex::new(&format!("^(?:{pattern})"))
            .map_err(|e| format!("'{label}' has a bad regex: {e}"))?;
        if !anchored.is_match(text) {
            return Err(format!(
                "{label}:'{text}' does not match pattern '{pattern}'"
            ));
        }
    }
    if let Some(max) = parameter.maxsize
        && text.chars().count() as u64 > max
    {
        return Err(format!("'{label}' is longer than {max} characters"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "force_params_tests.rs"]
mod tests;
