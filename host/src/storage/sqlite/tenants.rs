//! Tenants on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row, Sqlite as Db, Transaction};

use super::{Sqlite, classify_plain};
use crate::storage::StorageError;
use crate::storage::tenants::{TenantColumns, TenantRepo, like_pattern, order_by, stored_config};
use crate::tenants::model::{
    Tenant, TenantConfig, TenantCounts, TenantListQuery, TenantPage, TenantStatus,
};

const SELECT: &str = "SELECT t.id, t.name, t.status, t.plan, t.admin_email, t.support_email, \
     t.config, t.created_at, t.updated_at, t.suspended_at, t.suspended_reason, \
     (SELECT json_group_array(address) FROM \
        (SELECT a.address FROM tenant_inbound_addresses a WHERE a.tenant_id = t.id \
         ORDER BY a.address)) AS addresses \
     FROM tenants t";

fn decode(row: &SqliteRow) -> Result<Tenant, StorageError> {
    let config: Json<TenantConfig> = row.try_get("config").map_err(classify_plain)?;
    let addresses: Json<Vec<String>> = row.try_get("addresses").map_err(classify_plain)?;
    TenantColumns {
        id: row.try_get("id").map_err(classify_plain)?,
        name: row.try_get("name").map_err(classify_plain)?,
        status: row.try_get("status").map_err(classify_plain)?,
        plan: row.try_get("plan").map_err(classify_plain)?,
        admin_email: row.try_get("admin_email").map_err(classify_plain)?,
        support_email: row.try_get("support_email").map_err(classify_plain)?,
        config: config.0,
        addresses: addresses.0,
        created_at: row.try_get("created_at").map_err(classify_plain)?,
        updated_at: row.try_get("updated_at").map_err(classify_plain)?,
        suspended_at: row.try_get("suspended_at").map_err(classify_plain)?,
        suspended_reason: row.try_get("suspended_reason").map_err(classify_plain)?,
    }
    .try_into()
}

async fn replace_addresses(
    tx: &mut Transaction<'_, Db>,
    tenant: &Tenant,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM tenant_inbound_addresses WHERE tenant_id = $1")
        .bind(&tenant.id)
        .execute(&mut **tx)
        .await?;
    for address in &tenant.config.inbound_addresses {
        sqlx::query("INSERT INTO tenant_inbound_addresses (tenant_id, address) VALUES ($1, $2)")
            .bind(&tenant.id)
            .bind(address)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Sqlite {
    async fn fetch(&self, id: &str) -> Result<Option<Tenant>, StorageError> {
        let sql = format!("{SELECT} WHERE t.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify_plain)?;
        row.as_ref().map(decode).transpose()
    }
}

#[async_trait]
impl TenantRepo for Sqlite {
    async fn insert(&self, tenant: &Tenant) -> Result<(), StorageError> {
        let result: Result<(), sqlx::Error> = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO tenants (id, name, status, plan, admin_email, support_email, config, \
                 created_at, updated_at, suspended_at, suspended_reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(tenant.status.as_str())
            .bind(&tenant.plan)
            .bind(&tenant.admin_email)
            .bind(&tenant.support_email)
            .bind(Json(stored_config(&tenant.config)))
            .bind(tenant.created_at)
            .bind(tenant.updated_at)
            .bind(tenant.suspended_at)
            .bind(&tenant.suspended_reason)
            .execute(&mut *tx)
            .await?;
            replace_addresses(&mut tx, tenant).await?;
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err(self.classify(e).await),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Tenant>, StorageError> {
        self.fetch(id).await
    }

    async fn list(&self, query: &TenantListQuery) -> Result<TenantPage, StorageError> {
        let filter = "WHERE ($1 IS NULL OR t.status = $1) \
             AND ($2 IS NULL OR t.id LIKE $2 ESCAPE '\\' OR t.name LIKE $2 ESCAPE '\\' \
                  OR t.admin_email LIKE $2 ESCAPE '\\')";
        let status = query.status.map(TenantStatus::as_str);
        let pattern = query.search.as_deref().map(like_pattern);
        let sql = format!(
            "{SELECT} {filter} {} LIMIT $3 OFFSET $4",
            order_by(query.sort, query.descending)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(status)
            .bind(&pattern)
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(&self.pool)
            .await
            .map_err(classify_plain)?;
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM tenants t {filter}"
        )))
        .bind(status)
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await
        .map_err(classify_plain)?;
        let tenants = rows.iter().map(decode).collect::<Result<_, _>>()?;
        Ok(TenantPage { tenants, total })
    }

    async fn update(
        &self,
        tenant: &Tenant,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let result: Result<bool, sqlx::Error> = async {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE tenants SET name = $2, plan = $3, admin_email = $4, support_email = $5, \
                 config = $6, updated_at = $7 WHERE id = $1 AND updated_at = $8",
            )
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(&tenant.plan)
            .bind(&tenant.admin_email)
            .bind(&tenant.support_email)
            .bind(Json(stored_config(&tenant.config)))
            .bind(tenant.updated_at)
            .bind(expected_updated_at)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            replace_addresses(&mut tx, tenant).await?;
            tx.commit().await?;
            Ok(true)
        }
        .await;
        match result {
            Ok(done) => Ok(done),
            Err(e) => Err(self.classify(e).await),
        }
    }

    async fn set_status(
        &self,
        id: &str,
        status: TenantStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<Tenant>, StorageError> {
        let suspended_at = (status == TenantStatus::Suspended).then_some(at);
        let done = sqlx::query(
            "UPDATE tenants SET status = $2, suspended_at = $3, suspended_reason = $4, \
             updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(suspended_at)
        .bind(reason)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(classify_plain)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.fetch(id).await
    }

    async fn delete(&self, id: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(classify_plain)?;
        Ok(done.rows_affected() > 0)
    }

    async fn counts(&self) -> Result<TenantCounts, StorageError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, \
                    COALESCE(SUM(status = 'active'), 0) AS active, \
                    COALESCE(SUM(status = 'suspended'), 0) AS suspended \
             FROM tenants",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify_plain)?;
        Ok(TenantCounts {
            total: row.try_get("total").map_err(classify_plain)?,
            active: row.try_get("active").map_err(classify_plain)?,
            suspended: row.try_get("suspended").map_err(classify_plain)?,
        })
    }

    async fn find_by_email(
        &self,
        address: &str,
    ) -> Result<Vec<(String, crate::storage::tenants::AddressClaim)>, StorageError> {
        // Mail arrives before anyone knows its tenant: a platform-wide lookup.
        let mut tx = self.begin().await?;
        let rows: Vec<(String, i32)> = sqlx::query_as(crate::storage::tenants::FIND_BY_EMAIL)
            .bind(address.trim().to_lowercase())
            .fetch_all(&mut *tx)
            .await
            .map_err(classify_plain)?;
        super::commit(tx).await?;
        Ok(rows
            .into_iter()
            .map(|(id, claim)| (id, crate::storage::tenants::claim_of(claim)))
            .collect())
    }
}
