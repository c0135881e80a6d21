//! Status pushes over HTTPS (issue 7, acceptance 4): a GitHubStatusPush whose token comes from
//! `util.Secret`, posting to a local HTTPS server with a certificate made for the test and
//! trusted through `verify='<CA file>'`, with a generator choosing what is pushed; and a server
//! nobody vouches for refused, the error kept on the outbox row.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ferrobot_store::OutboxState;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::mail_tls::certificates;

const WAIT: Duration = Duration::from_secs(30);

/// One request the HTTPS server received: its request line, `Authorization` and JSON body.
#[derive(Debug)]
struct Request {
    line: String,
    authorization: Option<String>,
    body: serde_json::Value,
}

/// Serves HTTPS on a free port with `cert`/`key`, answering 201 to every request and handing
/// each to the returned channel.
async fn https_server(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<(u16, mpsc::UnboundedReceiver<Request>)> {
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to record.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(request) = answer(tls).await {
                    let _ = tx.send(request);
                }
            });
        }
    });
    Ok((port, rx))
}

/// Reads one HTTP/1.1 request and answers `201 Created`.
async fn answer(
    stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> anyhow::Result<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse()?,
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let mut stream = reader.into_inner();
    stream
        .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await?;
    stream.shutdown().await?;
    Ok(Request {
        line: line.trim_end().to_owned(),
        authorization,
        body: serde_json::from_slice(&body)?,
    })
}

/// A sandbox running `crate::status_push`'s builder with `services` after a secrets provider
/// holding `gh` = `ghp_from_secret`.
async fn start_with_secret(
    dir: &std::path::Path,
    services: &str,
) -> anyhow::Result<(
    ferrobot_integration_tests::Sandbox,
    ferrobot_integration_tests::SandboxWorker,
)> {
    use std::os::unix::fs::PermissionsExt;
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets)?;
    std::fs::write(secrets.join("gh"), "ghp_from_secret\n")?;
    std::fs::set_permissions(secrets.join("gh"), std::fs::Permissions::from_mode(0o600))?;
    crate::status_push::start(&format!(
        "c['secretsProviders'] = [secrets.SecretInAFile(dirname={:?})]\n{services}",
        secrets.display().to_string()
    ))
    .await
}

#[tokio::test]
async fn github_status_push_posts_over_https_with_a_secret_token_and_a_trusted_ca()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let certs = certificates(dir.path())?;
    let (port, mut requests) = https_server(&certs.cert, &certs.key).await?;
    let (sandbox, worker) = start_with_secret(
        dir.path(),
        &format!(
            "c['services'] = [reporters.GitHubStatusPush(token=util.Secret('gh'), \
             baseURL='https://localhost:{port}', verify={:?}, \
             generators=[reporters.BuildStatusGenerator(mode='passing')])]\n",
            certs.ca.display().to_string()
        ),
    )
    .await?;
    crate::status_push::add_change(&sandbox, "https://github.com/octo/widgets.git", "c0ffee")
        .await?;
    let request = tokio::time::timeout(WAIT, requests.recv())
        .await
        .context("no status arrived over HTTPS")?
        .context("the server stopped")?;
    assert_eq!(
        request.line,
        "POST /repos/octo/widgets/statuses/c0ffee HTTP/1.1"
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some("token ghp_from_secret")
    );
    // The generator reports finished builds only: the first status is the end.
    assert_eq!(
        request.body["state"],
        serde_json::json!("success"),
        "{request:?}"
    );
    assert_eq!(
        request.body["description"],
        serde_json::json!("Build done.")
    );
    let rows = sandbox
        .master()
        .ctx
        .store
        .outbox("reporter:0:GitHubStatusPush")
        .await?;
    assert_eq!(rows.len(), 1, "only the end is recorded: {rows:?}");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_https_server_nobody_vouches_for_is_refused_and_the_error_kept() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let certs = certificates(dir.path())?;
    let (port, mut requests) = https_server(&certs.cert, &certs.key).await?;
    let (sandbox, worker) = start_with_secret(
        dir.path(),
        &format!("c['services'] = [reporters.HttpStatusPush('https://localhost:{port}/hook')]\n"),
    )
    .await?;
    crate::status_push::add_change(&sandbox, "https://example.com/widgets.git", "c0ffee").await?;
    let store = sandbox.master().ctx.store.clone();
    let attempted = async {
        loop {
            let rows = store.outbox("reporter:0:HttpStatusPush").await?;
            if let Some(row) = rows.iter().find(|r| r.last_error.is_some()) {
                return anyhow::Ok(row.clone());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let row = tokio::time::timeout(WAIT, attempted)
        .await
        .context("the push was never attempted")??;
    assert_eq!(row.state, OutboxState::Pending, "retried later: {row:?}");
    let error = row.last_error.unwrap_or_default();
    assert!(error.contains("TLS handshake failed"), "{error}");
    assert!(requests.try_recv().is_err(), "nothing was accepted");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
