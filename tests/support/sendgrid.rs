//! Posting email the way SendGrid Inbound Parse does: raw mode (the MIME message in the
//! `email` field) or parsed mode (the message split into form fields), as multipart bodies.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::json;

/// A file part's name and content type.
type FileInfo = Option<(String, String)>;

/// A multipart/form-data body under construction.
#[derive(Debug, Default)]
pub struct Form {
    parts: Vec<(String, FileInfo, Vec<u8>)>,
}

pub const BOUNDARY: &str = "----caravan-test-boundary-7MA4YWxkTrZu0gW";

impl Form {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn text(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.parts
            .push((name.to_owned(), None, value.as_ref().to_vec()));
        self
    }

    pub fn file(mut self, name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Self {
        self.parts.push((
            name.to_owned(),
            Some((filename.to_owned(), content_type.to_owned())),
            bytes.to_vec(),
        ));
        self
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }

    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, bytes) in &self.parts {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file {
                Some((filename, ct)) => out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }
}

/// The envelope recipient a mail server delivered to: `X-Original-To`, `Delivered-To`,
/// else the first `To` address.
pub fn envelope_to(eml: &[u8]) -> String {
    let message = MessageParser::default().parse(eml).expect("a MIME message");
    for name in ["X-Original-To", "Delivered-To"] {
        if let Some(v) = message.header_raw(name) {
            return v.trim().trim_matches(['<', '>']).to_owned();
        }
    }
    message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned()
}

/// Raw mode: the whole message in `email`, plus the envelope and SendGrid's verdicts.
pub fn raw_form(eml: &[u8], envelope_to: &str) -> Form {
    let from = MessageParser::default()
        .parse(eml)
        .and_then(|m| {
            m.from()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    Form::new()
        .text("email", eml)
        .text("to", envelope_to)
        .text("from", &from)
        .text(
            "envelope",
            json!({"to": [envelope_to], "from": from}).to_string(),
        )
        .text(
            "charsets",
            r#"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8"}"#,
        )
        .text("SPF", "pass")
        .text("dkim", "{@example.net : pass}")
        .text("spam_score", "0.1")
}

/// Parsed mode: headers, bodies (UTF-8) and attachments as separate fields.
pub fn parsed_form(eml: &[u8], envelope_to: &str) -> Form {
    let message = MessageParser::default().parse(eml).expect("a MIME message");
    let header_end = eml
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| eml.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(eml.len());
    let headers = String::from_utf8_lossy(&eml[..header_end]).into_owned();
    let from = message.from().and_then(|a| a.first());
    let from = match (from.and_then(|a| a.name()), from.and_then(|a| a.address())) {
        (Some(name), Some(addr)) => format!("{name} <{addr}>"),
        (_, Some(addr)) => addr.to_owned(),
        _ => String::new(),
    };
    let to: Vec<String> = message
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let text = message
        .text_body
        .iter()
        .find_map(|&i| match &message.parts[i as usize].body {
            PartType::Text(t) => Some(t.to_string()),
            _ => None,
        });
    let html = message
        .html_body
        .iter()
        .find_map(|&i| match &message.parts[i as usize].body {
            PartType::Html(h) => Some(h.to_string()),
            _ => None,
        });
    let mut form = Form::new()
        .text("headers", &headers)
        .text("from", &from)
        .text("to", to.join(", "))
        .text("subject", message.subject().unwrap_or_default())
        .text(
            "envelope",
            json!({"to": [envelope_to], "from": from}).to_string(),
        )
        .text(
            "charsets",
            r#"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"utf-8","html":"utf-8"}"#,
        )
        .text("SPF", "pass")
        .text("spam_score", "0.1");
    if let Some(text) = text {
        form = form.text("text", text);
    }
    if let Some(html) = html {
        form = form.text("html", html);
    }
    let attachments: Vec<_> = message.attachments().collect();
    let mut info = serde_json::Map::new();
    for (i, part) in attachments.iter().enumerate() {
        let name = format!("attachment{}", i + 1);
        let filename = part.attachment_name().unwrap_or("attachment").to_owned();
        let ct = part
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        info.insert(
            name.clone(),
            json!({"filename": filename, "name": filename, "type": ct}),
        );
        form = form.file(&name, &filename, &ct, part.contents());
    }
    form.text("attachments", attachments.len().to_string())
        .text(
            "attachment-info",
            serde_json::Value::Object(info).to_string(),
        )
}
