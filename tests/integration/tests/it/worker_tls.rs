//! TLS on the worker port: the master serves it with a certificate from `c['protocols']`, the
//! worker checks it against its trust roots, and every kind of mismatch is a clear error after
//! which the worker keeps trying.

use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::worker_support::{InProcessWorker, WorkerProcess, certificates, eventually, options};

/// Workers w1..w5, one builder on all of them, the worker port served over TLS.
fn tls_config() -> String {
    let body = r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command="echo over-tls"))
c['builders'] = [util.BuilderConfig(name="b", workernames=["w1", "w2"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="force", builderNames=["b"])]
c['workers'] = [worker.Worker(n, "pw") for n in ["w1", "w2", "w3", "w4", "w5"]]
"#;
    crate::config(body).replace(
        "{'pb': {'port': 0}}",
        "{'pb': {'port': 'ssl:0:privateKey=master-key.pem:certKey=master-cert.pem'}}",
    )
}

#[tokio::test]
async fn a_worker_that_trusts_the_masters_ca_builds_over_tls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let certs = certificates(dir.path(), "master")?;
    let sandbox = Sandbox::start_in(dir, &tls_config()).await?;
    let port = sandbox.master().worker_addr.expect("worker port").port();

    let mut by_option = options(&sandbox, "w1");
    by_option.master = format!("localhost:{port}");
    by_option.use_tls = true;
    by_option.ca_certs = Some(certs.ca.clone());
    let w1 = InProcessWorker::start(by_option)?;
    sandbox.wait_worker_connected("w1").await?;
    let build = sandbox.wait_request_done(sandbox.force("b").await?).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    let log = sandbox
        .build_log_text(build["buildid"].as_i64().expect("id"))
        .await?;
    assert!(log.contains("over-tls"), "{log}");
    w1.stop().await;

    // The same through a Twisted connection string with trustRoots (a directory of PEM files);
    // the positional master is overridden.
    let roots = sandbox.dir.path().join("roots");
    std::fs::create_dir_all(&roots)?;
    std::fs::copy(&certs.ca, roots.join("ca.pem"))?;
    let mut by_string = options(&sandbox, "w2");
    by_string.master = "ignored.invalid:1".into();
    by_string.connection_string = Some(format!(
        "tls:host=localhost:port={port}:trustRoots={}",
        roots.display()
    ));
    let w2 = InProcessWorker::start(by_string)?;
    sandbox.wait_worker_connected("w2").await?;
    w2.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_wrong_ca_a_wrong_name_or_plain_tcp_fail_clearly_and_the_master_keeps_serving()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let certs = certificates(dir.path(), "master")?;
    let other = certificates(dir.path(), "other")?;
    let sandbox = Sandbox::start_in(dir, &tls_config()).await?;
    let port = sandbox.master().worker_addr.expect("worker port").port();

    let attempt = |name: &str, master: String, tls: bool, ca: &std::path::Path| {
        let mut o = options(&sandbox, name);
        o.master = master;
        o.use_tls = tls;
        o.ca_certs = Some(ca.to_path_buf());
        o.maxretries = Some(2);
        o
    };
    let wrong_ca =
        InProcessWorker::start(attempt("w3", format!("localhost:{port}"), true, &other.ca))?;
    let error = wrong_ca
        .finished()
        .await?
        .expect_err("an unknown CA")
        .to_string();
    assert!(error.contains("2 failed connection attempts"), "{error}");
    assert!(
        error.contains("TLS handshake with the master failed"),
        "{error}"
    );
    assert!(error.contains("UnknownIssuer"), "{error}");

    // The certificate names localhost, not 127.0.0.1.
    let wrong_name =
        InProcessWorker::start(attempt("w4", format!("127.0.0.1:{port}"), true, &certs.ca))?;
    let error = wrong_name
        .finished()
        .await?
        .expect_err("a wrong name")
        .to_string();
    assert!(
        error.to_lowercase().contains("not valid for name"),
        "{error}"
    );
    assert!(error.contains("127.0.0.1"), "{error}");

    let plain =
        InProcessWorker::start(attempt("w5", format!("localhost:{port}"), false, &certs.ca))?;
    plain
        .finished()
        .await?
        .expect_err("plain TCP to a TLS port");

    // None of them got in; a good worker still does.
    let workers = sandbox.get("/workers").await?;
    for name in ["w3", "w4", "w5"] {
        let connected = workers["workers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|w| w["name"] == json!(name))
            .any(|w| w["connected_to"].as_array().is_some_and(|c| !c.is_empty()));
        assert!(!connected, "{name} must not be connected: {workers}");
    }
    let mut good = options(&sandbox, "w1");
    good.master = format!("localhost:{port}");
    good.use_tls = true;
    good.ca_certs = Some(certs.ca.clone());
    let good = InProcessWorker::start(good)?;
    sandbox.wait_worker_connected("w1").await?;
    good.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_worker_process_logs_a_certificate_error_and_keeps_retrying() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    certificates(dir.path(), "master")?;
    let other = certificates(dir.path(), "other")?;
    let sandbox = Sandbox::start_in(dir, &tls_config()).await?;
    let port = sandbox.master().worker_addr.expect("worker port").port();
    let string = format!("tls:localhost:{port}");
    let ca = other.ca.display().to_string();
    let worker = WorkerProcess::spawn(
        &sandbox,
        "w1",
        &["--connection-string", &string, "--ca-certs", &ca],
    )
    .await?;
    // Two logged failures: it retried after the first.
    eventually("the worker logged two certificate errors", || {
        worker.log().matches("UnknownIssuer").count() >= 2
    })
    .await?;
    let log = worker.log();
    assert!(
        log.contains("TLS handshake with the master failed"),
        "{log}"
    );
    assert!(log.contains("--ca-certs"), "{log}");
    drop(worker);
    sandbox.stop().await;
    Ok(())
}
