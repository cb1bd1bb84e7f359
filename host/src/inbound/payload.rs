//! Decoding what SendGrid Inbound Parse posts into one [`ReceivedEmail`], whichever mode it
//! used: the parsed form (`from`, `to`, `subject`, `text`, `html`, `headers`, `envelope`,
//! `charsets`, `attachmentN`, …) or raw MIME (the whole message in the `email` field).
//!
//! Every text comes out as UTF-8: form fields are decoded with the charset SendGrid names for
//! them in `charsets`, MIME parts with their own `charset` parameter. A charset nobody knows
//! is read as UTF-8 with replacement characters and noted in `warnings`, so the message is
//! still kept and processed rather than refused.

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Bytes;
use mail_parser::{Address, MessageParser};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mime;

/// Why a webhook body could not be read as an email.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The body is not a complete `multipart/form-data` (or urlencoded) form.
    #[error("the form data could not be read: {0}")]
    Malformed(String),
    /// Neither mode's fields are present.
    #[error(
        "the form has neither an `email` field (raw MIME) nor `from`/`to`/`text`/`html` fields"
    )]
    NoEmail,
    /// The `email` field holds no MIME message.
    #[error("the `email` field is not a MIME message")]
    NotMime,
}

/// Metadata of one attachment; the content is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// An email as received, decoded, independent of how it was posted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceivedEmail {
    /// `raw` or `parsed`: which SendGrid mode delivered it.
    pub mode: String,
    /// The SMTP envelope sender.
    pub envelope_from: Option<String>,
    /// The SMTP envelope recipients, lower-cased; empty when the post had no envelope.
    pub envelope_to: Vec<String>,
    /// The `From` display name, encoded words decoded.
    pub from_name: Option<String>,
    /// The `From` address, lower-cased.
    pub from_address: Option<String>,
    /// `To` header addresses, lower-cased.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// The `Date` header as RFC 3339, when it parsed.
    pub sent_at: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Every header as written (unfolded), in message order.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<AttachmentMeta>,
    /// SendGrid's verdicts, kept for the record.
    pub spam_score: Option<String>,
    pub spf: Option<String>,
    pub dkim: Option<String>,
    /// Things that went wrong while decoding without losing the message (an unknown
    /// charset, an envelope that is not JSON).
    pub warnings: Vec<String>,
}

impl ReceivedEmail {
    /// `Name <address>` (or whichever of the two is known), as the `From` header reads.
    pub fn sender(&self) -> String {
        match (&self.from_name, &self.from_address) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (None, Some(addr)) => addr.clone(),
            (Some(name), None) => name.clone(),
            (None, None) => String::new(),
        }
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The idempotency key: the Message-ID, or a SHA-256 of the sender, recipients, subject
    /// and text when the message has none.
    pub fn dedup_key(&self) -> String {
        if let Some(id) = &self.message_id {
            return format!("mid:{id}");
        }
        let mut hash = Sha256::new();
        for part in [
            self.from_address.as_deref().unwrap_or_default(),
            &self.to.join(","),
            &self.subject,
            self.text.as_deref().unwrap_or_default(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        format!("sha256:{}", hex::encode(hash.finalize()))
    }

    /// The body a person reads: the text part, else the HTML turned into text.
    pub fn readable_body(&self) -> String {
        match (&self.text, &self.html) {
            (Some(text), _) if !text.trim().is_empty() => text.clone(),
            (_, Some(html)) => html_to_text(html),
            _ => String::new(),
        }
    }
}

/// One field of the posted form.
#[derive(Debug)]
struct Field {
    bytes: Bytes,
    filename: Option<String>,
    content_type: Option<String>,
}

/// Reads the posted form (multipart or urlencoded) into its fields.
async fn read_form(
    content_type: &str,
    body: Bytes,
) -> Result<HashMap<String, Field>, PayloadError> {
    let mut fields = HashMap::new();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/x-www-form-urlencoded" {
        for (name, value) in form_urlencoded::parse(&body) {
            fields.insert(
                name.into_owned(),
                Field {
                    bytes: Bytes::from(value.into_owned()),
                    filename: None,
                    content_type: None,
                },
            );
        }
        return Ok(fields);
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        PayloadError::Malformed(
            "expected multipart/form-data with a boundary, as SendGrid posts".to_owned(),
        )
    })?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(PayloadError::Malformed(e.to_string())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(ToString::to_string);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| PayloadError::Malformed(e.to_string()))?;
        fields.insert(
            name,
            Field {
                bytes,
                filename,
                content_type,
            },
        );
    }
    Ok(fields)
}

/// Decodes a SendGrid Inbound Parse post.
pub async fn decode(content_type: &str, body: Bytes) -> Result<ReceivedEmail, PayloadError> {
    let fields = read_form(content_type, body).await?;
    let mut warnings = Vec::new();
    let charsets: HashMap<String, String> = match fields.get("charsets") {
        Some(f) => serde_json::from_slice(&f.bytes).unwrap_or_else(|_| {
            warnings.push("the `charsets` field is not a JSON object; read as UTF-8".to_owned());
            HashMap::new()
        }),
        None => HashMap::new(),
    };
    let text_of = |name: &str, warnings: &mut Vec<String>| -> Option<String> {
        let field = fields.get(name)?;
        Some(decode_text(
            &field.bytes,
            charsets.get(name).map(String::as_str),
            name,
            warnings,
        ))
    };
    let mut email = if let Some(raw) = fields.get("email") {
        let mut email = decode_mime(&raw.bytes)?;
        email.mode = "raw".to_owned();
        email
    } else {
        if !["from", "to", "text", "html", "subject", "headers"]
            .iter()
            .any(|f| fields.contains_key(*f))
        {
            return Err(PayloadError::NoEmail);
        }
        let mut email = match text_of("headers", &mut warnings) {
            Some(block) => decode_header_block(&block),
            None => ReceivedEmail::default(),
        };
        email.mode = "parsed".to_owned();
        if let Some(from) = text_of("from", &mut warnings) {
            let (name, address) = split_mailbox(&from);
            email.from_name = name.or(email.from_name);
            email.from_address = address.or(email.from_address);
        }
        if let Some(to) = text_of("to", &mut warnings) {
            email.to = address_list(&to);
        }
        if let Some(cc) = text_of("cc", &mut warnings) {
            email.cc = address_list(&cc);
        }
        if let Some(subject) = text_of("subject", &mut warnings) {
            email.subject = subject;
        }
        email.text = text_of("text", &mut warnings).filter(|t| !t.is_empty());
        email.html = text_of("html", &mut warnings).filter(|t| !t.is_empty());
        email.attachments = form_attachments(&fields);
        email
    };
    if let Some(envelope) = text_of("envelope", &mut warnings) {
        match serde_json::from_str::<Envelope>(&envelope) {
            Ok(envelope) => {
                email.envelope_to = envelope
                    .to
                    .iter()
                    .filter_map(|a| split_mailbox(a).1)
                    .collect();
                email.envelope_from = envelope.from.or(email.envelope_from);
            }
            Err(e) => warnings.push(format!("the `envelope` field is not valid JSON: {e}")),
        }
    }
    email.spam_score = text_of("spam_score", &mut warnings);
    email.spf = text_of("SPF", &mut warnings);
    email.dkim = text_of("dkim", &mut warnings);
    email.warnings.extend(warnings);
    Ok(email)
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    from: Option<String>,
}

/// Decodes bytes in the named charset; unknown or missing charsets read as UTF-8.
fn decode_text(
    bytes: &[u8],
    charset: Option<&str>,
    field: &str,
    warnings: &mut Vec<String>,
) -> String {
    let encoding = match charset {
        Some(label) => match encoding_rs::Encoding::for_label(label.trim().as_bytes()) {
            Some(encoding) => encoding,
            None => {
                warnings.push(format!(
                    "unknown charset `{label}` for `{field}`; read as UTF-8"
                ));
                encoding_rs::UTF_8
            }
        },
        None => encoding_rs::UTF_8,
    };
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// The attachments of a parsed-mode post: `attachment-info` names them, and each
/// `attachmentN` file gives its size.
fn form_attachments(fields: &HashMap<String, Field>) -> Vec<AttachmentMeta> {
    #[derive(Deserialize)]
    struct Info {
        #[serde(default)]
        filename: Option<String>,
        #[serde(default, rename = "type")]
        content_type: Option<String>,
    }
    let info: HashMap<String, Info> = fields
        .get("attachment-info")
        .and_then(|f| serde_json::from_slice(&f.bytes).ok())
        .unwrap_or_default();
    let mut numbered: Vec<(u32, &String, &Field)> = fields
        .iter()
        .filter_map(|(name, field)| {
            let n = name.strip_prefix("attachment")?.parse::<u32>().ok()?;
            Some((n, name, field))
        })
        .collect();
    numbered.sort_by_key(|(n, _, _)| *n);
    numbered
        .into_iter()
        .map(|(_, name, field)| {
            let info = info.get(name);
            AttachmentMeta {
                filename: info
                    .and_then(|i| i.filename.clone())
                    .or_else(|| field.filename.clone())
                    .unwrap_or_else(|| name.clone()),
                content_type: info
                    .and_then(|i| i.content_type.clone())
                    .or_else(|| field.content_type.clone())
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
                size: field.bytes.len() as u64,
            }
        })
        .collect()
}

/// Decodes a whole MIME message.
pub fn decode_mime(raw: &[u8]) -> Result<ReceivedEmail, PayloadError> {
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(PayloadError::NotMime)?;
    let headers = message
        .headers()
        .iter()
        .map(|h| {
            (
                h.name.as_str().to_owned(),
                unfold(raw, h.offset_start, h.offset_end),
            )
        })
        .collect();
    let from = message.from().and_then(|a| a.first());
    let text = mime::text_body(&message);
    let html = mime::html_body(&message);
    let attachments = message
        .attachments()
        .map(|p| AttachmentMeta {
            filename: mime::attachment_name(p).to_owned(),
            content_type: mime::content_type(p),
            size: p.body.len() as u64,
        })
        .collect();
    let mut email = ReceivedEmail {
        from_name: from
            .and_then(|a| a.name())
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        from_address: from
            .and_then(|a| a.address())
            .map(|a| a.trim().to_ascii_lowercase()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        message_id: message.message_id().map(clean_message_id),
        sent_at: message.date().map(|d| d.to_rfc3339()),
        text,
        html,
        headers,
        attachments,
        ..ReceivedEmail::default()
    };
    // With no envelope, the delivering server's headers say where the message was sent.
    if let Some(to) = email
        .header("X-Original-To")
        .or_else(|| email.header("Delivered-To"))
        .and_then(|v| split_mailbox(v).1)
    {
        email.envelope_to = vec![to];
    }
    email.envelope_from = email.header("Return-Path").and_then(|v| split_mailbox(v).1);
    Ok(email)
}

/// Reads the `headers` field of a parsed-mode post (the raw header block).
fn decode_header_block(block: &str) -> ReceivedEmail {
    let mut raw = block.trim_end().replace("\r\n", "\n").replace('\n', "\r\n");
    raw.push_str("\r\n\r\n");
    let mut email = decode_mime(raw.as_bytes()).unwrap_or_default();
    // The header block has no body; any "envelope" read from it is replaced below when the
    // post carries its own.
    email.text = None;
    email.html = None;
    email.attachments.clear();
    email
}

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(|s| s.trim().to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default()
}

/// A header's value as written, unfolded and trimmed.
fn unfold(raw: &[u8], start: u32, end: u32) -> String {
    let bytes = raw.get(start as usize..end as usize).unwrap_or_default();
    let text: Cow<'_, str> = String::from_utf8_lossy(bytes);
    text.replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ")
        .trim()
        .to_owned()
}

fn clean_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// Splits `Name <addr>` (or a bare address) into its display name and lower-cased address.
pub fn split_mailbox(value: &str) -> (Option<String>, Option<String>) {
    let value = value.trim();
    if let (Some(open), Some(close)) = (value.rfind('<'), value.rfind('>'))
        && open < close
    {
        let name = value[..open].trim().trim_matches('"').trim();
        let address = value[open + 1..close].trim().to_ascii_lowercase();
        return (
            (!name.is_empty()).then(|| name.to_owned()),
            address.contains('@').then_some(address),
        );
    }
    let address = value
        .trim_matches(|c| c == '<' || c == '>')
        .to_ascii_lowercase();
    (None, address.contains('@').then_some(address))
}

/// Addresses of a header value with several mailboxes (`A <a@x>, "B, C" <b@y>`).
fn address_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut angle = false;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' => angle = true,
            '>' => angle = false,
            ',' if !quoted && !angle => {
                out.extend(split_mailbox(&current).1);
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.extend(split_mailbox(&current).1);
    out
}

/// A plain-text reading of HTML: tags dropped, block ends as line breaks, common entities
/// decoded. Enough for a ticket's message, not a renderer.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_owned();
        rest = &rest[open + close + 1..];
        if name == "style" || name == "script" {
            if !tag.starts_with('/') {
                let end = format!("</{name}");
                match rest.to_ascii_lowercase().find(&end) {
                    Some(at) => rest = &rest[at..],
                    None => rest = "",
                }
            }
            continue;
        }
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "table"
        ) {
            out.push('\n');
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    let mut text = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() {
            blank = !text.is_empty();
            continue;
        }
        if blank {
            text.push('\n');
            blank = false;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multipart(fields: &[(&str, &[u8])]) -> (String, Bytes) {
        let boundary = "xYzZY";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (
            format!("multipart/form-data; boundary={boundary}"),
            Bytes::from(body),
        )
    }

    #[tokio::test]
    async fn parsed_mode_fields_are_decoded_with_their_charsets() {
        let (ct, body) = multipart(&[
            ("from", b"Ren\xe9e Dubois <Renee@Example.org>"),
            ("to", b"Sunbird <sunbird@inbound.test>, other@x.test"),
            ("subject", b"Caf\xe9 in Zanzibar"),
            ("text", b"Hello"),
            (
                "charsets",
                br#"{"from":"iso-8859-1","subject":"iso-8859-1","text":"utf-8"}"#,
            ),
            (
                "envelope",
                br#"{"to":["Quotes+Sunbird@inbound.test"],"from":"bounce@example.org"}"#,
            ),
            (
                "headers",
                b"Message-ID: <abc@example.org>\r\nDate: Wed, 10 Feb 2027 09:15:00 +0200\r\n",
            ),
        ]);
        let email = decode(&ct, body).await.unwrap();
        assert_eq!(email.mode, "parsed");
        assert_eq!(email.from_name.as_deref(), Some("Renée Dubois"));
        assert_eq!(email.from_address.as_deref(), Some("renee@example.org"));
        assert_eq!(email.subject, "Café in Zanzibar");
        assert_eq!(email.to, vec!["sunbird@inbound.test", "other@x.test"]);
        assert_eq!(email.envelope_to, vec!["quotes+sunbird@inbound.test"]);
        assert_eq!(email.message_id.as_deref(), Some("abc@example.org"));
        assert_eq!(email.sent_at.as_deref(), Some("2027-02-10T09:15:00+02:00"));
        assert!(email.warnings.is_empty(), "{:?}", email.warnings);
    }

    #[tokio::test]
    async fn an_unknown_charset_is_read_as_utf8_and_noted() {
        let (ct, body) = multipart(&[
            ("from", b"a@b.test"),
            ("text", "Grüße".as_bytes()),
            ("charsets", br#"{"text":"x-klingon-9"}"#),
        ]);
        let email = decode(&ct, body).await.unwrap();
        assert_eq!(email.text.as_deref(), Some("Grüße"));
        assert!(email.warnings[0].contains("x-klingon-9"));
    }

    #[tokio::test]
    async fn a_cut_off_form_is_malformed() {
        let (ct, body) = multipart(&[("from", b"a@b.test"), ("text", b"hello")]);
        let cut = body.slice(..body.len() - 12);
        assert!(matches!(
            decode(&ct, cut).await,
            Err(PayloadError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn raw_mode_decodes_the_mime_message() {
        let raw = b"From: =?utf-8?q?Zo=C3=AB?= <zoe@example.net>\r\nTo: sunbird@inbound.test\r\n\
Subject: Trip\r\nMessage-ID: <m1@example.net>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\nCh\xe2teau please\r\n";
        let (ct, body) = multipart(&[("email", raw)]);
        let email = decode(&ct, body).await.unwrap();
        assert_eq!(email.mode, "raw");
        assert_eq!(email.from_name.as_deref(), Some("Zoë"));
        assert_eq!(email.text.as_deref().map(str::trim), Some("Château please"));
        assert_eq!(email.dedup_key(), "mid:m1@example.net");
    }

    #[tokio::test]
    async fn a_form_without_email_fields_is_refused() {
        let (ct, body) = multipart(&[("hello", b"world")]);
        assert!(matches!(
            decode(&ct, body).await,
            Err(PayloadError::NoEmail)
        ));
    }

    #[test]
    fn html_becomes_readable_text() {
        let text = html_to_text(
            "<html><style>p{}</style><body><p>Hi&nbsp;there</p><p>2 adults<br>Kruger</p></body></html>",
        );
        assert_eq!(text, "Hi there\n\n2 adults\nKruger");
    }

    #[test]
    fn without_a_message_id_the_key_hashes_the_content() {
        let a = ReceivedEmail {
            subject: "x".into(),
            ..ReceivedEmail::default()
        };
        let mut b = a.clone();
        assert_eq!(a.dedup_key(), b.dedup_key());
        b.text = Some("different".into());
        assert_ne!(a.dedup_key(), b.dedup_key());
    }
}
