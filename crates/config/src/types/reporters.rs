//! `c['services']`: the reporters (`reporters.MailNotifier` with its `reporters.MessageFormatter`).

use serde::{Deserialize, Serialize};

/// One entry of `c['services']`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[allow(
    clippy::large_enum_variant,
    reason = "a config holds a handful of reporters, read once"
)]
pub enum ReporterConfig {
    /// `reporters.MailNotifier`.
    MailNotifier(MailNotifierConfig),
    /// `reporters.HttpStatusPush`.
    HttpStatusPush(HttpStatusPushConfig),
    /// `reporters.GitHubStatusPush`.
    GitHubStatusPush(CommitStatusPushConfig),
    /// `reporters.GitLabStatusPush`.
    GitLabStatusPush(CommitStatusPushConfig),
}

/// `reporters.HttpStatusPush(serverUrl, auth=None, headers=None, verify=None, debug=None)`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpStatusPushConfig {
    /// `serverUrl`: where each build is POSTed.
    pub server_url: String,
    /// `auth`: the HTTP basic user, if any.
    pub user: Option<String>,
    /// `auth`: the HTTP basic password; never printed by `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// `headers`: extra request headers.
    pub headers: std::collections::BTreeMap<String, String>,
    /// `verify`: check the server's TLS certificate (default True).
    pub verify: bool,
    /// `debug`: log every response body.
    pub debug: bool,
}

impl std::fmt::Debug for HttpStatusPushConfig {
    /// Like the derived form, with the password redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStatusPushConfig")
            .field("server_url", &self.server_url)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("verify", &self.verify)
            .field("debug", &self.debug)
            .finish()
    }
}

/// `reporters.GitHubStatusPush(token, context=None, baseURL=None, ...)` and
/// `reporters.GitLabStatusPush(token, context=None, baseURL=None, ...)`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitStatusPushConfig {
    /// `token`: sent as the API token; never printed by `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub token: String,
    /// `context`: the status's name; `None` is `buildbot/<buildername>`.
    pub context: Option<String>,
    /// `baseURL`, without a trailing slash.
    pub base_url: String,
    /// `verify`: check the server's TLS certificate (default True).
    pub verify: bool,
    /// `debug`: log every response body.
    pub debug: bool,
}

impl std::fmt::Debug for CommitStatusPushConfig {
    /// Like the derived form, with the token redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitStatusPushConfig")
            .field("token", &"<redacted>")
            .field("context", &self.context)
            .field("base_url", &self.base_url)
            .field("verify", &self.verify)
            .field("debug", &self.debug)
            .finish()
    }
}

/// When a finished build is worth a message (Buildbot's `mode`, expanded: `"all"` and
/// `"warnings"` are shortcuts for several of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailMode {
    /// The result differs from the previous build of the same builder.
    Change,
    /// The build failed.
    Failing,
    /// The build succeeded.
    Passing,
    /// The build failed and the previous build of the same builder did not.
    Problem,
    /// The build ended with warnings.
    Warnings,
    /// The build ended with an exception.
    Exception,
    /// The build was cancelled.
    Cancelled,
}

impl MailMode {
    /// Buildbot's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MailMode::Change => "change",
            MailMode::Failing => "failing",
            MailMode::Passing => "passing",
            MailMode::Problem => "problem",
            MailMode::Warnings => "warnings",
            MailMode::Exception => "exception",
            MailMode::Cancelled => "cancelled",
        }
    }
}

/// `reporters.MailNotifier(...)`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MailNotifierConfig {
    /// `fromaddr`: the `From` address.
    pub fromaddr: String,
    /// `sendToInterestedUsers`: also mail the change authors and the `owner`/`owners`.
    pub send_to_interested_users: bool,
    /// `lookup`: the domain appended to bare user names (`alice` → `alice@<lookup>`).
    pub lookup: Option<String>,
    /// `relayhost`: the SMTP server.
    pub relayhost: String,
    /// `smtpPort`.
    pub smtp_port: u16,
    /// `smtpUser`.
    pub smtp_user: Option<String>,
    /// `smtpPassword`; never printed by `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub smtp_password: Option<String>,
    /// `useTls`: STARTTLS on a plain connection.
    pub use_tls: bool,
    /// `useSmtps`: TLS from the first byte (SMTPS).
    pub use_smtps: bool,
    /// `mode`, with the shortcuts expanded.
    pub mode: Vec<MailMode>,
    /// `extraRecipients`: always mailed.
    pub extra_recipients: Vec<String>,
    /// `builders`: only builds of these builders (empty: all).
    pub builders: Vec<String>,
    /// `tags`: only builds of builders with one of these tags (empty: all).
    pub tags: Vec<String>,
    /// `schedulers`: only builds whose `scheduler` property is one of these (empty: all).
    pub schedulers: Vec<String>,
    /// `branches`: only builds whose `branch` property is one of these (empty: all).
    pub branches: Vec<String>,
    /// `messageFormatter`.
    pub message_formatter: MessageFormatterConfig,
    /// `addPatch`: attach the build's patches. Ferrobot builds never carry a patch (there is
    /// no try scheduler), so this changes nothing yet.
    pub add_patch: bool,
}

impl std::fmt::Debug for MailNotifierConfig {
    /// Like the derived form, with the password redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailNotifierConfig")
            .field("fromaddr", &self.fromaddr)
            .field("relayhost", &self.relayhost)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_user", &self.smtp_user)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<redacted>"),
            )
            .field("use_tls", &self.use_tls)
            .field("use_smtps", &self.use_smtps)
            .field("mode", &self.mode)
            .field("extra_recipients", &self.extra_recipients)
            .field("message_formatter", &self.message_formatter)
            .finish_non_exhaustive()
    }
}

/// `template_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateType {
    /// `text/plain`.
    #[default]
    Plain,
    /// `text/html`.
    Html,
}

/// `reporters.MessageFormatter(...)`: Jinja2 templates for the body and the subject.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageFormatterConfig {
    /// `template`: the body; `None` is Buildbot's default mail template.
    pub template: Option<String>,
    /// `template_type`.
    pub template_type: TemplateType,
    /// `subject`: a template; `None` is Buildbot's default subject.
    pub subject: Option<String>,
    /// `wantProperties` (default True): `build.properties` in the context.
    pub want_properties: bool,
    /// `wantSteps`: `build.steps` in the context.
    pub want_steps: bool,
}
