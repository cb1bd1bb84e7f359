//! The readable parts of a parsed MIME message, read the same way for inbound email and for
//! the outbox's stored copies.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// The first `text/plain` body, as decoded.
pub fn text_body(message: &Message<'_>) -> Option<String> {
    message
        .text_body
        .iter()
        .find_map(|&i| match &message.parts.get(i as usize)?.body {
            PartType::Text(t) => Some(t.to_string()),
            _ => None,
        })
}

/// The first `text/html` body, as decoded (never text converted to HTML).
pub fn html_body(message: &Message<'_>) -> Option<String> {
    message
        .html_body
        .iter()
        .find_map(|&i| match &message.parts.get(i as usize)?.body {
            PartType::Html(h) => Some(h.to_string()),
            _ => None,
        })
}

/// An attachment's file name, `attachment` when it has none.
pub fn attachment_name<'a>(part: &'a MessagePart<'_>) -> &'a str {
    part.attachment_name().unwrap_or("attachment")
}

/// A part's `type/subtype`, `application/octet-stream` when it declares none.
pub fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type().map_or_else(
        || "application/octet-stream".to_owned(),
        |c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")),
    )
}
