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
        (h.user.as_deref(), h.password.as_deref()),
        (Some("ci"), Some("pw"))
    );
    assert_eq!(h.headers.get("X-Team").map(String::as_str), Some("widgets"));
    assert!(!h.verify && h.debug);
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
    assert_eq!(g.token, "ghp_x");
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
            "'generators' is not supported yet",
        ),
        ("reporters.GitHubStatusPush()", "token"),
        (
            "reporters.GitHubStatusPush(token=util.Secret('t'))",
            "util.Secret is not supported yet",
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
