//! The `c[...]` keys.

mod common;

use common::{assert_mentions, error, load};
use ferrobot_config::{ChangeSourceConfig, CoordinationConfig, MqConfig};
use serde_json::json;

#[test]
fn title_title_url_and_buildbot_url() {
    let cfg = load(
        "c['title'] = 'T'\nc['titleURL'] = 'https://t.example/'\nc['buildbotURL'] = 'https://ci.example'\n",
    );
    assert_eq!(cfg.title, "T");
    assert_eq!(cfg.title_url.as_deref(), Some("https://t.example/"));
    assert_eq!(
        cfg.buildbot_url, "https://ci.example/",
        "normalised to end in '/'"
    );
    assert_eq!(load("c['titleURL'] = None\n").title_url, None);
}

#[test]
fn www_port_as_int_or_twisted_string() {
    let cfg = load("c['www'] = {'port': 8011}\n");
    assert_eq!((cfg.www.port, cfg.www.interface.clone()), (8011, None));
    let cfg = load("c['www'] = dict(port='tcp:8012:interface=127.0.0.1', plugins={})\n");
    assert_eq!(cfg.www.port, 8012);
    assert_eq!(cfg.www.interface.as_deref(), Some("127.0.0.1"));
    assert_eq!(load("c['www'] = dict(port='8013')\n").www.port, 8013);
    let message = error("c['www'] = dict(port='tcp:http')\n");
    assert_mentions(&message, &["c['www']['port'] must be a port number"]);
}

#[test]
fn www_plugins_are_recorded_and_other_keys_warned_about() {
    let cfg = load(
        "c['www'] = dict(port=8010, plugins=dict(waterfall_view={}, console_view={'x': 1}), \
         change_hook_dialects={'github': {}}, frobnicate=1)\n",
    );
    assert_eq!(cfg.www.plugins["console_view"], json!({"x": 1}));
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.contains("c['www']['change_hook_dialects'] is not supported yet"))
    );
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.contains("unknown key c['www']['frobnicate']"))
    );
}

#[test]
fn db_url_from_db_dict_or_legacy_key() {
    assert_eq!(
        load("c['db'] = {'db_url': 'postgresql://u:p@h/db'}\n").db_url,
        "postgresql://u:p@h/db"
    );
    assert_eq!(
        load("c['db_url'] = 'sqlite:///other.sqlite'\n").db_url,
        "sqlite:///other.sqlite"
    );
    assert_eq!(
        load("c['db'] = {'db_url': 'postgresql+psycopg2://h/db'}\n").db_url,
        "postgresql://h/db"
    );
    assert_eq!(
        load("c['db_url'] = 'sqlite:///a'\nc['db'] = {'db_url': 'sqlite:///b'}\n").db_url,
        "sqlite:///b"
    );
    assert_mentions(
        &error("c['db'] = {'db_url': 'mysql://h/db'}\n"),
        &["MySQL is not supported yet"],
    );
    assert_mentions(
        &error("c['db'] = {'url': 'x'}\n"),
        &["unrecognized keys in c['db']: url"],
    );
}

#[test]
fn protocols_pb_port_is_the_worker_port() {
    assert_eq!(
        load("c['protocols'] = {'pb': {'port': 19989}}\n").worker_port,
        19989
    );
    let cfg = load("c['protocols'] = {'pb': {'port': 'tcp:9990:interface=127.0.0.1'}}\n");
    assert_eq!(cfg.worker_port, 9990);
    assert_eq!(cfg.worker_interface.as_deref(), Some("127.0.0.1"));
    let cfg = load("c['slavePortnum'] = 9991\n");
    assert_eq!(cfg.worker_port, 9991);
    assert!(cfg.warnings.iter().any(|w| w.contains("slavePortnum")));
}

#[test]
fn protocols_pb_takes_tls_as_a_twisted_ssl_string_or_a_dict() {
    let cfg = load(
        "c['protocols'] = {'pb': {'port': 'ssl:9990:interface=127.0.0.2:privateKey=k.pem:certKey=c.pem'}}\n",
    );
    assert_eq!(cfg.worker_port, 9990);
    assert_eq!(cfg.worker_interface.as_deref(), Some("127.0.0.2"));
    let tls = cfg.worker_tls.expect("tls");
    assert_eq!(
        (tls.certificate.as_str(), tls.private_key.as_str()),
        ("c.pem", "k.pem")
    );
    // Without certKey, Twisted reads the certificate from the key file.
    let tls = load("c['protocols'] = {'pb': {'port': 'ssl:9990:privateKey=both.pem'}}\n")
        .worker_tls
        .expect("tls");
    assert_eq!(
        (tls.certificate.as_str(), tls.private_key.as_str()),
        ("both.pem", "both.pem")
    );
    let cfg = load(
        "c['protocols'] = {'pb': {'port': 9991, 'tls': {'certificate': 'c.pem', 'private_key': 'k.pem'}}}\n",
    );
    assert_eq!(cfg.worker_port, 9991);
    assert_eq!(cfg.worker_tls.expect("tls").private_key, "k.pem");
    assert_eq!(
        load("c['protocols'] = {'pb': {'port': 9989}}\n").worker_tls,
        None
    );
}

#[test]
fn bad_tls_settings_in_protocols_are_named() {
    assert_mentions(
        &error("c['protocols'] = {'pb': {'port': 'ssl:9990'}}\n"),
        &["c['protocols']['pb']['port']", "privateKey=FILE"],
    );
    assert_mentions(
        &error("c['protocols'] = {'pb': {'port': 'ssl:9990:privateKey=k.pem:method=TLSv1'}}\n"),
        &[
            "c['protocols']['pb']['port']",
            "\"method\"",
            "not supported",
        ],
    );
    assert_mentions(
        &error("c['protocols'] = {'pb': {'port': 9990, 'tls': {'certificate': 'c.pem'}}}\n"),
        &["c['protocols']['pb']['tls']", "'private_key'"],
    );
    assert_mentions(
        &error(
            "c['protocols'] = {'pb': {'port': 'ssl:9990:privateKey=k.pem', 'tls': {'certificate': 'c.pem', 'private_key': 'k.pem'}}}\n",
        ),
        &["not both"],
    );
}

#[test]
fn properties_and_multimaster() {
    let cfg = load(
        "c['properties'] = {'a': 1, 'b': [True, None], 'c': {'d': 'e'}}\nc['multiMaster'] = True\n",
    );
    assert_eq!(cfg.properties["a"], json!(1));
    assert_eq!(cfg.properties["b"], json!([true, null]));
    assert_eq!(cfg.properties["c"], json!({"d": "e"}));
    assert!(cfg.multi_master);
    assert_mentions(
        &error("c['multiMaster'] = 'yes'\n"),
        &["c['multiMaster'] must be True or False"],
    );
    assert_mentions(
        &error("c['properties'] = {'w': worker.Worker('a', 'b')}\n"),
        &["c['properties']", "worker.Worker"],
    );
}

#[test]
fn change_source_as_a_list_or_a_single_source() {
    let single = load("c['change_source'] = changes.GitPoller('/a.git')\n");
    let list =
        load("c['change_source'] = [changes.GitPoller('/a.git'), changes.GitPoller('/b.git')]\n");
    assert_eq!(single.change_sources.len(), 1);
    assert_eq!(list.change_sources.len(), 2);
    let ChangeSourceConfig::GitPoller(b) = &list.change_sources[1];
    assert_eq!(b.repourl, "/b.git");
    assert_mentions(
        &error("c['change_source'] = [changes.GitPoller('/a.git'), changes.GitPoller('/a.git')]\n"),
        &["duplicate change source name 'GitPoller:/a.git'"],
    );
}

#[test]
fn services_may_be_empty_and_other_reporters_are_not_supported_yet() {
    assert!(load("c['services'] = []\n").warnings.is_empty());
    assert_eq!(
        error("c['services'] = [reporters.GerritStatusPush('gerrit.example.org')]\n"),
        "master.cfg:1:18: reporters.GerritStatusPush is not supported yet"
    );
    assert_mentions(
        &error("c['services'] = ['x']\n"),
        &["must be a Buildbot object"],
    );
}

#[test]
fn mq_and_coordination() {
    assert_eq!(load("c['mq'] = {'type': 'simple'}\n").mq, MqConfig::Simple);
    assert_eq!(
        load("c['mq'] = {'type': 'nats', 'url': 'nats://h:4222', 'prefix': 'p'}\n").mq,
        MqConfig::Nats {
            url: "nats://h:4222".into(),
            prefix: "p".into()
        }
    );
    assert_mentions(
        &error("c['mq'] = {'type': 'wamp'}\n"),
        &["'wamp' is not supported yet"],
    );
    assert_mentions(&error("c['mq'] = {'type': 'nats'}\n"), &["needs a 'url'"]);
    assert_eq!(
        load("c['coordination'] = {'type': 'etcd', 'endpoints': 'http://a:2379,http://b:2379'}\n")
            .coordination,
        CoordinationConfig::Etcd {
            endpoints: vec!["http://a:2379".into(), "http://b:2379".into()]
        }
    );
    assert_eq!(
        load("c['coordination'] = {'type': 'database'}\n").coordination,
        CoordinationConfig::Database
    );
    assert_mentions(
        &error("c['coordination'] = {'type': 'zk'}\n"),
        &["type 'zk' is not known"],
    );
}

#[test]
fn unknown_keys_are_warnings_naming_the_key() {
    let cfg = load("c['titel'] = 'typo'\nc['logHorizon'] = 10\nc['buildbotNetUsageData'] = None\n");
    assert_eq!(
        cfg.warnings,
        [
            "master.cfg: unknown key c['titel'] is ignored",
            "master.cfg: c['logHorizon'] is not supported yet and is ignored",
        ]
    );
}

#[test]
fn removed_buildbot_keys_are_errors_with_a_hint() {
    assert_mentions(&error("c['slaves'] = []\n"), &["use c['workers']"]);
    assert_mentions(&error("c['status'] = []\n"), &["c['services']"]);
}

#[test]
fn buildmasterconfig_must_be_a_dict() {
    assert_eq!(
        error("BuildmasterConfig = [1]\n"),
        "master.cfg: BuildmasterConfig must be a dict, not list"
    );
}
