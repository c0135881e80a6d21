//! NATS subjects for topics and patterns (design §4: `<prefix>.builds.<buildid>.finished`).
//!
//! A NATS subject is `.`-separated tokens, where a token that is exactly `*` or `>` is a
//! wildcard and whitespace is not allowed. Topic segments may hold anything (a log slug such
//! as `test.log`, reference/buildbot.md §4.1), so each segment is escaped: ASCII letters,
//! digits, `-` and `_` stay as they are and every other byte of its UTF-8 becomes `%XX`
//! (upper-case hex). The empty segment, which NATS cannot carry as an empty token, is the lone
//! token `%`. Routine keys therefore read naturally (`ferrobot.builds.12.finished`), and an
//! encoded token never contains `.`, `*`, `>`, whitespace or a leading `$`.
//!
//! Decoding accepts only this canonical form, so a subject decodes to at most one topic and
//! re-encodes to itself.

use std::fmt::Write as _;

use crate::{FULL_WILDCARD, Pattern, SINGLE_WILDCARD, Topic};

const EMPTY_SEGMENT: &str = "%";

/// The NATS subject for a topic: `prefix`, a `.`, then each escaped segment. An empty prefix
/// adds nothing; the prefix is used as given (it is the operator's, e.g. `ferrobot`).
pub fn encode_subject(prefix: &str, topic: &Topic) -> String {
    let mut subject = prefix.to_owned();
    for segment in &topic.0 {
        separate(&mut subject);
        encode_segment(segment, &mut subject);
    }
    subject
}

/// The NATS subscription subject for a pattern: `*` and a final `>` become NATS wildcards,
/// every other segment (a `>` that is not last included) is escaped like a topic segment, so
/// NATS matches exactly the topics [`Pattern::matches`] accepts. A pattern without segments
/// (which [`Pattern::validate`] rejects) gives the bare prefix.
pub fn encode_pattern(prefix: &str, pattern: &Pattern) -> String {
    let mut subject = prefix.to_owned();
    let last = pattern.0.len().saturating_sub(1);
    for (index, segment) in pattern.0.iter().enumerate() {
        separate(&mut subject);
        if segment == SINGLE_WILDCARD || (segment == FULL_WILDCARD && index == last) {
            subject.push_str(segment);
        } else {
            encode_segment(segment, &mut subject);
        }
    }
    subject
}

/// The topic a subject carries, or `None` when it lacks the prefix, has no segments, or is not
/// in the canonical form [`encode_subject`] produces.
pub fn decode_subject(prefix: &str, subject: &str) -> Option<Topic> {
    let rest = if prefix.is_empty() {
        subject
    } else {
        subject.strip_prefix(prefix)?.strip_prefix('.')?
    };
    if rest.is_empty() {
        return None;
    }
    rest.split('.')
        .map(decode_token)
        .collect::<Option<Vec<String>>>()
        .map(Topic)
}

fn separate(subject: &mut String) {
    // Encoded segments are never empty, so an empty subject means nothing was written yet.
    if !subject.is_empty() {
        subject.push('.');
    }
}

fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

fn encode_segment(segment: &str, out: &mut String) {
    if segment.is_empty() {
        out.push_str(EMPTY_SEGMENT);
        return;
    }
    for byte in segment.bytes() {
        if is_plain(byte) {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

fn decode_token(token: &str) -> Option<String> {
    if token == EMPTY_SEGMENT {
        return Some(String::new());
    }
    if token.is_empty() {
        return None;
    }
    let mut bytes = Vec::with_capacity(token.len());
    let mut input = token.bytes();
    while let Some(byte) = input.next() {
        if is_plain(byte) {
            bytes.push(byte);
        } else if byte == b'%' {
            let high = hex_digit(input.next()?)?;
            let low = hex_digit(input.next()?)?;
            let decoded = (high << 4) | low;
            // A plain byte is never escaped in canonical form.
            if is_plain(decoded) {
                return None;
            }
            bytes.push(decoded);
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[path = "subject_tests.rs"]
mod tests;
