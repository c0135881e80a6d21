//! `reporters.MailNotifier` and `reporters.MessageFormatter`.

use crate::args::{Args, Spec, err};
use crate::types::{
    MailMode, MailNotifierConfig, MessageFormatterConfig, ReporterConfig, TemplateType,
};
use crate::values::Item;

/// Buildbot's default `mode` of a MailNotifier.
const DEFAULT_MODE: &[MailMode] = &[MailMode::Failing, MailMode::Passing, MailMode::Warnings];

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
    ],
    positional: 1,
    unsupported: &["generators", "name"],
    ignored: &[],
};

/// Arguments of [`MAIL_NOTIFIER`] that are recognised but not implemented: an error unless
/// they ask for nothing.
const MAIL_NOT_YET: &[&str] = &[
    "addLogs",
    "buildSetSummary",
    "subject",
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
    let mode = mode(a)?;
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
    let smtp_password = a.str("smtpPassword")?;
    if smtp_user.is_some() != smtp_password.is_some() {
        return Err(err(format!(
            "{}() needs both smtpUser and smtpPassword, or neither",
            a.qualname()
        )));
    }
    let message_formatter = match a.given("messageFormatter") {
        None => MessageFormatterConfig {
            want_properties: true,
            ..MessageFormatterConfig::default()
        },
        Some(v) => match a.obj("messageFormatter") {
            Some((_, o)) => match &o.item {
                Item::MessageFormatter(f) => f.clone(),
                _ => return Err(a.wrong("messageFormatter", "a reporters.MessageFormatter", v)),
            },
            None => return Err(a.wrong("messageFormatter", "a reporters.MessageFormatter", v)),
        },
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
            mode,
            extra_recipients,
            builders: a.str_list("builders")?,
            tags: a.str_list("tags")?,
            schedulers: a.str_list("schedulers")?,
            branches: a.str_list("branches")?,
            message_formatter,
            add_patch: a.bool("addPatch", true)?,
        },
    )))
}

/// `mode`: a string (with Buildbot's shortcuts `"all"` and `"warnings"`) or a list of modes.
fn mode(a: &Args) -> starlark::Result<Vec<MailMode>> {
    let Some(v) = a.given("mode") else {
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
    let names = a.str_list("mode")?;
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
    for name in ["wantLogs", "want_logs", "want_logs_content"] {
        if a.bool(name, false)? {
            return Err(a.invalid(name, "is not supported yet"));
        }
    }
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
    }))
}
