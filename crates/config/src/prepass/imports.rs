//! `import ...` and `from ... import ...` statements: blanked, or turned into assignments
//! from Ferrobot's namespaces.

use super::{Logical, PrepassError, line_col};

/// Namespaces `buildbot.plugins` offers that Ferrobot predeclares.
pub(crate) const PLUGIN_NAMESPACES: &[&str] = &[
    "worker",
    "changes",
    "schedulers",
    "util",
    "steps",
    "reporters",
    "secrets",
    "webhooks",
];

/// What replaces an import statement: Starlark assignments (possibly none).
pub(super) struct ImportRewrite {
    assignments: String,
}

pub(super) fn rewrite_import(
    source: &str,
    logical: Logical,
    code: &str,
    lookup: &dyn Fn(&str) -> Option<&'static str>,
) -> Result<Option<ImportRewrite>, PrepassError> {
    let words: Vec<&str> = code.split_whitespace().collect();
    match words.first() {
        Some(&"import") => Ok(Some(ImportRewrite {
            assignments: String::new(),
        })),
        Some(&"from") if words.get(2) == Some(&"import") => {
            let module = words[1];
            let names_text = match code.find(" import") {
                Some(p) => &code[p + " import".len()..],
                None => "",
            };
            let names = parse_import_names(names_text);
            if module == "buildbot.plugins" {
                for (name, _) in &names {
                    if name != "*" && !PLUGIN_NAMESPACES.contains(&name.as_str()) {
                        let (line, col) = line_col(source, logical.start);
                        return Err(PrepassError {
                            line,
                            col,
                            message: format!(
                                "buildbot.plugins has no namespace '{name}' (Ferrobot offers: {})",
                                PLUGIN_NAMESPACES.join(", ")
                            ),
                        });
                    }
                }
                let mut assignments = String::new();
                for (name, alias) in &names {
                    if alias != name {
                        push_assignment(&mut assignments, alias, name);
                    }
                }
                Ok(Some(ImportRewrite { assignments }))
            } else if module == "buildbot" || module.starts_with("buildbot.") {
                let mut assignments = String::new();
                for (name, alias) in &names {
                    let Some(namespace) = lookup(name) else {
                        let (line, col) = line_col(source, logical.start);
                        return Err(PrepassError {
                            line,
                            col,
                            message: format!(
                                "cannot import '{name}' from {module}: use `from buildbot.plugins import ...` and the namespaced name"
                            ),
                        });
                    };
                    push_assignment(&mut assignments, alias, &format!("{namespace}.{name}"));
                }
                Ok(Some(ImportRewrite { assignments }))
            } else {
                Ok(Some(ImportRewrite {
                    assignments: String::new(),
                }))
            }
        }
        _ => Ok(None),
    }
}

fn push_assignment(out: &mut String, target: &str, value: &str) {
    if !out.is_empty() {
        out.push_str("; ");
    }
    out.push_str(target);
    out.push_str(" = ");
    out.push_str(value);
}

/// `a, b as c, (d)` → `[(a, a), (b, c), (d, d)]`.
fn parse_import_names(text: &str) -> Vec<(String, String)> {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if matches!(c, '(' | ')' | '\\') {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned
        .split(',')
        .filter_map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words.as_slice() {
                [name] => Some(((*name).to_owned(), (*name).to_owned())),
                [name, "as", alias] => Some(((*name).to_owned(), (*alias).to_owned())),
                _ => None,
            }
        })
        .collect()
}

/// Blanks the import statement (all its physical lines) and writes the replacement assignments
/// on its first line. An indented import becomes `pass` so its block stays non-empty.
pub(super) fn apply_import(
    out: &mut Vec<u8>,
    source: &str,
    logical: Logical,
    rewrite: &ImportRewrite,
) {
    for b in &mut out[logical.start..logical.code_end] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
    let line_start = source[..logical.start].rfind('\n').map_or(0, |p| p + 1);
    let indented = logical.start > line_start;
    let text = if !rewrite.assignments.is_empty() {
        rewrite.assignments.clone()
    } else if indented {
        "pass".to_owned()
    } else {
        return;
    };
    // Nothing else is left on the statement's first line, so the replacement may be longer or
    // shorter than what it replaces without moving any other token.
    let first_line_end = source[logical.start..]
        .find('\n')
        .map_or(logical.code_end, |p| logical.start + p)
        .min(logical.code_end);
    out.splice(logical.start..first_line_end, text.into_bytes());
}
