//! Quotes, CRM clients and activities on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{Postgres, Scope, classify, commit};
use crate::storage::StorageError;
use crate::storage::quotes::shared::{self, ActivityRow, ClientRow, QuoteRow};
use crate::storage::quotes::{Activity, Client, ClientRepo, Quote, QuoteQuery, QuoteRepo};

/// Binds every column of `INSERT_QUOTE` in order.
macro_rules! bind_quote {
    ($query:expr, $q:expr) => {
        $query
            .bind(&$q.id)
            .bind(&$q.tenant_id)
            .bind(&$q.quote_id)
            .bind(&$q.customer_name)
            .bind(&$q.customer_email)
            .bind(&$q.customer_phone)
            .bind(&$q.destination)
            .bind(&$q.check_in)
            .bind(&$q.check_out)
            .bind($q.nights)
            .bind($q.adults)
            .bind($q.children)
            .bind(shared::text(&$q.children_ages))
            .bind($q.room_count)
            .bind(shared::text(&$q.hotels))
            .bind($q.total_minor)
            .bind(&$q.currency)
            .bind(shared::text(&$q.totals))
            .bind(shared::text(&$q.details))
            .bind(&$q.status)
            .bind($q.email_sent)
            .bind(&$q.pdf_object)
            .bind(&$q.consultant_id)
            .bind(&$q.source)
            .bind(&$q.ticket_id)
            .bind(&$q.inbound_message_id)
            .bind($q.created_at)
            .bind($q.updated_at)
            .bind($q.sent_at)
            .bind($q.viewed_at)
            .bind($q.accepted_at)
    };
}

#[async_trait]
impl QuoteRepo for Postgres {
    async fn insert_quote(&self, q: &Quote) -> Result<Quote, StorageError> {
        let mut tx = self.begin(Scope::Tenant(&q.tenant_id)).await?;
        let inserted = bind_quote!(sqlx::query(shared::INSERT_QUOTE), q)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let stored = if inserted.rows_affected() > 0 {
            q.clone()
        } else {
            let row: QuoteRow = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {} FROM quotes WHERE tenant_id = $1 AND inbound_message_id = $2",
                shared::QUOTE_COLUMNS
            )))
            .bind(&q.tenant_id)
            .bind(&q.inbound_message_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
            row.try_into()?
        };
        commit(tx).await?;
        Ok(stored)
    }

    async fn get_quote(&self, tenant_id: &str, key: &str) -> Result<Option<Quote>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row: Option<QuoteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM quotes WHERE tenant_id = $1 AND (quote_id = upper($2) OR id = $2)",
            shared::QUOTE_COLUMNS
        )))
        .bind(tenant_id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn find_quote_anywhere(&self, key: &str) -> Result<Option<Quote>, StorageError> {
        let mut tx = self.begin(Scope::Platform).await?;
        let row: Option<QuoteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM quotes WHERE quote_id = upper($1) OR id = $1",
            shared::QUOTE_COLUMNS
        )))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_quotes(
        &self,
        tenant_id: &str,
        query: &QuoteQuery,
    ) -> Result<Vec<Quote>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows: Vec<QuoteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM quotes {} ORDER BY created_at DESC, id LIMIT $5 OFFSET $6",
            shared::QUOTE_COLUMNS,
            shared::QUOTE_FILTER
        )))
        .bind(tenant_id)
        .bind(&query.status)
        .bind(query.customer_email.as_ref().map(|e| e.to_lowercase()))
        .bind(query.search.as_deref().map(shared::contains))
        .bind(i64::from(query.limit))
        .bind(i64::from(query.offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_quote(
        &self,
        q: &Quote,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Tenant(&q.tenant_id)).await?;
        let updated = sqlx::query(shared::UPDATE_QUOTE)
            .bind(&q.tenant_id)
            .bind(&q.id)
            .bind(&q.customer_name)
            .bind(&q.customer_email)
            .bind(&q.customer_phone)
            .bind(&q.destination)
            .bind(&q.check_in)
            .bind(&q.check_out)
            .bind(q.nights)
            .bind(q.adults)
            .bind(q.children)
            .bind(shared::text(&q.children_ages))
            .bind(q.room_count)
            .bind(shared::text(&q.hotels))
            .bind(q.total_minor)
            .bind(&q.currency)
            .bind(shared::text(&q.totals))
            .bind(shared::text(&q.details))
            .bind(&q.status)
            .bind(q.email_sent)
            .bind(&q.pdf_object)
            .bind(&q.consultant_id)
            .bind(&q.ticket_id)
            .bind(q.updated_at)
            .bind(q.sent_at)
            .bind(q.viewed_at)
            .bind(q.accepted_at)
            .bind(expected_updated_at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        Ok(updated.rows_affected() > 0)
    }

    async fn delete_quote(&self, tenant_id: &str, id: &str) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let deleted = sqlx::query("DELETE FROM quotes WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn next_consultant(
        &self,
        tenant_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<String>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let id: Option<String> = sqlx::query_scalar(shared::NEXT_CONSULTANT)
            .bind(tenant_id)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        Ok(id)
    }
}

#[async_trait]
impl ClientRepo for Postgres {
    async fn upsert_client(&self, c: &Client) -> Result<(Client, bool), StorageError> {
        let mut tx = self.begin(Scope::Tenant(&c.tenant_id)).await?;
        let inserted = sqlx::query(shared::INSERT_CLIENT)
            .bind(&c.id)
            .bind(&c.tenant_id)
            .bind(&c.client_id)
            .bind(&c.email)
            .bind(&c.name)
            .bind(&c.phone)
            .bind(&c.source)
            .bind(&c.consultant_id)
            .bind(&c.pipeline_stage)
            .bind(c.quote_count)
            .bind(c.total_value)
            .bind(&c.notes)
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?
            .rows_affected()
            > 0;
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM clients WHERE tenant_id = $1 AND email = $2",
            shared::CLIENT_COLUMNS
        )))
        .bind(&c.tenant_id)
        .bind(&c.email)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok((row.into(), inserted))
    }

    async fn record_quote(
        &self,
        a: &Activity,
        value_minor: i64,
    ) -> Result<(Client, bool), StorageError> {
        let mut tx = self.begin(Scope::Tenant(&a.tenant_id)).await?;
        let recorded = sqlx::query(shared::INSERT_ACTIVITY)
            .bind(&a.id)
            .bind(&a.tenant_id)
            .bind(&a.client_id)
            .bind(&a.activity_type)
            .bind(&a.description)
            .bind(shared::text(&a.metadata))
            .bind(&a.dedup_key)
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?
            .rows_affected()
            > 0;
        if recorded {
            sqlx::query(shared::COUNT_QUOTE)
                .bind(&a.tenant_id)
                .bind(&a.client_id)
                .bind(value_minor)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        let row: ClientRow = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM clients WHERE tenant_id = $1 AND id = $2",
            shared::CLIENT_COLUMNS
        )))
        .bind(&a.tenant_id)
        .bind(&a.client_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok((row.into(), recorded))
    }

    async fn get_client(&self, tenant_id: &str, key: &str) -> Result<Option<Client>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row: Option<ClientRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM clients WHERE tenant_id = $1 AND (client_id = $2 OR id = $2)",
            shared::CLIENT_COLUMNS
        )))
        .bind(tenant_id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(row.map(Into::into))
    }

    async fn find_client_by_email(
        &self,
        tenant_id: &str,
        email: &str,
    ) -> Result<Option<Client>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row: Option<ClientRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM clients WHERE tenant_id = $1 AND email = $2",
            shared::CLIENT_COLUMNS
        )))
        .bind(tenant_id)
        .bind(email.to_lowercase())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(row.map(Into::into))
    }

    async fn list_clients(
        &self,
        tenant_id: &str,
        stage: Option<&str>,
        search: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Client>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows: Vec<ClientRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM clients {} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5",
            shared::CLIENT_COLUMNS,
            shared::CLIENT_FILTER
        )))
        .bind(tenant_id)
        .bind(stage)
        .bind(search.map(shared::contains))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn list_activities(
        &self,
        tenant_id: &str,
        client_row_id: &str,
        limit: u32,
    ) -> Result<Vec<Activity>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows: Vec<ActivityRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {} FROM client_activities WHERE tenant_id = $1 AND client_id = $2 \
             ORDER BY created_at DESC, id LIMIT $3",
            shared::ACTIVITY_COLUMNS
        )))
        .bind(tenant_id)
        .bind(client_row_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
