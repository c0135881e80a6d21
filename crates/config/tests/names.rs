//! Every supported Buildbot name with every supported argument given explicitly.

mod common;

use std::collections::BTreeMap;

use common::{builder, load, load_with_base, single_step};
use ferrobot_config::{
    BranchSelection, ChangeFilter, ChangeSourceConfig, Command, GitMethod, GitMode,
    SchedulerConfig, StepConfig,
};
use serde_json::json;

#[test]
fn worker_takes_name_password_max_builds_properties() {
    let cfg = load(
        r#"
c['workers'] = [
    worker.Worker("w1", "secret", max_builds=2, properties={"os": "linux", "cores": 8}),
    worker.Worker(name="w2", password="other"),
    worker.Worker("w3", "third", 1),
]
"#,
    );
    let w = &cfg.workers;
    assert_eq!(w[0].name, "w1");
    assert_eq!(w[0].password, "secret");
    assert_eq!(w[0].max_builds, Some(2));
    assert_eq!(
        w[0].properties,
        BTreeMap::from([("os".into(), json!("linux")), ("cores".into(), json!(8))])
    );
    assert_eq!(
        (w[1].name.as_str(), w[1].password.as_str()),
        ("w2", "other")
    );
    assert_eq!(w[2].max_builds, Some(1));
}

#[test]
fn git_poller_takes_every_supported_argument() {
    let cfg = load(
        r#"
c['change_source'] = [
    changes.GitPoller(repourl="https://example.org/a.git", branches=["main", "refs/heads/dev"],
                      pollInterval=30, pollAtLaunch=True, workdir="gp-a", project="a",
                      category="ci", codebase="cb", name="poller-a"),
    changes.GitPoller("https://example.org/b.git", branch="stable"),
    changes.GitPoller("https://example.org/c.git", branches=True),
]
"#,
    );
    let polls: Vec<_> = cfg
        .change_sources
        .iter()
        .map(|c| match c {
            ChangeSourceConfig::GitPoller(g) => g,
        })
        .collect();
    let a = polls[0];
    assert_eq!(a.repourl, "https://example.org/a.git");
    assert_eq!(
        a.branches,
        BranchSelection::Named(vec!["main".into(), "dev".into()])
    );
    assert_eq!(a.poll_interval_s, 30);
    assert!(a.poll_at_launch);
    assert_eq!(a.workdir, "gp-a");
    assert_eq!(a.project, "a");
    assert_eq!(a.category.as_deref(), Some("ci"));
    assert_eq!(a.codebase, "cb");
    assert_eq!(a.name, "poller-a");
    assert_eq!(polls[1].repourl, "https://example.org/b.git");
    assert_eq!(
        polls[1].branches,
        BranchSelection::Named(vec!["stable".into()])
    );
    assert_eq!(polls[2].branches, BranchSelection::All);
}

#[test]
fn git_poller_accepts_the_old_pollinterval_spelling() {
    let cfg = load("c['change_source'] = changes.GitPoller('/r.git', pollinterval=45)\n");
    let ChangeSourceConfig::GitPoller(g) = &cfg.change_sources[0];
    assert_eq!(g.poll_interval_s, 45);
}

#[test]
fn single_branch_scheduler_takes_every_supported_argument() {
    let cfg = load_with_base(
        r#"
c['schedulers'] = [schedulers.SingleBranchScheduler(
    name="all", change_filter=util.ChangeFilter(branch="main"), treeStableTimer=60,
    builderNames=["b1"], properties={"deploy": False}, reason="a commit", priority=5)]
"#,
    );
    let SchedulerConfig::SingleBranch(s) = &cfg.schedulers[0] else {
        panic!("SingleBranch expected");
    };
    assert_eq!(s.name, "all");
    assert_eq!(s.change_filter.branch, Some(vec![Some("main".into())]));
    assert_eq!(s.tree_stable_timer_s, Some(60));
    assert_eq!(s.builder_names, ["b1"]);
    assert_eq!(
        s.properties,
        BTreeMap::from([("deploy".into(), json!(false))])
    );
    assert_eq!(s.reason.as_deref(), Some("a commit"));
    assert_eq!(s.priority, 5);
}

#[test]
fn single_branch_scheduler_accepts_the_deprecated_branch_argument() {
    let cfg = load_with_base(
        "c['schedulers'] = [schedulers.SingleBranchScheduler('s', branch='main', builderNames=['b1'])]\n",
    );
    let SchedulerConfig::SingleBranch(s) = &cfg.schedulers[0] else {
        panic!("SingleBranch expected");
    };
    assert_eq!(s.change_filter.branch, Some(vec![Some("main".into())]));
}

#[test]
fn any_branch_scheduler_takes_a_filter_or_branches() {
    let cfg = load_with_base(
        r#"
c['schedulers'] = [
    schedulers.AnyBranchScheduler(name="any", builderNames=["b1"],
        change_filter=util.ChangeFilter(project="p"), treeStableTimer=5,
        properties={"x": 1}, reason="why", priority=-1),
    schedulers.AnyBranchScheduler(name="listed", builderNames=["b1"], branches=["a", "b"]),
    schedulers.AnyBranchScheduler(name="everything", builderNames=["b1"]),
]
"#,
    );
    let filters: Vec<&ChangeFilter> = cfg
        .schedulers
        .iter()
        .map(|s| match s {
            SchedulerConfig::AnyBranch(c) => &c.change_filter,
            other => panic!("AnyBranch expected: {other:?}"),
        })
        .collect();
    assert_eq!(filters[0].project, Some(vec!["p".into()]));
    assert_eq!(
        filters[1].branch,
        Some(vec![Some("a".into()), Some("b".into())])
    );
    assert_eq!(filters[2], &ChangeFilter::default());
    let SchedulerConfig::AnyBranch(any) = &cfg.schedulers[0] else {
        panic!("AnyBranch expected");
    };
    assert_eq!(any.tree_stable_timer_s, Some(5));
    assert_eq!(any.priority, -1);
    assert_eq!(any.reason.as_deref(), Some("why"));
}

#[test]
fn force_scheduler_takes_every_supported_argument() {
    let cfg = load_with_base(
        r#"
c['schedulers'] = [
    schedulers.ForceScheduler(name="force", builderNames=["b1"], buttonName="Go!",
                              label="Force a build", reasonString="forced: %(reason)s"),
    schedulers.ForceScheduler("positional", ["b1"]),
]
"#,
    );
    let SchedulerConfig::Force(f) = &cfg.schedulers[0] else {
        panic!("Force expected");
    };
    assert_eq!(f.name, "force");
    assert_eq!(f.builder_names, ["b1"]);
    assert_eq!(f.button_name, "Go!");
    assert_eq!(f.label, "Force a build");
    assert_eq!(f.reason_string, "forced: %(reason)s");
    assert_eq!(cfg.schedulers[1].name(), "positional");
    assert_eq!(cfg.schedulers[1].builder_names(), ["b1"]);
}

#[test]
fn force_scheduler_reason_string_is_accepted_with_a_warning() {
    let cfg = load_with_base(
        "c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b1'], reason='because')]\n",
    );
    assert!(
        cfg.warnings.iter().any(|w| w.contains("'reason'")),
        "{:?}",
        cfg.warnings
    );
}

fn filter(args: &str) -> ChangeFilter {
    let cfg = load_with_base(&format!(
        "c['schedulers'] = [schedulers.AnyBranchScheduler(name='s', builderNames=['b1'], \
         change_filter=util.ChangeFilter({args}))]\n"
    ));
    match &cfg.schedulers[0] {
        SchedulerConfig::AnyBranch(c) => c.change_filter.clone(),
        other => panic!("AnyBranch expected: {other:?}"),
    }
}

#[test]
fn change_filter_takes_strings_or_lists() {
    let f = filter(
        "branch=['main', 'dev'], branch_re='release/.*', project='p', \
         repository=['r1', 'r2'], category='c', codebase=['cb']",
    );
    assert_eq!(
        f.branch,
        Some(vec![Some("main".into()), Some("dev".into())])
    );
    assert_eq!(f.branch_re.as_deref(), Some("release/.*"));
    assert_eq!(f.project, Some(vec!["p".into()]));
    assert_eq!(f.repository, Some(vec!["r1".into(), "r2".into()]));
    assert_eq!(f.category, Some(vec!["c".into()]));
    assert_eq!(f.codebase, Some(vec!["cb".into()]));
}

#[test]
fn change_filter_branch_none_means_the_default_branch_not_any_branch() {
    assert_eq!(filter("branch=None").branch, Some(vec![None]));
    assert_eq!(filter("project='p'").branch, None);
    assert_eq!(
        filter("branch=[None, 'main']").branch,
        Some(vec![None, Some("main".into())])
    );
}

#[test]
fn change_filter_branch_re_list_matches_any_of_them() {
    assert_eq!(
        filter("branch_re=['a.*', 'b.*']").branch_re.as_deref(),
        Some("(?:a.*)|(?:b.*)")
    );
}

#[test]
fn build_factory_collects_steps_three_ways() {
    let cfg = load(
        r#"
c['workers'] = [worker.Worker("w1", "pw")]
f1 = util.BuildFactory(steps=[steps.ShellCommand(name="a", command="a")])
f1.addStep(steps.ShellCommand(name="b", command="b"))
f1.addSteps([steps.ShellCommand(name="c", command="c"), steps.Git(repourl="/r.git")])
f2 = util.BuildFactory([steps.ShellCommand(command="x")])
c['builders'] = [
    util.BuilderConfig(name="one", workernames=["w1"], factory=f1),
    util.BuilderConfig(name="two", workername="w1", factory=f2),
]
# Steps added after the BuilderConfig still count, as in Buildbot.
f2.addStep(steps.ShellCommand(name="late", command="y"))
"#,
    );
    let names = |b: &str| -> Vec<String> {
        builder(&cfg, b)
            .steps
            .iter()
            .map(|s| s.common().name.clone())
            .collect()
    };
    assert_eq!(names("one"), ["a", "b", "c", "git"]);
    assert_eq!(names("two"), ["shell", "late"]);
}

#[test]
fn builder_config_takes_every_supported_argument() {
    let cfg = load(
        r#"
c['workers'] = [worker.Worker("w1", "pw"), worker.Worker("w2", "pw")]
f = util.BuildFactory([steps.ShellCommand(command="true")])
c['builders'] = [
    util.BuilderConfig(name="full", workernames=["w1"], workername="w2", factory=f,
                       builddir="full-dir", description="the full one", tags=["a", "b"],
                       properties={"level": 3}),
    util.BuilderConfig("pos", "w1", factory=f),
]
"#,
    );
    let b = builder(&cfg, "full");
    assert_eq!(b.worker_names, ["w1", "w2"]);
    assert_eq!(b.builddir, "full-dir");
    assert_eq!(b.description.as_deref(), Some("the full one"));
    assert_eq!(b.tags, ["a", "b"]);
    assert_eq!(b.properties, BTreeMap::from([("level".into(), json!(3))]));
    assert_eq!(builder(&cfg, "pos").worker_names, ["w1"]);
}

#[test]
fn shell_command_takes_every_supported_argument() {
    let StepConfig::ShellCommand(s) = single_step(
        r#"steps.ShellCommand(name="make", command=["make", "-j", 4, ["all"]],
            env={"CC": "gcc", "UNSET": None, "PATH": ["/a", "/b"]}, workdir="src",
            timeout=60, maxTime=3600.5, want_stdout=False, want_stderr=False,
            haltOnFailure=True, flunkOnFailure=False, flunkOnWarnings=True,
            warnOnFailure=True, warnOnWarnings=True, alwaysRun=True,
            description="making", descriptionDone=["made", "it"])"#,
    ) else {
        panic!("ShellCommand expected");
    };
    assert_eq!(s.common.name, "make");
    assert_eq!(
        s.command,
        Command::Argv(vec!["make".into(), "-j".into(), "4".into(), "all".into()])
    );
    assert_eq!(
        s.env,
        BTreeMap::from([
            ("CC".into(), Some("gcc".into())),
            ("UNSET".into(), None),
            ("PATH".into(), Some("/a:/b".into())),
        ])
    );
    assert_eq!(s.common.workdir.as_deref(), Some("src"));
    assert_eq!(s.timeout_s, Some(60.0));
    assert_eq!(s.max_time_s, Some(3600.5));
    assert!(!s.want_stdout && !s.want_stderr);
    let c = &s.common;
    assert!(c.halt_on_failure && !c.flunk_on_failure && c.flunk_on_warnings);
    assert!(c.warn_on_failure && c.warn_on_warnings && c.always_run);
    assert_eq!(c.description.as_deref(), Some("making"));
    assert_eq!(c.description_done.as_deref(), Some("made it"));
}

#[test]
fn shell_command_takes_its_process_arguments() {
    let StepConfig::ShellCommand(s) = single_step(
        r#"steps.ShellCommand(command="x", usePTY=True, initialStdin="in", sigtermTime=3,
            interruptSignal="SIGTERM", decodeRC={0: util.SUCCESS, 1: util.WARNINGS},
            logfiles={"tests": "out/tests.log", "follow": {"filename": "f.log", "follow": True}})"#,
    ) else {
        panic!("ShellCommand expected");
    };
    assert!(s.use_pty);
    assert_eq!(s.initial_stdin.as_deref(), Some("in"));
    assert_eq!(
        (s.sigterm_time_s, s.interrupt_signal.as_str()),
        (Some(3.0), "TERM")
    );
    assert_eq!(
        s.decode_rc.get(&1),
        Some(&ferrobot_model::Results::Warnings)
    );
    assert_eq!(s.logfiles["tests"].filename, "out/tests.log");
    assert!(!s.logfiles["tests"].follow && s.logfiles["follow"].follow);
    for (bad, fragment) in [
        ("interruptSignal='BOOM'", "interruptSignal"),
        ("decodeRC={0: 42}", "decodeRC"),
        ("logfiles={'x': 1}", "logfiles"),
    ] {
        let message = common::error(&format!(
            "c['workers'] = []\nx = steps.ShellCommand(command='x', {bad})\n"
        ));
        assert!(message.contains(fragment), "{message}");
    }
}

#[test]
fn shell_command_string_runs_through_the_shell() {
    let StepConfig::ShellCommand(s) =
        single_step("steps.ShellCommand(command='make && make test')")
    else {
        panic!("ShellCommand expected");
    };
    assert_eq!(s.command, Command::Shell("make && make test".into()));
}

#[test]
fn shell_command_timeout_none_means_never() {
    let StepConfig::ShellCommand(s) = single_step("steps.ShellCommand(command='x', timeout=None)")
    else {
        panic!("ShellCommand expected");
    };
    assert_eq!(s.timeout_s, None);
}

#[test]
fn git_takes_every_supported_argument() {
    let StepConfig::Git(g) = single_step(
        r#"steps.Git(repourl="https://example.org/r.git", branch="dev", mode="full",
            method="clobber", workdir="src", timeout=30, name="checkout",
            haltOnFailure=False, alwaysRun=True)"#,
    ) else {
        panic!("Git expected");
    };
    assert_eq!(g.repourl, "https://example.org/r.git");
    assert_eq!(g.branch, "dev");
    assert_eq!(g.mode, GitMode::Full);
    assert_eq!(g.method, GitMethod::Clobber);
    assert_eq!(g.common.workdir.as_deref(), Some("src"));
    assert_eq!(g.timeout_s, Some(30.0));
    assert_eq!(g.common.name, "checkout");
    assert!(!g.common.halt_on_failure && g.common.always_run);
}

#[test]
fn git_methods_are_all_accepted() {
    for (text, method) in [
        ("fresh", GitMethod::Fresh),
        ("clobber", GitMethod::Clobber),
        ("clean", GitMethod::Clean),
        ("copy", GitMethod::Copy),
    ] {
        let StepConfig::Git(g) = single_step(&format!(
            "steps.Git('/r.git', mode='full', method='{text}')"
        )) else {
            panic!("Git expected");
        };
        assert_eq!(g.method, method);
    }
}

#[test]
fn result_constants_are_buildbot_codes() {
    let cfg = load_with_base(
        "c['properties'] = {'codes': [util.SUCCESS, util.WARNINGS, util.FAILURE, util.SKIPPED, \
         util.EXCEPTION, util.RETRY, util.CANCELLED], 'name': util.Results[util.FAILURE]}\n",
    );
    assert_eq!(cfg.properties["codes"], json!([0, 1, 2, 3, 4, 5, 6]));
    assert_eq!(cfg.properties["name"], json!("failure"));
}
