//! Enquiry tickets: the triage queue the dashboard shows, created from inbound email (or
//! seeded), moved through `open → in_progress → resolved → closed`, replied to by email.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};

use crate::error::{Error, FieldError, Result};
use crate::mail::{EmailKind, Mailer, Message};
use crate::storage::TicketRepo;
use crate::storage::inbound::{Ticket, TicketQuery, TicketStats};
use crate::tenants::model::Tenant;

pub const STATUSES: &[&str] = &["open", "in_progress", "resolved", "closed"];
pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];

/// Whether the triage map (API §3.4) allows `from → to`. Staying put is allowed so that a
/// repeated PATCH (a retried request) succeeds.
pub fn transition_allowed(from: &str, to: &str) -> bool {
    from == to
        || matches!(
            (from, to),
            ("open", "in_progress" | "closed" | "resolved")
                | ("in_progress", "resolved" | "closed")
                | ("resolved", "closed")
        )
}

/// `TKT-YYYYMMDD-XXXXXX` (UTC date, 6 upper-case hex).
pub fn new_ticket_id(now: DateTime<Utc>) -> String {
    format!(
        "TKT-{}-{:06X}",
        now.format("%Y%m%d"),
        rand::random::<u32>() & 0xFF_FFFF
    )
}

/// A change to a ticket from the dashboard.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    /// Required; `None` is refused (422) once the ticket is known to exist.
    pub status: Option<String>,
    pub assigned_to: Option<String>,
    pub notes: Option<String>,
}

pub struct TicketService {
    repo: Arc<dyn TicketRepo>,
    mailer: Mailer,
}

impl std::fmt::Debug for TicketService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketService").finish_non_exhaustive()
    }
}

impl TicketService {
    pub fn new(repo: Arc<dyn TicketRepo>, mailer: Mailer) -> Self {
        Self { repo, mailer }
    }

    /// Inserts a ticket; for an inbound message that already has one, returns that one.
    /// A clash of generated ids (1 in 16 million per day) is retried with a new id.
    pub async fn create(&self, mut ticket: Ticket) -> Result<Ticket> {
        for _ in 0..3 {
            match self.repo.insert_ticket(&ticket).await {
                Ok(stored) => return Ok(stored),
                Err(crate::storage::StorageError::Conflict { constraint })
                    if constraint == "tickets_ticket_id_key" =>
                {
                    ticket.ticket_id = new_ticket_id(ticket.created_at);
                }
                Err(e) => return Err(Error::storage("creating a ticket", e)),
            }
        }
        Err(Error::Conflict("Could not allocate a ticket id".to_owned()))
    }

    pub async fn list(&self, tenant_id: &str, query: &TicketQuery) -> Result<Vec<Ticket>> {
        self.repo
            .list_tickets(tenant_id, query)
            .await
            .map_err(|e| Error::storage("listing tickets", e))
    }

    pub async fn stats(&self, tenant_id: &str) -> Result<TicketStats> {
        self.repo
            .ticket_stats(tenant_id)
            .await
            .map_err(|e| Error::storage("counting tickets", e))
    }

    /// By `TKT-…` id or row id.
    pub async fn get(&self, tenant_id: &str, key: &str) -> Result<Ticket> {
        self.repo
            .get_ticket(tenant_id, key)
            .await
            .map_err(|e| Error::storage("reading a ticket", e))?
            .ok_or_else(|| Error::NotFound("Ticket not found".to_owned()))
    }

    /// Applies a triage decision: 422 for an unknown status, 409 for a move the map forbids.
    pub async fn update(&self, tenant_id: &str, key: &str, patch: TicketPatch) -> Result<Ticket> {
        self.get(tenant_id, key).await?;
        let status = match patch.status.as_deref() {
            Some(s) if STATUSES.contains(&s) => s.to_owned(),
            Some(_) => {
                return Err(Error::validation(FieldError::body(
                    "status",
                    format!("must be one of {}", STATUSES.join(", ")),
                )));
            }
            None => {
                return Err(Error::Validation(vec![FieldError {
                    loc: vec!["body".to_owned(), "status".to_owned()],
                    msg: "field required".to_owned(),
                    kind: "missing".to_owned(),
                }]));
            }
        };
        self.modify(tenant_id, key, |ticket| {
            if !transition_allowed(&ticket.status, &status) {
                return Err(Error::Conflict(format!(
                    "Cannot change ticket status from {} to {status}",
                    ticket.status
                )));
            }
            ticket.status.clone_from(&status);
            if let Some(assigned) = &patch.assigned_to {
                ticket.assigned_to = Some(assigned.clone());
            }
            if let Some(notes) = &patch.notes {
                ticket.notes = Some(notes.clone());
            }
            Ok(())
        })
        .await
    }

    /// Marks a ticket resolved by a quote (from `open` or `in_progress`).
    pub async fn resolve_with_note(
        &self,
        tenant_id: &str,
        key: &str,
        note: &str,
    ) -> Result<Ticket> {
        self.modify(tenant_id, key, |ticket| {
            if !transition_allowed(&ticket.status, "resolved") {
                return Err(Error::Conflict(format!(
                    "Cannot resolve a ticket that is {}",
                    ticket.status
                )));
            }
            ticket.status = "resolved".to_owned();
            ticket.notes = Some(note.to_owned());
            Ok(())
        })
        .await
    }

    /// Emails the customer and appends the reply to the conversation; an `open` ticket
    /// moves to `in_progress`. The email is recorded (outbox) before the ticket changes, so
    /// a reply in the conversation was always handed to the mailer.
    pub async fn reply(&self, tenant: &Tenant, key: &str, text: &str) -> Result<Ticket> {
        let ticket = self.get(&tenant.id, key).await?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::validation(FieldError::body(
                "message",
                "must not be empty",
            )));
        }
        if ticket.status == "closed" {
            return Err(Error::Conflict(
                "Cannot reply to a closed ticket".to_owned(),
            ));
        }
        let subject = if ticket.subject.to_ascii_lowercase().starts_with("re:") {
            ticket.subject.clone()
        } else {
            format!("Re: {}", ticket.subject)
        };
        let (from_name, from_address, reply_to) = tenant.sender();
        let sent = self
            .mailer
            .send(&Message {
                tenant_id: tenant.id.clone(),
                kind: EmailKind::TicketReply,
                to: ticket.customer_email.clone(),
                from_name,
                from_address,
                reply_to,
                subject,
                text: text.to_owned(),
                html: None,
                attachments: Vec::new(),
                idempotency_key: None,
            })
            .await
            .map_err(|e| match e {
                crate::mail::MailError::Invalid(msg) => Error::BadRequest(format!(
                    "The reply cannot be emailed to the customer: {msg}"
                )),
                other => Error::Internal {
                    operation: "sending the reply",
                    cause: other.into(),
                },
            })?;
        self.modify(&tenant.id, key, |ticket| {
            if let Value::Array(conversation) = &mut ticket.conversation {
                conversation.push(json!({
                    "role": "agent",
                    "content": text,
                    "timestamp": Utc::now(),
                    "email_id": sent.id,
                    "email_status": sent.status,
                }));
            } else {
                ticket.conversation =
                    json!([{"role": "agent", "content": text, "timestamp": Utc::now()}]);
            }
            if ticket.status == "open" {
                ticket.status = "in_progress".to_owned();
            }
            Ok(())
        })
        .await
    }

    /// Five demo tickets, only when the tenant has none; returns how many were made.
    pub async fn seed(&self, tenant_id: &str) -> Result<usize> {
        if self.stats(tenant_id).await?.total > 0 {
            return Ok(0);
        }
        let demos = [
            (
                "Lerato Mokoena",
                "lerato@example.com",
                "Zanzibar in March",
                "Hi, we are 2 adults looking at Zanzibar from 12 to 19 March, half board. Budget around R60 000.",
                "Zanzibar",
                2,
                "high",
            ),
            (
                "James Carter",
                "james.carter@example.com",
                "Family trip to Mauritius",
                "Hello, 2 adults and 2 kids aged 6 and 9 would like 7 nights in Mauritius in July.",
                "Mauritius",
                2,
                "high",
            ),
            (
                "Aisha Patel",
                "aisha@example.com",
                "Kruger safari",
                "Could you quote a 4-night Kruger safari for two in September?",
                "Kruger National Park",
                2,
                "high",
            ),
            (
                "Tom Nguyen",
                "tom.nguyen@example.com",
                "Question about visas",
                "Do I need a visa for the Seychelles with a South African passport?",
                "",
                0,
                "normal",
            ),
            (
                "Maria Rossi",
                "maria.rossi@example.com",
                "Honeymoon ideas",
                "We are getting married in November and would love ideas for a honeymoon, maybe the Maldives.",
                "Maldives",
                2,
                "normal",
            ),
        ];
        let now = Utc::now().trunc_subsecs(6);
        for (i, (name, email, subject, message, destination, adults, priority)) in
            demos.into_iter().enumerate()
        {
            let created = now - chrono::Duration::minutes(i as i64 * 17);
            let destination = (!destination.is_empty()).then_some(destination);
            self.create(Ticket {
                id: uuid::Uuid::new_v4().to_string(),
                tenant_id: tenant_id.to_owned(),
                ticket_id: new_ticket_id(created),
                inbound_message_id: None,
                customer_name: name.to_owned(),
                customer_email: email.to_owned(),
                subject: subject.to_owned(),
                message: message.to_owned(),
                status: "open".to_owned(),
                priority: priority.to_owned(),
                source: "web".to_owned(),
                assigned_to: None,
                notes: None,
                needs_review: false,
                metadata: json!({
                    "parsed_details": {
                        "destination": destination,
                        "adults": (adults > 0).then_some(adults),
                        "children": 0,
                        "children_ages": [],
                        "rooms": [],
                        "check_in": null,
                        "check_out": null,
                        "budget": null,
                        "requested_hotel": null,
                    },
                    "is_travel_inquiry": destination.is_some(),
                    "parse_method": "seed",
                    "seeded": true,
                }),
                enquiry: None,
                conversation: json!([]),
                created_at: created,
                updated_at: created,
            })
            .await?;
        }
        Ok(5)
    }

    /// Read, change, write with optimistic concurrency (retried on a concurrent change).
    async fn modify(
        &self,
        tenant_id: &str,
        key: &str,
        mut change: impl FnMut(&mut Ticket) -> Result<()>,
    ) -> Result<Ticket> {
        for _ in 0..5 {
            let mut ticket = self.get(tenant_id, key).await?;
            let expected = ticket.updated_at;
            change(&mut ticket)?;
            // Strictly later than the stored value, so the optimistic check cannot pass
            // twice for the same version.
            ticket.updated_at = Utc::now()
                .trunc_subsecs(6)
                .max(expected + chrono::Duration::microseconds(1));
            let stored = self
                .repo
                .update_ticket(&ticket, expected)
                .await
                .map_err(|e| Error::storage("updating a ticket", e))?;
            if stored {
                return Ok(ticket);
            }
        }
        Err(Error::Conflict(
            "The ticket is being changed by someone else; try again".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triage_map_allows_only_forward_moves() {
        assert!(transition_allowed("open", "in_progress"));
        assert!(transition_allowed("open", "closed"));
        assert!(transition_allowed("in_progress", "resolved"));
        assert!(transition_allowed("resolved", "closed"));
        assert!(!transition_allowed("closed", "open"));
        assert!(!transition_allowed("resolved", "open"));
        assert!(!transition_allowed("in_progress", "open"));
    }

    #[test]
    fn ticket_ids_have_the_documented_shape() {
        let id = new_ticket_id(Utc::now());
        let re = regex::Regex::new(r"^TKT-\d{8}-[0-9A-F]{6}$").unwrap();
        assert!(re.is_match(&id), "{id}");
    }
}
