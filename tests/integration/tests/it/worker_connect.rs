//! How a worker reaches its master: a Twisted `tcp:` connection string, and an HTTP CONNECT
//! proxy (`--proxy-connection-string`).

use ferrobot_integration_tests::Sandbox;
use serde_json::json;

use crate::worker_net::ConnectProxy;
use crate::worker_support::{InProcessWorker, options};

#[tokio::test]
async fn a_worker_tunnels_through_an_http_connect_proxy() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &["echo proxied"])])).await?;
    let port = sandbox.master().worker_addr.expect("worker port").port();
    let proxy = ConnectProxy::start().await?;
    let mut options = options(&sandbox, "w1");
    options.master = "ignored.invalid:1".into();
    options.connection_string = Some(format!("tcp:host=localhost:port={port}"));
    options.proxy_connection_string = Some(format!("tcp:host=127.0.0.1:port={}", proxy.port));
    let worker = InProcessWorker::start(options)?;
    sandbox.wait_worker_connected("w1").await?;
    let build = sandbox.wait_request_done(sandbox.force("b").await?).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    // The proxy, not the worker, resolved the master's name.
    assert_eq!(
        proxy.requests(),
        vec![format!("CONNECT localhost:{port} HTTP/1.1")]
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_proxy_that_refuses_is_a_clear_error() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&crate::shell_builders(&[("b", &["true"])])).await?;
    let proxy = ConnectProxy::start().await?;
    let mut options = options(&sandbox, "w1");
    // Nothing listens on port 1, so the proxy answers 502.
    options.connection_string = Some("tcp:127.0.0.1:1".into());
    options.proxy_connection_string = Some(format!("127.0.0.1:{}", proxy.port));
    options.maxretries = Some(1);
    let worker = InProcessWorker::start(options)?;
    let error = worker.finished().await?.expect_err("refused").to_string();
    assert!(error.contains("refused CONNECT 127.0.0.1:1"), "{error}");
    assert!(error.contains("502 Bad Gateway"), "{error}");
    sandbox.stop().await;
    Ok(())
}
