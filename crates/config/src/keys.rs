//! The dict-valued `c[...]` keys: `www`, `db`, `protocols`, `mq`, `coordination`, and the
//! port strings Twisted accepts (`"tcp:8010:interface=127.0.0.1"`).

use std::collections::BTreeMap;

use starlark::values::dict::DictRef;
use starlark::values::{Value, ValueLike};

use crate::args::{JsonDictError, json_dict, seq, type_name};
use crate::types::{CoordinationConfig, MqConfig, WwwConfig};

mod endpoint;

pub(crate) use endpoint::WorkerEndpoint;
use endpoint::{tls_dict, worker_endpoint};

/// Buildbot `c['www']` keys Ferrobot accepts but does not act on yet.
const WWW_NOT_YET: &[&str] = &[
    "avatar_methods",
    "change_hook_dialects",
    "change_hook_auth",
    "custom_templates_dir",
    "logfileName",
    "logRotateLength",
    "maxRotatedFiles",
    "allowed_origins",
    "json_cache_seconds",
    "rest_minimum_version",
    "versions",
    "ui_default_config",
    "cookie_expiration_time",
    "debug",
    "graphql",
    "theme",
    "default_page",
];

/// Reads `c[...]` sub-dicts; errors and warnings are plain messages (the key is named in them).
pub(crate) struct Reader<'w> {
    pub warnings: &'w mut Vec<String>,
}

/// The string keys of a dict, or an error naming `what`.
pub(crate) fn entries<'v>(v: Value<'v>, what: &str) -> Result<Vec<(String, Value<'v>)>, String> {
    let dict = DictRef::from_value(v)
        .ok_or_else(|| format!("{what} must be a dict, not {}", type_name(v)))?;
    dict.iter()
        .map(|(k, val)| match k.unpack_str() {
            Some(s) => Ok((s.to_owned(), val)),
            None => Err(format!(
                "{what} keys must be strings, found {}",
                type_name(k)
            )),
        })
        .collect()
}

/// A string value, or an error naming `what`.
pub(crate) fn string(v: Value, what: &str) -> Result<String, String> {
    v.unpack_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what} must be a string, not {}", type_name(v)))
}

/// A port: an int, or a Twisted endpoint string `tcp:8010[:interface=ADDR]` / `8010`.
pub(crate) fn port(v: Value, what: &str) -> Result<(u16, Option<String>), String> {
    let bad = || {
        format!(
            "{what} must be a port number or a string like 'tcp:8010:interface=127.0.0.1', got {}",
            v.to_repr()
        )
    };
    if v.unpack_bool().is_none()
        && let Some(n) = v.unpack_i32()
    {
        return u16::try_from(n).map(|p| (p, None)).map_err(|_| bad());
    }
    let s = v.unpack_str().ok_or_else(bad)?;
    let rest = s.strip_prefix("tcp:").unwrap_or(s);
    let mut port = None;
    let mut interface = None;
    for (i, part) in rest.split(':').enumerate() {
        if let Some(p) = part.strip_prefix("port=") {
            port = Some(p);
        } else if let Some(addr) = part.strip_prefix("interface=") {
            interface = Some(addr.to_owned());
        } else if i == 0 {
            port = Some(part);
        }
        // Other Twisted options (backlog=...) do not apply to Ferrobot's listeners.
    }
    let port = port.and_then(|p| p.parse::<u16>().ok()).ok_or_else(bad)?;
    Ok((port, interface))
}

impl Reader<'_> {
    /// `c['www'] = dict(port=8010, plugins=dict(...), ...)`.
    pub fn www(&mut self, v: Value) -> Result<WwwConfig, String> {
        let mut www = WwwConfig::default();
        for (key, val) in entries(v, "c['www']")? {
            match key.as_str() {
                "port" => {
                    if !val.is_none() {
                        (www.port, www.interface) = port(val, "c['www']['port']")?;
                    }
                }
                "plugins" => {
                    www.plugins = plain_dict(val, "c['www']['plugins']")?;
                }
                "auth" => www.auth = www_auth(val)?,
                "authz" => www.authz = www_authz(val)?,
                k if WWW_NOT_YET.contains(&k) => self.warnings.push(format!(
                    "c['www']['{k}'] is not supported yet and is ignored"
                )),
                k => self
                    .warnings
                    .push(format!("unknown key c['www']['{k}'] is ignored")),
            }
        }
        Ok(www)
    }

    /// `c['db'] = {'db_url': ...}`.
    pub fn db(&mut self, v: Value) -> Result<Option<String>, String> {
        let mut url = None;
        let mut unknown = Vec::new();
        for (key, val) in entries(v, "c['db']")? {
            match key.as_str() {
                "db_url" => url = Some(db_url(val, "c['db']['db_url']")?),
                "db_poll_interval" => self
                    .warnings
                    .push("c['db']['db_poll_interval'] is obsolete and is ignored".to_owned()),
                _ => unknown.push(key),
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unrecognized keys in c['db']: {}",
                unknown.join(", ")
            ));
        }
        Ok(url)
    }

    /// `c['protocols'] = {'pb': {'port': 9989}}`: the pb port is Ferrobot's worker port.
    ///
    /// TLS comes either as Twisted's string `'ssl:9989:privateKey=key.pem:certKey=cert.pem'`
    /// or as Ferrobot's `'tls': {'certificate': 'cert.pem', 'private_key': 'key.pem'}` beside
    /// the port.
    pub fn protocols(&mut self, v: Value) -> Result<Option<WorkerEndpoint>, String> {
        let mut found = None;
        for (proto, options) in entries(v, "c['protocols']")? {
            let what = format!("c['protocols']['{proto}']");
            let opts = entries(options, &what)?;
            if proto != "pb" {
                self.warnings.push(format!(
                    "{what} is ignored: Ferrobot workers connect over gRPC on the 'pb' port"
                ));
                continue;
            }
            let mut endpoint = None;
            let mut dict_tls = None;
            for (key, val) in opts {
                match key.as_str() {
                    "port" => endpoint = Some(worker_endpoint(val, &format!("{what}['port']"))?),
                    "tls" => dict_tls = Some(tls_dict(val, &format!("{what}['tls']"))?),
                    _ => self
                        .warnings
                        .push(format!("unknown key {what}['{key}'] is ignored")),
                }
            }
            let Some(mut endpoint) = endpoint else {
                if dict_tls.is_some() {
                    return Err(format!("{what} has 'tls' but no 'port'"));
                }
                continue;
            };
            if let Some(tls) = dict_tls {
                if endpoint.tls.is_some() {
                    return Err(format!(
                        "{what}: give TLS either in the 'ssl:' port string or in 'tls', not both"
                    ));
                }
                endpoint.tls = Some(tls);
            }
            found = Some(endpoint);
        }
        Ok(found)
    }

    /// `c['mq'] = {'type': 'simple'}` or `{'type': 'nats', 'url': ..., 'prefix': ...}`.
    pub fn mq(&mut self, v: Value) -> Result<MqConfig, String> {
        let opts: BTreeMap<String, Value> = entries(v, "c['mq']")?.into_iter().collect();
        let kind = match opts.get("type") {
            None => "simple".to_owned(),
            Some(t) => string(*t, "c['mq']['type']")?,
        };
        let allowed: &[&str] = match kind.as_str() {
            "simple" => &["type", "debug"],
            "nats" => &["type", "url", "prefix"],
            "wamp" => {
                return Err("c['mq'] type 'wamp' is not supported yet (use 'nats')".to_owned());
            }
            other => {
                return Err(format!(
                    "c['mq'] type '{other}' is not known (use 'simple' or 'nats')"
                ));
            }
        };
        let unknown: Vec<&str> = opts
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unrecognized keys in c['mq']: {}",
                unknown.join(", ")
            ));
        }
        if kind == "simple" {
            return Ok(MqConfig::Simple);
        }
        let url = match opts.get("url") {
            Some(u) => string(*u, "c['mq']['url']")?,
            None => return Err("c['mq'] of type 'nats' needs a 'url'".to_owned()),
        };
        let prefix = match opts.get("prefix") {
            Some(p) => string(*p, "c['mq']['prefix']")?,
            None => "ferrobot".to_owned(),
        };
        Ok(MqConfig::Nats { url, prefix })
    }

    /// `c['coordination'] = {'type': 'etcd', 'endpoints': [...]}` or `{'type': 'database'}`.
    pub fn coordination(&mut self, v: Value) -> Result<CoordinationConfig, String> {
        let opts: BTreeMap<String, Value> = entries(v, "c['coordination']")?.into_iter().collect();
        let kind = match opts.get("type") {
            None => {
                return Err("c['coordination'] needs a 'type' ('database' or 'etcd')".to_owned());
            }
            Some(t) => string(*t, "c['coordination']['type']")?,
        };
        let allowed: &[&str] = match kind.as_str() {
            "database" => &["type"],
            "etcd" => &["type", "endpoints"],
            other => {
                return Err(format!(
                    "c['coordination'] type '{other}' is not known (use 'database' or 'etcd')"
                ));
            }
        };
        let unknown: Vec<&str> = opts
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unrecognized keys in c['coordination']: {}",
                unknown.join(", ")
            ));
        }
        if kind == "database" {
            return Ok(CoordinationConfig::Database);
        }
        let what = "c['coordination']['endpoints']";
        let endpoints = match opts.get("endpoints") {
            None => return Err(format!("{what} is required for type 'etcd'")),
            Some(e) => match e.unpack_str() {
                Some(s) => s.split(',').map(|p| p.trim().to_owned()).collect(),
                None => seq(*e)
                    .ok_or_else(|| format!("{what} must be a list of URLs, not {}", type_name(*e)))?
                    .into_iter()
                    .map(|x| string(x, what))
                    .collect::<Result<Vec<_>, _>>()?,
            },
        };
        if endpoints.is_empty() {
            return Err(format!("{what} must not be empty"));
        }
        Ok(CoordinationConfig::Etcd { endpoints })
    }
}

/// A database URL: SQLite or PostgreSQL (SQLAlchemy's `+driver` suffix is dropped).
pub(crate) fn db_url(v: Value, what: &str) -> Result<String, String> {
    let url = string(v, what)?;
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{what} must be a URL like sqlite:///state.sqlite, got {url:?}"))?;
    let base = scheme.split('+').next().unwrap_or(scheme);
    match base {
        "sqlite" => Ok(format!("sqlite://{rest}")),
        "postgresql" | "postgres" => Ok(format!("postgresql://{rest}")),
        "mysql" => Err(format!(
            "{what}: MySQL is not supported yet (use sqlite or postgresql)"
        )),
        _ => Err(format!(
            "{what}: unknown database {scheme:?} (use sqlite:///... or postgresql://...)"
        )),
    }
}

/// A dict of plain (JSON-able) values.
pub(crate) fn plain_dict(
    v: Value,
    what: &str,
) -> Result<BTreeMap<String, serde_json::Value>, String> {
    json_dict(v).map_err(|e| match e {
        JsonDictError::NotADict => format!("{what} must be a dict, not {}", type_name(v)),
        JsonDictError::Entry(m) => format!("{what} {m}"),
    })
}

/// `c['www']['auth']`: one of the auth classes (None = NoAuth).
fn www_auth(v: Value) -> Result<crate::types::WwwAuthConfig, String> {
    if v.is_none() {
        return Ok(crate::types::WwwAuthConfig::NoAuth);
    }
    match v.downcast_ref::<crate::values::Obj>().map(|o| &o.item) {
        Some(crate::values::Item::WwwAuth(auth)) => Ok(auth.clone()),
        _ => Err(format!(
            "c['www']['auth'] must be util.UserPasswordAuth(...) or util.HTPasswdAuth(...), \
             not {}",
            v.to_repr()
        )),
    }
}

/// `c['www']['authz']`: a `util.Authz(...)`.
fn www_authz(v: Value) -> Result<crate::types::AuthzConfig, String> {
    if v.is_none() {
        return Ok(crate::types::AuthzConfig::default());
    }
    match v.downcast_ref::<crate::values::Obj>().map(|o| &o.item) {
        Some(crate::values::Item::Authz(authz)) => Ok(authz.clone()),
        _ => Err(format!(
            "c['www']['authz'] must be util.Authz(allowRules=[...], roleMatchers=[...]), not {}",
            v.to_repr()
        )),
    }
}
