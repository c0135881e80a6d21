//! Integration tests: a master and workers in this process, driven through the REST API.

mod builds;
mod cluster;
mod dns;
mod failover;
mod force_form;
mod git_poller;
mod git_step;
mod mail;
mod mail_cluster;
mod mail_tls;
mod shell_args;
mod status_push;
mod status_push_tls;
mod timed;
mod transfer_steps;
mod worker_connect;
mod worker_faults;
mod worker_net;
mod worker_options;
mod worker_shutdown;
mod worker_support;
mod worker_tls;
mod workers;

/// A master.cfg with one worker `w1` (password `pw`) and the given factories and builders.
pub fn config(body: &str) -> String {
    format!(
        r#"from buildbot.plugins import *
c = BuildmasterConfig = {{}}
c['workers'] = [worker.Worker("w1", "pw")]
c['protocols'] = {{'pb': {{'port': 0}}}}
c['www'] = dict(port=0, plugins=dict())
c['db'] = {{'db_url': "sqlite:///state.sqlite"}}
c['title'] = "Integration"
c['buildbotURL'] = "http://localhost/"
{body}
"#
    )
}

/// A config with one builder per `(name, [shell command strings])`, all forced by `force`.
pub fn shell_builders(builders: &[(&str, &[&str])]) -> String {
    let mut body = String::new();
    let mut names = Vec::new();
    for (i, (name, commands)) in builders.iter().enumerate() {
        body.push_str(&format!("f{i} = util.BuildFactory()\n"));
        for (j, command) in commands.iter().enumerate() {
            body.push_str(&format!(
                "f{i}.addStep(steps.ShellCommand(name=\"s{j}\", command={command:?}))\n"
            ));
        }
        names.push(format!("{name:?}"));
        body.push_str(&format!(
            "c.setdefault('builders', []).append(util.BuilderConfig(name={name:?}, workernames=[\"w1\"], factory=f{i}))\n"
        ));
    }
    body.push_str(&format!(
        "c['schedulers'] = [schedulers.ForceScheduler(name=\"force\", builderNames=[{}])]\n",
        names.join(", ")
    ));
    config(&body)
}
