//! Sending one mail: the [`Mailer`] trait and its SMTP implementation over lettre with rustls
//! (plain, STARTTLS with `useTls`, SMTPS with `useSmtps`, optional authentication), trusting
//! the CAs of [`super::tls`].

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use ferrobot_config::MailNotifierConfig;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as AttachmentPart, Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::tls;

/// How long one SMTP conversation may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An address or header could not be used.
    #[error("bad mail: {0}")]
    Message(String),
    /// The relay's TLS could not be set up (e.g. an unreadable `smtpCaFile`).
    #[error("smtp TLS for {relay}: {detail}")]
    Tls {
        /// `host:port` of the relay.
        relay: String,
        /// What went wrong.
        detail: String,
    },
    /// The SMTP server could not be reached or refused the mail.
    #[error("smtp delivery to {relay} failed: {detail}")]
    Delivery {
        /// `host:port` of the relay.
        relay: String,
        /// What lettre reported.
        detail: String,
    },
}

/// A rendered message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// `From`.
    pub from: String,
    /// `To`: every recipient (Buildbot puts them all in `To`).
    pub to: Vec<String>,
    /// `Subject`.
    pub subject: String,
    /// The body.
    pub body: String,
    /// `text/html` rather than `text/plain`.
    pub html: bool,
    /// Files attached (`addLogs`, `addPatch`).
    pub attachments: Vec<Attachment>,
}

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name.
    pub filename: String,
    /// Its MIME type, e.g. `text/plain`.
    pub content_type: String,
    /// Its content.
    pub content: Vec<u8>,
}

/// Delivers mail. Tests replace the SMTP implementation with a recording one.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one mail (one attempt; the caller retries).
    async fn send(&self, mail: &Mail) -> Result<(), Error>;
}

/// Sends through the relay a `MailNotifier` names.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    relay: String,
}

impl SmtpMailer {
    /// A mailer for `config`'s relay, port, TLS mode and credentials; a relative
    /// `smtpCaFile` is taken from the master directory `basedir`. Nothing is connected yet.
    pub fn new(config: &MailNotifierConfig, basedir: &Path) -> Result<SmtpMailer, Error> {
        let host = config.relayhost.as_str();
        let relay = format!("{host}:{}", config.smtp_port);
        let tls_error = |detail: String| Error::Tls {
            relay: relay.clone(),
            detail,
        };
        // No TLS unless asked for, as in Buildbot's plain `smtplib` path.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.smtp_port)
            .timeout(Some(SMTP_TIMEOUT));
        if config.use_smtps || config.use_tls {
            let ca_file = config
                .smtp_ca_file
                .as_deref()
                .map(|f| tls::ca_path(f, basedir));
            let parameters = tls_parameters(host, ca_file.as_deref()).map_err(tls_error)?;
            builder = builder.tls(if config.use_smtps {
                Tls::Wrapper(parameters)
            } else {
                Tls::Required(parameters)
            });
        }
        if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            relay,
        })
    }
}

/// Verifies the relay `host` against the system's CAs (the built-in Mozilla roots when the
/// system has none) and those of `ca_file`.
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(host.to_owned());
    let system = tls::system_roots();
    if !system.is_empty() {
        builder = builder.certificate_store(CertificateStore::None);
    }
    let extra = match ca_file {
        Some(path) => tls::read_ca_file(path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    for der in system.into_iter().chain(extra) {
        let certificate = Certificate::from_der(der.to_vec()).map_err(|e| e.to_string())?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| e.to_string())
}

/// The lettre message for `mail`.
fn message(mail: &Mail) -> Result<Message, Error> {
    let mailbox = |addr: &str| {
        addr.parse::<Mailbox>()
            .map_err(|e| Error::Message(format!("address {addr:?}: {e}")))
    };
    let body_type = if mail.html {
        ContentType::TEXT_HTML
    } else {
        ContentType::TEXT_PLAIN
    };
    let mut builder = Message::builder()
        .from(mailbox(&mail.from)?)
        .subject(mail.subject.clone());
    for to in &mail.to {
        builder = builder.to(mailbox(to)?);
    }
    if mail.attachments.is_empty() {
        return builder
            .header(body_type)
            .body(mail.body.clone())
            .map_err(|e| Error::Message(e.to_string()));
    }
    let mut parts = MultiPart::mixed().singlepart(
        SinglePart::builder()
            .header(body_type)
            .body(mail.body.clone()),
    );
    for attachment in &mail.attachments {
        let content_type = ContentType::parse(&attachment.content_type).map_err(|e| {
            Error::Message(format!(
                "attachment {}: content type {:?}: {e}",
                attachment.filename, attachment.content_type
            ))
        })?;
        parts = parts.singlepart(
            AttachmentPart::new(attachment.filename.clone())
                .body(attachment.content.clone(), content_type),
        );
    }
    builder
        .multipart(parts)
        .map_err(|e| Error::Message(e.to_string()))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), Error> {
        let message = message(mail)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Error::Delivery {
                relay: self.relay.clone(),
                detail: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_carries_every_recipient_and_its_type() {
        let mail = Mail {
            from: "ci@example.org".into(),
            to: vec!["a@example.org".into(), "b@example.org".into()],
            subject: "Buildbot failure in CI on b1".into(),
            body: "<p>hi</p>".into(),
            html: true,
            attachments: vec![],
        };
        let text = String::from_utf8(message(&mail).expect("valid").formatted()).expect("utf-8");
        assert!(text.contains("To: a@example.org, b@example.org"), "{text}");
        assert!(
            text.contains("Subject: Buildbot failure in CI on b1"),
            "{text}"
        );
        assert!(text.contains("Content-Type: text/html"), "{text}");
    }

    #[test]
    fn a_bad_address_is_a_message_error() {
        let mail = Mail {
            from: "not an address".into(),
            to: vec![],
            subject: String::new(),
            body: String::new(),
            html: false,
            attachments: vec![],
        };
        assert!(matches!(message(&mail), Err(Error::Message(_))));
    }

    #[test]
    fn attachments_make_a_mixed_message_with_the_body_first() {
        let mail = Mail {
            from: "ci@example.org".into(),
            to: vec!["a@example.org".into()],
            subject: "s".into(),
            body: "the body".into(),
            html: false,
            attachments: vec![Attachment {
                filename: "test.stdio".into(),
                content_type: "text/plain".into(),
                content: b"ran 3 tests".to_vec(),
            }],
        };
        let text = String::from_utf8(message(&mail).expect("valid").formatted()).expect("utf-8");
        assert!(text.contains("multipart/mixed"), "{text}");
        assert!(text.contains("filename=\"test.stdio\""), "{text}");
        assert!(text.find("the body") < text.find("ran 3 tests"), "{text}");
    }
}
