//! The URL space of REST API v2 (reference/buildbot.md §5.2): a path under `/api/v2` parsed
//! into an [`Endpoint`]. Parsing is pure; looking the ids up is the job of `fetch`.
//!
//! A segment that parses as an integer is an id or a number (Buildbot's `n:` patterns come
//! first), anything else is a name.

mod more;

pub use more::{More, PropertyOwner, TestScope};

use crate::www::resources::{self as res, ResourceType};

/// A builder by id or name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuilderRef {
    /// `/builders/3`.
    Id(i64),
    /// `/builders/linux`.
    Name(String),
}

/// A worker by id or name.
pub type WorkerRef = BuilderRef;

/// A build by id, or by builder and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildRef {
    /// `/builds/12`.
    Id(i64),
    /// `/builders/<b>/builds/4`.
    Number(BuilderRef, i64),
}

/// A step by id, or within a build by number or name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepRef {
    /// `/steps/7`.
    Id(i64),
    /// `.../steps/0`.
    Number(BuildRef, i64),
    /// `.../steps/compile`.
    Name(BuildRef, String),
}

/// A log by id, or within a step by slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogRef {
    /// `/logs/9`.
    Id(i64),
    /// `.../logs/stdio`.
    Slug(StepRef, String),
}

/// How a log's lines are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogView {
    /// `contents`: a `logchunks` JSON resource, stream letters kept.
    Contents,
    /// `raw`: plain text download, stream letters stripped.
    Raw,
    /// `raw_inline`: the same text, shown in the browser.
    RawInline,
}

/// What a path under `/api/v2` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `/` (rootlinks).
    Root,
    /// `/builders`, `/masters/<n>/builders`, `/workers/<w>/builders`.
    Builders {
        /// Only those configured on this master.
        master: Option<i64>,
        /// Only those this worker is configured for.
        worker: Option<WorkerRef>,
    },
    /// `/builders/<id|name>`.
    Builder(BuilderRef),
    /// `/builds`, `/builders/<b>/builds`, `/buildrequests/<n>/builds`, `/workers/<w>/builds`.
    Builds {
        /// Only this builder's.
        builder: Option<BuilderRef>,
        /// Only this request's.
        buildrequest: Option<i64>,
        /// Only those on this worker.
        worker: Option<WorkerRef>,
    },
    /// `/builds/<id>`, `/builders/<b>/builds/<number>`.
    Build(BuildRef),
    /// `.../properties` of a build.
    BuildProperties(BuildRef),
    /// `.../changes` of a build.
    BuildChanges(BuildRef),
    /// `.../steps` of a build.
    Steps(BuildRef),
    /// `/steps/<id>`, `.../steps/<name|number>`.
    Step(StepRef),
    /// `.../logs` of a step.
    Logs(StepRef),
    /// `/logs/<id>`, `.../logs/<slug>`.
    Log(LogRef),
    /// `.../contents`, `.../raw`, `.../raw_inline` of a log.
    LogData(LogRef, LogView),
    /// `/buildrequests`, `/builders/<b>/buildrequests`.
    BuildRequests {
        /// Only this builder's.
        builder: Option<BuilderRef>,
    },
    /// `/buildrequests/<id>`.
    BuildRequest(i64),
    /// `/buildsets`.
    Buildsets,
    /// `/buildsets/<id>`.
    Buildset(i64),
    /// `/buildsets/<id>/sourcestamps`.
    BuildsetSourcestamps(i64),
    /// `/sourcestamps`.
    Sourcestamps,
    /// `/sourcestamps/<id>`.
    Sourcestamp(i64),
    /// `/sourcestamps/<id>/changes`.
    SourcestampChanges(i64),
    /// `/changes`.
    Changes,
    /// `/changes/<id>`.
    Change(i64),
    /// `/workers`, `/masters/<n>/workers`, `/builders/<b>/workers`.
    Workers {
        /// Only those connected to or configured on this master.
        master: Option<i64>,
        /// Only those configured for this builder.
        builder: Option<BuilderRef>,
    },
    /// `/workers/<id|name>`.
    Worker(WorkerRef),
    /// `/masters`, `/builders/<b>/masters`.
    Masters {
        /// Only those configuring this builder.
        builder: Option<BuilderRef>,
    },
    /// `/masters/<id>`.
    Master(i64),
    /// `/schedulers`, `/masters/<n>/schedulers`.
    Schedulers {
        /// Only those run by this master.
        master: Option<i64>,
    },
    /// `/schedulers/<id>`.
    Scheduler(i64),
    /// `/changesources`, `/masters/<n>/changesources`.
    ChangeSources {
        /// Only those run by this master.
        master: Option<i64>,
    },
    /// `/changesources/<id>`.
    ChangeSource(i64),
    /// `/forceschedulers`, `/builders/<b>/forceschedulers`.
    ForceSchedulers {
        /// Only those that can force this builder.
        builder: Option<BuilderRef>,
    },
    /// `/forceschedulers/<name>`.
    ForceScheduler(String),
    /// The less common paths (projects, test results, spec, nested singles).
    More(More),
}

fn id(segment: &str) -> Option<i64> {
    // Only plain digits: Buildbot's `n:` patterns do not take signs or spaces.
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

fn named(segment: &str) -> BuilderRef {
    id(segment).map_or_else(|| BuilderRef::Name(segment.to_owned()), BuilderRef::Id)
}

impl Endpoint {
    /// Parses the segments of a path under `/api/v2` (already percent-decoded). `None` when
    /// no endpoint has this path, including trailing slashes, which Buildbot refuses too.
    pub fn parse(segments: &[&str]) -> Option<Endpoint> {
        Endpoint::parse_main(segments).or_else(|| more::parse(segments).map(Endpoint::More))
    }

    /// The main paths, without [`More`]'s.
    fn parse_main(segments: &[&str]) -> Option<Endpoint> {
        use Endpoint as E;
        Some(match segments {
            [] => E::Root,
            ["builders"] => E::Builders {
                master: None,
                worker: None,
            },
            ["builders", b] => E::Builder(named(b)),
            ["builders", b, "builds", rest @ ..] => match rest {
                [] => E::Builds {
                    builder: Some(named(b)),
                    buildrequest: None,
                    worker: None,
                },
                [n, rest @ ..] => build_child(BuildRef::Number(named(b), id(n)?), rest)?,
            },
            ["builders", b, "buildrequests"] => E::BuildRequests {
                builder: Some(named(b)),
            },
            ["builders", b, "workers"] => E::Workers {
                master: None,
                builder: Some(named(b)),
            },
            ["builders", b, "masters"] => E::Masters {
                builder: Some(named(b)),
            },
            ["builders", b, "forceschedulers"] => E::ForceSchedulers {
                builder: Some(named(b)),
            },
            ["builds"] => E::Builds {
                builder: None,
                buildrequest: None,
                worker: None,
            },
            ["builds", n, rest @ ..] => build_child(BuildRef::Id(id(n)?), rest)?,
            ["steps", n, rest @ ..] => step_child(StepRef::Id(id(n)?), rest)?,
            ["logs", n] => E::Log(LogRef::Id(id(n)?)),
            ["logs", n, view] => E::LogData(LogRef::Id(id(n)?), log_view(view)?),
            ["buildrequests"] => E::BuildRequests { builder: None },
            ["buildrequests", n] => E::BuildRequest(id(n)?),
            ["buildrequests", n, "builds"] => E::Builds {
                builder: None,
                buildrequest: Some(id(n)?),
                worker: None,
            },
            ["buildsets"] => E::Buildsets,
            ["buildsets", n] => E::Buildset(id(n)?),
            ["buildsets", n, "sourcestamps"] => E::BuildsetSourcestamps(id(n)?),
            ["sourcestamps"] => E::Sourcestamps,
            ["sourcestamps", n] => E::Sourcestamp(id(n)?),
            ["sourcestamps", n, "changes"] => E::SourcestampChanges(id(n)?),
            ["changes"] => E::Changes,
            ["changes", n] => E::Change(id(n)?),
            ["workers"] => E::Workers {
                master: None,
                builder: None,
            },
            ["workers", w] => E::Worker(named(w)),
            ["workers", w, "builds"] => E::Builds {
                builder: None,
                buildrequest: None,
                worker: Some(named(w)),
            },
            ["workers", w, "builders"] => E::Builders {
                master: None,
                worker: Some(named(w)),
            },
            ["masters"] => E::Masters { builder: None },
            ["masters", n] => E::Master(id(n)?),
            ["masters", n, "builders"] => E::Builders {
                master: Some(id(n)?),
                worker: None,
            },
            ["masters", n, "workers"] => E::Workers {
                master: Some(id(n)?),
                builder: None,
            },
            ["masters", n, "schedulers"] => E::Schedulers {
                master: Some(id(n)?),
            },
            ["masters", n, "changesources"] => E::ChangeSources {
                master: Some(id(n)?),
            },
            ["schedulers"] => E::Schedulers { master: None },
            ["schedulers", n] => E::Scheduler(id(n)?),
            ["changesources"] => E::ChangeSources { master: None },
            ["changesources", n] => E::ChangeSource(id(n)?),
            ["forceschedulers"] => E::ForceSchedulers { builder: None },
            ["forceschedulers", name] if !name.is_empty() => E::ForceScheduler((*name).to_owned()),
            _ => return None,
        })
    }
}

impl Endpoint {
    /// The resource type it returns (log contents are `logchunks`; raw views have none but
    /// take no query parameters beyond the log's).
    pub fn rtype(&self) -> &'static ResourceType {
        use Endpoint as E;
        match self {
            E::Root => &res::ROOTLINK,
            E::Builders { .. } | E::Builder(_) => &res::BUILDER,
            E::Builds { .. } | E::Build(_) => &res::BUILD,
            E::BuildProperties(_) => &res::PROPERTIES,
            E::BuildChanges(_) | E::SourcestampChanges(_) | E::Changes | E::Change(_) => {
                &res::CHANGE
            }
            E::Steps(_) | E::Step(_) => &res::STEP,
            E::Logs(_) | E::Log(_) => &res::LOG,
            E::LogData(..) => &res::LOGCHUNK,
            E::BuildRequests { .. } | E::BuildRequest(_) => &res::BUILDREQUEST,
            E::Buildsets | E::Buildset(_) => &res::BUILDSET,
            E::BuildsetSourcestamps(_) | E::Sourcestamps | E::Sourcestamp(_) => &res::SOURCESTAMP,
            E::Workers { .. } | E::Worker(_) => &res::WORKER,
            E::Masters { .. } | E::Master(_) => &res::MASTER,
            E::Schedulers { .. } | E::Scheduler(_) => &res::SCHEDULER,
            E::ChangeSources { .. } | E::ChangeSource(_) => &res::CHANGESOURCE,
            E::ForceSchedulers { .. } | E::ForceScheduler(_) => &res::FORCESCHEDULER,
            E::More(more) => more.rtype(),
        }
    }

    /// Whether it is a collection (filters, order and paging apply) rather than one resource.
    pub fn is_collection(&self) -> bool {
        use Endpoint as E;
        if let E::More(more) = self {
            return more.is_collection();
        }
        matches!(
            self,
            E::Root
                | E::Builders { .. }
                | E::Builds { .. }
                | E::BuildChanges(_)
                | E::Steps(_)
                | E::Logs(_)
                | E::BuildRequests { .. }
                | E::Buildsets
                | E::BuildsetSourcestamps(_)
                | E::Sourcestamps
                | E::SourcestampChanges(_)
                | E::Changes
                | E::Workers { .. }
                | E::Masters { .. }
                | E::Schedulers { .. }
                | E::ChangeSources { .. }
                | E::ForceSchedulers { .. }
        )
    }
}

fn build_child(build: BuildRef, rest: &[&str]) -> Option<Endpoint> {
    Some(match rest {
        [] => Endpoint::Build(build),
        ["properties"] => Endpoint::BuildProperties(build),
        ["changes"] => Endpoint::BuildChanges(build),
        ["steps"] => Endpoint::Steps(build),
        ["steps", step, rest @ ..] if !step.is_empty() => {
            let step = match id(step) {
                Some(number) => StepRef::Number(build, number),
                None => StepRef::Name(build, (*step).to_owned()),
            };
            step_child(step, rest)?
        }
        _ => return None,
    })
}

fn step_child(step: StepRef, rest: &[&str]) -> Option<Endpoint> {
    Some(match rest {
        [] => Endpoint::Step(step),
        ["logs"] => Endpoint::Logs(step),
        ["logs", slug] if !slug.is_empty() => Endpoint::Log(LogRef::Slug(step, (*slug).to_owned())),
        ["logs", slug, view] if !slug.is_empty() => {
            Endpoint::LogData(LogRef::Slug(step, (*slug).to_owned()), log_view(view)?)
        }
        _ => return None,
    })
}

fn log_view(segment: &str) -> Option<LogView> {
    match segment {
        "contents" => Some(LogView::Contents),
        "raw" => Some(LogView::Raw),
        "raw_inline" => Some(LogView::RawInline),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
