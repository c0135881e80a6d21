//! A line-preserving rewrite of the Python-isms real master.cfg files contain, so that Starlark
//! accepts them. Every rewrite keeps each remaining token on its original line and column, so
//! Starlark's spans still point into the file the user wrote.

mod imports;

pub(crate) use imports::PLUGIN_NAMESPACES;
use imports::{apply_import, rewrite_import};

/// A rewrite that could not be made, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrepassError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// One logical line (a statement, which may span several physical lines inside brackets or
/// after a backslash).
#[derive(Debug, Clone, Copy)]
struct Logical {
    /// Byte offset of the first code character (after indentation).
    start: usize,
    /// Byte offset just past the last code character (before a trailing comment).
    code_end: usize,
}

/// Rewrites `source` so Starlark accepts the Python-isms of master.cfg files. `lookup` maps a
/// bare Buildbot class name (e.g. `ShellCommand`) to its namespace (`steps`), for
/// `from buildbot.steps.shell import ShellCommand`.
pub(crate) fn rewrite(
    source: &str,
    lookup: &dyn Fn(&str) -> Option<&'static str>,
) -> Result<String, PrepassError> {
    let mut out: Vec<u8> = source.as_bytes().to_vec();
    let lines = scan(source, &mut out);
    // Insertions shift later offsets, so apply statement rewrites from the end of the file.
    for logical in lines.iter().rev() {
        let code = &source[logical.start..logical.code_end];
        if let Some(rewritten) = rewrite_import(source, *logical, code, lookup)? {
            apply_import(&mut out, source, *logical, &rewritten);
        } else if let Some((blank, tail)) = chained_assignment(code) {
            for (from, to) in blank {
                for b in &mut out[logical.start + from..logical.start + to] {
                    *b = b' ';
                }
            }
            let at = logical.code_end;
            out.splice(at..at, tail.into_bytes());
        }
    }
    // Only ASCII bytes were replaced or inserted at character boundaries.
    String::from_utf8(out).map_err(|_| PrepassError {
        line: 1,
        col: 1,
        message: "internal error: pre-pass produced invalid UTF-8".to_owned(),
    })
}

/// Walks the text once: blanks `u` string prefixes in `out` and returns the logical lines.
fn scan(source: &str, out: &mut [u8]) -> Vec<Logical> {
    let bytes = source.as_bytes();
    let mut lines = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    let mut start: Option<usize> = None;
    let mut code_end = 0;
    let mut continued = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' => {
                if depth == 0
                    && !continued
                    && let Some(s) = start.take()
                {
                    lines.push(Logical { start: s, code_end });
                }
                continued = false;
                i += 1;
                continue;
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => {
                continued = true;
                i += 2;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        continued = false;
        // `import os; x = 1`: each statement of the line is rewritten on its own.
        if b == b';' && depth == 0 {
            if let Some(s) = start.take() {
                lines.push(Logical { start: s, code_end });
            }
            i += 1;
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        if b == b'\'' || b == b'"' {
            let prefix_start = string_prefix_start(bytes, i);
            for (k, p) in bytes[prefix_start..i].iter().enumerate() {
                if matches!(p, b'u' | b'U') {
                    out[prefix_start + k] = b' ';
                }
            }
            i = skip_string(bytes, i);
            code_end = i;
            continue;
        }
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        // Whole characters, so every offset recorded is a char boundary.
        i += source[i..].chars().next().map_or(1, char::len_utf8);
        code_end = i;
    }
    if let Some(s) = start {
        lines.push(Logical { start: s, code_end });
    }
    lines
}

/// The offset where the string prefix (`u`, `r`, `b`, `f`, in any allowed combination) before
/// the quote at `quote` begins, or `quote` when the letters before it are part of a name.
fn string_prefix_start(bytes: &[u8], quote: usize) -> usize {
    let mut p = quote;
    while p > 0
        && quote - p < 2
        && matches!(bytes[p - 1].to_ascii_lowercase(), b'u' | b'r' | b'b' | b'f')
    {
        p -= 1;
    }
    if p > 0 && is_ident_byte(bytes[p - 1]) {
        return quote;
    }
    p
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Returns the offset just past the string literal opening at `at`.
fn skip_string(bytes: &[u8], at: usize) -> usize {
    let q = bytes[at];
    let triple = bytes.get(at + 1) == Some(&q) && bytes.get(at + 2) == Some(&q);
    let mut i = if triple { at + 3 } else { at + 1 };
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            // Even in raw strings a backslash keeps the next quote from closing the string.
            i += 2;
            continue;
        }
        if triple {
            if b == q && bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q) {
                return i + 3;
            }
        } else if b == q {
            return i + 1;
        } else if b == b'\n' {
            // Unterminated: let Starlark report it where it is.
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// `c = BuildmasterConfig = {}`: returns the byte ranges (relative to the statement) of the
/// inner targets to blank out, and the text to append after the statement
/// (`; BuildmasterConfig = c`).
fn chained_assignment(code: &str) -> Option<(Vec<(usize, usize)>, String)> {
    let bytes = code.as_bytes();
    let mut targets: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    loop {
        let skip = |mut p: usize| {
            while p < bytes.len() && (bytes[p] == b' ' || bytes[p] == b'\t') {
                p += 1;
            }
            p
        };
        let s = skip(pos);
        let mut e = s;
        while e < bytes.len() && is_ident_byte(bytes[e]) {
            e += 1;
        }
        if e == s || bytes[s].is_ascii_digit() {
            break;
        }
        let after = skip(e);
        if bytes.get(after) != Some(&b'=') || bytes.get(after + 1) == Some(&b'=') {
            break;
        }
        targets.push((s, e));
        pos = after + 1;
    }
    if targets.len() < 2 {
        return None;
    }
    let first = &code[targets[0].0..targets[0].1];
    let mut blank = Vec::new();
    let mut tail = String::new();
    for (k, &(s, _)) in targets.iter().enumerate().skip(1) {
        let name = &code[targets[k].0..targets[k].1];
        // Blank the target and its `=`, up to where the next token starts.
        let end = code[s..].find('=').map_or(s, |p| s + p + 1);
        blank.push((s, end));
        tail.push_str(&format!("; {name} = {first}"));
    }
    Some((blank, tail))
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
