//! Standard base64 decoding, for WebDriver's screenshots.

use anyhow::{Result, bail};

fn value(byte: u8) -> Option<u32> {
    match byte {
        b'A'..=b'Z' => Some(u32::from(byte - b'A')),
        b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes standard base64 (with `=` padding; whitespace ignored).
pub fn decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0;
    for (position, byte) in text.bytes().enumerate() {
        if byte == b'=' {
            break;
        }
        if byte.is_ascii_whitespace() {
            continue;
        }
        let Some(v) = value(byte) else {
            bail!("invalid base64 byte {byte:#04x} at {position}");
        };
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).expect("masked to a byte"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_padded_and_unpadded_text() {
        assert_eq!(decode("aGVsbG8=").expect("valid"), b"hello");
        assert_eq!(decode("aGVsbG8h").expect("valid"), b"hello!");
        assert_eq!(decode("aGk=").expect("valid"), b"hi");
        assert!(decode("a$b").is_err());
    }
}
