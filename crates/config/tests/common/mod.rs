//! Helpers shared by the config tests.
#![allow(dead_code)]

use ferrobot_config::{BuilderConfig, MasterConfig, StepConfig, load_str};

/// A minimal valid configuration the tests add to: one worker, one builder with one step.
pub const BASE: &str = r#"
c['workers'] = [worker.Worker("w1", "pw")]
base_factory = util.BuildFactory([steps.ShellCommand(command="true")])
c['builders'] = [util.BuilderConfig(name="b1", workernames=["w1"], factory=base_factory)]
"#;

/// Loads `src` as master.cfg, failing the test with the error if it does not load.
pub fn load(src: &str) -> MasterConfig {
    load_str("master.cfg", src).unwrap_or_else(|e| panic!("config did not load:\n{e}\n---\n{src}"))
}

/// Loads `BASE` followed by `extra`.
pub fn load_with_base(extra: &str) -> MasterConfig {
    load(&format!("{BASE}{extra}"))
}

/// The error message of a config that must not load.
pub fn error(src: &str) -> String {
    match load_str("master.cfg", src) {
        Ok(_) => panic!("config loaded but should not have:\n{src}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `message` contains every fragment.
pub fn assert_mentions(message: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(message.contains(f), "expected {f:?} in:\n{message}");
    }
}

/// The builder named `name`.
pub fn builder<'a>(config: &'a MasterConfig, name: &str) -> &'a BuilderConfig {
    config
        .builders
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no builder {name}"))
}

/// The only step of a config made by `steps_cfg(step_expr)`.
pub fn single_step(step_expr: &str) -> StepConfig {
    let cfg = load(&format!(
        r#"
c['workers'] = [worker.Worker("w1", "pw")]
f = util.BuildFactory()
f.addStep({step_expr})
c['builders'] = [util.BuilderConfig(name="b", workernames=["w1"], factory=f)]
"#
    ));
    let mut steps = cfg.builders[0].steps.clone();
    assert_eq!(steps.len(), 1, "one step expected");
    steps.remove(0)
}
