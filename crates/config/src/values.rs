//! The Starlark values master.cfg handles: Buildbot's classes (callable) and the objects they
//! make. Objects carry the typed config they stand for plus where they were made, so checks
//! run after evaluation (duplicate names, unknown builders) can still name file:line:col.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use allocative::Allocative;
use starlark::any::ProvidesStaticType;
use starlark::codemap::FileSpan;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_simple_value;
use starlark::values::{Heap, NoSerialize, StarlarkValue, Value, starlark_value};

use crate::types::{
    BuilderConfig, ChangeFilter, ChangeSourceConfig, MessageFormatterConfig, ReporterConfig,
    SchedulerConfig, StepConfig, WorkerConfig,
};

/// Where something was written: `master.cfg:12:5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loc(pub String);

impl Loc {
    /// The location of a span.
    pub fn of(span: &FileSpan) -> Loc {
        let r = span.resolve_span();
        Loc(format!(
            "{}:{}:{}",
            span.filename(),
            r.begin.line + 1,
            r.begin.column + 1
        ))
    }

    /// The call site of the native function now running.
    pub fn here(eval: &Evaluator) -> Loc {
        eval.call_stack_top_location()
            .map_or_else(|| Loc("<unknown>".to_owned()), |s| Loc::of(&s))
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Warnings gathered while master.cfg runs (reachable from the evaluator's `extra`).
#[derive(Debug, Default, ProvidesStaticType)]
pub(crate) struct Collector {
    pub warnings: RefCell<Vec<String>>,
}

impl Collector {
    /// The collector of a running evaluation.
    pub fn of<'a>(eval: &'a Evaluator) -> Option<&'a Collector> {
        eval.extra.and_then(|e| e.downcast_ref::<Collector>())
    }
}

/// Which Buildbot class a [`Builtin`] stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Allocative)]
pub(crate) enum Kind {
    Worker,
    GitPoller,
    SingleBranchScheduler,
    AnyBranchScheduler,
    ForceScheduler,
    ChangeFilter,
    BuildFactory,
    BuilderConfig,
    ShellCommand,
    Git,
    RemoveDirectory,
    MakeDirectory,
    SetPropertyFromCommand,
    MasterShellCommand,
    StringDownload,
    FileDownload,
    FileUpload,
    DirectoryUpload,
    MailNotifier,
    HttpStatusPush,
    GitHubStatusPush,
    GitLabStatusPush,
    MessageFormatter,
    BuildStatusGenerator,
    BuildStartEndStatusGenerator,
    Secret,
    SecretInAFile,
    UserPasswordAuth,
    HtPasswdAuth,
    Authz,
    AnyEndpointMatcher,
    AnyControlEndpointMatcher,
    ForceBuildEndpointMatcher,
    StopBuildEndpointMatcher,
    RebuildBuildEndpointMatcher,
    EnableSchedulerEndpointMatcher,
    RolesFromGroups,
    RolesFromEmails,
    RolesFromUsername,
    Periodic,
    Nightly,
    StringParameter,
    TextParameter,
    IntParameter,
    BooleanParameter,
    ChoiceStringParameter,
    FixedParameter,
    NestedParameter,
    /// A Buildbot name Ferrobot knows but does not implement yet.
    Unsupported,
}

/// A Buildbot class, e.g. `steps.ShellCommand`; calling it makes an [`Obj`].
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct Builtin {
    pub qualname: &'static str,
    pub kind: Kind,
}

starlark_simple_value!(Builtin);

impl Builtin {
    /// What to say when the class itself is used where an instance (or a value) is needed.
    pub fn misuse_message(&self) -> String {
        if self.kind == Kind::Unsupported {
            format!("{} is not supported yet", self.qualname)
        } else {
            format!("{0} is a class: call it, e.g. {0}(...)", self.qualname)
        }
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<class '{}'>", self.qualname)
    }
}

#[starlark_value(type = "class", skip_vtable)]
impl<'v> StarlarkValue<'v> for Builtin {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        crate::ctors::call(self, args, eval)
    }
}

/// The steps of a BuildFactory, shared with the BuilderConfigs that use it: Buildbot reads a
/// factory's steps when the build starts, so steps added after `BuilderConfig(...)` count.
pub(crate) type Steps = Arc<Mutex<Vec<StepConfig>>>;

/// Locks the steps; a poisoned lock only means a panic elsewhere, the data is still whole.
pub(crate) fn steps_of(steps: &Steps) -> std::sync::MutexGuard<'_, Vec<StepConfig>> {
    steps.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What an [`Obj`] stands for.
#[derive(Debug)]
pub(crate) enum Item {
    Worker(WorkerConfig),
    ChangeSource(ChangeSourceConfig),
    Scheduler(SchedulerConfig),
    ChangeFilter(ChangeFilter),
    Step(StepConfig),
    Factory(Steps),
    /// A builder; its `steps` are filled from the factory after evaluation.
    Builder(BuilderConfig, Steps),
    Reporter(ReporterConfig),
    MessageFormatter(MessageFormatterConfig),
    /// `util.UserPasswordAuth` / `util.HTPasswdAuth`.
    WwwAuth(crate::types::WwwAuthConfig),
    /// `util.Authz`.
    Authz(crate::types::AuthzConfig),
    /// An endpoint matcher of `allowRules`.
    AllowRule(crate::types::AllowRule),
    /// A role matcher of `roleMatchers`.
    RoleMatcher(crate::types::RoleMatcher),
    /// `reporters.BuildStatusGenerator` / `reporters.BuildStartEndStatusGenerator`.
    Generator(crate::types::GeneratorConfig),
    /// `util.Secret(name)`: looked up once the config has run.
    Secret(String),
    /// `secrets.SecretInAFile(...)`.
    SecretsProvider(crate::ctors::secrets::SecretInAFile),
    /// A field of a ForceScheduler's form.
    ForceParameter(crate::types::ForceParameter),
}

/// An instance of a Buildbot class.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct Obj {
    pub qualname: &'static str,
    #[allocative(skip)]
    pub loc: Loc,
    #[allocative(skip)]
    pub item: Item,
}

starlark_simple_value!(Obj);

impl Obj {
    fn name(&self) -> Option<String> {
        match &self.item {
            Item::Worker(w) => Some(w.name.clone()),
            Item::ChangeSource(ChangeSourceConfig::GitPoller(g)) => Some(g.repourl.clone()),
            Item::Scheduler(s) => Some(s.name().to_owned()),
            Item::Step(s) => Some(s.common().name.clone()),
            Item::Builder(b, _) => Some(b.name.clone()),
            Item::ChangeFilter(_)
            | Item::Factory(_)
            | Item::Reporter(_)
            | Item::MessageFormatter(_)
            | Item::WwwAuth(_)
            | Item::Authz(_)
            | Item::AllowRule(_)
            | Item::RoleMatcher(_)
            | Item::Generator(_)
            | Item::SecretsProvider(_) => None,
            Item::Secret(name) => Some(name.clone()),
            Item::ForceParameter(p) => Some(p.name.clone()),
        }
    }
}

impl fmt::Display for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "<{} {:?}>", self.qualname, n),
            None => write!(f, "<{}>", self.qualname),
        }
    }
}

#[starlark_value(type = "buildbot_object", skip_vtable)]
impl<'v> StarlarkValue<'v> for Obj {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        let Item::Factory(steps) = &self.item else {
            return None;
        };
        let many = match attribute {
            "addStep" => false,
            "addSteps" => true,
            _ => return None,
        };
        Some(heap.alloc(FactoryMethod {
            steps: steps.clone(),
            many,
        }))
    }

    fn dir_attr(&self) -> Vec<String> {
        match self.item {
            Item::Factory(_) => vec!["addStep".to_owned(), "addSteps".to_owned()],
            _ => Vec::new(),
        }
    }
}

/// `factory.addStep` / `factory.addSteps`, bound to one factory.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct FactoryMethod {
    #[allocative(skip)]
    pub steps: Steps,
    pub many: bool,
}

starlark_simple_value!(FactoryMethod);

impl fmt::Display for FactoryMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = if self.many { "addSteps" } else { "addStep" };
        write!(f, "<bound method util.BuildFactory.{m}>")
    }
}

#[starlark_value(type = "bound_method", skip_vtable)]
impl<'v> StarlarkValue<'v> for FactoryMethod {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        crate::ctors::util::add_steps(self, args, eval)
    }
}
