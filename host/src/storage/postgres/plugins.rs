//! The plugin registry on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::{Postgres, Scope, classify, commit};
use crate::plugins::model::{Activation, ActivationEvent, CallStat, PluginVersion, SlotSettings};
use crate::plugins::{FailurePolicy, Limits, Slot};
use crate::storage::StorageError;
use crate::storage::plugins::{PluginRepo, parse_policy, parse_slot};

const VERSION_COLUMNS: &str = "id, tenant_id, slot, label, sha256, size_bytes, wit_version, \
     uploaded_by, created_at, validation";

fn version(row: &PgRow) -> Result<PluginVersion, StorageError> {
    let slot: String = row.try_get("slot").map_err(classify)?;
    let validation: Json<serde_json::Value> = row.try_get("validation").map_err(classify)?;
    Ok(PluginVersion {
        id: row.try_get("id").map_err(classify)?,
        tenant_id: row.try_get("tenant_id").map_err(classify)?,
        slot: parse_slot(&slot)?,
        label: row.try_get("label").map_err(classify)?,
        sha256: row.try_get("sha256").map_err(classify)?,
        size_bytes: row.try_get("size_bytes").map_err(classify)?,
        wit_version: row.try_get("wit_version").map_err(classify)?,
        uploaded_by: row.try_get("uploaded_by").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        validation: validation.0,
    })
}

#[async_trait]
impl PluginRepo for Postgres {
    async fn insert_version(&self, v: &PluginVersion) -> Result<(), StorageError> {
        let mut tx = self.begin(Scope::Tenant(&v.tenant_id)).await?;
        let result = sqlx::query(
            "INSERT INTO plugin_versions (id, tenant_id, slot, label, sha256, size_bytes, \
             wit_version, uploaded_by, created_at, validation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&v.id)
        .bind(&v.tenant_id)
        .bind(v.slot.as_str())
        .bind(&v.label)
        .bind(&v.sha256)
        .bind(v.size_bytes)
        .bind(&v.wit_version)
        .bind(&v.uploaded_by)
        .bind(v.created_at)
        .bind(Json(&v.validation))
        .execute(&mut *tx)
        .await;
        result.map_err(classify)?;
        commit(tx).await
    }

    async fn get_version(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<PluginVersion>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM plugin_versions WHERE tenant_id = $1 AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        row.as_ref().map(version).transpose()
    }

    async fn list_versions(&self, tenant_id: &str) -> Result<Vec<PluginVersion>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM plugin_versions WHERE tenant_id = $1 \
             ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        rows.iter().map(version).collect()
    }

    async fn activation(
        &self,
        tenant_id: &str,
        slot: Slot,
    ) -> Result<Option<Activation>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row = sqlx::query(
            "SELECT version_id, activated_at, activated_by FROM plugin_activations \
             WHERE tenant_id = $1 AND slot = $2",
        )
        .bind(tenant_id)
        .bind(slot.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        row.map(|r| {
            Ok(Activation {
                tenant_id: tenant_id.to_owned(),
                slot,
                version_id: r.try_get("version_id").map_err(classify)?,
                activated_at: r.try_get("activated_at").map_err(classify)?,
                activated_by: r.try_get("activated_by").map_err(classify)?,
            })
        })
        .transpose()
    }

    async fn activate(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_id: Option<&str>,
        action: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<String>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let result: Result<Option<String>, sqlx::Error> = async {
            let previous: Option<Option<String>> = sqlx::query_scalar(
                "SELECT version_id FROM plugin_activations WHERE tenant_id = $1 AND slot = $2",
            )
            .bind(tenant_id)
            .bind(slot.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let previous = previous.flatten();
            sqlx::query(
                "INSERT INTO plugin_activations (tenant_id, slot, version_id, activated_at, activated_by) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, slot) DO UPDATE SET version_id = excluded.version_id, \
                 activated_at = excluded.activated_at, activated_by = excluded.activated_by",
            )
            .bind(tenant_id)
            .bind(slot.as_str())
            .bind(version_id)
            .bind(at)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO plugin_activation_history (id, tenant_id, slot, action, version_id, \
                 previous_version_id, at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(tenant_id)
            .bind(slot.as_str())
            .bind(action)
            .bind(version_id)
            .bind(&previous)
            .bind(at)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            Ok(previous)
        }
        .await;
        let previous = result.map_err(classify)?;
        commit(tx).await?;
        Ok(previous)
    }

    async fn history(
        &self,
        tenant_id: &str,
        slot: Slot,
        limit: u32,
    ) -> Result<Vec<ActivationEvent>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows = sqlx::query(
            "SELECT id, action, version_id, previous_version_id, at, actor \
             FROM plugin_activation_history WHERE tenant_id = $1 AND slot = $2 \
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(tenant_id)
        .bind(slot.as_str())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        rows.iter()
            .map(|r| {
                Ok(ActivationEvent {
                    id: r.try_get("id").map_err(classify)?,
                    slot,
                    action: r.try_get("action").map_err(classify)?,
                    version_id: r.try_get("version_id").map_err(classify)?,
                    previous_version_id: r.try_get("previous_version_id").map_err(classify)?,
                    at: r.try_get("at").map_err(classify)?,
                    actor: r.try_get("actor").map_err(classify)?,
                })
            })
            .collect()
    }

    async fn settings(
        &self,
        tenant_id: &str,
        slot: Slot,
    ) -> Result<Option<SlotSettings>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let row = sqlx::query(
            "SELECT config, limits, failure_policy FROM plugin_settings \
             WHERE tenant_id = $1 AND slot = $2",
        )
        .bind(tenant_id)
        .bind(slot.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        row.map(|r| {
            let config: Json<serde_json::Map<String, serde_json::Value>> =
                r.try_get("config").map_err(classify)?;
            let limits: Option<Json<Limits>> = r.try_get("limits").map_err(classify)?;
            let policy: String = r.try_get("failure_policy").map_err(classify)?;
            Ok(SlotSettings {
                config: config.0,
                limits: limits.map(|l| l.0),
                failure_policy: parse_policy(&policy)?,
            })
        })
        .transpose()
    }

    async fn put_settings(
        &self,
        tenant_id: &str,
        slot: Slot,
        settings: &SlotSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let policy = match settings.failure_policy {
            FailurePolicy::FailClosed => "fail_closed",
            FailurePolicy::FallbackDefault => "fallback_default",
        };
        sqlx::query(
            "INSERT INTO plugin_settings (tenant_id, slot, config, limits, failure_policy, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, slot) DO UPDATE SET config = excluded.config, \
             limits = excluded.limits, failure_policy = excluded.failure_policy, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant_id)
        .bind(slot.as_str())
        .bind(Json(&settings.config))
        .bind(settings.limits.map(Json))
        .bind(policy)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(())
    }

    async fn record_call(
        &self,
        tenant_id: &str,
        slot: Slot,
        version_key: &str,
        outcome: &str,
        fuel: u64,
        wall_us: u64,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        sqlx::query(
            "INSERT INTO plugin_call_stats (tenant_id, slot, version_key, outcome, calls, \
             fuel_total, wall_us_total, last_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7) \
             ON CONFLICT (tenant_id, slot, version_key, outcome) DO UPDATE SET \
             calls = plugin_call_stats.calls + 1, \
             fuel_total = plugin_call_stats.fuel_total + excluded.fuel_total, \
             wall_us_total = plugin_call_stats.wall_us_total + excluded.wall_us_total, \
             last_at = excluded.last_at",
        )
        .bind(tenant_id)
        .bind(slot.as_str())
        .bind(version_key)
        .bind(outcome)
        .bind(i64::try_from(fuel).unwrap_or(i64::MAX))
        .bind(i64::try_from(wall_us).unwrap_or(i64::MAX))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        Ok(())
    }

    async fn call_stats(&self, tenant_id: &str) -> Result<Vec<CallStat>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let rows = sqlx::query(
            "SELECT slot, version_key, outcome, calls, fuel_total, wall_us_total, last_at \
             FROM plugin_call_stats WHERE tenant_id = $1 ORDER BY slot, version_key, outcome",
        )
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        commit(tx).await?;
        rows.iter()
            .map(|r| {
                let slot: String = r.try_get("slot").map_err(classify)?;
                Ok(CallStat {
                    slot: parse_slot(&slot)?,
                    version_key: r.try_get("version_key").map_err(classify)?,
                    outcome: r.try_get("outcome").map_err(classify)?,
                    calls: r.try_get("calls").map_err(classify)?,
                    fuel_total: r.try_get("fuel_total").map_err(classify)?,
                    wall_us_total: r.try_get("wall_us_total").map_err(classify)?,
                    last_at: r.try_get("last_at").map_err(classify)?,
                })
            })
            .collect()
    }

    async fn tenant_sha256s(&self, tenant_id: &str) -> Result<Vec<String>, StorageError> {
        let mut tx = self.begin(Scope::Tenant(tenant_id)).await?;
        let hashes =
            sqlx::query_scalar("SELECT DISTINCT sha256 FROM plugin_versions WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
        commit(tx).await?;
        Ok(hashes)
    }

    async fn sha256_in_use(&self, sha256: &str) -> Result<bool, StorageError> {
        let mut tx = self.begin(Scope::Platform).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plugin_versions WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        commit(tx).await?;
        Ok(n > 0)
    }
}
