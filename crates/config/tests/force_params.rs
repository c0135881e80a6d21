//! ForceScheduler form fields: every parameter class with Buildbot's arguments and defaults, and
//! the errors of bad ones.

mod common;

use common::{assert_mentions, error, load_with_base};
use ferrobot_config::{ForceParameter, ForceParameterKind, SchedulerConfig};
use serde_json::json;

fn form(properties: &str) -> Vec<ForceParameter> {
    let config = load_with_base(&format!(
        "c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['b1'], \
         properties=[{properties}])]\n"
    ));
    match &config.schedulers[0] {
        SchedulerConfig::Force(force) => force.parameters.clone(),
        other => panic!("a ForceScheduler expected, got {other:?}"),
    }
}

#[test]
fn every_parameter_class_keeps_its_arguments_and_defaults() {
    let fields = form(
        "util.StringParameter(name='target', label='Target:', default='all', size=30, \
             required=True, regex='[a-z]+', maxsize=20, tooltip='what to build'), \
         util.TextParameter(name='notes', cols=40, rows=3), \
         util.IntParameter(name='jobs', default=4), \
         util.BooleanParameter(name='clean', label='Clean first'), \
         util.ChoiceStringParameter(name='os', choices=['linux', 'mac'], default='mac'), \
         util.ChoiceStringParameter(name='arch', choices=['x86', 'arm']), \
         util.FixedParameter(name='kind', default='release'), \
         util.NestedParameter(name='deploy', layout='horizontal', columns=2, \
             fields=[util.StringParameter(name='host'), util.IntParameter(name='port', default=22)])",
    );
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "target", "notes", "jobs", "clean", "os", "arch", "kind", "deploy"
        ]
    );
    let target = &fields[0];
    assert_eq!(target.label, "Target:");
    assert_eq!(target.kind, ForceParameterKind::String { size: 30 });
    assert_eq!(target.default, json!("all"));
    assert!(target.required);
    assert_eq!(target.regex.as_deref(), Some("[a-z]+"));
    assert_eq!(
        (target.maxsize, target.tooltip.as_str()),
        (Some(20), "what to build")
    );
    assert_eq!(
        fields[1].kind,
        ForceParameterKind::Text { cols: 40, rows: 3 }
    );
    assert_eq!(fields[1].label, "notes", "the label defaults to the name");
    assert_eq!(fields[2].default, json!(4));
    assert_eq!(
        (fields[3].kind.clone(), fields[3].default.clone()),
        (ForceParameterKind::Bool, json!(false))
    );
    assert_eq!(fields[4].default, json!("mac"));
    assert_eq!(
        fields[5].default,
        json!("x86"),
        "a strict list defaults to its first choice"
    );
    assert_eq!(fields[6].default, json!("release"));
    let ForceParameterKind::Nested {
        fields: inner,
        layout,
        columns,
    } = &fields[7].kind
    else {
        panic!("nested expected");
    };
    assert_eq!((layout.as_str(), *columns), ("horizontal", Some(2)));
    assert_eq!(inner[1].default, json!(22));
}

#[test]
fn bad_parameters_are_refused_naming_the_class_and_argument() {
    let base = "c['workers'] = [worker.Worker('w1', 'pw')]\n\
                c['builders'] = [util.BuilderConfig(name='b1', workernames=['w1'], \
                factory=util.BuildFactory([steps.ShellCommand(command='true')]))]\n";
    let refused = |properties: &str| {
        error(&format!(
            "{base}c['schedulers'] = [schedulers.ForceScheduler(name='force', \
             builderNames=['b1'], properties=[{properties}])]\n"
        ))
    };
    assert_mentions(
        &refused("util.ChoiceStringParameter(name='os', choices=['a'], default='b')"),
        &[
            "util.ChoiceStringParameter",
            "default",
            "not one of the choices",
        ],
    );
    assert_mentions(
        &refused("util.StringParameter(name='x', regex='[')"),
        &[
            "util.StringParameter",
            "regex",
            "not a valid regular expression",
        ],
    );
    assert_mentions(
        &refused("util.IntParameter(name='n', default='many')"),
        &["util.IntParameter", "default", "an int"],
    );
    assert_mentions(
        &refused("util.NestedParameter(name='g', fields=[], layout='diagonal')"),
        &["util.NestedParameter", "layout"],
    );
    assert_mentions(
        &refused("'not a parameter'"),
        &["properties", "force parameters"],
    );
    assert_mentions(
        &refused("util.StringParameter(name='x', autopopulate={'a': 1})"),
        &["autopopulate", "not supported yet"],
    );
}
