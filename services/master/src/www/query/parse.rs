//! Reading a query string into a [`Query`], Buildbot's `resultspec_from_jsonapi`: every
//! parameter must be one the resource type knows, and every error names what was wrong.

use serde_json::Value;

use super::{Filter, Op, OrderKey, Query};
use crate::Error;
use crate::www::resources::{Field, Kind, ResourceType};

fn bad(message: String) -> Error {
    Error::BadRequest(message)
}

impl Query {
    /// Parses the parameters of a request for a resource of type `rtype`. `collection` is false
    /// for single resources, which refuse filters ("this is not a collection").
    pub fn parse(
        params: &[(String, String)],
        rtype: &ResourceType,
        collection: bool,
    ) -> crate::Result<Query> {
        let mut query = Query::default();
        for (name, values) in group(params) {
            match name {
                "field" => {
                    for value in &values {
                        known_field(rtype, value)?;
                    }
                    let fields = query.fields.get_or_insert_with(Vec::new);
                    fields.extend(values.iter().map(|v| (*v).to_owned()));
                }
                "order" => {
                    for value in values {
                        let (field, descending) = match value.strip_prefix('-') {
                            Some(field) => (field, true),
                            None => (value, false),
                        };
                        let spec = known_field(rtype, field)?;
                        if spec.kind == Kind::Object {
                            return Err(bad(format!("cannot order on field '{field}'")));
                        }
                        query.order.push(OrderKey {
                            field: field.to_owned(),
                            descending,
                        });
                    }
                }
                "limit" => query.limit = Some(count(name, &values)?),
                "offset" => query.offset = Some(count(name, &values)?),
                "property" => query
                    .properties
                    .extend(values.iter().map(|v| (*v).to_owned())),
                _ => query.filters.push(filter(rtype, name, &values)?),
            }
        }
        if let Some(fields) = &query.fields {
            let selected = |name: &str| fields.iter().any(|f| f == name);
            if let Some(key) = query.order.iter().find(|k| !selected(&k.field)) {
                return Err(bad(format!(
                    "cannot order on un-selected field '{}'",
                    key.field
                )));
            }
            if let Some(filter) = query.filters.iter().find(|f| !selected(&f.field)) {
                return Err(bad(format!(
                    "cannot filter on un-selected field '{}'",
                    filter.field
                )));
            }
        }
        if !collection && !query.filters.is_empty() {
            return Err(bad("this is not a collection".to_owned()));
        }
        Ok(query)
    }
}

/// Repeated parameters belong together (`field=a&field=b`); the first appearance decides the
/// position, so `order` keys keep the order they were written in.
fn group(params: &[(String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, value) in params {
        match groups.iter_mut().find(|(n, _)| *n == name.as_str()) {
            Some((_, values)) => values.push(value),
            None => groups.push((name, vec![value])),
        }
    }
    groups
}

fn known_field(rtype: &ResourceType, name: &str) -> crate::Result<&'static Field> {
    rtype
        .field(name)
        .ok_or_else(|| bad(format!("no such field '{name}' in {}", rtype.plural)))
}

fn count(name: &str, values: &[&str]) -> crate::Result<usize> {
    let [value] = values else {
        return Err(bad(format!("invalid {name}: give it once")));
    };
    value
        .trim()
        .parse()
        .map_err(|_| bad(format!("invalid {name} '{value}'")))
}

fn filter(rtype: &ResourceType, name: &str, values: &[&str]) -> crate::Result<Filter> {
    let (field, op) = match rtype.field(name) {
        Some(field) => (field, Op::Eq),
        None => {
            let Some((field_name, op_name)) = name.rsplit_once("__") else {
                return Err(bad(format!("unrecognized query parameter '{name}'")));
            };
            let field = rtype.field(field_name).ok_or_else(|| {
                bad(format!(
                    "unrecognized query parameter '{name}': no such field '{field_name}' in {}",
                    rtype.plural
                ))
            })?;
            let op = Op::from_name(op_name).ok_or_else(|| {
                bad(format!(
                    "unrecognized query parameter '{name}': no such operator '{op_name}' \
                     (use eq, ne, lt, le, gt, ge, contains, in or notin)"
                ))
            })?;
            (field, op)
        }
    };
    if field.kind == Kind::Object {
        return Err(bad(format!(
            "invalid filter {name}: object field '{}' cannot be filtered",
            field.name
        )));
    }
    if values.len() > 1 && !op.takes_several_values() {
        return Err(bad(format!(
            "invalid filter {name}: operator takes a single value"
        )));
    }
    let list = matches!(field.kind, Kind::StringList | Kind::IntegerList);
    let text = matches!(field.kind, Kind::String | Kind::StringList);
    if op == Op::Contains && !list && !text {
        return Err(bad(format!(
            "invalid filter {name}: 'contains' does not apply to {} field '{}'",
            field.kind.describe(),
            field.name
        )));
    }
    let values = values
        .iter()
        .map(|text| {
            value_from_string(field, text).ok_or_else(|| {
                bad(format!(
                    "invalid filter value for {name}: '{text}' is not {}",
                    expected(field)
                ))
            })
        })
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(Filter {
        field: field.name.to_owned(),
        op,
        values,
    })
}

fn expected(field: &Field) -> String {
    let what = match field.kind {
        Kind::Integer | Kind::IntegerList => "an integer",
        Kind::String | Kind::StringList => "a string",
        Kind::Boolean => "a boolean (true/false, yes/no, on/off, 1/0)",
        Kind::Object => "filterable",
    };
    if field.nullable {
        format!("{what} or null")
    } else {
        what.to_owned()
    }
}

/// Buildbot's `valueFromString` for each field type; `null` stands for null on nullable fields.
fn value_from_string(field: &Field, text: &str) -> Option<Value> {
    if field.nullable && field.kind != Kind::Object && text == "null" {
        return Some(Value::Null);
    }
    match field.kind {
        Kind::Integer | Kind::IntegerList => text.trim().parse::<i64>().ok().map(Value::from),
        Kind::String | Kind::StringList => Some(Value::String(text.to_owned())),
        Kind::Boolean => parse_boolean(text).map(Value::Bool),
        Kind::Object => None,
    }
}

/// Buildbot's `string2boolean`.
pub fn parse_boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}
