//! Errors a user would make, each naming file:line:col, the constructor and the argument.

mod common;

use common::{BASE, assert_mentions, error, load_with_base};

#[test]
fn unknown_keyword_names_constructor_argument_and_position() {
    let src = "c['schedulers'] = []\n\n\n\n\n\n\n\n\n\n\nc['schedulers'].append(\n    schedulers.ForceScheduler(name='force', builderNames=['b1'], buttonNam='Go'))\n";
    let message = error(src);
    assert!(
        message.starts_with(
            "master.cfg:13:5: schedulers.ForceScheduler() got an unexpected keyword argument 'buttonNam'"
        ),
        "{message}"
    );
    assert_mentions(&message, &["did you mean 'buttonName'?"]);
}

#[test]
fn unknown_keyword_in_every_constructor_is_an_error() {
    for call in [
        "worker.Worker('w', 'p', maxbuilds=1)",
        "changes.GitPoller('/r.git', poll_interval=5)",
        "schedulers.SingleBranchScheduler(name='s', builderNames=[], branch='m', treeStable=1)",
        "schedulers.AnyBranchScheduler(name='s', builderNames=[], bogus=1)",
        "schedulers.ForceScheduler(name='s', builderNames=[], bogus=1)",
        "util.ChangeFilter(branches='m')",
        "util.BuildFactory(stepz=[])",
        "util.BuilderConfig(name='b', workernames=['w'], factory=util.BuildFactory(), slavenames=['w'])",
        "steps.ShellCommand(command='x', cmd='y')",
        "steps.Git(repourl='/r', brnch='x')",
    ] {
        let message = error(&format!("x = {call}\n"));
        let constructor = call.split('(').next().unwrap_or_default();
        assert!(
            message.starts_with(&format!(
                "master.cfg:1:5: {constructor}() got an unexpected keyword argument '"
            )),
            "{call}: {message}"
        );
    }
}

#[test]
fn add_step_rejects_unknown_keywords_too() {
    let message =
        error("f = util.BuildFactory()\nf.addStep(steps.ShellCommand(command='x'), extra=1)\n");
    assert_eq!(
        message,
        "master.cfg:2:1: util.BuildFactory.addStep() got an unexpected keyword argument 'extra'"
    );
}

#[test]
fn missing_required_arguments_are_named() {
    for (call, arg) in [
        ("worker.Worker('w')", "password"),
        ("changes.GitPoller(branch='m')", "repourl"),
        ("schedulers.ForceScheduler(name='f')", "builderNames"),
        ("schedulers.AnyBranchScheduler(builderNames=['b'])", "name"),
        (
            "util.BuilderConfig(workernames=['w'], factory=util.BuildFactory())",
            "name",
        ),
        ("steps.ShellCommand(name='x')", "command"),
        ("steps.Git(mode='full')", "repourl"),
    ] {
        let message = error(&format!("x = {call}\n"));
        let constructor = call.split('(').next().unwrap_or_default();
        assert_eq!(
            message,
            format!("master.cfg:1:5: {constructor}() missing required argument '{arg}'"),
            "{call}"
        );
    }
}

#[test]
fn wrong_types_name_the_argument_and_what_was_given() {
    for (call, fragment) in [
        (
            "worker.Worker('w', 'p', max_builds='2')",
            "worker.Worker() argument 'max_builds' must be an int, not str",
        ),
        (
            "worker.Worker(1, 'p')",
            "worker.Worker() argument 'name' must be a string, not int",
        ),
        (
            "changes.GitPoller('/r', pollInterval='10')",
            "changes.GitPoller() argument 'pollInterval' must be a number of seconds, not str",
        ),
        (
            "schedulers.ForceScheduler(name='f', builderNames='b')",
            "schedulers.ForceScheduler() argument 'builderNames' must be a list of strings, not str",
        ),
        (
            "schedulers.SingleBranchScheduler(name='s', builderNames=['b'], change_filter='main')",
            "argument 'change_filter' must be a util.ChangeFilter, not str",
        ),
        (
            "steps.ShellCommand(command={'a': 1})",
            "argument 'command' must be a string or a list of strings, not dict",
        ),
        (
            "steps.ShellCommand(command='x', haltOnFailure='yes')",
            "argument 'haltOnFailure' must be True or False, not str",
        ),
        (
            "steps.ShellCommand(command='x', env={'A': 1})",
            "argument 'env' \"A\" must be a string, a list of strings or None, not int",
        ),
        (
            "util.BuilderConfig(name='b', workernames=['w'], factory=steps.ShellCommand(command='x'))",
            "argument 'factory' must be a util.BuildFactory, not steps.ShellCommand",
        ),
    ] {
        let message = error(&format!("x = {call}\n"));
        assert!(message.starts_with("master.cfg:1:5: "), "{message}");
        assert_mentions(&message, &[fragment]);
    }
}

#[test]
fn bad_values_are_explained() {
    for (call, fragment) in [
        (
            "steps.Git('/r', mode='partial')",
            "argument 'mode' must be 'incremental' or 'full', got \"partial\"",
        ),
        (
            "steps.Git('/r', mode='full', method='nuke')",
            "argument 'method' must be 'clobber', 'fresh', 'clean' or 'copy'",
        ),
        (
            "schedulers.ForceScheduler(name='not ok', builderNames=['b'])",
            "argument 'name' must be an identifier",
        ),
        (
            "changes.GitPoller('/r', branch='a', branches=['b'])",
            "can't take both 'branch' and 'branches'",
        ),
        (
            "schedulers.SingleBranchScheduler(name='s', builderNames=['b'])",
            "needs change_filter=util.ChangeFilter(...)",
        ),
        (
            "worker.Worker('w', 'p', max_builds=0)",
            "argument 'max_builds' must be at least 1",
        ),
        (
            "steps.ShellCommand(command=[])",
            "argument 'command' must not be empty",
        ),
        (
            "steps.ShellCommand(command='x', timeout=-1)",
            "argument 'timeout' must not be negative",
        ),
    ] {
        let message = error(&format!("x = {call}\n"));
        assert!(message.starts_with("master.cfg:1:5: "), "{message}");
        assert_mentions(&message, &[fragment]);
    }
}

#[test]
fn too_many_positional_arguments() {
    let message = error("x = worker.Worker('w', 'p', 1, {}, 'extra')\n");
    assert_eq!(
        message,
        "master.cfg:1:5: worker.Worker() takes at most 3 positional arguments (5 given)"
    );
    let message = error("x = steps.ShellCommand('make')\n");
    assert_mentions(
        &message,
        &["steps.ShellCommand() takes keyword arguments only"],
    );
}

#[test]
fn an_argument_given_twice_is_an_error() {
    let message = error("x = worker.Worker('w', 'p', name='again')\n");
    assert_eq!(
        message,
        "master.cfg:1:5: worker.Worker() got multiple values for argument 'name'"
    );
}

#[test]
fn a_syntax_error_has_line_and_column() {
    let message = error("c['title'] = 'x'\nc['workers'] = [worker.Worker('w', 'p'),\n\nx = = 1\n");
    assert!(message.starts_with("master.cfg:4:"), "{message}");
    let message = error("c['title'] = 'x'\n  indented = 1\n");
    assert!(message.starts_with("master.cfg:2:"), "{message}");
}

#[test]
fn a_runtime_error_has_line_and_column() {
    let message = error("c['title'] = 'x'\ny = undefined_name + 1\n");
    assert!(message.starts_with("master.cfg:2:5: "), "{message}");
    assert_mentions(&message, &["undefined_name"]);
}

#[test]
fn unsupported_buildbot_names_say_so_with_their_position() {
    for name in [
        "steps.SVN",
        "changes.SVNPoller",
        "changes.HgPoller",
        "schedulers.NightlyTriggerable",
        "schedulers.Triggerable",
        "schedulers.Dependent",
        "util.Interpolate",
        "util.Property",
        "secrets.SecretInPass",
        "steps.Trigger",
        "steps.MultipleFileUpload",
        "reporters.GitHubCommentPush",
        "util.MasterLock",
    ] {
        let message = error(&format!("c['title'] = 'x'\n\nvalue = {name}('arg')\n"));
        assert_eq!(
            message,
            format!("master.cfg:3:9: {name} is not supported yet")
        );
    }
}

#[test]
fn a_name_buildbot_does_not_have_either_is_named() {
    let message = error("x = steps.ShellCmd(command='x')\n");
    assert!(
        message.starts_with("master.cfg:1:5: steps.ShellCmd is not a Buildbot name Ferrobot knows"),
        "{message}"
    );
}

#[test]
fn an_unsupported_name_passed_uncalled_is_named() {
    let message = error("f = util.BuildFactory()\nf.addStep(steps.SVN)\n");
    assert_eq!(message, "master.cfg:2:1: steps.SVN is not supported yet");
}

#[test]
fn unsupported_buildbot_arguments_say_so() {
    let message = error("x = steps.ShellCommand(command='x', lazylogfiles=True)\n");
    assert_eq!(
        message,
        "master.cfg:1:5: steps.ShellCommand() argument 'lazylogfiles' is not supported yet"
    );
    // Asking for nothing (False / None / empty) is fine.
    load_with_base("x = steps.Git('/r', submodules=False, shallow=None, locks=[])\n");
}

#[test]
fn ignored_buildbot_arguments_are_warnings() {
    let cfg = load_with_base("x = steps.ShellCommand(command='x', logEnviron=False)\n");
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.starts_with("master.cfg:5:5: ") && w.contains("'logEnviron'")),
        "{:?}",
        cfg.warnings
    );
}

#[test]
fn duplicate_names_are_errors_naming_both_places() {
    let message = error(
        "c['workers'] = [worker.Worker('w', 'a'),\n                worker.Worker('w', 'b')]\n",
    );
    assert_eq!(
        message,
        "master.cfg:2:17: duplicate worker name 'w' (first defined at master.cfg:1:17)"
    );
    let message = error(&format!(
        "{BASE}c['builders'].append(util.BuilderConfig(name='b1', workernames=['w1'], factory=base_factory))\n"
    ));
    assert_mentions(&message, &["duplicate builder name 'b1'"]);
    let message = error(&format!(
        "{BASE}c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b1']),\n\
         schedulers.AnyBranchScheduler(name='f', builderNames=['b1'])]\n"
    ));
    assert_mentions(&message, &["duplicate scheduler name 'f'"]);
}

#[test]
fn a_scheduler_naming_an_unknown_builder_is_an_error() {
    let message = error(&format!(
        "{BASE}c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b1', 'nope'])]\n"
    ));
    assert_eq!(
        message,
        "master.cfg:5:20: scheduler 'f' names unknown builder 'nope'"
    );
}

#[test]
fn a_builder_without_workers_is_an_error() {
    let message =
        error("x = util.BuilderConfig(name='b', workernames=[], factory=util.BuildFactory())\n");
    assert_eq!(
        message,
        "master.cfg:1:5: util.BuilderConfig() builder 'b': at least one workername is required"
    );
}

#[test]
fn a_builder_without_factory_is_an_error() {
    let message = error("x = util.BuilderConfig(name='b', workernames=['w'])\n");
    assert_mentions(
        &message,
        &["master.cfg:1:5: ", "builder 'b' has no factory"],
    );
}

#[test]
fn every_validation_error_is_reported_at_once() {
    let message = error(
        "c['workers'] = [worker.Worker('w', 'a'), worker.Worker('w', 'b')]\n\
         c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['ghost'])]\n\
         c['title'] = 5\n",
    );
    assert_eq!(message.lines().count(), 3, "{message}");
    assert_mentions(
        &message,
        &[
            "duplicate worker name 'w'",
            "unknown builder 'ghost'",
            "c['title'] must be a string",
        ],
    );
}

#[test]
fn wrong_objects_in_config_lists_are_named() {
    let message = error("c['workers'] = ['w1']\n");
    assert_eq!(
        message,
        "master.cfg: c['workers'][0] must be a Buildbot object, not str"
    );
    let message = error("c['schedulers'] = [worker.Worker('w', 'p')]\n");
    assert_eq!(
        message,
        "master.cfg: c['schedulers'][0] must be a scheduler, not worker.Worker"
    );
    let message = error("c['builders'] = [util.BuilderConfig]\n");
    assert_mentions(&message, &["util.BuilderConfig is a class: call it"]);
}
