//! `reporters.MailNotifier` and `reporters.MessageFormatter`.

use super::generators::{default_formatter, formatter_arg, generators_arg, log_selection};
use super::secrets::secret_arg;
use crate::args::{Args, Spec, err};
use crate::types::{
    GeneratorConfig, GeneratorKind, MailMode, MailNotifierConfig, MessageFormatterConfig,
    ReporterConfig, TemplateType,
};
use crate::values::Item;

/// Buildbot's default `mode` of a MailNotifier and of a BuildStatusGenerator.
pub(crate) const DEFAULT_MODE: &[MailMode] =
    &[MailMode::Failing, MailMode::Passing, MailMode::Warnings];

/// `reporters.MailNotifier(fromaddr, mode=..., ...)` in its Buildbot 2.x form.
pub(crate) static MAIL_NOTIFIER: Spec = Spec {
    qualname: "reporters.MailNotifier",
    params: &[
        "fromaddr",
        "mode",
        "tags",
        "builders",
        "addLogs",
        "relayhost",
        "buildSetSummary",
        "subject",
        "lookup",
        "extraRecipients",
        "sendToInterestedUsers",
        "messageFormatter",
        "extraHeaders",
        "addPatch",
        "useTls",
        "useSmtps",
        "smtpUser",
        "smtpPassword",
        "smtpPort",
        "schedulers",
        "branches",
        "watchedWorkers",
        "messageFormatterMissingWorker",
        "dumpMailsToLog",
        "generators",
        "smtpCaFile",
    ],
    positional: 1,
    unsupported: &["name"],
    ignored: &[],
};

/// The old-style arguments that `generators=[...]` replaces.
const OLD_STYLE: &[&str] = &[
    "mode",
    "tags",
    "builders",
    "schedulers",
    "branches",
    "addLogs",
    "subject",
    "messageFormatter",
    "addPatch",
];

/// Arguments of [`MAIL_NOTIFIER`] that are recognised but not implemented: an error unless
/// they ask for nothing.
const MAIL_NOT_YET: &[&str] = &[
    "buildSetSummary",
    "extraHeaders",
    "watchedWorkers",
    "messageFormatterMissingWorker",
    "dumpMailsToLog",
];

pub(crate) fn mail_notifier(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    for &name in MAIL_NOT_YET {
        if let Some(v) = a.given(name) {
            // `watchedWorkers` defaults to 'all' in Buildbot and is only about missing-worker
            // mail, which Ferrobot does not send yet.
            let off = v.is_none()
                || v.unpack_bool() == Some(false)
                || (name == "watchedWorkers" && v.unpack_str() == Some("all"));
            if !off {
                return Err(a.invalid(name, "is not supported yet"));
            }
        }
    }
    let fromaddr = a.req_str("fromaddr")?;
    if !is_email(&fromaddr) {
        return Err(a.invalid(
            "fromaddr",
            format!("must be an email address, not {fromaddr:?}"),
        ));
    }
    let extra_recipients = a.str_list("extraRecipients")?;
    if let Some(bad) = extra_recipients.iter().find(|r| !is_email(r)) {
        return Err(a.invalid(
            "extraRecipients",
            format!("must hold email addresses, not {bad:?}"),
        ));
    }
    let mode = match a.given("mode") {
        None => DEFAULT_MODE.to_vec(),
        Some(_) => modes(a, "mode")?,
    };
    let smtp_port = match a.int("smtpPort")? {
        None => 25,
        Some(p) => u16::try_from(p)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| a.invalid("smtpPort", format!("must be a port number, not {p}")))?,
    };
    let use_tls = a.bool("useTls", false)?;
    let use_smtps = a.bool("useSmtps", false)?;
    if use_tls && use_smtps {
        return Err(err(format!(
            "{}() can't take both useTls=True and useSmtps=True",
            a.qualname()
        )));
    }
    let smtp_user = a.str("smtpUser")?;
    let smtp_password = secret_arg(a, "smtpPassword")?;
    if smtp_user.is_some() != smtp_password.is_some() {
        return Err(err(format!(
            "{}() needs both smtpUser and smtpPassword, or neither",
            a.qualname()
        )));
    }
    let message_formatter = formatter_arg(a, "messageFormatter")?.unwrap_or_else(default_formatter);
    let builders = a.str_list("builders")?;
    let tags = a.str_list("tags")?;
    let schedulers = a.str_list("schedulers")?;
    let branches = a.str_list("branches")?;
    let add_patch = a.bool("addPatch", true)?;
    let generators = match a.given("generators") {
        Some(_) => {
            if let Some(old) = OLD_STYLE.iter().find(|n| a.given(n).is_some()) {
                return Err(a.invalid(
                    "generators",
                    format!(
                        "replaces the old-style '{old}': give it to the generator \
                         (e.g. reporters.BuildStatusGenerator(...)) instead"
                    ),
                ));
            }
            generators_arg(a)?
        }
        None => vec![GeneratorConfig {
            kind: GeneratorKind::BuildStatus,
            mode: mode.clone(),
            builders: builders.clone(),
            tags: tags.clone(),
            schedulers: schedulers.clone(),
            branches: branches.clone(),
            report_new: false,
            subject: a.str("subject")?,
            message_formatter: message_formatter.clone(),
            start_formatter: None,
            add_logs: log_selection(a, "addLogs")?,
            add_patch,
        }],
    };
    Ok(Item::Reporter(ReporterConfig::MailNotifier(
        MailNotifierConfig {
            fromaddr,
            send_to_interested_users: a.bool("sendToInterestedUsers", true)?,
            lookup: a.str("lookup")?,
            relayhost: a
                .str("relayhost")?
                .unwrap_or_else(|| "localhost".to_owned()),
            smtp_port,
            smtp_user,
            smtp_password,
            use_tls,
            use_smtps,
            smtp_ca_file: a.str("smtpCaFile")?,
            generators,
            mode,
            extra_recipients,
            builders,
            tags,
            schedulers,
            branches,
            message_formatter,
            add_patch,
        },
    )))
}

/// `mode`: a string (with Buildbot's shortcuts `"all"` and `"warnings"`) or a list of modes.
pub(crate) fn modes(a: &Args, name: &str) -> starlark::Result<Vec<MailMode>> {
    let Some(v) = a.given(name) else {
        return Ok(DEFAULT_MODE.to_vec());
    };
    if let Some(s) = v.unpack_str() {
        let modes = match s {
            "all" => vec![
                MailMode::Failing,
                MailMode::Passing,
                MailMode::Warnings,
                MailMode::Exception,
                MailMode::Cancelled,
            ],
            "warnings" => vec![MailMode::Failing, MailMode::Warnings],
            other => vec![one_mode(a, other)?],
        };
        return Ok(modes);
    }
    let names = a.str_list(name)?;
    if names.iter().any(|n| n == "all") {
        return Err(a.invalid("mode", "can't hold 'all' in a list: give mode='all' alone"));
    }
    names.iter().map(|n| one_mode(a, n)).collect()
}

fn one_mode(a: &Args, name: &str) -> starlark::Result<MailMode> {
    Ok(match name {
        "change" => MailMode::Change,
        "failing" => MailMode::Failing,
        "passing" => MailMode::Passing,
        "problem" => MailMode::Problem,
        "warnings" => MailMode::Warnings,
        "exception" => MailMode::Exception,
        "cancelled" => MailMode::Cancelled,
        other => {
            return Err(a.invalid(
                "mode",
                format!(
                    "has an unknown mode {other:?} (known: all, change, failing, passing, \
                     problem, warnings, exception, cancelled)"
                ),
            ));
        }
    })
}

/// Buildbot only checks the shape `local@domain`.
fn is_email(s: &str) -> bool {
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(open), Some(close)) if open < close => &s[open + 1..close],
        _ => s,
    };
    matches!(addr.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !addr.contains(char::is_whitespace))
}

/// `reporters.MessageFormatter(template=None, template_type='plain', subject=None, ...)`.
pub(crate) static MESSAGE_FORMATTER: Spec = Spec {
    qualname: "reporters.MessageFormatter",
    params: &[
        "template",
        "template_type",
        "subject",
        "wantProperties",
        "wantSteps",
        "want_properties",
        "want_steps",
        "wantLogs",
        "want_logs",
        "want_logs_content",
    ],
    positional: 0,
    unsupported: &[
        "template_dir",
        "template_filename",
        "template_name",
        "ctx",
        "extra_info_cb",
    ],
    ignored: &[],
};

pub(crate) fn message_formatter(a: &Args, _warnings: &mut Vec<String>) -> starlark::Result<Item> {
    let template_type = match a.str("template_type")?.as_deref() {
        None | Some("plain") => TemplateType::Plain,
        Some("html") => TemplateType::Html,
        Some(other) => {
            return Err(a.invalid(
                "template_type",
                format!("must be 'plain' or 'html', not {other:?}"),
            ));
        }
    };
    // Buildbot's newer snake_case names and the older camelCase ones mean the same.
    let flag = |old: &str, new: &str, default: bool| -> starlark::Result<bool> {
        if a.given(old).is_some() && a.given(new).is_some() {
            return Err(err(format!(
                "{}() got both '{old}' and '{new}'",
                a.qualname()
            )));
        }
        if a.given(new).is_some() {
            a.bool(new, default)
        } else {
            a.bool(old, default)
        }
    };
    Ok(Item::MessageFormatter(MessageFormatterConfig {
        template: a.str("template")?,
        template_type,
        subject: a.str("subject")?,
        want_properties: flag("wantProperties", "want_properties", true)?,
        want_steps: flag("wantSteps", "want_steps", false)?,
        want_logs: flag("wantLogs", "want_logs", false)?,
        want_logs_content: log_selection(a, "want_logs_content")?,
    }))
}
