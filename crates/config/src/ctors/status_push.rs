//! The status push reporters: `reporters.HttpStatusPush`, `reporters.GitHubStatusPush` and
//! `reporters.GitLabStatusPush`.

use std::collections::BTreeMap;

use super::generators::{default_build_status_generator, generators_arg};
use super::secrets::{secret_arg, secret_value};
use crate::args::{Args, Spec, err, seq};
use crate::types::{CommitStatusPushConfig, HttpStatusPushConfig, ReporterConfig};
use crate::values::Item;

/// `reporters.HttpStatusPush(serverUrl, auth=None, headers=None, debug=None, verify=None)`.
pub(crate) static HTTP_STATUS_PUSH: Spec = Spec {
    qualname: "reporters.HttpStatusPush",
    params: &[
        "serverUrl",
        "auth",
        "headers",
        "debug",
        "verify",
        "generators",
    ],
    positional: 1,
    unsupported: &[
        "cert",
        "skip_encoding",
        "user",
        "password",
        "format_fn",
        "builders",
        "wantProperties",
        "wantSteps",
        "wantPreviousBuild",
        "wantLogs",
        "name",
    ],
    ignored: &[],
};

/// Arguments both commit status reporters take.
const COMMIT_STATUS_PARAMS: &[&str] = &[
    "token",
    "context",
    "baseURL",
    "verbose",
    "debug",
    "verify",
    "generators",
];
/// Arguments of theirs Ferrobot does not implement yet.
const COMMIT_STATUS_UNSUPPORTED: &[&str] =
    &["startDescription", "endDescription", "builders", "name"];

/// `reporters.GitHubStatusPush(token, context=None, baseURL=None, verbose=False, ...)`.
pub(crate) static GITHUB_STATUS_PUSH: Spec = Spec {
    qualname: "reporters.GitHubStatusPush",
    params: COMMIT_STATUS_PARAMS,
    positional: 1,
    unsupported: COMMIT_STATUS_UNSUPPORTED,
    ignored: &[],
};

/// `reporters.GitLabStatusPush(token, context=None, baseURL=None, verbose=False, ...)`.
pub(crate) static GITLAB_STATUS_PUSH: Spec = Spec {
    qualname: "reporters.GitLabStatusPush",
    params: COMMIT_STATUS_PARAMS,
    positional: 1,
    unsupported: COMMIT_STATUS_UNSUPPORTED,
    ignored: &[],
};

pub(crate) fn http_status_push(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    let server_url =
        url(a, "serverUrl", a.str("serverUrl")?)?.ok_or_else(|| a.missing("serverUrl"))?;
    let (user, password) = match a.given("auth") {
        None => (None, None),
        Some(v) => {
            let pair = seq(v).filter(|items| items.len() == 2);
            let user = pair.as_ref().and_then(|p| p[0].unpack_str());
            let password = pair.as_ref().and_then(|p| secret_value(p[1]));
            match (user, password) {
                (Some(user), Some(password)) => (Some(user.to_owned()), Some(password)),
                _ => {
                    return Err(a.wrong(
                        "auth",
                        "a (user, password) tuple of strings (the password may be a util.Secret)",
                        v,
                    ));
                }
            }
        }
    };
    let mut headers = BTreeMap::new();
    for (name, value) in a.json_dict("headers")? {
        let Some(value) = value.as_str() else {
            return Err(a.invalid(
                "headers",
                format!("must map names to strings, not {name:?} to {value}"),
            ));
        };
        headers.insert(name, value.to_owned());
    }
    let (verify, ca_file) = verify(a)?;
    // Buildbot's default: finished builds by the default modes, and every start.
    let mut generators = generators_arg(a)?;
    if generators.is_empty() {
        generators.push(default_build_status_generator(true));
    }
    Ok(Item::Reporter(ReporterConfig::HttpStatusPush(
        HttpStatusPushConfig {
            server_url,
            user,
            password,
            headers,
            verify,
            ca_file,
            debug: a.bool("debug", false)?,
            generators,
        },
    )))
}

pub(crate) fn github_status_push(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    commit_status(a, "https://api.github.com")
        .map(|c| Item::Reporter(ReporterConfig::GitHubStatusPush(c)))
}

pub(crate) fn gitlab_status_push(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    commit_status(a, "https://gitlab.com")
        .map(|c| Item::Reporter(ReporterConfig::GitLabStatusPush(c)))
}

/// The arguments GitHub's and GitLab's reporters share; `default_base` is the public service.
fn commit_status(a: &Args, default_base: &str) -> starlark::Result<CommitStatusPushConfig> {
    let token = secret_arg(a, "token")?.ok_or_else(|| a.missing("token"))?;
    if token.secret.is_none() && token.expose().is_empty() {
        return Err(a.invalid("token", "must not be empty"));
    }
    let (verify, ca_file) = verify(a)?;
    let base_url = url(a, "baseURL", a.str("baseURL")?)?.unwrap_or_else(|| default_base.to_owned());
    Ok(CommitStatusPushConfig {
        token,
        context: a.str("context")?,
        base_url: base_url.trim_end_matches('/').to_owned(),
        verify,
        ca_file,
        debug: a.bool("debug", false)? || a.bool("verbose", false)?,
        generators: generators_arg(a)?,
    })
}

/// `verify`: True/False, or (as in Python's requests) the path of a CA bundle to trust.
fn verify(a: &Args) -> starlark::Result<(bool, Option<String>)> {
    match a.given("verify") {
        None => Ok((true, None)),
        Some(v) => match (v.unpack_bool(), v.unpack_str()) {
            (Some(verify), _) => Ok((verify, None)),
            (None, Some(path)) if !path.is_empty() => Ok((true, Some(path.to_owned()))),
            _ => Err(a.wrong("verify", "True, False or the path of a CA bundle", v)),
        },
    }
}

/// An http(s) URL argument, checked for its scheme.
fn url(a: &Args, name: &str, value: Option<String>) -> starlark::Result<Option<String>> {
    match value {
        Some(v) if !(v.starts_with("http://") || v.starts_with("https://")) => Err(err(format!(
            "{}() argument '{name}' must be an http:// or https:// URL, not {v:?}",
            a.qualname()
        ))),
        other => Ok(other),
    }
}
