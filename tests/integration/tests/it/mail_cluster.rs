//! Exactly-once mail across masters (issue 7, acceptance 3): two scheduler masters on
//! PostgreSQL and NATS both run the MailNotifier, and the outbox's claims make each build's mail
//! go out once; a master killed while sending leaves its claim, and the other master sends the
//! mail once the dead master is found out.

use std::time::Duration;

use anyhow::Context as _;
use ferrobot_integration_tests::{ClusterServices, Roles, Sandbox};
use ferrobot_store::{OutboxItem, OutboxState, Store};

use crate::mail::{smtp_server, wait_mails};

/// Short enough that a test notices a dead master within seconds.
const LEASE_TTL: Duration = Duration::from_millis(1500);
/// How long the outbox may take to settle.
const WAIT: Duration = Duration::from_secs(60);
const OUTBOX: &str = "reporter:0:MailNotifier";

/// A cluster config: builder `fails` and a MailNotifier mailing `team` through `relay`.
fn config(services: &ClusterServices, relay: (&str, u16), team: &str) -> String {
    let mut cfg = crate::shell_builders(&[("fails", &["false"])]);
    cfg.push_str(&services.config_lines());
    cfg.push_str(&format!(
        "c['services'] = [reporters.MailNotifier(fromaddr='ci@example.org', relayhost='{}', \
         smtpPort={}, mode='failing', sendToInterestedUsers=False, extraRecipients=['{team}'], \
         messageFormatter=reporters.MessageFormatter(template='build {{{{ build.number }}}}'))]\n",
        relay.0, relay.1
    ));
    cfg
}

/// Waits (bounded) until the outbox holds `count` rows that `done` accepts.
async fn wait_outbox(
    store: &dyn Store,
    count: usize,
    done: impl Fn(&OutboxItem) -> bool,
) -> anyhow::Result<Vec<OutboxItem>> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let rows = store.outbox(OUTBOX).await?;
        if rows.len() == count && rows.iter().all(&done) {
            return Ok(rows);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "outbox not settled after {WAIT:?}: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_scheduler_masters_send_each_builds_mail_exactly_once() -> anyhow::Result<()> {
    let services = ClusterServices::create().await?;
    let (host, port, maildir) = smtp_server()?;
    let team = format!("team-{}@example.org", uuid::Uuid::new_v4().simple());
    let cfg = config(&services, (&host, port), &team);
    let first =
        Sandbox::start_crashable(tempfile::tempdir()?, &cfg, "mail-1", Roles::ALL, LEASE_TTL)
            .await?;
    let second =
        Sandbox::start_crashable(tempfile::tempdir()?, &cfg, "mail-2", Roles::ALL, LEASE_TTL)
            .await?;
    let worker = first.add_worker("w1", "pw").await?;
    first.wait_worker_connected("w1").await?;
    for _ in 0..4 {
        let brid = first.force("fails").await?;
        first.wait_request_done(brid).await?;
    }
    let store = first.master().ctx.store.clone();
    let rows = wait_outbox(store.as_ref(), 4, |r| r.state == OutboxState::Sent).await?;
    assert!(
        rows.iter().all(|r| r.attempts == 1),
        "one claim each: {rows:?}"
    );
    // Every report is settled, so every send has happened: a second claim would show here.
    let mails = wait_mails(&maildir, &team, 4).await?;
    let mut bodies: Vec<&str> = mails.iter().map(|m| m.body.trim()).collect();
    bodies.sort_unstable();
    assert_eq!(
        bodies,
        ["build 1", "build 2", "build 3", "build 4"],
        "{mails:?}"
    );
    worker.stop().await;
    second.stop().await;
    first.stop().await;
    services.drop_database().await
}

#[tokio::test]
async fn a_master_killed_while_sending_leaves_the_mail_to_the_other() -> anyhow::Result<()> {
    let services = ClusterServices::create().await?;
    let (host, port, maildir) = smtp_server()?;
    let team = format!("team-{}@example.org", uuid::Uuid::new_v4().simple());
    // The doomed master's relay accepts connections and never answers: its send hangs.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let black_hole_port = black_hole.local_addr()?.port();
    let (connected, mut first_connection) = tokio::sync::mpsc::unbounded_channel();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = black_hole.accept().await {
            held.push(stream);
            let _ = connected.send(());
        }
    });
    let doomed = Sandbox::start_crashable(
        tempfile::tempdir()?,
        &config(&services, ("127.0.0.1", black_hole_port), &team),
        "mail-doomed",
        Roles::ALL,
        LEASE_TTL,
    )
    .await?;
    let worker = doomed.add_worker("w1", "pw").await?;
    doomed.wait_worker_connected("w1").await?;
    let brid = doomed.force("fails").await?;
    doomed.wait_request_done(brid).await?;
    tokio::time::timeout(WAIT, first_connection.recv())
        .await
        .context("the doomed master never tried to send")?;
    let store = doomed.master().ctx.store.clone();
    let doomed_id = doomed.master().ctx.masterid;
    let claimed = wait_outbox(store.as_ref(), 1, |r| r.claimed_by == Some(doomed_id)).await?;
    assert_eq!(claimed[0].state, OutboxState::Pending);
    // The survivor runs the same reporter beside the doomed master, but cannot take a report
    // under a live claim; once the doomed master is killed, it can.
    let survivor = Sandbox::start_crashable(
        tempfile::tempdir()?,
        &config(&services, (&host, port), &team),
        "mail-survivor",
        Roles::ALL,
        LEASE_TTL,
    )
    .await?;
    worker.stop().await;
    let _dir = doomed.crash();
    let store = survivor.master().ctx.store.clone();
    let rows = wait_outbox(store.as_ref(), 1, |r| r.state == OutboxState::Sent).await?;
    assert_eq!(
        rows[0].attempts, 2,
        "claimed once by the doomed master, then once by the survivor"
    );
    let mails = wait_mails(&maildir, &team, 1).await?;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].body.trim(), "build 1");
    holder.abort();
    survivor.stop().await;
    services.drop_database().await
}
