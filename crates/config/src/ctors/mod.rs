//! Buildbot's constructors as master.cfg sees them: the namespaces (`worker`, `changes`,
//! `schedulers`, `util`, `steps`, `reporters`, `secrets`), the names Ferrobot implements and the
//! well-known names it does not implement yet (calling one is a clear error, not "not found").

mod changes;
mod file_steps;
mod reporters;
mod schedulers;
mod status_push;
mod steps;
pub(crate) mod util;
mod worker;

use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;

use crate::args::{Args, Spec, err};
use crate::values::{Builtin, Collector, Item, Kind, Loc, Obj};

/// The names Ferrobot implements.
const SUPPORTED: &[(&str, Kind)] = &[
    ("worker.Worker", Kind::Worker),
    ("changes.GitPoller", Kind::GitPoller),
    (
        "schedulers.SingleBranchScheduler",
        Kind::SingleBranchScheduler,
    ),
    ("schedulers.AnyBranchScheduler", Kind::AnyBranchScheduler),
    ("schedulers.ForceScheduler", Kind::ForceScheduler),
    ("util.ChangeFilter", Kind::ChangeFilter),
    ("util.BuildFactory", Kind::BuildFactory),
    ("util.BuilderConfig", Kind::BuilderConfig),
    ("steps.ShellCommand", Kind::ShellCommand),
    ("steps.Git", Kind::Git),
    ("steps.RemoveDirectory", Kind::RemoveDirectory),
    ("steps.MakeDirectory", Kind::MakeDirectory),
    ("steps.SetPropertyFromCommand", Kind::SetPropertyFromCommand),
    ("steps.MasterShellCommand", Kind::MasterShellCommand),
    ("steps.StringDownload", Kind::StringDownload),
    ("steps.FileDownload", Kind::FileDownload),
    ("steps.FileUpload", Kind::FileUpload),
    ("steps.DirectoryUpload", Kind::DirectoryUpload),
    ("reporters.MailNotifier", Kind::MailNotifier),
    ("reporters.MessageFormatter", Kind::MessageFormatter),
    ("reporters.HttpStatusPush", Kind::HttpStatusPush),
    ("reporters.GitHubStatusPush", Kind::GitHubStatusPush),
    ("reporters.GitLabStatusPush", Kind::GitLabStatusPush),
];

/// Buildbot names that are known but not implemented yet.
pub(crate) const UNSUPPORTED: &[&str] = &[
    // workers
    "worker.LocalWorker",
    "worker.DockerLatentWorker",
    "worker.DockerSwarmLatentWorker",
    "worker.EC2LatentWorker",
    "worker.KubeLatentWorker",
    "worker.LibVirtWorker",
    "worker.MarathonLatentWorker",
    "worker.OpenStackLatentWorker",
    "worker.UpcloudLatentWorker",
    // change sources
    "changes.SVNPoller",
    "changes.HgPoller",
    "changes.P4Source",
    "changes.BzrPoller",
    "changes.GitHubPullrequestPoller",
    "changes.BitbucketPullrequestPoller",
    "changes.GerritChangeSource",
    "changes.GerritEventLogPoller",
    "changes.PBChangeSource",
    "changes.CVSMaildirSource",
    "changes.SVNCommitEmailMaildirSource",
    "changes.BzrLaunchpadEmailMaildirSource",
    // schedulers
    "schedulers.Periodic",
    "schedulers.Nightly",
    "schedulers.NightlyTriggerable",
    "schedulers.Triggerable",
    "schedulers.Dependent",
    "schedulers.Try_Jobdir",
    "schedulers.Try_Userpass",
    // steps
    "steps.SVN",
    "steps.Mercurial",
    "steps.P4",
    "steps.Repo",
    "steps.Gerrit",
    "steps.CVS",
    "steps.Darcs",
    "steps.Bzr",
    "steps.Monotone",
    "steps.GitHub",
    "steps.GitLab",
    "steps.Trigger",
    "steps.MultipleFileUpload",
    "steps.JSONStringDownload",
    "steps.JSONPropertiesDownload",
    "steps.SetProperty",
    "steps.SetProperties",
    "steps.SetPropertiesFromEnv",
    "steps.ShellSequence",
    "steps.Configure",
    "steps.Compile",
    "steps.Test",
    "steps.WarningCountingShellCommand",
    "steps.TreeSize",
    "steps.FileExists",
    "steps.CopyDirectory",
    "steps.HTTPStep",
    "steps.POST",
    "steps.GET",
    "steps.PUT",
    "steps.DELETE",
    "steps.GitCommit",
    "steps.GitPush",
    "steps.GitTag",
    "steps.GitDiffInfo",
    "steps.PyLint",
    "steps.PyFlakes",
    "steps.Trial",
    "steps.Sphinx",
    "steps.CMake",
    "steps.RpmBuild",
    "steps.DebPbuilder",
    "steps.Robocopy",
    "steps.MsBuild",
    "steps.LogRenderable",
    "steps.Assert",
    // util: renderables, locks, force-scheduler parameters, www auth
    "util.Interpolate",
    "util.Property",
    "util.Secret",
    "util.Transform",
    "util.renderer",
    "util.WithProperties",
    "util.FlattenList",
    "util.MasterLock",
    "util.WorkerLock",
    "util.StringParameter",
    "util.TextParameter",
    "util.IntParameter",
    "util.BooleanParameter",
    "util.ChoiceStringParameter",
    "util.FixedParameter",
    "util.UserNameParameter",
    "util.CodebaseParameter",
    "util.AnyPropertyParameter",
    "util.NestedParameter",
    "util.PatchParameter",
    "util.FileParameter",
    "util.InheritBuildParameter",
    "util.WorkerChoiceParameter",
    "util.UserPasswordAuth",
    "util.HTPasswdAuth",
    "util.GitHubAuth",
    "util.GitLabAuth",
    "util.GoogleAuth",
    "util.RemoteUserAuth",
    "util.Authz",
    "util.AnyEndpointMatcher",
    "util.AnyControlEndpointMatcher",
    "util.ForceBuildEndpointMatcher",
    "util.StopBuildEndpointMatcher",
    "util.RebuildBuildEndpointMatcher",
    "util.RolesFromEmails",
    "util.RolesFromGroups",
    "util.RolesFromOwner",
    "util.RolesFromUsername",
    "util.OldBuildCanceller",
    "util.JanitorConfigurator",
    "util.GNUAutoconf",
    "util.BasicBuildFactory",
    // reporters
    "reporters.MessageFormatterMissingWorker",
    "reporters.MessageFormatterRenderable",
    "reporters.MessageFormatterFunction",
    "reporters.BuildStatusGenerator",
    "reporters.BuildSetStatusGenerator",
    "reporters.BuildStartEndStatusGenerator",
    "reporters.WorkerMissingGenerator",
    "reporters.GitHubCommentPush",
    "reporters.GerritStatusPush",
    "reporters.GerritVerifyStatusPush",
    "reporters.BitbucketStatusPush",
    "reporters.BitbucketServerStatusPush",
    "reporters.BitbucketServerPRCommentPush",
    "reporters.PushoverNotifier",
    "reporters.PushjetNotifier",
    "reporters.TelegramBot",
    "reporters.IRC",
    "reporters.ZulipStatusPush",
    // secrets
    "secrets.SecretInAFile",
    "secrets.SecretInPass",
    "secrets.SecretInVault",
    "secrets.HashiCorpVaultKvSecretProvider",
];

/// Buildbot's result codes, as `util.SUCCESS` etc.
const RESULTS: &[&str] = &[
    "SUCCESS",
    "WARNINGS",
    "FAILURE",
    "SKIPPED",
    "EXCEPTION",
    "RETRY",
    "CANCELLED",
];

fn split(qualname: &'static str) -> (&'static str, &'static str) {
    qualname.split_once('.').unwrap_or(("", qualname))
}

/// Adds the namespaces to the globals.
pub(crate) fn register(builder: &mut GlobalsBuilder) {
    for &namespace in crate::prepass::PLUGIN_NAMESPACES {
        builder.namespace(namespace, |b| {
            for &(qualname, kind) in SUPPORTED {
                let (ns, name) = split(qualname);
                if ns == namespace {
                    b.set(name, Builtin { qualname, kind });
                }
            }
            for &qualname in UNSUPPORTED {
                let (ns, name) = split(qualname);
                if ns == namespace {
                    b.set(
                        name,
                        Builtin {
                            qualname,
                            kind: Kind::Unsupported,
                        },
                    );
                }
            }
            if namespace == "util" {
                for (code, name) in RESULTS.iter().enumerate() {
                    b.set(name, code as i32);
                }
                b.set(
                    "Results",
                    RESULTS
                        .iter()
                        .map(|r| r.to_ascii_lowercase())
                        .collect::<Vec<_>>(),
                );
            }
        });
    }
}

/// The namespace that holds a bare Buildbot class name (`ShellCommand` → `steps`).
pub(crate) fn namespace_of(name: &str) -> Option<&'static str> {
    SUPPORTED
        .iter()
        .map(|(q, _)| *q)
        .chain(UNSUPPORTED.iter().copied())
        .map(split)
        .find(|(_, n)| *n == name)
        .map(|(ns, _)| ns)
}

/// The constructor that builds an item from bound arguments; it may add warnings.
type Build = for<'v> fn(&Args<'v>, &mut Vec<String>) -> starlark::Result<Item>;

/// Calls a Buildbot class.
pub(crate) fn call<'v>(
    class: &Builtin,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> starlark::Result<Value<'v>> {
    let (spec, build): (&'static Spec, Build) = match class.kind {
        Kind::Unsupported => return Err(err(class.misuse_message())),
        Kind::Worker => (&worker::WORKER, worker::worker),
        Kind::GitPoller => (&changes::GIT_POLLER, changes::git_poller),
        Kind::SingleBranchScheduler => (&schedulers::SINGLE_BRANCH, schedulers::single_branch),
        Kind::AnyBranchScheduler => (&schedulers::ANY_BRANCH, schedulers::any_branch),
        Kind::ForceScheduler => (&schedulers::FORCE, schedulers::force),
        Kind::ChangeFilter => (&util::CHANGE_FILTER, util::change_filter),
        Kind::BuildFactory => (&util::BUILD_FACTORY, util::build_factory),
        Kind::BuilderConfig => (&util::BUILDER_CONFIG, util::builder_config),
        Kind::ShellCommand => (&steps::SHELL_COMMAND, steps::shell_command),
        Kind::Git => (&steps::GIT, steps::git),
        Kind::RemoveDirectory => (&file_steps::REMOVE_DIRECTORY, file_steps::remove_directory),
        Kind::MakeDirectory => (&file_steps::MAKE_DIRECTORY, file_steps::make_directory),
        Kind::SetPropertyFromCommand => (
            &file_steps::SET_PROPERTY_FROM_COMMAND,
            file_steps::set_property_from_command,
        ),
        Kind::MasterShellCommand => (
            &file_steps::MASTER_SHELL_COMMAND,
            file_steps::master_shell_command,
        ),
        Kind::StringDownload => (&file_steps::STRING_DOWNLOAD, file_steps::string_download),
        Kind::FileDownload => (&file_steps::FILE_DOWNLOAD, file_steps::file_download),
        Kind::FileUpload => (&file_steps::FILE_UPLOAD, file_steps::file_upload),
        Kind::DirectoryUpload => (&file_steps::DIRECTORY_UPLOAD, file_steps::directory_upload),
        Kind::MailNotifier => (&reporters::MAIL_NOTIFIER, reporters::mail_notifier),
        Kind::MessageFormatter => (&reporters::MESSAGE_FORMATTER, reporters::message_formatter),
        Kind::HttpStatusPush => (
            &status_push::HTTP_STATUS_PUSH,
            status_push::http_status_push,
        ),
        Kind::GitHubStatusPush => (
            &status_push::GITHUB_STATUS_PUSH,
            status_push::github_status_push,
        ),
        Kind::GitLabStatusPush => (
            &status_push::GITLAB_STATUS_PUSH,
            status_push::gitlab_status_push,
        ),
    };
    let loc = Loc::here(eval);
    let args = Args::bind(spec, args, eval.heap())?;
    let mut warnings = args.ignored.clone();
    let item = build(&args, &mut warnings)?;
    record(eval, &loc, warnings);
    Ok(eval.heap().alloc(Obj {
        qualname: class.qualname,
        loc,
        item,
    }))
}

/// Records warnings made at `loc`.
pub(crate) fn record(eval: &Evaluator, loc: &Loc, warnings: Vec<String>) {
    if let Some(collector) = Collector::of(eval) {
        collector
            .warnings
            .borrow_mut()
            .extend(warnings.into_iter().map(|w| format!("{loc}: {w}")));
    }
}
