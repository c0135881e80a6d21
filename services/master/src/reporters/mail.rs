//! `reporters.MailNotifier` as an outbox [`Reporter`]: for a build's start or end, one mail per
//! generator that wants it (Buildbot's modes and filters), rendered from its formatter, with
//! the step logs (`addLogs`) and patches (`addPatch`) attached.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use ferrobot_config::{
    GeneratorConfig, GeneratorKind, LogSelection, MailNotifierConfig, MessageFormatterConfig,
};
use ferrobot_model::{Log, LogId};
use ferrobot_store::{OutboxEvent, OutboxItem, Store};

use super::mailer::{Attachment, Mail, Mailer};
use super::outbox::{Delivery, Reporter};
use super::report::BuildReport;
use super::{mode, render};
use crate::context::Context;

/// A MailNotifier and the mailer it sends through.
pub struct MailReporter {
    config: MailNotifierConfig,
    mailer: Arc<dyn Mailer>,
}

impl MailReporter {
    /// A reporter for `config` sending through `mailer`.
    pub fn new(config: MailNotifierConfig, mailer: Arc<dyn Mailer>) -> Self {
        MailReporter { config, mailer }
    }
}

#[async_trait]
impl Reporter for MailReporter {
    fn class(&self) -> &'static str {
        "MailNotifier"
    }

    fn events(&self) -> Vec<OutboxEvent> {
        let mut events = vec![OutboxEvent::Finished];
        if self.config.generators.iter().any(|g| g.report_new) {
            events.push(OutboxEvent::Started);
        }
        events
    }

    async fn deliver(&self, ctx: &Context, item: &OutboxItem) -> Delivery {
        let mails = match compose(ctx, &self.config, item.buildid, item.event).await {
            Ok(mails) => mails,
            Err(error) => return Delivery::Failed(error),
        };
        if mails.is_empty() {
            return Delivery::Skipped;
        }
        for mail in &mails {
            if let Err(error) = self.mailer.send(mail).await {
                return Delivery::Failed(error.to_string());
            }
            tracing::info!(buildid = item.buildid, to = ?mail.to, subject = %mail.subject, "mail sent");
        }
        Delivery::Sent
    }
}

/// The formatter `generator` uses for `event`, or `None` when it does not report that moment.
fn formatter_for(
    generator: &GeneratorConfig,
    event: OutboxEvent,
) -> Option<MessageFormatterConfig> {
    match (generator.kind, event) {
        (_, OutboxEvent::Finished) => Some(generator.message_formatter.clone()),
        (GeneratorKind::BuildStatus, OutboxEvent::Started) if generator.report_new => {
            Some(generator.message_formatter.clone())
        }
        (GeneratorKind::BuildStartEnd, OutboxEvent::Started) => Some(
            generator
                .start_formatter
                .clone()
                .unwrap_or_else(start_formatter),
        ),
        (GeneratorKind::BuildStatus, OutboxEvent::Started) => None,
    }
}

/// Buildbot's default start message.
fn start_formatter() -> MessageFormatterConfig {
    MessageFormatterConfig {
        template: Some(
            "Build {{ build['number'] }} of {{ buildername }} started.\n{{ build_url }}\n".into(),
        ),
        subject: Some("Buildbot build {{ build['number'] }} started on {{ buildername }}".into()),
        want_properties: true,
        ..MessageFormatterConfig::default()
    }
}

/// The mails build `buildid` needs at `event` (none: not wanted, or no recipient). An error is
/// worth a retry (the store could not be read, a template failed).
pub async fn compose(
    ctx: &Context,
    config: &MailNotifierConfig,
    buildid: i64,
    event: OutboxEvent,
) -> Result<Vec<Mail>, String> {
    let store = ctx.store.as_ref();
    let report = match BuildReport::load(store, buildid, event).await {
        Ok(Some(report)) => report,
        Ok(None) => return Ok(Vec::new()),
        Err(error) => return Err(format!("build {buildid} not read: {error}")),
    };
    let master_config = ctx.config();
    let mut mails = Vec::new();
    for generator in &config.generators {
        let Some(formatter) = formatter_for(generator, event) else {
            continue;
        };
        let wanted_by_filters = mode::is_build_wanted(
            generator,
            &report.builder.name,
            &report.builder.tags,
            &report.properties,
        );
        let wanted_by_mode = match (generator.kind, report.results) {
            (GeneratorKind::BuildStatus, Some(results)) => {
                mode::is_message_needed(&generator.mode, results, report.previous_results())
            }
            _ => true,
        };
        if !(wanted_by_filters && wanted_by_mode) {
            tracing::debug!(buildid, "no mail needed from this generator");
            continue;
        }
        let contents = log_contents(
            store,
            &report,
            &[&formatter.want_logs_content, &generator.add_logs],
        )
        .await
        .map_err(|e| format!("logs of build {buildid} not read: {e}"))?;
        let context = report.context(&master_config, &generator.mode, &formatter, &contents);
        let rendered = render::render(&formatter, generator.subject.as_deref(), &context)
            .map_err(|e| format!("mail of build {buildid} not rendered: {e}"))?;
        let to = render::recipients(config, &report.responsible_users());
        if to.is_empty() {
            tracing::info!(buildid, "no recipients for the build's mail");
            continue;
        }
        mails.push(Mail {
            from: config.fromaddr.clone(),
            to,
            subject: rendered.subject,
            body: rendered.body,
            html: rendered.html,
            attachments: attachments(&report, generator, &contents),
        });
    }
    Ok(mails)
}

/// The text of every log one of `selections` chooses.
async fn log_contents(
    store: &dyn Store,
    report: &BuildReport,
    selections: &[&LogSelection],
) -> ferrobot_store::Result<BTreeMap<LogId, String>> {
    let mut contents = BTreeMap::new();
    for (step, log) in report.all_logs() {
        if selections.iter().any(|s| s.includes(&step.name, &log.name)) {
            contents.insert(log.logid, log_text(store, log).await?);
        }
    }
    Ok(contents)
}

/// A log's lines as its reader sees them: for stdio logs without the stream letter each stored
/// line starts with.
async fn log_text(store: &dyn Store, log: &Log) -> ferrobot_store::Result<String> {
    if log.num_lines == 0 {
        return Ok(String::new());
    }
    let lines = store.log_lines(log.logid, 0, log.num_lines - 1).await?;
    if log.log_type != "s" {
        return Ok(lines);
    }
    Ok(lines
        .split_inclusive('\n')
        .map(|line| line.get(1..).unwrap_or_default())
        .collect())
}

/// The attachments `generator` asks for: its `add_logs` (`<step>.<log>`, text/plain) and,
/// with `add_patch`, each source stamp's patch (`source.patch`, or `<codebase>.patch`).
pub fn attachments(
    report: &BuildReport,
    generator: &GeneratorConfig,
    contents: &BTreeMap<LogId, String>,
) -> Vec<Attachment> {
    let mut attachments = Vec::new();
    for (step, log) in report.all_logs() {
        if generator.add_logs.includes(&step.name, &log.name)
            && let Some(text) = contents.get(&log.logid)
        {
            attachments.push(Attachment {
                filename: format!("{}.{}", step.name, log.name),
                content_type: "text/plain".into(),
                content: text.clone().into_bytes(),
            });
        }
    }
    if generator.add_patch {
        for ss in &report.sourcestamps {
            if let Some(patch) = &ss.patch {
                let stem = if ss.codebase.is_empty() {
                    "source"
                } else {
                    &ss.codebase
                };
                attachments.push(Attachment {
                    filename: format!("{stem}.patch"),
                    content_type: "text/x-diff".into(),
                    content: patch.body.clone().into_bytes(),
                });
            }
        }
    }
    attachments
}
