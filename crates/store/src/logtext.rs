//! How log text is cut into lines and chunks and compressed, independent of the database.

use std::io::{Read, Write};

use crate::{Error, Result};

/// The longest stored line, newline included. Longer lines are split into several (never
/// dropped); a stdio line's pieces each keep its stream letter.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;
/// The most raw text in one chunk (Buildbot's `MAX_CHUNK_SIZE`).
pub(crate) const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// The most lines in one chunk (Buildbot's `MAX_CHUNK_LINES`).
pub(crate) const MAX_CHUNK_LINES: usize = 1000;
/// A last chunk smaller than this takes the next append's lines, so that a log written a few
/// lines at a time still ends up in few, well-compressed chunks.
pub(crate) const SMALL_CHUNK_BYTES: usize = MAX_CHUNK_BYTES / 2;

/// Buildbot's compression ids.
pub(crate) const RAW: i64 = 0;
/// zlib, which Buildbot calls "gz" (`zlib.compress`).
pub(crate) const ZLIB: i64 = 1;

/// Cuts `content` into lines that each end in `\n` and fit [`MAX_LINE_BYTES`]. A missing final
/// newline is added rather than the partial line lost.
pub(crate) fn split_lines(content: &str, stdio: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for line in content.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if body.len() < MAX_LINE_BYTES {
            lines.push(format!("{body}\n"));
            continue;
        }
        let prefix = match body.chars().next() {
            Some(letter @ ('o' | 'e' | 'h')) if stdio => letter.len_utf8(),
            _ => 0,
        };
        let (letter, mut rest) = body.split_at(prefix);
        let capacity = MAX_LINE_BYTES - 1 - letter.len();
        while !rest.is_empty() {
            let mut cut = capacity.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (piece, tail) = rest.split_at(cut);
            lines.push(format!("{letter}{piece}\n"));
            rest = tail;
        }
    }
    lines
}

/// Groups lines into chunks within [`MAX_CHUNK_BYTES`] and [`MAX_CHUNK_LINES`].
pub(crate) fn pack_chunks(lines: &[String]) -> Vec<&[String]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, line) in lines.iter().enumerate() {
        let full =
            i > start && (bytes + line.len() > MAX_CHUNK_BYTES || i - start >= MAX_CHUNK_LINES);
        if full {
            chunks.push(&lines[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += line.len();
    }
    if start < lines.len() {
        chunks.push(&lines[start..]);
    }
    chunks
}

/// The stored form of a chunk: zlib when that is smaller, else the raw text.
pub(crate) fn encode_chunk(text: &str) -> (Vec<u8>, i64) {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish());
    match compressed {
        Ok(bytes) if bytes.len() < text.len() => (bytes, ZLIB),
        _ => (text.as_bytes().to_vec(), RAW),
    }
}

/// The text of a stored chunk.
pub(crate) fn decode_chunk(content: &[u8], compression: i64) -> Result<String> {
    let bytes = match compression {
        RAW => content.to_vec(),
        ZLIB => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(content)
                .read_to_end(&mut out)
                .map_err(|e| Error::Corrupt(format!("log chunk does not inflate: {e}")))?;
            out
        }
        other => {
            return Err(Error::Corrupt(format!(
                "log chunk has compression id {other}"
            )));
        }
    };
    String::from_utf8(bytes).map_err(|e| Error::Corrupt(format!("log chunk is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_pass_through_and_a_missing_newline_is_added() {
        assert_eq!(split_lines("oa\nob\n", true), ["oa\n", "ob\n"]);
        assert_eq!(split_lines("oa\nob", true), ["oa\n", "ob\n"]);
        assert_eq!(split_lines("\n\n", false), ["\n", "\n"]);
    }

    #[test]
    fn overlong_stdio_lines_split_keeping_the_stream_letter_and_every_byte() {
        let body = "€".repeat(MAX_LINE_BYTES / 2); // three bytes each: cuts must respect them
        let lines = split_lines(&format!("e{body}\n"), true);
        assert!(lines.len() >= 2);
        for line in &lines {
            assert!(line.len() <= MAX_LINE_BYTES && line.starts_with('e') && line.ends_with('\n'));
        }
        let rejoined: String = lines.iter().map(|l| &l[1..l.len() - 1]).collect();
        assert_eq!(rejoined, body);
    }

    #[test]
    fn overlong_text_lines_split_without_a_prefix() {
        let body = "x".repeat(MAX_LINE_BYTES * 2);
        let lines = split_lines(&body, false);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines.concat().replace('\n', ""), body);
    }

    #[test]
    fn chunks_respect_byte_and_line_limits() {
        let many: Vec<String> = (0..2500).map(|i| format!("o{i}\n")).collect();
        let sizes: Vec<usize> = pack_chunks(&many).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        let big: Vec<String> = (0..3).map(|_| "y".repeat(40_000)).collect();
        assert_eq!(pack_chunks(&big).len(), 3);
    }

    #[test]
    fn compression_is_used_only_when_it_pays_and_round_trips() {
        let repetitive = "o all work and no play\n".repeat(500);
        let (bytes, id) = encode_chunk(&repetitive);
        assert_eq!(id, ZLIB);
        assert!(bytes.len() < repetitive.len());
        assert_eq!(
            decode_chunk(&bytes, id).ok().as_deref(),
            Some(repetitive.as_str())
        );
        let (bytes, id) = encode_chunk("ok\n");
        assert_eq!((bytes.as_slice(), id), (&b"ok\n"[..], RAW));
    }
}
