//! The re-delivery worker: sends the emails that wait in the database, either deferred by an
//! open circuit or left `queued` by a host that stopped mid-send.
//!
//! Every host with a network transport runs one. Each claims one due email at a time under a
//! lease (so two hosts never send the same one together), rebuilds it from its `.eml` copy,
//! and delivers it through the same attempts, backoff and circuit as a first send. Emails go
//! oldest first; a pass stops at the first email the open circuit defers, and none is claimed
//! while this host's circuit is open, so the queue keeps its order and an outage costs nothing
//! but a look at the breaker per tick.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use lettre::message::Mailbox;
use mail_parser::MessageParser;

use super::retry::DeliveryError;
use super::{
    Attachment, EmailKind, MAX_DEFERRAL, Mailer, Message, OutboundEmail, Outcome, Outgoing,
    Rendered, Transport, log_outcome,
};
use crate::mime;
use crate::storage::StorageError;

/// How long an email whose copy this host cannot read waits before a host looks again (one
/// whose data directory holds the copy may take it meanwhile).
const MISSING_COPY_WAIT: Duration = Duration::from_secs(5 * 60);

/// How long `/health/ready` waits for the count of deferred emails.
const COUNT_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest pause after the database failed the worker several times in a row.
const MAX_ERROR_PAUSE: Duration = Duration::from_secs(30);

impl Mailer {
    /// Starts this mailer's re-delivery worker unless it runs already; the outbox alone has
    /// nothing to deliver. The server starts it at boot for the emails an earlier run left;
    /// a deferral starts it too, so any process that defers an email also delivers it.
    pub fn spawn_redelivery(&self) {
        if self.transport.is_none() || self.redelivering.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::spawn(self.clone().redeliver());
    }

    /// How often the worker looks for due emails, and how long a deferred email waits before
    /// it is due: often enough to notice the end of the circuit's open period soon (a look
    /// at a circuit that is still open sends nothing).
    pub(super) fn redelivery_tick(&self) -> Duration {
        let open_min = self
            .breaker
            .as_ref()
            .map_or(Duration::from_secs(1), |b| b.settings().open_min);
        (open_min / 4).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }

    /// How many emails wait for the transport on every host; `None` when the database does
    /// not answer within [`COUNT_TIMEOUT`] (readiness must not hang on it).
    pub(super) async fn deferred_count(&self) -> Option<i64> {
        let Some(transport) = &self.transport else {
            return Some(0);
        };
        tokio::time::timeout(
            COUNT_TIMEOUT,
            self.repo.count_deferred_emails(transport.name()),
        )
        .await
        .ok()?
        .ok()
    }

    async fn redeliver(self) {
        let Some(transport) = self.transport.clone() else {
            return;
        };
        let tick = self.redelivery_tick();
        let mut failures: u32 = 0;
        loop {
            let pause = tick
                .saturating_mul(1 << failures.min(10))
                .min(MAX_ERROR_PAUSE.max(tick));
            tokio::time::sleep(pause).await;
            match self.redeliver_due(transport.as_ref()).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::error!(error = %e, failures, "email re-delivery cannot read or record the queue");
                }
            }
        }
    }

    /// Delivers the due emails, oldest first, until none is due or the circuit defers one.
    async fn redeliver_due(&self, transport: &dyn Transport) -> Result<(), StorageError> {
        loop {
            // While the circuit is open nothing is claimed: the queue keeps its order and
            // other hosts, whose circuits may be closed, are free to take the emails.
            if let Some(breaker) = &self.breaker
                && !breaker.is_call_permitted()
            {
                return Ok(());
            }
            let now = Utc::now();
            let Some(mut record) = self
                .repo
                .claim_due_email(transport.name(), now, now + self.send_budget())
                .await?
            else {
                return Ok(());
            };
            let circuit_open = self.redeliver_one(transport, &mut record).await;
            if !self.repo.update_delivery(&record).await? {
                tracing::warn!(
                    email_id = record.id,
                    "queued email dropped: its row is gone (tenant deleted?)"
                );
                continue;
            }
            log_outcome(&record);
            if circuit_open {
                return Ok(());
            }
        }
    }

    /// One delivery of a claimed email, written into `record`; `true` when the circuit
    /// deferred it again.
    async fn redeliver_one(&self, transport: &dyn Transport, record: &mut OutboundEmail) -> bool {
        let waited = (Utc::now() - record.created_at)
            .to_std()
            .unwrap_or_default();
        if waited > MAX_DEFERRAL {
            let reason = format!(
                "{}; gave up after waiting {} h",
                record.last_error.as_deref().unwrap_or("not delivered"),
                MAX_DEFERRAL.as_secs() / 3600
            );
            self.apply(record, Outcome::Failed(DeliveryError::permanent(reason)));
            return false;
        }
        let path = self.dir.join(&record.object_key);
        let raw = match tokio::fs::read(&path).await {
            Ok(raw) => raw,
            Err(e) => {
                record.last_error = Some(format!(
                    "the copy {} cannot be read on this host ({e}); a host that has it may send it",
                    record.object_key
                ));
                record.next_attempt_at = Some(Utc::now() + MISSING_COPY_WAIT);
                return false;
            }
        };
        let (message, rendered) = match restore(record, raw) {
            Ok(restored) => restored,
            Err(reason) => {
                let reason = format!("the copy {} cannot be sent: {reason}", record.object_key);
                self.apply(record, Outcome::Failed(DeliveryError::permanent(reason)));
                return false;
            }
        };
        let outgoing = Outgoing {
            id: &record.id,
            message: &message,
            from: &rendered.from,
            to: &rendered.to,
            reply_to: rendered.reply_to.as_ref(),
            rfc5322: &rendered.raw,
        };
        let (attempts, outcome) = self.deliver(transport, &outgoing).await;
        record.attempts = record.attempts.saturating_add(attempts);
        self.apply(record, outcome)
    }
}

/// The message and its rendering, read back from the `.eml` copy the first send wrote (the
/// bytes are sent as they are; the parts are for transports that take them apart).
fn restore(record: &OutboundEmail, raw: Vec<u8>) -> Result<(Message, Rendered), String> {
    let parsed = MessageParser::default()
        .parse(&raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or("it is not a MIME message")?;
    let kind = EmailKind::parse(&record.kind)
        .ok_or_else(|| format!("unknown email kind `{}`", record.kind))?;
    let from_name = parsed
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.name())
        .unwrap_or_default()
        .to_owned();
    let reply_to = parsed
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_owned);
    // Lettre writes line breaks as CRLF; the message was written with LF.
    let text = mime::text_body(&parsed)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    let html = mime::html_body(&parsed).map(|h| h.replace("\r\n", "\n"));
    let attachments = parsed
        .attachments()
        .map(|p| Attachment {
            filename: mime::attachment_name(p).to_owned(),
            content_type: mime::content_type(p),
            bytes: p.contents().to_vec(),
        })
        .collect();
    let from = Mailbox::new(
        Some(from_name.clone()).filter(|n| !n.is_empty()),
        record
            .from_address
            .parse()
            .map_err(|e| format!("sender address `{}`: {e}", record.from_address))?,
    );
    let mailbox = |what: &str, value: &str| {
        value
            .parse::<Mailbox>()
            .map_err(|e| format!("{what} `{value}`: {e}"))
    };
    let to = mailbox("recipient", &record.to_address)?;
    let reply_to_box = reply_to
        .as_deref()
        .map(|r| mailbox("reply-to", r))
        .transpose()?;
    let message = Message {
        tenant_id: record.tenant_id.clone(),
        kind,
        to: record.to_address.clone(),
        from_name,
        from_address: Some(record.from_address.clone()),
        reply_to,
        subject: record.subject.clone(),
        text,
        html,
        attachments,
        idempotency_key: record.idempotency_key.clone(),
    };
    drop(parsed);
    let rendered = Rendered {
        raw,
        from,
        to,
        reply_to: reply_to_box,
    };
    Ok((message, rendered))
}
