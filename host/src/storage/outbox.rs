//! The outbox area: a record of every email Caravan sends, whatever the transport.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StorageError;
use crate::mail::OutboundEmail;

#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// Records an email, normally as `queued` before any delivery attempt.
    async fn insert_email(&self, email: &OutboundEmail) -> Result<(), StorageError>;

    /// Stores the outcome of delivering a recorded email: `status`, `attempts`,
    /// `last_error`, `sent_at`, `provider_message_id` and `next_attempt_at`, and releases the
    /// re-delivery worker's lease. The other fields never change.
    /// `false` when the row is gone (its tenant was deleted meanwhile).
    async fn update_delivery(&self, email: &OutboundEmail) -> Result<bool, StorageError>;

    /// How many emails the tenant has sent (or queued), counted in SQL.
    async fn count_emails(&self, tenant_id: &str) -> Result<i64, StorageError>;

    /// The email recorded with this idempotency key, if any.
    async fn find_email_by_key(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<OutboundEmail>, StorageError>;

    /// The tenant's emails, newest first.
    async fn list_emails(
        &self,
        tenant_id: &str,
        limit: u32,
    ) -> Result<Vec<OutboundEmail>, StorageError>;

    /// Takes the oldest `queued` email of `transport` (any tenant) that is due by `now` and
    /// not leased by another worker, leasing it until `lease_until`.
    async fn claim_due_email(
        &self,
        transport: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<OutboundEmail>, StorageError>;

    /// How many `queued` emails of `transport` (every tenant) wait after a failed or deferred
    /// delivery.
    async fn count_deferred_emails(&self, transport: &str) -> Result<i64, StorageError>;
}
