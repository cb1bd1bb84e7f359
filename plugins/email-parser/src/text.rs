//! The body as text: picks the plain or HTML part, normalises typography, and drops
//! quoted replies ("On … wrote:", `>` lines, Outlook reply headers).

use caravan_sdk::InboundEmail;

use crate::html;

/// The most text analysed per email. Enquiries are short; this bounds the work for a long
/// newsletter or thread whatever the host's size limit is.
pub const MAX_TEXT: usize = 8 * 1024;

/// The most HTML converted per email.
const MAX_HTML: usize = 128 * 1024;

/// The body as normalised text: the plain part, or the HTML part converted when there is
/// no plain part worth reading.
pub fn body(email: &InboundEmail) -> String {
    let plain = email.text.as_deref().filter(|t| !t.trim().is_empty());
    match (plain, email.html.as_deref()) {
        (Some(t), _) => normalise(truncate(t, MAX_TEXT)),
        (None, Some(h)) => normalise(&html::to_text(truncate(h, MAX_HTML), MAX_TEXT)),
        (None, None) => String::new(),
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Line breaks as `\n`, dashes as `-`, odd spaces as ` `, curly quotes straight, and
/// invisible characters removed, so that the extractors see one spelling of each.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Plain ASCII other than CR and tab is copied in runs.
        if b.is_ascii() && b != b'\r' && b != b'\t' {
            i += 1;
            continue;
        }
        out.push_str(&s[run..i]);
        let c = s[i..].chars().next().unwrap_or(' ');
        i += c.len_utf8();
        match c {
            '\r' => {
                out.push('\n');
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{ff0d}' => {
                out.push('-');
            }
            '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\t' => {
                out.push(' ');
            }
            '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => {}
            '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{2032}' => out.push('\''),
            '\u{201c}' | '\u{201d}' | '\u{2033}' => out.push('"'),
            '\u{2026}' => out.push_str("..."),
            _ => out.push(c),
        }
        run = i;
    }
    out.push_str(&s[run..]);
    out
}

/// Whether `s` starts with `prefix` (ASCII), ignoring ASCII case.
pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Whether `line` (trimmed) opens a quoted reply, looking at the next line too because
/// "On …, Name <address> wrote:" is often wrapped.
fn reply_header(line: &str, next: Option<&str>) -> bool {
    let l = line.trim();
    let lower_starts = |p: &str| {
        l.len() >= p.len() && l.is_char_boundary(p.len()) && l[..p.len()].eq_ignore_ascii_case(p)
    };
    let ends_wrote = |s: &str| {
        let s = s.trim_end();
        s.ends_with("wrote:")
            || s.ends_with("schrieb:")
            || s.ends_with("a écrit :")
            || s.ends_with("a écrit:")
    };
    if lower_starts("-----original message") || lower_starts("----- original message") {
        return true;
    }
    if (lower_starts("on ") || lower_starts("am ") || lower_starts("le ")) && l.len() < 300 {
        return ends_wrote(l) || next.is_some_and(|n| n.len() < 200 && ends_wrote(n));
    }
    false
}

/// Whether lines from `i` form an Outlook header block ("From: …" then "Sent: …").
pub fn header_block_at(lines: &[&str], i: usize) -> bool {
    let is = |k: Option<&str>, names: &[&str]| {
        k.is_some_and(|k| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
    };
    if !is(header_key(lines[i]), &["from"]) {
        return false;
    }
    let following = || lines[i + 1..].iter().take(4).map(|l| header_key(l));
    following().any(|k| is(k, &["sent", "date"])) && following().any(|k| is(k, &["to", "subject"]))
}

/// The key of a "Key: value" header line (`From`, `Sent`, …), ignoring `>` and `*`.
pub fn header_key(line: &str) -> Option<&str> {
    let l = line.trim_start_matches(['>', ' ', '*']);
    // Keys are short: look for the colon near the start only.
    let colon = l.bytes().take(14).position(|b| b == b':')?;
    let key = l[..colon].trim_end_matches('*').trim();
    const KEYS: &[&str] = &[
        "from", "sent", "date", "to", "cc", "subject", "reply-to", "bcc", "von", "an", "betreff",
        "gesendet", "de", "envoyé", "objet", "à",
    ];
    KEYS.iter()
        .any(|k| k.eq_ignore_ascii_case(key))
        .then_some(key)
}

/// `text` without quoted replies: `>` lines are dropped, and everything from a reply
/// header ("On … wrote:", "-----Original Message-----", an Outlook "From:/Sent:" block)
/// on is cut. Phone-app footers ("Sent from my iPhone") are dropped too.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let first = trimmed
            .as_bytes()
            .first()
            .map_or(b' ', u8::to_ascii_lowercase);
        if first == b'>' {
            continue;
        }
        // Every reply header, rule and footer starts with one of these letters; other lines
        // skip the checks.
        if !matches!(
            first,
            b'o' | b'a' | b'l' | b'-' | b'f' | b'v' | b'd' | b'*' | b'_' | b's' | b'g'
        ) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if reply_header(line, lines.get(i + 1).copied()) || header_block_at(&lines, i) {
            break;
        }
        if is_underscore_rule(trimmed) && lines.get(i + 1).is_some_and(|n| header_key(n).is_some())
        {
            break;
        }
        if starts_with_ci(trimmed, "sent from my ") || starts_with_ci(trimmed, "get outlook for ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// A line of underscores, as Outlook puts above a quoted message.
pub fn is_underscore_rule(line: &str) -> bool {
    let l = line.trim();
    l.len() >= 10 && l.bytes().all(|b| b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typography_is_normalised() {
        assert_eq!(
            normalise("12–19 March\r\nR\u{a0}60 000 – we\u{2019}d\u{200b}"),
            "12-19 March\nR 60 000 - we'd"
        );
    }

    #[test]
    fn quoted_replies_are_cut() {
        let text = "Yes, Zanzibar please.\n\nOn Fri, 20 Nov 2026 at 09:14, Sunbird <quotes@sunbird.example>\nwrote:\n> How about Mauritius?\n> Regards";
        assert_eq!(strip_quoted(text), "Yes, Zanzibar please.");
    }

    #[test]
    fn outlook_reply_headers_are_cut() {
        let text = "Sounds good.\n\nFrom: Sunbird Safaris <quotes@sunbird.example>\nSent: Friday, 20 November 2026 09:14\nTo: Priya\nSubject: RE: Zanzibar\n\nOld text";
        assert_eq!(strip_quoted(text), "Sounds good.");
        let text = "Ok\n-----Original Message-----\nFrom: X";
        assert_eq!(strip_quoted(text), "Ok");
    }

    #[test]
    fn inline_quote_marks_and_phone_footers_are_dropped() {
        let text = "> old line\nNew line\nSent from my iPhone";
        assert_eq!(strip_quoted(text), "New line");
    }

    #[test]
    fn a_sentence_starting_with_on_is_kept() {
        let text = "On the 3rd we fly in.\nThanks";
        assert_eq!(strip_quoted(text), text);
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("né", 2), "n");
    }
}
