//! Sending one mail: the [`Mailer`] trait and its SMTP implementation over lettre (plain,
//! STARTTLS with `useTls`, SMTPS with `useSmtps`, optional authentication).

use std::time::Duration;

use async_trait::async_trait;
use ferrobot_config::MailNotifierConfig;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How long one SMTP conversation may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An address or header could not be used.
    #[error("bad mail: {0}")]
    Message(String),
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
    /// A mailer for `config`'s relay, port, TLS mode and credentials. Nothing is connected yet.
    pub fn new(config: &MailNotifierConfig) -> Result<SmtpMailer, Error> {
        let host = config.relayhost.as_str();
        let relay = format!("{host}:{}", config.smtp_port);
        let tls_error = |e: lettre::transport::smtp::Error| Error::Delivery {
            relay: relay.clone(),
            detail: e.to_string(),
        };
        let builder = if config.use_smtps {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?
        } else if config.use_tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
        } else {
            // No TLS was asked for, as in Buildbot's plain `smtplib` path.
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        let mut builder = builder.port(config.smtp_port).timeout(Some(SMTP_TIMEOUT));
        if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            relay,
        })
    }
}

/// The lettre message for `mail`.
fn message(mail: &Mail) -> Result<Message, Error> {
    let mailbox = |addr: &str| {
        addr.parse::<Mailbox>()
            .map_err(|e| Error::Message(format!("address {addr:?}: {e}")))
    };
    let mut builder = Message::builder()
        .from(mailbox(&mail.from)?)
        .subject(mail.subject.clone())
        .header(if mail.html {
            ContentType::TEXT_HTML
        } else {
            ContentType::TEXT_PLAIN
        });
    for to in &mail.to {
        builder = builder.to(mailbox(to)?);
    }
    builder
        .body(mail.body.clone())
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
        };
        assert!(matches!(message(&mail), Err(Error::Message(_))));
    }
}
