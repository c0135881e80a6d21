//! Rendering a mail: Buildbot's Jinja templates through minijinja (with Python-style methods
//! such as `dict.get` and `str.join`, which Buildbot templates use), and the recipients.

use ferrobot_config::{MailNotifierConfig, MessageFormatterConfig, TemplateType};
use minijinja::Environment;
use serde_json::Value;

/// Buildbot's default plain-text body (`templates/default_mail.txt` in spirit).
const DEFAULT_PLAIN: &str = "\
The Buildbot has detected a {{ status_detected }} on builder {{ buildername }} while building {{ projects }}.
Full details are available at:
    {{ build_url }}

Build state: {{ build['state_string'] }}
Revision: {{ build['properties'].get('got_revision', ['(unknown)'])[0] if build['properties'] else '(unknown)' }}
Worker: {{ workername }}
Build Reason: {{ build['properties'].get('reason', ['(unknown)'])[0] if build['properties'] else '(unknown)' }}
Blamelist: {{ blamelist | join(', ') }}

Steps:
{% if build['steps'] %}{% for step in build['steps'] %}
- {{ step['number'] }}: {{ step['name'] }} ( {{ result_names[step['results']] if step['results'] is not none else 'not finished' }} )
{% endfor %}{% else %}
- (no steps)
{% endif %}
";

/// Buildbot's default HTML body (`templates/default_mail.html` in spirit).
const DEFAULT_HTML: &str = "\
<h4>Build status: {{ summary }}</h4>
<p> Worker used: {{ workername }}</p>
{% for step in build['steps'] or [] %}
<p> {{ step['name'] }}: {{ result_names[step['results']] if step['results'] is not none else 'not finished' }}</p>
{% endfor %}
<p><b> -- The Buildbot</b></p>
";

/// Buildbot's MailNotifier subject, `\"Buildbot %(result)s in %(title)s on %(builder)s\"`.
const DEFAULT_SUBJECT: &str = "Buildbot {{ result }} in {{ title }} on {{ builder }}";

/// Why a template did not render.
#[derive(Debug, thiserror::Error)]
#[error("template error in the {what}: {source}")]
pub struct Error {
    what: &'static str,
    source: minijinja::Error,
}

/// The rendered subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    /// The body.
    pub body: String,
    /// `text/html`.
    pub html: bool,
}

/// Renders subject and body of `formatter` with `context`. Without a formatter subject,
/// `legacy_subject` (the generator's or the old MailNotifier's Python `%`-style `subject`)
/// comes next, then Buildbot's default.
pub fn render(
    formatter: &MessageFormatterConfig,
    legacy_subject: Option<&str>,
    context: &Value,
) -> Result<Rendered, Error> {
    let html = formatter.template_type == TemplateType::Html;
    let body_template =
        formatter
            .template
            .as_deref()
            .unwrap_or(if html { DEFAULT_HTML } else { DEFAULT_PLAIN });
    let percent_subject;
    let subject_template = match (&formatter.subject, legacy_subject) {
        (Some(subject), _) => subject.as_str(),
        (None, Some(legacy)) => {
            percent_subject = percent_to_jinja(legacy);
            percent_subject.as_str()
        }
        (None, None) => DEFAULT_SUBJECT,
    };
    let mut env = Environment::new();
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    let context = template_value(context);
    let body = env
        .render_str(body_template, &context)
        .map_err(|source| Error {
            what: "body",
            source,
        })?;
    let subject = env
        .render_str(subject_template, &context)
        .map_err(|source| Error {
            what: "subject",
            source,
        })?;
    // A header holds one line; a template's stray newlines must not break it.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Rendered {
        subject,
        body,
        html,
    })
}

/// A Python `%`-style subject (`"Buildbot %(result)s in %(title)s on %(builder)s"`) as a
/// template: each `%(key)s` becomes the context value `key` (`projectName` is the title), `%%`
/// a `%`, and everything else stays literal.
fn percent_to_jinja(subject: &str) -> String {
    let mut out = String::new();
    let mut rest = subject;
    while let Some(at) = rest.find('%') {
        out.push_str(&literal(&rest[..at]));
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some((key, after)) = rest
            .strip_prefix("%(")
            .and_then(|r| r.split_once(")s"))
            .filter(|(key, _)| key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            let key = if key == "projectName" { "title" } else { key };
            out.push_str(&format!("{{{{ {key} }}}}"));
            rest = after;
        } else {
            out.push_str(&literal("%"));
            rest = &rest[1..];
        }
    }
    out.push_str(&literal(rest));
    out
}

/// `text` as a template that renders to itself.
fn literal(text: &str) -> String {
    if text.contains("{{") || text.contains("{%") || text.contains("{#") {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_owned()
    }
}

/// `value` as minijinja sees it. Built by hand: with serde_json's `arbitrary_precision` (on in
/// this workspace) numbers would otherwise reach templates as maps, not numbers.
fn template_value(value: &Value) -> minijinja::Value {
    match value {
        Value::Null => minijinja::Value::from(()),
        Value::Bool(b) => minijinja::Value::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => minijinja::Value::from(i),
            (None, Some(f)) => minijinja::Value::from(f),
            (None, None) => minijinja::Value::from(n.to_string()),
        },
        Value::String(s) => minijinja::Value::from(s.as_str()),
        Value::Array(items) => items.iter().map(template_value).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.as_str(), template_value(v)))
            .collect(),
    }
}

/// The recipients: `extraRecipients`, then (with `sendToInterestedUsers`) each responsible
/// user through `lookup` (`alice` → `alice@<lookup>`; an address passes as is), reduced to
/// the bare address (`Alice <alice@x>` → `alice@x`). Names that are no address are dropped.
pub fn recipients(config: &MailNotifierConfig, users: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |addr: String| {
        if !out.iter().any(|a| a.eq_ignore_ascii_case(&addr)) {
            out.push(addr);
        }
    };
    for extra in &config.extra_recipients {
        if let Some(addr) = bare_address(extra) {
            add(addr);
        }
    }
    if config.send_to_interested_users {
        for user in users {
            let looked_up = match &config.lookup {
                Some(domain) if !user.contains('@') => format!("{}@{domain}", user.trim()),
                _ => user.clone(),
            };
            match bare_address(&looked_up) {
                Some(addr) => add(addr),
                None => tracing::info!(user = %user, "no email address for an interested user"),
            }
        }
    }
    out
}

/// `Name <addr>` or `addr` → `addr`, if it looks like an address.
fn bare_address(s: &str) -> Option<String> {
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(open), Some(close)) if open < close => &s[open + 1..close],
        _ => s,
    }
    .trim();
    let (local, domain) = addr.split_once('@')?;
    (!local.is_empty() && !domain.is_empty() && !addr.contains(char::is_whitespace))
        .then(|| addr.to_owned())
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
