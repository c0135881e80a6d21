//! `c['services']` with `reporters.MailNotifier` and `reporters.MessageFormatter`.

mod common;

use common::{assert_mentions, error, load_with_base};
use ferrobot_config::{MailMode, MailNotifierConfig, ReporterConfig, TemplateType};

fn mail(extra: &str) -> MailNotifierConfig {
    let cfg = load_with_base(&format!("c['services'] = [{extra}]\n"));
    match cfg.reporters.as_slice() {
        [ReporterConfig::MailNotifier(m)] => m.clone(),
        other => panic!("expected one MailNotifier, got {other:?}"),
    }
}

#[test]
fn the_seed_mail_notifier_reads_as_buildbot_means_it() {
    let m = mail(
        r#"reporters.MailNotifier(fromaddr="projectHost@your.domain", sendToInterestedUsers=True,
            lookup="your.domain", relayhost="smtp.your.domain", smtpPort=1025, mode="warnings",
            extraRecipients=['user@your.domain'],
            messageFormatter=reporters.MessageFormatter(template=u'''<h4>{{ summary }}</h4>''',
                template_type='html', wantProperties=True, wantSteps=True))"#,
    );
    assert_eq!(m.fromaddr, "projectHost@your.domain");
    assert!(m.send_to_interested_users);
    assert_eq!(m.lookup.as_deref(), Some("your.domain"));
    assert_eq!(
        (m.relayhost.as_str(), m.smtp_port),
        ("smtp.your.domain", 1025)
    );
    // Buildbot's shortcut: "warnings" means failing or warnings.
    assert_eq!(m.mode, [MailMode::Failing, MailMode::Warnings]);
    assert_eq!(m.extra_recipients, ["user@your.domain"]);
    let f = &m.message_formatter;
    assert_eq!(f.template.as_deref(), Some("<h4>{{ summary }}</h4>"));
    assert_eq!(f.template_type, TemplateType::Html);
    assert!(f.want_properties && f.want_steps);
}

#[test]
fn defaults_are_buildbots() {
    let m = mail("reporters.MailNotifier('ci@example.org')");
    assert_eq!((m.relayhost.as_str(), m.smtp_port), ("localhost", 25));
    assert!(m.send_to_interested_users && !m.use_tls && !m.use_smtps);
    assert_eq!(
        m.mode,
        [MailMode::Failing, MailMode::Passing, MailMode::Warnings]
    );
    assert!(m.message_formatter.want_properties);
    assert!(!m.message_formatter.want_steps);
    assert_eq!(m.message_formatter.template, None);
}

#[test]
fn modes_expand_all_and_take_lists() {
    assert_eq!(
        mail("reporters.MailNotifier('ci@example.org', mode='all')").mode,
        [
            MailMode::Failing,
            MailMode::Passing,
            MailMode::Warnings,
            MailMode::Exception,
            MailMode::Cancelled
        ]
    );
    assert_eq!(
        mail("reporters.MailNotifier('ci@example.org', mode=('problem', 'change', 'warnings'))")
            .mode,
        [MailMode::Problem, MailMode::Change, MailMode::Warnings]
    );
    assert_mentions(
        &error(&format!(
            "{}c['services'] = [reporters.MailNotifier('ci@example.org', mode=['all'])]\n",
            common::BASE
        )),
        &["'mode'", "'all'"],
    );
    assert_mentions(
        &error("c['services'] = [reporters.MailNotifier('ci@example.org', mode='failed')]\n"),
        &["unknown mode \"failed\""],
    );
}

#[test]
fn smtp_settings_and_filters_are_kept() {
    let m = mail(
        "reporters.MailNotifier('ci@example.org', useSmtps=True, smtpUser='u', smtpPassword='p', \
         builders=['b1'], tags=['t'], schedulers=['s'], branches=['main'])",
    );
    assert!(m.use_smtps);
    assert_eq!(m.smtp_user.as_deref(), Some("u"));
    assert_eq!(m.smtp_password.as_deref(), Some("p"));
    assert_eq!(
        (m.builders, m.tags, m.schedulers, m.branches),
        (
            vec!["b1".into()],
            vec!["t".into()],
            vec!["s".into()],
            vec!["main".into()]
        )
    );
    assert!(
        !format!(
            "{:?}",
            mail("reporters.MailNotifier('ci@example.org', smtpUser='u', smtpPassword='secret')")
        )
        .contains("secret")
    );
}

#[test]
fn bad_arguments_are_named() {
    for (args, fragment) in [
        ("fromaddr='nobody'", "'fromaddr' must be an email address"),
        (
            "'ci@x.org', extraRecipients=['bob']",
            "'extraRecipients' must hold email",
        ),
        (
            "'ci@x.org', useTls=True, useSmtps=True",
            "both useTls=True and useSmtps=True",
        ),
        (
            "'ci@x.org', smtpUser='u'",
            "needs both smtpUser and smtpPassword",
        ),
        (
            "'ci@x.org', smtpPort=70000",
            "'smtpPort' must be a port number",
        ),
        ("'ci@x.org', addLogs=True", "'addLogs' is not supported yet"),
        (
            "'ci@x.org', generators=[1]",
            "'generators' is not supported yet",
        ),
        (
            "'ci@x.org', messageFormatter='x'",
            "'messageFormatter' must be a reporters.MessageFormatter",
        ),
        (
            "'ci@x.org', messageFormatter=reporters.MessageFormatter(template_type='rtf')",
            "'template_type' must be 'plain' or 'html'",
        ),
        (
            "'ci@x.org', messageFormatter=reporters.MessageFormatter(wantLogs=True)",
            "'wantLogs' is not supported yet",
        ),
        (
            "'ci@x.org', smtpPassword=util.Secret('p')",
            "util.Secret is not supported yet",
        ),
    ] {
        let message = error(&format!(
            "c['services'] = [reporters.MailNotifier({args})]\n"
        ));
        assert_mentions(&message, &[fragment]);
    }
}
