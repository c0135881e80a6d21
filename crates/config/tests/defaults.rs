//! Buildbot's defaults, for everything left out.

mod common;

use std::collections::BTreeMap;

use common::{builder, load, load_with_base, single_step};
use ferrobot_config::{
    BranchSelection, ChangeSourceConfig, CoordinationConfig, GitMethod, GitMode, MasterConfig,
    MqConfig, SchedulerConfig, StepConfig,
};

#[test]
fn an_empty_file_is_buildbots_defaults() {
    let cfg = load("");
    assert_eq!(cfg.title, "Buildbot");
    assert_eq!(cfg.title_url.as_deref(), Some("http://buildbot.net"));
    assert_eq!(cfg.buildbot_url, "http://localhost:8010/");
    assert_eq!(cfg.www.port, 8010);
    assert_eq!(cfg.www.interface, None);
    assert!(cfg.www.plugins.is_empty());
    assert_eq!(cfg.db_url, "sqlite:///state.sqlite");
    assert_eq!(cfg.worker_port, 9989);
    assert!(!cfg.multi_master);
    assert_eq!(cfg.mq, MqConfig::Simple);
    assert_eq!(cfg.coordination, CoordinationConfig::Database);
    assert!(cfg.workers.is_empty() && cfg.builders.is_empty() && cfg.schedulers.is_empty());
    assert!(cfg.warnings.is_empty());
    assert_eq!(cfg, MasterConfig::default());
}

#[test]
fn worker_defaults() {
    let cfg = load("c['workers'] = [worker.Worker('w', 'p')]\n");
    assert_eq!(cfg.workers[0].max_builds, None);
    assert!(cfg.workers[0].properties.is_empty());
}

#[test]
fn git_poller_defaults() {
    let cfg = load("c['change_source'] = [changes.GitPoller('https://example.org/r.git')]\n");
    let ChangeSourceConfig::GitPoller(g) = &cfg.change_sources[0];
    assert_eq!(g.branches, BranchSelection::Named(vec!["master".into()]));
    assert_eq!(g.poll_interval_s, 600);
    assert!(!g.poll_at_launch);
    assert_eq!(g.workdir, "gitpoller-work");
    assert_eq!(g.project, "");
    assert_eq!(g.category, None);
    assert_eq!(g.codebase, "");
    assert_eq!(g.name, "GitPoller:https://example.org/r.git");
}

#[test]
fn change_scheduler_defaults() {
    let cfg = load_with_base(
        "c['schedulers'] = [schedulers.SingleBranchScheduler(name='s', builderNames=['b1'], \
         change_filter=util.ChangeFilter(branch='main')), \
         schedulers.AnyBranchScheduler(name='a', builderNames=['b1'])]\n",
    );
    let SchedulerConfig::SingleBranch(s) = &cfg.schedulers[0] else {
        panic!("SingleBranch expected");
    };
    assert_eq!(s.tree_stable_timer_s, None);
    assert!(s.properties.is_empty());
    assert_eq!(s.priority, 0);
    assert_eq!(
        s.reason.as_deref(),
        Some("The SingleBranchScheduler scheduler named 's' triggered this build")
    );
    let SchedulerConfig::AnyBranch(a) = &cfg.schedulers[1] else {
        panic!("AnyBranch expected");
    };
    assert_eq!(
        a.reason.as_deref(),
        Some("The AnyBranchScheduler scheduler named 'a' triggered this build")
    );
}

#[test]
fn force_scheduler_defaults() {
    let cfg = load_with_base(
        "c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['b1'])]\n",
    );
    let SchedulerConfig::Force(f) = &cfg.schedulers[0] else {
        panic!("Force expected");
    };
    assert_eq!(f.button_name, "force");
    assert_eq!(f.label, "force");
    assert_eq!(
        f.reason_string,
        "A build was forced by '%(owner)s': %(reason)s"
    );
    assert!(f.properties.is_empty());
}

#[test]
fn builder_defaults() {
    let cfg = load(
        r#"
c['workers'] = [worker.Worker("w1", "pw")]
f = util.BuildFactory()
c['builders'] = [util.BuilderConfig(name="my builder/1", workernames="w1", factory=f)]
"#,
    );
    let b = builder(&cfg, "my builder/1");
    // Buildbot's safeTranslate of the name.
    assert_eq!(b.builddir, "my_builder_1");
    assert_eq!(b.description, None);
    assert!(b.tags.is_empty() && b.properties.is_empty() && b.steps.is_empty());
    assert_eq!(b.worker_names, ["w1"]);
}

#[test]
fn shell_command_defaults() {
    let StepConfig::ShellCommand(s) = single_step("steps.ShellCommand(command=['make'])") else {
        panic!("ShellCommand expected");
    };
    // Buildbot's ShellCommand class is named "shell".
    assert_eq!(s.common.name, "shell");
    assert_eq!(s.timeout_s, Some(1200.0));
    assert_eq!(s.max_time_s, None);
    assert!(s.want_stdout && s.want_stderr);
    assert!(s.env.is_empty());
    assert!(!s.use_pty && s.initial_stdin.is_none() && s.sigterm_time_s.is_none());
    assert_eq!(s.interrupt_signal, "KILL");
    assert_eq!(
        s.decode_rc,
        BTreeMap::from([(0, ferrobot_model::Results::Success)])
    );
    assert!(s.logfiles.is_empty());
    let c = &s.common;
    assert!(!c.halt_on_failure && c.flunk_on_failure && !c.flunk_on_warnings);
    assert!(!c.warn_on_failure && !c.warn_on_warnings && !c.always_run);
    assert_eq!(
        (c.description.as_deref(), c.description_done.as_deref()),
        (None, None)
    );
    assert_eq!(c.workdir, None);
}

#[test]
fn git_defaults() {
    let StepConfig::Git(g) = single_step("steps.Git(repourl='/r.git')") else {
        panic!("Git expected");
    };
    assert_eq!(g.common.name, "git");
    assert_eq!(g.branch, "HEAD");
    assert_eq!(g.mode, GitMode::Incremental);
    assert_eq!(g.timeout_s, Some(1200.0));
    // Source steps halt the build when the checkout fails (Buildbot's Source class).
    assert!(g.common.halt_on_failure);
    assert!(g.common.flunk_on_failure);
}

#[test]
fn git_full_mode_defaults_to_fresh() {
    let StepConfig::Git(g) = single_step("steps.Git(repourl='/r.git', mode='full')") else {
        panic!("Git expected");
    };
    assert_eq!(g.mode, GitMode::Full);
    assert_eq!(g.method, GitMethod::Fresh);
}
