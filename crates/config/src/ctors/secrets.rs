//! `util.Secret("name")` and `c['secretsProviders'] = [secrets.SecretInAFile(dirname=...)]`.
//!
//! A secret is looked up when the config is loaded, after master.cfg has run (so the order of
//! `c['secretsProviders']` and the reporters in the file does not matter, as in Buildbot): an
//! unknown secret is then a config error naming it and where `util.Secret` was called.

use std::path::{Path, PathBuf};

use starlark::values::{Value, ValueLike};

use crate::args::{Args, Spec, seq, type_name};
use crate::types::{MasterConfig, ReporterConfig, SecretText};
use crate::values::{Builtin, Item, Obj};

/// `util.Secret(secret_name)`.
pub(crate) static SECRET: Spec = Spec {
    qualname: "util.Secret",
    params: &["secret_name", "default"],
    positional: 1,
    unsupported: &["default"],
    ignored: &[],
};

/// `secrets.SecretInAFile(dirname, suffixes=None, strip=True)`.
pub(crate) static SECRET_IN_A_FILE: Spec = Spec {
    qualname: "secrets.SecretInAFile",
    params: &["dirname", "suffixes", "strip"],
    positional: 1,
    unsupported: &[],
    ignored: &[],
};

/// A `secrets.SecretInAFile`: one file per secret in `dirname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretInAFile {
    /// The directory (relative: to master.cfg's directory).
    pub dirname: String,
    /// File name endings taken off to get the secret's name (`token.txt` → `token`).
    pub suffixes: Vec<String>,
    /// Strip trailing newlines (`\n`, `\r\n`) from the value.
    pub strip: bool,
}

pub(crate) fn secret(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    let name = a.req_str("secret_name")?;
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(a.invalid(
            "secret_name",
            format!("must be a plain name (no '/', not starting with '.'), not {name:?}"),
        ));
    }
    Ok(Item::Secret(name))
}

pub(crate) fn secret_in_a_file(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    let dirname = a.req_str("dirname")?;
    if dirname.is_empty() {
        return Err(a.invalid("dirname", "must not be empty"));
    }
    let suffixes = a.str_or_list("suffixes")?.unwrap_or_default();
    Ok(Item::SecretsProvider(SecretInAFile {
        dirname,
        suffixes,
        strip: a.bool("strip", true)?,
    }))
}

/// A string argument that may also be a `util.Secret(...)`.
pub(crate) fn secret_arg(a: &Args, name: &str) -> starlark::Result<Option<SecretText>> {
    let Some(v) = a.given(name) else {
        return Ok(None);
    };
    secret_value(v)
        .map(Some)
        .ok_or_else(|| a.wrong(name, "a string or a util.Secret(...)", v))
}

/// `v` as a [`SecretText`], if it is a string or a `util.Secret`.
pub(crate) fn secret_value(v: Value) -> Option<SecretText> {
    if let Some(s) = v.unpack_str() {
        return Some(SecretText::literal(s));
    }
    let obj = v.downcast_ref::<Obj>()?;
    match &obj.item {
        Item::Secret(name) => Some(SecretText {
            value: String::new(),
            secret: Some(name.clone()),
            defined_at: Some(obj.loc.to_string()),
        }),
        _ => None,
    }
}

/// Reads `c['secretsProviders']`.
pub(crate) fn providers(v: Value, what: &str) -> Result<Vec<SecretInAFile>, String> {
    let items = seq(v).ok_or_else(|| format!("{what} must be a list, not {}", type_name(v)))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.downcast_ref::<Obj>().map(|o| &o.item) {
            Some(Item::SecretsProvider(p)) => Ok(p.clone()),
            _ => Err(match item.downcast_ref::<Builtin>() {
                Some(b) => format!("{what}[{i}]: {}", b.misuse_message()),
                None => format!(
                    "{what}[{i}] must be a secrets provider such as secrets.SecretInAFile(...), \
                     not {}",
                    type_name(*item)
                ),
            }),
        })
        .collect()
}

/// Fills in every secret the reporters use from `providers` (the first that has it wins);
/// relative directories are taken from `config_dir`. Returns one error per problem.
pub(crate) fn resolve(
    config: &mut MasterConfig,
    providers: &[SecretInAFile],
    config_dir: &Path,
) -> Vec<String> {
    let mut errors = Vec::new();
    for (index, provider) in providers.iter().enumerate() {
        let dir = directory(provider, config_dir);
        if !dir.is_dir() {
            errors.push(format!(
                "c['secretsProviders'][{index}]: secrets.SecretInAFile directory {} does not exist \
                 or is not a directory",
                dir.display()
            ));
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    for text in secret_texts(&mut config.reporters) {
        let Some(name) = text.secret.clone() else {
            continue;
        };
        let at = text.defined_at.clone().unwrap_or_default();
        match lookup(providers, config_dir, &name) {
            Ok(Some(value)) => text.value = value,
            Ok(None) if providers.is_empty() => errors.push(format!(
                "{at}: util.Secret({name:?}) is used but c['secretsProviders'] is not set"
            )),
            Ok(None) => errors.push(format!(
                "{at}: unknown secret {name:?}: no file of that name in c['secretsProviders']"
            )),
            Err(why) => errors.push(format!("{at}: secret {name:?}: {why}")),
        }
    }
    errors
}

fn directory(provider: &SecretInAFile, config_dir: &Path) -> PathBuf {
    let dir = Path::new(&provider.dirname);
    if dir.is_absolute() {
        dir.to_owned()
    } else {
        config_dir.join(dir)
    }
}

/// Every secret-capable argument of the reporters.
fn secret_texts(reporters: &mut [ReporterConfig]) -> Vec<&mut SecretText> {
    let mut texts = Vec::new();
    for reporter in reporters {
        match reporter {
            ReporterConfig::MailNotifier(m) => texts.extend(m.smtp_password.as_mut()),
            ReporterConfig::HttpStatusPush(h) => texts.extend(h.password.as_mut()),
            ReporterConfig::GitHubStatusPush(c) | ReporterConfig::GitLabStatusPush(c) => {
                texts.push(&mut c.token)
            }
        }
    }
    texts
}

/// The value of secret `name`, `None` if no provider has it.
fn lookup(
    providers: &[SecretInAFile],
    config_dir: &Path,
    name: &str,
) -> Result<Option<String>, String> {
    for provider in providers {
        let dir = directory(provider, config_dir);
        let candidates = std::iter::once(name.to_owned())
            .chain(provider.suffixes.iter().map(|s| format!("{name}{s}")));
        for file_name in candidates {
            let path = dir.join(&file_name);
            if !path.is_file() {
                continue;
            }
            check_private(&path)?;
            let mut value = std::fs::read_to_string(&path)
                .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
            if provider.strip {
                let kept = value.trim_end_matches(['\n', '\r']).len();
                value.truncate(kept);
            }
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// Buildbot refuses secret files that the group or others may read.
fn check_private(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("{} cannot be read: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "the permissions {:o} of {} are too open: make it readable by its owner only \
                 (chmod 600)",
                mode & 0o777,
                path.display()
            ));
        }
    }
    Ok(())
}
