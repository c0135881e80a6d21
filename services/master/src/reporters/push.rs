//! The status push reporters as outbox [`Reporter`]s: a build's start and end each become one
//! outbox row, delivered in that order; the row's attempt POSTs every request of the
//! [`StatusPush`] once (the outbox retries a failed one with backoff).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferrobot_config::{GeneratorConfig, GeneratorKind, ReporterConfig};
use ferrobot_store::{OutboxEvent, OutboxItem};

use super::http::{BuildState, HttpStatusPush, Push, StatusPush};
use super::http_client::HttpClient;
use super::outbox::{Delivery, Reporter};
use super::report::BuildReport;
use super::{github, gitlab, mode, tls};
use crate::context::Context;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A status push and its HTTP client.
pub struct StatusPushReporter {
    pusher: Arc<dyn StatusPush>,
    client: HttpClient,
    generators: Vec<GeneratorConfig>,
}

impl StatusPushReporter {
    /// The reporter for `config` (a status push); a relative CA file is taken from the master
    /// directory `basedir`. `None` for a MailNotifier.
    pub fn new(
        config: &ReporterConfig,
        basedir: &std::path::Path,
    ) -> Option<Result<StatusPushReporter, tls::Error>> {
        let (pusher, verify, ca_file, generators): (Arc<dyn StatusPush>, _, _, _) = match config {
            ReporterConfig::HttpStatusPush(c) => (
                Arc::new(HttpStatusPush::new(c.clone())),
                c.verify,
                c.ca_file.clone(),
                c.generators.clone(),
            ),
            ReporterConfig::GitHubStatusPush(c) => (
                Arc::new(github::GitHubStatusPush::new(c.clone())),
                c.verify,
                c.ca_file.clone(),
                c.generators.clone(),
            ),
            ReporterConfig::GitLabStatusPush(c) => (
                Arc::new(gitlab::GitLabStatusPush::new(c.clone())),
                c.verify,
                c.ca_file.clone(),
                c.generators.clone(),
            ),
            ReporterConfig::MailNotifier(_) => return None,
        };
        let ca_path = ca_file.as_deref().map(|f| tls::ca_path(f, basedir));
        Some(
            HttpClient::new(verify, ca_path.as_deref(), REQUEST_TIMEOUT).map(|client| {
                StatusPushReporter {
                    pusher,
                    client,
                    generators,
                }
            }),
        )
    }

    /// The class name, for the outbox name.
    pub fn name(&self) -> &'static str {
        self.pusher.name()
    }
}

#[async_trait]
impl Reporter for StatusPushReporter {
    fn class(&self) -> &'static str {
        self.pusher.name()
    }

    fn events(&self) -> Vec<OutboxEvent> {
        if self.generators.is_empty() || self.generators.iter().any(|g| g.report_new) {
            vec![OutboxEvent::Started, OutboxEvent::Finished]
        } else {
            vec![OutboxEvent::Finished]
        }
    }

    async fn deliver(&self, ctx: &Context, item: &OutboxItem) -> Delivery {
        match self.wanted(ctx, item).await {
            Ok(true) => {}
            Ok(false) => return Delivery::Skipped,
            Err(error) => return Delivery::Failed(error),
        }
        let state = match load(ctx, item.buildid, item.event).await {
            Ok(Some(state)) => state,
            Ok(None) => return Delivery::Skipped,
            Err(error) => return Delivery::Failed(error),
        };
        let pushes = self.pusher.pushes(&state);
        if pushes.is_empty() {
            return Delivery::Skipped;
        }
        for push in &pushes {
            if let Err(error) = send(&self.client, push, self.pusher.debug()).await {
                return Delivery::Failed(error);
            }
        }
        Delivery::Sent
    }
}

impl StatusPushReporter {
    /// Whether one of the generators (or, with none, the default: every start and end) wants
    /// this moment of this build.
    async fn wanted(&self, ctx: &Context, item: &OutboxItem) -> Result<bool, String> {
        if self.generators.is_empty() {
            return Ok(true);
        }
        let report = match BuildReport::load(ctx.store.as_ref(), item.buildid, item.event).await {
            Ok(Some(report)) => report,
            Ok(None) => return Ok(false),
            Err(error) => return Err(format!("build {} not read: {error}", item.buildid)),
        };
        Ok(self.generators.iter().any(|g| {
            let moment = match (item.event, g.kind, report.results) {
                (OutboxEvent::Started, _, _) => g.report_new,
                (OutboxEvent::Finished, GeneratorKind::BuildStatus, Some(results)) => {
                    mode::is_message_needed(&g.mode, results, report.previous_results())
                }
                (OutboxEvent::Finished, ..) => true,
            };
            moment
                && mode::is_build_wanted(
                    g,
                    &report.builder.name,
                    &report.builder.tags,
                    &report.properties,
                )
        }))
    }
}

/// Build `buildid` as it was at `event` (a start shows the build running), with what the
/// pushes may mention; `None` for an unknown build.
pub async fn load(
    ctx: &Context,
    buildid: i64,
    event: OutboxEvent,
) -> Result<Option<BuildState>, String> {
    let store = ctx.store.as_ref();
    let read = async {
        let Some(mut build) = store.build(buildid).await? else {
            return Ok(None);
        };
        if event == OutboxEvent::Started {
            build.complete = false;
            build.complete_at = None;
            build.results = None;
        }
        let Some(builder) = store.builder(build.builderid).await? else {
            return Ok(None);
        };
        let buildrequest = store.buildrequest(build.buildrequestid).await?;
        let buildset = match &buildrequest {
            Some(request) => store.buildset(request.buildsetid).await?,
            None => None,
        };
        let properties = store.build_properties(buildid).await?;
        let steps = store.steps(buildid).await?;
        let url = format!(
            "{}#/builders/{}/builds/{}",
            ctx.config().buildbot_url,
            build.builderid,
            build.number
        );
        Ok::<_, ferrobot_store::Error>(Some(BuildState {
            build,
            builder,
            buildrequest,
            buildset,
            properties,
            steps,
            url,
        }))
    };
    read.await
        .map_err(|e| format!("build {buildid} not read: {e}"))
}

/// POSTs `push` once; any 2xx answer is a success.
pub async fn send(client: &HttpClient, push: &Push, debug: bool) -> Result<(), String> {
    let auth = push
        .basic_auth
        .as_ref()
        .map(|(user, password)| (user.as_str(), password.as_str()));
    let response = client
        .post_json(&push.url, &push.body, &push.headers, auth)
        .await?;
    if !(200..300).contains(&response.status) {
        return Err(format!("{}: HTTP {}", push.url, response.status));
    }
    if debug {
        tracing::debug!(url = %push.url, status = response.status, body = %response.body, "status pushed");
    } else {
        tracing::debug!(url = %push.url, status = response.status, "status pushed");
    }
    Ok(())
}
