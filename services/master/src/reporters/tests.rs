use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use ferrobot_config::{
    GeneratorConfig, GeneratorKind, LogSelection, MailMode, MailNotifierConfig,
    MessageFormatterConfig, TemplateType,
};
use ferrobot_model::{Properties, Results};
use ferrobot_store::{OutboxState, Store};
use serde_json::json;

use super::mail::MailReporter;
use super::outbox::{Reporter, RetryPolicy};
use super::*;
use crate::scheduling::test_support::{TestMaster, WAIT, test_master};

/// The one generator of the seed's old-style MailNotifier.
fn generator() -> GeneratorConfig {
    GeneratorConfig {
        kind: GeneratorKind::BuildStatus,
        mode: vec![MailMode::Failing, MailMode::Warnings],
        builders: vec![],
        tags: vec![],
        schedulers: vec![],
        branches: vec![],
        report_new: false,
        subject: None,
        message_formatter: MessageFormatterConfig {
            template: None,
            template_type: TemplateType::Plain,
            subject: None,
            want_properties: true,
            want_steps: true,
            want_logs: false,
            want_logs_content: LogSelection::None,
        },
        start_formatter: None,
        add_logs: LogSelection::None,
        add_patch: true,
    }
}

/// A MailNotifier as the seed configures one, for the unit tests of this module.
pub(crate) fn notifier() -> MailNotifierConfig {
    let generator = generator();
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
        smtp_ca_file: None,
        mode: generator.mode.clone(),
        extra_recipients: vec!["team@example.org".into()],
        builders: vec![],
        tags: vec![],
        schedulers: vec![],
        branches: vec![],
        message_formatter: generator.message_formatter.clone(),
        add_patch: true,
        generators: vec![generator],
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
    let wanted = |config: &GeneratorConfig, builder: &str| {
        mode::is_build_wanted(config, builder, &tags, &properties)
    };
    assert!(wanted(&generator(), "b1"), "no filter takes every build");
    let only = |edit: fn(&mut GeneratorConfig)| {
        let mut config = generator();
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

/// Fails the first `failures` sends, then hands the mails to the test.
struct Flaky {
    failures: Mutex<u32>,
    attempts: Mutex<u32>,
    sent: tokio::sync::mpsc::UnboundedSender<Mail>,
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
        let _ = self.sent.send(mail.clone());
        Ok(())
    }
}

/// Stores a build of `builderid` that ends `results`, publishing no event at all.
async fn finished_build_without_event(
    ctx: &crate::context::Context,
    builderid: i64,
    results: Results,
) -> anyhow::Result<i64> {
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
    store.claim_buildrequest(brid, ctx.claimant(), now).await?;
    let (buildid, _) = store
        .add_build(builderid, brid, workerid, ctx.claimant(), "building", now)
        .await?;
    store
        .finish_build(buildid, results, ctx.claimant(), now)
        .await?;
    Ok(buildid)
}

/// A master running the seed's notifier over a mailer failing `failures` times, with
/// immediate retries; returns the master, the received mails and the stopper.
async fn mailing_master(
    failures: u32,
    attempts: i64,
) -> anyhow::Result<(
    TestMaster,
    tokio::sync::mpsc::UnboundedReceiver<Mail>,
    Arc<Flaky>,
    CancellationToken,
    tokio::task::JoinHandle<()>,
)> {
    let master = test_master(ferrobot_config::MasterConfig::default()).await?;
    master
        .ctx
        .store
        .set_master_active(master.ctx.masterid, true, ferrobot_model::now_epoch())
        .await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mailer = Arc::new(Flaky {
        failures: Mutex::new(failures),
        attempts: Mutex::new(0),
        sent: tx,
    });
    let reporter: Arc<dyn Reporter> = Arc::new(MailReporter::new(notifier(), mailer.clone()));
    let shutdown = CancellationToken::new();
    let policy = RetryPolicy {
        attempts,
        first_delay_seconds: 0,
        lease_seconds: 60,
    };
    let task = tokio::spawn(outbox::run(
        master.ctx.clone(),
        outbox_name(0, "MailNotifier"),
        reporter,
        policy,
        shutdown.clone(),
    ));
    Ok((master, rx, mailer, shutdown, task))
}

/// Waits (bounded) until the outbox holds `count` rows, none of them pending.
async fn settled_rows(
    store: &dyn Store,
    count: usize,
) -> anyhow::Result<Vec<ferrobot_store::OutboxItem>> {
    let settled = async {
        loop {
            let rows = store.outbox("reporter:0:MailNotifier").await?;
            if rows.len() == count && rows.iter().all(|r| r.state != OutboxState::Pending) {
                return anyhow::Ok(rows);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, settled).await?
}

#[tokio::test]
async fn a_build_whose_event_was_lost_is_still_mailed_once() -> anyhow::Result<()> {
    let (master, mut rx, _, shutdown, task) = mailing_master(0, 5).await?;
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
    // is not mailed twice; a passing build is not wanted by the mode and mails nothing.
    finished_build_without_event(&master.ctx, builderid, Results::Success).await?;
    finished_build_without_event(&master.ctx, builderid, Results::Failure).await?;
    let second = tokio::time::timeout(WAIT, rx.recv())
        .await?
        .expect("a mail");
    assert!(second.body.contains("/builds/3\n"), "{}", second.body);
    let rows = settled_rows(master.ctx.store.as_ref(), 3).await?;
    let states: Vec<_> = rows.iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        [OutboxState::Sent, OutboxState::Skipped, OutboxState::Sent]
    );
    shutdown.cancel();
    task.await?;
    Ok(())
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_it_goes_through() -> anyhow::Result<()> {
    let (master, mut rx, mailer, shutdown, task) = mailing_master(2, 5).await?;
    let builderid = master
        .ctx
        .store
        .find_or_create_builder("b1", None, &[])
        .await?;
    finished_build_without_event(&master.ctx, builderid, Results::Failure).await?;
    let mail = tokio::time::timeout(WAIT, rx.recv())
        .await?
        .expect("a mail");
    assert!(mail.body.contains("/builds/1\n"), "{}", mail.body);
    assert_eq!(*mailer.attempts.lock().expect("lock"), 3);
    let [row] = settled_rows(master.ctx.store.as_ref(), 1)
        .await?
        .try_into()
        .expect("one row");
    assert_eq!((row.state, row.attempts), (OutboxState::Sent, 3));
    assert!(
        row.last_error.as_deref().is_some_and(|e| e.contains("421")),
        "{row:?}"
    );
    shutdown.cancel();
    task.await?;
    Ok(())
}

#[tokio::test]
async fn a_delivery_is_given_up_after_its_attempts_with_the_error_kept() -> anyhow::Result<()> {
    let (master, _rx, mailer, shutdown, task) = mailing_master(100, 3).await?;
    let builderid = master
        .ctx
        .store
        .find_or_create_builder("b1", None, &[])
        .await?;
    finished_build_without_event(&master.ctx, builderid, Results::Failure).await?;
    let [row] = settled_rows(master.ctx.store.as_ref(), 1)
        .await?
        .try_into()
        .expect("one row");
    assert_eq!((row.state, row.attempts), (OutboxState::Failed, 3));
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("421 try again later")),
        "{row:?}"
    );
    assert_eq!(*mailer.attempts.lock().expect("lock"), 3);
    shutdown.cancel();
    task.await?;
    Ok(())
}
