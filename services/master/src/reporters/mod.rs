//! Reporters (`c['services']`): `reporters.MailNotifier` here, the status push reporters
//! (`HttpStatusPush`, `GitHubStatusPush`, `GitLabStatusPush`) in [`http`], [`github`] and
//! [`gitlab`]. Each one is a singleton duty of the scheduler role. The mail notifier is woken
//! by `builds.*.finished` (and every 2 s), reads the finished builds from the store, decides by
//! Buildbot's modes and filters whether each new one needs a mail, renders it and hands it to a
//! [`Mailer`], retrying failed deliveries with backoff. Nothing here can hold up a build.

pub mod github;
pub mod gitlab;
pub mod http;
pub mod mailer;
pub mod mode;
pub mod render;
pub mod report;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_bus::Pattern;
use ferrobot_config::{MailNotifierConfig, ReporterConfig};
use ferrobot_store::BuildFilter;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use mailer::{Mail, Mailer, SmtpMailer};

use crate::cluster::Membership;
use crate::cluster::duties::run_duty;
use crate::context::Context;
use report::BuildReport;

/// How many times a mail is tried before it is given up (and logged as lost).
const DELIVERY_ATTEMPTS: u32 = 3;
/// The wait after the first failed try; it doubles after each further one.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Starts one task per configured reporter; `cancel` stops them (reconfig restarts them).
pub fn spawn_reporters(
    ctx: Arc<Context>,
    membership: &Arc<Membership>,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    let config = ctx.config();
    for (index, reporter) in config.reporters.iter().enumerate() {
        let ReporterConfig::MailNotifier(mail_config) = reporter else {
            http::spawn(&ctx, membership, tracker, &cancel, index, reporter);
            continue;
        };
        let mailer: Arc<dyn Mailer> = match SmtpMailer::new(mail_config) {
            Ok(mailer) => Arc::new(mailer),
            Err(error) => {
                tracing::error!(%error, reporter = index, "mail notifier not started");
                continue;
            }
        };
        let (ctx, mail_config) = (ctx.clone(), mail_config.clone());
        tracker.spawn(run_duty(
            membership.clone(),
            format!("reporter:{index}:MailNotifier"),
            cancel.clone(),
            move |token| run(ctx, mail_config, mailer, token),
        ));
    }
}

/// How many of the newest finished builds each pass looks at.
const SWEEP_WINDOW: i64 = 200;
/// How often the finished builds are looked at even without an event (a lost or lagged
/// event only delays a mail: invariant 1).
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);

/// Mails about builds that finish from now on, until `shutdown`. An event on
/// `builds.*.finished` only wakes the reporter; it then reads the newest finished builds from
/// the store and mails each one it has not handled yet, in build order.
pub async fn run(
    ctx: Arc<Context>,
    config: MailNotifierConfig,
    mailer: Arc<dyn Mailer>,
    shutdown: CancellationToken,
) {
    let pattern = Pattern::parse("builds.*.finished", '.');
    let mut subscription = match ctx.events.bus().subscribe(&pattern).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%error, "mail notifier cannot follow finished builds");
            return;
        }
    };
    // Builds that finished before this reporter started were another instance's to mail.
    let started_at = ferrobot_model::now_epoch();
    let mut handled = BTreeSet::new();
    tracing::info!(relay = %config.relayhost, port = config.smtp_port, "mail notifier started");
    loop {
        let finished = match ctx
            .store
            .builds(&BuildFilter {
                complete: Some(true),
                newest: Some(SWEEP_WINDOW),
                ..Default::default()
            })
            .await
        {
            Ok(finished) => finished,
            Err(error) => {
                tracing::warn!(%error, "finished builds not read for mail");
                Vec::new()
            }
        };
        if let Some(oldest) = finished.first() {
            handled.retain(|id| *id >= oldest.buildid);
        }
        for build in finished {
            let recent = build.complete_at.is_some_and(|at| at >= started_at);
            if recent && handled.insert(build.buildid) {
                notify(&ctx, &config, mailer.as_ref(), build.buildid, &shutdown).await;
            }
        }
        tokio::select! {
            event = subscription.next() => match event {
                Some(Ok(_)) => {}
                Some(Err(error)) => tracing::debug!(%error, "finished-build events lagged; the store is read anyway"),
                None => return,
            },
            () = tokio::time::sleep(SWEEP_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Decides, renders and sends the mail for one finished build.
async fn notify(
    ctx: &Context,
    config: &MailNotifierConfig,
    mailer: &dyn Mailer,
    buildid: i64,
    shutdown: &CancellationToken,
) {
    let Some(mail) = compose(ctx, config, buildid).await else {
        return;
    };
    deliver(mailer, &mail, FIRST_RETRY_DELAY, shutdown).await;
}

/// The mail build `buildid` needs, or `None` (not wanted, no recipient, or an error, logged).
async fn compose(ctx: &Context, config: &MailNotifierConfig, buildid: i64) -> Option<Mail> {
    let report = match BuildReport::load(ctx.store.as_ref(), buildid).await {
        Ok(Some(report)) => report,
        Ok(None) => return None,
        Err(error) => {
            tracing::warn!(%error, buildid, "build not read for its mail");
            return None;
        }
    };
    let wanted =
        mode::is_build_wanted(
            config,
            &report.builder.name,
            &report.builder.tags,
            &report.properties,
        ) && mode::is_message_needed(&config.mode, report.results, report.previous_results());
    if !wanted {
        tracing::debug!(buildid, results = %report.results.name(), "no mail needed");
        return None;
    }
    let master_config = ctx.config();
    let context = report.context(&master_config, &config.mode, &config.message_formatter);
    let rendered = match render::render(config, &context) {
        Ok(rendered) => rendered,
        Err(error) => {
            tracing::error!(%error, buildid, "mail not rendered");
            return None;
        }
    };
    let to = render::recipients(config, &report.responsible_users());
    if to.is_empty() {
        tracing::info!(buildid, "no recipients for the build's mail");
        return None;
    }
    Some(Mail {
        from: config.fromaddr.clone(),
        to,
        subject: rendered.subject,
        body: rendered.body,
        html: rendered.html,
    })
}

/// Tries `mail` up to [`DELIVERY_ATTEMPTS`] times, doubling the wait from `first_delay`.
/// Returns whether it was sent.
pub async fn deliver(
    mailer: &dyn Mailer,
    mail: &Mail,
    first_delay: Duration,
    shutdown: &CancellationToken,
) -> bool {
    let mut delay = first_delay;
    for attempt in 1..=DELIVERY_ATTEMPTS {
        match mailer.send(mail).await {
            Ok(()) => {
                tracing::info!(to = ?mail.to, subject = %mail.subject, "mail sent");
                return true;
            }
            Err(error) if attempt < DELIVERY_ATTEMPTS => {
                tracing::warn!(%error, attempt, retry_in = ?delay, "mail not sent, will retry");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.cancelled() => return false,
                }
                delay *= 2;
            }
            Err(error) => {
                tracing::error!(%error, attempts = attempt, to = ?mail.to, subject = %mail.subject, "mail given up");
            }
        }
    }
    false
}

#[cfg(test)]
mod tests;
