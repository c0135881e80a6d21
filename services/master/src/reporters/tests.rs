use std::sync::Mutex;

use async_trait::async_trait;
use ferrobot_config::{MailMode, MessageFormatterConfig, TemplateType};
use ferrobot_model::Properties;
use serde_json::json;

use super::*;

/// A MailNotifier as the seed configures one, for the unit tests of this module.
pub(crate) fn notifier() -> MailNotifierConfig {
    MailNotifierConfig {
        fromaddr: "ci@example.org".into(),
        send_to_interested_users: true,
        lookup: Some("example.org".into()),
        relayhost: "localhost".into(),
        smtp_port: 25,
        smtp_user: None,
        smtp_password: None,
        use_tls: false,
        use_smtps: false,
        mode: vec![MailMode::Failing, MailMode::Warnings],
        extra_recipients: vec!["team@example.org".into()],
        builders: vec![],
        tags: vec![],
        schedulers: vec![],
        branches: vec![],
        message_formatter: MessageFormatterConfig {
            template: None,
            template_type: TemplateType::Plain,
            subject: None,
            want_properties: true,
            want_steps: true,
        },
        add_patch: true,
    }
}

#[test]
fn builders_tags_schedulers_and_branches_filter_builds() {
    let properties: Properties = [
        (
            "scheduler".to_owned(),
            (json!("on-main"), "Scheduler".to_owned()),
        ),
        ("branch".to_owned(), (json!("main"), "Build".to_owned())),
    ]
    .into();
    let tags = ["linux".to_owned()];
    let wanted = |config: &MailNotifierConfig, builder: &str| {
        mode::is_build_wanted(config, builder, &tags, &properties)
    };
    let all = notifier();
    assert!(wanted(&all, "b1"), "no filter takes every build");
    let only = |edit: fn(&mut MailNotifierConfig)| {
        let mut config = notifier();
        edit(&mut config);
        config
    };
    assert!(wanted(&only(|c| c.builders = vec!["b1".into()]), "b1"));
    assert!(!wanted(&only(|c| c.builders = vec!["b2".into()]), "b1"));
    assert!(wanted(
        &only(|c| c.tags = vec!["mac".into(), "linux".into()]),
        "b1"
    ));
    assert!(!wanted(&only(|c| c.tags = vec!["mac".into()]), "b1"));
    assert!(wanted(
        &only(|c| c.schedulers = vec!["on-main".into()]),
        "b1"
    ));
    assert!(!wanted(
        &only(|c| c.schedulers = vec!["nightly".into()]),
        "b1"
    ));
    assert!(wanted(&only(|c| c.branches = vec!["main".into()]), "b1"));
    assert!(!wanted(&only(|c| c.branches = vec!["dev".into()]), "b1"));
}

/// Fails the first `failures` sends, then records the mails.
struct Flaky {
    failures: Mutex<u32>,
    attempts: Mutex<u32>,
    sent: Mutex<Vec<Mail>>,
}

#[async_trait]
impl Mailer for Flaky {
    async fn send(&self, mail: &Mail) -> Result<(), mailer::Error> {
        *self.attempts.lock().expect("lock") += 1;
        let mut failures = self.failures.lock().expect("lock");
        if *failures > 0 {
            *failures -= 1;
            return Err(mailer::Error::Delivery {
                relay: "test".into(),
                detail: "421 try again later".into(),
            });
        }
        self.sent.lock().expect("lock").push(mail.clone());
        Ok(())
    }
}

fn flaky(failures: u32) -> Flaky {
    Flaky {
        failures: Mutex::new(failures),
        attempts: Mutex::new(0),
        sent: Mutex::new(Vec::new()),
    }
}

fn mail() -> Mail {
    Mail {
        from: "ci@example.org".into(),
        to: vec!["dev@example.org".into()],
        subject: "Buildbot failure in CI on b1".into(),
        body: "failed".into(),
        html: false,
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_it_goes_through() {
    let mailer = flaky(2);
    let sent = deliver(
        &mailer,
        &mail(),
        Duration::from_millis(1),
        &CancellationToken::new(),
    )
    .await;
    assert!(sent);
    assert_eq!(*mailer.attempts.lock().expect("lock"), 3);
    assert_eq!(*mailer.sent.lock().expect("lock"), [mail()]);
}

#[tokio::test]
async fn a_delivery_is_given_up_after_three_tries() {
    let mailer = flaky(5);
    let sent = deliver(
        &mailer,
        &mail(),
        Duration::from_millis(1),
        &CancellationToken::new(),
    )
    .await;
    assert!(!sent);
    assert_eq!(*mailer.attempts.lock().expect("lock"), 3);
    assert!(mailer.sent.lock().expect("lock").is_empty());
}

/// Hands every mail to the test.
struct Recording(tokio::sync::mpsc::UnboundedSender<Mail>);

#[async_trait]
impl Mailer for Recording {
    async fn send(&self, mail: &Mail) -> Result<(), mailer::Error> {
        let _ = self.0.send(mail.clone());
        Ok(())
    }
}

/// Stores a build of `builderid` that ends `results`, publishing no event at all.
async fn finished_build_without_event(
    ctx: &crate::context::Context,
    builderid: i64,
    results: ferrobot_model::Results,
) -> anyhow::Result<()> {
    // Later than the reporter's start, whichever second that was.
    let now = ferrobot_model::now_epoch() + 5;
    let store = &ctx.store;
    let workerid = store.find_or_create_worker("w1").await?;
    let (_, requests) = store
        .add_buildset(&ferrobot_store::NewBuildset {
            reason: "test".into(),
            builderids: vec![builderid],
            submitted_at: now,
            ..Default::default()
        })
        .await?;
    let brid = requests[0].1;
    let (buildid, _) = store
        .add_build(builderid, brid, workerid, ctx.masterid, "building", now)
        .await?;
    store.finish_build(buildid, results, now).await?;
    Ok(())
}

#[tokio::test]
async fn a_build_whose_event_was_lost_is_still_mailed_once() -> anyhow::Result<()> {
    use crate::scheduling::test_support::{WAIT, test_master};
    use ferrobot_model::Results;

    let master = test_master(ferrobot_config::MasterConfig::default()).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let reporter = tokio::spawn(run(
        master.ctx.clone(),
        notifier(),
        Arc::new(Recording(tx)),
        shutdown.clone(),
    ));
    let builderid = master
        .ctx
        .store
        .find_or_create_builder("b1", None, &[])
        .await?;
    finished_build_without_event(&master.ctx, builderid, Results::Failure).await?;
    let first = tokio::time::timeout(WAIT, rx.recv())
        .await?
        .expect("a mail");
    assert_eq!(first.subject, "Buildbot failure in Buildbot on b1");
    assert_eq!(first.to, ["team@example.org"]);
    assert!(first.body.contains("/builds/1\n"), "{}", first.body);
    // The next mail is about the next build: the first one, seen again by every later pass,
    // is not mailed twice.
    finished_build_without_event(&master.ctx, builderid, Results::Failure).await?;
    let second = tokio::time::timeout(WAIT, rx.recv())
        .await?
        .expect("a mail");
    assert!(second.body.contains("/builds/2\n"), "{}", second.body);
    shutdown.cancel();
    reporter.await?;
    Ok(())
}
