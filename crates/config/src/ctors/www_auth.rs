//! The web's auth and authz classes: `util.UserPasswordAuth`, `util.HTPasswdAuth`,
//! `util.Authz`, the endpoint matchers and the role matchers.

use std::collections::BTreeMap;

use starlark::values::dict::DictRef;
use starlark::values::{Value, ValueLike};

use crate::args::{Args, Spec, seq, type_name};
use crate::types::{AllowRule, AuthzConfig, EndpointMatcher, RoleMatcher, WwwAuthConfig, WwwUser};
use crate::values::{Item, Obj};

/// `util.UserPasswordAuth(users)`.
pub(crate) static USER_PASSWORD_AUTH: Spec = Spec {
    qualname: "util.UserPasswordAuth",
    params: &["users"],
    positional: 1,
    unsupported: &[],
    ignored: &[],
};

/// `util.HTPasswdAuth(passwdFile)`.
pub(crate) static HTPASSWD_AUTH: Spec = Spec {
    qualname: "util.HTPasswdAuth",
    params: &["passwdFile"],
    positional: 1,
    unsupported: &[],
    ignored: &[],
};

/// `util.Authz(allowRules=None, roleMatchers=None)`.
pub(crate) static AUTHZ: Spec = Spec {
    qualname: "util.Authz",
    params: &["allowRules", "roleMatchers"],
    positional: 2,
    unsupported: &["stringsMatcher"],
    ignored: &[],
};

macro_rules! matcher_spec {
    ($name:ident, $qualname:literal, $params:expr, $doc:literal) => {
        #[doc = $doc]
        pub(crate) static $name: Spec = Spec {
            qualname: $qualname,
            params: $params,
            positional: 0,
            unsupported: &[],
            ignored: &[],
        };
    };
}

const ROLE_PARAMS: &[&str] = &["role", "defaultDeny"];
const BUILDER_PARAMS: &[&str] = &["builder", "role", "defaultDeny"];

matcher_spec!(
    ANY_ENDPOINT,
    "util.AnyEndpointMatcher",
    ROLE_PARAMS,
    "`util.AnyEndpointMatcher(role=..., defaultDeny=True)`."
);
matcher_spec!(
    ANY_CONTROL,
    "util.AnyControlEndpointMatcher",
    ROLE_PARAMS,
    "`util.AnyControlEndpointMatcher(role=..., defaultDeny=True)`."
);
matcher_spec!(
    ENABLE_SCHEDULER,
    "util.EnableSchedulerEndpointMatcher",
    ROLE_PARAMS,
    "`util.EnableSchedulerEndpointMatcher(role=..., defaultDeny=True)`."
);
matcher_spec!(
    FORCE_BUILD,
    "util.ForceBuildEndpointMatcher",
    BUILDER_PARAMS,
    "`util.ForceBuildEndpointMatcher(builder=None, role=..., defaultDeny=True)`."
);
matcher_spec!(
    STOP_BUILD,
    "util.StopBuildEndpointMatcher",
    BUILDER_PARAMS,
    "`util.StopBuildEndpointMatcher(builder=None, role=..., defaultDeny=True)`."
);
matcher_spec!(
    REBUILD_BUILD,
    "util.RebuildBuildEndpointMatcher",
    BUILDER_PARAMS,
    "`util.RebuildBuildEndpointMatcher(builder=None, role=..., defaultDeny=True)`."
);

/// `util.RolesFromGroups(groupPrefix="")`.
pub(crate) static ROLES_FROM_GROUPS: Spec = Spec {
    qualname: "util.RolesFromGroups",
    params: &["groupPrefix"],
    positional: 1,
    unsupported: &[],
    ignored: &[],
};

/// `util.RolesFromUsername(roles, usernames)`.
pub(crate) static ROLES_FROM_USERNAME: Spec = Spec {
    qualname: "util.RolesFromUsername",
    params: &["roles", "usernames"],
    positional: 2,
    unsupported: &[],
    ignored: &[],
};

pub(crate) fn user_password_auth(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let users_value = a.given("users").ok_or_else(|| a.missing("users"))?;
    let pair = |v: Value| -> Option<(String, String)> {
        let items = seq(v)?;
        match items.as_slice() {
            [user, password] => Some((
                user.unpack_str()?.to_owned(),
                password.unpack_str()?.to_owned(),
            )),
            _ => None,
        }
    };
    let mut users = Vec::new();
    if let Some(dict) = DictRef::from_value(users_value) {
        for (user, password) in dict.iter() {
            match (user.unpack_str(), password.unpack_str()) {
                (Some(user), Some(password)) => users.push(WwwUser {
                    username: user.to_owned(),
                    password: password.to_owned(),
                }),
                _ => {
                    return Err(a.invalid("users", "must map user names to password strings"));
                }
            }
        }
    } else if let Some(items) = seq(users_value) {
        for item in items {
            let (username, password) = pair(item)
                .ok_or_else(|| a.wrong("users", "a list of (user, password) string pairs", item))?;
            users.push(WwwUser { username, password });
        }
    } else {
        return Err(a.wrong(
            "users",
            "a list of (user, password) pairs or a dict",
            users_value,
        ));
    }
    if let Some(user) = users.iter().find(|u| u.username.is_empty()) {
        return Err(a.invalid("users", format!("has an empty user name ({user:?})")));
    }
    Ok(Item::WwwAuth(WwwAuthConfig::UserPassword { users }))
}

pub(crate) fn htpasswd_auth(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let file = a.req_str("passwdFile")?;
    if file.is_empty() {
        return Err(a.invalid("passwdFile", "must not be empty"));
    }
    Ok(Item::WwwAuth(WwwAuthConfig::HtPasswd { file }))
}

pub(crate) fn authz(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let mut config = AuthzConfig::default();
    for item in a.list("allowRules")? {
        match item.downcast_ref::<Obj>().map(|o| &o.item) {
            Some(Item::AllowRule(rule)) => config.allow_rules.push(rule.clone()),
            _ => {
                return Err(a.wrong(
                    "allowRules",
                    "a list of endpoint matchers (util.AnyEndpointMatcher(role=...), ...)",
                    item,
                ));
            }
        }
    }
    for item in a.list("roleMatchers")? {
        match item.downcast_ref::<Obj>().map(|o| &o.item) {
            Some(Item::RoleMatcher(matcher)) => config.role_matchers.push(matcher.clone()),
            _ => {
                return Err(a.wrong(
                    "roleMatchers",
                    "a list of role matchers (util.RolesFromUsername(...), ...)",
                    item,
                ));
            }
        }
    }
    Ok(Item::Authz(config))
}

fn rule(a: &Args, matcher: EndpointMatcher) -> starlark::Result<Item> {
    let role = a.req_str("role")?;
    Ok(Item::AllowRule(AllowRule {
        matcher,
        role,
        default_deny: a.bool("defaultDeny", true)?,
    }))
}

pub(crate) fn any_endpoint(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    rule(a, EndpointMatcher::Any)
}

pub(crate) fn any_control(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    rule(a, EndpointMatcher::AnyControl)
}

pub(crate) fn enable_scheduler(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    rule(a, EndpointMatcher::EnableScheduler)
}

pub(crate) fn force_build(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let builder = a.str("builder")?;
    rule(a, EndpointMatcher::ForceBuild { builder })
}

pub(crate) fn stop_build(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let builder = a.str("builder")?;
    rule(a, EndpointMatcher::StopBuild { builder })
}

pub(crate) fn rebuild_build(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let builder = a.str("builder")?;
    rule(a, EndpointMatcher::RebuildBuild { builder })
}

pub(crate) fn roles_from_groups(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    Ok(Item::RoleMatcher(RoleMatcher::FromGroups {
        group_prefix: a.str("groupPrefix")?.unwrap_or_default(),
    }))
}

pub(crate) fn roles_from_username(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    if a.given("roles").is_none() {
        return Err(a.missing("roles"));
    }
    if a.given("usernames").is_none() {
        return Err(a.missing("usernames"));
    }
    Ok(Item::RoleMatcher(RoleMatcher::FromUsername {
        roles: a.str_list("roles")?,
        usernames: a.str_list("usernames")?,
    }))
}

/// `util.RolesFromEmails(admins=["a@example.org"], ...)`: every keyword is a role. Its
/// arguments are free-form, so it is bound here rather than through a [`Spec`].
pub(crate) fn roles_from_emails(kwargs: &[(String, Value)]) -> Result<RoleMatcher, String> {
    let mut roles_by_email: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (role, emails) in kwargs {
        let items = seq(*emails).ok_or_else(|| {
            format!(
                "util.RolesFromEmails: {role} must be a list of emails, not {}",
                type_name(*emails)
            )
        })?;
        for email in items {
            let email = email.unpack_str().ok_or_else(|| {
                format!(
                    "util.RolesFromEmails: {role} must be a list of strings, found {}",
                    type_name(email)
                )
            })?;
            roles_by_email
                .entry(email.to_owned())
                .or_default()
                .push(role.clone());
        }
    }
    Ok(RoleMatcher::FromEmails { roles_by_email })
}
