//! RFC 2047 encoded words in headers (`=?iso-8859-1?q?Jos=E9_M=FCller?=`), for a `From`
//! header passed as written.

/// `s` with its encoded words decoded; white space between adjacent encoded words is
/// dropped as RFC 2047 requires. Undecodable words are left as they are.
pub fn decode(s: &str) -> String {
    if !s.contains("=?") {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        match word(from) {
            Some((text, len)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &from[len..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes one encoded word at the start of `s`: its text and length.
fn word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, rest) = inner.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let payload = &rest[..end];
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    let bytes = match encoding {
        "q" | "Q" => q_decode(payload),
        "b" | "B" => base64(payload)?,
        _ => return None,
    };
    // "iso-8859-1*en" carries a language after "*".
    let charset = charset.split('*').next().unwrap_or(charset);
    Some((to_string(&bytes, charset), len))
}

fn q_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'='),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}

/// Decodes bytes in `charset`: UTF-8, ASCII, Latin-1, Latin-9 and Windows-1252.
pub fn to_string(bytes: &[u8], charset: &str) -> String {
    let cs = charset.to_ascii_lowercase();
    match cs.as_str() {
        "utf-8" | "utf8" | "us-ascii" | "ascii" => String::from_utf8_lossy(bytes).into_owned(),
        "iso-8859-15" | "latin-9" | "latin9" => bytes
            .iter()
            .map(|&b| match b {
                0xa4 => '€',
                0xa6 => 'Š',
                0xa8 => 'š',
                0xb4 => 'Ž',
                0xb8 => 'ž',
                0xbc => 'Œ',
                0xbd => 'œ',
                0xbe => 'Ÿ',
                _ => char::from(b),
            })
            .collect(),
        "windows-1252" | "cp1252" => bytes
            .iter()
            .map(|&b| match b {
                0x80 => '€',
                0x85 => '…',
                0x91 => '‘',
                0x92 => '’',
                0x93 => '“',
                0x94 => '”',
                0x96 => '–',
                0x97 => '—',
                _ => char::from(b),
            })
            .collect(),
        _ if cs.starts_with("iso-8859") || cs == "latin1" || cs == "latin-1" => {
            bytes.iter().map(|&b| char::from(b)).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_encoded_latin1_names_are_decoded() {
        assert_eq!(
            decode("=?iso-8859-1?q?Jos=E9_M=FCller?= <jose@example.de>"),
            "José Müller <jose@example.de>"
        );
    }

    #[test]
    fn adjacent_b_encoded_words_join() {
        assert_eq!(
            decode("=?utf-8?B?Sm9zw6k=?= =?utf-8?B?IE3DvGxsZXI=?="),
            "José Müller"
        );
    }

    #[test]
    fn plain_and_broken_text_is_kept() {
        assert_eq!(decode("Priya Naidoo"), "Priya Naidoo");
        assert_eq!(decode("a =?x y"), "a =?x y");
        assert_eq!(decode("=?utf-8?q?a=?="), "a=");
    }
}
