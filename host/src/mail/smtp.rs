//! The SMTP transport: lettre's tokio client with a connection pool, configured by URL.

use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::transport::smtp::response::{Code, Severity};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as SmtpError};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::retry::{DeliveryError, Retry};
use super::{Delivered, MailError, Outgoing, Transport};
use crate::config::redact_url;

/// Sends through one SMTP server.
pub struct Smtp {
    builder: AsyncSmtpTransportBuilder,
    /// Built on first use: lettre's pool starts a background task, which needs the runtime
    /// that configuration loading may not run in.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    /// The URL without its password, for logs.
    shown: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("url", &self.shown).finish()
    }
}

impl Smtp {
    /// `smtp://[user:pass@]host[:port]` speaks plain SMTP (add `?tls=required` for
    /// STARTTLS, `?tls=opportunistic` for STARTTLS when offered); `smtps://` wraps the
    /// connection in TLS from the start. Every command waits at most `timeout`.
    pub fn from_url(url: &str, timeout: Duration) -> Result<Self, MailError> {
        let shown = redact_url(url);
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("CARAVAN_SMTP_URL `{shown}`: {e}")))?
            .timeout(Some(timeout));
        if url.starts_with("smtp://") && !url.contains("tls=") && url.contains('@') {
            tracing::warn!(
                url = shown,
                "SMTP credentials configured without TLS; add ?tls=required or use smtps://"
            );
        }
        Ok(Self {
            builder,
            transport: OnceLock::new(),
            shown,
        })
    }

    fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        self.transport.get_or_init(|| self.builder.clone().build())
    }
}

#[async_trait]
impl Transport for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn deliver(&self, email: &Outgoing<'_>) -> Result<Delivered, DeliveryError> {
        let envelope = Envelope::new(Some(email.from.email.clone()), vec![email.to.email.clone()])
            .map_err(|e| DeliveryError::permanent(format!("SMTP envelope: {e}")))?;
        let response = self
            .transport()
            .send_raw(&envelope, email.rfc5322)
            .await
            .map_err(|e| classify(&e))?;
        let reply = response.message().collect::<Vec<_>>().join(" ");
        Ok(Delivered {
            provider_message_id: queue_id(&reply),
        })
    }
}

/// Whether a failed SMTP exchange may succeed later.
fn classify(err: &SmtpError) -> DeliveryError {
    let retry = match err.status() {
        Some(code) => reply_retry(code),
        // A certificate or TLS mismatch, a message the client refuses to send (8-bit to a
        // 7-bit server) and a shut-down transport stay as they are; connection and I/O
        // errors (refused, reset, timed out, unparsable reply) may pass.
        None if err.is_tls() || err.is_client() || err.is_transport_shutdown() => Retry::Permanent,
        None => Retry::Transient { after: None },
    };
    DeliveryError {
        retry,
        message: format!("SMTP: {err}"),
    }
}

/// SMTP's own split (RFC 5321 §4.2.1): 4xx is transient, 5xx permanent.
fn reply_retry(code: Code) -> Retry {
    match code.severity {
        Severity::TransientNegativeCompletion => Retry::Transient { after: None },
        _ => Retry::Permanent,
    }
}

/// The server's queue id from its answer to DATA (`250 2.0.0 Ok: queued as 4Bx9`), which
/// is what its logs know the message by.
fn queue_id(reply: &str) -> Option<String> {
    let (_, rest) = reply.split_once("queued as ")?;
    let id: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>')
        .take(200)
        .collect();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use lettre::transport::smtp::response::{Category, Detail};

    use super::*;

    #[test]
    fn smtp_4xx_replies_are_transient_and_5xx_permanent() {
        let code = |severity| Code::new(severity, Category::MailSystem, Detail::One);
        assert_eq!(
            reply_retry(code(Severity::TransientNegativeCompletion)),
            Retry::Transient { after: None }
        );
        assert_eq!(
            reply_retry(code(Severity::PermanentNegativeCompletion)),
            Retry::Permanent
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient() {
        // A port that was just free: nothing listens there.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(port)
            .timeout(Some(Duration::from_secs(2)))
            .build();
        let envelope = Envelope::new(
            Some("a@example.com".parse().unwrap()),
            vec!["b@example.com".parse().unwrap()],
        )
        .unwrap();
        let err = transport
            .send_raw(&envelope, b"Subject: x\r\n\r\nx\r\n")
            .await
            .unwrap_err();
        let classified = classify(&err);
        assert_eq!(
            classified.retry,
            Retry::Transient { after: None },
            "{classified}"
        );
        assert!(classified.message.starts_with("SMTP: "), "{classified}");
    }

    #[test]
    fn an_invalid_url_names_the_variable_without_its_password() {
        let err = Smtp::from_url("ftp://user:hunter2@mail.test", Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("CARAVAN_SMTP_URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn starttls_and_implicit_tls_urls_are_understood() {
        for url in [
            "smtp://user:pass@mail.example:587?tls=required",
            "smtp://mail.example:587?tls=opportunistic",
            "smtps://user:pass@mail.example:465",
            "smtp://127.0.0.1:2525",
        ] {
            assert!(Smtp::from_url(url, Duration::from_secs(1)).is_ok(), "{url}");
        }
    }

    #[test]
    fn the_queue_id_is_taken_from_the_data_reply() {
        assert_eq!(
            queue_id("2.0.0 Ok: queued as 4Bx9Lq1zZ"),
            Some("4Bx9Lq1zZ".to_owned())
        );
        assert_eq!(queue_id("OK"), None);
    }
}
