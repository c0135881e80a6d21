//! Python-style argument binding for the Buildbot constructors, with messages that name the
//! constructor and the argument the way Python would (`... got an unexpected keyword argument
//! 'x'`), which starlark's own binding cannot do for a Buildbot user.

use std::collections::BTreeMap;

use starlark::eval::Arguments;
use starlark::values::dict::DictRef;
use starlark::values::float::UnpackFloat;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Heap, UnpackValue, Value, ValueLike};

use crate::values::{Builtin, Obj};

/// An error raised while a constructor runs; starlark adds the call's span to it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct CallError(pub String);

/// What a constructor accepts.
pub(crate) struct Spec {
    /// `steps.ShellCommand`.
    pub qualname: &'static str,
    /// Supported arguments, in the order Buildbot's constructor takes them positionally.
    pub params: &'static [&'static str],
    /// How many of `params` may be given positionally.
    pub positional: usize,
    /// Buildbot arguments Ferrobot does not implement yet: an error that says so.
    pub unsupported: &'static [&'static str],
    /// Buildbot arguments accepted and ignored with a warning (they only tune Buildbot
    /// internals that Ferrobot does not have).
    pub ignored: &'static [&'static str],
}

/// The arguments of one call, bound to a [`Spec`].
pub(crate) struct Args<'v> {
    spec: &'static Spec,
    values: Vec<Option<Value<'v>>>,
    /// Warnings about ignored arguments, for the caller to record.
    pub ignored: Vec<String>,
}

impl<'v> Args<'v> {
    /// Binds `args` to `spec`.
    pub fn bind(
        spec: &'static Spec,
        args: &Arguments<'v, '_>,
        heap: Heap<'v>,
    ) -> starlark::Result<Args<'v>> {
        let mut values: Vec<Option<Value<'v>>> = vec![None; spec.params.len()];
        let positional: Vec<Value<'v>> = args.positions(heap)?.collect();
        if positional.len() > spec.positional {
            return Err(err(if spec.positional == 0 {
                format!(
                    "{}() takes keyword arguments only ({} positional given)",
                    spec.qualname,
                    positional.len()
                )
            } else {
                format!(
                    "{}() takes at most {} positional argument{} ({} given)",
                    spec.qualname,
                    spec.positional,
                    if spec.positional == 1 { "" } else { "s" },
                    positional.len()
                )
            }));
        }
        for (slot, v) in values.iter_mut().zip(positional) {
            *slot = Some(v);
        }
        let mut ignored = Vec::new();
        for (name, v) in args.names_map()? {
            let name = name.as_str();
            if let Some(i) = spec.params.iter().position(|p| *p == name) {
                if values[i].is_some() {
                    return Err(err(format!(
                        "{}() got multiple values for argument '{name}'",
                        spec.qualname
                    )));
                }
                values[i] = Some(v);
            } else if spec.unsupported.contains(&name) {
                // `submodules=False`, `locks=[]`: asks for nothing Ferrobot lacks.
                if requests_nothing(v) {
                    continue;
                }
                return Err(err(format!(
                    "{}() argument '{name}' is not supported yet",
                    spec.qualname
                )));
            } else if spec.ignored.contains(&name) {
                ignored.push(format!(
                    "{}() argument '{name}' is accepted but ignored by Ferrobot",
                    spec.qualname
                ));
            } else {
                let hint = closest(name, spec.params)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                return Err(err(format!(
                    "{}() got an unexpected keyword argument '{name}'{hint}",
                    spec.qualname
                )));
            }
        }
        Ok(Args {
            spec,
            values,
            ignored,
        })
    }

    /// The constructor's name, for messages.
    pub fn qualname(&self) -> &'static str {
        self.spec.qualname
    }

    /// The value given for `name`, if any; `None` given explicitly counts as given.
    pub fn raw(&self, name: &str) -> Option<Value<'v>> {
        let i = self.spec.params.iter().position(|p| *p == name)?;
        self.values[i]
    }

    /// The value given for `name`, treating an explicit `None` as not given (Python defaults
    /// are mostly `None`).
    pub fn given(&self, name: &str) -> Option<Value<'v>> {
        self.raw(name).filter(|v| !v.is_none())
    }

    /// A missing-argument error.
    pub fn missing(&self, name: &str) -> starlark::Error {
        err(format!(
            "{}() missing required argument '{name}'",
            self.spec.qualname
        ))
    }

    /// A wrong-type error.
    pub fn wrong(&self, name: &str, expected: &str, got: Value<'v>) -> starlark::Error {
        if let Some(b) = got.downcast_ref::<Builtin>() {
            return err(b.misuse_message());
        }
        err(format!(
            "{}() argument '{name}' must be {expected}, not {}",
            self.spec.qualname,
            type_name(got)
        ))
    }

    /// An invalid-value error.
    pub fn invalid(&self, name: &str, why: impl std::fmt::Display) -> starlark::Error {
        err(format!("{}() argument '{name}' {why}", self.spec.qualname))
    }

    /// A string argument.
    pub fn str(&self, name: &str) -> starlark::Result<Option<String>> {
        match self.given(name) {
            None => Ok(None),
            Some(v) => match v.unpack_str() {
                Some(s) => Ok(Some(s.to_owned())),
                None => Err(self.wrong(name, "a string", v)),
            },
        }
    }

    /// A required string argument.
    pub fn req_str(&self, name: &str) -> starlark::Result<String> {
        self.str(name)?.ok_or_else(|| self.missing(name))
    }

    /// A boolean argument (Buildbot flags are tested for truth, but a typo'd type is more
    /// likely a mistake than an intent, so only bools are taken).
    pub fn bool(&self, name: &str, default: bool) -> starlark::Result<bool> {
        match self.given(name) {
            None => Ok(default),
            Some(v) => v
                .unpack_bool()
                .ok_or_else(|| self.wrong(name, "True or False", v)),
        }
    }

    /// An integer argument.
    pub fn int(&self, name: &str) -> starlark::Result<Option<i64>> {
        match self.given(name) {
            None => Ok(None),
            Some(v) => match i64::unpack_value(v).ok().flatten() {
                Some(i) if v.unpack_bool().is_none() => Ok(Some(i)),
                _ => Err(self.wrong(name, "an int", v)),
            },
        }
    }

    /// A non-negative number of seconds (int or float).
    pub fn seconds(&self, name: &str) -> starlark::Result<Option<f64>> {
        match self.given(name) {
            None => Ok(None),
            Some(v) => match number(v) {
                Some(n) if n >= 0.0 && n.is_finite() => Ok(Some(n)),
                Some(n) => Err(self.invalid(name, format!("must not be negative, got {n}"))),
                None => Err(self.wrong(name, "a number of seconds", v)),
            },
        }
    }

    /// A string or a list of strings (Buildbot accepts either in many places).
    pub fn str_or_list(&self, name: &str) -> starlark::Result<Option<Vec<String>>> {
        match self.given(name) {
            None => Ok(None),
            Some(v) => {
                if let Some(s) = v.unpack_str() {
                    return Ok(Some(vec![s.to_owned()]));
                }
                self.str_list(name).map(Some)
            }
        }
    }

    /// A list (or tuple) of strings; `None` or absent is empty.
    pub fn str_list(&self, name: &str) -> starlark::Result<Vec<String>> {
        let Some(v) = self.given(name) else {
            return Ok(Vec::new());
        };
        let items = seq(v).ok_or_else(|| self.wrong(name, "a list of strings", v))?;
        items
            .iter()
            .map(|item| {
                item.unpack_str().map(str::to_owned).ok_or_else(|| {
                    err(format!(
                        "{}() argument '{name}' must be a list of strings, found {} in it",
                        self.spec.qualname,
                        type_name(*item)
                    ))
                })
            })
            .collect()
    }

    /// A dict with string keys and JSON-able values (properties).
    pub fn json_dict(&self, name: &str) -> starlark::Result<BTreeMap<String, serde_json::Value>> {
        let Some(v) = self.given(name) else {
            return Ok(BTreeMap::new());
        };
        json_dict(v).map_err(|why| match why {
            JsonDictError::NotADict => self.wrong(name, "a dict", v),
            JsonDictError::Entry(m) => self.invalid(name, m),
        })
    }

    /// The positional-or-keyword list of items (`steps=[...]`), each an object or an error.
    pub fn list(&self, name: &str) -> starlark::Result<Vec<Value<'v>>> {
        let Some(v) = self.given(name) else {
            return Ok(Vec::new());
        };
        seq(v).ok_or_else(|| self.wrong(name, "a list", v))
    }

    /// A Ferrobot object argument (e.g. a `util.ChangeFilter`).
    pub fn obj(&self, name: &str) -> Option<(Value<'v>, &'v Obj)> {
        let v = self.given(name)?;
        v.downcast_ref::<Obj>().map(|o| (v, o))
    }
}

/// None, False or an empty collection: the "off" value of a Buildbot option.
fn requests_nothing(v: Value) -> bool {
    v.is_none()
        || v.unpack_bool() == Some(false)
        || seq(v).is_some_and(|items| items.is_empty())
        || DictRef::from_value(v).is_some_and(|d| d.iter().next().is_none())
}

/// Error from a string.
pub(crate) fn err(message: String) -> starlark::Error {
    starlark::Error::new_other(CallError(message))
}

/// The items of a list or tuple.
pub(crate) fn seq<'v>(v: Value<'v>) -> Option<Vec<Value<'v>>> {
    if let Some(l) = ListRef::from_value(v) {
        return Some(l.content().to_vec());
    }
    TupleRef::from_value(v).map(|t| t.content().to_vec())
}

/// An int or float as f64 (not a bool).
pub(crate) fn number(v: Value) -> Option<f64> {
    if v.unpack_bool().is_some() {
        return None;
    }
    UnpackFloat::unpack_value_opt(v).map(|n| n.0)
}

/// Why a dict could not be read as JSON properties.
pub(crate) enum JsonDictError {
    NotADict,
    Entry(String),
}

/// A dict with string keys, values converted to JSON.
pub(crate) fn json_dict(v: Value) -> Result<BTreeMap<String, serde_json::Value>, JsonDictError> {
    let dict = DictRef::from_value(v).ok_or(JsonDictError::NotADict)?;
    let mut out = BTreeMap::new();
    for (k, val) in dict.iter() {
        let Some(key) = k.unpack_str() else {
            return Err(JsonDictError::Entry(format!(
                "must have string keys, found {}",
                type_name(k)
            )));
        };
        out.insert(key.to_owned(), to_json(val).map_err(JsonDictError::Entry)?);
    }
    Ok(out)
}

/// A plain Starlark value as JSON, or a message naming what could not be converted.
pub(crate) fn to_json(v: Value) -> Result<serde_json::Value, String> {
    if let Some(b) = v.downcast_ref::<Builtin>() {
        return Err(b.misuse_message());
    }
    if v.downcast_ref::<Obj>().is_some() {
        return Err(format!(
            "cannot hold a {} (only plain values)",
            type_name(v)
        ));
    }
    v.to_json_value()
        .map_err(|e| format!("holds a value that is not plain data: {e}"))
}

/// The Python-facing type name of a value, for messages.
pub(crate) fn type_name(v: Value) -> String {
    if let Some(o) = v.downcast_ref::<Obj>() {
        return o.qualname.to_owned();
    }
    if let Some(b) = v.downcast_ref::<Builtin>() {
        return format!("{} (the class, not an instance: call it)", b.qualname);
    }
    match v.get_type() {
        "string" => "str".to_owned(),
        t => t.to_owned(),
    }
}

/// The parameter closest to a misspelt one, if it is close enough to be a likely typo.
fn closest(name: &str, params: &[&'static str]) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    params
        .iter()
        .map(|p| (distance(&lower, &p.to_ascii_lowercase()), *p))
        .filter(|(d, p)| *d <= 2.max(p.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, p)| p)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_get_a_suggestion() {
        let params = &["name", "builderNames", "buttonName", "label"];
        assert_eq!(closest("buttonNam", params), Some("buttonName"));
        assert_eq!(closest("buildernames", params), Some("builderNames"));
        assert_eq!(closest("completely_else", params), None);
    }
}
