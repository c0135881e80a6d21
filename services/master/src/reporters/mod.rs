//! Reporters (`c['services']`): `reporters.MailNotifier` ([`mail`]) and the status pushes
//! (`HttpStatusPush`, `GitHubStatusPush`, `GitLabStatusPush`: [`http`], [`github`], [`gitlab`],
//! [`push`]), each driven by the store's outbox ([`outbox`]) on every master with the
//! scheduler role: a build's start or end becomes one durable row per reporter, claimed by one
//! master, delivered, and settled, so each report goes out once across the cluster, failed
//! deliveries are retried with backoff, and nothing here can hold up a build.

pub mod github;
pub mod gitlab;
pub mod http;
pub mod http_client;
pub mod mail;
pub mod mailer;
pub mod mode;
pub mod outbox;
pub mod push;
pub mod render;
pub mod report;
pub mod tls;

use std::sync::Arc;

use ferrobot_config::ReporterConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use mailer::{Mail, Mailer, SmtpMailer};

use crate::cluster::Membership;
use crate::context::Context;
use outbox::{Reporter, RetryPolicy};

/// The outbox name of the `index`th reporter of `c['services']`.
pub fn outbox_name(index: usize, class: &str) -> String {
    format!("reporter:{index}:{class}")
}

/// Starts one task per configured reporter; `cancel` stops them (reconfig restarts them).
/// They are no singleton duties: every scheduler master runs them, and the outbox's claims
/// decide which one delivers each report (`_membership` is kept for the callers' sake).
pub fn spawn_reporters(
    ctx: Arc<Context>,
    _membership: &Arc<Membership>,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    let config = ctx.config();
    for (index, reporter) in config.reporters.iter().enumerate() {
        let Some((class, reporter)) = build(&ctx, reporter) else {
            tracing::error!(reporter = index, "reporter not started");
            continue;
        };
        tracker.spawn(outbox::run(
            ctx.clone(),
            outbox_name(index, class),
            reporter,
            RetryPolicy::default(),
            cancel.clone(),
        ));
    }
}

/// The running form of `config`, or `None` (logged) when it cannot be set up.
fn build(ctx: &Context, config: &ReporterConfig) -> Option<(&'static str, Arc<dyn Reporter>)> {
    if let ReporterConfig::MailNotifier(mail_config) = config {
        return match SmtpMailer::new(mail_config, &ctx.basedir) {
            Ok(mailer) => Some((
                "MailNotifier",
                Arc::new(mail::MailReporter::new(
                    mail_config.clone(),
                    Arc::new(mailer),
                )),
            )),
            Err(error) => {
                tracing::error!(%error, "mail notifier cannot be set up");
                None
            }
        };
    }
    match push::StatusPushReporter::new(config, &ctx.basedir)? {
        Ok(reporter) => Some((reporter.name(), Arc::new(reporter))),
        Err(error) => {
            tracing::error!(%error, "status push cannot be set up");
            None
        }
    }
}

#[cfg(test)]
mod tests;
