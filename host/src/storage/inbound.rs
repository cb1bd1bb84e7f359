//! The inbound area: received messages and their processing state, messages no tenant
//! claimed, enquiry tickets, and notifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::StorageError;

/// A received message as stored before the webhook answers.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub id: String,
    pub tenant_id: String,
    /// 8 upper-case hex characters, shown to whoever posted the message.
    pub diagnostic_id: String,
    /// `mid:<Message-ID>` or `sha256:<hex>`; unique per tenant.
    pub dedup_key: String,
    pub message_id: Option<String>,
    pub resolution_strategy: String,
    pub sender: String,
    pub subject: String,
    /// The decoded email (`inbound::payload::ReceivedEmail`) as JSON.
    pub email: String,
    /// Object-store key of the payload as posted.
    pub raw_object: String,
    /// `pending`, `processing`, `done` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Each finished step's outcome (JSON object keyed by step name).
    pub steps: String,
    pub ticket_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A message no tenant claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct UnroutedMessage {
    pub id: String,
    pub diagnostic_id: String,
    pub to_email: String,
    pub sender: String,
    pub subject: String,
    /// JSON array of the strategy names tried.
    pub strategies_tried: String,
    pub raw_object: String,
    pub received_at: DateTime<Utc>,
}

/// The outcome of storing a received message.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    New,
    /// The tenant already has a message with this key; nothing was written.
    Duplicate(Box<InboundMessage>),
}

/// How a processing attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptEnd<'a> {
    /// `done`, `failed`, or `pending` (retry at `next_attempt_at`).
    pub state: &'a str,
    pub steps: &'a str,
    pub ticket_id: Option<&'a str>,
    pub last_error: Option<&'a str>,
    pub next_attempt_at: DateTime<Utc>,
}

#[async_trait]
pub trait InboundRepo: Send + Sync {
    /// Stores a message unless the tenant already has one with the same `dedup_key`.
    async fn insert_message(&self, message: &InboundMessage) -> Result<Stored, StorageError>;

    async fn insert_unrouted(&self, message: &UnroutedMessage) -> Result<(), StorageError>;

    /// Unrouted messages, newest first.
    async fn list_unrouted(&self, limit: u32) -> Result<Vec<UnroutedMessage>, StorageError>;

    /// Takes the oldest due message of any tenant for one worker: `pending`, or
    /// `processing` whose lease ran out (its worker died). Sets `processing`, the lease and
    /// one more attempt. Two workers never get the same message while a lease holds.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<InboundMessage>, StorageError>;

    /// Records finished steps while the worker still holds the message, and extends its
    /// lease to `lease_until` (a long run of steps keeps its message).
    async fn save_steps(
        &self,
        tenant_id: &str,
        id: &str,
        steps: &str,
        ticket_id: Option<&str>,
        lease_until: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Ends an attempt and releases the lease.
    async fn end_attempt(
        &self,
        tenant_id: &str,
        id: &str,
        end: &AttemptEnd<'_>,
    ) -> Result<(), StorageError>;

    async fn get_message(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<InboundMessage>, StorageError>;

    /// The tenant's messages, newest first.
    async fn list_messages(
        &self,
        tenant_id: &str,
        limit: u32,
    ) -> Result<Vec<InboundMessage>, StorageError>;

    /// Messages per state across tenants (`pending`, `processing`, `done`, `failed`).
    async fn count_by_state(&self) -> Result<Vec<(String, i64)>, StorageError>;
}

/// An enquiry ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub tenant_id: String,
    /// `TKT-YYYYMMDD-XXXXXX`, unique across tenants.
    pub ticket_id: String,
    pub inbound_message_id: Option<String>,
    pub customer_name: String,
    pub customer_email: String,
    pub subject: String,
    pub message: String,
    pub status: String,
    pub priority: String,
    pub source: String,
    pub assigned_to: Option<String>,
    pub notes: Option<String>,
    /// Set when a person must look at it (the parser could not read it, or failed).
    pub needs_review: bool,
    pub metadata: Value,
    /// The parsed enquiry, as the parser plugin returned it.
    pub enquiry: Option<Value>,
    /// `[{role, content, timestamp}]`.
    pub conversation: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Ticket counts per status, over all of a tenant's tickets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketStats {
    pub total: i64,
    pub open: i64,
    pub in_progress: i64,
    pub resolved: i64,
    pub closed: i64,
}

/// Filters and paging for the ticket list.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[async_trait]
pub trait TicketRepo: Send + Sync {
    /// Inserts a ticket. A ticket for an inbound message that already has one is not
    /// inserted again: the existing ticket comes back instead.
    async fn insert_ticket(&self, ticket: &Ticket) -> Result<Ticket, StorageError>;

    /// By `ticket_id` or row id.
    async fn get_ticket(&self, tenant_id: &str, key: &str) -> Result<Option<Ticket>, StorageError>;

    /// Newest first.
    async fn list_tickets(
        &self,
        tenant_id: &str,
        query: &TicketQuery,
    ) -> Result<Vec<Ticket>, StorageError>;

    async fn ticket_stats(&self, tenant_id: &str) -> Result<TicketStats, StorageError>;

    /// Stores status, assignment, notes, review flag, metadata and conversation if the row
    /// still has `expected_updated_at`; false when it changed meanwhile or is gone.
    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}

/// One notification row.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub tenant_id: String,
    /// `None`: for every user of the tenant.
    pub user_id: Option<String>,
    pub kind: String,
    pub title: String,
    pub message: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub metadata: Value,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    /// Unique per tenant when set: inserting the same key again inserts nothing.
    pub dedup_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait NotificationRepo: Send + Sync {
    /// Inserts the rows whose `dedup_key` is new; returns how many were inserted.
    async fn insert_notifications(&self, rows: &[Notification]) -> Result<u64, StorageError>;

    /// The user's rows and the tenant-wide ones, newest first, and the number of all matches.
    async fn list_notifications(
        &self,
        tenant_id: &str,
        user_id: &str,
        unread_only: bool,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<Notification>, i64), StorageError>;

    async fn unread_count(&self, tenant_id: &str, user_id: &str) -> Result<i64, StorageError>;

    /// Marks one of the user's (or a tenant-wide) notifications read; false when unknown.
    async fn mark_read(
        &self,
        tenant_id: &str,
        user_id: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Marks every unread row the user sees; returns how many changed.
    async fn mark_all_read(
        &self,
        tenant_id: &str,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    async fn get_preferences(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<Value>, StorageError>;

    async fn put_preferences(
        &self,
        tenant_id: &str,
        user_id: &str,
        preferences: &Value,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}

/// The inbound repositories, written once for both backends: the statements are the same
/// text on SQLite and PostgreSQL, and each backend's `begin_in` applies (or ignores) the
/// row-level-security scope. `$claim_lock` is appended to the claim's inner `SELECT`
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer needs none). The calling
/// module provides `classify` and `commit` for its backend.
macro_rules! inbound_repos {
    ($db:ident, $claim_lock:expr) => {
        mod shared_impl {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use serde_json::Value;
            use sqlx::AssertSqlSafe;

            use super::{classify, commit};
            use crate::storage::inbound::shared::{
                self, MessageRow, NotificationRow, TicketRow, UnroutedRow,
            };
            use crate::storage::inbound::{
                AttemptEnd, InboundMessage, InboundRepo, Notification, NotificationRepo, Stored,
                Ticket, TicketQuery, TicketRepo, TicketStats, UnroutedMessage,
            };
            use crate::storage::{Scope, StorageError};

            #[async_trait]
            impl InboundRepo for super::$db {
                async fn insert_message(&self, m: &InboundMessage) -> Result<Stored, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&m.tenant_id)).await?;
                    let inserted = sqlx::query(shared::INSERT_MESSAGE)
                        .bind(&m.id)
                        .bind(&m.tenant_id)
                        .bind(&m.diagnostic_id)
                        .bind(&m.dedup_key)
                        .bind(&m.message_id)
                        .bind(&m.resolution_strategy)
                        .bind(&m.sender)
                        .bind(&m.subject)
                        .bind(&m.email)
                        .bind(&m.raw_object)
                        .bind(&m.state)
                        .bind(m.attempts)
                        .bind(m.next_attempt_at)
                        .bind(m.locked_until)
                        .bind(&m.last_error)
                        .bind(&m.steps)
                        .bind(&m.ticket_id)
                        .bind(m.received_at)
                        .bind(m.updated_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    let outcome = if inserted.rows_affected() > 0 {
                        Stored::New
                    } else {
                        let existing: MessageRow = sqlx::query_as(AssertSqlSafe(format!(
                            "SELECT {} FROM inbound_messages WHERE tenant_id = $1 AND dedup_key = $2",
                            shared::MESSAGE_COLUMNS
                        )))
                        .bind(&m.tenant_id)
                        .bind(&m.dedup_key)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify)?;
                        Stored::Duplicate(Box::new(existing.into()))
                    };
                    commit(tx).await?;
                    Ok(outcome)
                }

                async fn insert_unrouted(&self, m: &UnroutedMessage) -> Result<(), StorageError> {
                    let mut tx = self.begin_in(Scope::Platform).await?;
                    sqlx::query(
                        "INSERT INTO inbound_unrouted (id, diagnostic_id, to_email, sender, subject, \
                         strategies_tried, raw_object, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&m.id)
                    .bind(&m.diagnostic_id)
                    .bind(&m.to_email)
                    .bind(&m.sender)
                    .bind(&m.subject)
                    .bind(&m.strategies_tried)
                    .bind(&m.raw_object)
                    .bind(m.received_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await
                }

                async fn list_unrouted(&self, limit: u32) -> Result<Vec<UnroutedMessage>, StorageError> {
                    let mut tx = self.begin_in(Scope::Platform).await?;
                    let rows: Vec<UnroutedRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {} FROM inbound_unrouted ORDER BY received_at DESC, id LIMIT $1",
                        shared::UNROUTED_COLUMNS
                    )))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                }

                async fn claim_due(
                    &self,
                    now: DateTime<Utc>,
                    lease_until: DateTime<Utc>,
                ) -> Result<Option<InboundMessage>, StorageError> {
                    // The worker serves every tenant: a platform-wide claim.
                    let mut tx = self.begin_in(Scope::Platform).await?;
                    let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "UPDATE inbound_messages SET state = 'processing', locked_until = $2, \
                         attempts = attempts + 1, updated_at = $1 \
                         WHERE id = (SELECT id FROM inbound_messages \
                             WHERE state IN ('pending', 'processing') AND next_attempt_at <= $1 \
                             AND (locked_until IS NULL OR locked_until < $1) \
                             ORDER BY next_attempt_at, received_at LIMIT 1{}) \
                         RETURNING {}",
                        $claim_lock,
                        shared::MESSAGE_COLUMNS
                    )))
                    .bind(now)
                    .bind(lease_until)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(row.map(Into::into))
                }

                async fn save_steps(
                    &self,
                    tenant_id: &str,
                    id: &str,
                    steps: &str,
                    ticket_id: Option<&str>,
                    lease_until: DateTime<Utc>,
                ) -> Result<(), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    sqlx::query(shared::SAVE_STEPS)
                        .bind(tenant_id)
                        .bind(id)
                        .bind(steps)
                        .bind(ticket_id)
                        .bind(Utc::now())
                        .bind(lease_until)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await
                }

                async fn end_attempt(
                    &self,
                    tenant_id: &str,
                    id: &str,
                    end: &AttemptEnd<'_>,
                ) -> Result<(), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    sqlx::query(shared::END_ATTEMPT)
                        .bind(tenant_id)
                        .bind(id)
                        .bind(end.state)
                        .bind(end.steps)
                        .bind(end.ticket_id)
                        .bind(end.last_error)
                        .bind(end.next_attempt_at)
                        .bind(Utc::now())
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await
                }

                async fn get_message(
                    &self,
                    tenant_id: &str,
                    id: &str,
                ) -> Result<Option<InboundMessage>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {} FROM inbound_messages WHERE tenant_id = $1 AND id = $2",
                        shared::MESSAGE_COLUMNS
                    )))
                    .bind(tenant_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(row.map(Into::into))
                }

                async fn list_messages(
                    &self,
                    tenant_id: &str,
                    limit: u32,
                ) -> Result<Vec<InboundMessage>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {} FROM inbound_messages WHERE tenant_id = $1 \
                         ORDER BY received_at DESC, id LIMIT $2",
                        shared::MESSAGE_COLUMNS
                    )))
                    .bind(tenant_id)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                }

                async fn count_by_state(&self) -> Result<Vec<(String, i64)>, StorageError> {
                    let mut tx = self.begin_in(Scope::Platform).await?;
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT state, COUNT(*) FROM inbound_messages GROUP BY state ORDER BY state",
                    )
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(rows)
                }
            }

            #[async_trait]
            impl TicketRepo for super::$db {
                async fn insert_ticket(&self, t: &Ticket) -> Result<Ticket, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&t.tenant_id)).await?;
                    let inserted = sqlx::query(shared::INSERT_TICKET)
                        .bind(&t.id)
                        .bind(&t.tenant_id)
                        .bind(&t.ticket_id)
                        .bind(&t.inbound_message_id)
                        .bind(&t.customer_name)
                        .bind(&t.customer_email)
                        .bind(&t.subject)
                        .bind(&t.message)
                        .bind(&t.status)
                        .bind(&t.priority)
                        .bind(&t.source)
                        .bind(&t.assigned_to)
                        .bind(&t.notes)
                        .bind(t.needs_review)
                        .bind(shared::text(&t.metadata))
                        .bind(t.enquiry.as_ref().map(shared::text))
                        .bind(shared::text(&t.conversation))
                        .bind(t.created_at)
                        .bind(t.updated_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    let stored = if inserted.rows_affected() > 0 {
                        t.clone()
                    } else {
                        let row: TicketRow = sqlx::query_as(AssertSqlSafe(format!(
                            "SELECT {} FROM tickets WHERE tenant_id = $1 AND inbound_message_id = $2",
                            shared::TICKET_COLUMNS
                        )))
                        .bind(&t.tenant_id)
                        .bind(&t.inbound_message_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify)?;
                        row.try_into()?
                    };
                    commit(tx).await?;
                    Ok(stored)
                }

                async fn get_ticket(&self, tenant_id: &str, key: &str) -> Result<Option<Ticket>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let row: Option<TicketRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {} FROM tickets WHERE tenant_id = $1 AND (ticket_id = $2 OR id = $2)",
                        shared::TICKET_COLUMNS
                    )))
                    .bind(tenant_id)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    row.map(TryInto::try_into).transpose()
                }

                async fn list_tickets(
                    &self,
                    tenant_id: &str,
                    query: &TicketQuery,
                ) -> Result<Vec<Ticket>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<TicketRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {} FROM tickets {} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5",
                        shared::TICKET_COLUMNS,
                        shared::TICKET_FILTER
                    )))
                    .bind(tenant_id)
                    .bind(&query.status)
                    .bind(&query.priority)
                    .bind(i64::from(query.limit))
                    .bind(i64::from(query.offset))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn ticket_stats(&self, tenant_id: &str) -> Result<TicketStats, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let (total, open, in_progress, resolved, closed): (i64, i64, i64, i64, i64) =
                        sqlx::query_as(shared::TICKET_STATS)
                            .bind(tenant_id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(classify)?;
                    commit(tx).await?;
                    Ok(TicketStats {
                        total,
                        open,
                        in_progress,
                        resolved,
                        closed,
                    })
                }

                async fn update_ticket(
                    &self,
                    t: &Ticket,
                    expected_updated_at: DateTime<Utc>,
                ) -> Result<bool, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&t.tenant_id)).await?;
                    let updated = sqlx::query(shared::UPDATE_TICKET)
                        .bind(&t.tenant_id)
                        .bind(&t.id)
                        .bind(&t.status)
                        .bind(&t.priority)
                        .bind(&t.assigned_to)
                        .bind(&t.notes)
                        .bind(t.needs_review)
                        .bind(shared::text(&t.metadata))
                        .bind(shared::text(&t.conversation))
                        .bind(t.updated_at)
                        .bind(expected_updated_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await?;
                    Ok(updated.rows_affected() > 0)
                }
            }

            #[async_trait]
            impl NotificationRepo for super::$db {
                async fn insert_notifications(&self, rows: &[Notification]) -> Result<u64, StorageError> {
                    let Some(first) = rows.first() else {
                        return Ok(0);
                    };
                    let mut tx = self.begin_in(Scope::Tenant(&first.tenant_id)).await?;
                    let mut inserted = 0;
                    for n in rows {
                        inserted += sqlx::query(shared::INSERT_NOTIFICATION)
                            .bind(&n.id)
                            .bind(&n.tenant_id)
                            .bind(&n.user_id)
                            .bind(&n.kind)
                            .bind(&n.title)
                            .bind(&n.message)
                            .bind(&n.entity_type)
                            .bind(&n.entity_id)
                            .bind(shared::text(&n.metadata))
                            .bind(n.read)
                            .bind(n.read_at)
                            .bind(&n.dedup_key)
                            .bind(n.created_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?
                            .rows_affected();
                    }
                    commit(tx).await?;
                    Ok(inserted)
                }

                async fn list_notifications(
                    &self,
                    tenant_id: &str,
                    user_id: &str,
                    unread_only: bool,
                    limit: u32,
                    offset: u32,
                ) -> Result<(Vec<Notification>, i64), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<NotificationRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {} FROM notifications {} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5",
                        shared::NOTIFICATION_COLUMNS,
                        shared::INBOX_FILTER
                    )))
                    .bind(tenant_id)
                    .bind(user_id)
                    .bind(unread_only)
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT COUNT(*) FROM notifications {}",
                        shared::INBOX_FILTER
                    )))
                    .bind(tenant_id)
                    .bind(user_id)
                    .bind(unread_only)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    let rows = rows
                        .into_iter()
                        .map(TryInto::try_into)
                        .collect::<Result<_, _>>()?;
                    Ok((rows, total))
                }

                async fn unread_count(&self, tenant_id: &str, user_id: &str) -> Result<i64, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT COUNT(*) FROM notifications {}",
                        shared::INBOX_FILTER
                    )))
                    .bind(tenant_id)
                    .bind(user_id)
                    .bind(true)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(total)
                }

                async fn mark_read(
                    &self,
                    tenant_id: &str,
                    user_id: &str,
                    id: &str,
                    at: DateTime<Utc>,
                ) -> Result<bool, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let updated = sqlx::query(shared::MARK_READ)
                        .bind(tenant_id)
                        .bind(user_id)
                        .bind(id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await?;
                    Ok(updated.rows_affected() > 0)
                }

                async fn mark_all_read(
                    &self,
                    tenant_id: &str,
                    user_id: &str,
                    at: DateTime<Utc>,
                ) -> Result<u64, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let updated = sqlx::query(shared::MARK_ALL_READ)
                        .bind(tenant_id)
                        .bind(user_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await?;
                    Ok(updated.rows_affected())
                }

                async fn get_preferences(
                    &self,
                    tenant_id: &str,
                    user_id: &str,
                ) -> Result<Option<Value>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let text: Option<String> = sqlx::query_scalar(
                        "SELECT preferences FROM notification_preferences \
                         WHERE tenant_id = $1 AND user_id = $2",
                    )
                    .bind(tenant_id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    text.map(|t| {
                        serde_json::from_str(&t).map_err(|e| StorageError::Corrupt(format!("preferences: {e}")))
                    })
                    .transpose()
                }

                async fn put_preferences(
                    &self,
                    tenant_id: &str,
                    user_id: &str,
                    preferences: &Value,
                    at: DateTime<Utc>,
                ) -> Result<(), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    sqlx::query(shared::PUT_PREFERENCES)
                        .bind(tenant_id)
                        .bind(user_id)
                        .bind(shared::text(preferences))
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await
                }
            }
        }
    };
}
pub(super) use inbound_repos;

/// Rows and statements both backends share: the SQL is the same text on SQLite and
/// PostgreSQL (`$n` placeholders, JSON kept as text), and `FromRow` decodes either.
pub(super) mod shared {
    use chrono::{DateTime, Utc};

    use super::{InboundMessage, Notification, Ticket, UnroutedMessage};
    use crate::storage::StorageError;

    pub const MESSAGE_COLUMNS: &str = "id, tenant_id, diagnostic_id, dedup_key, message_id, \
        resolution_strategy, sender, subject, email, raw_object, state, attempts, \
        next_attempt_at, locked_until, last_error, steps, ticket_id, received_at, updated_at";

    pub const INSERT_MESSAGE: &str = "INSERT INTO inbound_messages (id, tenant_id, \
        diagnostic_id, dedup_key, message_id, resolution_strategy, sender, subject, email, \
        raw_object, state, attempts, next_attempt_at, locked_until, last_error, steps, \
        ticket_id, received_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
        $11, $12, $13, $14, $15, $16, $17, $18, $19) \
        ON CONFLICT (tenant_id, dedup_key) DO NOTHING";

    pub const SAVE_STEPS: &str = "UPDATE inbound_messages SET steps = $3, \
        ticket_id = COALESCE($4, ticket_id), updated_at = $5, locked_until = $6 \
        WHERE tenant_id = $1 AND id = $2";

    pub const END_ATTEMPT: &str = "UPDATE inbound_messages SET state = $3, steps = $4, \
        ticket_id = COALESCE($5, ticket_id), last_error = $6, next_attempt_at = $7, \
        locked_until = NULL, updated_at = $8 WHERE tenant_id = $1 AND id = $2";

    pub const UNROUTED_COLUMNS: &str =
        "id, diagnostic_id, to_email, sender, subject, strategies_tried, raw_object, received_at";

    pub const TICKET_COLUMNS: &str = "id, tenant_id, ticket_id, inbound_message_id, \
        customer_name, customer_email, subject, message, status, priority, source, \
        assigned_to, notes, needs_review, metadata, enquiry, conversation, created_at, \
        updated_at";

    pub const INSERT_TICKET: &str = "INSERT INTO tickets (id, tenant_id, ticket_id, \
        inbound_message_id, customer_name, customer_email, subject, message, status, \
        priority, source, assigned_to, notes, needs_review, metadata, enquiry, conversation, \
        created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
        $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (tenant_id, inbound_message_id) DO NOTHING";

    pub const UPDATE_TICKET: &str = "UPDATE tickets SET status = $3, priority = $4, \
        assigned_to = $5, notes = $6, needs_review = $7, metadata = $8, conversation = $9, \
        updated_at = $10 WHERE tenant_id = $1 AND id = $2 AND updated_at = $11";

    pub const TICKET_FILTER: &str = "WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
        AND ($3 IS NULL OR priority = $3)";

    pub const TICKET_STATS: &str = "SELECT COUNT(*) AS total, \
        COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0) AS open, \
        COALESCE(SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END), 0) AS in_progress, \
        COALESCE(SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END), 0) AS resolved, \
        COALESCE(SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END), 0) AS closed \
        FROM tickets WHERE tenant_id = $1";

    pub const NOTIFICATION_COLUMNS: &str = "id, tenant_id, user_id, kind, title, message, \
        entity_type, entity_id, metadata, is_read, read_at, dedup_key, created_at";

    pub const INSERT_NOTIFICATION: &str = "INSERT INTO notifications (id, tenant_id, user_id, \
        kind, title, message, entity_type, entity_id, metadata, is_read, read_at, dedup_key, \
        created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
        ON CONFLICT (tenant_id, dedup_key) DO NOTHING";

    /// The rows a user sees: their own and the tenant-wide ones.
    pub const INBOX_FILTER: &str = "WHERE tenant_id = $1 AND (user_id = $2 OR user_id IS NULL) \
        AND ($3 = FALSE OR is_read = FALSE)";

    pub const MARK_READ: &str = "UPDATE notifications SET is_read = TRUE, \
        read_at = COALESCE(read_at, $4) \
        WHERE tenant_id = $1 AND id = $3 AND (user_id = $2 OR user_id IS NULL)";

    pub const MARK_ALL_READ: &str = "UPDATE notifications SET is_read = TRUE, read_at = $3 \
        WHERE tenant_id = $1 AND (user_id = $2 OR user_id IS NULL) AND is_read = FALSE";

    pub const PUT_PREFERENCES: &str = "INSERT INTO notification_preferences (tenant_id, \
        user_id, preferences, updated_at) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET preferences = excluded.preferences, \
        updated_at = excluded.updated_at";

    #[derive(Debug, sqlx::FromRow)]
    pub struct MessageRow {
        id: String,
        tenant_id: String,
        diagnostic_id: String,
        dedup_key: String,
        message_id: Option<String>,
        resolution_strategy: String,
        sender: String,
        subject: String,
        email: String,
        raw_object: String,
        state: String,
        attempts: i32,
        next_attempt_at: DateTime<Utc>,
        locked_until: Option<DateTime<Utc>>,
        last_error: Option<String>,
        steps: String,
        ticket_id: Option<String>,
        received_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    impl From<MessageRow> for InboundMessage {
        fn from(r: MessageRow) -> Self {
            Self {
                id: r.id,
                tenant_id: r.tenant_id,
                diagnostic_id: r.diagnostic_id,
                dedup_key: r.dedup_key,
                message_id: r.message_id,
                resolution_strategy: r.resolution_strategy,
                sender: r.sender,
                subject: r.subject,
                email: r.email,
                raw_object: r.raw_object,
                state: r.state,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                locked_until: r.locked_until,
                last_error: r.last_error,
                steps: r.steps,
                ticket_id: r.ticket_id,
                received_at: r.received_at,
                updated_at: r.updated_at,
            }
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct UnroutedRow {
        id: String,
        diagnostic_id: String,
        to_email: String,
        sender: String,
        subject: String,
        strategies_tried: String,
        raw_object: String,
        received_at: DateTime<Utc>,
    }

    impl From<UnroutedRow> for UnroutedMessage {
        fn from(r: UnroutedRow) -> Self {
            Self {
                id: r.id,
                diagnostic_id: r.diagnostic_id,
                to_email: r.to_email,
                sender: r.sender,
                subject: r.subject,
                strategies_tried: r.strategies_tried,
                raw_object: r.raw_object,
                received_at: r.received_at,
            }
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct TicketRow {
        id: String,
        tenant_id: String,
        ticket_id: String,
        inbound_message_id: Option<String>,
        customer_name: String,
        customer_email: String,
        subject: String,
        message: String,
        status: String,
        priority: String,
        source: String,
        assigned_to: Option<String>,
        notes: Option<String>,
        needs_review: bool,
        metadata: String,
        enquiry: Option<String>,
        conversation: String,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    fn json(column: &str, text: &str) -> Result<serde_json::Value, StorageError> {
        serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("{column}: {e}")))
    }

    impl TryFrom<TicketRow> for Ticket {
        type Error = StorageError;

        fn try_from(r: TicketRow) -> Result<Self, StorageError> {
            Ok(Self {
                metadata: json("tickets.metadata", &r.metadata)?,
                enquiry: r
                    .enquiry
                    .as_deref()
                    .map(|e| json("tickets.enquiry", e))
                    .transpose()?,
                conversation: json("tickets.conversation", &r.conversation)?,
                id: r.id,
                tenant_id: r.tenant_id,
                ticket_id: r.ticket_id,
                inbound_message_id: r.inbound_message_id,
                customer_name: r.customer_name,
                customer_email: r.customer_email,
                subject: r.subject,
                message: r.message,
                status: r.status,
                priority: r.priority,
                source: r.source,
                assigned_to: r.assigned_to,
                notes: r.notes,
                needs_review: r.needs_review,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct NotificationRow {
        id: String,
        tenant_id: String,
        user_id: Option<String>,
        kind: String,
        title: String,
        message: String,
        entity_type: Option<String>,
        entity_id: Option<String>,
        metadata: String,
        is_read: bool,
        read_at: Option<DateTime<Utc>>,
        dedup_key: Option<String>,
        created_at: DateTime<Utc>,
    }

    impl TryFrom<NotificationRow> for Notification {
        type Error = StorageError;

        fn try_from(r: NotificationRow) -> Result<Self, StorageError> {
            Ok(Self {
                metadata: json("notifications.metadata", &r.metadata)?,
                id: r.id,
                tenant_id: r.tenant_id,
                user_id: r.user_id,
                kind: r.kind,
                title: r.title,
                message: r.message,
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                read: r.is_read,
                read_at: r.read_at,
                dedup_key: r.dedup_key,
                created_at: r.created_at,
            })
        }
    }

    pub fn text(value: &serde_json::Value) -> String {
        value.to_string()
    }
}
