//! `c['services']` with `reporters.MailNotifier` and `reporters.MessageFormatter`.

mod common;

use common::{assert_mentions, error, load_with_base};
use ferrobot_config::{
    GeneratorKind, LogSelection, MailMode, MailNotifierConfig, ReporterConfig, TemplateType,
};

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
    assert_eq!(m.smtp_password.as_ref().map(|p| p.expose()), Some("p"));
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
        (
            "'ci@x.org', generators=[1]",
            "'generators' must hold reporters.BuildStatusGenerator",
        ),
        (
            "'ci@x.org', mode='all', generators=[reporters.BuildStatusGenerator()]",
            "'generators' replaces the old-style 'mode'",
        ),
        (
            "'ci@x.org', addLogs='yes'",
            "'addLogs' must be True, False or a list of log names",
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
            "'ci@x.org', smtpPassword=3",
            "'smtpPassword' must be a string or a util.Secret(...)",
        ),
        (
            "'ci@x.org', generators=[reporters.BuildStatusGenerator(mode='sometimes')]",
            "unknown mode \"sometimes\"",
        ),
    ] {
        let message = error(&format!(
            "c['services'] = [reporters.MailNotifier({args})]\n"
        ));
        assert_mentions(&message, &[fragment]);
    }
}

#[test]
fn old_style_arguments_become_one_generator() {
    let m = mail(
        "reporters.MailNotifier('ci@example.org', mode='failing', builders=['b1'], \
         addLogs=['test.stdio'], addPatch=False, subject='%(builder)s broke')",
    );
    let [g] = m.generators.as_slice() else {
        panic!("one generator: {:?}", m.generators);
    };
    assert_eq!(g.kind, GeneratorKind::BuildStatus);
    assert_eq!(g.mode, [MailMode::Failing]);
    assert_eq!(g.builders, ["b1"]);
    assert_eq!(g.add_logs, LogSelection::Named(vec!["test.stdio".into()]));
    assert!(!g.add_patch && !g.report_new);
    assert_eq!(g.subject.as_deref(), Some("%(builder)s broke"));
    assert!(g.message_formatter.want_properties);
}

#[test]
fn generators_take_modes_filters_formatters_logs_and_patches() {
    let m = mail(
        r#"reporters.MailNotifier('ci@example.org', generators=[
            reporters.BuildStatusGenerator(mode=('change', 'problem'), builders=['b1'],
                tags=['t'], branches=['main'], schedulers=['s'], add_logs=True, add_patch=True,
                message_formatter=reporters.MessageFormatter(template='{{ summary }}',
                    subject='{{ buildername }}', want_logs=True, want_logs_content=['stdio'])),
            reporters.BuildStartEndStatusGenerator(builders=['b2'],
                start_formatter=reporters.MessageFormatter(template='go')),
        ])"#,
    );
    let [status, start_end] = m.generators.as_slice() else {
        panic!("two generators: {:?}", m.generators);
    };
    assert_eq!(status.mode, [MailMode::Change, MailMode::Problem]);
    assert_eq!(
        (
            &status.builders,
            &status.tags,
            &status.branches,
            &status.schedulers
        ),
        (
            &vec!["b1".to_owned()],
            &vec!["t".to_owned()],
            &vec!["main".to_owned()],
            &vec!["s".to_owned()]
        )
    );
    assert_eq!(status.add_logs, LogSelection::All);
    assert!(status.add_patch);
    let f = &status.message_formatter;
    assert_eq!(f.template.as_deref(), Some("{{ summary }}"));
    assert!(f.want_logs);
    assert_eq!(
        f.want_logs_content,
        LogSelection::Named(vec!["stdio".into()])
    );
    assert_eq!(start_end.kind, GeneratorKind::BuildStartEnd);
    assert!(start_end.report_new);
    assert_eq!(
        start_end
            .start_formatter
            .as_ref()
            .and_then(|f| f.template.as_deref()),
        Some("go")
    );
    let default = mail(
        "reporters.MailNotifier('ci@example.org', generators=[reporters.BuildStatusGenerator()])",
    );
    assert_eq!(
        default.generators[0].mode,
        [MailMode::Failing, MailMode::Passing, MailMode::Warnings]
    );
}
