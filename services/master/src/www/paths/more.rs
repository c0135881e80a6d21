//! The less common paths of reference/buildbot.md §5.2: projects, test results, the API spec,
//! build data, property lists and the nested single resources under masters and builders.
//! Each is parsed by looking at its last segments and parsing the rest as a main path.

use super::{BuildRef, BuilderRef, Endpoint, StepRef, WorkerRef, id, named};
use crate::www::resources::{self as res, ResourceType};
use crate::www::resources_extra as extra;

/// Whose properties a `property_list` / `properties_list` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyOwner {
    /// `/builds/<n>/property_list`.
    Build(BuildRef),
    /// `/buildsets/<n>/properties_list`.
    Buildset(i64),
    /// `/changes/<n>/properties_list`.
    Change(i64),
}

/// Which test result sets a path lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestScope {
    /// `/test_result_sets`.
    All,
    /// `/builders/<b>/test_result_sets`.
    Builder(BuilderRef),
    /// `/builds/<n>/test_result_sets`.
    Build(BuildRef),
    /// `/steps/<n>/test_result_sets`.
    Step(StepRef),
}

/// The endpoints of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum More {
    /// `/projects`.
    Projects,
    /// `/projects/<id|name>`.
    Project(BuilderRef),
    /// `/projects/<id>/builders`.
    ProjectBuilders(BuilderRef),
    /// `.../test_result_sets`.
    TestResultSets(TestScope),
    /// `/test_result_sets/<n>`.
    TestResultSet(i64),
    /// `/test_result_sets/<n>/results`.
    TestResults(i64),
    /// `/application.spec`.
    Spec,
    /// `.../data` of a build.
    BuildData(BuildRef),
    /// `.../property_list`, `.../properties_list`.
    PropertyList(PropertyOwner),
    /// `/buildsets/<n>/properties`.
    BuildsetProperties(i64),
    /// `/masters/<m>/schedulers/<n>`.
    MasterScheduler(i64, i64),
    /// `/masters/<m>/changesources/<n>`.
    MasterChangeSource(i64, i64),
    /// `/masters/<m>/builders/<n>`.
    MasterBuilder(i64, BuilderRef),
    /// `/builders/<b>/masters/<n>`.
    BuilderMaster(BuilderRef, i64),
    /// `/masters/<m>/workers/<w>`.
    MasterWorker(i64, WorkerRef),
    /// `/builders/<b>/workers/<w>`.
    BuilderWorker(BuilderRef, WorkerRef),
    /// `/masters/<m>/builders/<b>/workers`.
    MasterBuilderWorkers(i64, BuilderRef),
    /// `/masters/<m>/builders/<b>/workers/<w>`.
    MasterBuilderWorker(i64, BuilderRef, WorkerRef),
}

impl More {
    /// The resource type it returns.
    pub fn rtype(&self) -> &'static ResourceType {
        use More as M;
        match self {
            M::Projects | M::Project(_) => &extra::PROJECT,
            M::ProjectBuilders(_) | M::MasterBuilder(..) => &res::BUILDER,
            M::TestResultSets(_) | M::TestResultSet(_) => &extra::TEST_RESULT_SET,
            M::TestResults(_) => &extra::TEST_RESULT,
            M::Spec => &extra::SPEC,
            M::BuildData(_) => &extra::BUILD_DATA,
            M::PropertyList(_) => &extra::PROPERTY_ENTRY,
            M::BuildsetProperties(_) => &res::PROPERTIES,
            M::MasterScheduler(..) => &res::SCHEDULER,
            M::MasterChangeSource(..) => &res::CHANGESOURCE,
            M::BuilderMaster(..) => &res::MASTER,
            M::MasterWorker(..)
            | M::BuilderWorker(..)
            | M::MasterBuilderWorkers(..)
            | M::MasterBuilderWorker(..) => &res::WORKER,
        }
    }

    /// Whether it is a collection.
    pub fn is_collection(&self) -> bool {
        matches!(
            self,
            More::Projects
                | More::ProjectBuilders(_)
                | More::TestResultSets(_)
                | More::TestResults(_)
                | More::Spec
                | More::BuildData(_)
                | More::PropertyList(_)
                | More::MasterBuilderWorkers(..)
        )
    }
}

/// Parses one of this module's paths.
pub fn parse(segments: &[&str]) -> Option<More> {
    use More as M;
    let main = |prefix: &[&str]| Endpoint::parse_main(prefix);
    Some(match segments {
        ["application.spec"] => M::Spec,
        ["projects"] => M::Projects,
        ["projects", p] => M::Project(named(p)),
        ["projects", p, "builders"] => M::ProjectBuilders(named(p)),
        ["test_result_sets"] => M::TestResultSets(TestScope::All),
        ["test_result_sets", n] => M::TestResultSet(id(n)?),
        ["test_result_sets", n, "results"] => M::TestResults(id(n)?),
        [prefix @ .., "test_result_sets"] => M::TestResultSets(match main(prefix)? {
            Endpoint::Builder(b) => TestScope::Builder(b),
            Endpoint::Build(b) => TestScope::Build(b),
            Endpoint::Step(s) => TestScope::Step(s),
            _ => return None,
        }),
        ["buildsets", n, "properties_list"] => M::PropertyList(PropertyOwner::Buildset(id(n)?)),
        ["changes", n, "properties_list"] => M::PropertyList(PropertyOwner::Change(id(n)?)),
        ["buildsets", n, "properties"] => M::BuildsetProperties(id(n)?),
        [prefix @ .., "property_list"] => match main(prefix)? {
            Endpoint::Build(b) => M::PropertyList(PropertyOwner::Build(b)),
            _ => return None,
        },
        [prefix @ .., "data"] => match main(prefix)? {
            Endpoint::Build(b) => M::BuildData(b),
            _ => return None,
        },
        ["masters", m, "schedulers", n] => M::MasterScheduler(id(m)?, id(n)?),
        ["masters", m, "changesources", n] => M::MasterChangeSource(id(m)?, id(n)?),
        ["masters", m, "builders", b] => M::MasterBuilder(id(m)?, named(b)),
        ["masters", m, "builders", b, "workers"] => M::MasterBuilderWorkers(id(m)?, named(b)),
        ["masters", m, "builders", b, "workers", w] => {
            M::MasterBuilderWorker(id(m)?, named(b), named(w))
        }
        ["masters", m, "workers", w] => M::MasterWorker(id(m)?, named(w)),
        ["builders", b, "masters", n] => M::BuilderMaster(named(b), id(n)?),
        ["builders", b, "workers", w] => M::BuilderWorker(named(b), named(w)),
        _ => return None,
    })
}
