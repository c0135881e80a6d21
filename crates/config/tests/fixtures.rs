//! Real master.cfg files: Buildbot's Hello World sample (from the seed) and the file the
//! acceptance checks render, plus the JSON dump `ferrobot checkconfig --dump` prints.

mod common;

use std::path::PathBuf;

use common::{assert_mentions, builder};
use ferrobot_config::{
    BranchSelection, ChangeSourceConfig, Command, CoordinationConfig, Error, GitMode, MqConfig,
    ReporterConfig, SchedulerConfig, StepConfig, TemplateType, load, load_str,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture readable")
}

#[test]
fn hello_world_sample_loads_with_buildbot_meaning() {
    let cfg = load(&fixture("hello-world.cfg")).expect("hello-world.cfg loads");
    assert_eq!(cfg.title, "Hello World CI");
    assert_eq!(
        cfg.title_url.as_deref(),
        Some("https://buildbot.imtqy.com/hello-world/")
    );
    assert_eq!(cfg.buildbot_url, "http://localhost:8010/");
    assert_eq!(cfg.www.port, 8010);
    assert_eq!(cfg.www.plugins.len(), 3);
    assert_eq!(cfg.db_url, "sqlite:///state.sqlite");
    assert_eq!(cfg.worker_port, 9989);

    let [ChangeSourceConfig::GitPoller(poller)] = cfg.change_sources.as_slice() else {
        panic!("one GitPoller expected: {:?}", cfg.change_sources);
    };
    assert_eq!(poller.repourl, "/tmp/hello-world.git");
    assert_eq!(
        poller.branches,
        BranchSelection::Named(vec!["master".into()])
    );
    assert_eq!(poller.poll_interval_s, 300);
    assert_eq!(poller.workdir, "gitpoller-workdir");

    let names: Vec<&str> = cfg.schedulers.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["all", "force"]);
    let SchedulerConfig::SingleBranch(all) = &cfg.schedulers[0] else {
        panic!("'all' is a SingleBranchScheduler");
    };
    assert_eq!(all.change_filter.branch, Some(vec![Some("master".into())]));
    assert_eq!(all.tree_stable_timer_s, None);
    assert_eq!(all.builder_names, ["runtests"]);

    let runtests = builder(&cfg, "runtests");
    assert_eq!(runtests.worker_names, ["example-worker"]);
    let [StepConfig::Git(git), StepConfig::ShellCommand(trial)] = runtests.steps.as_slice() else {
        panic!("Git then ShellCommand expected: {:?}", runtests.steps);
    };
    assert_eq!(git.repourl, "/tmp/hello-world.git");
    assert_eq!(git.mode, GitMode::Incremental);
    assert_eq!(
        trial.command,
        Command::Argv(vec!["trial".into(), "hello".into()])
    );
    assert_eq!(trial.env.get("PYTHONPATH"), Some(&Some(".".into())));
}

#[test]
fn hello_world_sample_warns_about_its_undeclared_worker() {
    // The seed's file never sets c['workers']: Buildbot's sample declares it elsewhere.
    let cfg = load(&fixture("hello-world.cfg")).expect("loads");
    assert!(cfg.workers.is_empty());
    let warning = cfg
        .warnings
        .iter()
        .find(|w| w.contains("example-worker"))
        .expect("a warning about example-worker");
    assert_mentions(
        warning,
        &[
            "hello-world.cfg:24:5",
            "builder 'runtests'",
            "unknown worker",
        ],
    );
}

#[test]
fn acceptance_master_cfg_loads() {
    let cfg = load(&fixture("acceptance.cfg")).expect("acceptance.cfg loads");
    assert_eq!(cfg.title, "Bar CI");
    assert_eq!(cfg.buildbot_url, "http://127.0.0.1:8010/");
    assert_eq!(cfg.worker_port, 9989);
    assert_eq!(cfg.workers.len(), 1);
    assert_eq!(cfg.workers[0].name, "w1");
    assert_eq!(cfg.workers[0].password, "pw-w1");
    let SchedulerConfig::Force(force) = &cfg.schedulers[0] else {
        panic!("a ForceScheduler expected");
    };
    assert_eq!(force.builder_names, ["hello", "failing"]);
    let hello = builder(&cfg, "hello");
    let commands: Vec<&Command> = hello
        .steps
        .iter()
        .map(|s| match s {
            StepConfig::ShellCommand(sc) => &sc.command,
            other => panic!("shell steps only: {other:?}"),
        })
        .collect();
    assert_eq!(
        commands,
        [
            &Command::Shell("echo hello-from-bar".into()),
            &Command::Shell("printf 'line-%d\\n' 1 2 3 && false || true".into()),
        ]
    );
    assert_eq!(hello.steps[1].common().name, "s1");
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn acceptance_cluster_variant_loads_its_mq_and_coordination() {
    let extra = "c['multiMaster'] = True\n\
                 c['mq'] = {'type': 'nats', 'url': 'nats://127.0.0.1:4222'}\n\
                 c['coordination'] = {'type': 'etcd', 'endpoints': ['http://127.0.0.1:2379']}\n";
    let text = fixture_text("acceptance.cfg").replace(
        "sqlite:///state.sqlite",
        "postgresql://bar@127.0.0.1:5432/bar",
    ) + extra;
    let cfg = load_str("master.cfg", &text).expect("cluster variant loads");
    assert!(cfg.multi_master);
    assert_eq!(cfg.db_url, "postgresql://bar@127.0.0.1:5432/bar");
    assert_eq!(
        cfg.mq,
        MqConfig::Nats {
            url: "nats://127.0.0.1:4222".into(),
            prefix: "ferrobot".into()
        }
    );
    assert_eq!(
        cfg.coordination,
        CoordinationConfig::Etcd {
            endpoints: vec!["http://127.0.0.1:2379".into()]
        }
    );
}

#[test]
fn acceptance_reporters_variant_loads_its_mail_notifier() {
    let extra = r#"
from buildbot.plugins import reporters
tpl = u"""<h4>Result: {{ summary }}</h4>"""
mn = reporters.MailNotifier(fromaddr="ci@example.org", sendToInterestedUsers=False,
    relayhost="127.0.0.1", smtpPort=2525, mode="all", extraRecipients=["dev@example.org"],
    messageFormatter=reporters.MessageFormatter(template=tpl, template_type="html",
                                                wantProperties=True, wantSteps=True))
c['services'] = [mn]
"#;
    let cfg = load_str("master.cfg", &(fixture_text("acceptance.cfg") + extra))
        .expect("the reporters variant loads");
    let [ReporterConfig::MailNotifier(mail)] = cfg.reporters.as_slice() else {
        panic!("expected one MailNotifier, got {:?}", cfg.reporters);
    };
    assert_eq!(mail.relayhost, "127.0.0.1");
    assert_eq!(mail.smtp_port, 2525);
    assert_eq!(mail.extra_recipients, ["dev@example.org"]);
    assert_eq!(mail.message_formatter.template_type, TemplateType::Html);
    assert!(mail.message_formatter.want_steps);
}

#[test]
fn load_names_the_file_it_was_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("master.cfg");
    std::fs::write(&path, "c['title'] = 'ok'\nx = steps.SVN()\n").expect("write");
    let message = load(&path).expect_err("SVN is not supported").to_string();
    assert_eq!(
        message,
        format!("{}:2:5: steps.SVN is not supported yet", path.display())
    );
}

#[test]
fn a_missing_file_is_a_read_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("absent.cfg");
    let err = load(&path).expect_err("no such file");
    assert!(matches!(err, Error::Read { .. }), "{err:?}");
    assert_mentions(&err.to_string(), &["cannot read", "absent.cfg"]);
}

#[test]
fn json_dump_redacts_worker_passwords() {
    let cfg = load(&fixture("acceptance.cfg")).expect("loads");
    let dump = serde_json::to_string_pretty(&cfg).expect("serialises");
    assert!(!dump.contains("pw-w1"), "password leaked:\n{dump}");
    assert!(dump.contains("<redacted>"));
    assert!(dump.contains("\"w1\""));
    assert!(
        !format!("{cfg:?}").contains("pw-w1"),
        "password leaked in Debug"
    );
}

#[test]
fn json_dump_keeps_everything_else() {
    let cfg = load(&fixture("hello-world.cfg")).expect("loads");
    let dump: serde_json::Value =
        serde_json::from_str(&serde_json::to_string_pretty(&cfg).expect("ser")).expect("json");
    assert_eq!(dump["title"], "Hello World CI");
    assert_eq!(dump["builders"][0]["steps"][1]["type"], "ShellCommand");
    assert_eq!(dump["schedulers"][1]["type"], "Force");
    assert_eq!(dump["change_sources"][0]["poll_interval_s"], 300);
}
