//! Outbound email: one `Mailer` that renders a message to RFC 5322 bytes, keeps a copy, and
//! records every send with its status.
//!
//! The default transport is the outbox alone: a database row plus an `.eml` file under
//! `<data dir>/outbox/<tenant>/`, so nothing is lost when no mail server is configured.
//! Network transports ([`smtp::Smtp`], [`sendgrid::SendGrid`]) plug in behind [`Transport`];
//! the mailer retries their transient failures with backoff ([`retry`]) and guards each with a
//! circuit breaker ([`crate::breaker`], labelled with the transport's name).
//!
//! While the circuit is open no request is sent: the email stays `queued`, its row says why in
//! `last_error` and when it is next due in `next_attempt_at`, and the re-delivery worker
//! ([`redelivery`]) sends it from its `.eml` copy once the circuit lets calls through again.
//! The queue is the database, so a restart, or another host sharing the data directory, picks
//! up where a host stopped; a host that dies mid-send leaves its email due just after the
//! sender's own retry budget. Delivery is therefore at least once: a host that dies between the
//! upstream's acceptance and the row's update sends that email again.
//!
//! A refused attempt is not an attempt: `attempts` counts requests made, so an outage does not
//! spend an email's budget. A transient failure that leaves the circuit open defers the email
//! the same way instead of failing it; an email fails for good only on a permanent refusal,
//! when its attempts run out while the circuit stays closed (the upstream answers others but
//! not this one), or after waiting [`MAX_DEFERRAL`].

pub mod redelivery;
pub mod retry;
pub mod sendgrid;
pub mod smtp;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde_json::{Value, json};

use self::retry::{DeliveryError, Retry, RetryPolicy};
use crate::breaker::{Breaker, BreakerSettings, CircuitState};
use crate::config::{MailConfig, MailTransport};
use crate::metrics::Metrics;
use crate::storage::{OutboxRepo, StorageError};

/// The longest an email waits for its transport's circuit to close before it is recorded as
/// failed.
pub const MAX_DEFERRAL: Duration = Duration::from_secs(24 * 60 * 60);

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
    /// The mail settings cannot make a working transport (found at start-up).
    #[error("invalid mail configuration: {0}")]
    Config(String),
}

/// What the email is for; recorded with the send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Invitation,
    PasswordReset,
    /// A reply to an enquiry ticket.
    TicketReply,
    /// A quote with its PDF.
    Quote,
    /// An email copy of an in-app notification.
    Notification,
}

impl EmailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::TicketReply => "ticket_reply",
            Self::Quote => "quote",
            Self::Notification => "notification",
        }
    }

    /// The kind recorded as `s` (see [`EmailKind::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Invitation,
            Self::PasswordReset,
            Self::TicketReply,
            Self::Quote,
            Self::Notification,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == s)
    }
}

/// An email to send on behalf of a tenant.
#[derive(Debug, Clone)]
pub struct Message {
    pub tenant_id: String,
    pub kind: EmailKind,
    pub to: String,
    /// Display name of the sender (usually the tenant's name).
    pub from_name: String,
    /// Sender address for this message (a tenant's own verified address); `None` uses the
    /// platform's (`CARAVAN_MAIL_FROM`).
    pub from_address: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Files sent with the message (a quote's PDF), in the order given.
    pub attachments: Vec<Attachment>,
    /// Sending twice with the same key (per tenant) sends once: the second call returns the
    /// first record. Work that may be retried (the inbound worker) sets one.
    pub idempotency_key: Option<String>,
}

/// A file attached to an email.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient sees (`quote-Q-1042.pdf`).
    pub filename: String,
    /// A MIME type (`application/pdf`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
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
    /// Delivery attempts made (0 in the outbox).
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The id the transport gave the message (SendGrid's `X-Message-Id`, an SMTP server's
    /// queue id), to match its delivery events and logs.
    pub provider_message_id: Option<String>,
    /// The caller's key that makes a repeated send return this record.
    pub idempotency_key: Option<String>,
    /// When a `queued` email is next due for the re-delivery worker; `None` once it is sent
    /// or failed, and in the outbox alone.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// One email as a transport receives it: the parsed addresses and parts for APIs that
/// take them apart, and the rendered message for those that take MIME.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The outbox id (also the left part of the `Message-ID` header).
    pub id: &'a str,
    pub message: &'a Message,
    /// The effective sender: the message's display name with its own or the platform's
    /// address.
    pub from: &'a Mailbox,
    pub to: &'a Mailbox,
    pub reply_to: Option<&'a Mailbox>,
    /// The same email as RFC 5322 bytes, exactly as kept in the `.eml` copy.
    pub rfc5322: &'a [u8],
}

/// What a transport reports for an accepted email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub provider_message_id: Option<String>,
}

/// Hands one email to a mail system.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Recorded as the email's `transport`.
    fn name(&self) -> &'static str;

    /// One attempt. The mailer bounds it with the policy's timeout and decides from the
    /// error's [`retry::Retry`] whether another attempt follows.
    async fn deliver(&self, email: &Outgoing<'_>) -> Result<Delivered, DeliveryError>;
}

/// Sends email and keeps the record; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    repo: Arc<dyn OutboxRepo>,
    dir: PathBuf,
    from_address: String,
    transport: Option<Arc<dyn Transport>>,
    /// The transport's circuit; `None` for the outbox alone or a transport without one.
    breaker: Option<Breaker>,
    policy: RetryPolicy,
    /// Whether this mailer's re-delivery worker runs (at most one per mailer).
    redelivering: Arc<AtomicBool>,
    metrics: Option<Arc<Metrics>>,
}

/// How one delivery (its attempts and waits) ended.
enum Outcome {
    Sent(Delivered),
    Failed(DeliveryError),
    /// The circuit is open: nothing more is sent now and the email waits, queued.
    Deferred(String),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("dir", &self.dir)
            .field("transport", &self.transport.as_ref().map(|t| t.name()))
            .field("circuit", &self.circuit_state())
            .field("policy", &self.policy)
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
            breaker: None,
            policy: RetryPolicy::default(),
            redelivering: Arc::default(),
            metrics: None,
        }
    }

    /// The mailer the `[mail]` settings ask for: the outbox alone, or with the SMTP or
    /// SendGrid transport, the configured retry budget and a circuit breaker whose gauge
    /// (`caravan_upstream_circuit_state{upstream="sendgrid"}` or `"smtp"`) is in `metrics`.
    pub fn from_config(
        repo: Arc<dyn OutboxRepo>,
        dir: PathBuf,
        from_address: String,
        config: &MailConfig,
        metrics: &Arc<Metrics>,
    ) -> Result<Self, MailError> {
        config.check().map_err(MailError::Config)?;
        let policy = RetryPolicy::from_config(config);
        let mailer = Self::outbox(repo, dir, from_address).with_retry_policy(policy);
        let transport: Arc<dyn Transport> = match config.transport {
            MailTransport::Outbox => return Ok(mailer),
            MailTransport::Smtp => {
                let url = config
                    .smtp_url
                    .as_ref()
                    .map(|s| s.expose())
                    .unwrap_or_default();
                Arc::new(smtp::Smtp::from_url(url, policy.attempt_timeout)?)
            }
            MailTransport::Sendgrid => {
                let key = config.sendgrid_api_key.clone().unwrap_or_default();
                Arc::new(sendgrid::SendGrid::new(
                    &config.sendgrid_base_url,
                    key,
                    policy.attempt_timeout,
                )?)
            }
        };
        let breaker = Breaker::new(
            transport.name(),
            BreakerSettings::from_ms(
                config.breaker_failures,
                config.breaker_open_min_ms,
                config.breaker_open_max_ms,
            ),
            metrics,
        );
        let mut mailer = mailer.with_transport(transport).with_breaker(breaker);
        mailer.metrics = Some(metrics.clone());
        Ok(mailer)
    }

    /// Guards the transport with `breaker`: while it is open, emails wait instead of being
    /// sent.
    pub fn with_breaker(mut self, breaker: Breaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// The transport's circuit, if it has one.
    pub fn circuit_state(&self) -> Option<CircuitState> {
        self.breaker.as_ref().map(Breaker::state)
    }

    /// The `/health/ready` details: the transport, its circuit (`not_applicable` for the
    /// outbox alone) and the emails deferred for it on every host (`null` when the database
    /// cannot say). Informational: an open circuit defers email, it does not stop the host
    /// from serving.
    pub async fn health(&self) -> Value {
        let transport = self.transport.as_ref().map_or("outbox", |t| t.name());
        let circuit = self.circuit_state();
        let status = match circuit {
            None if self.transport.is_none() => "disabled",
            None | Some(CircuitState::Closed) => "up",
            Some(_) => "degraded",
        };
        json!({
            "transport": transport,
            "circuit": circuit.map_or("not_applicable", CircuitState::as_str),
            "status": status,
            "deferred": self.deferred_count().await,
        })
    }

    /// Delivers through `transport` as well as keeping the outbox copy.
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Attempts, waits and timeouts for each delivery.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Renders, stores and (with a transport) delivers one message, retrying transient
    /// failures within the policy's budget.
    ///
    /// The `.eml` copy and a `queued` row are written before any network traffic, so a
    /// crash mid-delivery still leaves the email on record; the row then gets the final
    /// status, attempts and error. A delivery failure is not an `Err`: it comes back as the
    /// record with status `failed`, or `queued` with the reason in `last_error` when the
    /// transport's circuit is open and the email waits to be retried. `Err` means the
    /// message is invalid or the copy or row could not be written.
    pub async fn send(&self, message: &Message) -> Result<OutboundEmail, MailError> {
        if let Some(key) = &message.idempotency_key
            && let Some(existing) = self.repo.find_email_by_key(&message.tenant_id, key).await?
        {
            return Ok(existing);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let from_address = message
            .from_address
            .as_deref()
            .unwrap_or(&self.from_address);
        let rendered = render(message, from_address, &id)?;
        let object_key = format!("{}/{id}.eml", message.tenant_id);
        let path = self.dir.join(&object_key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&path, &rendered.raw).await?;
        let mut record = OutboundEmail {
            id,
            tenant_id: message.tenant_id.clone(),
            kind: message.kind.as_str().to_owned(),
            to_address: message.to.clone(),
            from_address: from_address.to_owned(),
            subject: message.subject.clone(),
            object_key,
            transport: self
                .transport
                .as_ref()
                .map_or("outbox", |t| t.name())
                .to_owned(),
            status: "queued".to_owned(),
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
            provider_message_id: None,
            idempotency_key: message.idempotency_key.clone(),
            // Should this host stop before recording the outcome, the worker takes over once
            // the sender's own attempts would be over.
            next_attempt_at: self
                .transport
                .as_ref()
                .map(|_| Utc::now() + self.send_budget()),
        };
        if let Err(e) = self.repo.insert_email(&record).await {
            // Another send with the same key won the race: that one is the email.
            if let (StorageError::Conflict { .. }, Some(key)) = (&e, &message.idempotency_key)
                && let Some(existing) = self.repo.find_email_by_key(&message.tenant_id, key).await?
            {
                let _ = tokio::fs::remove_file(&path).await;
                return Ok(existing);
            }
            return Err(e.into());
        }
        if let Some(transport) = &self.transport {
            let outgoing = Outgoing {
                id: &record.id,
                message,
                from: &rendered.from,
                to: &rendered.to,
                reply_to: rendered.reply_to.as_ref(),
                rfc5322: &rendered.raw,
            };
            let (attempts, outcome) = self.deliver(transport.as_ref(), &outgoing).await;
            record.attempts = attempts;
            let deferred = self.apply(&mut record, outcome);
            if !self.repo.update_delivery(&record).await? {
                tracing::warn!(
                    email_id = record.id,
                    "email row vanished during delivery (tenant deleted?)"
                );
                return Ok(record);
            }
            if deferred {
                self.spawn_redelivery();
            }
        }
        log_outcome(&record);
        Ok(record)
    }

    /// The longest one send can take through its attempts and waits; the worker leaves an
    /// email alone for this long after its sender started.
    fn send_budget(&self) -> Duration {
        let policy = self.policy;
        (policy.attempt_timeout + policy.max_backoff) * policy.max_attempts
            + Duration::from_secs(60)
    }

    /// Writes a delivery's outcome into the record; `true` when the email was deferred.
    fn apply(&self, record: &mut OutboundEmail, outcome: Outcome) -> bool {
        record.next_attempt_at = None;
        match outcome {
            Outcome::Sent(delivered) => {
                record.status = "sent".to_owned();
                record.sent_at = Some(Utc::now());
                record.provider_message_id = delivered.provider_message_id;
                record.last_error = None;
                false
            }
            Outcome::Failed(err) => {
                record.status = "failed".to_owned();
                record.last_error = Some(err.message);
                false
            }
            Outcome::Deferred(reason) => {
                record.status = "queued".to_owned();
                record.last_error = Some(reason);
                record.next_attempt_at = Some(Utc::now() + self.redelivery_tick());
                true
            }
        }
    }

    /// Attempts delivery until it succeeds, fails permanently, the policy says stop or the
    /// circuit is open; returns the requests made and the outcome.
    async fn deliver(&self, transport: &dyn Transport, email: &Outgoing<'_>) -> (i32, Outcome) {
        let policy = self.policy;
        let upstream = transport.name();
        let mut attempt: u32 = 0;
        loop {
            let attempts = i32::try_from(attempt).unwrap_or(i32::MAX);
            if let Some(breaker) = &self.breaker
                && !breaker.is_call_permitted()
            {
                self.observe(upstream, "circuit_open");
                return (attempts, Outcome::Deferred(circuit_open(upstream, None)));
            }
            attempt += 1;
            let attempts = i32::try_from(attempt).unwrap_or(i32::MAX);
            let started = Instant::now();
            let result = match tokio::time::timeout(
                policy.attempt_timeout,
                transport.deliver(email),
            )
            .await
            {
                Ok(result) => result,
                Err(_) => Err(DeliveryError::transient(format!(
                    "{upstream}: no answer within {} ms",
                    policy.attempt_timeout.as_millis()
                ))),
            };
            let err = match result {
                Ok(delivered) => {
                    if let Some(breaker) = &self.breaker {
                        breaker.on_success();
                    }
                    self.observe(upstream, "ok");
                    return (attempts, Outcome::Sent(delivered));
                }
                Err(err) => err,
            };
            // Connection errors, timeouts, 429, 5xx (and SMTP 4xx) say the upstream is
            // unwell; a permanent refusal (400, 401, 403, SMTP 5xx) says it answered.
            let transient = matches!(err.retry, Retry::Transient { .. });
            if let Some(breaker) = &self.breaker {
                if transient {
                    breaker.on_error();
                } else {
                    breaker.on_success();
                }
            }
            let Some(wait) = policy.next_wait(attempt, err.retry, rand::random::<f64>()) else {
                if transient && self.circuit_state() == Some(CircuitState::Open) {
                    // The upstream is down, not this email: it waits for the circuit
                    // instead of failing with the outage.
                    self.observe(upstream, "circuit_open");
                    return (
                        attempts,
                        Outcome::Deferred(circuit_open(upstream, Some(&err))),
                    );
                }
                self.observe(upstream, if transient { "unavailable" } else { "rejected" });
                return (attempts, Outcome::Failed(err));
            };
            tracing::warn!(
                email_id = email.id,
                transport = upstream,
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                retry_in_ms = wait.as_millis() as u64,
                error = %err,
                "email delivery attempt failed; retrying"
            );
            if let Some(metrics) = &self.metrics {
                metrics.observe_upstream_retry(upstream, "send");
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Counts one delivery in `caravan_upstream_calls_total`.
    fn observe(&self, upstream: &str, outcome: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.observe_upstream_call(upstream, "send", outcome);
        }
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

/// One log line per delivery outcome.
fn log_outcome(record: &OutboundEmail) {
    if record.status == "failed" {
        tracing::error!(
            email_id = record.id,
            tenant_id = record.tenant_id,
            kind = record.kind,
            transport = record.transport,
            attempts = record.attempts,
            error = record.last_error.as_deref().unwrap_or_default(),
            "email not delivered; kept in the outbox"
        );
    } else if record.status == "queued" && record.last_error.is_some() {
        tracing::warn!(
            email_id = record.id,
            tenant_id = record.tenant_id,
            kind = record.kind,
            transport = record.transport,
            attempts = record.attempts,
            reason = record.last_error.as_deref().unwrap_or_default(),
            "email deferred; it stays queued until the circuit closes"
        );
    } else {
        tracing::info!(
            email_id = record.id,
            tenant_id = record.tenant_id,
            kind = record.kind,
            transport = record.transport,
            status = record.status,
            attempts = record.attempts,
            "email recorded"
        );
    }
}

/// The `last_error` of an email the open circuit keeps waiting.
fn circuit_open(upstream: &str, last: Option<&DeliveryError>) -> String {
    let mut reason = format!(
        "{upstream} circuit open after repeated failures: delivery deferred until it closes"
    );
    if let Some(err) = last {
        reason.push_str(&format!(" (last error: {err})"));
    }
    reason
}

/// A message rendered once for the copy and every transport.
struct Rendered {
    raw: Vec<u8>,
    from: Mailbox,
    to: Mailbox,
    reply_to: Option<Mailbox>,
}

fn render(message: &Message, from_address: &str, id: &str) -> Result<Rendered, MailError> {
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
    let reply_to: Option<Mailbox> = message
        .reply_to
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| invalid("reply-to address", &e))?;
    let domain = from_address
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d);
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(message.subject.clone())
        .message_id(Some(format!("<{id}@{domain}>")));
    if let Some(reply_to) = &reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(message.text.clone());
    let body = match &message.html {
        Some(html) => Body::Multi(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
        ),
        None => Body::Single(text),
    };
    let email = if message.attachments.is_empty() {
        match body {
            Body::Single(part) => builder.singlepart(part),
            Body::Multi(part) => builder.multipart(part),
        }
    } else {
        // multipart/mixed: the readable body first, then each file.
        let mut mixed = match body {
            Body::Single(part) => MultiPart::mixed().singlepart(part),
            Body::Multi(part) => MultiPart::mixed().multipart(part),
        };
        for attachment in &message.attachments {
            let content_type = ContentType::parse(&attachment.content_type).map_err(|e| {
                invalid(
                    &format!("content type of attachment `{}`", attachment.filename),
                    &e,
                )
            })?;
            mixed = mixed.singlepart(
                lettre::message::Attachment::new(attachment.filename.clone())
                    .body(attachment.bytes.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    }
    .map_err(|e| invalid("message", &e))?;
    Ok(Rendered {
        raw: email.formatted(),
        from,
        to,
        reply_to,
    })
}

/// The readable part of a message, before any attachments join it.
enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}
