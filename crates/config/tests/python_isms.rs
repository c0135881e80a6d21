//! Python-isms of real master.cfg files, accepted as they are, with error positions still
//! pointing at what the user wrote.

mod common;

use common::{builder, error, load};
use ferrobot_config::{Command, StepConfig};

#[test]
fn buildbot_plugin_imports_and_module_imports_are_accepted() {
    let cfg = load(
        r#"# -*- python -*-
# ex: set filetype=python:
from buildbot.plugins import *
from buildbot.plugins import steps, util
from buildbot.plugins import (
    worker,
    schedulers,
)
import os, re
import json
from __future__ import print_function
c = BuildmasterConfig = {}
c['title'] = "imports"
"#,
    );
    assert_eq!(cfg.title, "imports");
}

#[test]
fn positions_after_blanked_lines_are_unchanged() {
    let message = error(
        "from buildbot.plugins import *\nimport os\nc = BuildmasterConfig = {}\n\
         c['x'] = steps.ShellCommand(command='x', bogus=1)\n",
    );
    assert_eq!(
        message,
        "master.cfg:4:10: steps.ShellCommand() got an unexpected keyword argument 'bogus'"
    );
}

#[test]
fn c_is_predeclared_when_the_file_never_creates_it() {
    let cfg = load("c['title'] = 'no c = {} line'\n");
    assert_eq!(cfg.title, "no c = {} line");
}

#[test]
fn c_and_buildmasterconfig_are_one_dict() {
    let cfg =
        load("BuildmasterConfig['title'] = 'via the long name'\nc['buildbotURL'] = 'http://h:1'\n");
    assert_eq!(cfg.title, "via the long name");
    assert_eq!(cfg.buildbot_url, "http://h:1/");
}

#[test]
fn chained_assignment_binds_both_names_to_the_new_dict() {
    let cfg = load(
        "c = BuildmasterConfig = {}  # fresh\nc['title'] = 'a'\nBuildmasterConfig['titleURL'] = 'u'\n",
    );
    assert_eq!(cfg.title, "a");
    assert_eq!(cfg.title_url.as_deref(), Some("u"));
}

#[test]
fn rebinding_either_name_is_followed() {
    assert_eq!(load("c = {'title': 'rebound c'}\n").title, "rebound c");
    assert_eq!(
        load("BuildmasterConfig = {'title': 'rebound long name'}\n").title,
        "rebound long name"
    );
    assert_eq!(
        load("BuildmasterConfig = dict(\n    title='multi-line',\n)\n").title,
        "multi-line"
    );
}

#[test]
fn unicode_string_prefixes_are_accepted() {
    let cfg = load(
        "c['title'] = u'T' + U\"i\" + u'''t''' + u\"\"\"le\"\"\"\n\
         c['properties'] = {u'key': u'value'}\n",
    );
    assert_eq!(cfg.title, "Title");
    assert_eq!(cfg.properties["key"], "value");
}

#[test]
fn top_level_for_and_if_work() {
    let cfg = load(
        r#"
c['workers'] = []
for i in range(3):
    c['workers'].append(worker.Worker("w%d" % i, "pw"))
if len(c['workers']) == 3:
    c['title'] = "three"
else:
    c['title'] = "other"
"#,
    );
    let names: Vec<&str> = cfg.workers.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["w0", "w1", "w2"]);
    assert_eq!(cfg.title, "three");
}

#[test]
fn functions_dicts_and_formatting_work_like_python() {
    let cfg = load(
        r#"
def shell(name, cmd):
    return steps.ShellCommand(name=name, command=cmd.split(" "))

c['workers'] = [worker.Worker("w1", "pw")]
f = util.BuildFactory([shell("build", "make all"), shell("test", "make check")])
c['builders'] = [util.BuilderConfig(name="{}-{}".format("linux", "gcc"), workernames=["w1"], factory=f)]
"#,
    );
    let b = builder(&cfg, "linux-gcc");
    let StepConfig::ShellCommand(s) = &b.steps[1] else {
        panic!("ShellCommand expected");
    };
    assert_eq!(
        s.command,
        Command::Argv(vec!["make".into(), "check".into()])
    );
}

#[test]
fn direct_buildbot_module_imports_map_to_the_namespaced_names() {
    let cfg = load(
        r#"
from buildbot.steps.shell import ShellCommand
from buildbot.process.factory import BuildFactory
from buildbot.config import BuilderConfig
from buildbot.worker import Worker as W
c['workers'] = [W("w1", "pw")]
c['builders'] = [BuilderConfig(name="b", workernames=["w1"],
                               factory=BuildFactory([ShellCommand(command="true")]))]
"#,
    );
    assert_eq!(builder(&cfg, "b").steps.len(), 1);
}

#[test]
fn a_direct_import_of_an_unsupported_class_fails_where_it_is_used() {
    let message = error("from buildbot.steps.source.svn import SVN\nx = SVN(repourl='r')\n");
    assert_eq!(message, "master.cfg:2:5: steps.SVN is not supported yet");
}

#[test]
fn importing_an_unknown_plugin_namespace_is_an_error_at_the_import() {
    let message = error("c['title'] = 'x'\nfrom buildbot.plugins import buildslave\n");
    assert!(
        message.starts_with("master.cfg:2:1: buildbot.plugins has no namespace 'buildslave'"),
        "{message}"
    );
}

#[test]
fn print_goes_to_stderr_and_does_not_disturb_loading() {
    let cfg = load("print('loading', 1)\nc['title'] = 'printed'\n");
    assert_eq!(cfg.title, "printed");
}

#[test]
fn f_strings_of_names_work() {
    let cfg = load("name = 'fs'\nc['title'] = f'{name} CI'\n");
    assert_eq!(cfg.title, "fs CI");
}
