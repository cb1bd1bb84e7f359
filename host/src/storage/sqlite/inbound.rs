//! Inbound messages, tickets and notifications on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::AssertSqlSafe;

use super::{Sqlite, classify_plain as classify, commit};
use crate::storage::StorageError;
use crate::storage::inbound::shared::{self, MessageRow, NotificationRow, TicketRow, UnroutedRow};
use crate::storage::inbound::{
    AttemptEnd, InboundMessage, InboundRepo, Notification, NotificationRepo, Stored, Ticket,
    TicketQuery, TicketRepo, TicketStats, UnroutedMessage,
};

#[async_trait]
impl InboundRepo for Sqlite {
    async fn insert_message(&self, m: &InboundMessage) -> Result<Stored, StorageError> {
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        // One statement: SQLite runs one writer at a time, so two workers cannot both take it.
        let mut tx = self.begin().await?;
        let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE inbound_messages SET state = 'processing', locked_until = $2, \
             attempts = attempts + 1, updated_at = $1 \
             WHERE id = (SELECT id FROM inbound_messages \
                 WHERE state IN ('pending', 'processing') AND next_attempt_at <= $1 \
                 AND (locked_until IS NULL OR locked_until < $1) \
                 ORDER BY next_attempt_at, received_at LIMIT 1) \
             RETURNING {}",
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
    ) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        sqlx::query(shared::SAVE_STEPS)
            .bind(tenant_id)
            .bind(id)
            .bind(steps)
            .bind(ticket_id)
            .bind(Utc::now())
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
impl TicketRepo for Sqlite {
    async fn insert_ticket(&self, t: &Ticket) -> Result<Ticket, StorageError> {
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
impl NotificationRepo for Sqlite {
    async fn insert_notifications(&self, rows: &[Notification]) -> Result<u64, StorageError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
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
