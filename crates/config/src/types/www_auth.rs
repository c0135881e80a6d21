//! `c['www']['auth']` and `c['www']['authz']`: who may log in to the web, and which roles may
//! do what (reference/buildbot.md §5.5, §5.9).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How web users authenticate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WwwAuthConfig {
    /// No login; everyone is anonymous (Buildbot's default).
    #[default]
    NoAuth,
    /// `util.UserPasswordAuth(users)`: users and passwords written in master.cfg.
    UserPassword {
        /// The accepted users.
        users: Vec<WwwUser>,
    },
    /// `util.HTPasswdAuth(passwdFile)`: an htpasswd file, read at each login so edits apply
    /// without a reconfig. Lines in bcrypt (`$2y$`, `$2a$`, `$2b$`) and `{SHA}` form are
    /// accepted.
    HtPasswd {
        /// The file, relative to the master directory unless absolute.
        file: String,
    },
}

impl WwwAuthConfig {
    /// The plugin's name as the frontend config shows it (`auth.name`).
    pub fn name(&self) -> &'static str {
        match self {
            WwwAuthConfig::NoAuth => "NoAuth",
            WwwAuthConfig::UserPassword { .. } => "UserPasswordAuth",
            WwwAuthConfig::HtPasswd { .. } => "HTPasswdAuth",
        }
    }
}

/// A user of `util.UserPasswordAuth`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WwwUser {
    /// The login name.
    pub username: String,
    /// The password; never printed by `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub password: String,
}

impl std::fmt::Debug for WwwUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WwwUser")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `util.Authz(allowRules=[...], roleMatchers=[...])`. With no rules everything is allowed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthzConfig {
    /// The rules, tried in order: the first whose endpoint matcher matches decides, unless it
    /// has `defaultDeny=False` and the user lacks its role (then the next rule is tried).
    pub allow_rules: Vec<AllowRule>,
    /// How a user's roles are worked out.
    pub role_matchers: Vec<RoleMatcher>,
}

/// One entry of `allowRules`: an endpoint matcher with the role it requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowRule {
    /// What the rule applies to.
    pub matcher: EndpointMatcher,
    /// The role needed (an fnmatch pattern against the user's roles).
    pub role: String,
    /// `defaultDeny`: refuse when the user lacks the role (default True).
    pub default_deny: bool,
}

/// Which requests an [`AllowRule`] covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EndpointMatcher {
    /// `util.AnyEndpointMatcher`: every request, reads too.
    Any,
    /// `util.AnyControlEndpointMatcher`: every control action (JSON-RPC POST).
    AnyControl,
    /// `util.ForceBuildEndpointMatcher(builder=...)`: `force` on a forcescheduler.
    ForceBuild {
        /// Only forces of a builder matching this fnmatch pattern.
        builder: Option<String>,
    },
    /// `util.StopBuildEndpointMatcher(builder=...)`: `stop` on a build or build request.
    StopBuild {
        /// Only builds of a builder matching this pattern.
        builder: Option<String>,
    },
    /// `util.RebuildBuildEndpointMatcher(builder=...)`: `rebuild` on a build.
    RebuildBuild {
        /// Only builds of a builder matching this pattern.
        builder: Option<String>,
    },
    /// `util.EnableSchedulerEndpointMatcher`: `enable` on a scheduler.
    EnableScheduler,
}

/// Where a user's roles come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RoleMatcher {
    /// `util.RolesFromGroups(groupPrefix="")`: each group starting with the prefix, without it.
    FromGroups {
        /// The prefix.
        group_prefix: String,
    },
    /// `util.RolesFromEmails(role=[emails], ...)`: roles by the user's email.
    FromEmails {
        /// Email → roles.
        roles_by_email: BTreeMap<String, Vec<String>>,
    },
    /// `util.RolesFromUsername(roles=[...], usernames=[...])`: these roles for these users.
    FromUsername {
        /// The roles given.
        roles: Vec<String>,
        /// To these users.
        usernames: Vec<String>,
    },
}
