//! `reporters.MailNotifier` over TLS against real aiosmtpd servers started by the test itself
//! (`smtp_tls_server.py`, in the virtualenv `scripts/test.sh` makes, named by
//! `FERROBOT_TEST_SMTP_PYTHON`) with a CA and a server certificate made for the test: STARTTLS
//! (`useTls`) and SMTPS (`useSmtps`), AUTH with a password from `util.Secret`, the relay trusted
//! through `smtpCaFile`, and a relay whose certificate nobody vouches for refused.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, anyhow};
use ferrobot_store::OutboxState;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::mail::{add_change, start, wait_builds_finished, wait_mails};

/// How long the server may take to come up, and a report to be attempted.
const WAIT: Duration = Duration::from_secs(30);

/// A CA and a `localhost` / `127.0.0.1` certificate it signed, as PEM files in `dir`.
pub(crate) struct Certificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub(crate) fn certificates(dir: &Path) -> anyhow::Result<Certificates> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate()?;
    let server_params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?;
    let server_cert = server_params.signed_by(&server_key, &issuer)?;
    let files = Certificates {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.ca, ca_cert.pem())?;
    std::fs::write(&files.cert, server_cert.pem())?;
    std::fs::write(&files.key, server_key.serialize_pem())?;
    Ok(files)
}

/// A running TLS SMTP server; it stops when this is dropped (its stdin closes).
struct TlsSmtp {
    port: u16,
    maildir: PathBuf,
    _child: tokio::process::Child,
}

async fn tls_smtp(
    dir: &Path,
    mode: &str,
    certificates: &Certificates,
    auth: Option<(&str, &str)>,
) -> anyhow::Result<TlsSmtp> {
    let python = std::env::var("FERROBOT_TEST_SMTP_PYTHON").map_err(|_| {
        anyhow!(
            "FERROBOT_TEST_SMTP_PYTHON is not set: run scripts/test.sh, which makes a Python \
             with aiosmtpd"
        )
    })?;
    let maildir = dir.join(format!("maildir-{mode}"));
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub))?;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/smtp_tls_server.py");
    let mut command = tokio::process::Command::new(&python);
    command
        .arg(script)
        .args(["--mode", mode, "--cert"])
        .arg(&certificates.cert)
        .arg("--key")
        .arg(&certificates.key)
        .arg("--maildir")
        .arg(&maildir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some((user, password)) = auth {
        command.args(["--user", user, "--password", password]);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("{python} did not start"))?;
    let stdout = child.stdout.take().context("the server's stdout")?;
    let mut first_line = String::new();
    tokio::time::timeout(WAIT, BufReader::new(stdout).read_line(&mut first_line))
        .await
        .context("the TLS SMTP server did not report its port")??;
    let port = first_line
        .trim()
        .parse()
        .with_context(|| format!("the TLS SMTP server printed {first_line:?}, not its port"))?;
    Ok(TlsSmtp {
        port,
        maildir,
        _child: child,
    })
}

/// A secrets directory holding `smtp` = `password`.
fn secrets_dir(dir: &Path, password: &str) -> anyhow::Result<PathBuf> {
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets)?;
    let file = secrets.join("smtp");
    std::fs::write(&file, format!("{password}\n"))?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    Ok(secrets)
}

/// Runs a failing build with `notifier` (a MailNotifier's arguments after the relay) and
/// returns the mail `smtp` received.
async fn failing_build_mail(
    smtp: &TlsSmtp,
    notifier: &str,
    secrets: &Path,
) -> anyhow::Result<crate::mail::Received> {
    let team = format!("team-{}@example.org", uuid::Uuid::new_v4().simple());
    let (sandbox, worker) = start(&format!(
        "c['secretsProviders'] = [secrets.SecretInAFile(dirname={:?})]\n\
         c['services'] = [reporters.MailNotifier(fromaddr='ci@example.org', \
         relayhost='localhost', smtpPort={}, mode='failing', sendToInterestedUsers=False, \
         extraRecipients=['{team}'], {notifier})]\n",
        secrets.display().to_string(),
        smtp.port
    ))
    .await?;
    add_change(&sandbox, "dev", "fails").await?;
    wait_builds_finished(&sandbox, 1).await?;
    let mut mails = wait_mails(&smtp.maildir, &team, 1).await?;
    worker.stop().await;
    sandbox.stop().await;
    Ok(mails.remove(0))
}

/// A failing build's mail through a relay speaking `mode` (`starttls`, `smtps`) with AUTH, the
/// password from `util.Secret`, and the test CA trusted through `smtpCaFile`.
async fn mail_over_tls_with_auth(mode: &str, tls_flag: &str, password: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let certificates = certificates(dir.path())?;
    let smtp = tls_smtp(dir.path(), mode, &certificates, Some(("ci", password))).await?;
    let secrets = secrets_dir(dir.path(), password)?;
    let mail = failing_build_mail(
        &smtp,
        &format!(
            "{tls_flag}=True, smtpUser='ci', smtpPassword=util.Secret('smtp'), smtpCaFile={:?}",
            certificates.ca.display().to_string()
        ),
        &secrets,
    )
    .await?;
    assert_eq!(mail.subject, "Buildbot failure in Integration on fails");
    Ok(())
}

#[tokio::test]
async fn starttls_with_auth_delivers_to_a_relay_trusted_through_smtp_ca_file() -> anyhow::Result<()>
{
    mail_over_tls_with_auth("starttls", "useTls", "pa55").await
}

#[tokio::test]
async fn smtps_with_auth_delivers_to_a_relay_trusted_through_smtp_ca_file() -> anyhow::Result<()> {
    mail_over_tls_with_auth("smtps", "useSmtps", "s3cret").await
}

#[tokio::test]
async fn a_relay_whose_certificate_is_not_trusted_gets_no_mail_and_the_error_is_kept()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let certificates = certificates(dir.path())?;
    let smtp = tls_smtp(dir.path(), "smtps", &certificates, None).await?;
    let (sandbox, worker) = start(&format!(
        "c['services'] = [reporters.MailNotifier(fromaddr='ci@example.org', \
         relayhost='localhost', smtpPort={}, useSmtps=True, mode='failing', \
         extraRecipients=['team@example.org'])]\n",
        smtp.port
    ))
    .await?;
    add_change(&sandbox, "dev", "fails").await?;
    wait_builds_finished(&sandbox, 1).await?;
    let store = sandbox.master().ctx.store.clone();
    let attempted = async {
        loop {
            let rows = store.outbox("reporter:0:MailNotifier").await?;
            if let Some(row) = rows.iter().find(|r| r.last_error.is_some()) {
                return anyhow::Ok(row.clone());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let row = tokio::time::timeout(WAIT, attempted)
        .await
        .context("the mail was never attempted")??;
    assert_eq!(row.state, OutboxState::Pending, "retried later: {row:?}");
    let error = row.last_error.unwrap_or_default();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert!(
        crate::mail::mails_to(&smtp.maildir, "team@example.org")?.is_empty(),
        "nothing was delivered"
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
