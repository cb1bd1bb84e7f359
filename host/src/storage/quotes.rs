//! The quotes area: quotes, the CRM clients quoting creates, their activities, and the
//! round-robin consultant pointer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::StorageError;

/// A stored quote.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub id: String,
    pub tenant_id: String,
    /// `QT-YYYYMMDD-XXXXXX` (generated) or `QUO-…` (cart); unique across tenants.
    pub quote_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: Option<String>,
    pub destination: String,
    pub check_in: Option<String>,
    pub check_out: Option<String>,
    pub nights: i32,
    pub adults: i32,
    pub children: i32,
    pub children_ages: Value,
    pub room_count: i32,
    /// Options or line items as the API shows them.
    pub hotels: Value,
    /// The selected option's total in minor units of `currency`.
    pub total_minor: i64,
    pub currency: String,
    pub totals: Value,
    /// How the quote was made: warnings, plugin versions, the fx snapshot.
    pub details: Value,
    pub status: String,
    pub email_sent: bool,
    /// Object-store key of the rendered PDF.
    pub pdf_object: Option<String>,
    pub consultant_id: Option<String>,
    pub source: String,
    pub ticket_id: Option<String>,
    pub inbound_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub viewed_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Filters and paging for the quote list.
#[derive(Debug, Clone, Default)]
pub struct QuoteQuery {
    pub status: Option<String>,
    pub customer_email: Option<String>,
    /// Case-insensitive substring of customer name, destination or quote id.
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// A CRM client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: String,
    pub tenant_id: String,
    /// `CLI-XXXXXXXX`.
    pub client_id: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub source: String,
    pub consultant_id: Option<String>,
    pub pipeline_stage: String,
    pub quote_count: i32,
    /// Minor units of the tenant currency.
    pub total_value: i64,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A CRM activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub tenant_id: String,
    /// The client's row id.
    pub client_id: String,
    pub activity_type: String,
    pub description: String,
    pub metadata: Value,
    pub dedup_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait QuoteRepo: Send + Sync {
    /// Inserts a quote. One already made for the same inbound message comes back instead.
    async fn insert_quote(&self, quote: &Quote) -> Result<Quote, StorageError>;

    /// By `quote_id` (any case) or row id.
    async fn get_quote(&self, tenant_id: &str, key: &str) -> Result<Option<Quote>, StorageError>;

    /// By `quote_id` or row id across tenants: the public PDF link carries no tenant.
    async fn find_quote_anywhere(&self, key: &str) -> Result<Option<Quote>, StorageError>;

    /// Newest first.
    async fn list_quotes(
        &self,
        tenant_id: &str,
        query: &QuoteQuery,
    ) -> Result<Vec<Quote>, StorageError>;

    /// Replaces every mutable field if the row still has `expected_updated_at`.
    async fn update_quote(
        &self,
        quote: &Quote,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    async fn delete_quote(&self, tenant_id: &str, id: &str) -> Result<bool, StorageError>;

    /// The active user assigned least recently (never assigned first), marked as assigned
    /// now; `None` when the tenant has no active user.
    async fn next_consultant(
        &self,
        tenant_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<String>, StorageError>;
}

#[async_trait]
pub trait ClientRepo: Send + Sync {
    /// Inserts the client unless the tenant has one with that email; returns the stored one
    /// and whether it was created.
    async fn upsert_client(&self, client: &Client) -> Result<(Client, bool), StorageError>;

    /// Records a quote for a client in one transaction: the activity (skipped when its
    /// `dedup_key` exists), one more quote, its value, and `QUOTED → NEGOTIATING` on the
    /// second quote. Returns the client and whether anything changed.
    async fn record_quote(
        &self,
        activity: &Activity,
        value_minor: i64,
    ) -> Result<(Client, bool), StorageError>;

    /// By `client_id` or row id.
    async fn get_client(&self, tenant_id: &str, key: &str) -> Result<Option<Client>, StorageError>;

    async fn find_client_by_email(
        &self,
        tenant_id: &str,
        email: &str,
    ) -> Result<Option<Client>, StorageError>;

    /// Newest first; `stage` exact, `search` a substring of name, email or phone.
    async fn list_clients(
        &self,
        tenant_id: &str,
        stage: Option<&str>,
        search: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Client>, StorageError>;

    /// The client's activities, newest first.
    async fn list_activities(
        &self,
        tenant_id: &str,
        client_row_id: &str,
        limit: u32,
    ) -> Result<Vec<Activity>, StorageError>;
}

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
pub(super) use bind_quote;

/// The quote and CRM repositories, written once for both backends (see
/// `storage::inbound::inbound_repos`). The calling module provides `classify` and `commit`.
macro_rules! quote_repos {
    ($db:ident) => {
        mod shared_impl {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use sqlx::AssertSqlSafe;

            use super::{classify, commit};
            use crate::storage::quotes::shared::{self, ActivityRow, ClientRow, QuoteRow};
            use crate::storage::quotes::{
                Activity, Client, ClientRepo, Quote, QuoteQuery, QuoteRepo,
            };
            use crate::storage::{Scope, StorageError};

            #[async_trait]
            impl QuoteRepo for super::$db {
                async fn insert_quote(&self, q: &Quote) -> Result<Quote, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&q.tenant_id)).await?;
                    let inserted = crate::storage::quotes::bind_quote!(sqlx::query(shared::INSERT_QUOTE), q)
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Platform).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(&q.tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
            impl ClientRepo for super::$db {
                async fn upsert_client(&self, c: &Client) -> Result<(Client, bool), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&c.tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(&a.tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
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
        }
    };
}
pub(super) use quote_repos;

/// SQL and rows both backends share (the same text runs on SQLite and PostgreSQL).
pub(super) mod shared {
    use chrono::{DateTime, Utc};

    use super::{Activity, Client, Quote};
    use crate::storage::StorageError;

    pub const QUOTE_COLUMNS: &str = "id, tenant_id, quote_id, customer_name, customer_email, \
        customer_phone, destination, check_in, check_out, nights, adults, children, \
        children_ages, room_count, hotels, total_minor, currency, totals, details, status, \
        email_sent, pdf_object, consultant_id, source, ticket_id, inbound_message_id, \
        created_at, updated_at, sent_at, viewed_at, accepted_at";

    pub const INSERT_QUOTE: &str = "INSERT INTO quotes (id, tenant_id, quote_id, \
        customer_name, customer_email, customer_phone, destination, check_in, check_out, \
        nights, adults, children, children_ages, room_count, hotels, total_minor, currency, \
        totals, details, status, email_sent, pdf_object, consultant_id, source, ticket_id, \
        inbound_message_id, created_at, updated_at, sent_at, viewed_at, accepted_at) VALUES \
        ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
        $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) \
        ON CONFLICT (tenant_id, inbound_message_id) DO NOTHING";

    pub const UPDATE_QUOTE: &str = "UPDATE quotes SET customer_name = $3, \
        customer_email = $4, customer_phone = $5, destination = $6, check_in = $7, \
        check_out = $8, nights = $9, adults = $10, children = $11, children_ages = $12, \
        room_count = $13, hotels = $14, total_minor = $15, currency = $16, totals = $17, \
        details = $18, status = $19, email_sent = $20, pdf_object = $21, consultant_id = $22, \
        ticket_id = $23, updated_at = $24, sent_at = $25, viewed_at = $26, accepted_at = $27 \
        WHERE tenant_id = $1 AND id = $2 AND updated_at = $28";

    pub const QUOTE_FILTER: &str = "WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
        AND ($3 IS NULL OR customer_email = $3) \
        AND ($4 IS NULL OR lower(customer_name) LIKE $4 ESCAPE '\\' \
             OR lower(destination) LIKE $4 ESCAPE '\\' OR lower(quote_id) LIKE $4 ESCAPE '\\')";

    pub const NEXT_CONSULTANT: &str = "UPDATE users SET last_assigned_at = $2 \
        WHERE id = (SELECT id FROM users WHERE tenant_id = $1 AND is_active = TRUE \
            ORDER BY last_assigned_at ASC NULLS FIRST, created_at, id LIMIT 1) \
        RETURNING id";

    pub const CLIENT_COLUMNS: &str = "id, tenant_id, client_id, email, name, phone, source, \
        consultant_id, pipeline_stage, quote_count, total_value, notes, created_at, updated_at";

    pub const INSERT_CLIENT: &str = "INSERT INTO clients (id, tenant_id, client_id, email, \
        name, phone, source, consultant_id, pipeline_stage, quote_count, total_value, notes, \
        created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
        $13, $14) ON CONFLICT (tenant_id, email) DO NOTHING";

    pub const INSERT_ACTIVITY: &str = "INSERT INTO client_activities (id, tenant_id, \
        client_id, activity_type, description, metadata, dedup_key, created_at) VALUES \
        ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, dedup_key) DO NOTHING";

    /// One more quote; the second moves a `QUOTED` client to `NEGOTIATING`.
    pub const COUNT_QUOTE: &str = "UPDATE clients SET quote_count = quote_count + 1, \
        total_value = total_value + $3, updated_at = $4, \
        pipeline_stage = CASE WHEN pipeline_stage = 'QUOTED' AND quote_count + 1 >= 2 \
            THEN 'NEGOTIATING' ELSE pipeline_stage END \
        WHERE tenant_id = $1 AND id = $2";

    pub const ACTIVITY_COLUMNS: &str =
        "id, tenant_id, client_id, activity_type, description, metadata, dedup_key, created_at";

    pub const CLIENT_FILTER: &str = "WHERE tenant_id = $1 AND ($2 IS NULL OR pipeline_stage = $2) \
        AND ($3 IS NULL OR lower(name) LIKE $3 ESCAPE '\\' OR lower(email) LIKE $3 ESCAPE '\\' \
             OR lower(COALESCE(phone, '')) LIKE $3 ESCAPE '\\')";

    /// `%text%` with LIKE's wildcards escaped, lower-cased.
    pub fn contains(text: &str) -> String {
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    }

    pub fn text(value: &serde_json::Value) -> String {
        value.to_string()
    }

    fn json(column: &str, text: &str) -> Result<serde_json::Value, StorageError> {
        serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("{column}: {e}")))
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct QuoteRow {
        id: String,
        tenant_id: String,
        quote_id: String,
        customer_name: String,
        customer_email: String,
        customer_phone: Option<String>,
        destination: String,
        check_in: Option<String>,
        check_out: Option<String>,
        nights: i32,
        adults: i32,
        children: i32,
        children_ages: String,
        room_count: i32,
        hotels: String,
        total_minor: i64,
        currency: String,
        totals: String,
        details: String,
        status: String,
        email_sent: bool,
        pdf_object: Option<String>,
        consultant_id: Option<String>,
        source: String,
        ticket_id: Option<String>,
        inbound_message_id: Option<String>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        sent_at: Option<DateTime<Utc>>,
        viewed_at: Option<DateTime<Utc>>,
        accepted_at: Option<DateTime<Utc>>,
    }

    impl TryFrom<QuoteRow> for Quote {
        type Error = StorageError;

        fn try_from(r: QuoteRow) -> Result<Self, StorageError> {
            Ok(Self {
                children_ages: json("quotes.children_ages", &r.children_ages)?,
                hotels: json("quotes.hotels", &r.hotels)?,
                totals: json("quotes.totals", &r.totals)?,
                details: json("quotes.details", &r.details)?,
                id: r.id,
                tenant_id: r.tenant_id,
                quote_id: r.quote_id,
                customer_name: r.customer_name,
                customer_email: r.customer_email,
                customer_phone: r.customer_phone,
                destination: r.destination,
                check_in: r.check_in,
                check_out: r.check_out,
                nights: r.nights,
                adults: r.adults,
                children: r.children,
                room_count: r.room_count,
                total_minor: r.total_minor,
                currency: r.currency,
                status: r.status,
                email_sent: r.email_sent,
                pdf_object: r.pdf_object,
                consultant_id: r.consultant_id,
                source: r.source,
                ticket_id: r.ticket_id,
                inbound_message_id: r.inbound_message_id,
                created_at: r.created_at,
                updated_at: r.updated_at,
                sent_at: r.sent_at,
                viewed_at: r.viewed_at,
                accepted_at: r.accepted_at,
            })
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct ClientRow {
        id: String,
        tenant_id: String,
        client_id: String,
        email: String,
        name: String,
        phone: Option<String>,
        source: String,
        consultant_id: Option<String>,
        pipeline_stage: String,
        quote_count: i32,
        total_value: i64,
        notes: Option<String>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    impl From<ClientRow> for Client {
        fn from(r: ClientRow) -> Self {
            Self {
                id: r.id,
                tenant_id: r.tenant_id,
                client_id: r.client_id,
                email: r.email,
                name: r.name,
                phone: r.phone,
                source: r.source,
                consultant_id: r.consultant_id,
                pipeline_stage: r.pipeline_stage,
                quote_count: r.quote_count,
                total_value: r.total_value,
                notes: r.notes,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct ActivityRow {
        id: String,
        tenant_id: String,
        client_id: String,
        activity_type: String,
        description: String,
        metadata: String,
        dedup_key: Option<String>,
        created_at: DateTime<Utc>,
    }

    impl TryFrom<ActivityRow> for Activity {
        type Error = StorageError;

        fn try_from(r: ActivityRow) -> Result<Self, StorageError> {
            Ok(Self {
                metadata: json("client_activities.metadata", &r.metadata)?,
                id: r.id,
                tenant_id: r.tenant_id,
                client_id: r.client_id,
                activity_type: r.activity_type,
                description: r.description,
                dedup_key: r.dedup_key,
                created_at: r.created_at,
            })
        }
    }
}
