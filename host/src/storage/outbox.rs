//! The outbox area: a record of every email Caravan sends, whatever the transport.

use async_trait::async_trait;

use super::StorageError;
use crate::mail::OutboundEmail;

#[async_trait]
pub trait OutboxRepo: Send + Sync {
    async fn insert_email(&self, email: &OutboundEmail) -> Result<(), StorageError>;

    /// How many emails the tenant has sent (or queued), counted in SQL.
    async fn count_emails(&self, tenant_id: &str) -> Result<i64, StorageError>;

    /// The tenant's emails, newest first.
    async fn list_emails(
        &self,
        tenant_id: &str,
        limit: u32,
    ) -> Result<Vec<OutboundEmail>, StorageError>;
}
