//! Authorization (`c['www']['authz']`, reference/buildbot.md §5.5) as Buildbot's `Authz`:
//! the user's roles come from the role matchers; the allow rules are tried in order and the
//! first whose endpoint matcher matches decides: allowed if one of the user's roles matches
//! the rule's role (an fnmatch pattern), else refused, unless the rule says
//! `defaultDeny=False`, when the next rule is tried. No matching rule allows.

use std::collections::BTreeSet;

use ferrobot_config::{AuthzConfig, EndpointMatcher, RoleMatcher};
use serde_json::{Map, Value};

use crate::context::Context;
use crate::www::auth::UserInfo;
use crate::www::forcesched;
use crate::www::paths::{BuildRef, Endpoint};
use crate::www::resolve;

/// The action of a plain read (REST GET, `/ws`, `/sse`).
pub const GET: &str = "get";

/// A refusal: the role the matching rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The rule's role.
    pub role: String,
}

impl Denied {
    /// Buildbot's message.
    pub fn message(&self) -> String {
        format!("you need to have role '{}'", self.role)
    }
}

/// The roles of a user under these matchers.
pub fn roles(authz: &AuthzConfig, user: &UserInfo) -> BTreeSet<String> {
    let mut roles = BTreeSet::new();
    for matcher in &authz.role_matchers {
        match matcher {
            RoleMatcher::FromGroups { group_prefix } => roles.extend(
                user.groups
                    .iter()
                    .filter_map(|g| g.strip_prefix(group_prefix.as_str()))
                    .map(str::to_owned),
            ),
            RoleMatcher::FromEmails { roles_by_email } => {
                if let Some(found) = user.email.as_ref().and_then(|e| roles_by_email.get(e)) {
                    roles.extend(found.iter().cloned());
                }
            }
            RoleMatcher::FromUsername {
                roles: given,
                usernames,
            } => {
                if user
                    .username
                    .as_ref()
                    .is_some_and(|u| usernames.contains(u))
                {
                    roles.extend(given.iter().cloned());
                }
            }
        }
    }
    roles
}

/// Whether `user` may do `action` (`get` or a JSON-RPC method) on `endpoint`.
pub async fn check(
    ctx: &Context,
    user: &UserInfo,
    endpoint: Option<&Endpoint>,
    action: &str,
    params: &Map<String, Value>,
) -> Result<(), Denied> {
    let config = ctx.config();
    let authz = &config.www.authz;
    if authz.allow_rules.is_empty() {
        return Ok(());
    }
    let user_roles = roles(authz, user);
    for rule in &authz.allow_rules {
        if !matches(ctx, &rule.matcher, endpoint, action, params).await {
            continue;
        }
        if user_roles.iter().any(|role| fnmatch(&rule.role, role)) {
            return Ok(());
        }
        if rule.default_deny {
            return Err(Denied {
                role: rule.role.clone(),
            });
        }
    }
    Ok(())
}

async fn matches(
    ctx: &Context,
    matcher: &EndpointMatcher,
    endpoint: Option<&Endpoint>,
    action: &str,
    params: &Map<String, Value>,
) -> bool {
    use EndpointMatcher as M;
    match (matcher, endpoint, action) {
        (M::Any, ..) => true,
        (M::AnyControl, _, action) => !action.eq_ignore_ascii_case(GET),
        (M::ForceBuild { builder }, Some(Endpoint::ForceScheduler(name)), "force") => {
            let Some(pattern) = builder else {
                return true;
            };
            forced_builders(ctx, name, params)
                .await
                .iter()
                .any(|b| fnmatch(pattern, b))
        }
        // Buildbot's stop matcher covers builds; Ferrobot also lets it cover cancelling a
        // request, the same "stop this work" button on a pending build.
        (M::StopBuild { builder }, Some(Endpoint::Build(build)), "stop")
        | (M::RebuildBuild { builder }, Some(Endpoint::Build(build)), "rebuild") => {
            builder_matches(ctx, builder.as_deref(), BuilderOf::Build(build)).await
        }
        (M::StopBuild { builder }, Some(Endpoint::BuildRequest(brid)), "cancel" | "stop") => {
            builder_matches(ctx, builder.as_deref(), BuilderOf::Request(*brid)).await
        }
        (M::EnableScheduler, Some(Endpoint::Scheduler(_)), "enable") => true,
        _ => false,
    }
}

enum BuilderOf<'a> {
    Build(&'a BuildRef),
    Request(i64),
}

/// Whether the builder of a build or request matches the pattern (no pattern: always). A
/// build or request that does not exist matches nothing; the action then answers 404.
async fn builder_matches(ctx: &Context, pattern: Option<&str>, of: BuilderOf<'_>) -> bool {
    let Some(pattern) = pattern else {
        return true;
    };
    let builderid = match of {
        BuilderOf::Build(build) => resolve::build(ctx, build).await.ok().map(|b| b.builderid),
        BuilderOf::Request(brid) => ctx
            .store
            .buildrequest(brid)
            .await
            .ok()
            .flatten()
            .map(|r| r.builderid),
    };
    let Some(builderid) = builderid else {
        return false;
    };
    match ctx.store.builder(builderid).await {
        Ok(Some(builder)) => fnmatch(pattern, &builder.name),
        _ => false,
    }
}

/// The builders a force would build: `builderNames`, else `builderid`'s, else all of the
/// scheduler's (Buildbot's `computeBuilderNames`).
async fn forced_builders(
    ctx: &Context,
    scheduler: &str,
    params: &Map<String, Value>,
) -> Vec<String> {
    if let Some(Value::Array(names)) = params.get("builderNames")
        && !names.is_empty()
    {
        return names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    if let Some(builderid) = params.get("builderid").and_then(crate::www::force::integer)
        && let Ok(Some(builder)) = ctx.store.builder(builderid).await
    {
        return vec![builder.name];
    }
    let config = ctx.config();
    forcesched::configured(&config)
        .into_iter()
        .find(|s| s.name == scheduler)
        .map(|s| s.builder_names.clone())
        .unwrap_or_default()
}

/// Python's `fnmatch.fnmatch` (case-sensitive, as on POSIX): `*`, `?`, `[seq]`, `[!seq]`.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    glob(&pattern, &text)
}

fn glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some('*') => (0..=text.len()).any(|skip| glob(&pattern[1..], &text[skip..])),
        Some('?') => !text.is_empty() && glob(&pattern[1..], &text[1..]),
        Some('[') => match (class(&pattern[1..]), text.first()) {
            (Some((accepts, rest)), Some(c)) => accepts(*c) && glob(rest, &text[1..]),
            // An unclosed `[` is a literal, as in Python.
            (None, Some('[')) => glob(&pattern[1..], &text[1..]),
            _ => false,
        },
        Some(c) => text.first() == Some(c) && glob(&pattern[1..], &text[1..]),
    }
}

type Accepts<'p> = Box<dyn Fn(char) -> bool + 'p>;

/// A `[...]` class after its `[`: the test and the pattern after its `]`.
fn class(pattern: &[char]) -> Option<(Accepts<'_>, &[char])> {
    let (negated, body) = match pattern.first() {
        Some('!') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    // A `]` right after the opening is a member, not the end.
    let end = body.iter().skip(1).position(|c| *c == ']')? + 1;
    let members = &body[..end];
    let accepts = move |c: char| {
        let mut i = 0;
        let mut hit = false;
        while i < members.len() {
            if i + 2 < members.len() && members[i + 1] == '-' {
                hit |= members[i] <= c && c <= members[i + 2];
                i += 3;
            } else {
                hit |= members[i] == c;
                i += 1;
            }
        }
        hit != negated
    };
    Some((Box::new(accepts), &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_follows_python() {
        assert!(fnmatch("admins", "admins"));
        assert!(fnmatch("*", "anything"));
        assert!(fnmatch("linux*", "linux-x86"));
        assert!(!fnmatch("linux*", "windows"));
        assert!(fnmatch("b?ild", "build"));
        assert!(fnmatch("[ab]*", "beta"));
        assert!(!fnmatch("[!ab]*", "beta"));
        assert!(fnmatch("v[0-9]", "v7"));
        assert!(!fnmatch("admins", "admin"));
    }

    #[test]
    fn roles_come_from_every_matcher() {
        let authz = AuthzConfig {
            allow_rules: Vec::new(),
            role_matchers: vec![
                RoleMatcher::FromUsername {
                    roles: vec!["admins".into()],
                    usernames: vec!["alice".into()],
                },
                RoleMatcher::FromGroups {
                    group_prefix: "ci-".into(),
                },
                RoleMatcher::FromEmails {
                    roles_by_email: [("alice@example.org".to_owned(), vec!["mail".to_owned()])]
                        .into(),
                },
            ],
        };
        let mut alice = UserInfo::named("alice");
        alice.groups = vec!["ci-builders".into(), "other".into()];
        alice.email = Some("alice@example.org".into());
        let got: Vec<String> = roles(&authz, &alice).into_iter().collect();
        assert_eq!(got, ["admins", "builders", "mail"]);
        assert!(roles(&authz, &UserInfo::default()).is_empty());
    }
}
