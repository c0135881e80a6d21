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
    /// `auth`: the HTTP basic password (a string or `util.Secret`); never printed by
    /// `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretText>,
    /// `headers`: extra request headers.
    pub headers: std::collections::BTreeMap<String, String>,
    /// `verify`: check the server's TLS certificate (default True).
    pub verify: bool,
    /// `verify` given as a path: a PEM file of CA certificates trusted besides the system's.
    pub ca_file: Option<String>,
    /// `debug`: log every response body.
    pub debug: bool,
    /// `generators`: which builds and moments are pushed (empty: every start and end).
    pub generators: Vec<GeneratorConfig>,
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
            .field("ca_file", &self.ca_file)
            .field("debug", &self.debug)
            .field("generators", &self.generators)
            .finish()
    }
}

/// `reporters.GitHubStatusPush(token, context=None, baseURL=None, ...)` and
/// `reporters.GitLabStatusPush(token, context=None, baseURL=None, ...)`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitStatusPushConfig {
    /// `token`: sent as the API token (a string or `util.Secret`); never printed by
    /// `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub token: SecretText,
    /// `context`: the status's name; `None` is `buildbot/<buildername>`.
    pub context: Option<String>,
    /// `baseURL`, without a trailing slash.
    pub base_url: String,
    /// `verify`: check the server's TLS certificate (default True).
    pub verify: bool,
    /// `verify` given as a path: a PEM file of CA certificates trusted besides the system's.
    pub ca_file: Option<String>,
    /// `debug`: log every response body.
    pub debug: bool,
    /// `generators`: which builds and moments are pushed (empty: every start and end).
    pub generators: Vec<GeneratorConfig>,
}

impl std::fmt::Debug for CommitStatusPushConfig {
    /// Like the derived form, with the token redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitStatusPushConfig")
            .field("token", &self.token)
            .field("context", &self.context)
            .field("base_url", &self.base_url)
            .field("verify", &self.verify)
            .field("ca_file", &self.ca_file)
            .field("debug", &self.debug)
            .field("generators", &self.generators)
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
    /// `smtpPassword` (a string or `util.Secret`); never printed by `checkconfig --dump`.
    #[serde(default, skip_serializing)]
    pub smtp_password: Option<SecretText>,
    /// `useTls`: STARTTLS on a plain connection.
    pub use_tls: bool,
    /// `useSmtps`: TLS from the first byte (SMTPS).
    pub use_smtps: bool,
    /// `smtpCaFile` (a Ferrobot addition): a PEM file of CA certificates trusted for the
    /// relay besides the system's (which `SSL_CERT_FILE` / `SSL_CERT_DIR` also extend).
    pub smtp_ca_file: Option<String>,
    /// What runs: `generators=[...]` as given, or the one generator the old-style arguments
    /// (`mode`, `builders`, `messageFormatter`, ...) describe.
    pub generators: Vec<GeneratorConfig>,
    /// Old style: `mode`, with the shortcuts expanded.
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
    /// Old style: `addPatch`, attach the source stamps' patches.
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
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("generators", &self.generators)
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
    /// `wantLogs`: each step's `logs` (name, url) in the context (implies `wantSteps`).
    pub want_logs: bool,
    /// `want_logs_content`: which logs carry their `content` in the context.
    pub want_logs_content: LogSelection,
}

/// A choice of step logs (`addLogs`, `want_logs_content`): none, all, or by name, each name
/// either `log` (any step's log of that name) or `step.log`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSelection {
    /// No log.
    #[default]
    None,
    /// Every log.
    All,
    /// The logs named.
    Named(Vec<String>),
}

impl LogSelection {
    /// Whether the log `log` of step `step` is chosen.
    pub fn includes(&self, step: &str, log: &str) -> bool {
        match self {
            LogSelection::None => false,
            LogSelection::All => true,
            LogSelection::Named(names) => names
                .iter()
                .any(|n| n == log || n.split_once('.') == Some((step, log))),
        }
    }
}

/// Which Buildbot report generator a [`GeneratorConfig`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GeneratorKind {
    /// `reporters.BuildStatusGenerator`: finished builds by `mode` (and starts with
    /// `report_new=True`).
    BuildStatus,
    /// `reporters.BuildStartEndStatusGenerator`: every start and every end.
    BuildStartEnd,
}

/// `reporters.BuildStatusGenerator(...)` or `reporters.BuildStartEndStatusGenerator(...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    /// Which generator.
    pub kind: GeneratorKind,
    /// `mode`, expanded (BuildStatusGenerator; a StartEnd generator reports every result).
    pub mode: Vec<MailMode>,
    /// `builders`: only these builders (empty: all).
    pub builders: Vec<String>,
    /// `tags`: only builders with one of these tags (empty: all).
    pub tags: Vec<String>,
    /// `schedulers`: only builds whose `scheduler` property is one of these (empty: all).
    pub schedulers: Vec<String>,
    /// `branches`: only builds whose `branch` property is one of these (empty: all).
    pub branches: Vec<String>,
    /// `report_new` (or a StartEnd generator): also report build starts.
    pub report_new: bool,
    /// `subject`: the deprecated Python `%`-style subject (`%(result)s`, `%(builder)s`, ...).
    pub subject: Option<String>,
    /// `message_formatter` (StartEnd: `end_formatter`).
    pub message_formatter: MessageFormatterConfig,
    /// StartEnd's `start_formatter`; `None` is the default one.
    pub start_formatter: Option<MessageFormatterConfig>,
    /// `add_logs`: step logs attached to the mail.
    pub add_logs: LogSelection,
    /// `add_patch`: the source stamps' patches attached to the mail.
    pub add_patch: bool,
}

/// A string argument that may come from a secrets provider (`util.Secret("name")`). The
/// value is filled in when the config is loaded; `Debug` and `Serialize` never show it.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
pub struct SecretText {
    /// The value (after loading, also for a secret).
    pub value: String,
    /// The secret's name, when it came from `util.Secret`.
    pub secret: Option<String>,
    /// Where `util.Secret` was called (`file:line:col`), for errors.
    pub defined_at: Option<String>,
}

impl SecretText {
    /// A value written in master.cfg itself.
    pub fn literal(value: impl Into<String>) -> SecretText {
        SecretText {
            value: value.into(),
            secret: None,
            defined_at: None,
        }
    }

    /// The value, to use (never to log).
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl std::fmt::Debug for SecretText {
    /// `Secret("name")` or `<redacted>`, never the value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.secret {
            Some(name) => write!(f, "Secret({name:?})"),
            None => f.write_str("<redacted>"),
        }
    }
}

impl Serialize for SecretText {
    /// As `Debug`: the name of the secret or `<redacted>`, never the value.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{self:?}"))
    }
}
