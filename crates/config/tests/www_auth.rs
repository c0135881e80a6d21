//! `c['www']['auth']` and `c['www']['authz']`.

mod common;

use common::{assert_mentions, error, load_with_base};
use ferrobot_config::{AllowRule, EndpointMatcher, RoleMatcher, WwwAuthConfig};

#[test]
fn the_default_is_no_auth_and_no_rules() {
    let cfg = load_with_base("");
    assert_eq!(cfg.www.auth, WwwAuthConfig::NoAuth);
    assert!(cfg.www.authz.allow_rules.is_empty());
}

#[test]
fn user_password_auth_takes_pairs_or_a_dict() {
    let pairs = load_with_base(
        "c['www'] = dict(port=8010, auth=util.UserPasswordAuth([('alice', 'pw1'), ('bob', 'pw2')]))\n",
    );
    let WwwAuthConfig::UserPassword { users } = &pairs.www.auth else {
        panic!("not UserPasswordAuth: {:?}", pairs.www.auth);
    };
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(users[1].password, "pw2");
    assert!(
        !format!("{users:?}").contains("pw1"),
        "passwords are redacted"
    );

    let dict = load_with_base("c['www'] = {'auth': util.UserPasswordAuth({'carol': 'x'})}\n");
    assert_eq!(dict.www.auth.name(), "UserPasswordAuth");
}

#[test]
fn htpasswd_auth_names_its_file() {
    let cfg = load_with_base("c['www'] = {'auth': util.HTPasswdAuth('htpasswd')}\n");
    assert_eq!(
        cfg.www.auth,
        WwwAuthConfig::HtPasswd {
            file: "htpasswd".into()
        }
    );
}

#[test]
fn authz_keeps_rules_in_order_with_their_roles() {
    let cfg = load_with_base(
        r#"
c['www'] = dict(authz=util.Authz(
    allowRules=[
        util.ForceBuildEndpointMatcher(builder="linux*", role="builders", defaultDeny=False),
        util.StopBuildEndpointMatcher(role="admins"),
        util.RebuildBuildEndpointMatcher(role="admins"),
        util.EnableSchedulerEndpointMatcher(role="admins"),
        util.AnyControlEndpointMatcher(role="admins"),
        util.AnyEndpointMatcher(role="readers"),
    ],
    roleMatchers=[
        util.RolesFromUsername(roles=["admins"], usernames=["alice"]),
        util.RolesFromGroups(groupPrefix="ci-"),
        util.RolesFromEmails(builders=["bob@example.org"], admins=["root@example.org"]),
    ],
))
"#,
    );
    let rules = &cfg.www.authz.allow_rules;
    assert_eq!(rules.len(), 6);
    assert_eq!(
        rules[0],
        AllowRule {
            matcher: EndpointMatcher::ForceBuild {
                builder: Some("linux*".into())
            },
            role: "builders".into(),
            default_deny: false,
        }
    );
    assert_eq!(
        rules[1].matcher,
        EndpointMatcher::StopBuild { builder: None }
    );
    assert!(rules[1].default_deny);
    assert_eq!(rules[4].matcher, EndpointMatcher::AnyControl);
    assert_eq!(rules[5].matcher, EndpointMatcher::Any);
    let matchers = &cfg.www.authz.role_matchers;
    assert_eq!(
        matchers[0],
        RoleMatcher::FromUsername {
            roles: vec!["admins".into()],
            usernames: vec!["alice".into()]
        }
    );
    assert_eq!(
        matchers[1],
        RoleMatcher::FromGroups {
            group_prefix: "ci-".into()
        }
    );
    let RoleMatcher::FromEmails { roles_by_email } = &matchers[2] else {
        panic!("not RolesFromEmails: {:?}", matchers[2]);
    };
    assert_eq!(roles_by_email["bob@example.org"], ["builders"]);
}

#[test]
fn bad_auth_and_authz_values_are_named() {
    let wrong_auth = error("c = BuildmasterConfig = {}\nc['www'] = {'auth': 'yes'}\n");
    assert_mentions(&wrong_auth, &["c['www']['auth']", "util.UserPasswordAuth"]);
    let bad_users = error("c = BuildmasterConfig = {}\nu = util.UserPasswordAuth([('alice',)])\n");
    assert_mentions(&bad_users, &["util.UserPasswordAuth", "users"]);
    let no_role = error("c = BuildmasterConfig = {}\nm = util.StopBuildEndpointMatcher()\n");
    assert_mentions(&no_role, &["util.StopBuildEndpointMatcher", "role"]);
    let not_a_rule = error("c = BuildmasterConfig = {}\nz = util.Authz(allowRules=['admins'])\n");
    assert_mentions(
        &not_a_rule,
        &["util.Authz", "allowRules", "endpoint matchers"],
    );
    let bad_emails = error("c = BuildmasterConfig = {}\nr = util.RolesFromEmails(admins='a@b')\n");
    assert_mentions(&bad_emails, &["util.RolesFromEmails", "admins", "list"]);
}
