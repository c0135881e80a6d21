//! What the status push reporters (`reporters.HttpStatusPush`, `reporters.GitHubStatusPush`,
//! `reporters.GitLabStatusPush`) send: a build at one of its two moments ([`BuildState`])
//! turned into HTTP requests ([`Push`]) by a [`StatusPush`]. Delivery, in event order and
//! exactly once across masters, is the outbox's (`push.rs`).

use ferrobot_config::HttpStatusPushConfig;
use ferrobot_model::{Build, BuildRequest, Builder, Buildset, Properties, SourceStamp, Step};
use serde_json::{Value, json};

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
            basic_auth: self
                .config
                .user
                .clone()
                .zip(self.config.password.as_ref().map(|p| p.expose().to_owned())),
        }]
    }

    fn debug(&self) -> bool {
        self.config.debug
    }
}
