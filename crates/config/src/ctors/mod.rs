//! Buildbot's constructors as master.cfg sees them: the namespaces (`worker`, `changes`,
//! `schedulers`, `util`, `steps`, `reporters`, `secrets`), the names Ferrobot implements and the
//! well-known names it does not implement yet (calling one is a clear error, not "not found").

mod changes;
mod file_steps;
mod force_params;
mod generators;
mod reporters;
mod schedulers;
pub(crate) mod secrets;
mod status_push;
mod steps;
mod timed;
pub(crate) mod util;
mod worker;
mod www_auth;

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
    ("reporters.BuildStatusGenerator", Kind::BuildStatusGenerator),
    (
        "reporters.BuildStartEndStatusGenerator",
        Kind::BuildStartEndStatusGenerator,
    ),
    ("util.Secret", Kind::Secret),
    ("util.UserPasswordAuth", Kind::UserPasswordAuth),
    ("util.HTPasswdAuth", Kind::HtPasswdAuth),
    ("util.Authz", Kind::Authz),
    ("util.AnyEndpointMatcher", Kind::AnyEndpointMatcher),
    (
        "util.AnyControlEndpointMatcher",
        Kind::AnyControlEndpointMatcher,
    ),
    (
        "util.ForceBuildEndpointMatcher",
        Kind::ForceBuildEndpointMatcher,
    ),
    (
        "util.StopBuildEndpointMatcher",
        Kind::StopBuildEndpointMatcher,
    ),
    (
        "util.RebuildBuildEndpointMatcher",
        Kind::RebuildBuildEndpointMatcher,
    ),
    (
        "util.EnableSchedulerEndpointMatcher",
        Kind::EnableSchedulerEndpointMatcher,
    ),
    ("util.RolesFromGroups", Kind::RolesFromGroups),
    ("util.RolesFromEmails", Kind::RolesFromEmails),
    ("util.RolesFromUsername", Kind::RolesFromUsername),
    ("secrets.SecretInAFile", Kind::SecretInAFile),
    ("schedulers.Periodic", Kind::Periodic),
    ("schedulers.Nightly", Kind::Nightly),
    ("util.StringParameter", Kind::StringParameter),
    ("util.TextParameter", Kind::TextParameter),
    ("util.IntParameter", Kind::IntParameter),
    ("util.BooleanParameter", Kind::BooleanParameter),
    ("util.ChoiceStringParameter", Kind::ChoiceStringParameter),
    ("util.FixedParameter", Kind::FixedParameter),
    ("util.NestedParameter", Kind::NestedParameter),
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
    "util.Transform",
    "util.renderer",
    "util.WithProperties",
    "util.FlattenList",
    "util.MasterLock",
    "util.WorkerLock",
    "util.UserNameParameter",
    "util.CodebaseParameter",
    "util.AnyPropertyParameter",
    "util.PatchParameter",
    "util.FileParameter",
    "util.InheritBuildParameter",
    "util.WorkerChoiceParameter",
    "util.GitHubAuth",
    "util.GitLabAuth",
    "util.GoogleAuth",
    "util.RemoteUserAuth",
    "util.RolesFromOwner",
    "util.OldBuildCanceller",
    "util.JanitorConfigurator",
    "util.GNUAutoconf",
    "util.BasicBuildFactory",
    // reporters
    "reporters.MessageFormatterMissingWorker",
    "reporters.MessageFormatterRenderable",
    "reporters.MessageFormatterFunction",
    "reporters.BuildSetStatusGenerator",
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
    if class.kind == Kind::RolesFromEmails {
        return roles_from_emails(class, args, eval);
    }
    let (spec, build): (&'static Spec, Build) = match class.kind {
        Kind::Unsupported | Kind::RolesFromEmails => return Err(err(class.misuse_message())),
        Kind::UserPasswordAuth => (&www_auth::USER_PASSWORD_AUTH, www_auth::user_password_auth),
        Kind::HtPasswdAuth => (&www_auth::HTPASSWD_AUTH, www_auth::htpasswd_auth),
        Kind::Authz => (&www_auth::AUTHZ, www_auth::authz),
        Kind::AnyEndpointMatcher => (&www_auth::ANY_ENDPOINT, www_auth::any_endpoint),
        Kind::AnyControlEndpointMatcher => (&www_auth::ANY_CONTROL, www_auth::any_control),
        Kind::ForceBuildEndpointMatcher => (&www_auth::FORCE_BUILD, www_auth::force_build),
        Kind::StopBuildEndpointMatcher => (&www_auth::STOP_BUILD, www_auth::stop_build),
        Kind::RebuildBuildEndpointMatcher => (&www_auth::REBUILD_BUILD, www_auth::rebuild_build),
        Kind::EnableSchedulerEndpointMatcher => {
            (&www_auth::ENABLE_SCHEDULER, www_auth::enable_scheduler)
        }
        Kind::RolesFromGroups => (&www_auth::ROLES_FROM_GROUPS, www_auth::roles_from_groups),
        Kind::RolesFromUsername => (
            &www_auth::ROLES_FROM_USERNAME,
            www_auth::roles_from_username,
        ),
        Kind::Worker => (&worker::WORKER, worker::worker),
        Kind::GitPoller => (&changes::GIT_POLLER, changes::git_poller),
        Kind::SingleBranchScheduler => (&schedulers::SINGLE_BRANCH, schedulers::single_branch),
        Kind::AnyBranchScheduler => (&schedulers::ANY_BRANCH, schedulers::any_branch),
        Kind::ForceScheduler => (&schedulers::FORCE, schedulers::force),
        Kind::Periodic => (&timed::PERIODIC, timed::periodic),
        Kind::Nightly => (&timed::NIGHTLY, timed::nightly),
        Kind::StringParameter => (&force_params::STRING, force_params::string),
        Kind::TextParameter => (&force_params::TEXT, force_params::text),
        Kind::IntParameter => (&force_params::INT, force_params::int),
        Kind::BooleanParameter => (&force_params::BOOL, force_params::boolean),
        Kind::ChoiceStringParameter => (&force_params::CHOICE, force_params::choice),
        Kind::FixedParameter => (&force_params::FIXED, force_params::fixed),
        Kind::NestedParameter => (&force_params::NESTED, force_params::nested),
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
        Kind::BuildStatusGenerator => (
            &generators::BUILD_STATUS_GENERATOR,
            generators::build_status_generator,
        ),
        Kind::BuildStartEndStatusGenerator => (
            &generators::BUILD_START_END_STATUS_GENERATOR,
            generators::build_start_end_status_generator,
        ),
        Kind::Secret => (&secrets::SECRET, secrets::secret),
        Kind::SecretInAFile => (&secrets::SECRET_IN_A_FILE, secrets::secret_in_a_file),
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

/// `util.RolesFromEmails(role=[emails], ...)`: keyword arguments only, each naming a role.
fn roles_from_emails<'v>(
    class: &Builtin,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> starlark::Result<Value<'v>> {
    let loc = Loc::here(eval);
    if args.positions(eval.heap())?.next().is_some() {
        return Err(err(format!(
            "{}() takes keyword arguments only, as admins=['a@example.org']",
            class.qualname
        )));
    }
    let kwargs: Vec<(String, Value<'v>)> = args
        .names_map()?
        .into_iter()
        .map(|(name, value)| (name.as_str().to_owned(), value))
        .collect();
    let matcher = www_auth::roles_from_emails(&kwargs).map_err(err)?;
    Ok(eval.heap().alloc(Obj {
        qualname: class.qualname,
        loc,
        item: Item::RoleMatcher(matcher),
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
