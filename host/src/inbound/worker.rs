//! The worker: claims stored messages and runs their steps — parse (the tenant's
//! email-parser plugin) → ticket → notification, then, for tenants that quote
//! automatically, quote → PDF → email → CRM and notification — recording each step's
//! outcome.
//!
//! Delivery is at least once: a message whose worker died is claimed again once its lease
//! runs out. What keeps a repeat invisible is that every effect is keyed to the message: the
//! ticket by `tickets_inbound_key`, the quote by `quotes_inbound_key`, notifications and
//! CRM activities by their `dedup_key`, emails by their idempotency key. A step already recorded is skipped on the next attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use serde_json::{Map, Value, json};

use super::InboundService;
use super::payload::ReceivedEmail;
use crate::error::Error;
use crate::money::to_major;
use crate::notifications::Notice;
use crate::plugins::bindings::email;
use crate::plugins::registry::{InvokeError, tenant_context};
use crate::quotes::{Options as QuoteOptions, Unquoted, inquiry_from_enquiry};
use crate::storage::inbound::{AttemptEnd, InboundMessage, Ticket};
use crate::tenants::model::Tenant;
use crate::tickets::new_ticket_id;

/// How much of each body the parser plugin receives: its input cap (128 kB by default)
/// must hold both with the headers.
const PLUGIN_TEXT_BYTES: usize = 32 * 1024;
const PLUGIN_HTML_BYTES: usize = 64 * 1024;
const PLUGIN_HEADERS: usize = 60;
const PLUGIN_HEADER_BYTES: usize = 1024;
/// The ticket keeps the first 50 000 characters of the body.
const TICKET_MESSAGE_CHARS: usize = 50_000;

/// Why an attempt stopped.
#[derive(Debug)]
enum StepError {
    /// May succeed later (a database or storage outage): retry with backoff.
    Transient(String),
    /// Will not succeed by retrying (the tenant is gone, the stored email is unreadable).
    Permanent(String),
    /// The simulated crash: leave the message as a dead worker would.
    Crash,
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable(m) => Self::Transient(m),
            Error::Internal { operation, cause } => {
                Self::Transient(format!("{operation}: {cause:#}"))
            }
            other => Self::Permanent(other.to_string()),
        }
    }
}

impl InboundService {
    /// Starts the configured number of workers on the current runtime.
    pub fn spawn_workers(self: &Arc<Self>) {
        for n in 0..self.config.workers {
            let service = self.clone();
            tokio::spawn(async move {
                tracing::debug!(worker = n, "inbound worker started");
                service.work().await;
            });
        }
    }

    async fn work(&self) {
        let idle = Duration::from_millis(self.config.poll_interval_ms.max(10));
        loop {
            match self.process_next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "inbound worker: cannot claim work");
                }
            }
            // New mail wakes a worker at once; retries fall due by the clock.
            let _ = tokio::time::timeout(idle, self.wake.notified()).await;
        }
    }

    /// Processes every message that is due now, one after another; returns how many were
    /// handled. Tests use it to wait for the pipeline deterministically.
    pub async fn drain(&self) -> crate::error::Result<usize> {
        let mut handled = 0;
        while self.process_next().await? {
            handled += 1;
        }
        Ok(handled)
    }

    /// Claims one due message and runs its remaining steps. `Ok(false)` when none is due.
    pub async fn process_next(&self) -> crate::error::Result<bool> {
        let now = Utc::now().trunc_subsecs(6);
        let Some(message) = self
            .repo
            .claim_due(now, now + self.lease())
            .await
            .map_err(|e| Error::storage("claiming inbound email", e))?
        else {
            return Ok(false);
        };
        let mut steps: Map<String, Value> =
            serde_json::from_str(&message.steps).unwrap_or_default();
        let result = self.run_steps(&message, &mut steps).await;
        let steps_text = Value::Object(steps.clone()).to_string();
        let ticket_id = steps
            .get("ticket")
            .and_then(|t| t.get("ticket_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let now = Utc::now().trunc_subsecs(6);
        let (state, error, next) = match result {
            Ok(()) => ("done", None, now),
            Err(StepError::Crash) => {
                tracing::warn!(
                    message_id = message.id,
                    "inbound worker stopped (simulated crash)"
                );
                return Err(Error::Unavailable("simulated worker crash".to_owned()));
            }
            Err(StepError::Permanent(e)) => ("failed", Some(e), now),
            Err(StepError::Transient(e)) => {
                let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX);
                if attempts >= self.config.max_attempts {
                    ("failed", Some(e), now)
                } else {
                    ("pending", Some(e), now + self.backoff(attempts))
                }
            }
        };
        if let Some(error) = &error {
            tracing::warn!(
                tenant_id = message.tenant_id,
                message_id = message.id,
                attempts = message.attempts,
                state,
                error,
                "inbound email step failed"
            );
        }
        self.repo
            .end_attempt(
                &message.tenant_id,
                &message.id,
                &AttemptEnd {
                    state,
                    steps: &steps_text,
                    ticket_id: ticket_id.as_deref(),
                    last_error: error.as_deref(),
                    next_attempt_at: next,
                },
            )
            .await
            .map_err(|e| Error::storage("recording inbound progress", e))?;
        Ok(true)
    }

    /// How long a claim (or a recorded step) keeps a message with its worker.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.config.lease_secs.max(1) as i64)
    }

    /// `initial × 2^(attempt-1)`, capped, with ±20 % jitter so retries of a burst spread out.
    fn backoff(&self, attempt: u32) -> chrono::Duration {
        let base =
            self.config.initial_backoff_ms as f64 * 2f64.powi(attempt.saturating_sub(1) as i32);
        let capped = base.min(self.config.max_backoff_ms as f64);
        let jitter = 0.8 + 0.4 * rand::random::<f64>();
        chrono::Duration::milliseconds((capped * jitter) as i64)
    }

    fn injected_outage(&self, step: &str) -> Result<(), StepError> {
        let Ok(mut guard) = self.transient_fault.lock() else {
            return Ok(());
        };
        match guard.as_mut() {
            Some((s, times)) if s == step && *times > 0 => {
                *times -= 1;
                Err(StepError::Transient(format!(
                    "recording `{step}`: database unavailable (injected)"
                )))
            }
            _ => Ok(()),
        }
    }

    fn crash_point(&self, step: &str) -> Result<(), StepError> {
        let crash = self
            .crash_after
            .lock()
            .map(|g| g.as_deref() == Some(step))
            .unwrap_or(false);
        if crash { Err(StepError::Crash) } else { Ok(()) }
    }

    async fn record(
        &self,
        message: &InboundMessage,
        steps: &mut Map<String, Value>,
        step: &str,
        mut outcome: Value,
        started: Instant,
    ) -> Result<(), StepError> {
        self.crash_point(step)?;
        self.injected_outage(step)?;
        // Each step's own time, for the per-stage figures (`docs/benchmarks.md`).
        if let Value::Object(fields) = &mut outcome {
            fields.insert("us".to_owned(), json!(started.elapsed().as_micros() as u64));
        }
        steps.insert(step.to_owned(), outcome);
        let ticket_id = steps
            .get("ticket")
            .and_then(|t| t.get("ticket_id"))
            .and_then(Value::as_str);
        self.repo
            .save_steps(
                &message.tenant_id,
                &message.id,
                &Value::Object(steps.clone()).to_string(),
                ticket_id,
                Utc::now().trunc_subsecs(6) + self.lease(),
            )
            .await
            .map_err(|e| StepError::from(Error::storage("recording a step", e)))
    }

    async fn run_steps(
        &self,
        message: &InboundMessage,
        steps: &mut Map<String, Value>,
    ) -> Result<(), StepError> {
        let Some(tenant) = self.tenants.find(&message.tenant_id).await? else {
            return Err(StepError::Permanent(
                "the tenant no longer exists".to_owned(),
            ));
        };
        let email = Self::email_of(message).map_err(|e| StepError::Permanent(e.to_string()))?;

        if !steps.contains_key("parse") {
            let started = Instant::now();
            let outcome = self.parse(&tenant, message, &email).await?;
            self.record(message, steps, "parse", outcome, started)
                .await?;
        }
        let parse = steps.get("parse").cloned().unwrap_or(Value::Null);

        if !steps.contains_key("ticket") {
            let started = Instant::now();
            let ticket = self
                .tickets
                .create(ticket_for(&tenant, message, &email, &parse))
                .await?;
            self.record(
                message,
                steps,
                "ticket",
                json!({"ticket_id": ticket.ticket_id, "needs_review": ticket.needs_review}),
                started,
            )
            .await?;
        }
        let ticket_id = steps
            .get("ticket")
            .and_then(|t| t.get("ticket_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();

        if !steps.contains_key("notify") {
            let started = Instant::now();
            // Auto-replies and newsletters make a (low-priority) ticket but bother nobody.
            let outcome = if parse["outcome"] == "not_an_enquiry" {
                json!({"skipped": "not an enquiry"})
            } else {
                let destination = parse["enquiry"]["destinations"][0]
                    .as_str()
                    .unwrap_or("destination not stated");
                let notified = self
                    .notifications
                    .notify_users(
                        &tenant,
                        &Notice {
                            kind: "email_received",
                            title: "New enquiry received".to_owned(),
                            message: format!(
                                "New inquiry from {}: {destination} - {}",
                                message.sender,
                                if message.subject.is_empty() {
                                    "No Subject"
                                } else {
                                    &message.subject
                                }
                            ),
                            entity_type: Some("ticket"),
                            entity_id: Some(ticket_id.clone()),
                            metadata: json!({"subject": message.subject, "sender": message.sender}),
                            source_key: Some(format!("inbound:{}", message.id)),
                        },
                    )
                    .await?;
                json!({"notified": notified})
            };
            self.record(message, steps, "notify", outcome, started)
                .await?;
        }

        let quoting = &tenant.config.quoting;
        if quoting.auto_quote_inbound && parse["outcome"] == "enquiry" {
            self.quote_steps(
                &tenant,
                message,
                steps,
                &parse,
                &ticket_id,
                quoting.auto_send,
            )
            .await?;
        }
        Ok(())
    }

    /// The automatic quote: made once per message (the quote is keyed to it), rendered,
    /// emailed when the tenant sends automatically (else kept as a draft for review), then
    /// filed in the CRM with a notification.
    async fn quote_steps(
        &self,
        tenant: &Tenant,
        message: &InboundMessage,
        steps: &mut Map<String, Value>,
        parse: &Value,
        ticket_id: &str,
        auto_send: bool,
    ) -> Result<(), StepError> {
        if !steps.contains_key("quote") {
            let started = Instant::now();
            let ticket = self.tickets.get(&tenant.id, ticket_id).await?;
            let outcome = match inquiry_from_enquiry(
                &parse["enquiry"],
                &ticket.customer_name,
                &ticket.customer_email,
            ) {
                None => json!({"skipped": "the enquiry names no destination"}),
                Some(inquiry) => {
                    let options = QuoteOptions {
                        selected_hotels: None,
                        ticket_id: Some(ticket_id.to_owned()),
                        save_as_draft: !auto_send,
                        send_email: auto_send,
                        assign_consultant: true,
                        source: "email".to_owned(),
                        inbound_message_id: Some(message.id.clone()),
                    };
                    match self.quotes.create(tenant, &inquiry, &options).await {
                        Ok(Ok(quote)) => {
                            json!({"quote_id": quote.quote_id, "status": quote.status})
                        }
                        Ok(Err(Unquoted::NoAvailability {
                            destination,
                            warnings,
                        })) => json!({
                            "skipped": format!("No available hotels found for {destination}"),
                            "warnings": warnings,
                        }),
                        Ok(Err(Unquoted::PluginFailed { slot, error })) => {
                            json!({"failed": slot, "error": error})
                        }
                        Err(Error::Validation(errors)) => json!({
                            "skipped": "the enquiry is incomplete",
                            "errors": errors,
                        }),
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            self.record(message, steps, "quote", outcome, started)
                .await?;
        }
        let Some(quote_id) = steps["quote"]["quote_id"].as_str().map(str::to_owned) else {
            return Ok(());
        };
        let mut quote = self.quotes.get(&tenant.id, &quote_id).await?;
        if !steps.contains_key("pdf") {
            let started = Instant::now();
            quote = self.quotes.ensure_pdf(tenant, &quote).await?;
            self.record(
                message,
                steps,
                "pdf",
                json!({"object": quote.pdf_object}),
                started,
            )
            .await?;
        }
        if auto_send && !steps.contains_key("email") {
            let started = Instant::now();
            let outcome = match self.quotes.send(tenant, &quote, None).await {
                Ok(sent) => {
                    quote = sent;
                    json!({"sent_to": quote.customer_email})
                }
                // Delivery is the mailer's to retry; a quote it could not send stays
                // `quoted` for a person to resend.
                Err(Error::BadRequest(e)) => json!({"failed": e}),
                Err(e) => return Err(e.into()),
            };
            self.record(message, steps, "email", outcome, started)
                .await?;
        }
        if !steps.contains_key("follow_up") {
            let started = Instant::now();
            let quote = self.quotes.get(&tenant.id, &quote_id).await?;
            let (crm_added, ticket_resolved) = self.quotes.follow_up(tenant, &quote).await?;
            self.record(
                message,
                steps,
                "follow_up",
                json!({"crm_added": crm_added, "ticket_resolved": ticket_resolved}),
                started,
            )
            .await?;
        }
        Ok(())
    }

    /// Runs the tenant's email parser. A plugin failure is an outcome (the ticket is marked
    /// for a person), not a reason to retry: the same input fails the same way.
    async fn parse(
        &self,
        tenant: &Tenant,
        message: &InboundMessage,
        email: &ReceivedEmail,
    ) -> Result<Value, StepError> {
        let input = plugin_email(email, message);
        let context = tenant_context(tenant);
        match self.plugins.parse_email(&tenant.id, &input, &context).await {
            Ok(invocation) => {
                let meta = json!({
                    "version": invocation.version,
                    "fallback_from": invocation.fallback_from.as_ref().map(ToString::to_string),
                    "fuel_used": invocation.stats.fuel_used,
                    "wall_us": invocation.stats.wall_us,
                });
                Ok(match invocation.value {
                    email::ParseOutcome::Enquiry(enquiry) => json!({
                        "outcome": "enquiry",
                        "enquiry": enquiry,
                        "plugin": meta,
                    }),
                    email::ParseOutcome::NotAnEnquiry(reason) => json!({
                        "outcome": "not_an_enquiry",
                        "reason": reason,
                        "plugin": meta,
                    }),
                })
            }
            Err(InvokeError::Plugin(e)) => Ok(json!({
                "outcome": "failed",
                "error": e.to_string(),
                "kind": e.kind.as_str(),
            })),
            Err(InvokeError::Service(e)) => Err(e.into()),
        }
    }
}

/// The email as the parser plugin receives it, bodies cut to fit its input cap.
fn plugin_email(email: &ReceivedEmail, message: &InboundMessage) -> email::InboundEmail {
    let mut envelope_to = email.envelope_to.clone();
    if envelope_to.is_empty() {
        envelope_to.clone_from(&email.to);
    }
    email::InboundEmail {
        envelope_from: email.envelope_from.clone(),
        envelope_to,
        sender: email.sender(),
        to: email.to.clone(),
        cc: email.cc.clone(),
        subject: email.subject.clone(),
        sent_at: email.sent_at.clone(),
        received_at: message.received_at.to_rfc3339(),
        text: email.text.as_deref().map(|t| cut(t, PLUGIN_TEXT_BYTES)),
        html: email.html.as_deref().map(|h| cut(h, PLUGIN_HTML_BYTES)),
        headers: email
            .headers
            .iter()
            .take(PLUGIN_HEADERS)
            .map(|(n, v)| (n.clone(), cut(v, PLUGIN_HEADER_BYTES)))
            .collect(),
        attachments: email
            .attachments
            .iter()
            .map(|a| email::AttachmentInfo {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
            })
            .collect(),
    }
}

/// The longest prefix of `s` within `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The ticket for a message and its parse outcome (API §5).
fn ticket_for(
    tenant: &Tenant,
    message: &InboundMessage,
    email: &ReceivedEmail,
    parse: &Value,
) -> Ticket {
    let enquiry = parse.get("enquiry").filter(|e| e.is_object());
    let field = |name: &str| enquiry.and_then(|e| e.get(name)).filter(|v| !v.is_null());
    let is_enquiry = parse["outcome"] == "enquiry";
    let failed = parse["outcome"] == "failed";
    let destination = field("destinations")
        .and_then(|d| d.get(0))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let customer_email = field("customer-email")
        .or_else(|| field("customer_email"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| email.from_address.clone())
        .unwrap_or_default();
    let customer_name = field("customer-name")
        .or_else(|| field("customer_name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| email.from_name.clone())
        .unwrap_or_else(|| {
            customer_email
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
    let get = |snake: &str| field(snake).or_else(|| field(&snake.replace('_', "-")));
    let children_ages: Vec<u64> = get("children_ages")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let children_without_age = get("children_without_age")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let adults = get("adults").and_then(Value::as_u64);
    let children = children_ages.len() as u64 + children_without_age;
    let rooms = get("rooms").and_then(Value::as_u64);
    let budget = get("budget").map(|b| {
        let currency = b["amount"]["currency"].as_str().unwrap_or_default();
        let minor = b["amount"]["amount"].as_i64().unwrap_or(0);
        let major = to_major(minor, currency);
        (
            major,
            currency.to_owned(),
            b["per-person"].as_bool().or(b["per_person"].as_bool()),
        )
    });
    let confidence = get("confidence").and_then(Value::as_f64).unwrap_or(0.0);
    let needs_review = failed || (is_enquiry && (destination.is_none() || confidence < 0.4));
    let priority = if parse["outcome"] == "not_an_enquiry" {
        "low"
    } else if destination.is_some() || is_enquiry {
        "high"
    } else {
        "normal"
    };
    let room_list: Vec<Value> = match (rooms, adults) {
        (Some(n), adults) if n > 0 => {
            let adults = adults.unwrap_or(2);
            (0..n)
                .map(|i| {
                    let share = |total: u64| total / n + u64::from(i < total % n);
                    json!({"adults": share(adults), "children": share(children)})
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let now = message.received_at;
    let mut metadata = json!({
        "parsed_details": {
            "destination": destination,
            "adults": adults,
            "children": children,
            "children_ages": children_ages,
            "infants": get("infants"),
            "check_in": get("check_in"),
            "check_out": get("check_out"),
            "nights": get("nights"),
            "budget": budget.as_ref().map(|b| b.0),
            "budget_currency": budget.as_ref().map(|b| b.1.clone()),
            "budget_per_person": budget.as_ref().and_then(|b| b.2),
            "rooms": room_list,
            "requested_hotel": get("requested_hotel"),
            "phone": get("customer_phone"),
            "preferences": get("preferences"),
        },
        "is_travel_inquiry": is_enquiry,
        "parse_method": if failed { "failed" } else { "fallback" },
        "needs_review": needs_review,
        "diagnostic_id": message.diagnostic_id,
        "resolution_strategy": message.resolution_strategy,
        "missing_fields": get("missing_fields"),
        "confidence": get("confidence"),
        "plugin": parse.get("plugin"),
    });
    if let Some(error) = parse.get("error") {
        metadata["parse_error"] = error.clone();
    }
    if let Some(reason) = parse.get("reason") {
        metadata["not_an_enquiry_reason"] = reason.clone();
    }
    if !email.warnings.is_empty() {
        metadata["warnings"] = json!(email.warnings);
    }
    if !email.attachments.is_empty() {
        metadata["attachments"] = json!(email.attachments);
    }
    let body = email.readable_body();
    Ticket {
        id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant.id.clone(),
        ticket_id: new_ticket_id(now),
        inbound_message_id: Some(message.id.clone()),
        customer_name,
        customer_email,
        subject: if email.subject.trim().is_empty() {
            "No Subject".to_owned()
        } else {
            email.subject.clone()
        },
        message: body.chars().take(TICKET_MESSAGE_CHARS).collect(),
        status: "open".to_owned(),
        priority: priority.to_owned(),
        source: "email".to_owned(),
        assigned_to: None,
        notes: None,
        needs_review,
        metadata,
        enquiry: enquiry.cloned(),
        conversation: json!([]),
        created_at: now,
        updated_at: now,
    }
}
