//! The outbox area: a record of every email Caravan sends, whatever the transport.

use async_trait::async_trait;

use super::StorageError;
use crate::mail::OutboundEmail;

#[async_trait]
pub trait OutboxRepo: Send + Sync {
    async fn insert_email(&self, email: &OutboundEmail) -> Result<(), StorageError>;

    /// The tenant's emails, newest first.
    async fn list_emails(
        &self,
        tenant_id: &str,
        limit: u32,
    ) -> Result<Vec<OutboundEmail>, StorageError>;
}
