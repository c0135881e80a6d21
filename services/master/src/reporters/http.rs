//! The status push reporters (`reporters.HttpStatusPush`, `reporters.GitHubStatusPush`,
//! `reporters.GitLabStatusPush`): woken by `builds.*.new` and `builds.*.finished`, each turns
//! the build into HTTP requests ([`StatusPush`]) and sends them in event order, each retried
//! [`PUSH_ATTEMPTS`] times with backoff. They run as their own duty task, so a slow or broken
//! endpoint delays only later pushes, never a build.

use std::sync::Arc;
use std::time::Duration;

use ferrobot_bus::{Event, Pattern};
use ferrobot_config::{HttpStatusPushConfig, ReporterConfig};
use ferrobot_model::{Build, BuildRequest, Builder, Buildset, Properties, SourceStamp, Step};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{github, gitlab};
use crate::cluster::Membership;
use crate::cluster::duties::run_duty;
use crate::context::Context;

/// How many times one request is tried before it is given up (and logged as lost).
pub const PUSH_ATTEMPTS: u32 = 3;
/// The wait after the first failed try; it doubles after each further one.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A build at one of its two reported moments, with what the pushes may mention.
#[derive(Debug, Clone)]
pub struct BuildState {
    /// The build as its event published it (running for `new`, finished for `finished`).
    pub build: Build,
    /// Its builder.
    pub builder: Builder,
    /// Its build request.
    pub buildrequest: Option<BuildRequest>,
    /// Its buildset, with the source stamps.
    pub buildset: Option<Buildset>,
    /// Its properties.
    pub properties: Properties,
    /// Its steps so far.
    pub steps: Vec<Step>,
    /// Its page: `<buildbotURL>#/builders/<builderid>/builds/<number>`.
    pub url: String,
}

/// One commit a build is about: a source stamp with the revision it built.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// The source stamp's repository URL.
    pub repository: String,
    /// `got_revision` (for this codebase), else the source stamp's revision.
    pub sha: String,
    /// The source stamp's branch.
    pub branch: Option<String>,
}

impl BuildState {
    /// The commits to report on; source stamps without any revision are left out.
    pub fn commits(&self) -> Vec<Commit> {
        let sourcestamps: &[SourceStamp] = self
            .buildset
            .as_ref()
            .map_or(&[], |bs| bs.sourcestamps.as_slice());
        let got_revision = self.properties.get("got_revision").map(|(v, _)| v);
        sourcestamps
            .iter()
            .filter_map(|ss| {
                let got = match got_revision {
                    Some(Value::String(sha)) if sourcestamps.len() == 1 => Some(sha.clone()),
                    Some(Value::Object(by_codebase)) => by_codebase
                        .get(&ss.codebase)
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    _ => None,
                };
                let sha = got
                    .or_else(|| ss.revision.clone())
                    .filter(|s| !s.is_empty())?;
                Some(Commit {
                    repository: ss.repository.clone(),
                    sha,
                    branch: ss.branch.clone(),
                })
            })
            .collect()
    }

    /// Buildbot's JSON of a build: the build entity with `builder`, `buildrequest`,
    /// `buildset`, `properties`, `steps` and `url` added.
    pub fn to_json(&self) -> Value {
        let mut body = serde_json::to_value(&self.build).unwrap_or_else(|_| json!({}));
        if let Value::Object(fields) = &mut body {
            fields.insert("builder".into(), json!(self.builder));
            fields.insert("buildrequest".into(), json!(self.buildrequest));
            fields.insert("buildset".into(), json!(self.buildset));
            fields.insert("properties".into(), json!(self.properties));
            fields.insert("steps".into(), json!(self.steps));
            fields.insert("url".into(), json!(self.url));
        }
        body
    }
}

/// One HTTP request a reporter wants sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    /// Where to POST.
    pub url: String,
    /// The JSON body.
    pub body: Value,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// HTTP basic credentials.
    pub basic_auth: Option<(String, String)>,
}

/// What one kind of status push reporter sends about a build.
pub trait StatusPush: Send + Sync + 'static {
    /// The Buildbot class name, for logs and the duty name.
    fn name(&self) -> &'static str;
    /// The requests for `state` (none: nothing to report).
    fn pushes(&self, state: &BuildState) -> Vec<Push>;
    /// Whether response bodies are logged.
    fn debug(&self) -> bool;
}

/// `reporters.HttpStatusPush`: the whole build, POSTed to `serverUrl`.
#[derive(Debug, Clone)]
pub struct HttpStatusPush {
    config: HttpStatusPushConfig,
}

impl HttpStatusPush {
    /// A reporter for `config`.
    pub fn new(config: HttpStatusPushConfig) -> Self {
        HttpStatusPush { config }
    }
}

impl StatusPush for HttpStatusPush {
    fn name(&self) -> &'static str {
        "HttpStatusPush"
    }

    fn pushes(&self, state: &BuildState) -> Vec<Push> {
        vec![Push {
            url: self.config.server_url.clone(),
            body: state.to_json(),
            headers: self
                .config
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            basic_auth: self.config.user.clone().zip(self.config.password.clone()),
        }]
    }

    fn debug(&self) -> bool {
        self.config.debug
    }
}

/// Starts the status push reporter `config` (the `index`th of `c['services']`) as a duty;
/// does nothing for other reporters.
pub fn spawn(
    ctx: &Arc<Context>,
    membership: &Arc<Membership>,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    index: usize,
    config: &ReporterConfig,
) {
    let (pusher, verify): (Arc<dyn StatusPush>, bool) = match config {
        ReporterConfig::HttpStatusPush(c) => (Arc::new(HttpStatusPush::new(c.clone())), c.verify),
        ReporterConfig::GitHubStatusPush(c) => {
            (Arc::new(github::GitHubStatusPush::new(c.clone())), c.verify)
        }
        ReporterConfig::GitLabStatusPush(c) => {
            (Arc::new(gitlab::GitLabStatusPush::new(c.clone())), c.verify)
        }
        ReporterConfig::MailNotifier(_) => return,
    };
    if !verify {
        tracing::warn!(
            reporter = pusher.name(),
            "verify=False has no effect: Ferrobot speaks plain HTTP only yet"
        );
    }
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("Ferrobot/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, reporter = pusher.name(), "status push not started");
            return;
        }
    };
    let ctx = ctx.clone();
    tracker.spawn(run_duty(
        membership.clone(),
        format!("reporter:{index}:{}", pusher.name()),
        cancel.clone(),
        move |token| run(ctx, pusher, client, token),
    ));
}

/// Pushes the start and the end of every build from now on, until `shutdown`.
pub async fn run(
    ctx: Arc<Context>,
    pusher: Arc<dyn StatusPush>,
    client: reqwest::Client,
    shutdown: CancellationToken,
) {
    let reporter = pusher.name();
    let pattern = Pattern::parse("builds.*.*", '.');
    let mut subscription = match ctx.events.bus().subscribe(&pattern).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::error!(%error, reporter, "status push cannot follow builds");
            return;
        }
    };
    tracing::info!(reporter, "status push started");
    loop {
        let event = tokio::select! {
            event = subscription.next() => event,
            () = shutdown.cancelled() => return,
        };
        match event {
            Some(Ok(event)) => {
                let Some(state) = load(&ctx, event).await else {
                    continue;
                };
                for push in pusher.pushes(&state) {
                    send(&client, &push, pusher.debug(), FIRST_RETRY_DELAY, &shutdown).await;
                }
            }
            Some(Err(error)) => {
                tracing::warn!(%error, reporter, "build events lagged; some statuses are not pushed");
            }
            None => return,
        }
    }
}

/// The build of a `builds.<id>.new` or `builds.<id>.finished` event, or `None`.
async fn load(ctx: &Context, event: Event) -> Option<BuildState> {
    let path = event.topic.to_path();
    if !(path.ends_with("/new") || path.ends_with("/finished")) {
        return None;
    }
    let build: Build = match serde_json::from_value(event.payload) {
        Ok(build) => build,
        Err(error) => {
            tracing::warn!(%error, topic = %path, "build event not understood");
            return None;
        }
    };
    let store = ctx.store.as_ref();
    let read = async {
        let builder = store.builder(build.builderid).await?;
        let buildrequest = store.buildrequest(build.buildrequestid).await?;
        let buildset = match &buildrequest {
            Some(request) => store.buildset(request.buildsetid).await?,
            None => None,
        };
        let properties = store.build_properties(build.buildid).await?;
        let steps = store.steps(build.buildid).await?;
        Ok::<_, ferrobot_store::Error>((builder, buildrequest, buildset, properties, steps))
    };
    match read.await {
        Ok((Some(builder), buildrequest, buildset, properties, steps)) => {
            let url = format!(
                "{}#/builders/{}/builds/{}",
                ctx.config().buildbot_url,
                build.builderid,
                build.number
            );
            Some(BuildState {
                build,
                builder,
                buildrequest,
                buildset,
                properties,
                steps,
                url,
            })
        }
        Ok((None, ..)) => None,
        Err(error) => {
            tracing::warn!(%error, buildid = build.buildid, "build not read for its status push");
            None
        }
    }
}

/// POSTs `push`, up to [`PUSH_ATTEMPTS`] times, doubling the wait from `first_delay`; any
/// 2xx answer is a success. Returns whether it was accepted.
pub async fn send(
    client: &reqwest::Client,
    push: &Push,
    debug: bool,
    first_delay: Duration,
    shutdown: &CancellationToken,
) -> bool {
    let mut delay = first_delay;
    for attempt in 1..=PUSH_ATTEMPTS {
        let mut request = client.post(&push.url).json(&push.body);
        for (name, value) in &push.headers {
            request = request.header(name, value);
        }
        if let Some((user, password)) = &push.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        let failure = match request.send().await {
            Ok(response) if response.status().is_success() => {
                let status = response.status().as_u16();
                if debug {
                    let body = response.text().await.unwrap_or_default();
                    tracing::debug!(url = %push.url, status, %body, "status pushed");
                } else {
                    tracing::debug!(url = %push.url, status, "status pushed");
                }
                return true;
            }
            Ok(response) => format!("HTTP {}", response.status()),
            Err(error) => error.to_string(),
        };
        if attempt == PUSH_ATTEMPTS {
            tracing::error!(error = %failure, attempts = attempt, url = %push.url, "status push given up");
            break;
        }
        tracing::warn!(error = %failure, attempt, retry_in = ?delay, url = %push.url, "status not pushed, will retry");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => return false,
        }
        delay *= 2;
    }
    false
}
