//! `c['services']` with `reporters.HttpStatusPush`, `reporters.GitHubStatusPush` and
//! `reporters.GitLabStatusPush`.

mod common;

use common::{assert_mentions, error, load_with_base};
use ferrobot_config::ReporterConfig;

fn reporter(call: &str) -> ReporterConfig {
    let cfg = load_with_base(&format!("c['services'] = [{call}]\n"));
    match cfg.reporters.as_slice() {
        [one] => one.clone(),
        other => panic!("expected one reporter, got {other:?}"),
    }
}

#[test]
fn http_status_push_takes_its_url_credentials_and_headers() {
    let ReporterConfig::HttpStatusPush(h) = reporter(
        "reporters.HttpStatusPush('https://ci.example.org/hook', auth=('ci', 'pw'), \
         headers={'X-Team': 'widgets'}, verify=False, debug=True)",
    ) else {
        panic!("not an HttpStatusPush");
    };
    assert_eq!(h.server_url, "https://ci.example.org/hook");
    assert_eq!(
        (h.user.as_deref(), h.password.as_ref().map(|p| p.expose())),
        (Some("ci"), Some("pw"))
    );
    assert_eq!(h.headers.get("X-Team").map(String::as_str), Some("widgets"));
    assert!(!h.verify && h.debug && h.ca_file.is_none());
    // Buildbot's default generator: every start, and ends by the default modes.
    let [g] = h.generators.as_slice() else {
        panic!("one default generator: {:?}", h.generators);
    };
    assert!(g.report_new);
    assert_eq!(
        g.mode,
        [
            ferrobot_config::MailMode::Failing,
            ferrobot_config::MailMode::Passing,
            ferrobot_config::MailMode::Warnings
        ]
    );
    assert!(
        !format!("{h:?}").contains("\"pw\""),
        "password redacted: {h:?}"
    );
}

#[test]
fn commit_status_reporters_default_to_the_public_services() {
    let ReporterConfig::GitHubStatusPush(g) = reporter("reporters.GitHubStatusPush('ghp_x')")
    else {
        panic!("not a GitHubStatusPush");
    };
    assert_eq!(g.base_url, "https://api.github.com");
    assert_eq!(g.token.expose(), "ghp_x");
    assert!(g.verify && g.generators.is_empty());
    assert_eq!(g.context, None);
    assert!(!format!("{g:?}").contains("ghp_x"), "token redacted: {g:?}");
    let ReporterConfig::GitLabStatusPush(l) = reporter(
        "reporters.GitLabStatusPush(token='glpat', context='ci/widgets', \
         baseURL='https://gitlab.example.org/')",
    ) else {
        panic!("not a GitLabStatusPush");
    };
    assert_eq!(l.base_url, "https://gitlab.example.org");
    assert_eq!(l.context.as_deref(), Some("ci/widgets"));
}

#[test]
fn status_pushes_take_a_ca_bundle_and_generators() {
    let ReporterConfig::HttpStatusPush(h) = reporter(
        "reporters.HttpStatusPush('https://ci.example.org/hook', verify='/etc/ci/ca.pem', \
         generators=[reporters.BuildStatusGenerator(mode='failing', report_new=True)])",
    ) else {
        panic!("not an HttpStatusPush");
    };
    assert!(h.verify);
    assert_eq!(h.ca_file.as_deref(), Some("/etc/ci/ca.pem"));
    assert!(h.generators[0].report_new);
    let ReporterConfig::GitHubStatusPush(g) = reporter(
        "reporters.GitHubStatusPush('t', generators=[reporters.BuildStartEndStatusGenerator(builders=['b1'])])",
    ) else {
        panic!("not a GitHubStatusPush");
    };
    assert_eq!(g.generators[0].builders, ["b1"]);
}

#[test]
fn bad_status_push_arguments_are_named() {
    for (call, fragment) in [
        (
            "reporters.HttpStatusPush(serverUrl='ftp://x')",
            "'serverUrl' must be an http:// or https:// URL",
        ),
        (
            "reporters.HttpStatusPush('http://x', auth='ci')",
            "'auth' must be a (user, password) tuple",
        ),
        (
            "reporters.HttpStatusPush('http://x', headers={'X': 1})",
            "'headers' must map names to strings",
        ),
        (
            "reporters.HttpStatusPush('http://x', generators=[1])",
            "'generators' must hold reporters.BuildStatusGenerator",
        ),
        (
            "reporters.HttpStatusPush('http://x', verify=3)",
            "'verify' must be True, False or the path of a CA bundle",
        ),
        ("reporters.GitHubStatusPush()", "token"),
        (
            "reporters.GitHubStatusPush(token=util.Secret('t'))",
            "util.Secret(\"t\") is used but c['secretsProviders'] is not set",
        ),
        (
            "reporters.GitLabStatusPush('t', startDescription='go')",
            "'startDescription' is not supported yet",
        ),
    ] {
        let message = error(&format!("c['services'] = [{call}]\n"));
        assert_mentions(&message, &[fragment]);
    }
}
