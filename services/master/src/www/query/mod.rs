//! The one query engine behind every REST collection: Buildbot's result spec
//! (reference/buildbot.md §5.4) over lists of entity JSON.
//!
//! The store returns whole entities and the engine filters, counts, orders, pages and projects
//! them here, so every resource type gets every operator with the same semantics. Endpoints may
//! also push cheap equality filters down to the store ([`Query::eq_integer`],
//! [`Query::eq_boolean`]); the engine applies them again, which is harmless and keeps the
//! store's filters an optimisation rather than a second implementation.

mod parse;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use serde_json::Value;

/// A comparison operator of a `<field>__<op>` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal (or any of, with several values).
    Eq,
    /// Not equal (or none of).
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Substring of a string, element of a list (any of the values, with several).
    Contains,
    /// One of the values.
    In,
    /// None of the values.
    NotIn,
}

impl Op {
    /// The operator written in a query parameter (`lt` in `results__lt`).
    pub fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "contains" => Op::Contains,
            "in" => Op::In,
            "notin" => Op::NotIn,
            _ => return None,
        })
    }

    /// Whether the operator accepts several values (Buildbot's plural operators).
    pub fn takes_several_values(self) -> bool {
        !matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// One filter: `field op values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The field compared.
    pub field: String,
    /// How.
    pub op: Op,
    /// The values, already converted to the field's type.
    pub values: Vec<Value>,
}

impl Filter {
    /// Whether an entity passes this filter. A missing field counts as null.
    pub fn matches(&self, item: &Value) -> bool {
        let datum = item.get(&self.field).unwrap_or(&Value::Null);
        let values = &self.values;
        match self.op {
            Op::Eq | Op::In => values.iter().any(|v| datum == v),
            Op::Ne | Op::NotIn => values.iter().all(|v| datum != v),
            Op::Contains => values.iter().any(|v| contains(datum, v)),
            Op::Lt => ordered(datum, values, Ordering::is_lt),
            Op::Le => ordered(datum, values, Ordering::is_le),
            Op::Gt => ordered(datum, values, Ordering::is_gt),
            Op::Ge => ordered(datum, values, Ordering::is_ge),
        }
    }
}

/// SQL's rule, which Buildbot's database-backed filters follow: an ordering comparison with
/// null on either side is never true.
fn ordered(datum: &Value, values: &[Value], accept: fn(Ordering) -> bool) -> bool {
    match values.first() {
        Some(value) if !datum.is_null() && !value.is_null() => {
            compare(datum, value).is_some_and(accept)
        }
        _ => false,
    }
}

fn contains(datum: &Value, value: &Value) -> bool {
    match (datum, value) {
        (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
        (Value::Array(items), _) => items.contains(value),
        _ => false,
    }
}

/// Orders two JSON values of the same type; None when they cannot be compared.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                match compare(p, q)? {
                    Ordering::Equal => continue,
                    other => return Some(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Buildbot's sort order: null before everything else (its `NoneComparator`).
fn sort_compare(a: &Value, b: &Value) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

/// One key of `order=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// The field.
    pub field: String,
    /// `-field`: largest first.
    pub descending: bool,
}

/// A parsed query string: Buildbot's result spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// `field=`: the fields to return (None = all).
    pub fields: Option<Vec<String>>,
    /// `order=`, first key first.
    pub order: Vec<OrderKey>,
    /// `limit=`.
    pub limit: Option<usize>,
    /// `offset=`.
    pub offset: Option<usize>,
    /// `property=`: property names to fill in (`*` = all).
    pub properties: Vec<String>,
    /// The filters, all of which must pass.
    pub filters: Vec<Filter>,
}

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The entities of the page, projected to the selected fields.
    pub items: Vec<Value>,
    /// How many entities passed the filters, before paging.
    pub total: usize,
}

impl Query {
    /// Filters, counts, orders and pages a collection, leaving every field in place so the
    /// caller can still read ids (to fill in properties) before [`Query::project`].
    pub fn page(&self, items: Vec<Value>) -> Page {
        let mut items: Vec<Value> = items
            .into_iter()
            .filter(|item| self.filters.iter().all(|filter| filter.matches(item)))
            .collect();
        let total = items.len();
        if !self.order.is_empty() {
            // A stable sort, as Python's, so equal keys keep the store's order.
            items.sort_by(|a, b| {
                for key in &self.order {
                    let x = a.get(&key.field).unwrap_or(&Value::Null);
                    let y = b.get(&key.field).unwrap_or(&Value::Null);
                    let ordering = sort_compare(x, y);
                    let ordering = if key.descending {
                        ordering.reverse()
                    } else {
                        ordering
                    };
                    if ordering != Ordering::Equal {
                        return ordering;
                    }
                }
                Ordering::Equal
            });
        }
        let offset = self.offset.unwrap_or(0);
        let items = items
            .into_iter()
            .skip(offset)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect();
        Page { items, total }
    }

    /// Keeps only the selected fields of one entity.
    pub fn project(&self, item: Value) -> Value {
        match (&self.fields, item) {
            (Some(fields), Value::Object(map)) => Value::Object(
                map.into_iter()
                    .filter(|(key, _)| fields.iter().any(|f| f == key))
                    .collect(),
            ),
            (_, item) => item,
        }
    }

    /// The value of a single `field=v` / `field__eq=v` integer filter, for the store to
    /// pre-filter on.
    pub fn eq_integer(&self, field: &str) -> Option<i64> {
        self.single(field, Op::Eq).and_then(Value::as_i64)
    }

    /// The wanted value of a boolean field, from a single `eq` or `ne` filter.
    pub fn eq_boolean(&self, field: &str) -> Option<bool> {
        if let Some(value) = self.single(field, Op::Eq).and_then(Value::as_bool) {
            return Some(value);
        }
        self.single(field, Op::Ne)
            .and_then(Value::as_bool)
            .map(|value| !value)
    }

    fn single(&self, field: &str, op: Op) -> Option<&Value> {
        self.filters
            .iter()
            .find(|f| f.field == field && f.op == op && f.values.len() == 1)
            .and_then(|f| f.values.first())
    }

    /// Whether `property=` asked for properties and the selected fields include them.
    pub fn wants_properties(&self) -> bool {
        !self.properties.is_empty()
            && self
                .fields
                .as_ref()
                .is_none_or(|fields| fields.iter().any(|f| f == "properties"))
    }

    /// Whether a property of this name was asked for.
    pub fn wants_property(&self, name: &str) -> bool {
        self.properties.iter().any(|p| p == "*" || p == name)
    }
}
