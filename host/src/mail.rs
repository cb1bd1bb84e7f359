//! Outbound email: one `Mailer` that renders a message to RFC 5322 bytes, keeps a copy, and
//! records every send with its status.
//!
//! The default transport is the outbox alone: a database row plus an `.eml` file under
//! `<data dir>/outbox/<tenant>/`, so nothing is lost when no mail server is configured.
//! Network transports (SMTP, SendGrid) plug in behind [`Transport`].

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::storage::{OutboxRepo, StorageError};

/// Why an email could not be sent or recorded.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address or header that cannot appear in an email.
    #[error("invalid email: {0}")]
    Invalid(String),
    /// The copy in the outbox directory could not be written.
    #[error("cannot write the outbox copy: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The transport refused or failed to take the message.
    #[error("transport failed: {0}")]
    Transport(String),
}

/// What the email is for; recorded with the send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Invitation,
    PasswordReset,
}

impl EmailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
        }
    }
}

/// An email to send on behalf of a tenant.
#[derive(Debug, Clone)]
pub struct Message {
    pub tenant_id: String,
    pub kind: EmailKind,
    pub to: String,
    /// Display name of the sender; the address comes from the mailer's configuration.
    pub from_name: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// The record of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub to_address: String,
    pub from_address: String,
    pub subject: String,
    /// Path of the `.eml` copy, relative to the outbox directory.
    pub object_key: String,
    /// `outbox`, or the network transport that carried it.
    pub transport: String,
    /// `queued` (in the outbox), `sent`, or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Hands a rendered message to a mail system.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Recorded as the email's `transport`.
    fn name(&self) -> &'static str;

    async fn deliver(&self, from: &str, to: &str, rfc5322: &[u8]) -> Result<(), MailError>;
}

/// Sends email and keeps the record; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    repo: Arc<dyn OutboxRepo>,
    dir: PathBuf,
    from_address: String,
    transport: Option<Arc<dyn Transport>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("dir", &self.dir)
            .field("transport", &self.transport.as_ref().map(|t| t.name()))
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer that keeps every message in the outbox directory `dir` and sends nothing
    /// over the network.
    pub fn outbox(repo: Arc<dyn OutboxRepo>, dir: PathBuf, from_address: String) -> Self {
        Self {
            repo,
            dir,
            from_address,
            transport: None,
        }
    }

    /// Delivers through `transport` as well as keeping the outbox copy.
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Renders, stores and (with a transport) delivers one message. The outbox copy and its
    /// row are written first, so a failed delivery is still on record with its error.
    pub async fn send(&self, message: &Message) -> Result<OutboundEmail, MailError> {
        let id = uuid::Uuid::new_v4().to_string();
        let raw = render(message, &self.from_address, &id)?;
        let object_key = format!("{}/{id}.eml", message.tenant_id);
        let path = self.dir.join(&object_key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&path, &raw).await?;
        let now = Utc::now();
        let mut record = OutboundEmail {
            id,
            tenant_id: message.tenant_id.clone(),
            kind: message.kind.as_str().to_owned(),
            to_address: message.to.clone(),
            from_address: self.from_address.clone(),
            subject: message.subject.clone(),
            object_key,
            transport: "outbox".to_owned(),
            status: "queued".to_owned(),
            attempts: 0,
            last_error: None,
            created_at: now,
            sent_at: None,
        };
        if let Some(transport) = &self.transport {
            record.transport = transport.name().to_owned();
            record.attempts = 1;
            match transport
                .deliver(&self.from_address, &message.to, &raw)
                .await
            {
                Ok(()) => {
                    record.status = "sent".to_owned();
                    record.sent_at = Some(Utc::now());
                }
                Err(err) => {
                    record.status = "failed".to_owned();
                    record.last_error = Some(err.to_string());
                }
            }
        }
        self.repo.insert_email(&record).await?;
        tracing::info!(
            email_id = record.id,
            kind = record.kind,
            transport = record.transport,
            status = record.status,
            "email recorded"
        );
        Ok(record)
    }

    /// How many emails the tenant has sent or queued.
    pub async fn count(&self, tenant_id: &str) -> crate::error::Result<i64> {
        self.repo
            .count_emails(tenant_id)
            .await
            .map_err(|e| crate::error::Error::storage("counting emails", e))
    }

    /// Where the `.eml` copies live.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

fn render(message: &Message, from_address: &str, id: &str) -> Result<Vec<u8>, MailError> {
    let invalid =
        |what: &str, e: &dyn std::fmt::Display| MailError::Invalid(format!("{what}: {e}"));
    let from_email = from_address
        .parse()
        .map_err(|e| invalid("sender address", &e))?;
    let from = Mailbox::new(Some(message.from_name.clone()), from_email);
    let to: Mailbox = message
        .to
        .parse()
        .map_err(|e| invalid("recipient address", &e))?;
    let domain = from_address
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d);
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(format!("<{id}@{domain}>")));
    if let Some(reply_to) = &message.reply_to {
        builder = builder.reply_to(
            reply_to
                .parse()
                .map_err(|e| invalid("reply-to address", &e))?,
        );
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(message.text.clone());
    let email = match &message.html {
        Some(html) => builder.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
        ),
        None => builder.singlepart(text),
    }
    .map_err(|e| invalid("message", &e))?;
    Ok(email.formatted())
}
