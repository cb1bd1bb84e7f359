//! The email outbox on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{Postgres, Scope, classify, commit};
use crate::mail::OutboundEmail;
use crate::storage::StorageError;
use crate::storage::outbox::OutboxRepo;

fn email(row: &PgRow) -> Result<OutboundEmail, StorageError> {
    Ok(OutboundEmail {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        kind: row.try_get("kind").map_err(classify)?,
        to_address: row.try_get("to_address").map_err(classify)?,
        from_address: row.try_get("from_address").map_err(classify)?,
        subject: row.try_get("subject").map_err(classify)?,
        object_key: row.try_get("object_key").map_err(classify)?,
        transport: row.try_get("transport").map_err(classify)?,
        status: row.try_get("status").map_err(classify)?,
        attempts: row.try_get("attempts").map_err(classify)?,
        last_error: row.try_get("last_error").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        sent_at: row.try_get("sent_at").map_err(classify)?,
        provider_message_id: row.try_get("provider_message_id").map_err(classify)?,
        idempotency_key: row.try_get("idempotency_key").map_err(classify)?,
        next_attempt_at: row.try_get("next_attempt_at").map_err(classify)?,
    })
}

#[async_trait]
impl OutboxRepo for Postgres {
    async fn insert_email(&self, e: &OutboundEmail) -> Result<(), StorageError> {
        let mut tx = self.begin(Scope::Tenant(&e.tenant_id)).await?;
        sqlx::query(
            "INSERT INTO outbound_emails (id, tenant_id, kind, to_address, from_address, subject, \
             object_key, transport, status, attempts, last_error, created_at, sent_at, \
             provider_message_id, idempotency_key, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&e.id)
        .bind(&e.tenant_id)
        .bind(&e.kind)
        .bind(&e.to_address)
        .bind(&e.from_address)
        .bind(&e.subject)
        .bind(&e.object_key)
        .bind(&e.transport)
        .bind(&e.status)
        .bind(e.attempts)
        .bind(&e.last_error)
        .bind(e.created_at)
        .bind(e.sent_at)
        .bind(&e.provider_message_id)
        .bind(&e.idempotency_key)
        .bind(e.next_attempt_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await
    }

    async fn update_delivery(&self, e: &OutboundEmail) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Tenant(&e.tenant_id)).await?;
        let updated = sqlx::query(
            "UPDATE outbound_emails SET status = $3, attempts = $4, last_error = $5, \
             sent_at = $6, provider_message_id = $7, next_attempt_at = $8, locked_until = NULL \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&e.tenant_id)
        .bind(&e.id)
        .bind(&e.status)
        .bind(e.attempts)
        .bind(&e.last_error)
        .bind(e.sent_at)
        .bind(&e.provider_message_id)
        .bind(e.next_attempt_at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(updated.rows_affected() > 0)
    }

    async fn count_emails(&self, tenant_id: &str) -> Result<i64, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbound_emails WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
        commit(tx).await?;
        Ok(n)
    }

    async fn list_emails(
        &self,
        tenant_id: &str,
        limit: u32,
    ) -> Result<Vec<OutboundEmail>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows = sqlx::query(
            "SELECT id, tenant_id, kind, to_address, from_address, subject, object_key, \
             transport, status, attempts, last_error, created_at, sent_at, provider_message_id, \
             idempotency_key, next_attempt_at FROM outbound_emails WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(tenant_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(email).collect()
    }

    async fn find_email_by_key(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<OutboundEmail>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row = sqlx::query(
            "SELECT id, tenant_id, kind, to_address, from_address, subject, object_key, \
             transport, status, attempts, last_error, created_at, sent_at, provider_message_id, \
             idempotency_key, next_attempt_at FROM outbound_emails WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .bind(tenant_id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(email).transpose()
    }

    async fn claim_due_email(
        &self,
        transport: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<OutboundEmail>, StorageError> {
        // The worker serves every tenant: a platform-wide claim.
        let mut tx = self.begin(Scope::Platform).await?;
        let row = sqlx::query(
            "UPDATE outbound_emails SET locked_until = $3 \
             WHERE id = (SELECT id FROM outbound_emails \
                 WHERE transport = $1 AND status = 'queued' \
                 AND next_attempt_at IS NOT NULL AND next_attempt_at <= $2 \
                 AND (locked_until IS NULL OR locked_until < $2) \
                 ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, tenant_id, kind, to_address, from_address, subject, object_key, \
             transport, status, attempts, last_error, created_at, sent_at, provider_message_id, \
             idempotency_key, next_attempt_at",
        )
        .bind(transport)
        .bind(now)
        .bind(lease_until)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(email).transpose()
    }

    async fn count_deferred_emails(&self, transport: &str) -> Result<i64, StorageError> {
        let mut tx = self.begin(Scope::Platform).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbound_emails WHERE transport = $1 AND status = 'queued' \
             AND next_attempt_at IS NOT NULL AND last_error IS NOT NULL",
        )
        .bind(transport)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(n)
    }
}
