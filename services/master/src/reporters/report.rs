//! What a mail is about: a build read back from the store as it was at the reported moment
//! (started or finished), with its builder, steps and their logs, properties, source stamps,
//! changes and the previous build of the same builder, and the Jinja context Buildbot's
//! `MessageFormatter` builds from it.

use std::collections::BTreeMap;

use ferrobot_config::{MailMode, MasterConfig, MessageFormatterConfig};
use ferrobot_model::{
    Build, Builder, Change, Log, LogId, Properties, Results, SourceStamp, Step, StepId,
};
use ferrobot_store::{OutboxEvent, Store};
use serde_json::{Value, json};

use super::mode;

/// A finished build and everything its mail may mention.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The build.
    pub build: Build,
    /// Its result; `None` for a build reported as it started.
    pub results: Option<Results>,
    /// Its builder.
    pub builder: Builder,
    /// Its steps, in order.
    pub steps: Vec<Step>,
    /// Each step's logs.
    pub logs: BTreeMap<StepId, Vec<Log>>,
    /// Its properties.
    pub properties: Properties,
    /// The source stamps of its buildset.
    pub sourcestamps: Vec<SourceStamp>,
    /// The changes it built.
    pub changes: Vec<Change>,
    /// The previous non-RETRY build of the same builder, as Buildbot's `getPreviousBuild`.
    pub previous: Option<Build>,
}

impl BuildReport {
    /// Reads build `buildid` as it was at `event`: for [`OutboxEvent::Started`] as a running
    /// build (whatever it is now), for [`OutboxEvent::Finished`] finished. `None` when the build
    /// is unknown, or not finished for a finish.
    pub async fn load(
        store: &dyn Store,
        buildid: i64,
        event: OutboxEvent,
    ) -> ferrobot_store::Result<Option<Self>> {
        let Some(mut build) = store.build(buildid).await? else {
            return Ok(None);
        };
        let results = match event {
            OutboxEvent::Started => {
                build.complete = false;
                build.complete_at = None;
                build.results = None;
                None
            }
            OutboxEvent::Finished => match build.results.filter(|_| build.complete) {
                Some(results) => Some(results),
                None => return Ok(None),
            },
        };
        let Some(builder) = store.builder(build.builderid).await? else {
            return Ok(None);
        };
        let sourcestamps = match store.buildrequest(build.buildrequestid).await? {
            Some(request) => store
                .buildset(request.buildsetid)
                .await?
                .map(|bs| bs.sourcestamps)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut previous = None;
        for number in (1..build.number).rev() {
            if let Some(candidate) = store.build_by_number(build.builderid, number).await?
                && candidate.results != Some(Results::Retry)
            {
                previous = Some(candidate);
                break;
            }
        }
        let steps = store.steps(buildid).await?;
        let mut logs = BTreeMap::new();
        for step in &steps {
            logs.insert(step.stepid, store.logs(step.stepid).await?);
        }
        Ok(Some(BuildReport {
            steps,
            logs,
            properties: store.build_properties(buildid).await?,
            changes: store.changes_for_build(buildid).await?,
            build,
            results,
            builder,
            sourcestamps,
            previous,
        }))
    }

    /// The previous build's result.
    pub fn previous_results(&self) -> Option<Results> {
        self.previous.as_ref().and_then(|p| p.results)
    }

    /// Buildbot's `getResponsibleUsersForBuild`: change authors, then the `owner` and
    /// `owners` properties, without duplicates, in that order.
    pub fn responsible_users(&self) -> Vec<String> {
        let mut users: Vec<String> = Vec::new();
        let mut add = |user: &str| {
            if !user.is_empty() && !users.iter().any(|u| u == user) {
                users.push(user.to_owned());
            }
        };
        for change in &self.changes {
            add(&change.author);
        }
        if let Some((Value::String(owner), _)) = self.properties.get("owner") {
            add(owner);
        }
        if let Some((Value::Array(owners), _)) = self.properties.get("owners") {
            owners.iter().filter_map(Value::as_str).for_each(&mut add);
        }
        users
    }

    /// The value of a string property.
    fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|(v, _)| v.as_str())
    }

    /// `<buildbotURL>#/builders/<builderid>/builds/<number>` (Buildbot's `getURLForBuild`).
    pub fn url(&self, config: &MasterConfig) -> String {
        format!(
            "{}#/builders/{}/builds/{}",
            config.buildbot_url, self.build.builderid, self.build.number
        )
    }

    /// `(step name, log)` for every log of the build, in step order.
    pub fn all_logs(&self) -> Vec<(&Step, &Log)> {
        self.steps
            .iter()
            .flat_map(|step| {
                self.logs
                    .get(&step.stepid)
                    .into_iter()
                    .flatten()
                    .map(move |log| (step, log))
            })
            .collect()
    }

    /// The page of one log.
    pub fn log_url(&self, config: &MasterConfig, step: &Step, log: &Log) -> String {
        format!(
            "{}/steps/{}/logs/{}",
            self.url(config),
            step.number,
            log.slug
        )
    }

    /// The template context, with Buildbot's variable names. `contents` holds the text of the
    /// logs whose content the formatter wants.
    pub fn context(
        &self,
        config: &MasterConfig,
        modes: &[MailMode],
        formatter: &MessageFormatterConfig,
        contents: &BTreeMap<LogId, String>,
    ) -> Value {
        let url = self.url(config);
        let previous_results = self.previous_results();
        let mut build = build_json(&self.build);
        build["url"] = json!(url);
        build["builder"] = json!({
            "builderid": self.builder.builderid,
            "name": self.builder.name,
            "description": self.builder.description,
            "tags": self.builder.tags,
        });
        build["buildset"] = json!({ "sourcestamps": self.sourcestamps });
        build["prev_build"] = self.previous.as_ref().map_or(Value::Null, build_json);
        if formatter.want_properties {
            // Buildbot's shape: name → [value, source], so templates index `[0]`.
            build["properties"] = self
                .properties
                .iter()
                .map(|(k, (v, source))| (k.clone(), json!([v, source])))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if formatter.want_steps || formatter.want_logs {
            build["steps"] = json!(self.steps);
        }
        if formatter.want_logs {
            for (index, step) in self.steps.iter().enumerate() {
                let logs: Vec<Value> = self
                    .logs
                    .get(&step.stepid)
                    .into_iter()
                    .flatten()
                    .map(|log| {
                        let mut entry = json!(log);
                        entry["url"] = json!(self.log_url(config, step, log));
                        entry["stepname"] = json!(step.name);
                        if let Some(text) = contents.get(&log.logid) {
                            entry["content"] = json!({ "content": text });
                        }
                        entry
                    })
                    .collect();
                build["steps"][index]["logs"] = json!(logs);
            }
        }
        let projects: Vec<&str> = self
            .sourcestamps
            .iter()
            .map(|ss| ss.project.as_str())
            .filter(|p| !p.is_empty())
            .collect();
        let (result_name, summary) = match self.results {
            Some(results) => (
                results.name(),
                mode::summary(results, &self.build.state_string),
            ),
            None => ("started", "Build started.".to_owned()),
        };
        json!({
            "results": self.results.map(Results::code),
            "result_names": Results::ALL.iter().map(|r| r.name()).collect::<Vec<_>>(),
            "buildername": self.builder.name,
            "mode": modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "workername": self.property("workername").unwrap_or("<unknown>"),
            "build": build,
            "is_buildset": false,
            "projects": if projects.is_empty() { config.title.clone() } else { projects.join(", ") },
            "previous_results": previous_results.map(Results::code),
            "status_detected": self.results.map_or_else(
                || "started build".to_owned(),
                |r| mode::status_detected(modes, r, previous_results),
            ),
            "build_url": url,
            "buildbot_title": config.title,
            "buildbot_url": config.buildbot_url,
            "blamelist": self.responsible_users(),
            "summary": summary,
            "sourcestamps": sourcestamps_text(&self.sourcestamps),
            // For the default subject, Buildbot's `%(result)s`, `%(title)s`, `%(builder)s`.
            "result": result_name,
            "title": config.title,
            "builder": self.builder.name,
        })
    }
}

/// A build in its REST shape, without properties (those are added in Buildbot's shape).
fn build_json(build: &Build) -> Value {
    let mut value = serde_json::to_value(build).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("properties");
    }
    value
}

/// Buildbot's `messageSourceStamps`: one line per source stamp.
fn sourcestamps_text(sourcestamps: &[SourceStamp]) -> String {
    let mut text = String::new();
    for ss in sourcestamps {
        let mut source = String::new();
        if let Some(branch) = ss.branch.as_deref().filter(|b| !b.is_empty()) {
            source.push_str(&format!("[branch {branch}] "));
        }
        source.push_str(ss.revision.as_deref().unwrap_or("HEAD"));
        if ss.patch.is_some() {
            source.push_str(" (plus patch)");
        }
        let discriminator = if ss.codebase.is_empty() {
            String::new()
        } else {
            format!(" '{}'", ss.codebase)
        };
        text.push_str(&format!("Build Source Stamp{discriminator}: {source}\n"));
    }
    text
}
