use ferrobot_config::{MailNotifierConfig, MessageFormatterConfig};
use serde_json::json;

use super::*;

fn config(template: Option<&str>, subject: Option<&str>) -> MailNotifierConfig {
    let mut config = crate::reporters::tests::notifier();
    config.message_formatter.template = template.map(str::to_owned);
    config.message_formatter.subject = subject.map(str::to_owned);
    config
}

/// Renders with `config`'s old-style formatter.
fn render(config: &MailNotifierConfig, context: &serde_json::Value) -> Result<Rendered, Error> {
    super::render(&config.message_formatter, None, context)
}

fn context() -> serde_json::Value {
    json!({
        "results": 2,
        "result_names": ["success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"],
        "result": "failure", "title": "CI", "builder": "b1", "buildername": "b1",
        "summary": "BUILD FAILED: failed test", "status_detected": "failed build",
        "workername": "w1", "projects": "proj", "build_url": "http://ci/#/builders/1/builds/3",
        "blamelist": ["alice", "Bob <bob@x.org>"],
        "build": {"state_string": "failed test", "properties": {"reason": ["forced", "Force"]},
                  "steps": [{"number": 0, "name": "test", "results": 2}]},
    })
}

#[test]
fn the_default_subject_and_body_are_buildbots() {
    let rendered = render(&config(None, None), &context()).expect("renders");
    assert_eq!(rendered.subject, "Buildbot failure in CI on b1");
    assert!(!rendered.html);
    for line in [
        "The Buildbot has detected a failed build on builder b1 while building proj.",
        "    http://ci/#/builders/1/builds/3",
        "Build Reason: forced",
        "Revision: (unknown)",
        "Blamelist: alice, Bob <bob@x.org>",
        "- 0: test ( failure )",
    ] {
        assert!(
            rendered.body.contains(line),
            "{line:?} in:\n{}",
            rendered.body
        );
    }
}

#[test]
fn custom_templates_use_python_style_methods_and_one_line_subjects() {
    let rendered = render(
        &config(
            Some("{{ build['properties'].get('reason')[0] }} by {{ ', '.join(blamelist) }}"),
            Some("{{ summary }}\n on {{ buildername }}"),
        ),
        &context(),
    )
    .expect("renders");
    assert_eq!(rendered.body, "forced by alice, Bob <bob@x.org>");
    assert_eq!(rendered.subject, "BUILD FAILED: failed test on b1");
}

#[test]
fn a_broken_template_is_an_error_naming_the_part() {
    let error = render(&config(Some("{% for %}"), None), &context()).expect_err("bad");
    assert!(
        error.to_string().starts_with("template error in the body"),
        "{error}"
    );
}

#[test]
fn recipients_are_extra_then_interested_users_through_lookup() {
    let users = [
        "alice".to_owned(),
        "Bob <bob@x.org>".to_owned(),
        "team@example.org".to_owned(),
    ];
    assert_eq!(
        recipients(&config(None, None), &users),
        ["team@example.org", "alice@example.org", "bob@x.org"]
    );
    let mut quiet = config(None, None);
    quiet.send_to_interested_users = false;
    assert_eq!(recipients(&quiet, &users), ["team@example.org"]);
    let mut no_lookup = config(None, None);
    no_lookup.lookup = None;
    assert_eq!(
        recipients(&no_lookup, &users),
        ["team@example.org", "bob@x.org"],
        "a bare name without lookup has no address"
    );
}

#[test]
fn an_old_style_percent_subject_names_the_result_title_and_builder() {
    let formatter = MessageFormatterConfig::default();
    let rendered = super::render(
        &formatter,
        Some("%(result)s: %(projectName)s/%(builder)s at 100%% {{ raw }}"),
        &context(),
    )
    .expect("renders");
    assert_eq!(rendered.subject, "failure: CI/b1 at 100% {{ raw }}");
}
