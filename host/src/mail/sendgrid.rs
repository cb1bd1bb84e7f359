//! The SendGrid transport: one `POST /v3/mail/send` per email, JSON with base64 attachments.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use lettre::message::Mailbox;
use serde_json::{Value, json};

use super::retry::{DeliveryError, http_status_retry, parse_retry_after};
use super::{Delivered, MailError, Outgoing, Transport};
use crate::config::Secret;

/// Longest error body kept in `last_error`.
const ERROR_BODY_LIMIT: usize = 500;

/// Sends through the SendGrid v3 Mail Send API.
pub struct SendGrid {
    client: reqwest::Client,
    endpoint: String,
    api_key: Secret,
}

impl std::fmt::Debug for SendGrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGrid")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl SendGrid {
    /// A client for the API at `base_url` (`https://api.sendgrid.com`); each request may
    /// take at most `timeout`.
    pub fn new(base_url: &str, api_key: Secret, timeout: Duration) -> Result<Self, MailError> {
        // reqwest's rustls needs a process-wide crypto provider; aws-lc-rs is the one the
        // rest of the tree (sqlx, lettre) already uses. Installing twice is harmless.
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| MailError::Config(format!("SendGrid client: {e}")))?;
        Ok(Self {
            client,
            endpoint: format!("{}/v3/mail/send", base_url.trim_end_matches('/')),
            api_key,
        })
    }
}

#[async_trait]
impl Transport for SendGrid {
    fn name(&self) -> &'static str {
        "sendgrid"
    }

    async fn deliver(&self, email: &Outgoing<'_>) -> Result<Delivered, DeliveryError> {
        let response = self
            .client
            .post(&self.endpoint)
            .bearer_auth(self.api_key.expose())
            .json(&request_body(email))
            .send()
            .await
            .map_err(|e| request_error(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::ACCEPTED {
            let id = response
                .headers()
                .get("x-message-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Ok(Delivered {
                provider_message_id: id,
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let body = response.text().await.unwrap_or_default();
        let mut message = format!("SendGrid answered {status}");
        let details = error_messages(&body);
        if !details.is_empty() {
            message.push_str(": ");
            message.push_str(&details);
        }
        if let Some(after) = retry_after {
            message.push_str(&format!(" (retry after {} s)", after.as_secs()));
        }
        if status.is_success() {
            // 200 is sandbox mode: valid but never delivered, which Caravan does not ask
            // for; saying `sent` would be untrue.
            return Err(DeliveryError::permanent(format!(
                "{message}; the message was not queued for delivery"
            )));
        }
        Err(DeliveryError {
            retry: http_status_retry(status.as_u16(), retry_after),
            message,
        })
    }
}

/// The Mail Send request for one email: one personalization with its recipient, the
/// plain-text part before the HTML one (the order SendGrid requires), attachments in
/// base64, and the outbox id in `custom_args` so that event webhooks can be matched back.
pub fn request_body(email: &Outgoing<'_>) -> Value {
    let message = email.message;
    let mut content = vec![json!({"type": "text/plain", "value": message.text})];
    if let Some(html) = &message.html {
        content.push(json!({"type": "text/html", "value": html}));
    }
    let mut body = json!({
        "personalizations": [{"to": [address(email.to)]}],
        "from": address(email.from),
        "subject": message.subject,
        "content": content,
        "custom_args": {"caravan_email_id": email.id, "caravan_tenant_id": message.tenant_id},
    });
    if let Some(reply_to) = email.reply_to {
        body["reply_to"] = address(reply_to);
    }
    if !message.attachments.is_empty() {
        body["attachments"] = message
            .attachments
            .iter()
            .map(|a| {
                json!({
                    "content": base64::engine::general_purpose::STANDARD.encode(&a.bytes),
                    "type": a.content_type,
                    "filename": a.filename,
                    "disposition": "attachment",
                })
            })
            .collect();
    }
    body
}

fn address(mailbox: &Mailbox) -> Value {
    match &mailbox.name {
        Some(name) if !name.is_empty() => json!({"email": mailbox.email.to_string(), "name": name}),
        _ => json!({"email": mailbox.email.to_string()}),
    }
}

/// The `errors[].message` texts of a SendGrid error body, or the start of the body when it
/// is not the documented JSON.
fn error_messages(body: &str) -> String {
    let parsed = serde_json::from_str::<Value>(body).ok();
    let messages: Vec<&str> = parsed
        .as_ref()
        .and_then(|v| v["errors"].as_array())
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let text = if messages.is_empty() {
        body.trim().to_owned()
    } else {
        messages.join("; ")
    };
    text.chars().take(ERROR_BODY_LIMIT).collect()
}

/// A request that got no HTTP answer: a timeout or connection failure may pass; a request
/// that could not even be built will not.
fn request_error(err: &reqwest::Error) -> DeliveryError {
    let message = format!("SendGrid request failed: {}", error_chain(err));
    if err.is_builder() {
        DeliveryError::permanent(message)
    } else {
        DeliveryError::transient(message)
    }
}

/// reqwest's top-level message is terse ("error sending request"); the causes say why.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{Attachment, EmailKind, Message};

    #[test]
    fn the_request_body_has_the_shape_sendgrid_documents() {
        let message = Message {
            tenant_id: "sunbird".into(),
            kind: EmailKind::Invitation,
            to: "guest@example.com".into(),
            from_name: "Sunbird Travel".into(),
            from_address: None,
            reply_to: Some("help@sunbird.example".into()),
            subject: "Your quote".into(),
            text: "Hello".into(),
            html: Some("<p>Hello</p>".into()),
            attachments: vec![Attachment {
                filename: "quote.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.7".to_vec(),
            }],
            idempotency_key: None,
        };
        let from: Mailbox = "Sunbird Travel <quotes@caravan.test>".parse().unwrap();
        let to: Mailbox = "guest@example.com".parse().unwrap();
        let reply_to: Mailbox = "help@sunbird.example".parse().unwrap();
        let body = request_body(&Outgoing {
            id: "e-1",
            message: &message,
            from: &from,
            to: &to,
            reply_to: Some(&reply_to),
            rfc5322: b"",
        });
        assert_eq!(
            body,
            json!({
                "personalizations": [{"to": [{"email": "guest@example.com"}]}],
                "from": {"email": "quotes@caravan.test", "name": "Sunbird Travel"},
                "reply_to": {"email": "help@sunbird.example"},
                "subject": "Your quote",
                "content": [
                    {"type": "text/plain", "value": "Hello"},
                    {"type": "text/html", "value": "<p>Hello</p>"},
                ],
                "attachments": [{
                    "content": "JVBERi0xLjc=",
                    "type": "application/pdf",
                    "filename": "quote.pdf",
                    "disposition": "attachment",
                }],
                "custom_args": {"caravan_email_id": "e-1", "caravan_tenant_id": "sunbird"},
            })
        );
    }

    #[test]
    fn an_https_client_can_be_built_with_the_installed_crypto_provider() {
        let sendgrid = SendGrid::new(
            "https://api.sendgrid.com/",
            Secret::new("SG.key"),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(sendgrid.endpoint, "https://api.sendgrid.com/v3/mail/send");
        assert!(!format!("{sendgrid:?}").contains("SG.key"));
    }

    #[test]
    fn error_bodies_are_reduced_to_their_messages() {
        let body = r#"{"errors":[{"message":"The from address does not match a verified Sender Identity.","field":"from","help":null}]}"#;
        assert_eq!(
            error_messages(body),
            "The from address does not match a verified Sender Identity."
        );
        assert_eq!(error_messages(" upstream timeout "), "upstream timeout");
        assert_eq!(error_messages(&"x".repeat(2000)).len(), ERROR_BODY_LIMIT);
    }
}
