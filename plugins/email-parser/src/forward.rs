//! Forwarded messages: when a consultant forwards a customer's email, the customer is the
//! original sender and the trip is in the original text, not in the forwarding note.

use crate::text::{header_block_at, header_key, is_underscore_rule, starts_with_ci};

/// A forwarded message found in a body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forwarded {
    /// What the forwarder wrote above the forwarded message.
    pub note: String,
    /// The original `From:` value, e.g. `Sam Okafor <sam@example.com>`.
    pub from: Option<String>,
    /// The original `Date:` or `Sent:` value.
    pub date: Option<String>,
    /// The original `Subject:` value.
    pub subject: Option<String>,
    /// The original message's text.
    pub body: String,
}

/// Whether a subject says the message is a forward ("Fwd:", "FW:", "WG:").
pub fn subject_is_forward(subject: &str) -> bool {
    let s = subject.trim_start().to_ascii_lowercase();
    ["fwd:", "fw:", "fwd :", "fw :", "wg:", "tr:", "[fwd"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// Removes "Re:", "Fwd:" and similar prefixes from a subject.
pub fn clean_subject(subject: &str) -> &str {
    let mut s = subject.trim();
    loop {
        let lower = s.get(..5).unwrap_or(s).to_ascii_lowercase();
        let cut = ["re:", "fwd:", "fw:", "aw:", "wg:", "tr:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => return s,
        }
    }
}

/// The line on which a forwarded message starts, if any, and whether that line is itself
/// part of the header block (Outlook) rather than a marker above it.
fn marker(lines: &[&str], subject_forward: bool) -> Option<(usize, bool)> {
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim_start_matches(['>', ' ', '*']).trim();
        // Every marker starts with one of these; other lines cost one comparison.
        let Some(first) = l.bytes().next() else {
            continue;
        };
        if first == b'-' {
            let lower = l.to_ascii_lowercase();
            if lower.contains("forwarded message") || lower.contains("weitergeleitete nachricht") {
                return Some((i, false));
            }
            if subject_forward
                && (lower.starts_with("-----original message")
                    || lower.starts_with("----- original message"))
            {
                return Some((i, false));
            }
        }
        if starts_with_ci(l, "begin forwarded message") || starts_with_ci(l, "forwarded message:") {
            return Some((i, false));
        }
        if subject_forward {
            if first == b'_'
                && is_underscore_rule(l)
                && lines.get(i + 1).is_some_and(|n| header_key(n).is_some())
            {
                return Some((i, false));
            }
            if matches!(first, b'f' | b'F') && header_block_at(lines, i) {
                return Some((i, true));
            }
        }
    }
    None
}

/// Splits `text` at a forwarded message. `subject_forward` (the subject starts "Fwd:")
/// lets a bare Outlook header block count as a forward rather than a quoted reply.
pub fn split(text: &str, subject_forward: bool) -> Option<Forwarded> {
    let lines: Vec<&str> = text.split('\n').collect();
    let (at, is_header) = marker(&lines, subject_forward)?;
    let mut fwd = Forwarded {
        note: lines[..at].join("\n").trim().to_owned(),
        ..Forwarded::default()
    };
    let mut i = if is_header { at } else { at + 1 };
    // Apple Mail leaves empty lines between the marker and the headers.
    while i < lines.len() && lines[i].trim_start_matches(['>', ' ']).is_empty() {
        i += 1;
    }
    let mut seen_header = false;
    while i < lines.len() {
        let line = lines[i];
        let Some(key) = header_key(line) else {
            let unquoted = line.trim_start_matches('>');
            let unquoted = if line.starts_with('>') {
                unquoted.strip_prefix(' ').unwrap_or(unquoted)
            } else {
                unquoted
            };
            let continued = unquoted.starts_with([' ', '\t']) && !unquoted.trim().is_empty()
                || line.contains('@') && !line.contains(' ');
            if seen_header && continued {
                // A wrapped header value (a long To: list); values end at an empty line.
                i += 1;
                continue;
            }
            break;
        };
        seen_header = true;
        let value = line
            .trim_start_matches(['>', ' ', '*'])
            .split_once(':')
            .map(|(_, v)| v.trim_start_matches('*').trim().to_owned())
            .unwrap_or_default();
        match key.to_ascii_lowercase().as_str() {
            "from" | "von" | "de" => fwd.from = Some(value),
            "date" | "sent" | "gesendet" | "envoyé" => fwd.date = Some(value),
            "subject" | "betreff" | "objet" => fwd.subject = Some(value),
            _ => {}
        }
        i += 1;
    }
    let rest = &lines[i.min(lines.len())..];
    // Apple Mail and some HTML mail quote the whole forwarded message: unquote one level.
    let quoted = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .all(|l| l.trim_start().starts_with('>'));
    let body: Vec<&str> = if quoted {
        rest.iter()
            .map(|l| {
                let t = l.trim_start();
                t.strip_prefix("> ")
                    .or_else(|| t.strip_prefix('>'))
                    .unwrap_or(t)
            })
            .collect()
    } else {
        rest.to_vec()
    };
    fwd.body = body.join("\n").trim().to_owned();
    Some(fwd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_forwards_give_the_original_sender_and_body() {
        let text = "Please quote this one.\n\n---------- Forwarded message ---------\nFrom: Sam Okafor <sam.okafor@example.com>\nDate: Thu, 26 Nov 2026 at 19:02\nSubject: Victoria Falls\nTo: <info@sunbird.example>\n\nHi, my wife and I want to see Victoria Falls.\nSam Okafor";
        let f = split(text, true).unwrap();
        assert_eq!(f.note, "Please quote this one.");
        assert_eq!(
            f.from.as_deref(),
            Some("Sam Okafor <sam.okafor@example.com>")
        );
        assert_eq!(f.subject.as_deref(), Some("Victoria Falls"));
        assert_eq!(
            f.body,
            "Hi, my wife and I want to see Victoria Falls.\nSam Okafor"
        );
    }

    #[test]
    fn apple_mail_forwards_are_unquoted() {
        let text = "FYI\n\nBegin forwarded message:\n\n> From: Ann Lee <ann@example.com>\n> Subject: Mauritius\n> Date: 1 December 2026\n>\n> Two adults, 5 nights.";
        let f = split(text, false).unwrap();
        assert_eq!(f.from.as_deref(), Some("Ann Lee <ann@example.com>"));
        assert_eq!(f.body, "Two adults, 5 nights.");
    }

    #[test]
    fn outlook_forwards_need_a_forward_subject() {
        let text = "Can you help?\n\n________________________________\nFrom: Ann Lee <ann@example.com>\nSent: Tuesday, December 1, 2026 10:00 AM\nTo: Desk\nSubject: Zanzibar\n\nHello, Zanzibar for 2.";
        let f = split(text, true).unwrap();
        assert_eq!(f.from.as_deref(), Some("Ann Lee <ann@example.com>"));
        assert_eq!(f.body, "Hello, Zanzibar for 2.");
        let bare = "Hi\n\nFrom: Ann Lee <ann@example.com>\nSent: Tuesday\nTo: Desk\nSubject: Zanzibar\n\nHello";
        assert_eq!(split(bare, true).unwrap().note, "Hi");
        assert!(split(bare, false).is_none());
    }

    #[test]
    fn subjects_lose_reply_and_forward_prefixes() {
        assert!(subject_is_forward("Fwd: Victoria Falls"));
        assert!(!subject_is_forward("Re: Victoria Falls"));
        assert_eq!(clean_subject("RE: Fwd: Victoria Falls"), "Victoria Falls");
    }
}
